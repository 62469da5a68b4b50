"""The grading round trip with the real nbgrader command line.

One module fixture builds a throw-away course from ``nbgrader_config.py``
and ``solutions/``, releases ``01-weight-decay``, hands in one notebook per
kind of student (each made by editing the release's cells with nbformat),
autogrades all of them in one call, generates the feedback and exports the
grades. The tests then read the scores back from the gradebook, per student
and per graded test cell, and search the feedback for hidden test code.
"""

from __future__ import annotations

import copy
import csv
import html
import importlib.util
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-weight-decay"
NOTEBOOK = "weight-decay"
TIMEOUT = 5  # seconds per cell while grading (the course default is 30)

_spec = importlib.util.spec_from_file_location(
    "exercises_tool", REPO / "tools" / "exercises.py")
exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exercises)

pytestmark = pytest.mark.slow

# Points of each graded test cell, by grade_id.
TASK1 = {"test_l2_penalty_visible": 2, "test_l2_penalty_hidden": 2}
TASK2 = {"test_sgd_step_visible": 3, "test_sgd_step_hidden": 3}
FULL = {**TASK1, **TASK2}
NONE = dict.fromkeys(FULL, 0)

# Wrong answers, as a student would type them into the solution cells.
NO_HALF = '''\
def l2_penalty(params):
    return sum((w * w).sum() for w in params)  # forgot the 1/2
'''
INFINITE_LOOP = '''\
def l2_penalty(params):
    while True:
        pass
'''
DELEGATES_L2 = '''\
import reglab


def l2_penalty(params):
    return reglab.l2_penalty(params)
'''
DELEGATES_SGD = '''\
def sgd_weight_decay_step(params, lr, weight_decay):
    torch.optim.SGD(list(params), lr=lr, weight_decay=weight_decay).step()
'''
# Pass every visible test, fail the hidden ones: the sum stays float32,
# and weight decay is added into .grad in place.
FLOAT32_SUM = '''\
def l2_penalty(params):
    total = torch.zeros(())
    for w in params:
        total += 0.5 * (w * w).sum()
    return total
'''
CHANGES_GRAD = '''\
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for theta in params:
            if theta.grad is not None:
                theta.grad.add_(theta, alpha=weight_decay)
                theta.sub_(lr * theta.grad)
'''

# student id -> (answers and replaced test cells by grade_id, scores).
STUDENTS = {
    "reference": ({}, FULL),
    "untouched": (None, NONE),
    "no-half": ({"l2_penalty": NO_HALF}, {**FULL, **dict.fromkeys(TASK1, 0)}),
    "infinite-loop": ({"l2_penalty": INFINITE_LOOP},
                      {**FULL, **dict.fromkeys(TASK1, 0)}),
    "delegates-l2": ({"l2_penalty": DELEGATES_L2},
                     {**FULL, **dict.fromkeys(TASK1, 0)}),
    "delegates-sgd": ({"sgd_weight_decay_step": DELEGATES_SGD},
                      {**FULL, **dict.fromkeys(TASK2, 0)}),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # must be put back, so Task 1 still scores 0.
    "edits-tests": ({"l2_penalty": NO_HALF,
                     "test_l2_penalty_visible": "pass",
                     "test_l2_penalty_hidden": "pass"},
                    {**FULL, **dict.fromkeys(TASK1, 0)}),
    "hidden-bugs": ({"l2_penalty": FLOAT32_SUM,
                     "sgd_weight_decay_step": CHANGES_GRAD},
                    {**FULL, "test_l2_penalty_hidden": 0,
                     "test_sgd_step_hidden": 0}),
}


def nbgrader(course: Path, *args: str) -> str:
    """Run the nbgrader CLI in ``course``; return its log, fail if it
    fails."""
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                         cwd=course, env=exercises.nbgrader_env(),
                         capture_output=True, text=True)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"nbgrader {args[0]} failed:\n{log}"
    return log


