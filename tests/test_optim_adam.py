"""reglab.Adam and reglab.AdamW against torch.optim.Adam / AdamW: parameters
and optimizer state after every one of 100 steps, for every combination of
options, with one and with several parameter groups; schedulers, closures,
state_dict round trips, and a table of bad input."""

import copy
import importlib
import itertools

import pytest
import torch
from torch import nn

from reglab.optim import Adam, AdamW
from tests.optim_parity import (
    SCHEDULERS,
    assert_same,
    check_closure_and_scheduler,
    check_state_dict_round_trip,
    options_id,
    problem,
    run_both,
    step,
)

W = [torch.ones(2, requires_grad=True)]

BAD_INPUT = [
    (Adam, (W,), {"lr": -1}, ValueError,
     r"'lr' parameter of Adam must be a float >= 0.0. Got -1 instead"),
    (Adam, (W,), {"lr": "0.1"}, TypeError, r"'lr'.*float.*Got '0.1'"),
    (Adam, (W,), {"eps": -1e-8}, ValueError, r"'eps'.*>= 0.0.*Got -1e-08"),
    (Adam, (W,), {"weight_decay": -0.1}, ValueError,
     r"'weight_decay'.*>= 0.0.*Got -0.1"),
    (Adam, (W,), {"betas": (0.9,)}, ValueError,
     r"'betas'.*pair of floats.*Got \(0.9,\)"),
    (Adam, (W,), {"betas": 0.9}, TypeError, r"'betas'.*pair.*Got 0.9"),
    (Adam, (W,), {"betas": (1.0, 0.999)}, ValueError,
     r"'betas\[0\]'.*\[0.0, 1.0\).*Got 1.0"),
    (Adam, (W,), {"betas": (0.9, 1.5)}, ValueError,
     r"'betas\[1\]'.*\[0.0, 1.0\).*Got 1.5"),
    (Adam, (W,), {"betas": (-0.1, 0.9)}, ValueError,
     r"'betas\[0\]'.*Got -0.1"),
    (Adam, (W,), {"amsgrad": 1}, TypeError, r"'amsgrad'.*a bool.*Got 1"),
    (AdamW, (W,), {"weight_decay": -1e-2}, ValueError,
     r"'weight_decay' parameter of AdamW.*>= 0.0.*Got -0.01"),
    (AdamW, (W,), {"lr": float("inf")}, ValueError, r"'lr'.*Got inf"),
    (AdamW, (W,), {"betas": [0.9, 0.999, 0.5]}, ValueError,
     r"'betas'.*pair.*Got \[0.9, 0.999, 0.5\]"),
    (AdamW, (W,), {"amsgrad": "yes"}, TypeError,
     r"'amsgrad' parameter of AdamW must be a bool.*Got 'yes'"),
]


def test_bad_param_group_is_refused_and_not_added():
    opt = Adam(W)
    with pytest.raises(ValueError, match=r"'eps'.*Got -1.0"):
        opt.add_param_group({"params": [torch.ones(1)], "eps": -1.0})
    assert len(opt.param_groups) == 1


PAIRS = [(Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)]
PAIR_IDS = ["Adam", "AdamW"]

# Every combination of amsgrad x weight decay x (default or other
# betas/eps), and the class defaults (AdamW's weight_decay=1e-2).
OPTIONS = [{}] + [
    dict(amsgrad=a, weight_decay=wd, **extra)
    for a, wd, extra in itertools.product(
        [False, True], [0.0, 0.1],
        [{}, dict(betas=(0.8, 0.99), eps=1e-6)])
]


def _run_both(pair, make_groups, options, dtype, device, steps=100):
    # torch's single-tensor loop does the same arithmetic as ours; its
    # default on CUDA (foreach) only rounds differently.
    run_both(pair[0], pair[1], make_groups, options, dtype, device,
             lr=0.01, steps=steps, foreach=False)


