"""Execute one submission in the sandbox and decide which tests passed.

``python tools/grading/execute.py SUBMITTED SOURCE OUT`` (or
:func:`execute_submission`) builds the notebook to run from the student's
notebook ``SUBMITTED`` and the instructor's ``SOURCE`` (locked and test
cells, hidden tests included, always come from ``SOURCE``, as nbgrader's
autograde does), screens the student's cells (:mod:`grading.screen`), runs
it cell by cell in a kernel inside the sandbox (:mod:`grading.sandbox`),
and writes the executed notebook to ``OUT`` with a ``OUT.status.json``
report beside it. :mod:`grading.replay` then hands the outputs to
nbgrader's autograde, which records the scores.

A failed test cell's error output is moved before what the cell printed,
so that its feedback starts with the sentence that says what went wrong
(``reglab.testing.tests_of`` makes that sentence the error's first line).

How a test's verdict is reached: a test cell earns its points only if its
last line ran, and no error was shown. The last line is one the grader
appends to every test cell at run time, printing a random token that is
drawn afresh for each run and never written where the student's code
could read it; the grader removes it from the output again. A hook that
swallows errors (``sys.excepthook``, IPython's ``set_custom_exc``) or a
kernel that dies cannot produce the token, so such a test scores 0.

When the kernel dies (a crash, ``os._exit``, a limit) or a cell runs past
its time limit, that cell gets an error output that says so in one
sentence, a new kernel is started, the cells before it are run again, and
grading goes on with the next cell: the student loses only the cells that
did not complete. A notebook that cannot be read gets one such sentence.
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grading import sandbox, screen  # noqa: E402

MAX_RESTARTS = 3
# Run first in every kernel, before any student code: protect the modules
# the tests use and refuse the interpreter's introspection hooks.
GUARD = r'''
def _reglab_guard():
    import sys
    import types
    import math, numpy, torch  # noqa: F401  (the modules the tests use)
    try:
        import reglab, reglab.testing  # noqa: F401
    except Exception:
        pass
    import importlib.util
    import os
    protected = ("torch", "numpy", "reglab", "math", "sklearn", "scipy")

    # The libraries' own files (read-only in the sandbox). Code whose file
    # is one of them is the library's: a compile() or code object that
    # claims such a file name for other source is refused below.
    roots = []
    for package in ("torch", "numpy", "scipy", "sklearn"):
        spec = importlib.util.find_spec(package)
        for path in (spec and spec.submodule_search_locations) or ():
            roots += {os.path.join(path, ""),
                      os.path.join(os.path.realpath(path), "")}
    roots = tuple(roots)

    def trusted(filename):
        return isinstance(filename, str) and filename.startswith(roots)

    def genuine(source, filename):
        try:
            with open(filename, "rb") as file:
                data = file.read()
        except OSError:
            return False
        if isinstance(source, str):
            source = source.encode()
        return source == data

    class ReadOnlyModule(types.ModuleType):
        """A module whose attributes only the libraries' own imports may
        change (``import torch._dynamo`` wraps ``torch.manual_seed``)."""
        __slots__ = ()

        def __setattr__(self, name, value):
            if isinstance(value, types.ModuleType) and \
                    value.__name__ == f"{self.__name__}.{name}" or \
                    library_import():
                return types.ModuleType.__setattr__(self, name, value)
            raise AttributeError(
                f"{self.__name__}.{name} cannot be changed while the "
                "notebook is graded")

        def __delattr__(self, name):
            if library_import():
                return types.ModuleType.__delattr__(self, name)
            raise AttributeError(
                f"{self.__name__}.{name} cannot be deleted while the "
                "notebook is graded")

    def library_import():
        """Is the caller of __setattr__ a library module's top level?"""
        code = sys._getframe(2).f_code
        return code.co_name == "<module>" and trusted(code.co_filename)

    seen, pending = [0], set()

    def freeze():
        # A module is frozen once its import has finished: torch's lazy
        # first-use imports (torch.optim pulls in torch._inductor.config)
        # rewrite their own attributes while they run.
        if len(sys.modules) != seen[0]:
            seen[0] = len(sys.modules)
            pending.update(
                name for name, module in list(sys.modules.items())
                if type(module) is types.ModuleType
                and name.split(".")[0] in protected)
        for name in list(pending):
            module = sys.modules.get(name)
            if type(module) is types.ModuleType:
                spec = module.__dict__.get("__spec__")
                if getattr(spec, "_initializing", False):
                    continue
                try:
                    module.__class__ = ReadOnlyModule
                except TypeError:
                    pass
            pending.discard(name)

    # sys.modules and builtins entries as they are now: put back before
    # every import and every statement IPython compiles
    import builtins
    modules = {name: module for name, module in sys.modules.items()
               if name.split(".")[0] in protected}
    names = dict(vars(builtins))

    def restore():
        for name, module in modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        space = vars(builtins)
        for name, value in names.items():
            if space.get(name) is not value and not name.startswith("_") \
                    and name not in ("get_ipython", "display", "exit",
                                     "quit"):
                space[name] = value

    deny = frozenset({"sys.settrace", "sys.setprofile", "sys.addaudithook",
                      "gc.get_referrers", "gc.get_referents",
                      "gc.get_objects", "sys._current_frames"})

    def hook(event, args):
        if event in ("import", "compile"):  # IPython compiles every
            freeze()                          # statement before running it
            restore()
            if event == "compile" and trusted(args[1]) and \
                    not genuine(args[0], args[1]):
                raise RuntimeError("compiling code under a library's file "
                                   "name is not allowed while the "
                                   "notebook is graded")
        elif event == "code.__new__" and trusted(args[1]):
            raise RuntimeError("making code under a library's file name is "
                               "not allowed while the notebook is graded")
        elif event in deny:
            raise RuntimeError(f"{event} is not allowed while the notebook "
                               "is graded")

    freeze()
    sys.addaudithook(hook)