def strip_markers(source: str) -> str:
    """A solution cell as a student would write it: no nbgrader markers."""
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def submission(release, solution, replace):
    """The release with every solution cell answered like the reference,
    then the cells named in ``replace`` (grade_id -> source) replaced."""
    nb = copy.deepcopy(release)
    if replace is None:
        return nb  # handed in untouched
    reference = {cell.id: strip_markers(cell.source)
                 for cell in solution.cells
                 if cell.metadata.get("nbgrader", {}).get("solution")}
    answers = {**reference, **replace}
    for cell in nb.cells:
        if cell.id in answers:
            cell.source = answers.pop(cell.id)
    assert not answers, f"no cells with the ids {sorted(answers)}"
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A graded course: its root and the seconds of each nbgrader step."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions", root / "solutions",
                    ignore=shutil.ignore_patterns("*.ipynb", *exercises.JUNK))
    exercises.convert(root)
    nbgrader(root, "generate_assignment", ASSIGNMENT)
    release = nbformat.read(
        root / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    solution = nbformat.read(
        root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    for student, (replace, _) in STUDENTS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(submission(release, solution, replace),
                       folder / f"{NOTEBOOK}.ipynb")
    seconds = {}
    for step in (["autograde", ASSIGNMENT, f"--Execute.timeout={TIMEOUT}"],
                 ["generate_feedback", ASSIGNMENT],
                 ["export", "--to", "grades.csv"]):
        start = time.perf_counter()
        nbgrader(root, *step)
        seconds[step[0]] = time.perf_counter() - start
    return {"root": root, "seconds": seconds}


def scores(root: Path, student: str) -> tuple[float, dict[str, float]]:
    """The total and the per-cell scores of ``student`` in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return nb.score, {grade.name: grade.score for grade in nb.grades}


@pytest.mark.parametrize("student", list(STUDENTS))
def test_scores_per_student_and_cell(course, student):
    total, per_cell = scores(course["root"], student)
    expected = STUDENTS[student][1]
    assert per_cell == expected, (
        f"{student}: per-cell scores {per_cell}, expected {expected}")
    assert total == sum(expected.values())


def test_reference_scores_the_maximum(course):
    assert sum(FULL.values()) == 10
    assert scores(course["root"], "reference")[0] == 10


def test_infinite_loop_is_stopped_by_the_timeout(course):
    autograded = nbformat.read(
        course["root"] / "autograded" / "infinite-loop" / ASSIGNMENT
        / f"{NOTEBOOK}.ipynb", 4)
    errors = {cell.id: [out.ename for out in cell.outputs
                        if out.output_type == "error"]
              for cell in autograded.cells if cell.id in TASK1}
    assert all(errors.values()), errors
    assert all(names[-1] in ("KeyboardInterrupt", "CellTimeoutError")
               for names in errors.values()), errors


def test_autograde_time(course):
    # Budget per submission: one kernel start, torch import, the tests;
    # the infinite loop adds its timeouts (two Task-1 test cells).
    seconds = course["seconds"]
    budget = 10 * len(STUDENTS) + 2 * TIMEOUT
    print(", ".join(f"{step} {s:.1f} s" for step, s in seconds.items()),
          f"({len(STUDENTS)} submissions)")
    assert seconds["autograde"] < budget, (
        f"autograde took {seconds['autograde']:.1f} s for "
        f"{len(STUDENTS)} submissions")


def test_exported_grades(course):
    with open(course["root"] / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(STUDENTS)
    for student, (_, expected) in STUDENTS.items():
        assert float(rows[student]["score"]) == sum(expected.values())


def hidden_lines(solution_md: Path, release_text: str) -> set[str]:
    """Lines of the hidden tests that appear nowhere in the release."""
    inside, found = False, set()
    for line in solution_md.read_text("utf-8").splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "### END HIDDEN TESTS" in line:
            inside = False
        elif inside and len(line.strip()) >= 12:
            if line.strip() not in release_text:
                found.add(line.strip())
    return found


def page_text(path: Path) -> str:
    """The visible text of an HTML page (tags removed, entities decoded),
    so that syntax-highlighted code reads as plain source again."""
    raw = path.read_text("utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_feedback_hides_hidden_tests(course):
    root = course["root"]
    release = (root / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    secret = hidden_lines(
        REPO / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.md",
        "\n".join(cell.source for cell in nbformat.read(release, 4).cells))
    assert len(secret) > 20, "too few hidden lines to check"
    # The check can see code: the autograded notebooks hold every hidden
    # line, and the feedback shows the visible test code.
    graded = nbformat.read(root / "autograded" / "hidden-bugs" / ASSIGNMENT
                           / f"{NOTEBOOK}.ipynb", 4)
    graded_text = "\n".join(cell.source for cell in graded.cells)
    assert all(line in graded_text for line in secret)
    for student in STUDENTS:
        page = root / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
        assert page.is_file(), f"no feedback for {student}"
        text = page_text(page)
        assert 'with forbid("reglab.penalties.l2_penalty"):' in text
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"feedback of {student} shows: {leaked}"


def test_feedback_explains_hidden_failures(course):
    # A failing hidden test shows its one-sentence message, no code.
    page = (course["root"] / "feedback" / "hidden-bugs" / ASSIGNMENT
            / f"{NOTEBOOK}.html")
    text = page_text(page)
    assert "it should keep the dtype of its inputs" in text
    assert ".grad after the step" in text
    assert "Traceback" not in text
