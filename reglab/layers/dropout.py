r"""Inverted dropout (book chapter "Dropout").

Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov (2014),
"Dropout: a simple way to prevent neural networks from overfitting",
JMLR 15. In training each unit is kept independently with probability
:math:`1 - p` and the survivors are scaled up so that the expectation is
unchanged:

.. math::

    m_i \sim \mathrm{Bernoulli}(1 - p), \qquad
    \tilde x_i = \frac{m_i\, x_i}{1 - p}, \qquad
    \mathbb E[\tilde x_i] = x_i .

At test time the layer is the identity. The paper instead keeps the
activations unscaled in training and multiplies the weights by the
retention probability at test time; the "inverted" form used by PyTorch
and Keras moves that factor into training, so inference needs no change.

Conventions: ``p`` is the probability of *dropping* a unit, as in PyTorch
(Keras calls it ``rate``); in the paper :math:`p` is the probability of
*retaining* it.
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import (
    Shown,
    check_bool,
    check_float,
    check_tensor,
    param_error,
)

__all__ = ["Dropout", "dropout"]


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Inverted dropout: zero each element with probability ``p`` and
    scale the survivors by :math:`1 / (1 - p)`.

    .. math::

        u_i \sim \mathcal U[0, 1), \quad m_i = \mathbb 1[u_i \ge p], \quad
        \tilde x_i = \frac{m_i\, x_i}{1 - p} .

    The gradient flows through the mask:
    :math:`\partial\tilde x_i / \partial x_i = m_i / (1 - p)`. Returns ``x``
    itself when ``training`` is false or ``p == 0``, and zeros (with zero
    gradient) when ``p == 1``, as ``F.dropout`` does. The mask is drawn
    with ``torch.rand(..., generator=generator)`` on ``x``'s device, so the
    same seeded generator gives the same mask.

    Reference: Srivastava et al. (2014); book chapter "Dropout".

    Args:
        x: the input, a floating-point tensor.
        p: the probability :math:`p \in [0, 1]` of zeroing an element
            (PyTorch's convention; Keras' ``rate``).
        training: apply dropout (``True``) or return ``x`` (``False``).
        generator: an optional ``torch.Generator`` on ``x``'s device; the
            global generator when ``None``.

    Returns:
        A tensor shaped like ``x``.

    Raises:
        TypeError: for a non-tensor or non-float ``x``, a non-bool
            ``training`` or a ``generator`` that is not a generator.
        ValueError: for ``p`` outside ``[0, 1]`` or a generator on another
            device than ``x``.

    Shape:
        ``x``: any shape :math:`(*)`; output: :math:`(*)`.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> y = dropout(torch.ones(1000), p=0.25, generator=g)
        >>> sorted(set(y.tolist()))  # dropped, or scaled by 1 / 0.75
        [0.0, 1.3333333730697632]
        >>> dropout(torch.ones(3), p=0.25, training=False)
        tensor([1., 1., 1.])
    """
    check_tensor(x, "x", "dropout")
    if not x.is_floating_point():
        raise param_error("x", "dropout", "a floating-point tensor",
                          Shown(f"a tensor of dtype {x.dtype}"),
                          exc=TypeError)
    p = check_float(p, "p", "dropout", low=0.0, high=1.0)
    check_bool(training, "training", "dropout")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise param_error("generator", "dropout",
                              "a torch.Generator or None",
                              Shown(f"an object of type "
                                     f"{type(generator).__name__}"),
                              exc=TypeError)
        if generator.device.type != x.device.type:
            raise param_error("generator", "dropout",
                              f"a torch.Generator on the device of 'x' "
                              f"({x.device.type})",
                              Shown(f"a generator on {generator.device}"))
    if not training or p == 0.0:
        return x  # y = x
    if p == 1.0:
        return x * torch.zeros_like(x)  # y = 0, with zero gradient
    u = torch.rand(x.shape, generator=generator, device=x.device,
                   dtype=x.dtype)  # u_i ~ U[0, 1)
    mask = u >= p  # m_i = 1[u_i ≥ p], kept with probability 1 - p
    return x * mask / (1.0 - p)  # x̃_i = m_i x_i / (1 - p)


class Dropout(nn.Module):
    r"""Inverted dropout as a module: applies :func:`dropout` in training
    mode and is the identity in evaluation mode.

    .. math::

        \tilde x_i = \begin{cases} m_i\, x_i / (1 - p),
            \ m_i \sim \mathrm{Bernoulli}(1 - p)
            & \text{after } \texttt{model.train()}\\
            x_i & \text{after } \texttt{model.eval()} \end{cases}

    Like ``torch.nn.Dropout`` (without ``inplace``), the mask is drawn from
    the global generator (seed it with ``reglab.set_seed``); call
    :func:`dropout` with ``generator=`` for a private stream.

    Reference: Srivastava et al. (2014); book chapter "Dropout".

    Args:
        p: the probability :math:`p \in [0, 1]` of zeroing an element
            (PyTorch's convention; Keras' ``rate``).

    Raises:
        TypeError / ValueError: for a ``p`` that is not a float in
            ``[0, 1]``.

    Shape:
        input: any shape :math:`(*)`; output: :math:`(*)`.

    Example:
        >>> layer = Dropout(p=0.5)
        >>> layer
        Dropout(p=0.5)
        >>> y = layer(torch.ones(1000))  # training mode by default
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> layer.eval()(torch.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = check_float(p, "p", "Dropout", low=0.0, high=1.0)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
