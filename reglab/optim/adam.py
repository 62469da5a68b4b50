r"""Adam and AdamW: adaptive moment estimation, with L2 (coupled) or
decoupled weight decay.

For each parameter :math:`\theta` with gradient :math:`g_t`, step
:math:`t = 1, 2, \dots`, starting from :math:`m_0 = v_0 = 0`:

.. math::

    g_t &\leftarrow g_t + \lambda\,\theta_{t-1}
        && \text{(Adam: L2 penalty, coupled)}\\
    \theta_{t-1} &\leftarrow (1 - \eta\lambda)\,\theta_{t-1}
        && \text{(AdamW: decoupled weight decay)}\\
    m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\
    v_t &\leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\
    v_t^{\max} &\leftarrow \max(v_{t-1}^{\max}, v_t)
        && \text{(AMSGrad: } v_t^{\max} \text{ replaces } v_t
        \text{ below)}\\
    \hat m_t &= m_t / (1-\beta_1^t), \qquad
    \hat v_t = v_t / (1-\beta_2^t)\\
    \theta_t &\leftarrow \theta_{t-1} - \eta\,
        \hat m_t / \bigl(\sqrt{\hat v_t} + \epsilon\bigr)

with learning rate :math:`\eta` (``lr``), moment decay rates
:math:`\beta_1, \beta_2` (``betas``), :math:`\epsilon` (``eps``) and weight
decay :math:`\lambda`. The two optimizers differ *only* in the first two
lines: Adam adds :math:`\lambda\theta` to the gradient, so the decay is
rescaled by :math:`1/\sqrt{\hat v}` like the rest of the gradient; AdamW
shrinks the weights directly, by the same factor :math:`1 - \eta\lambda`
for every weight. Both are PyTorch's forms (AdamW's decay is multiplied by
the learning rate, as in ``torch.optim.AdamW``). The code computes
:math:`\sqrt{\hat v_t}` as :math:`\sqrt{v_t}/\sqrt{1-\beta_2^t}` and folds
:math:`1/(1-\beta_1^t)` into the step size, in PyTorch's order, so that the
two agree to the last bit on the CPU.

References: D. P. Kingma and J. Ba, "Adam: a method for stochastic
optimization", ICLR 2015; I. Loshchilov and F. Hutter, "Decoupled weight
decay regularization", ICLR 2019; S. J. Reddi, S. Kale and S. Kumar, "On
the convergence of Adam and beyond", ICLR 2018 (AMSGrad).
"""

from __future__ import annotations

import torch

from .._validation import check_bool, check_float, param_error
from ._base import CheckedOptimizer, evaluate_closure

__all__ = ["Adam", "AdamW"]


def _check_betas(betas: object, owner: str) -> None:
    """Raise unless ``betas`` is a pair of floats, each in [0, 1)."""
    allowed = "a pair of floats (beta1, beta2), each in the range [0, 1)"
    if not isinstance(betas, (tuple, list)):
        raise param_error("betas", owner, allowed, betas, exc=TypeError)
    if len(betas) != 2:
        raise param_error("betas", owner, allowed, betas)
    for i, beta in enumerate(betas):
        check_float(beta, f"betas[{i}]", owner, low=0.0, high=1.0,
                    high_open=True)


