"""The one place that words reglab's error messages.

Every public callable checks its arguments through these helpers, so that
all messages read the same way (the scikit-learn style)::

    The 'p' parameter of dropout must be a float in the range [0, 1].
    Got 1.5 instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import torch

__all__ = [
    "Shown",
    "check_bool",
    "check_floating",
    "check_choice",
    "check_float",
    "check_int",
    "check_tensor",
    "check_tensors",
    "param_error",
    "shape_of",
]


class Shown(str):
    """A description shown verbatim (no quotes) after "Got" in a message,
    e.g. ``Shown("a tensor of shape (3, 1)")``."""

    def __repr__(self) -> str:
        return str(self)


def shape_of(t: torch.Tensor) -> Shown:
    """``a 2-D tensor of shape (3, 1)``, for messages about shapes."""
    return Shown(f"a {t.dim()}-D tensor of shape {tuple(t.shape)}")


def param_error(
    name: str, owner: str, allowed: str, value: object, *, exc=ValueError
) -> Exception:
    """Build the standard exception for a bad argument.

    ``owner`` is the public callable the user called; ``allowed`` describes
    the accepted values, e.g. ``"a float in the range [0, 1]"``.
    """
    return exc(
        f"The {name!r} parameter of {owner} must be {allowed}. "
        f"Got {value!r} instead."
    )


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_float(
    value: object,
    name: str,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number in
    the interval given by ``low``/``high`` (closed unless ``*_open``)."""
    if low is None and high is None:
        allowed = "a finite float"
    elif high is None:
        allowed = f"a float {'>' if low_open else '>='} {low}"
    elif low is None:
        allowed = f"a float {'<' if high_open else '<='} {high}"
    else:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        allowed = f"a float in the range {left}{low}, {high}{right}"
    if not _is_real(value):
        raise param_error(name, owner, allowed, value, exc=TypeError)
    x = float(value)
    bad = (
        not math.isfinite(x)
        or (low is not None and (x <= low if low_open else x < low))
        or (high is not None and (x >= high if high_open else x > high))
    )
    if bad:
        raise param_error(name, owner, allowed, value)
    return x


def check_int(
    value: object, name: str, owner: str, *, low: int | None = None
) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= low."""
    allowed = "an int" if low is None else f"an int >= {low}"
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise param_error(name, owner, allowed, value, exc=TypeError)
    if low is not None and value < low:
        raise param_error(name, owner, allowed, value)
    return int(value)


def check_bool(value: object, name: str, owner: str) -> bool:
    """Return ``value`` if it is a bool, else raise TypeError."""
    if not isinstance(value, bool):
        raise param_error(name, owner, "a bool", value, exc=TypeError)
    return value


def check_choice(value: object, name: str, owner: str, choices) -> object:
    """Return ``value`` if it is one of ``choices``, else raise ValueError."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise param_error(name, owner, f"one of {{{options}}}", value)
    return value


def check_tensor(value: object, name: str, owner: str) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise TypeError."""
    if not isinstance(value, torch.Tensor):
        shown = type(value).__name__
        raise TypeError(
            f"The {name!r} parameter of {owner} must be a torch.Tensor. "
            f"Got an object of type {shown} instead."
        )
    return value


def check_tensors(value: object, name: str, owner: str) -> list[torch.Tensor]:
    """Materialise an iterable of tensors (e.g. ``model.parameters()``).

    A single tensor is accepted and treated as a one-element list. Raises
    TypeError for anything that is not an iterable of tensors and
    ValueError for an empty iterable.
    """
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, torch.nn.Module):
        raise TypeError(
            f"The {name!r} parameter of {owner} must be an iterable of "
            f"tensors such as model.parameters(). Got the module "
            f"{type(value).__name__} itself instead."
        )
    if not isinstance(value, Iterable):
        raise TypeError(
            f"The {name!r} parameter of {owner} must be an iterable of "
            f"tensors. Got an object of type {type(value).__name__} instead."
        )
    tensors = list(value)
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"The {name!r} parameter of {owner} must contain only "
                f"tensors. Got an object of type {type(t).__name__} at "
                f"position {i} instead."
            )
    if not tensors:
        raise ValueError(
            f"The {name!r} parameter of {owner} must contain at least one "
            f"tensor. Got an empty iterable instead."
        )
    return tensors


def check_floating(value: object, name: str, owner: str) -> torch.Tensor:
    """Return ``value`` if it is a floating-point tensor, else TypeError."""
    check_tensor(value, name, owner)
    if not value.is_floating_point():
        raise param_error(name, owner, "a floating-point tensor",
                          Shown(f"a tensor of dtype {value.dtype}"),
                          exc=TypeError)
    return value
