"""Assertion helpers shared by ``tests/`` and the exercises' test cells.

Their failure messages are written for students: one sentence saying what
was expected and by how much the answer missed, never a raw tensor dump.
"""

from __future__ import annotations

import contextlib
import importlib
import types

import torch

__all__ = ["DelegationError", "assert_close", "forbid"]


class DelegationError(AssertionError):
    """Raised when graded code calls an implementation it must re-create."""


def _as_tensor(value, like=None):
    if isinstance(value, torch.Tensor):
        return value
    dtype = like.dtype if isinstance(like, torch.Tensor) else None
    return torch.as_tensor(value, dtype=dtype)


def assert_close(actual, expected, *, rtol: float | None = None,
                 atol: float | None = None, name: str = "the result"
                 ) -> None:
    """Assert that ``actual`` equals ``expected`` within tolerances.

    Defaults: ``atol=1e-6, rtol=1e-5`` (float32 and below) or
    ``atol=1e-10, rtol=1e-10`` (float64) — the tolerances of the reglab
    contract. ``|actual - expected| <= atol + rtol * |expected|``
    elementwise.

    Raises:
        AssertionError: with a sentence naming ``name``, the expected and
            received shape or value, and the largest difference.

    Example:
        >>> assert_close(torch.tensor([1.0, 2.0]), [1.0, 2.0])
        >>> assert_close(torch.tensor(1.5), 1.0, name="l2_penalty(w)")
        Traceback (most recent call last):
        ...
        AssertionError: l2_penalty(w) is 1.5 but should be 1 (off by 0.5; \
allowed 1.1e-05).
    """
    if not isinstance(actual, (torch.Tensor, int, float)):
        raise AssertionError(
            f"{name} should be a tensor, but it is a "
            f"{type(actual).__name__} ({actual!r}).")
    expected = _as_tensor(expected)
    actual = _as_tensor(actual, like=expected)
    if actual.shape != expected.shape:
        raise AssertionError(
            f"{name} has shape {tuple(actual.shape)} but should have shape "
            f"{tuple(expected.shape)}.")
    if not actual.dtype.is_floating_point and expected.dtype.is_floating_point:
        actual = actual.to(expected.dtype)
    wide = torch.float64 in (actual.dtype, expected.dtype)
    atol = (1e-10 if wide else 1e-6) if atol is None else atol
    rtol = (1e-10 if wide else 1e-5) if rtol is None else rtol
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    bad = ~((a - e).abs() <= atol + rtol * e.abs())
    bad |= a.isnan() != e.isnan()
    bad &= ~(a.isnan() & e.isnan())
    if not bool(bad.any()):
        return
    diff = (a - e).abs().nan_to_num(float("inf"))
    if e.ndim == 0:
        allowed = atol + rtol * abs(float(e))
        raise AssertionError(
            f"{name} is {float(a):.6g} but should be {float(e):.6g} "
            f"(off by {float(diff):.3g}; allowed {allowed:.3g}).")
    where = tuple(int(i) for i in torch.nonzero(bad)[0])
    raise AssertionError(
        f"{name} differs from the expected values at {int(bad.sum())} of "
        f"{e.numel()} positions; e.g. at index {where} it is "
        f"{float(a[where]):.6g} instead of {float(e[where]):.6g} (largest "
        f"difference {float(diff.max()):.3g}; allowed {atol:g} + "
        f"{rtol:g}·|expected|).")


def _resolve(path: str):
    module, _, attr = path.rpartition(".")
    owner = None
    while module:
        try:
            owner = importlib.import_module(module)
            break
        except ModuleNotFoundError:
            module, _, head = module.rpartition(".")
            attr = f"{head}.{attr}"
    for part in attr.split(".")[:-1]:
        owner = getattr(owner, part)
    return owner, attr.split(".")[-1]


