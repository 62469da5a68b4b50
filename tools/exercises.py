"""Build the student exercises from the reviewable solution sources.

The instructor version of each assignment is a Jupytext MyST notebook,
``solutions/<assignment>/<notebook>.md``, carrying nbgrader cell metadata.
nbgrader reads only ``.ipynb``, so this tool

``convert``
    writes ``<notebook>.ipynb`` beside every ``solutions/*/*.md`` (git-ignored)
    with deterministic cell ids (the nbgrader ``grade_id``, else ``cell-<n>``)
    and a ``python3`` kernelspec, so that the output is byte-stable;
``generate``
    converts, then runs ``nbgrader generate_assignment <a> --force`` for every
    assignment, which rewrites ``exercises/<a>/`` (the committed release);
``check-fresh``
    generates into a temporary copy of the course and compares it byte for
    byte with ``exercises/``; exits 1 and lists the stale files if they
    differ;
``validate``
    runs the tests of one notebook like nbgrader's Validate button, prints
    each failing test's sentence first, and exits 1 when a test fails
    (``--invert``: when a test passes).

nbgrader runs with the course root as working directory, so that it reads
``nbgrader_config.py`` there, and with a throw-away gradebook in a temporary
folder, so that no ``gradebook.db`` is left in the course. Every subcommand
is also a function (``convert``, ``generate``, ``check_fresh``,
``validate``) for the tests.

Usage::

    python tools/exercises.py generate
    python tools/exercises.py check-fresh
    python tools/exercises.py validate exercises/ch05-weight-decay/*.ipynb
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIR = "solutions"
RELEASE_DIR = "exercises"
CONFIG_FILE = "nbgrader_config.py"
# Files that are never part of a course's content (nbgrader ignores them
# too, see CourseDirectory.ignore).
JUNK = (".ipynb_checkpoints", "__pycache__", "*.pyc")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python",
              "name": "python3"}
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3},
                 "file_extension": ".py", "mimetype": "text/x-python",
                 "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3"}


def nbgrader_env() -> dict[str, str]:
    """The environment for running nbgrader in a subprocess.

    nbgrader's gradebook runs the ``alembic`` command found on ``PATH``;
    putting this interpreter's ``bin`` folder first makes that work (and
    use the right version) even when the virtualenv is not activated.
    """
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return env


def sources(course: Path = REPO) -> list[Path]:
    """The MyST sources ``solutions/*/*.md`` of ``course``, sorted."""
    return sorted(Path(course, SOURCE_DIR).glob("*/*.md"))


def assignments(course: Path = REPO) -> list[str]:
    """The assignment names: folders of ``solutions/`` holding a source."""
    return sorted({path.parent.name for path in sources(course)})


def to_notebook(source: Path) -> nbformat.NotebookNode:
    """Read one MyST source into a notebook with deterministic cell ids.

    A cell's id is its nbgrader ``grade_id``; a cell without one gets
    ``cell-<n>`` (``n`` counts those cells from 1). Jupytext's own metadata
    is dropped, so the release carries no pairing information.

    Raises:
        ValueError: if two cells share a ``grade_id``.
    """
    nb = jupytext.read(source, fmt="md:myst")
    nb.nbformat, nb.nbformat_minor = 4, 5  # cell ids need nbformat 4.5
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC,
                                      "language_info": LANGUAGE_INFO})
    seen: set[str] = set()
    counter = 0
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            counter += 1
            cell_id = f"cell-{counter}"
        else:
            cell_id = grade_id
        if cell_id in seen:
            raise ValueError(f"{source}: two cells have the id {cell_id!r}; "
                             "every grade_id must be unique.")
        seen.add(cell_id)
        cell.id = cell_id
    nbformat.validate(nb)
    return nb


def convert(course: Path = REPO) -> list[Path]:
    """Write ``<notebook>.ipynb`` beside every source of ``course``.

    A notebook is rewritten only when its bytes change. Returns the paths
    of all the notebooks.
    """
    written = []
    for source in sources(course):
        target = source.with_suffix(".ipynb")
        text = nbformat.writes(to_notebook(source)) + "\n"
        if not target.exists() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
        written.append(target)
    return written


