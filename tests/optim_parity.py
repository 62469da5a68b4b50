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


SCHEDULERS = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(
        o, step_size=3, gamma=0.5),
    "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(
        o, lambda t: 1 / (1 + t)),
}


def check_closure_and_scheduler(ours_cls, ref_cls, options, scheduler):
    """Ten closure steps under a torch scheduler: same losses, same
    learning rates, same parameters and state as the built-in."""
    X, y, net_a = problem(torch.float64, "cpu")
    net_b = copy.deepcopy(net_a)
    ours = ours_cls(net_a.parameters(), **options)
    ref = ref_cls(net_b.parameters(), **options)
    scheds = [SCHEDULERS[scheduler](o) for o in (ours, ref)]
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


def check_state_dict_round_trip(ours_cls, ref_cls, options):
    """Our state_dict restores our optimizer (options included) and loads
    into the built-in: all three continue the built-in's trajectory."""
    X, y, net_a = problem(torch.float64, "cpu")
    net_b = copy.deepcopy(net_a)
    ours = ours_cls(net_a.parameters(), **options)
    ref = ref_cls(net_b.parameters(), **options)
    for _ in range(5):
        step(net_a, ours, X, y)
        step(net_b, ref, X, y)
    saved = copy.deepcopy(ours.state_dict())
    ours = ours_cls(net_a.parameters(), lr=0.5)  # options come from `saved`
    ours.load_state_dict(saved)
    for key, value in options.items():
        assert ours.param_groups[0][key] == value, key
    # PyTorch's optimizer accepts our state_dict too: same key names.
    net_c = copy.deepcopy(net_a)
    theirs = ref_cls(net_c.parameters())
    theirs.load_state_dict(copy.deepcopy(saved))
    tol = tolerances(torch.float64)
    for _ in range(5):
        step(net_a, ours, X, y)
        step(net_b, ref, X, y)
        step(net_c, theirs, X, y)
        assert_same(net_a, ours, net_b, ref, tol)
        assert_same(net_c, theirs, net_b, ref, tol)
