"""Grade a class with nbgrader, in a grading folder outside the repository.

Student data never enters the repository: every command works in a
grading folder (``DIR``) that holds a copy of ``nbgrader_config.py``, the
instructor sources and nbgrader's ``gradebook.db``, ``submitted/``,
``autograded/`` and ``feedback/`` folders.

``setup DIR``
    creates (or refreshes) the grading folder: copies the configuration and
    ``solutions/``, converts the MyST sources, and records every assignment's
    tests in the gradebook (``nbgrader generate_assignment``).
``collect DIR ASSIGNMENT PATH...``
    files the students' notebooks as ``submitted/<student>/<assignment>/``.
    Each PATH is a notebook named ``<student>.ipynb`` or
    ``<student>_<anything>.ipynb`` (as most learning-management systems
    export them), a folder of such notebooks, or a ``.zip`` of them.
``grade DIR [ASSIGNMENT...]``
    runs every submission of each assignment (default: all that have
    submissions) in its own sandbox, several at a time (``--jobs``, default:
    one per core), then lets nbgrader's autograde score the outputs, writes
    the feedback HTML and exports ``grades.csv``; prints a summary per
    assignment that names the submissions that crashed, hit a limit or had
    a cell refused, and counts the written answers left to mark by hand.
``export DIR``
    writes ``grades.csv`` again from the gradebook, without grading: run it
    after marking the written answers in the formgrader (Manual Grading).
    Besides nbgrader's columns, ``grades.csv`` has ``to_mark``, the number
    of each submission's answers that still wait for a grader (they count 0
    in ``score`` until then; ``grading/export.py``).

Student code never runs outside the sandbox (``grading/sandbox.py``,
Debian's ``bubblewrap``); the grading folder's ``nbgrader_config.py`` makes
``nbgrader autograde`` replay the sandbox's outputs instead of executing
(``grading/replay.py``). Without ``bwrap`` the ``grade`` command refuses to
run, unless ``--unsafe-no-sandbox`` is given (trusted notebooks only: the
code then runs with the instructor's rights). A broken submission costs its
student the cells that did not complete, never the class: the command
exits non-zero only for an instructor-side error (unknown assignment,
missing sandbox, broken configuration).

Usage::

    python tools/grade.py setup ~/grading
    python tools/grade.py collect ~/grading ch06-dropout ~/Downloads/ch06/
    python tools/grade.py grade ~/grading
    python tools/grade.py export ~/grading    # after marking by hand
"""

from __future__ import annotations

import argparse
import concurrent.futures
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading import sandbox  # noqa: E402  (tools/grading/)

import exercises  # noqa: E402  (tools/exercises.py)

REPO = exercises.REPO
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
TOOLS = Path(__file__).resolve().parent
SANDBOX_DIR = "sandbox"  # executed notebooks, per student and assignment
REPLAY_CONFIG = f"""

# --- Added by tools/grade.py setup. Student code runs only in the sandbox
# (tools/grade.py grade); nbgrader autograde replays the sandbox's outputs
# and never starts a kernel of its own here. The course's own settings
# (an nbgrader exchange: course_id, Exchange.root) go in
# nbgrader_config_local.py, read first, so that they cannot undo these.
import os as _os
import sys as _sys
if _os.path.isfile("nbgrader_config_local.py"):
    with open("nbgrader_config_local.py", encoding="utf-8") as _f:
        exec(_f.read())
_sys.path.insert(0, {str(TOOLS)!r})
from grading.export import CsvExport  # noqa: E402
from grading.replay import Replay  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
    SaveAutoGrades)

c.Autograde.autograde_preprocessors = [
    Replay, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.Replay.directory = {SANDBOX_DIR!r}
# grades.csv with a column to_mark: the answers still to mark by hand.
c.ExportApp.plugin_class = CsvExport
"""


def nbgrader(folder: Path, *args: str) -> str:
    """Run the nbgrader CLI in ``folder``; return its log.

    Raises:
        RuntimeError: with the log, if nbgrader fails.
    """
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                         cwd=folder, env=exercises.nbgrader_env(),
                         capture_output=True, text=True)
    log = run.stdout + run.stderr
    if run.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed "
                           f"(exit {run.returncode}):\n{log}")
    return log


