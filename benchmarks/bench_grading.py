"""Autograding throughput: a simulated class, every assignment.

Sets up a grading folder with ``tools/grade.py``, hands in the reference
solution for ``--students`` students in every assignment (half of them
with the first task left unanswered, so that failing tests are timed too),
grades the class and prints the seconds per submission for each
assignment and the total. Not a test: the numbers go into the README.
``--unsafe-no-sandbox`` grades the same class without the sandbox, to
measure what the sandbox costs; ``--jobs 1`` grades one submission at a
time.

    python benchmarks/bench_grading.py --students 30
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import grade  # noqa: E402


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "BEGIN SOLUTION" not in line
                     and "END SOLUTION" not in line)


def answered(release, solution, skip_first: bool):
    """The release with the reference answers filled in (the first
    solution cell left as released when ``skip_first``)."""
    nb = copy.deepcopy(release)
    answers = [c for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")]
    by_id = {c.id: strip_markers(c.source) for c in answers}
    if skip_first and answers:
        by_id.pop(answers[0].id)
    for cell in nb.cells:
        if cell.id in by_id:
            cell.source = by_id[cell.id]
    return nb


def compare(folder: Path, names: list[str], args) -> int:
    """Alternate sandboxed and unsandboxed grading of the same class (so
    that a change in the machine's load hits both alike); print the
    seconds per submission of each run and the median ratio."""
    import statistics

    times: dict[bool, list[float]] = {True: [], False: []}
    for rep in range(args.compare_sandbox):
        for sandboxed in ((True, False) if rep % 2 == 0 else (False, True)):
            start = time.perf_counter()
            report = grade.grade(folder, names, jobs=args.jobs,
                                 unsafe_no_sandbox=not sandboxed)
            n = sum(r["submissions"] for r in report.values())
            seconds = (time.perf_counter() - start) / n
            times[sandboxed].append(seconds)
            print(f"run {rep + 1}, {'sandbox' if sandboxed else 'no sandbox'}"
                  f": {seconds:.2f} s per submission ({n} submissions)")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    print(f"\nsandbox / no sandbox, median s per submission: "
          f"{statistics.median(times[True]):.2f} / "
          f"{statistics.median(times[False]):.2f} = {ratio:.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--assignments", nargs="*")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions run at once (default: one per "
                             "core)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run without the sandbox, to measure its cost")
    parser.add_argument("--compare-sandbox", type=int, default=0,
                        metavar="REPS",
                        help="grade the same class REPS times with and "
                             "REPS times without the sandbox, alternating, "
                             "and print the ratio of the times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        folder, downloads = Path(tmp, "grading"), Path(tmp, "downloads")
        start = time.perf_counter()
        names = grade.setup(folder)
        if args.assignments:
            names = [n for n in names if n in args.assignments]
        print(f"setup: {time.perf_counter() - start:.1f} s "
              f"({len(names)} assignments)")
        for name in names:
            nb_name = grade.notebook_name(folder, name)
            release = nbformat.read(folder / "exercises" / name / nb_name, 4)
            solution = nbformat.read(folder / "solutions" / name / nb_name,
                                     4)
            (downloads / name).mkdir(parents=True)
            for i in range(args.students):
                nbformat.write(answered(release, solution, i % 2 == 1),
                               downloads / name / f"s{i:03d}_{nb_name}")
            grade.collect(folder, name, [downloads / name])
        if args.compare_sandbox:
            return compare(folder, names, args)
        start = time.perf_counter()
        report = grade.grade(folder, names, jobs=args.jobs,
                             unsafe_no_sandbox=args.unsafe_no_sandbox)
        total = time.perf_counter() - start
    print(f"\n{'assignment':24s}{'submissions':>12s}{'autograde s':>13s}"
          f"{'s / submission':>16s}")
    for name, r in report.items():
        print(f"{name:24s}{r['submissions']:>12d}{r['seconds']:>13.1f}"
              f"{r['seconds'] / r['submissions']:>16.2f}")
    n = sum(r["submissions"] for r in report.values())
    print(f"\nwhole class: {n} submissions graded (with feedback and "
          f"export) in {total:.0f} s = {total / 60:.1f} min, "
          f"{total / n:.2f} s per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
