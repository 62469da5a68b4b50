r"""Parameter-norm penalties (book chapter "Parameter-norm penalties").

With weights :math:`w` and regularisation strength :math:`\lambda`, the
penalised objective is :math:`J(w) = L(w) + \lambda\,\Omega(w)` with

.. math::

    \Omega_1(w) = \sum_i |w_i|, \qquad
    \Omega_2(w) = \tfrac12 \sum_i w_i^2 .

The ½ in :math:`\Omega_2` is a convention chosen so that
:math:`\nabla_w \lambda\Omega_2 = \lambda w`: gradient descent on
``loss + lam * l2_penalty(params)`` then follows exactly the trajectory of
``torch.optim.SGD(params, lr, weight_decay=lam)``.

Every function takes an iterable of tensors (``model.parameters()``, a list
of weights, or a single tensor) and returns a 0-d tensor that autograd can
differentiate.
"""

from __future__ import annotations

import torch
from torch import nn

from ._validation import check_float, check_tensors

__all__ = ["elastic_net_penalty", "l1_penalty", "l2_penalty",
           "weights_only"]


def l1_penalty(params) -> torch.Tensor:
    r"""The L1 penalty :math:`\Omega_1(w) = \sum_i |w_i|`.

    Its (sub)gradient is :math:`\operatorname{sign}(w)`; autograd uses 0 at
    :math:`w = 0`.

    Args:
        params: an iterable of tensors, or a single tensor.

    Returns:
        A 0-d tensor.

    Example:
        >>> l1_penalty([torch.tensor([1.0, -2.0]), torch.tensor([3.0])])
        tensor(6.)
    """
    tensors = check_tensors(params, "params", "l1_penalty")
    return sum(w.abs().sum() for w in tensors)  # Σ|w|


def l2_penalty(params) -> torch.Tensor:
    r"""The L2 penalty :math:`\Omega_2(w) = \tfrac12 \sum_i w_i^2`.

    Its gradient is :math:`w` itself, so the gradient of
    ``lam * l2_penalty(params)`` is ``lam * w`` — exactly the term that
    ``torch.optim.SGD(weight_decay=lam)`` adds to each gradient.

    Args:
        params: an iterable of tensors, or a single tensor.

    Returns:
        A 0-d tensor.

    Example:
        >>> l2_penalty([torch.tensor([1.0, -2.0]), torch.tensor([3.0])])
        tensor(7.)
    """
    tensors = check_tensors(params, "params", "l2_penalty")
    return 0.5 * sum((w * w).sum() for w in tensors)  # ½ Σ w²


def elastic_net_penalty(params, l1_ratio: float = 0.5) -> torch.Tensor:
    r"""The elastic-net penalty
    :math:`\omega\,\Omega_1(w) + (1-\omega)\,\Omega_2(w)`, with
    :math:`\omega` = ``l1_ratio`` and the ½-convention :math:`\Omega_2`.

    ``l1_ratio=1`` gives the L1 penalty, ``l1_ratio=0`` the L2 penalty (the
    same parametrisation as scikit-learn's ``ElasticNet``).

    Args:
        params: an iterable of tensors, or a single tensor.
        l1_ratio: the mixing weight :math:`\omega \in [0, 1]`.

    Returns:
        A 0-d tensor.

    Example:
        >>> elastic_net_penalty([torch.tensor([1.0, -2.0])], l1_ratio=0.5)
        tensor(2.7500)
    """
    omega = check_float(l1_ratio, "l1_ratio", "elastic_net_penalty",
                        low=0.0, high=1.0)
    tensors = check_tensors(params, "params", "elastic_net_penalty")
    return omega * l1_penalty(tensors) + (1.0 - omega) * l2_penalty(tensors)


# Layers whose ``weight`` is conventionally penalised. Normalisation layers
# also have a ``weight`` (their scale γ), which is deliberately left out.
_PENALISED = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)


def weights_only(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that are conventionally penalised: the ``weight`` of
    every Linear and Conv layer — no biases, no normalisation parameters.

    Args:
        model: an ``nn.Module``.

    Returns:
        A list of parameters (in ``model.modules()`` order).

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4),
        ...                     nn.Linear(4, 1))
        >>> [tuple(w.shape) for w in weights_only(net)]
        [(4, 3), (1, 4)]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            "The 'model' parameter of weights_only must be a "
            f"torch.nn.Module. Got an object of type {type(model).__name__} "
            "instead."
        )
    return [m.weight for m in model.modules()
            if isinstance(m, _PENALISED) and m.weight is not None]
