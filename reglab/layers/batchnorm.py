r"""Batch normalisation (book chapter "Batch normalisation").

Ioffe and Szegedy (2015), "Batch normalization: accelerating deep network
training by reducing internal covariate shift", ICML. For each channel,
over the :math:`m` values of a mini-batch :math:`B` (every dimension but
the channel one):

.. math::

    \mu_B = \frac1m \sum_{i} x_i, \qquad
    \sigma^2_B = \frac1m \sum_i (x_i - \mu_B)^2, \qquad
    \hat x_i = \frac{x_i - \mu_B}{\sqrt{\sigma^2_B + \epsilon}}, \qquad
    y_i = \gamma\, \hat x_i + \beta .

Training also keeps running estimates for inference, where
:math:`\mu_B, \sigma^2_B` are replaced by them:

.. math::

    \hat\mu \leftarrow (1 - \text{momentum})\,\hat\mu
        + \text{momentum}\cdot \mu_B, \qquad
    \hat\sigma^2 \leftarrow (1 - \text{momentum})\,\hat\sigma^2
        + \text{momentum}\cdot \tfrac{m}{m-1}\,\sigma^2_B .

**Momentum conventions.** This is PyTorch's convention (default
``momentum=0.1``: the new batch gets weight 0.1). Keras writes
``running = momentum * running + (1 - momentum) * batch`` (default
``momentum=0.99``), so Keras' ``momentum`` is PyTorch's
``1 - momentum``: Keras 0.99 ⇔ PyTorch 0.01. (Keras also defaults to
``epsilon=1e-3``, PyTorch to ``eps=1e-5``.)
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import (
    Shown,
    check_bool,
    check_float,
    check_int,
    check_tensor,
    param_error,
    shape_of,
)

__all__ = ["BatchNorm1d", "BatchNorm2d", "batch_norm"]


def _check_one_per_channel(x, name: str, owner: str) -> None:
    if x.numel() // x.shape[1] <= 1:
        err = param_error(
            name, owner,
            "a batch with more than 1 value per channel when training "
            "(the batch variance needs at least 2 values; use a larger "
            "batch or call .eval())", shape_of(x))
        raise ValueError(
            "Expected more than 1 value per channel when training, got "
            f"input size {x.size()}. {err}")


def _check_channel_vector(t, name: str, C: int, optional: bool) -> None:
    if t is None:
        if optional:
            return
        raise param_error(name, "batch_norm",
                          "a tensor when training=False (evaluation uses "
                          "the running statistics)", None)
    check_tensor(t, name, "batch_norm")
    if tuple(t.shape) != (C,):
        raise param_error(name, "batch_norm",
                          f"a tensor of shape ({C},), one value per channel "
                          f"of 'x'", shape_of(t))


def batch_norm(x: torch.Tensor, running_mean: torch.Tensor | None,
               running_var: torch.Tensor | None,
               weight: torch.Tensor | None = None,
               bias: torch.Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> torch.Tensor:
    r"""Batch normalisation over every dimension but the channel dim 1;
    matches ``F.batch_norm``.

    In training (per channel, over the :math:`m = N \cdot d_1 \cdots d_K`
    values of the batch):

    .. math::

        \mu_B = \tfrac1m \textstyle\sum_i x_i, \quad
        \sigma^2_B = \tfrac1m \textstyle\sum_i (x_i - \mu_B)^2, \quad
        y_i = \gamma\,\frac{x_i - \mu_B}{\sqrt{\sigma^2_B + \epsilon}}
            + \beta,

    and, when given, the running statistics are updated **in place**
    (PyTorch's momentum convention; the running variance uses the
    unbiased :math:`\tfrac{m}{m-1}\sigma^2_B`, as in Ioffe and Szegedy):

    .. math::

        \hat\mu \leftarrow (1-\text{momentum})\,\hat\mu
            + \text{momentum}\cdot\mu_B, \quad
        \hat\sigma^2 \leftarrow (1-\text{momentum})\,\hat\sigma^2
            + \text{momentum}\cdot\tfrac{m}{m-1}\sigma^2_B .

    In evaluation (``training=False``) :math:`\mu_B, \sigma^2_B` are
    replaced by ``running_mean`` and ``running_var``, which must then be
    given. ``weight`` :math:`\gamma` and ``bias`` :math:`\beta` default to
    1 and 0. Gradients flow to ``x``, ``weight`` and ``bias`` by autograd
    (also through :math:`\mu_B` and :math:`\sigma^2_B`).

    Reference: Ioffe and Szegedy (2015); book chapter "Batch
    normalisation".

    Args:
        x: the input, floating point, channels in dim 1.
        running_mean: the running mean :math:`\hat\mu` of shape ``(C,)``,
            updated in place in training; may be ``None`` in training.
        running_var: the running variance :math:`\hat\sigma^2`, likewise.
        weight: the scale :math:`\gamma` of shape ``(C,)``, or ``None``.
        bias: the shift :math:`\beta` of shape ``(C,)``, or ``None``.
        training: use batch statistics (and update the running ones).
        momentum: the weight of the new batch in the running averages,
            in ``[0, 1]`` (PyTorch's convention; Keras' is 1 - this).
        eps: :math:`\epsilon > 0`, added to the variance.

    Returns:
        A tensor shaped like ``x``.

    Raises:
        TypeError: for non-tensors or mistyped options.
        ValueError: for ``x`` with fewer than 2 dims, per-channel tensors
            of the wrong shape, missing running statistics in evaluation,
            a training batch with one value per channel, or an
            out-of-range ``momentum``/``eps``.

    Shape:
        ``x``: :math:`(N, C)` or :math:`(N, C, d_1, \dots, d_K)`; output:
        the same.

    Example:
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> mean, var = torch.zeros(2), torch.ones(2)
        >>> batch_norm(x, mean, var, training=True)
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]])
        >>> mean, var  # 0.9·(0, 1) + 0.1·((2, 4), (2, 8))
        (tensor([0.2000, 0.4000]), tensor([1.1000, 1.7000]))
    """
    check_tensor(x, "x", "batch_norm")
    if not x.is_floating_point():
        raise param_error("x", "batch_norm", "a floating-point tensor",
                          Shown(f"a tensor of dtype {x.dtype}"),
                          exc=TypeError)
    if x.dim() < 2:
        raise param_error("x", "batch_norm",
                          "a tensor of shape (N, C) or (N, C, *)", shape_of(x))
    check_bool(training, "training", "batch_norm")
    momentum = check_float(momentum, "momentum", "batch_norm",
                           low=0.0, high=1.0)
    eps = check_float(eps, "eps", "batch_norm", low=0.0, low_open=True)
    C = x.shape[1]
    _check_channel_vector(running_mean, "running_mean", C, training)
    _check_channel_vector(running_var, "running_var", C, training)
    _check_channel_vector(weight, "weight", C, True)
    _check_channel_vector(bias, "bias", C, True)
    dims = [0] + list(range(2, x.dim()))  # every dim but the channels
    shape = [1, C] + [1] * (x.dim() - 2)  # (C,) → broadcastable to x
    if training:
        _check_one_per_channel(x, "x", "batch_norm")
        m = x.numel() // C  # values per channel
        mean = x.mean(dim=dims)  # μ_B = (1/m) Σ x
        centred = x - mean.view(shape)  # x - μ_B
        sq_dev = centred.square().sum(dim=dims)  # Σ (x - μ_B)²
        var = sq_dev / m  # σ²_B = (1/m) Σ (x - μ_B)², biased
        with torch.no_grad():
            if running_mean is not None:  # μ̂ = (1-momentum)μ̂ + momentum·μ_B
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:  # σ̂² = ... + momentum·Σ(x-μ_B)²/(m-1)
                running_var.mul_(1 - momentum).add_(
                    momentum * sq_dev / (m - 1))
    else:
        var = running_var  # σ̂²
        centred = x - running_mean.view(shape)  # x - μ̂
    # y = γ·(x-μ)/√(σ²+ε) + β, with the per-channel factor γ/√(σ²+ε)
    # formed first so that the full-size tensor is touched only once more.
    scale = (var + eps).rsqrt()  # 1/√(σ²+ε)
    if weight is not None:
        scale = weight * scale  # γ/√(σ²+ε)
    if bias is None:
        return centred * scale.view(shape)  # γ x̂
    return torch.addcmul(bias.view(shape), centred, scale.view(shape))


class _BatchNorm(nn.Module):
    """The shared body of :class:`BatchNorm1d` and :class:`BatchNorm2d`;
    subclasses set ``_dims`` (the accepted input dimensions) and
    ``_layout`` (for error messages)."""

    _dims: tuple[int, ...] = ()
    _layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        owner = type(self).__name__
        self.num_features = check_int(num_features, "num_features", owner,
                                      low=1)
        self.eps = check_float(eps, "eps", owner, low=0.0, low_open=True)
        if momentum is not None:
            momentum = check_float(momentum, "momentum", owner,
                                   low=0.0, high=1.0)
        self.momentum = momentum
        self.affine = check_bool(affine, "affine", owner)
        self.track_running_stats = check_bool(
            track_running_stats, "track_running_stats", owner)
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features))  # γ = 1
            self.bias = nn.Parameter(torch.zeros(num_features))  # β = 0
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked",
                                 torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the variance to 1 and the batch
        count to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics and set γ = 1, β = 0."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _check_input(self, input) -> None:
        owner = type(self).__name__
        check_tensor(input, "input", owner)
        if input.dim() not in self._dims:
            raise param_error("input", owner, f"a {self._layout} tensor",
                              shape_of(input))
        if input.shape[1] != self.num_features:
            raise param_error(
                "input", owner,
                f"a tensor with num_features={self.num_features} channels "
                f"in dim 1", shape_of(input))
        if self.training:
            _check_one_per_channel(input, "input", owner)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)  # t = t + 1
            if self.momentum is None:  # cumulative average: factor 1/t
                factor = 1.0 / float(self.num_batches_tracked)
        # Batch statistics in training, and always without running ones.
        use_batch = self.training or not self.track_running_stats
        return batch_norm(input, self.running_mean, self.running_var,
                          self.weight, self.bias, use_batch, factor,
                          self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, "
                f"momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


_MODULE_DOC = r"""Batch normalisation {what}; matches
    ``torch.nn.{name}`` step by step (outputs, gradients, running
    statistics).

    .. math::

        y = \frac{{x - \mu_B}}{{\sqrt{{\sigma^2_B + \epsilon}}}}\,\gamma
            + \beta

    per channel, with the batch statistics :math:`\mu_B, \sigma^2_B` over
    {over} in training mode and the running estimates in evaluation mode
    (see :func:`batch_norm`). Each training call adds 1 to
    ``num_batches_tracked`` and updates the running statistics with
    PyTorch's convention

    .. math::

        \hat\mu \leftarrow (1-\text{{momentum}})\,\hat\mu
            + \text{{momentum}}\cdot\mu_B

    (likewise :math:`\hat\sigma^2` with the unbiased batch variance).
    ``momentum=None`` gives the cumulative average (factor
    :math:`1/t` at the :math:`t`-th batch), as in torch. Keras' convention
    is the opposite, ``running = momentum * running + (1 - momentum) *
    batch`` with default 0.99, i.e. PyTorch ``momentum=0.01``.

    Reference: Ioffe and Szegedy (2015); book chapter "Batch
    normalisation".

    Args:
        num_features: the number of channels :math:`C`.
        eps: :math:`\epsilon > 0`, added to the variance (default 1e-5).
        momentum: the weight of the new batch in the running averages, in
            ``[0, 1]`` (default 0.1), or ``None`` for a cumulative average.
        affine: learn :math:`\gamma` (``weight``, init 1) and :math:`\beta`
            (``bias``, init 0) (default ``True``).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers (default ``True``); when
            ``False``, batch statistics are used in evaluation mode too.

    Raises:
        TypeError / ValueError: for mistyped or out-of-range options; in
        ``forward``, for an input that is not {layout} with ``C`` =
        ``num_features``, or a training batch with one value per channel
        (like torch's "Expected more than 1 value per channel when
        training").

    Shape:
        input: {layout}; output: the same.

    Example:
        >>> bn = {name}(3)
        >>> y = bn(torch.randn({example}))
        >>> y.shape, int(bn.num_batches_tracked)
        (torch.Size([{example}]), 1)
        >>> bn.state_dict().keys() == torch.nn.{name}(3).state_dict().keys()
        True
    """


class BatchNorm1d(_BatchNorm):
    _dims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"
    __doc__ = _MODULE_DOC.format(
        what="over a 2-D or 3-D input", name="BatchNorm1d",
        over=r"the batch (and length) dimensions",
        layout="(N, C) or (N, C, L)", example="8, 3")

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats)


class BatchNorm2d(_BatchNorm):
    _dims = (4,)
    _layout = "4-D (N, C, H, W)"
    __doc__ = _MODULE_DOC.format(
        what="over a 4-D input (spatial batch normalisation)",
        name="BatchNorm2d", over=r"the batch and both spatial dimensions",
        layout="(N, C, H, W)", example="8, 3, 4, 4")

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats)