def setup(folder: Path, course: Path = REPO,
          names: list[str] | None = None) -> list[str]:
    """Create or refresh the grading folder for ``names`` (default: every
    assignment); return the assignment names."""
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = (course / exercises.CONFIG_FILE).read_text("utf-8")
    (folder / exercises.CONFIG_FILE).write_text(config + REPLAY_CONFIG,
                                                "utf-8")
    shutil.rmtree(folder / exercises.SOURCE_DIR, ignore_errors=True)
    shutil.copytree(course / exercises.SOURCE_DIR,
                    folder / exercises.SOURCE_DIR,
                    ignore=shutil.ignore_patterns("*.ipynb",
                                                  *exercises.JUNK))
    exercises.convert(folder)
    known = exercises.assignments(folder)
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"names={unknown}: no such assignment "
                         f"(known: {known})")
    names = known if names is None else names
    for name in names:
        nbgrader(folder, "generate_assignment", name, "--force")
    return names


def notebook_name(folder: Path, assignment: str) -> str:
    """The one notebook file name of ``assignment``."""
    found = sorted(Path(folder, exercises.SOURCE_DIR, assignment)
                   .glob("*.ipynb"))
    if len(found) != 1:
        raise ValueError(
            f"assignment={assignment!r}: expected one notebook in "
            f"{exercises.SOURCE_DIR}/{assignment}/, found "
            f"{[p.name for p in found]}; run `grade.py setup` first and "
            f"check the name (known: {exercises.assignments(folder)})")
    return found[0].name


def student_of(path: Path) -> str:
    """``alice.ipynb`` or ``alice_dropout (1).ipynb`` -> ``alice``."""
    student = path.stem.split("_", 1)[0]
    if not STUDENT_ID.fullmatch(student):
        raise ValueError(
            f"path={str(path)!r}: the file name must start with the "
            "student id (letters, digits, '.', '-'), followed by '.ipynb' "
            "or by '_' and anything")
    return student


def collect(folder: Path, assignment: str, paths: list[Path]) -> list[str]:
    """File each student's notebook under ``submitted/``; return the ids.

    Raises:
        ValueError: for a file that is not a notebook, a bad student id,
            or two notebooks of the same student.
    """
    folder = Path(folder).expanduser().resolve()
    target_name = notebook_name(folder, assignment)
    with tempfile.TemporaryDirectory(prefix="collect-") as tmp:
        notebooks: list[Path] = []
        for path in map(Path, paths):
            if path.is_dir():
                notebooks += sorted(path.glob("*.ipynb"))
            elif path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(tmp)
                notebooks += sorted(p for p in Path(tmp).rglob("*.ipynb")
                                    if "__MACOSX" not in p.parts)
            elif path.suffix == ".ipynb":
                notebooks.append(path)
            else:
                raise ValueError(
                    f"path={str(path)!r}: expected a .ipynb file, a folder "
                    "of them or a .zip of them")
        seen: dict[str, Path] = {}
        for nb in notebooks:
            student = student_of(nb)
            if student in seen:
                raise ValueError(
                    f"student {student!r} handed in two notebooks: "
                    f"{seen[student].name} and {nb.name}; keep one")
            seen[student] = nb
        for student, nb in seen.items():
            dest = folder / "submitted" / student / assignment
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb, dest / target_name)
    return sorted(seen)