def _adam_update(p, g, state, lr, beta1, beta2, eps, amsgrad) -> None:
    """The moment estimates, bias correction and update that Adam and AdamW
    share; ``g`` already holds any L2 term."""
    if not state:  # lazy initialisation, with PyTorch's key names
        state["step"] = torch.tensor(0.0)  # a CPU float tensor, as in torch
        state["exp_avg"] = torch.zeros_like(
            p, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(
            p, memory_format=torch.preserve_format)
        if amsgrad:
            state["max_exp_avg_sq"] = torch.zeros_like(
                p, memory_format=torch.preserve_format)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    state["step"] += 1  # t = t + 1
    t = state["step"].item()
    m.lerp_(g, 1 - beta1)  # m = β1·m + (1-β1)·g
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v = β2·v + (1-β2)·g²
    if amsgrad:
        v_max = state["max_exp_avg_sq"]
        torch.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
        v = v_max  # v = v_max
    bias_correction1 = 1 - beta1 ** t  # 1 - β1^t
    bias_correction2 = 1 - beta2 ** t  # 1 - β2^t
    denom = v.sqrt().div_(bias_correction2 ** 0.5).add_(eps)  # √v̂ + ε
    p.addcdiv_(m, denom, value=-lr / bias_correction1)  # θ = θ - η·m̂/denom


class Adam(CheckedOptimizer):
    r"""Adam, written from scratch; matches ``torch.optim.Adam`` step for
    step (same argument order). Weight decay is the L2 penalty, added to the
    gradient (use :class:`AdamW` for decoupled weight decay).

    Args:
        params: an iterable of tensors or of parameter-group dicts.
        lr: the learning rate :math:`\eta \ge 0` (default 1e-3).
        betas: the pair :math:`(\beta_1, \beta_2)` of decay rates of the
            first and second moment estimates, each in [0, 1) (default
            (0.9, 0.999)).
        eps: :math:`\epsilon \ge 0`, added to :math:`\sqrt{\hat v_t}` in
            the denominator (default 1e-8).
        weight_decay: the L2 coefficient :math:`\lambda \ge 0` (default
            0); it adds :math:`\lambda\theta` to the gradient, the gradient
            of :math:`\lambda \cdot \tfrac12\lVert\theta\rVert^2`.
        amsgrad: use the AMSGrad variant, which divides by the running
            maximum of :math:`v_t` (default False).

    State (``self.state[p]``, PyTorch's keys): ``step`` (a 0-d float tensor
    on the CPU, float32 unless the default dtype is float64, as in torch),
    ``exp_avg`` :math:`m_t`, ``exp_avg_sq`` :math:`v_t` and, with
    ``amsgrad``, ``max_exp_avg_sq`` :math:`v_t^{\max}`. Parameters whose
    ``grad`` is None are skipped and get no state.

    Not supported (use ``torch.optim.Adam``): ``maximize``, ``foreach``,
    ``fused``, ``capturable``, ``differentiable``, tensor-valued ``lr`` or
    ``betas``, sparse gradients and complex parameters.

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped option, or
            at ``step`` for a sparse gradient or a complex parameter.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> w.data  # the first step is -η·sign(g): m̂ = g and √v̂ = |g|
        tensor([ 0.9000, -1.9000])

    Book chapter: "Gradient-based optimisation"; weight decay in
    "Parameter-norm penalties".
    """

    _decoupled = False  # AdamW sets True: θ ← (1-ηλ)θ instead of g ← g+λθ

    def __init__(self, params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        owner = type(self).__name__
        check_float(group["lr"], "lr", owner, low=0.0)
        _check_betas(group["betas"], owner)
        check_float(group["eps"], "eps", owner, low=0.0)
        check_float(group["weight_decay"], "weight_decay", owner, low=0.0)
        check_bool(group["amsgrad"], "amsgrad", owner)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates and returns the
        loss (it is run with gradients enabled)."""
        loss = evaluate_closure(closure)
        name = type(self).__name__
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse or p.is_complex():
                    raise ValueError(
                        f"reglab.{name} supports neither sparse gradients "
                        f"nor complex parameters; use torch.optim.{name}.")
                g = p.grad
                if wd != 0 and self._decoupled:
                    p.mul_(1 - lr * wd)  # θ = (1-ηλ)·θ    (AdamW)
                elif wd != 0:
                    g = g.add(p, alpha=wd)  # g = g + λθ  (Adam, L2)
                _adam_update(p, g, self.state[p], lr, beta1, beta2, eps,
                             group["amsgrad"])
        return loss


class AdamW(Adam):
    r"""AdamW, written from scratch; matches ``torch.optim.AdamW`` step for
    step (same argument order). Identical to :class:`Adam` except that the
    weight decay is decoupled from the gradient: each step first shrinks
    the weights, :math:`\theta \leftarrow (1 - \eta\lambda)\,\theta`, and
    the decay never enters the moment estimates.

    Args:
        params: an iterable of tensors or of parameter-group dicts.
        lr: the learning rate :math:`\eta \ge 0` (default 1e-3).
        betas: the pair :math:`(\beta_1, \beta_2)`, each in [0, 1)
            (default (0.9, 0.999)).
        eps: :math:`\epsilon \ge 0` (default 1e-8).
        weight_decay: the decoupled decay :math:`\lambda \ge 0` (default
            1e-2, PyTorch's; note that it is multiplied by the learning
            rate, so the weights shrink by :math:`\eta\lambda` per step).
        amsgrad: use the AMSGrad variant (default False).

    State: as for :class:`Adam` (``step``, ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq`` with ``amsgrad``).

    Raises:
        ValueError / TypeError: for an out-of-range or mistyped option.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w ** 2).sum().backward(); opt.step()
        >>> w.data  # (1 - 0.1·0.5)·w - 0.1·sign(g)
        tensor([ 0.8500, -1.8000])

    Reference: Loshchilov & Hutter, "Decoupled weight decay
    regularization", ICLR 2019. Book chapters: "Parameter-norm penalties"
    (why decoupled decay is not L2 for adaptive methods) and
    "Gradient-based optimisation".
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
