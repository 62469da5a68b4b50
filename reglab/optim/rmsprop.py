r"""RMSprop: divide the gradient by a running root-mean-square of its
recent values.

For each parameter :math:`\theta` with gradient :math:`g_t`, step
:math:`t`, starting from :math:`v_0 = 0` and :math:`b_0 = 0`:

.. math::

    g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
        && \text{(weight decay, if } \lambda \ne 0)\\
    v_t &\leftarrow \alpha\, v_{t-1} + (1-\alpha)\, g_t^2\\
    b_t &\leftarrow \mu\, b_{t-1} + g_t / \bigl(\sqrt{v_t} + \epsilon\bigr)
        && \text{(momentum, if } \mu > 0)\\
    \theta_t &\leftarrow \begin{cases}
        \theta_{t-1} - \eta\, b_t & \mu > 0\\
        \theta_{t-1} - \eta\, g_t / \bigl(\sqrt{v_t} + \epsilon\bigr)
        & \mu = 0 \end{cases}

with learning rate :math:`\eta` (``lr``), smoothing constant
:math:`\alpha`, :math:`\epsilon` (``eps``), momentum :math:`\mu` and
weight decay :math:`\lambda`. Unlike Adam there is no bias correction: with
:math:`v_0 = 0` the first steps are larger, by up to
:math:`1/\sqrt{1-\alpha}` (10 for :math:`\alpha = 0.99`). This is
PyTorch's form: :math:`\epsilon` is added outside the square root, and
momentum acts on the rescaled gradient.

Reference: T. Tieleman and G. Hinton, "Lecture 6.5 — RMSprop: divide the
gradient by a running average of its recent magnitude", COURSERA: Neural
Networks for Machine Learning, 2012.
"""

from __future__ import annotations

import torch

from .._validation import check_float
from ._base import CheckedOptimizer, evaluate_closure

__all__ = ["RMSprop"]


class RMSprop(CheckedOptimizer):
    r"""RMSprop, written from scratch; matches ``torch.optim.RMSprop`` step
    for step (same argument order, without ``centered``).

    Args:
        params: an iterable of tensors or of parameter-group dicts.
        lr: the learning rate :math:`\eta \ge 0` (default 1e-2).
        alpha: the smoothing constant :math:`\alpha \in [0, 1)` of the
            running mean of :math:`g^2` (default 0.99). PyTorch accepts
            any :math:`\alpha \ge 0`; values of 1 or more make no sense (the
            average never sees a gradient), so reglab refuses them.
        eps: :math:`\epsilon \ge 0`, added to :math:`\sqrt{v_t}` (default
            1e-8).
        weight_decay: the L2 coefficient :math:`\lambda \ge 0` (default
            0); it adds :math:`\lambda\theta` to the gradient.
        momentum: the momentum factor :math:`\mu \ge 0` (default 0).

    PyTorch's ``centered=True`` variant (which divides by an estimate of
    the standard deviation of :math:`g` instead of its root mean square) is
    not in the reglab contract and is not implemented; neither are
    ``maximize``, ``foreach``, ``capturable``, ``differentiable``, sparse
    gradients and complex parameters. Use ``torch.optim.RMSprop`` for them.

    State (``self.state[p]``, PyTorch's keys): ``step`` (a 0-d float tensor
    on the CPU, as in torch), ``square_avg`` :math:`v_t` and, when
    ``momentum > 0``, ``momentum_buffer`` :math:`b_t`. Parameters whose
    ``grad`` is None are skipped and get no state.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped option, or
            at ``step`` for a sparse gradient or a complex parameter.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        >>> opt = RMSprop([w], lr=0.01, alpha=0.99)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> w.data  # √v = 0.1·|g|, so the first step is -10·η·sign(g)
        tensor([ 0.9000, -1.9000])

    Book chapter: "Gradient-based optimisation".
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0):
        defaults = dict(lr=lr, alpha=alpha, eps=eps,
                        weight_decay=weight_decay, momentum=momentum)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        owner = type(self).__name__
        check_float(group["lr"], "lr", owner, low=0.0)
        check_float(group["alpha"], "alpha", owner, low=0.0, high=1.0,
                    high_open=True)
        check_float(group["eps"], "eps", owner, low=0.0)
        check_float(group["weight_decay"], "weight_decay", owner, low=0.0)
        check_float(group["momentum"], "momentum", owner, low=0.0)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates and returns the
        loss (it is run with gradients enabled)."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, mu = group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse or p.is_complex():
                    raise ValueError(
                        "reglab.RMSprop supports neither sparse gradients "
                        "nor complex parameters; use torch.optim.RMSprop.")
                state = self.state[p]
                if not state:  # lazy initialisation, PyTorch's key names
                    state["step"] = torch.tensor(0.0)  # on the CPU, as torch
                    state["square_avg"] = torch.zeros_like(
                        p, memory_format=torch.preserve_format)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(
                            p, memory_format=torch.preserve_format)
                state["step"] += 1  # t = t + 1
                v = state["square_avg"]
                g = p.grad
                if wd != 0:
                    g = g.add(p, alpha=wd)  # g = g + λθ
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v=αv+(1-α)g²
                denom = v.sqrt().add_(eps)  # √v + ε
                if mu > 0:
                    b = state["momentum_buffer"]
                    b.mul_(mu).addcdiv_(g, denom)  # b = μb + g/(√v+ε)
                    p.add_(b, alpha=-lr)  # θ = θ - ηb
                else:
                    p.addcdiv_(g, denom, value=-lr)  # θ = θ - ηg/(√v+ε)
        return loss