@contextlib.contextmanager
def forbid(*paths: str, reason: str = "write it yourself"):
    """Make the named functions or classes raise inside the block.

    Used by test cells to prove that graded code does not delegate to the
    implementation it re-creates. A function is disabled by swapping its
    code object, so aliases (``from reglab import l2_penalty as f``) are
    caught too; a class is disabled in its ``__init__``.

    Args:
        *paths: dotted names, e.g. ``"reglab.penalties.l2_penalty"``,
            ``"torch.optim.SGD"``.
        reason: the end of the message shown to the student.

    Example:
        >>> import reglab
        >>> with forbid("reglab.penalties.l2_penalty"):
        ...     reglab.l2_penalty([torch.ones(1)])
        Traceback (most recent call last):
        ...
        reglab.testing.DelegationError: reglab.penalties.l2_penalty was \
called: write it yourself.
    """
    undo = []  # (kind, ...) entries, undone in reverse order
    builtins: dict = {}  # torch built-ins -> their dotted names

    def make_raiser(path):
        def raiser(*args, **kwargs):
            raise DelegationError(f"{path} was called: {reason}.")
        return raiser

    try:
        for path in paths:
            owner, attr = _resolve(path)
            target = getattr(owner, attr)
            if isinstance(target, type):
                undo.append(("init", target, target.__dict__.get("__init__")))
                target.__init__ = make_raiser(path)
            elif isinstance(target, types.FunctionType):
                undo.append(("code", target, target.__code__))
                target.__code__ = _raising_code(target, path, reason)
            else:
                # A built-in (C) function or a method descriptor such as
                # torch.Tensor.log_softmax: replace the attribute, and stop
                # calls through other names with a torch function mode.
                own = attr in getattr(owner, "__dict__", {})
                undo.append(("attr", owner, attr, target, own))
                _setattr(owner, attr, make_raiser(path))
                builtins[target] = path
        with (_ForbidTorch(builtins, reason) if builtins
              else contextlib.nullcontext()):
            yield
    finally:
        for kind, obj, *old in reversed(undo):
            if kind == "init":
                if old[0] is None:
                    delattr(obj, "__init__")
                else:
                    obj.__init__ = old[0]
            elif kind == "code":
                obj.__code__ = old[0]
            elif old[2]:  # "attr", the owner's own attribute
                _setattr(obj, old[0], old[1])
            else:  # "attr" inherited by the owner: remove the shadow
                _delattr(obj, old[0])


def _setattr(owner, name: str, value) -> None:
    """``setattr`` that also works on a module made read-only while a
    notebook is graded (the grader protects the modules the tests use by
    giving them a ``__setattr__`` that refuses)."""
    if isinstance(owner, types.ModuleType):
        types.ModuleType.__setattr__(owner, name, value)
    else:
        setattr(owner, name, value)


def _delattr(owner, name: str) -> None:
    if isinstance(owner, types.ModuleType):
        types.ModuleType.__delattr__(owner, name)
    else:
        delattr(owner, name)


class _ForbidTorch(torch.overrides.TorchFunctionMode):
    """Raise when a forbidden torch built-in runs, whatever name it was
    called by (``from torch import log_softmax``, ``x.log_softmax()``)."""

    def __init__(self, builtins: dict, reason: str):
        super().__init__()
        self.builtins = builtins
        self.reason = reason

    def __torch_function__(self, func, types, args=(), kwargs=None):
        path = self.builtins.get(func)
        if path is not None:
            raise DelegationError(f"{path} was called: {self.reason}.")
        return func(*args, **(kwargs or {}))


def _raising_code(func, path: str, reason: str):
    """A code object with ``func``'s free variables that raises."""
    freevars = func.__code__.co_freevars
    message = f"{path} was called: {reason}."
    src = ["def _outer():"]
    for v in freevars:
        src.append(f"    {v} = None")
    src.append("    def _inner(*args, **kwargs):")
    for v in freevars:
        src.append(f"        {v}")
    src.append("        from reglab.testing import DelegationError")
    src.append(f"        raise DelegationError({message!r})")
    src.append("    return _inner")
    namespace: dict = {}
    exec("\n".join(src), namespace)
    return namespace["_outer"]().__code__
