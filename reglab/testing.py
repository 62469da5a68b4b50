"""Assertion helpers shared by ``tests/`` and the exercises' test cells.

Their failure messages are written for students: one sentence saying what
was expected and by how much the answer missed, never a raw tensor dump.
:func:`tests_of`, called at the top of every test cell of the exercises,
makes a failing test show that sentence first (in the notebook, in
nbgrader's Validate and in the graded feedback), and says so when the
failure comes from an earlier task that does not pass its tests yet.
:func:`diagnoses` adds a second sentence that names the mistake, when
what the answer computes matches a known one.
"""

from __future__ import annotations

import contextlib
import importlib
import linecache
import os
import random
import sys
import traceback
import types

import torch

__all__ = ["DelegationError", "assert_close", "diagnoses", "diagnosis",
           "forbid", "tests_of"]

#: The words that start a diagnosis in a failed test's message.
DIAGNOSIS = "Likely mistake:"


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
    elementwise. ``expected`` may be a NumPy array, and then so may
    ``actual``; a NumPy answer against a tensor is refused.

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
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(expected, (numpy.ndarray,
                                                   numpy.generic)):
        # NumPy against NumPy (an exercise written in NumPy): an array or
        # a NumPy scalar is the right kind of answer
        if isinstance(actual, (numpy.ndarray, numpy.generic)) and \
                actual.dtype.kind in "biuf":
            actual = torch.as_tensor(numpy.asarray(actual))
        expected = torch.as_tensor(numpy.asarray(expected))
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
    # an infinity is close only to the same infinity (inf - inf is nan,
    # and rtol * |inf| would let any value pass)
    inf = a.isinf() | e.isinf()
    bad = (bad & ~inf) | (inf & (a != e))
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


# --- naming the mistake ---------------------------------------------------

@contextlib.contextmanager
def diagnoses(known: dict):
    """Name the mistake behind a check that fails inside the block.

    When the block raises an :class:`AssertionError` (not a
    :class:`DelegationError`), each symptom of ``known`` is called in
    order; the sentence of the first that returns true is added to the
    error's message after :data:`DIAGNOSIS`, and :func:`tests_of` shows it
    on its own line under the test's sentence. A symptom recognises the
    mistake by what the answer computes (it compares the answer's output
    with what the mistaken formula gives), never by reading the answer's
    source. A symptom that raises counts as false; symptoms run with the
    random generators of torch, NumPy and ``random`` restored afterwards,
    so a diagnosis never changes what a later test draws. The verdict does
    not change: the block still raises.

    Args:
        known: sentence -> symptom (a function without arguments). The
            sentence says what the answer does, e.g. "you keep each element
            with probability p; p is the probability of *dropping* it."

    Example:
        >>> frac = 0.7  # the answer dropped 70 % of the elements
        >>> with diagnoses({"you keep with probability p, not 1 - p.":
        ...                 lambda: abs(frac - 0.7) < 0.01}):
        ...     assert abs(frac - 0.3) < 0.01, "dropout zeroed 0.7, not 0.3."
        Traceback (most recent call last):
        ...
        AssertionError: dropout zeroed 0.7, not 0.3. Likely mistake: you \
keep with probability p, not 1 - p.
    """
    try:
        yield
    except DelegationError:
        raise
    except AssertionError as error:
        sentence = _diagnose(known)
        if sentence is not None:
            message = str(error.args[0]) if error.args else ""
            error.args = (f"{message} {DIAGNOSIS} {sentence}".strip(),
                          *error.args[1:])
        raise


def _diagnose(known: dict) -> str | None:
    """The sentence of the first symptom that holds, or None."""
    numpy = sys.modules.get("numpy")
    states = (random.getstate(),
              numpy.random.get_state() if numpy is not None else None)
    try:
        with torch.random.fork_rng(devices=[]):
            for sentence, symptom in known.items():
                try:
                    if bool(symptom()):
                        return sentence
                except Exception:  # noqa: BLE001 - a symptom that fails
                    continue        # does not hold
    finally:
        random.setstate(states[0])
        if numpy is not None:
            numpy.random.set_state(states[1])
    return None