_reglab_guard()
del _reglab_guard
'''


class _Client:
    """nbclient's NotebookClient, with a cap on the output kept per cell."""

    def __new__(cls, *args, max_chars: int, **kwargs):
        from nbclient import NotebookClient

        class Capped(NotebookClient):
            def output(self, outs, msg, display_id, cell_index):
                used = self._chars.get(cell_index, 0)
                if used >= max_chars:
                    if cell_index not in self._capped:
                        self._capped.add(cell_index)
                        outs.append(nbformat.v4.new_output(
                            "stream", name="stdout",
                            text=f"\n[output cut: this cell printed more "
                                 f"than {max_chars} characters]\n"))
                    return None
                out = super().output(outs, msg, display_id, cell_index)
                if out is not None:
                    size = len(json.dumps(out))
                    self._chars[cell_index] = used + size
                    if used + size > max_chars and out.get("text"):
                        out["text"] = out["text"][:max(0, max_chars - used)]
                return out

        client = Capped(*args, **kwargs)
        client._chars, client._capped = {}, set()
        return client


def _error(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue,
                                  traceback=[f"{ename}: {evalue}"])


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test(cell) -> bool:
    """An autograded test cell (graded, not an answer)."""
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) \
        and not meta.get("solution")


def cell_name(cell, index: int) -> str:
    return _meta(cell).get("grade_id") or f"cell {index + 1}"


def build(submitted: nbformat.NotebookNode, source: nbformat.NotebookNode,
          use_screen: bool = True) -> tuple[nbformat.NotebookNode,
                                            list[str]]:
    """The notebook to run, and what the screen refused.

    Cells are taken in the student's order; a cell whose ``grade_id`` is
    one of the source's comes from the source unless it is an answer cell;
    other cells are the student's own. Answer cells and the student's own
    code cells are screened; a refused one becomes a cell that raises the
    refusal's sentence.
    """
    by_id = {_meta(c)["grade_id"]: c for c in source.cells
             if _meta(c).get("grade_id")}
    answers = {gid for gid, c in by_id.items() if _meta(c).get("solution")}
    locked = [c.source for c in source.cells
              if c.cell_type == "code" and _meta(c).get("grade_id")
              not in answers]
    names: set[str] = set()
    for gid in answers:
        if by_id[gid].cell_type == "code":  # not a written answer
            names |= screen.defined_names(by_id[gid].source)
    protected = screen.protected_names(locked, names)
    imports = screen.import_bindings(locked)
    run = nbformat.v4.new_notebook(metadata=copy.deepcopy(source.metadata))
    refused, seen = [], set()
    for index, cell in enumerate(submitted.cells):
        gid = _meta(cell).get("grade_id")
        if gid in by_id and gid not in seen:
            seen.add(gid)
            original = by_id[gid]
            if gid in answers:
                new = copy.deepcopy(original)
                new.source = cell.get("source", "")
                student = True
            else:
                new, student = copy.deepcopy(original), False
        else:
            new = copy.deepcopy(cell)
            new.setdefault("metadata", {}).pop("nbgrader", None)
            student = True
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
            if student and use_screen:
                refusal = screen.screen(new.source, protected, imports)
                if refusal is not None:
                    sentence = refusal.sentence(cell_name(new, index))
                    refused.append(sentence)
                    new.source = f"raise RuntimeError({sentence!r})"
        run.cells.append(new)
    return run, refused


class Kernel:
    """One kernel, sandboxed unless ``bwrap`` is None."""

    def __init__(self, bwrap: str | None, limits: sandbox.Limits,
                 workdir: Path, notebook: Path | None):
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpec

        self.rundir = Path(tempfile.mkdtemp(prefix="k-", dir=workdir))
        self.group = sandbox.ProcessGroup(limits.processes) if bwrap \
            else None
        if bwrap:
            argv = sandbox.kernel_argv(bwrap, limits, self.rundir, notebook,
                                       self.group)
            env = {}
        else:  # the unsafe opt-out: a plain kernel, same settings
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f",
                    "{connection_file}", "--InteractiveShell.xmode=Minimal",
                    "--HistoryManager.enabled=False"]
            env = {key: value for key, value in sandbox.sandbox_env().items()
                   if key not in ("HOME", "USER", "PATH", "TMPDIR",
                                  "IPYTHONDIR", "MPLCONFIGDIR")}
        self.km = AsyncKernelManager(
            transport="ipc", ip=str(self.rundir / "kernel"),
            connection_file=str(self.rundir / "k.json"))
        self.km._kernel_spec = KernelSpec(
            argv=argv, display_name="sandboxed python", language="python",
            interrupt_mode="message", env=env)

    def exit_code(self) -> int | None:
        process = getattr(self.km.provisioner, "process", None)
        return None if process is None else process.poll()

    def kill(self) -> None:
        """Stop the sandbox (and with it every process inside)."""
        process = getattr(self.km.provisioner, "process", None)
        if process is not None and process.poll() is None:
            try:
                process.kill()
                process.wait(timeout=10)  # reap it: no zombie left behind
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.group is not None:
            self.group.close()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.rundir, ignore_errors=True)


def _describe_exit(code: int | None, limits: sandbox.Limits) -> str:
    if code is None:
        return "(it stopped answering)"
    if code < 0 or code >= 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        extra = {"SIGKILL": f"; it may have used more than its "
                            f"{limits.memory} MiB of memory",
                 "SIGXCPU": f"; it used more than {limits.cpu} s of CPU "
                            "time"}.get(name, "")
        return f"(killed by {name}{extra})"
    return f"(exit code {code})"


def run_notebook(nb: nbformat.NotebookNode, limits: sandbox.Limits,
                 bwrap: str | None, notebook_copy: Path | None,
                 workdir: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """Execute ``nb`` (in place) cell by cell; return it and the events
    (one sentence each: deaths, time limits, output cuts)."""
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import DeadKernelError

    token = secrets.token_hex(16)
    marker = f"reglab-verdict-{token}"
    tests = {i for i, c in enumerate(nb.cells) if is_test(c)}
    originals = {i: nb.cells[i].source for i in tests}
    for i in tests:
        nb.cells[i].source = originals[i] + f"\nprint({marker!r})\n"
    events: list[str] = []
    failed: dict[int, nbformat.NotebookNode] = {}
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    start = time.monotonic()
    restarts = 0
    done = False
    while not done:
        kernel = Kernel(bwrap, limits, workdir, notebook_copy)
        client = _Client(nb, km=kernel.km, timeout=limits.cell_timeout,
                         interrupt_on_timeout=True, allow_errors=True,
                         startup_timeout=120, record_timing=False,
                         max_chars=limits.output,
                         error_on_timeout={"ename": "CellTimeoutError",
                                           "evalue": "", "traceback": []},
                         resources={"metadata": {"path": str(kernel.rundir)}})
        restart = False
        ran: set[int] = set()
        try:
            with client.setup_kernel(stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL):
                reply = run_sync(client.kc.execute_interactive)(
                    GUARD, silent=True, store_history=False, timeout=120)
                if reply["content"].get("status") != "ok":
                    raise RuntimeError("the grader's guard failed: "
                                       f"{reply['content'].get('evalue')}")
                for i in code_cells:
                    if i in failed:
                        continue
                    cell = nb.cells[i]
                    name = cell_name(cell, i)
                    if time.monotonic() - start > limits.notebook_timeout:
                        failed[i] = _error(
                            "NotRun", f"cell {name!r} was not run: the "
                            f"notebook used up its {limits.notebook_timeout}"
                            " s")
                        continue
                    watchdog = threading.Timer(limits.cell_timeout + 15,
                                               kernel.kill)
                    watchdog.start()
                    began = time.monotonic()
                    try:
                        client.execute_cell(cell, i)
                    except DeadKernelError:
                        seconds = time.monotonic() - began
                        if seconds >= limits.cell_timeout:
                            message = (f"cell {name!r} was stopped after "
                                       f"{limits.cell_timeout} s (the time "
                                       "limit per cell)")
                            failed[i] = _error("CellTimeoutError", message)
                        else:
                            why = _describe_exit(kernel.exit_code(), limits)
                            message = (f"your kernel stopped in cell {name!r}"
                                       f" {why}")
                            failed[i] = _error("KernelStopped", message)
                        events.append(message)
                        restart = True
                        break
                    finally:
                        watchdog.cancel()
                    if time.monotonic() - began >= limits.cell_timeout:
                        # Interrupted at the time limit. If the kernel
                        # answered with an error, it is free again;
                        # otherwise it is still busy: start a new one.
                        stuck = not any(o.output_type == "error"
                                        and o.ename != "CellTimeoutError"
                                        for o in cell.outputs)
                        message = (f"cell {name!r} was stopped after "
                                   f"{limits.cell_timeout} s (the time limit "
                                   "per cell)")
                        cell.outputs = [o for o in cell.outputs
                                        if o.output_type != "error"]
                        cell.outputs.append(_error("CellTimeoutError",
                                                   message))
                        events.append(message)
                        if stuck:
                            failed[i] = cell.outputs[-1]
                            restart = True
                            break
                    ran.add(i)
                    if i in client._capped:
                        events.append(f"cell {name!r} printed more than "
                                      f"{limits.output} characters; the rest "
                                      "was cut")
                else:
                    done = True
        except Exception as error:  # noqa: BLE001 - a kernel that won't start
            message = (f"the kernel could not run the notebook "
                       f"({type(error).__name__}: {error})")
            events.append(message)
            restart = True
        finally:
            kernel.close()
        if restart and not done:
            restarts += 1
            if restarts > MAX_RESTARTS:
                for i in code_cells:
                    if i not in failed and i not in ran:
                        failed[i] = _error(
                            "NotRun", "this cell was not run: the kernel "
                            f"stopped {MAX_RESTARTS + 1} times")
                done = True
    for i, error in failed.items():
        nb.cells[i].outputs = [error]
    for i in tests:
        cell = nb.cells[i]
        cell.source = originals[i]
        finished = False
        for out in cell.outputs:
            if out.output_type == "stream" and marker in out.get("text", ""):
                finished = True
                out.text = out.text.replace(marker + "\n", "").replace(
                    marker, "")
        cell.outputs = [o for o in cell.outputs
                        if not (o.output_type == "stream" and not o.text)]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if not finished and not errors:
            cell.outputs.append(_error(
                "TestIncomplete", f"the test in cell {cell_name(cell, i)!r} "
                "did not run to its end"))
        # A failed test's feedback starts with its sentence (the error,
        # which reglab.testing.tests_of words), then what it printed.
        cell.outputs = errors + [o for o in cell.outputs
                                 if o.output_type != "error"]
    return nb, events


_FOUND: list[str] = []


def _bwrap() -> str:
    """``bwrap``, checked once per process (a worker runs many
    submissions)."""
    if not _FOUND:
        _FOUND.append(sandbox.require_bwrap())
    return _FOUND[0]


def execute_submission(submitted: Path, source: Path, out: Path,
                       limits: sandbox.Limits | None = None,
                       bwrap: str | None = "auto", use_screen: bool = True
                       ) -> dict:
    """Run one submission; write ``out`` and ``out.status.json``.

    Args:
        submitted: the student's notebook.
        source: the instructor's version (with hidden tests).
        out: where to write the executed notebook.
        limits: the sandbox's limits (default: ``sandbox.Limits()``).
        bwrap: the ``bwrap`` executable, ``"auto"`` to find it (an error if
            it is missing), or ``None`` to run without a sandbox (unsafe).
        use_screen: screen the student's cells (``False`` only to test the
            sandbox on its own).

    Returns:
        The status: ``{"events": [...], "refused": [...], "seconds": s,
        "readable": bool}``.
    """
    began = time.monotonic()
    if limits is None:
        limits = sandbox.Limits()
    if bwrap == "auto":
        bwrap = _bwrap()
    status = {"events": [], "refused": [], "readable": True}
    src = nbformat.read(source, as_version=4)
    try:
        size = submitted.stat().st_size
        if size > limits.notebook_size * 1024 * 1024:
            raise ValueError(f"it is {size / 2**20:.0f} MiB, more than the "
                             f"{limits.notebook_size} MiB allowed")
        sub = nbformat.read(submitted, as_version=4)
        if not isinstance(sub.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as error:  # noqa: BLE001 - any broken file
        status["readable"] = False
        status["events"].append(
            f"your notebook could not be read ({type(error).__name__}: "
            f"{str(error)[:200]}); no cell was run")
        nb = copy.deepcopy(src)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [_error("NotRun", status["events"][0])]
    else:
        nb, status["refused"] = build(sub, src, use_screen)
        with tempfile.TemporaryDirectory(prefix="reglab-grade-") as tmp:
            work = Path(tmp)
            copy_path = work / "student" / submitted.name
            copy_path.parent.mkdir()
            shutil.copyfile(submitted, copy_path)
            nb, status["events"] = run_notebook(nb, limits, bwrap, copy_path,
                                                work)
    status["seconds"] = round(time.monotonic() - began, 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    out.with_suffix(".status.json").write_text(json.dumps(status, indent=1))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submitted", type=Path)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--limits", default="{}",
                        help="JSON object of Limits fields")
    parser.add_argument("--unsafe-no-sandbox", action="store_true")
    parser.add_argument("--unsafe-no-screen", action="store_true")
    args = parser.parse_args(argv)
    limits = sandbox.Limits(**json.loads(args.limits))
    execute_submission(args.submitted, args.source, args.out, limits,
                       bwrap=None if args.unsafe_no_sandbox else "auto",
                       use_screen=not args.unsafe_no_screen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
