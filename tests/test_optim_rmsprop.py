"""reglab.RMSprop against torch.optim.RMSprop: parameters and optimizer state
after every one of 100 steps, for every combination of options, with one and
with several parameter groups; schedulers, closures, state_dict round trips,
and a table of bad input."""

import copy
import importlib
import itertools

import pytest
import torch
from torch import nn

from reglab.optim import RMSprop
from tests.conftest import tolerances
from tests.optim_parity import (
    assert_same,
    options_id,
    problem,
    run_both,
    step,
)

W = [torch.ones(2, requires_grad=True)]


BAD_INPUT = [
    (RMSprop, (W,), {"lr": -1}, ValueError,
     r"'lr' parameter of RMSprop must be a float >= 0.0. Got -1 instead"),
    (RMSprop, (W,), {"alpha": 1.0}, ValueError,
     r"'alpha'.*\[0.0, 1.0\).*Got 1.0"),
    (RMSprop, (W,), {"alpha": -0.1}, ValueError,
     r"'alpha'.*\[0.0, 1.0\).*Got -0.1"),
    (RMSprop, (W,), {"eps": -1e-8}, ValueError, r"'eps'.*>= 0.0.*Got -1e-08"),
    (RMSprop, (W,), {"weight_decay": -0.1}, ValueError,
     r"'weight_decay'.*>= 0.0.*Got -0.1"),
    (RMSprop, (W,), {"momentum": -0.5}, ValueError,
     r"'momentum'.*>= 0.0.*Got -0.5"),
    (RMSprop, (W,), {"momentum": None}, TypeError,
     r"'momentum'.*float.*Got None"),
    (RMSprop, ([{"params": W, "alpha": 2}],), {}, ValueError,
     r"'alpha' parameter of RMSprop.*Got 2"),
]


def test_centered_is_not_an_option():
    with pytest.raises(TypeError, match="centered"):
        RMSprop(W, centered=True)


# Every combination of momentum x weight decay x (default or other alpha),
# and the class defaults.
OPTIONS = [{}] + [
    dict(momentum=m, weight_decay=wd, **extra)
    for m, wd, extra in itertools.product(
        [0.0, 0.9], [0.0, 0.1], [{}, dict(alpha=0.9, eps=1e-6)])
]


def _run_both(make_groups, options, dtype, device, steps=100):
    # torch's single-tensor loop does the same arithmetic as ours; its
    # default on CUDA (foreach) only rounds differently.
    run_both(RMSprop, torch.optim.RMSprop, make_groups, options, dtype,
             device, lr=0.003, steps=steps, foreach=False)


@pytest.mark.parametrize("options", OPTIONS, ids=options_id)
def test_matches_torch_one_group(options, dtype, device):
    _run_both(lambda net: net.parameters(), options, dtype, device)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_matches_torch_several_groups(momentum, dtype, device):
    def groups(net):
        return [{"params": net[0].parameters()},
                {"params": net[2].parameters(), "lr": 0.001,
                 "weight_decay": 0.2, "alpha": 0.8}]

    _run_both(groups, dict(momentum=momentum, weight_decay=0.05), dtype,
              device)


@pytest.mark.parametrize("scheduler", ["StepLR", "LambdaLR"])
def test_closure_and_scheduler(scheduler):
    make = {
        "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(
            o, step_size=3, gamma=0.5),
        "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(
            o, lambda t: 1 / (1 + t)),
    }[scheduler]
    X, y, net_a = problem(torch.float64, "cpu")
    net_b = copy.deepcopy(net_a)
    options = dict(lr=0.01, momentum=0.5, weight_decay=0.1)
    ours = RMSprop(net_a.parameters(), **options)
    ref = torch.optim.RMSprop(net_b.parameters(), **options)
    scheds = [make(o) for o in (ours, ref)]
    for _ in range(10):
        losses = []
        for net, opt in ((net_a, ours), (net_b, ref)):
            def closure(net=net, opt=opt):
                opt.zero_grad()
                loss = nn.functional.mse_loss(net(X), y)
                loss.backward()
                return loss
            losses.append(opt.step(closure))
        for s in scheds:
            s.step()
        torch.testing.assert_close(losses[0], losses[1])
        assert ours.param_groups[0]["lr"] == ref.param_groups[0]["lr"]
    assert_same(net_a, ours, net_b, ref, tolerances(torch.float64))


def test_skips_parameters_without_grad():
    a = nn.Parameter(torch.ones(2))
    b = nn.Parameter(torch.ones(2))
    opt = RMSprop([a, b], lr=0.1, momentum=0.9, weight_decay=0.1)
    (a ** 2).sum().backward()
    opt.step()
    torch.testing.assert_close(b.detach(), torch.ones(2))
    assert b not in opt.state
    assert set(opt.state[a]) == {"step", "square_avg", "momentum_buffer"}


def test_state_dict_round_trip_continues_torch_trajectory():
    X, y, net_a = problem(torch.float64, "cpu")
    net_b = copy.deepcopy(net_a)
    options = dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)
    ours = RMSprop(net_a.parameters(), **options)
    ref = torch.optim.RMSprop(net_b.parameters(), **options)
    for _ in range(5):
        step(net_a, ours, X, y)
        step(net_b, ref, X, y)
    saved = copy.deepcopy(ours.state_dict())
    ours = RMSprop(net_a.parameters())  # options come from `saved`
    ours.load_state_dict(saved)
    assert ours.param_groups[0]["momentum"] == 0.5
    # PyTorch's optimizer accepts our state_dict too: same key names.
    net_c = copy.deepcopy(net_a)
    theirs = torch.optim.RMSprop(net_c.parameters())
    theirs.load_state_dict(copy.deepcopy(saved))
    tol = tolerances(torch.float64)
    for _ in range(5):
        step(net_a, ours, X, y)
        step(net_b, ref, X, y)
        step(net_c, theirs, X, y)
        assert_same(net_a, ours, net_b, ref, tol)
        assert_same(net_c, theirs, net_b, ref, tol)


def test_sparse_gradient_is_refused():
    emb = nn.Embedding(4, 2, sparse=True)
    opt = RMSprop(emb.parameters())
    emb(torch.tensor([0, 1])).sum().backward()
    with pytest.raises(ValueError, match=r"sparse.*torch.optim.RMSprop"):
        opt.step()


def test_does_not_call_torch_rmsprop(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("torch's RMSprop was called")

    torch_rmsprop = importlib.import_module("torch.optim.rmsprop")
    for name in ("rmsprop", "_single_tensor_rmsprop",
                 "_multi_tensor_rmsprop"):
        monkeypatch.setattr(torch_rmsprop, name, boom)
    monkeypatch.setattr(torch.optim.RMSprop, "step", boom)
    _, _, net = problem(torch.float32, "cpu")
    opt = RMSprop(net.parameters(), momentum=0.9, weight_decay=0.1)
    net(torch.randn(2, 6)).sum().backward()
    opt.step()
    with pytest.raises(AssertionError, match="was called"):
        torch.optim.RMSprop(net.parameters()).step()
