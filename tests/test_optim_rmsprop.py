"""reglab.RMSprop against torch.optim.RMSprop: parameters and optimizer state
after every one of 100 steps, for every combination of options, with one and
with several parameter groups; schedulers, closures, state_dict round trips,
and a table of bad input."""

import importlib
import itertools

import pytest
import torch
from torch import nn

from reglab.optim import RMSprop
from tests.optim_parity import (
    SCHEDULERS,
    check_closure_and_scheduler,
    check_state_dict_round_trip,
    options_id,
    problem,
    run_both,
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


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
def test_closure_and_scheduler(scheduler):
    check_closure_and_scheduler(
        RMSprop, torch.optim.RMSprop,
        dict(lr=0.01, momentum=0.5, weight_decay=0.1), scheduler)


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
    check_state_dict_round_trip(
        RMSprop, torch.optim.RMSprop,
        dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1))


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
