r"""Loss functions, written from scratch (book chapter "Loss functions").

With logits :math:`z \in \mathbb{R}^{N \times C}` (N examples, C classes),
the softmax probabilities and their logarithm are

.. math::

    p_{ic} = \frac{e^{z_{ic}}}{\sum_{k} e^{z_{ik}}}, \qquad
    \log p_{ic} = (z_{ic} - z_{i,\max})
        - \log \sum_{k} e^{z_{ik} - z_{i,\max}},
    \quad z_{i,\max} = \max_k z_{ik} .

Subtracting the largest logit :math:`z_{i,\max}` (the log-sum-exp trick)
changes nothing mathematically but keeps every exponent :math:`\le 0`, so
nothing overflows even for logits of magnitude :math:`10^4`. Every function
here matches its ``torch.nn.functional`` namesake to the contract's tolerances
without calling it.
"""

from __future__ import annotations

import torch

from ._validation import (
    Shown,
    check_choice,
    check_float,
    check_floating,
    check_int,
    check_tensor,
    param_error,
    shape_of,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "log_softmax",
    "mse_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()  # (1/N) Σ_i ℓ_i
    if reduction == "sum":
        return loss.sum()  # Σ_i ℓ_i
    return loss  # ℓ_i, one per element


def mse_loss(input: torch.Tensor, target: torch.Tensor, *,
             reduction: str = "mean") -> torch.Tensor:
    r"""The mean squared error; matches ``F.mse_loss``.

    .. math::

        \ell_i = (\hat y_i - y_i)^2, \qquad
        L = \frac1N \sum_i \ell_i \ \ (\text{"mean"}), \quad
        \sum_i \ell_i \ \ (\text{"sum"}), \quad
        \ell \ \ (\text{"none"}),

    with predictions :math:`\hat y` (``input``), targets :math:`y` and
    :math:`N` the number of elements.

    ``torch`` broadcasts a target of a different shape with a warning;
    that is almost always a bug (e.g. ``(N, 1)`` against ``(N,)`` gives an
    ``(N, N)`` loss), so here it is an error.

    Args:
        input: the predictions :math:`\hat y`, a floating-point tensor.
        target: the targets :math:`y`, same shape as ``input``.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.

    Returns:
        A 0-d tensor, or a tensor shaped like ``input`` for ``"none"``.

    Raises:
        TypeError: if ``input``/``target`` are not tensors or ``input`` is
            not floating point.
        ValueError: for a shape mismatch or an unknown ``reduction``.

    Shape:
        ``input``: any shape :math:`(*)`; ``target``: :math:`(*)`; output:
        :math:`()` or :math:`(*)`.

    Example:
        >>> mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0]))
        tensor(2.5000)
    """
    check_floating(input, "input", "mse_loss")
    check_tensor(target, "target", "mse_loss")
    check_choice(reduction, "reduction", "mse_loss", _REDUCTIONS)
    if target.shape != input.shape:
        raise param_error(
            "target", "mse_loss",
            f"a tensor of shape {tuple(input.shape)}, the shape of 'input'",
            shape_of(target))
    diff = input - target  # ŷ - y
    return _reduce(diff * diff, reduction)  # ℓ = (ŷ - y)²


def _shift_and_log_norm(z: torch.Tensor, dim: int):
    """The two halves of a stable log-softmax along ``dim``: the shifted
    logits z - z_max and log Σ_k exp(z_k - z_max) (kept as a size-1 dim)."""
    if z.numel() == 0:  # amax refuses an empty dim; any z_max gives the
        z_max = z.detach().sum(dim=dim, keepdim=True)  # same empty result: 0
    else:
        z_max = z.detach().amax(dim=dim, keepdim=True)  # max_k z_k, a constant
    z_max = torch.where(z_max.isfinite(), z_max,
                        torch.zeros_like(z_max))  # ±inf → 0
    shifted = z - z_max  # z_c - z_max  (every exponent ≤ 0)
    # log Σ_k e^(z_k - z_max)
    log_norm = shifted.exp().sum(dim=dim, keepdim=True).log()
    return shifted, log_norm


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""The logarithm of the softmax along ``dim``, computed stably;
    matches ``F.log_softmax``.

    .. math::

        \log p_c = (z_c - z_{\max}) - \log \sum_k e^{z_k - z_{\max}},
        \qquad z_{\max} = \max_k z_k .

    The maximum is treated as a constant (it cancels out of the value, so
    it carries no gradient); an infinite maximum is replaced by 0, as
    ``torch.logsumexp`` does. The result is finite for logits of
    magnitude :math:`10^4` (the naive formula overflows to ``inf``/``nan``).
    An empty tensor, also one whose dimension ``dim`` has size 0, gives an
    empty result of the same shape, as in torch.

    Args:
        logits: the logits :math:`z`, a floating-point tensor.
        dim: the dimension of the classes (default: the last).

    Returns:
        A tensor shaped like ``logits``; ``exp`` of it sums to 1 along
        ``dim``.

    Raises:
        TypeError: if ``logits`` is not a floating-point tensor or ``dim``
            is not an int.
        ValueError: if ``dim`` is out of range.

    Shape:
        ``logits``: :math:`(*)`; output: :math:`(*)`.

    Example:
        >>> log_softmax(torch.tensor([1e4, 0.0, -1e4]))
        tensor([     0., -10000., -20000.])
    """
    check_floating(logits, "logits", "log_softmax")
    check_int(dim, "dim", "log_softmax")
    ndim = max(logits.dim(), 1)
    if not -ndim <= dim < ndim:
        raise param_error("dim", "log_softmax",
                          f"an int in the range [{-ndim}, {ndim - 1}] for "
                          f"a {logits.dim()}-D tensor", dim)
    shifted, log_norm = _shift_and_log_norm(logits, dim)
    return shifted - log_norm  # log p_c = (z_c - z_max) - log_norm


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, *,
                  reduction: str = "mean",
                  label_smoothing: float = 0.0) -> torch.Tensor:
    r"""The cross-entropy between softmax probabilities and class indices;
    matches ``F.cross_entropy`` (with ``label_smoothing``).

    With :math:`\log p` = :func:`log_softmax` of the logits over the class
    dimension (dim 1) and :math:`\varepsilon` = ``label_smoothing``, the
    loss of example :math:`i` with class :math:`y_i` is

    .. math::

        \ell_i = (1 - \varepsilon)\,\bigl(-\log p_{i y_i}\bigr)
            + \frac{\varepsilon}{C} \sum_{c=1}^{C} \bigl(-\log p_{ic}\bigr),

    i.e. the cross-entropy against the smoothed target distribution
    :math:`(1-\varepsilon)\,\mathbb 1[c = y_i] + \varepsilon / C` (PyTorch's
    definition; Szegedy et al., 2016). ``"mean"`` averages
    :math:`\ell_i` over all :math:`N \cdot d_1 \cdots d_K` positions.
    The code never forms :math:`\log p`; it uses :math:`-\log p_{ic} = \log
    \sum_k e^{z_{ik} - z_{i,\max}} - (z_{ic} - z_{i,\max})` with
    :math:`z_{i,\max} = \max_k z_{ik}`, so it is finite for logits of magnitude
    :math:`10^4`.

    Only class-index targets are supported (no ``weight``,
    ``ignore_index`` or probability targets); any integer dtype is accepted
    (torch insists on int64).

    Args:
        logits: the logits :math:`z`, floating point, classes in dim 1.
        target: the class indices :math:`y \in \{0, \dots, C-1\}`.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.
        label_smoothing: :math:`\varepsilon \in [0, 1]` (default 0).

    Returns:
        A 0-d tensor, or the per-position losses for ``"none"``.

    Raises:
        TypeError: for non-tensors, non-float logits or non-integer targets.
        ValueError: for a target of the wrong shape, a class index outside
            ``[0, C-1]``, or an out-of-range option.

    Shape:
        ``logits``: :math:`(N, C)`, :math:`(N, C, d_1, \dots, d_K)` or
        :math:`(C)`; ``target``: :math:`(N)`, :math:`(N, d_1, \dots, d_K)`
        or :math:`()`; output: :math:`()` or the shape of ``target``.

    Example:
        >>> z = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> cross_entropy(z, torch.tensor([0, 0]))  # (0.1269 + 2.1269) / 2
        tensor(1.1269)
    """
    check_floating(logits, "logits", "cross_entropy")
    check_tensor(target, "target", "cross_entropy")
    check_choice(reduction, "reduction", "cross_entropy", _REDUCTIONS)
    eps = check_float(label_smoothing, "label_smoothing", "cross_entropy",
                      low=0.0, high=1.0)
    if target.is_floating_point() or target.dtype in (torch.bool,
                                                      torch.complex64,
                                                      torch.complex128):
        raise param_error(
            "target", "cross_entropy",
            "a tensor of integer class indices (probability targets are "
            "not supported)", Shown(f"a tensor of dtype {target.dtype}"),
            exc=TypeError)
    if logits.dim() == 0:
        raise param_error("logits", "cross_entropy",
                          "a tensor of shape (N, C), (N, C, d1, ...) or (C,)",
                          shape_of(logits))
    unbatched = logits.dim() == 1
    if unbatched:  # (C,) with a 0-d target: a batch of one
        logits, target_b = logits.unsqueeze(0), target.reshape(-1)
        expected = ()
    else:
        target_b = target
        expected = (logits.shape[0],) + tuple(logits.shape[2:])
    if tuple(target.shape) != expected:
        raise param_error(
            "target", "cross_entropy",
            f"a tensor of shape {expected} for logits of shape "
            f"{tuple(logits.shape[unbatched:])}", shape_of(target))
    C = logits.shape[1]
    target_b = target_b.long()
    bad = (target_b < 0) | (target_b >= C)
    if bool(bad.any()):
        raise param_error(
            "target", "cross_entropy",
            f"class indices in the range [0, {C - 1}] (C = {C} classes)",
            int(target_b[bad][0]))
    # -log p_ic = log Σ_k e^(z_ik - z_i,max) - (z_ic - z_i,max): log p is
    # never materialised, only the log-sum-exp and the logits needed.
    shifted, log_norm = _shift_and_log_norm(logits, 1)
    log_norm = log_norm.squeeze(1)  # log Σ_k e^(z_ik - z_i,max)
    z_y = shifted.gather(1, target_b.unsqueeze(1)).squeeze(1)  # z_iy - z_i,max
    nll = log_norm - z_y  # -log p_iy
    if eps > 0:
        smooth = log_norm - shifted.mean(dim=1)  # (1/C) Σ_c -log p_ic
        loss = (1.0 - eps) * nll + eps * smooth  # ℓ = (1-ε)nll + ε·smooth
    else:
        loss = nll  # ℓ = -log p_iy
    if unbatched:
        loss = loss.squeeze(0)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(logits: torch.Tensor,
                                     target: torch.Tensor, *,
                                     reduction: str = "mean"
                                     ) -> torch.Tensor:
    r"""Binary cross-entropy on logits, computed stably; matches
    ``F.binary_cross_entropy_with_logits``.

    With :math:`p = \sigma(z) = 1 / (1 + e^{-z})` and a target
    :math:`y \in [0, 1]`,

    .. math::

        \ell = -y \log \sigma(z) - (1 - y) \log(1 - \sigma(z))
             = \max(z, 0) - z y + \log\bigl(1 + e^{-|z|}\bigr).

    The right-hand form never exponentiates a positive number, so it is
    finite for any finite :math:`z`. The code writes it as
    :math:`(1-y)\,z + \log(e^{-c} + e^{-z-c})` with
    :math:`c = \max(-z, 0)` (the log-sum-exp trick on
    :math:`\log(1 + e^{-z})`), the same value, whose autograd gradient is
    :math:`\sigma(z) - y` everywhere, :math:`z = 0` included.

    Soft targets in :math:`[0, 1]` are allowed (as in torch); values
    outside it are refused (torch accepts them silently). ``weight`` and
    ``pos_weight`` are not supported.

    Args:
        logits: the logits :math:`z`, a floating-point tensor.
        target: the targets :math:`y \in [0, 1]`, same shape as ``logits``.
        reduction: ``"mean"`` (default), ``"sum"`` or ``"none"``.

    Returns:
        A 0-d tensor, or a tensor shaped like ``logits`` for ``"none"``.

    Raises:
        TypeError: for non-tensors or non-float logits/targets.
        ValueError: for a shape mismatch, a target outside ``[0, 1]`` or
            an unknown ``reduction``.

    Shape:
        ``logits``: :math:`(*)`; ``target``: :math:`(*)`; output:
        :math:`()` or :math:`(*)`.

    Example:
        >>> binary_cross_entropy_with_logits(
        ...     torch.tensor([0.0, 1e4, -1e4]), torch.tensor([1.0, 1.0, 1.0]),
        ...     reduction="none")
        tensor([6.9315e-01, 0.0000e+00, 1.0000e+04])
    """
    owner = "binary_cross_entropy_with_logits"
    check_floating(logits, "logits", owner)
    check_floating(target, "target", owner)
    check_choice(reduction, "reduction", owner, _REDUCTIONS)
    if target.shape != logits.shape:
        raise param_error(
            "target", owner,
            f"a tensor of shape {tuple(logits.shape)}, the shape of "
            "'logits'",
            shape_of(target))
    if target.numel() and bool(((target < 0) | (target > 1)).any()):
        raise param_error(
            "target", owner, "probabilities in the range [0, 1]",
            Shown(f"a tensor with values in [{float(target.min()):g}, "
                   f"{float(target.max()):g}]"))
    z, y = logits, target
    c = (-z.detach()).clamp(min=0)  # c = max(-z, 0)
    softplus = c + ((-c).exp() + (-z - c).exp()).log()  # log(1 + e^(-z))
    return _reduce((1 - y) * z + softplus, reduction)  # ℓ = (1-y)z + sp
