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
    autogrades every submission of each assignment (default: all that have
    submissions), writes the feedback HTML and exports ``grades.csv``;
    prints the seconds per submission.

Usage::

    python tools/grade.py setup ~/grading
    python tools/grade.py collect ~/grading ch06-dropout ~/Downloads/ch06/
    python tools/grade.py grade ~/grading
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exercises  # noqa: E402  (tools/exercises.py)

REPO = exercises.REPO
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")


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
    shutil.copy2(course / exercises.CONFIG_FILE, folder)
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


def grade(folder: Path, names: list[str] | None = None,
          timeout: int | None = None) -> dict[str, dict]:
    """Autograde, write feedback and export ``grades.csv``.

    Returns:
        assignment -> {"submissions": n, "seconds": autograde seconds}.
    """
    folder = Path(folder).expanduser().resolve()
    submitted = folder / "submitted"
    if names is None:
        names = sorted({p.parent.name
                        for p in submitted.glob("*/*/*.ipynb")})
    report = {}
    for name in names:
        n = len(list(submitted.glob(f"*/{name}/*.ipynb")))
        if n == 0:
            raise ValueError(f"assignment={name!r}: no submissions in "
                             f"{submitted}/<student>/{name}/")
        extra = [] if timeout is None else [f"--Execute.timeout={timeout}"]
        start = time.perf_counter()
        nbgrader(folder, "autograde", name, *extra)
        seconds = time.perf_counter() - start
        nbgrader(folder, "generate_feedback", name)
        report[name] = {"submissions": n, "seconds": seconds}
    nbgrader(folder, "export", "--to", "grades.csv")
    return report


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
    p = sub.add_parser("grade", help="autograde, feedback, grades.csv")
    p.add_argument("folder", type=Path)
    p.add_argument("assignments", nargs="*")
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
            report = grade(args.folder, args.assignments or None)
            for name, r in report.items():
                print(f"{name}: {r['submissions']} submissions in "
                      f"{r['seconds']:.1f} s "
                      f"({r['seconds'] / r['submissions']:.1f} s each)")
            print(f"grades: {Path(args.folder) / 'grades.csv'}; feedback: "
                  f"{Path(args.folder) / 'feedback'}/<student>/")
    except (ValueError, RuntimeError) as error:
        print(f"grade.py {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
