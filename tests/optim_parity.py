"""The harness that compares a reglab optimizer with its torch twin:
the same tiny network and data, stepped side by side, parameters and every
state entry compared after each step. Shared by tests/test_optim_*.py."""

import copy

import torch
from torch import nn

from tests.conftest import tolerances


def options_id(options):
    return "-".join(f"{k}{v}" for k, v in options.items()) or "defaults"


def problem(dtype, device, seed=0):
    """Data ``(X, y)`` and a two-layer network, reproducible by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 6, generator=g, dtype=dtype).to(device)
    y = torch.randn(32, 2, generator=g, dtype=dtype).to(device)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2))
    return X, y, net.to(device=device, dtype=dtype)


def step(net, opt, X, y):
    opt.zero_grad()
    nn.functional.mse_loss(net(X), y).backward()
    opt.step()


def assert_same(net_a, ours, net_b, ref, tol):
    """Parameters and every state entry of ``ours`` equal ``ref``'s
    (entries torch keeps as ``None`` do not count; ``step`` is compared
    by value, dtype and device)."""
    for pa, pb in zip(net_a.parameters(), net_b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, **tol)
        sa, sb = ours.state[pa], ref.state[pb]
        assert set(sa) == {k for k in sb if sb[k] is not None}
        for key in sa:
            if key == "step":
                assert sa["step"].dtype == sb["step"].dtype
                assert sa["step"].device == sb["step"].device
                assert sa["step"].item() == sb["step"].item()
            else:
                torch.testing.assert_close(sa[key], sb[key], **tol)


def run_both(ours_cls, ref_cls, make_groups, options, dtype, device, *,
             lr, steps=100, **ref_options):
    """Step ``ours_cls`` and ``ref_cls`` side by side for ``steps`` steps,
    comparing after each one."""
    X, y, net_a = problem(dtype, device)
    net_b = copy.deepcopy(net_a)
    ours = ours_cls(make_groups(net_a), lr=lr, **options)
    ref = ref_cls(make_groups(net_b), lr=lr, **ref_options, **options)
    tol = tolerances(dtype)
    for _ in range(steps):
        step(net_a, ours, X, y)
        step(net_b, ref, X, y)
        assert_same(net_a, ours, net_b, ref, tol)
