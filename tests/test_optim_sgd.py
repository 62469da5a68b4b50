"""reglab.SGD against torch.optim.SGD: parameters and optimizer state after
every one of 100 steps, for every combination of options, with one and with
several parameter groups."""

import importlib
import itertools

import pytest
import torch
from torch import nn

from reglab import SGD
from tests.optim_parity import (
    check_closure_and_scheduler,
    problem,
    run_both,
)

OPTIONS = [
    dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n)
    for m, d, wd, n in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [0.0, 0.01], [False, True])
    if not (n and (m == 0 or d != 0))
]


def _run_both(make_groups, options, dtype, device, steps=100):
    run_both(SGD, torch.optim.SGD, make_groups, options, dtype, device,
             lr=0.05, steps=steps)


@pytest.mark.parametrize("options", OPTIONS,
                         ids=lambda o: "-".join(f"{k}{v}"
                                                for k, v in o.items()))
def test_matches_torch_one_group(options, dtype, device):
    _run_both(lambda net: net.parameters(), options, dtype, device)


@pytest.mark.parametrize("options", OPTIONS[:4])
def test_matches_torch_several_groups(options, device):
    def groups(net):
        return [{"params": net[0].parameters()},
                {"params": net[2].parameters(), "lr": 0.01,
                 "weight_decay": 0.1}]

    _run_both(groups, options, torch.float64, device)


def test_closure_and_scheduler():
    check_closure_and_scheduler(SGD, torch.optim.SGD,
                                dict(lr=0.1, momentum=0.5), "StepLR")


def test_skips_parameters_without_grad():
    a = nn.Parameter(torch.ones(2))
    b = nn.Parameter(torch.ones(2))
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    (a.sum()).backward()
    opt.step()
    torch.testing.assert_close(b.detach(), torch.ones(2))
    assert b not in opt.state or not opt.state[b]


def test_does_not_call_torch_sgd(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("torch's SGD was called")

    torch_sgd = importlib.import_module("torch.optim.sgd")
    for name in ("sgd", "_single_tensor_sgd", "_multi_tensor_sgd"):
        monkeypatch.setattr(torch_sgd, name, boom)
    monkeypatch.setattr(torch.optim.SGD, "step", boom)
    _, _, net = problem(torch.float32, "cpu")
    opt = SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    net(torch.randn(2, 6)).sum().backward()
    opt.step()