def _run_one(folder: Path, student: str, assignment: str, notebook: str,
             limits: sandbox.Limits, unsafe: tuple[bool, bool]) -> dict:
    """Execute one submission in its sandbox (in a child process, so that
    nothing a submission does can stop the grader); return its status."""
    submitted = folder / "submitted" / student / assignment / notebook
    out = folder / SANDBOX_DIR / student / assignment / notebook
    status_file = out.with_suffix(".status.json")
    for stale in (out, status_file):
        stale.unlink(missing_ok=True)
    cmd = [sys.executable, str(TOOLS / "grading" / "execute.py"),
           str(submitted),
           str(folder / exercises.SOURCE_DIR / assignment / notebook),
           str(out), "--limits", json.dumps(vars(limits))]
    if unsafe[0]:
        cmd.append("--unsafe-no-sandbox")
    if unsafe[1]:
        cmd.append("--unsafe-no-screen")
    try:
        run = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=limits.notebook_timeout + 300)
        problem = None if run.returncode == 0 else (
            f"the grader failed on this notebook (exit {run.returncode}): "
            + (run.stderr.strip().splitlines() or ["no message"])[-1])
    except subprocess.TimeoutExpired:
        problem = "the grader stopped this notebook: it ran too long"
    if problem is None and status_file.is_file():
        return json.loads(status_file.read_text("utf-8"))
    status = {"events": [problem or "the grader wrote no result"],
              "refused": [], "readable": True}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # Replay then marks every cell "not run"
    status_file.write_text(json.dumps(status))
    return status


def _execute_in_worker(folder: Path, student: str, assignment: str,
                       notebook: str, limits: sandbox.Limits,
                       unsafe: tuple[bool, bool]) -> dict:
    from grading.execute import execute_submission

    out = folder / SANDBOX_DIR / student / assignment / notebook
    return execute_submission(
        folder / "submitted" / student / assignment / notebook,
        folder / exercises.SOURCE_DIR / assignment / notebook, out, limits,
        bwrap=None if unsafe[0] else "auto", use_screen=not unsafe[1])


def _run_all(folder: Path, work: list[tuple[str, str, str]],
             limits: sandbox.Limits, unsafe: tuple[bool, bool], jobs: int
             ) -> dict[tuple[str, str, str], dict]:
    """Run every submission in its sandbox, ``jobs`` at a time, in worker
    processes that each start one sandboxed kernel after another. A
    submission whose worker fails is run again alone in a child process
    (:func:`_run_one`), so one broken notebook never stops the others."""
    import multiprocessing

    statuses: dict = {}
    context = multiprocessing.get_context("spawn")
    try:
        with concurrent.futures.ProcessPoolExecutor(
                max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_execute_in_worker, folder, *w, limits,
                                   unsafe): w for w in work}
            for future in concurrent.futures.as_completed(futures):
                try:
                    statuses[futures[future]] = future.result()
                except Exception:  # noqa: BLE001 - retried alone below
                    pass
    except concurrent.futures.process.BrokenProcessPool:
        pass
    left = [w for w in work if w not in statuses]
    if left:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            statuses.update(zip(left, pool.map(
                lambda w: _run_one(folder, *w, limits, unsafe), left)))
    return statuses


def _feedback_page(folder: Path, student: str, assignment: str,
                   notebook: str, sentences: list[str]) -> None:
    """A minimal feedback page where nbgrader could write none."""
    page = (folder / "feedback" / student / assignment
            / Path(notebook).with_suffix(".html"))
    if page.exists():
        return
    page.parent.mkdir(parents=True, exist_ok=True)
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    page.write_text(
        f"<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>"
        f"{html.escape(assignment)}: feedback</title><h1>"
        f"{html.escape(assignment)}</h1><p>Your notebook could not be "
        f"graded, so it scores 0:</p><ul>{items}</ul></html>", "utf-8")