@pytest.mark.parametrize("options", OPTIONS, ids=options_id)
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_matches_torch_one_group(pair, options, dtype, device):
    _run_both(pair, lambda net: net.parameters(), options, dtype, device)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_matches_torch_several_groups(pair, amsgrad, dtype, device):
    def groups(net):
        return [{"params": net[0].parameters()},
                {"params": net[2].parameters(), "lr": 0.003,
                 "weight_decay": 0.2, "betas": (0.5, 0.9)}]

    _run_both(pair, groups, dict(amsgrad=amsgrad, weight_decay=0.05),
              dtype, device)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_without_decay_is_adam(amsgrad, device):
    X, y, net_a = problem(torch.float32, device)
    net_b = copy.deepcopy(net_a)
    adam = Adam(net_a.parameters(), lr=0.01, weight_decay=0.0,
                amsgrad=amsgrad)
    adamw = AdamW(net_b.parameters(), lr=0.01, weight_decay=0.0,
                  amsgrad=amsgrad)
    for _ in range(100):
        step(net_a, adam, X, y)
        step(net_b, adamw, X, y)
        assert_same(net_a, adam, net_b, adamw, dict(atol=0, rtol=0))


def test_weight_decay_differs_between_adam_and_adamw():
    """With λ > 0 the two really are different algorithms."""
    X, y, net_a = problem(torch.float64, "cpu")
    net_b = copy.deepcopy(net_a)
    adam = Adam(net_a.parameters(), lr=0.01, weight_decay=0.1)
    adamw = AdamW(net_b.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(5):
        step(net_a, adam, X, y)
        step(net_b, adamw, X, y)
    assert not torch.allclose(net_a[0].weight, net_b[0].weight)


@pytest.mark.parametrize("scheduler", sorted(SCHEDULERS))
@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_closure_and_scheduler(pair, scheduler):
    check_closure_and_scheduler(*pair, dict(lr=0.05, weight_decay=0.1),
                                scheduler)


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_skips_parameters_without_grad(cls):
    a = nn.Parameter(torch.ones(2))
    b = nn.Parameter(torch.ones(2))
    opt = cls([a, b], lr=0.1, weight_decay=0.1, amsgrad=True)
    (a ** 2).sum().backward()
    opt.step()
    torch.testing.assert_close(b.detach(), torch.ones(2))
    assert b not in opt.state
    assert set(opt.state[a]) == {"step", "exp_avg", "exp_avg_sq",
                                 "max_exp_avg_sq"}


@pytest.mark.parametrize("pair", PAIRS, ids=PAIR_IDS)
def test_state_dict_round_trip_continues_torch_trajectory(pair):
    check_state_dict_round_trip(
        *pair, dict(lr=0.01, weight_decay=0.1, amsgrad=True))


def test_sparse_gradient_is_refused():
    emb = nn.Embedding(4, 2, sparse=True)
    opt = Adam(emb.parameters())
    emb(torch.tensor([0, 1])).sum().backward()
    with pytest.raises(ValueError, match=r"sparse.*torch.optim.Adam"):
        opt.step()


def test_does_not_call_torch_adam(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("torch's Adam/AdamW was called")

    for module, names in (
            ("torch.optim.adam", ("adam", "_single_tensor_adam",
                                  "_multi_tensor_adam", "_fused_adam")),
            ("torch.optim.adamw", ("adam", "adamw"))):
        mod = importlib.import_module(module)
        for name in names:
            monkeypatch.setattr(mod, name, boom)
    monkeypatch.setattr(torch.optim.Adam, "step", boom)
    monkeypatch.setattr(torch.optim.AdamW, "step", boom, raising=False)
    _, _, net = problem(torch.float32, "cpu")
    for cls in (Adam, AdamW):
        opt = cls(net.parameters(), weight_decay=0.1, amsgrad=True)
        net(torch.randn(2, 6)).sum().backward()
        opt.step()
    with pytest.raises(AssertionError, match="was called"):
        torch.optim.AdamW(net.parameters()).step()