# --- what a failing test cell shows -------------------------------------

# The test cell that is running (set by tests_of, cleared before every
# cell), and the tested objects whose test cells have failed.
_CELL: dict = {}
_FAILED: dict[int, object] = {}
_SHELL: list = []
_LONGEST = 1000  # characters of an exception's message that are shown


def tests_of(task: int, *names: str, uses: dict[str, int] | None = None,
             mistakes: dict | None = None) -> None:
    """Declare what the running test cell checks; shape how it fails.

    Call it at the top of every test cell of an exercise. If the cell then
    fails, IPython shows (instead of a traceback) the sentence that says
    what went wrong first: the test's own message; or, when the student's
    code raised, ``Your `f` raised TypeError: ...`` followed by where in
    the student's own code (never a line of the test cell, which may be a
    hidden test); or, when the cell uses a function of an earlier task
    whose test cells have failed, first the sentence ``Task 3 uses your
    `dropout` from Task 1, which does not pass its tests yet: fix Task 1
    first.`` The verdict does not change: the cell still fails, and a
    cell passes or fails exactly as it would without this call. When a
    check of the test fails and a symptom of ``mistakes`` holds, a second
    line names the mistake (see :func:`diagnosis`). Outside IPython the
    call only records its arguments.

    Args:
        task: the number of the task that the cell tests.
        *names: the student's functions or classes that the cell tests
            (looked up in the caller's globals).
        uses: name -> task number of the student's functions from earlier
            tasks (or earlier in the same task) that the tested code or the
            test calls.

    Example::

        from reglab.testing import tests_of
        tests_of(3, "dropout_moments", uses={"dropout": 1})
    """
    space = sys._getframe(1).f_globals
    _CELL.clear()
    _CELL.update(
        task=task,
        tested={name: space.get(name) for name in names},
        uses={name: (int(number), space.get(name))
              for name, number in (uses or {}).items()},
        mistakes=dict(mistakes or {}))
    _install()


def diagnosis(error: BaseException) -> str | None:
    """The mistake that the running test cell's ``mistakes`` (declared
    with :func:`tests_of`) find behind ``error``, or None.

    Only a failed check of the test (an :class:`AssertionError` that is
    not a :class:`DelegationError`) is diagnosed; the first symptom that
    holds names the mistake. This is the line that a failed test cell
    shows after :data:`DIAGNOSIS`.
    """
    if not isinstance(error, AssertionError) or isinstance(
            error, DelegationError) or DIAGNOSIS in _text(error):
        return None
    return _diagnose(_CELL.get("mistakes") or {})


def _install() -> None:
    """Route the exceptions of test cells through :func:`_show` (once per
    IPython shell; nothing outside IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython and ipython.get_ipython()
    if shell is None or shell in _SHELL:
        return
    _SHELL[:] = [shell]
    shell.events.register("pre_run_cell", _new_cell)
    shell.set_custom_exc((Exception,), _show)


def _new_cell(*args) -> None:
    _CELL.clear()


def _show(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: a test cell's failure as
    :func:`_explain` words it, any other cell's as IPython would."""
    if not _CELL:  # not a test cell: exactly what IPython shows
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    shell._get_exc_info((etype, value, tb))  # sys.last_* for %debug
    try:
        stb = _explain(value, tb)
    except Exception:  # noqa: BLE001 - never lose the student's error
        stb = [f"{etype.__name__}: {_text(value)}"]
    shell._showtraceback(etype, value, stb)
    return stb


def _text(value) -> str:
    try:
        text = " ".join(str(value).split())
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = "(a message that cannot be shown)"
    return text if len(text) <= _LONGEST else text[:_LONGEST] + " [...]"