def grade(folder: Path, names: list[str] | None = None,
          timeout: int | None = None, jobs: int | None = None,
          limits: sandbox.Limits | None = None,
          unsafe_no_sandbox: bool = False, unsafe_no_screen: bool = False
          ) -> dict[str, dict]:
    """Run every submission in its sandbox, autograde, write feedback and
    export ``grades.csv``.

    Args:
        folder: the grading folder.
        names: the assignments (default: all with submissions).
        timeout: seconds per cell (default: ``limits.cell_timeout``).
        jobs: submissions run at once (default: the number of cores).
        limits: the sandbox's limits (default: :class:`sandbox.Limits`).
        unsafe_no_sandbox: run student code without the sandbox, with the
            instructor's rights (trusted notebooks only).
        unsafe_no_screen: run answers the static screen would refuse (to
            test the sandbox alone).

    Returns:
        assignment -> {"submissions": n, "seconds": s, "problems":
        {student: [sentences]}}.

    Raises:
        RuntimeError: the sandbox is missing, or nbgrader cannot export.
        ValueError: an unknown assignment or one without submissions.
    """
    folder = Path(folder).expanduser().resolve()
    limits = limits or sandbox.Limits()
    if timeout is not None:
        limits = sandbox.Limits(**{**vars(limits), "cell_timeout": timeout})
    if not unsafe_no_sandbox:
        sandbox.require_bwrap()
    _require_setup(folder)
    submitted = folder / "submitted"
    if names is None:
        names = sorted({p.parent.name
                        for p in submitted.glob("*/*/*.ipynb")})
    work = []
    for name in names:
        notebook = notebook_name(folder, name)
        students = sorted(p.parent.parent.name for p in
                          submitted.glob(f"*/{name}/{notebook}"))
        if not students:
            raise ValueError(f"assignment={name!r}: no submissions in "
                             f"{submitted}/<student>/{name}/")
        work += [(student, name, notebook) for student in students]
    jobs = jobs or os.cpu_count() or 1
    start = time.perf_counter()
    statuses = _run_all(folder, work, limits,
                        (unsafe_no_sandbox, unsafe_no_screen), jobs)
    run_seconds = time.perf_counter() - start
    report = {}
    for name in names:
        mine = {w: s for w, s in statuses.items() if w[1] == name}
        began = time.perf_counter()
        logs = [_nbgrader_lenient(folder, "autograde", name, "--force")]
        readable = [w for w, status in mine.items()
                    if status.get("readable", True)]
        graded = list((folder / "autograded").glob(f"*/{name}/*.ipynb"))
        if readable and not graded:
            raise RuntimeError(f"nbgrader autograde {name} graded no "
                               "notebook: check the grading folder's "
                               f"configuration.\n{logs[0]}")
        logs.append(_nbgrader_lenient(folder, "generate_feedback", name,
                                      "--force"))
        problems = {}
        for (student, _, notebook), status in mine.items():
            sentences = status.get("refused", []) + status.get("events", [])
            if sentences:
                problems[student] = sentences
            _feedback_page(folder, student, name, notebook,
                           sentences or ["nbgrader could not grade it"])
        share = run_seconds * len(mine) / max(1, len(work))
        report[name] = {"submissions": len(mine),
                        "seconds": share + time.perf_counter() - began,
                        "problems": problems, "log": "\n".join(logs)}
    waiting = to_mark_by_assignment(export(folder))
    for name in names:
        report[name]["to_mark"] = waiting.get(name, {})
    return report


