r"""Stochastic gradient descent with momentum, Nesterov and weight decay.

For each parameter :math:`\theta` with gradient :math:`g_t`, step :math:`t`:

.. math::

    g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
        && \text{(weight decay, if } \lambda \ne 0)\\
    b_t &\leftarrow \begin{cases} g_t & t = 1\\
        \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases}
        && \text{(momentum, if } \mu \ne 0)\\
    g_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{Nesterov}\\
        b_t & \text{otherwise} \end{cases}\\
    \theta_t &\leftarrow \theta_{t-1} - \eta\, g_t

with learning rate :math:`\eta` (``lr``), momentum :math:`\mu`, dampening
:math:`\tau` and weight decay :math:`\lambda`. This is PyTorch's form of
momentum (Sutskever et al., 2013, rewritten with the learning rate outside
the buffer), which differs from the "velocity" form of some textbooks; the
two agree for a constant learning rate up to a rescaling of the buffer.
"""

from __future__ import annotations

import torch

from .._validation import check_bool, check_float, param_error
from ._base import CheckedOptimizer, evaluate_closure

__all__ = ["SGD"]


class SGD(CheckedOptimizer):
    r"""Stochastic gradient descent, written from scratch; matches
    ``torch.optim.SGD`` step for step (same argument order).

    Args:
        params: an iterable of tensors or of parameter-group dicts.
        lr: the learning rate :math:`\eta \ge 0`.
        momentum: the momentum factor :math:`\mu \ge 0` (default 0).
        dampening: the dampening :math:`\tau` for momentum (default 0).
        weight_decay: the L2 coefficient :math:`\lambda \ge 0` (default 0);
            it adds :math:`\lambda\theta` to the gradient, the gradient of
            :math:`\lambda \cdot \tfrac12\lVert\theta\rVert^2`.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and
            ``dampening == 0``).

    State (``self.state[p]``): ``momentum_buffer`` :math:`b_t`, only when
    ``momentum != 0`` (as in PyTorch).

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped option.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        >>> opt = SGD([w], lr=0.1, weight_decay=0.5)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> w.data  # w - 0.1 * (2w + 0.5w) = 0.75 w
        tensor([ 0.7500, -1.5000])

    Book chapter: "Gradient-based optimisation"; weight decay in
    "Parameter-norm penalties".
    """

    def __init__(self, params, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_float(group["lr"], "lr", "SGD", low=0.0)
        check_float(group["momentum"], "momentum", "SGD", low=0.0)
        check_float(group["dampening"], "dampening", "SGD")
        check_float(group["weight_decay"], "weight_decay", "SGD", low=0.0)
        check_bool(group["nesterov"], "nesterov", "SGD")
        if group["nesterov"] and (group["momentum"] <= 0
                                  or group["dampening"] != 0):
            raise param_error(
                "nesterov", "SGD",
                "False unless momentum > 0 and dampening == 0 (got "
                f"momentum={group['momentum']!r}, "
                f"dampening={group['dampening']!r})", True)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates and returns the
        loss (it is run with gradients enabled)."""
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            tau, wd = group["dampening"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ValueError(
                        "reglab.SGD does not support sparse gradients; use "
                        "torch.optim.SGD for sparse embeddings.")
                g = p.grad
                if wd != 0:
                    g = g.add(p, alpha=wd)  # g = g + λθ
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = g.detach().clone()  # b_1 = g_1
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(mu).add_(g, alpha=1 - tau)  # b = μb+(1-τ)g
                    if group["nesterov"]:
                        g = g.add(buf, alpha=mu)  # g = g + μb
                    else:
                        g = buf  # g = b
                p.add_(g, alpha=-lr)  # θ = θ - ηg
        return loss
