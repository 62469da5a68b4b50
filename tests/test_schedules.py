"""reglab.schedules against torch.optim.lr_scheduler: the closed form at step
t equals the learning rate that the scheduler leaves in the optimizer after
t calls of scheduler.step(), for several parameter sets; and a table of bad
input."""

import math

import pytest
import torch

from reglab.schedules import cosine_lr, exponential_lr, linear_warmup, step_lr

BAD_INPUT = [
    (step_lr, (-1, 0.1, 10), {}, ValueError, r"'t'.*>= 0.*Got -1"),
    (step_lr, (1.5, 0.1, 10), {}, TypeError, r"'t'.*an int.*Got 1.5"),
    (step_lr, (0, 0.1, 0), {}, ValueError, r"'step_size'.*>= 1.*Got 0"),
    (step_lr, (0, 0.1, 10), {"gamma": 0.0}, ValueError,
     r"'gamma' parameter of step_lr must be a float > 0.0. Got 0.0"),
    (step_lr, (0, -0.1, 10), {}, ValueError, r"'lr0'.*>= 0.0.*Got -0.1"),
    (exponential_lr, (0, 0.1, -0.5), {}, ValueError,
     r"'gamma'.*> 0.0.*Got -0.5"),
    (exponential_lr, (-2, 0.1, 0.9), {}, ValueError, r"'t'.*>= 0.*Got -2"),
    (exponential_lr, (0, "0.1", 0.9), {}, TypeError, r"'lr0'.*Got '0.1'"),
    (cosine_lr, (11, 0.1, 10), {}, ValueError,
     r"'t' parameter of cosine_lr.*\[0, t_max\] = \[0, 10\].*Got 11"),
    (cosine_lr, (0, 0.1, 0), {}, ValueError, r"'t_max'.*>= 1.*Got 0"),
    (cosine_lr, (0, 0.1, 10), {"eta_min": -1e-3}, ValueError,
     r"'eta_min'.*>= 0.0.*Got -0.001"),
    (cosine_lr, (-1, 0.1, 10), {}, ValueError, r"'t'.*>= 0.*Got -1"),
    (linear_warmup, (0, 0.1, 0), {}, ValueError,
     r"'warmup_steps'.*>= 1.*Got 0"),
    (linear_warmup, (-1, 0.1, 5), {}, ValueError, r"'t'.*>= 0.*Got -1"),
    (linear_warmup, (0, 0.1, 5.0), {}, TypeError,
     r"'warmup_steps'.*an int.*Got 5.0"),
]


def _torch_lrs(lr0, make_scheduler, steps):
    """The learning rate after t = 0, 1, ..., steps calls of step()."""
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr0)
    sched = make_scheduler(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()  # no gradient: a no-op, but keeps the scheduler quiet
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def _assert_matches(ours, theirs, lr0):
    """Equal to 1e-12 relative to lr0: PyTorch's recursive update and the
    closed form differ by a few units in the last place."""
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        assert isinstance(a, float)
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * lr0), (
            f"at t={t}: reglab gives {a!r}, torch gives {b!r}")


@pytest.mark.parametrize("lr0, step_size, gamma",
                         [(0.1, 10, 0.1), (1.0, 3, 0.5), (0.05, 1, 0.9),
                          (0.2, 7, 1.5)])
def test_step_lr_matches_torch(lr0, step_size, gamma):
    theirs = _torch_lrs(lr0, lambda o: torch.optim.lr_scheduler.StepLR(
        o, step_size=step_size, gamma=gamma), 50)
    _assert_matches([step_lr(t, lr0, step_size, gamma) for t in range(51)],
                    theirs, lr0)


def test_step_lr_default_gamma():
    assert step_lr(25, 1.0, 10) == pytest.approx(0.01, rel=1e-15)


@pytest.mark.parametrize("lr0, gamma", [(0.1, 0.9), (1.0, 0.5),
                                        (0.01, 0.99), (0.3, 1.0)])
def test_exponential_lr_matches_torch(lr0, gamma):
    theirs = _torch_lrs(lr0, lambda o: torch.optim.lr_scheduler.ExponentialLR(
        o, gamma=gamma), 50)
    _assert_matches([exponential_lr(t, lr0, gamma) for t in range(51)],
                    theirs, lr0)


@pytest.mark.parametrize("lr0, t_max, eta_min",
                         [(0.1, 50, 0.0), (1.0, 7, 0.1), (0.05, 1, 0.0),
                          (0.3, 100, 1e-4), (0.01, 13, 0.02)])
def test_cosine_lr_matches_torch(lr0, t_max, eta_min):
    theirs = _torch_lrs(lr0, lambda o: torch.optim.lr_scheduler
                        .CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min),
                        t_max)
    _assert_matches([cosine_lr(t, lr0, t_max, eta_min)
                     for t in range(t_max + 1)], theirs, lr0)
    assert cosine_lr(t_max, lr0, t_max, eta_min) == eta_min


@pytest.mark.parametrize("lr0, warmup_steps", [(0.1, 1), (1.0, 2),
                                               (0.1, 3), (0.05, 5), (0.3, 20)])
def test_linear_warmup_matches_torch(lr0, warmup_steps):
    theirs = _torch_lrs(lr0, lambda o: torch.optim.lr_scheduler.LinearLR(
        o, start_factor=1 / warmup_steps, end_factor=1.0,
        total_iters=warmup_steps - 1), 50)
    ours = [linear_warmup(t, lr0, warmup_steps) for t in range(51)]
    _assert_matches(ours, theirs, lr0)
    assert ours[0] == pytest.approx(lr0 / warmup_steps, rel=1e-15)
    assert ours[warmup_steps - 1:] == [lr0] * (52 - warmup_steps)


def test_numpy_integers_are_accepted():
    np = pytest.importorskip("numpy")
    assert step_lr(np.int64(10), 1.0, np.int32(10)) == pytest.approx(0.1)
