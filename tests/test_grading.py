"""The grading round trip with the real nbgrader command line.

One module fixture builds a throw-away course from ``nbgrader_config.py``
and ``solutions/``, releases every assignment described in
``tests/assignments/``, hands in one notebook per kind of student (each
made by editing the release's cells with nbformat), autogrades each
assignment in one call, generates the feedback and exports the grades.
The tests then read the scores back from the gradebook, per student and
per graded test cell, and search the feedback for hidden test code.
"""

from __future__ import annotations

import concurrent.futures
import copy
import csv
import html
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from tests.assignments import SPECS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 10  # seconds per cell while grading (the course default is 30)

_spec = importlib.util.spec_from_file_location(
    "exercises_tool", REPO / "tools" / "exercises.py")
exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exercises)
sys.path.insert(0, str(REPO / "tools"))
import grade as grade_tool  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    grade_tool.sandbox.bwrap_path() is None,
    reason="grading needs bubblewrap (apt-get install bubblewrap; .ci/run "
           "installs it)")]
BY_NAME = {spec.ASSIGNMENT: spec for spec in SPECS}
CASES = [(spec.ASSIGNMENT, student) for spec in SPECS
         for student in spec.STUDENTS]


def points(spec) -> dict[str, float]:
    """The points of each graded test cell, read from the source."""
    nb = exercises.to_notebook(
        REPO / "solutions" / spec.ASSIGNMENT / f"{spec.NOTEBOOK}.md")
    return {cell.id: cell.metadata["nbgrader"]["points"]
            for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def expected_scores(spec, student: str) -> dict[str, float]:
    zero = spec.STUDENTS[student][1]
    return {cell: 0 if cell in zero else pts
            for cell, pts in points(spec).items()}


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


def grade_class(spec, root: Path, downloads: Path) -> float:
    """Grade one assignment's simulated class with tools/grade.py in its
    own grading folder: set up, collect the notebooks (named
    ``<student>_<notebook>.ipynb``, as an LMS exports them), grade.
    Returns the autograde seconds."""
    a, name = spec.ASSIGNMENT, f"{spec.NOTEBOOK}.ipynb"
    assert grade_tool.setup(root, names=[a]) == [a]
    release = nbformat.read(root / "exercises" / a / name, 4)
    solution = nbformat.read(root / "solutions" / a / name, 4)
    downloads.mkdir(parents=True)
    for student, (replace, _) in spec.STUDENTS.items():
        nbformat.write(submission(release, solution, replace),
                       downloads / f"{student}_{name}")
    assert grade_tool.collect(root, a, [downloads]) == sorted(spec.STUDENTS)
    return grade_tool.grade(root, [a], timeout=TIMEOUT, jobs=1)[a]["seconds"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every assignment graded in its own grading folder, two at a time
    (one sandboxed kernel per core: grading is kernel start-up and
    single-threaded tests).
    Returns the folders and the autograde seconds per assignment."""
    base = tmp_path_factory.mktemp("grading")
    roots = {spec.ASSIGNMENT: base / spec.ASSIGNMENT for spec in SPECS}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        seconds = dict(zip(roots, pool.map(
            lambda spec: grade_class(spec, roots[spec.ASSIGNMENT],
                                     base / "downloads" / spec.ASSIGNMENT),
            SPECS)))
    return {"roots": roots, "seconds": seconds}


def scores(roots: dict, spec, student: str) -> tuple[float, dict[str, float]]:
    """The total and the per-cell scores of ``student`` in the gradebook."""
    from nbgrader.api import Gradebook

    root = roots[spec.ASSIGNMENT]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(spec.NOTEBOOK, spec.ASSIGNMENT,
                                         student)
        return nb.score, {grade.name: grade.score for grade in nb.grades}


@pytest.mark.parametrize("case", CASES, ids="{0[0]}:{0[1]}".format)
def test_scores_per_student_and_cell(course, case):
    spec = BY_NAME[case[0]]
    total, per_cell = scores(course["roots"], spec, case[1])
    expected = expected_scores(spec, case[1])
    assert per_cell == expected, (
        f"{case}: per-cell scores {per_cell}, expected {expected}")
    assert total == sum(expected.values())


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_reference_scores_the_maximum(course, spec):
    assert sum(points(spec).values()) == 10
    assert scores(course["roots"], spec, "reference")[0] == 10


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_infinite_loop_is_stopped_by_the_timeout(course, spec):
    autograded = nbformat.read(
        course["roots"][spec.ASSIGNMENT] / "autograded" / "infinite-loop"
        / spec.ASSIGNMENT
        / f"{spec.NOTEBOOK}.ipynb", 4)
    zero = spec.STUDENTS["infinite-loop"][1]
    errors = {cell.id: [out.ename for out in cell.outputs
                        if out.output_type == "error"]
              for cell in autograded.cells if cell.id in zero}
    assert errors and all(errors.values()), errors
    assert any(names[-1] in ("KeyboardInterrupt", "CellTimeoutError")
               for names in errors.values()), errors


def test_exported_grades(course):
    rows = {}
    for root in course["roots"].values():
        with open(root / "grades.csv", newline="") as f:
            rows.update({(row["assignment"], row["student_id"]): row
                         for row in csv.DictReader(f)})
    assert len(rows) == len(CASES)
    for a, student in CASES:
        expected = expected_scores(BY_NAME[a], student)
        assert float(rows[a, student]["score"]) == sum(expected.values())


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


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_feedback_hides_hidden_tests(course, spec):
    a, name = spec.ASSIGNMENT, spec.NOTEBOOK
    root = course["roots"][a]
    release = root / "exercises" / a / f"{name}.ipynb"
    secret = hidden_lines(
        REPO / "solutions" / a / f"{name}.md",
        "\n".join(cell.source for cell in nbformat.read(release, 4).cells))
    assert len(secret) > 5, "too few hidden lines to check"
    # The check can see code: the autograded notebooks hold every hidden
    # line, and the feedback shows the visible test code.
    graded = nbformat.read(root / "autograded" / "reference" / a
                           / f"{name}.ipynb", 4)
    graded_text = "\n".join(cell.source for cell in graded.cells)
    assert all(line in graded_text for line in secret)
    for student in spec.STUDENTS:
        page = root / "feedback" / student / a / f"{name}.html"
        assert page.is_file(), f"no feedback for {student}"
        text = page_text(page)
        assert spec.FEEDBACK_CODE in text
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"feedback of {student} shows: {leaked}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_feedback_explains_hidden_failures(course, spec):
    """A failing hidden test shows its one-sentence message, no code."""
    assert spec.FEEDBACK_MESSAGES, "no feedback message to check"
    for student, sentences in spec.FEEDBACK_MESSAGES.items():
        page = (course["roots"][spec.ASSIGNMENT] / "feedback" / student
                / spec.ASSIGNMENT
                / f"{spec.NOTEBOOK}.html")
        text = page_text(page)
        for sentence in sentences:
            assert sentence in text, f"{student}: {sentence!r} not shown"
        assert "Traceback" not in text



@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_failed_tests_start_with_their_sentence(course, spec):
    """Every failed test cell's feedback starts with its error, whose first
    line is a sentence (no traceback, no colour codes, no test code)."""
    a, name = spec.ASSIGNMENT, spec.NOTEBOOK
    tests = set(points(spec))
    first_lines: dict[str, list[str]] = {}
    for student in spec.STUDENTS:
        graded = nbformat.read(course["roots"][a] / "autograded" / student
                               / a / f"{name}.ipynb", 4)
        for cell in graded.cells:
            if cell.id not in tests or not any(
                    o.output_type == "error" for o in cell.outputs):
                continue
            out = cell.outputs[0]
            assert out.output_type == "error", (student, cell.id)
            first = "\n".join(out.traceback).splitlines()[0]
            assert first.strip() and "\x1b" not in first, (student, first)
            assert not first.startswith(("-", "Traceback", "Cell In")), (
                student, cell.id, first)
            first_lines.setdefault(student, []).append(first)
    for student, sentences in getattr(spec, "FEEDBACK_FIRST_LINES",
                                      {}).items():
        for sentence in sentences:
            assert sentence in first_lines.get(student, []), (
                student, first_lines.get(student))
        page = page_text(course["roots"][a] / "feedback" / student / a
                         / f"{name}.html")
        for sentence in sentences:
            assert sentence in page, (student, sentence)