def generate(course: Path = REPO, names: list[str] | None = None,
             quiet: bool = True) -> list[Path]:
    """Convert, then regenerate ``exercises/<a>/`` for each assignment.

    Args:
        course: the course root (holding ``nbgrader_config.py``).
        names: the assignments to release (default: all of them).
        quiet: hide nbgrader's log unless it fails.

    Returns:
        The files of the regenerated release folders, sorted.

    Raises:
        RuntimeError: with nbgrader's log if ``generate_assignment`` fails.
    """
    course = Path(course).resolve()
    if not (course / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {course}")
    convert(course)
    names = assignments(course) if names is None else names
    with tempfile.TemporaryDirectory(prefix="gradebook-") as tmp:
        db_url = f"sqlite:///{Path(tmp, 'gradebook.db')}"
        for name in names:
            cmd = [sys.executable, "-m", "nbgrader", "generate_assignment",
                   name, "--force", f"--CourseDirectory.db_url={db_url}"]
            run = subprocess.run(cmd, cwd=course, env=nbgrader_env(),
                                 capture_output=quiet, text=True)
            if run.returncode != 0:
                log = (run.stdout or "") + (run.stderr or "")
                raise RuntimeError(
                    f"nbgrader generate_assignment {name} failed "
                    f"(exit {run.returncode}):\n{log}")
    return sorted(path for name in names
                  for path in Path(course, RELEASE_DIR, name).rglob("*")
                  if path.is_file())


def _files(root: Path) -> set[str]:
    """The content files below ``root`` as relative POSIX paths."""
    if not root.is_dir():
        return set()
    return {path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and not any(
                fnmatch.fnmatch(part, pattern) for pattern in JUNK
                for part in path.relative_to(root).parts)}


def check_fresh(course: Path = REPO) -> list[str]:
    """Compare ``exercises/`` with a release generated from scratch.

    The generation runs in a temporary copy of the course (its config and
    its sources, without the generated ``.ipynb``), so ``course`` is not
    touched.

    Returns:
        One line per stale file, e.g. ``exercises/a/n.ipynb (differs)``,
        ``... (missing)`` (not committed) or ``... (extra)`` (no longer
        generated); an empty list when ``exercises/`` is fresh.
    """
    course = Path(course).resolve()
    with tempfile.TemporaryDirectory(prefix="course-") as tmp:
        copy = Path(tmp)
        shutil.copy2(course / CONFIG_FILE, copy / CONFIG_FILE)
        shutil.copytree(course / SOURCE_DIR, copy / SOURCE_DIR,
                        ignore=shutil.ignore_patterns("*.ipynb", *JUNK))
        generate(copy)
        fresh, committed = copy / RELEASE_DIR, course / RELEASE_DIR
        new, old = _files(fresh), _files(committed)
        stale = [f"{rel} (missing)" for rel in sorted(new - old)]
        stale += [f"{rel} (extra)" for rel in sorted(old - new)]
        stale += [f"{rel} (differs)" for rel in sorted(new & old)
                  if not filecmp.cmp(fresh / rel, committed / rel,
                                     shallow=False)]
    return sorted(f"{RELEASE_DIR}/{line}" for line in stale)


def validate(notebook: Path, invert: bool = False,
             timeout: int | None = None) -> dict:
    """Run the tests of ``notebook`` like the Validate button.

    Uses :class:`reglab_jupyter.validate.ReadableValidator` (nbgrader's
    ``Validator``, reporting each failing test's sentence first) with the
    course's ``nbgrader_config.py`` (kernel options, timeout).

    Args:
        notebook: a student or solution ``.ipynb``.
        invert: report the test cells that *pass* instead of those that
            fail (used to prove that a released stub fails every test).
        timeout: overrides ``Execute.timeout`` (seconds per cell).

    Returns:
        nbgrader's result dict: empty if every test passes (with
        ``invert``: if every test fails); else a key ``failed``,
        ``passed``, ``changed`` or ``type_changed`` with one entry per
        cell (a failed one has the keys ``message``, whose first line is
        the sentence, and ``test``, the test's description).
    """
    from traitlets.config import Config, PyFileConfigLoader

    from reglab_jupyter.validate import ReadableValidator

    config = PyFileConfigLoader(CONFIG_FILE, path=str(REPO)).load_config()
    extra = Config()
    extra.Validator.invert = invert
    if timeout is not None:
        extra.Execute.timeout = timeout
    config.merge(extra)
    return ReadableValidator(config=config).validate(
        str(Path(notebook).resolve()))


def screen_notebook(notebook: Path) -> list[str]:
    """The grader's static screen applied to a student's notebook: one
    sentence per answer cell that grading would refuse to run."""
    sys.path.insert(0, str(REPO / "tools"))
    from grading import execute

    nb = nbformat.read(notebook, as_version=4)
    _, refused = execute.build(nb, nb)
    return refused


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="exercises.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("convert", help="solutions/*/*.md -> .ipynb beside them")
    gen = sub.add_parser("generate",
                         help="convert, then regenerate exercises/")
    gen.add_argument("names", nargs="*",
                     help="assignments to release (default: all)")
    gen.add_argument("-v", "--verbose", action="store_true",
                     help="show nbgrader's log")
    sub.add_parser("check-fresh",
                   help="exit 1 if exercises/ differs from a fresh generate")
    val = sub.add_parser("validate",
                         help="run a notebook's tests; exit 1 if one fails")
    val.add_argument("notebook", type=Path)
    val.add_argument("--invert", action="store_true",
                     help="exit 1 if a test passes (for released stubs)")
    args = parser.parse_args(argv)

    if args.command == "convert":
        for path in convert():
            print(f"wrote {path.relative_to(REPO)}")
    elif args.command == "generate":
        files = generate(names=args.names or None, quiet=not args.verbose)
        for path in files:
            print(f"released {path.relative_to(REPO)}")
    elif args.command == "check-fresh":
        stale = check_fresh()
        if stale:
            print("exercises/ is stale; run `python tools/exercises.py "
                  "generate` and commit the result:", file=sys.stderr)
            for line in stale:
                print(f"  {line}", file=sys.stderr)
            return 1
        print("exercises/ is up to date.")
    elif args.command == "validate":
        refused = [] if args.invert else screen_notebook(args.notebook)
        for sentence in refused:
            print(sentence)
        results = validate(args.notebook, invert=args.invert)
        for key, cells in results.items():
            print(f"{len(cells)} test cell(s) {key}:")
            for cell in cells:
                # the sentence first, then which test; further lines
                # (the student's code that raised) indented below
                if "message" in cell:
                    first, *more = cell["message"].splitlines() or [""]
                    print(f"  - {first}  [test: {cell['test']}]")
                    for line in more:
                        print(f"      {line}")
                else:
                    from reglab_jupyter.validate import describe

                    print(f"  - {describe(cell['source'])}")
        if results or refused:
            return 1
        print("Every test cell " + ("fails." if args.invert else "passes."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
