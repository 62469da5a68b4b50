r"""Learning-rate schedules in closed form.

Each function gives the learning rate :math:`\eta_t` at the 0-based step
(or epoch) :math:`t` from the initial rate :math:`\eta_0` (``lr0``):

.. math::

    \text{step\_lr:}\quad & \eta_t = \eta_0\,
        \gamma^{\lfloor t/T_{\text{step}} \rfloor}\\
    \text{exponential\_lr:}\quad & \eta_t = \eta_0\, \gamma^{t}\\
    \text{cosine\_lr:}\quad & \eta_t = \eta_{\min}
        + \tfrac12 (\eta_0 - \eta_{\min})
        \bigl(1 + \cos(\pi t / T)\bigr), \quad 0 \le t \le T\\
    \text{linear\_warmup:}\quad & \eta_t = \eta_0\,
        \min(t + 1, T_{\text{warm}}) / T_{\text{warm}}

Each equals the learning rate that the corresponding
``torch.optim.lr_scheduler`` (``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``LinearLR``) leaves in the optimizer after ``t``
calls of ``scheduler.step()``. PyTorch computes these rates *recursively*,
multiplying the previous rate by a factor at every step; in exact arithmetic
that is the formula above, in floating point the two differ by a few units
in the last place (the tests compare them to a relative tolerance of
1e-12). The closed form is what the book writes and plots, and it can be
evaluated at any ``t`` without replaying the steps before it.

Book chapter: "Learning rate and schedules".
"""

from __future__ import annotations

import math

from ._validation import check_float, check_int, param_error

__all__ = ["cosine_lr", "exponential_lr", "linear_warmup", "step_lr"]


def step_lr(t: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    r"""Step decay: multiply the rate by :math:`\gamma` every ``step_size``
    steps, :math:`\eta_t = \eta_0 \gamma^{\lfloor t/T_{\text{step}} \rfloor}`
    (``torch.optim.lr_scheduler.StepLR``).

    Args:
        t: the 0-based step, an int >= 0.
        lr0: the initial learning rate :math:`\eta_0 \ge 0`.
        step_size: the period :math:`T_{\text{step}} \ge 1`, in steps.
        gamma: the decay factor :math:`\gamma > 0` (default 0.1).

    Returns:
        The learning rate :math:`\eta_t`, a float.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped argument.

    Example:
        >>> [step_lr(t, 1.0, step_size=2, gamma=0.5) for t in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    t = check_int(t, "t", "step_lr", low=0)
    lr0 = check_float(lr0, "lr0", "step_lr", low=0.0)
    step_size = check_int(step_size, "step_size", "step_lr", low=1)
    gamma = check_float(gamma, "gamma", "step_lr", low=0.0, low_open=True)
    return lr0 * gamma ** (t // step_size)  # η_t = η_0·γ^⌊t/T_step⌋


def exponential_lr(t: int, lr0: float, gamma: float) -> float:
    r"""Exponential decay, :math:`\eta_t = \eta_0 \gamma^t`
    (``torch.optim.lr_scheduler.ExponentialLR``).

    Args:
        t: the 0-based step, an int >= 0.
        lr0: the initial learning rate :math:`\eta_0 \ge 0`.
        gamma: the factor :math:`\gamma > 0` applied at every step.

    Returns:
        The learning rate :math:`\eta_t`, a float.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped argument.

    Example:
        >>> [exponential_lr(t, 0.1, gamma=0.5) for t in range(4)]
        [0.1, 0.05, 0.025, 0.0125]
    """
    t = check_int(t, "t", "exponential_lr", low=0)
    lr0 = check_float(lr0, "lr0", "exponential_lr", low=0.0)
    gamma = check_float(gamma, "gamma", "exponential_lr", low=0.0,
                        low_open=True)
    return lr0 * gamma ** t  # η_t = η_0·γ^t


def cosine_lr(t: int, lr0: float, t_max: int, eta_min: float = 0.0) -> float:
    r"""Cosine annealing from :math:`\eta_0` at :math:`t = 0` down to
    :math:`\eta_{\min}` at :math:`t = T`,
    :math:`\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
    (1 + \cos(\pi t / T))` (``torch.optim.lr_scheduler.CosineAnnealingLR``
    with ``T_max=t_max``, for :math:`0 \le t \le T`).

    PyTorch's scheduler uses an equivalent recursive formula and, past
    :math:`T`, keeps going (the rate climbs back up); warm restarts are a
    different schedule, so ``t > t_max`` is refused here.

    Args:
        t: the 0-based step, an int in [0, t_max].
        lr0: the initial learning rate :math:`\eta_0 \ge 0`.
        t_max: the length :math:`T \ge 1` of the annealing, in steps.
        eta_min: the final learning rate :math:`\eta_{\min} \ge 0`
            (default 0).

    Returns:
        The learning rate :math:`\eta_t`, a float.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped argument,
            including ``t > t_max``.

    Example:
        >>> [cosine_lr(t, 1.0, t_max=4) for t in range(5)]
        [1.0, 0.853..., 0.5, 0.146..., 0.0]
    """
    t = check_int(t, "t", "cosine_lr", low=0)
    lr0 = check_float(lr0, "lr0", "cosine_lr", low=0.0)
    t_max = check_int(t_max, "t_max", "cosine_lr", low=1)
    eta_min = check_float(eta_min, "eta_min", "cosine_lr", low=0.0)
    if t > t_max:
        raise param_error("t", "cosine_lr",
                          f"an int in the range [0, t_max] = [0, {t_max}]", t)
    cosine = 1 + math.cos(math.pi * t / t_max)  # 1 + cos(πt/T)
    return eta_min + (lr0 - eta_min) * cosine / 2  # η_min + ½(η_0-η_min)(…)


def linear_warmup(t: int, lr0: float, warmup_steps: int) -> float:
    r"""Linear warm-up: rise from :math:`\eta_0/T_{\text{warm}}` at
    :math:`t = 0` to :math:`\eta_0` at :math:`t = T_{\text{warm}} - 1`,
    then stay there, :math:`\eta_t = \eta_0 \min(t + 1, T_{\text{warm}})
    / T_{\text{warm}}` (``torch.optim.lr_scheduler.LinearLR`` with
    ``start_factor=1/T_warm``, ``end_factor=1`` and
    ``total_iters=T_warm-1``).

    Args:
        t: the 0-based step, an int >= 0.
        lr0: the target learning rate :math:`\eta_0 \ge 0`.
        warmup_steps: the number :math:`T_{\text{warm}} \ge 1` of
            warm-up steps (``warmup_steps=1`` means no warm-up).

    Returns:
        The learning rate :math:`\eta_t`, a float.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped argument.

    Example:
        >>> [linear_warmup(t, 1.0, warmup_steps=4) for t in range(6)]
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    t = check_int(t, "t", "linear_warmup", low=0)
    lr0 = check_float(lr0, "lr0", "linear_warmup", low=0.0)
    warmup_steps = check_int(warmup_steps, "warmup_steps", "linear_warmup",
                             low=1)
    # η_t = η_0·min(t + 1, T_warm) / T_warm
    return lr0 * (min(t + 1, warmup_steps) / warmup_steps)