def export(folder: Path) -> list[dict[str, str]]:
    """Write ``grades.csv`` from the gradebook (``nbgrader export`` with the
    grading folder's :class:`grading.export.CsvExport`); return its rows.

    Run it again after marking written answers in the formgrader: their
    manual scores then count in ``score``, and ``to_mark`` (the answers
    still without a score) drops to 0.

    Raises:
        RuntimeError: ``folder`` was set up before ``to_mark`` existed (run
            ``grade.py setup`` again), or nbgrader cannot export.
    """
    import csv

    folder = Path(folder).expanduser().resolve()
    _require_setup(folder)
    nbgrader(folder, "export", "--to", "grades.csv")
    with open(folder / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


def _require_setup(folder: Path) -> None:
    """Refuse a folder that this version of ``setup`` did not make: its
    ``nbgrader_config.py`` must replay the sandbox and export ``to_mark``.
    """
    config = folder / exercises.CONFIG_FILE
    text = config.read_text("utf-8") if config.is_file() else ""
    if "grading.replay" not in text:
        raise RuntimeError(f"{folder} is not a grading folder made by "
                           "`grade.py setup` (its nbgrader_config.py does "
                           "not replay the sandbox); run setup first")
    if "grading.export" not in text:
        raise RuntimeError(f"{folder} was made by an older `grade.py setup` "
                           "(its grades.csv would not count the written "
                           "answers left to mark); run setup again")


def to_mark_by_assignment(rows: list[dict[str, str]]
                          ) -> dict[str, dict[str, int]]:
    """assignment -> {student: answers to mark by hand} from the rows of
    ``grades.csv`` (students with nothing to mark left out)."""
    waiting: dict[str, dict[str, int]] = {}
    for row in rows:
        students = waiting.setdefault(row["assignment"], {})
        if int(row["to_mark"]):
            students[row["student_id"]] = int(row["to_mark"])
    return waiting


def _nbgrader_lenient(folder: Path, *args: str) -> str:
    """Run nbgrader; a failure on some notebooks is logged, not raised
    (nbgrader goes on with the others and exits 1 at the end)."""
    try:
        return nbgrader(folder, *args)
    except RuntimeError as error:
        return str(error)


MARKING_HINT = (
    "Mark the written answers in the formgrader (make formgrader, then "
    "Manual Grading), then write grades.csv again (make export); until "
    "then they count 0 in its score (see its column to_mark).")


def to_mark_line(students: dict[str, int]) -> str:
    """The summary line of the answers still to mark by hand."""
    if not students:
        return "  nothing left to mark by hand"
    return (f"  {sum(students.values())} written answer(s) of "
            f"{len(students)} submission(s) to mark by hand")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="grade.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="create or refresh a grading folder")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("collect", help="file students' notebooks")
    p.add_argument("folder", type=Path)
    p.add_argument("assignment")
    p.add_argument("paths", nargs="+", type=Path)
    p = sub.add_parser("export", help="write grades.csv again (after "
                       "marking written answers in the formgrader)")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("grade", help="autograde, feedback, grades.csv")
    p.add_argument("folder", type=Path)
    p.add_argument("assignments", nargs="*")
    p.add_argument("--jobs", type=int, default=None,
                   help="submissions run at once (default: one per core)")
    p.add_argument("--memory", type=int, default=sandbox.Limits.memory,
                   help="MiB of memory per submission (default %(default)s)")
    p.add_argument("--timeout", type=int,
                   default=sandbox.Limits.cell_timeout,
                   help="seconds per cell (default %(default)s)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="UNSAFE: run student code with your own rights, "
                        "without the sandbox (trusted notebooks only)")
    p.add_argument("--unsafe-no-screen", action="store_true",
                   help="UNSAFE: run answers the static screen would refuse "
                        "(to test the sandbox on its own)")
    args = parser.parse_args(argv)
    try:
        if args.command == "setup":
            names = setup(args.folder)
            print(f"{args.folder}: {len(names)} assignments recorded: "
                  + ", ".join(names))
        elif args.command == "collect":
            students = collect(args.folder, args.assignment, args.paths)
            print(f"{len(students)} submissions of {args.assignment} "
                  "filed: " + ", ".join(students))
        elif args.command == "grade":
            if args.unsafe_no_sandbox:
                print("grade.py grade: WARNING: --unsafe-no-sandbox runs "
                      "the students' code with your rights", file=sys.stderr)
            report = grade(args.folder, args.assignments or None,
                           jobs=args.jobs,
                           limits=sandbox.Limits(memory=args.memory,
                                                 cell_timeout=args.timeout),
                           unsafe_no_sandbox=args.unsafe_no_sandbox,
                           unsafe_no_screen=args.unsafe_no_screen)
            for name, r in report.items():
                print(f"{name}: {r['submissions']} submissions in "
                      f"{r['seconds']:.1f} s "
                      f"({r['seconds'] / r['submissions']:.1f} s each)")
                for student, sentences in sorted(r["problems"].items()):
                    print(f"  {student}: " + "; ".join(sentences))
                print(to_mark_line(r["to_mark"]))
            print(f"grades: {Path(args.folder) / 'grades.csv'}; feedback: "
                  f"{Path(args.folder) / 'feedback'}/<student>/")
            if any(r["to_mark"] for r in report.values()):
                print(MARKING_HINT)
        elif args.command == "export":
            waiting = to_mark_by_assignment(export(args.folder))
            for name, students in sorted(waiting.items()):
                print(f"{name}: {to_mark_line(students).strip()}")
            print(f"grades: {Path(args.folder) / 'grades.csv'}")
            if any(waiting.values()):
                print(MARKING_HINT)
    except (ValueError, RuntimeError) as error:
        print(f"grade.py {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