def _files(obj) -> set[str]:
    """The files (notebook cells) of the code of a function or class."""
    found = set()
    for func in [obj, *vars(obj).values()] if isinstance(obj, type) \
            else [obj]:
        func = getattr(func, "__func__", func)  # static/class methods
        code = getattr(func, "__code__", None)
        if isinstance(code, types.CodeType):
            found.add(code.co_filename)
    return found


def _mentions(obj, name: str) -> bool:
    """Does the code of ``obj`` (a function or a class) use ``name``?"""
    codes = []
    for func in [obj, *vars(obj).values()] if isinstance(obj, type) \
            else [obj]:
        func = getattr(func, "__func__", func)
        code = getattr(func, "__code__", None)
        if isinstance(code, types.CodeType):
            codes.append(code)
    while codes:
        code = codes.pop()
        if name in code.co_names:
            return True
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return False


def _hint() -> str | None:
    """The sentence about an earlier task, if the cell uses a function
    whose test cells have failed."""
    tested = list(_CELL["tested"].values())
    if None in tested:
        return None  # the cell's own task is not even defined yet
    for name, (number, obj) in _CELL["uses"].items():
        if obj is None or _FAILED.get(id(obj)) is not obj:
            continue
        if tested and not any(_mentions(t, name) for t in tested):
            continue  # the tested code does not call it
        task = _CELL["task"]
        if number == task:
            return (f"Task {task} uses your `{name}`, which does not pass "
                    f"its tests yet: fix `{name}` first.")
        return (f"Task {task} uses your `{name}` from Task {number}, which "
                f"does not pass its tests yet: fix Task {number} first.")
    return None


def _explain(value: BaseException, tb) -> list[str]:
    """The lines shown for a test cell that raised ``value``.

    The first line is the sentence to read; then, when the student's code
    raised, the lines of it that were running (innermost last). Lines of
    the test cell and of the libraries are never shown. Records the tested
    objects of the cell as failing (see :func:`tests_of`).
    """
    ours = set()
    for obj in [*_CELL.get("tested", {}).values(),
                *(o for _, o in _CELL.get("uses", {}).values())]:
        if obj is not None:
            ours |= _files(obj)
    frames = traceback.extract_tb(tb)
    mine = [f for f in frames if f.filename in ours]
    inner = next((f for f in reversed(frames)
                  if not os.path.isfile(f.filename)), None)
    name = type(value).__name__
    found = None
    if isinstance(value, AssertionError) and (
            isinstance(value, DelegationError) or not mine
            or inner is not mine[-1]):
        sentence = _text(value) or "A check of this test failed."
        found = diagnosis(value)
    elif isinstance(value, NotImplementedError) and mine \
            and not _text(value):
        sentence = (f"`{mine[-1].name}` is not answered yet: it still "
                    "raises NotImplementedError (write your code where it "
                    "says # YOUR CODE HERE and delete that line).")
    elif mine:
        sentence = f"Your `{mine[-1].name}` raised {name}: {_text(value)}"
    elif isinstance(value, NameError) and value.name in _CELL.get(
            "tested", {}):
        sentence = (f"`{value.name}` is not defined: write it in Task "
                    f"{_CELL['task']} and run its cell.")
    else:
        sentence = f"The test stopped with {name}: {_text(value)}"
    lines = [sentence]
    cut = sentence.find(f" {DIAGNOSIS} ")
    if isinstance(value, AssertionError) and cut > 0:  # from diagnoses()
        lines = [sentence[:cut], sentence[cut + 1:]]
    elif found:
        lines.append(f"{DIAGNOSIS} {found}")
    if mine and not isinstance(value, NotImplementedError):
        lines.append("In your code (innermost last):")
        for frame in mine[-5:]:
            code = (linecache.getline(frame.filename, frame.lineno).strip()
                    or frame.line or "")
            lines.append(f"  `{frame.name}`, line {frame.lineno} of its "
                         f"cell: {code}")
    hint = _hint() if _CELL else None
    if hint:
        lines.insert(0, hint)
    for obj in _CELL.get("tested", {}).values():
        if obj is not None:
            _FAILED[id(obj)] = obj
    return lines
