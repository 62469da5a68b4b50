"""The grading round trip with the real nbgrader command line.

One module fixture builds a throw-away course from ``nbgrader_config.py``
and ``solutions/``, releases every assignment described in
``tests/assignments/``, hands in one notebook per kind of student (each
made by editing the release's cells with nbformat), autogrades each
assignment in one call, generates the feedback and exports the grades.
The tests then read the scores back from the gradebook, per student and
per graded test cell, and search the feedback for hidden test code. The
written answers (markdown cells marked by hand) are left for the
formgrader: a copy of a gradebook is marked through nbgrader's API, as the
formgrader marks it, and exported again.
"""

from __future__ import annotations

import concurrent.futures
import copy
import csv
import html
import importlib.util
import re
import shutil
import subprocess
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


def graded_points(spec, code: bool) -> dict[str, float]:
    """The points of each graded code cell (test), or of each graded
    markdown cell (written answer), read from the source."""
    nb = exercises.to_notebook(
        REPO / "solutions" / spec.ASSIGNMENT / f"{spec.NOTEBOOK}.md")
    return {cell.id: cell.metadata["nbgrader"]["points"]
            for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade")
            and (cell.cell_type == "code") == code}


def points(spec) -> dict[str, float]:
    """The points of each autograded test cell."""
    return graded_points(spec, code=True)


def written_points(spec) -> dict[str, float]:
    """The points of each written answer (marked by hand)."""
    return graded_points(spec, code=False)


def expected_scores(spec, student: str) -> dict[str, float]:
    """Per graded cell, the score after autograding: a written answer
    scores 0 until it is marked (untouched, nbgrader gives it 0)."""
    zero = spec.STUDENTS[student][1]
    return {**{cell: 0 if cell in zero else pts
               for cell, pts in points(spec).items()},
            **dict.fromkeys(written_points(spec), 0)}


def answered_written(spec, student: str) -> bool:
    """Did ``student`` write the written answers (every simulated student
    but the untouched one hands in the model answers)?"""
    return spec.STUDENTS[student][0] is not None


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


def grade_class(spec, root: Path, downloads: Path) -> dict:
    """Grade one assignment's simulated class with tools/grade.py in its
    own grading folder: set up, collect the notebooks (named
    ``<student>_<notebook>.ipynb``, as an LMS exports them), grade.
    Returns the assignment's report (seconds, problems, to_mark)."""
    a, name = spec.ASSIGNMENT, f"{spec.NOTEBOOK}.ipynb"
    assert grade_tool.setup(root, names=[a]) == [a]
    release = nbformat.read(root / "exercises" / a / name, 4)
    solution = nbformat.read(root / "solutions" / a / name, 4)
    downloads.mkdir(parents=True)
    for student, (replace, _) in spec.STUDENTS.items():
        nbformat.write(submission(release, solution, replace),
                       downloads / f"{student}_{name}")
    assert grade_tool.collect(root, a, [downloads]) == sorted(spec.STUDENTS)
    return grade_tool.grade(root, [a], timeout=TIMEOUT, jobs=1)[a]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Every assignment graded in its own grading folder, two at a time
    (one sandboxed kernel per core: grading is kernel start-up and
    single-threaded tests).
    Returns the folders, the autograde seconds and the reports per
    assignment."""
    base = tmp_path_factory.mktemp("grading")
    roots = {spec.ASSIGNMENT: base / spec.ASSIGNMENT for spec in SPECS}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        reports = dict(zip(roots, pool.map(
            lambda spec: grade_class(spec, roots[spec.ASSIGNMENT],
                                     base / "downloads" / spec.ASSIGNMENT),
            SPECS)))
    return {"roots": roots, "reports": reports,
            "seconds": {a: r["seconds"] for a, r in reports.items()}}


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
    """All the autograded points; the written ones wait for a grader."""
    assert sum(points(spec).values()) == 10
    assert scores(course["roots"], spec, "reference")[0] == 10


def written_grades(roots: dict, spec, student: str) -> dict:
    """The gradebook's grade of each written answer of ``student``:
    grade_id -> (auto_score, manual_score, needs_manual_grade, max_score,
    auto_comment)."""
    from nbgrader.api import Gradebook

    root = roots[spec.ASSIGNMENT]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(spec.NOTEBOOK, spec.ASSIGNMENT,
                                         student)
        comments = {c.name: c.auto_comment for c in nb.comments}
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade,
                         g.max_score, comments.get(g.name))
                for g in nb.grades if g.name in written_points(spec)}


@pytest.mark.parametrize("case", CASES, ids="{0[0]}:{0[1]}".format)
def test_written_answers_wait_for_the_formgrader(course, case):
    """Autograding leaves a written answer for manual grading (no
    automatic score, needs_manual_grade), with its points in the maximum;
    an answer handed in unchanged (YOUR ANSWER HERE) is scored 0 by
    nbgrader, commented "No response." and needs no grader. The
    autograded notebook keeps the student's answer for the formgrader."""
    spec = BY_NAME[case[0]]
    student = case[1]
    written = written_points(spec)
    assert written and set(written) == set(spec.WRITTEN)
    grades = written_grades(course["roots"], spec, student)
    assert set(grades) == set(written)
    for name, (auto, manual, needs, max_score, comment) in grades.items():
        assert max_score == written[name] and manual is None
        if answered_written(spec, student):
            assert (auto, needs, comment) == (None, True, None), (name,)
        else:
            assert (auto, needs, comment) == (0, False, "No response."), (
                name, auto, needs, comment)
    root = course["roots"][spec.ASSIGNMENT]
    autograded = nbformat.read(root / "autograded" / student
                               / spec.ASSIGNMENT / f"{spec.NOTEBOOK}.ipynb",
                               4)
    submitted = nbformat.read(root / "submitted" / student / spec.ASSIGNMENT
                              / f"{spec.NOTEBOOK}.ipynb", 4)
    for name in written:
        assert [c.source for c in autograded.cells if c.id == name] == [
            c.source for c in submitted.cells if c.id == name]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(spec.NOTEBOOK, spec.ASSIGNMENT,
                                         student)
        assert nb.max_score == sum(points(spec).values()) + sum(
            written.values())
        assert nb.needs_manual_grade == answered_written(spec, student)


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
        spec = BY_NAME[a]
        expected = expected_scores(spec, student)
        row = rows[a, student]
        assert float(row["score"]) == sum(expected.values())
        assert float(row["max_score"]) == sum(points(spec).values()) + sum(
            written_points(spec).values())
        # the written answers still to mark (none for the untouched one)
        to_mark = len(written_points(spec)) if answered_written(
            spec, student) else 0
        assert int(row["to_mark"]) == to_mark, (a, student, row)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_grade_reports_the_answers_to_mark(course, spec):
    """grade.py grade counts, per submission, the answers left to mark."""
    expected = {student: len(spec.WRITTEN) for student in spec.STUDENTS
                if answered_written(spec, student)}
    assert course["reports"][spec.ASSIGNMENT]["to_mark"] == expected
    assert grade_tool.to_mark_line(expected) == (
        f"  {sum(expected.values())} written answer(s) of {len(expected)} "
        "submission(s) to mark by hand")


def mark(root: Path, spec, marks: dict[str, float]) -> None:
    """Give each student's written answers ``marks[student]`` of their
    points, as the formgrader's Manual Grading does (nbgrader's API: set
    ``manual_score``, then ``needs_manual_grade`` follows)."""
    from nbgrader.api import Gradebook

    written = written_points(spec)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, share in marks.items():
            nb = gb.find_submission_notebook(spec.NOTEBOOK, spec.ASSIGNMENT,
                                             student)
            for grade in nb.grades:
                if grade.name in written:
                    grade.manual_score = share * written[grade.name]
                    # what formgrader's GradeHandler.put does
                    grade.needs_manual_grade = (grade.manual_score is None
                                                and grade.auto_score is None)
        gb.db.commit()


def marks_for(spec) -> dict[str, float]:
    """The share of the written points each answering student gets: all
    for the reference, half for the others."""
    return {student: 1.0 if student == "reference" else 0.5
            for student in spec.STUDENTS if answered_written(spec, student)}


def marked_copy(course, spec, target: Path) -> Path:
    """A copy of the grading folder's configuration and gradebook, marked
    by :func:`mark` with :func:`marks_for`."""
    root = course["roots"][spec.ASSIGNMENT]
    target.mkdir()
    for name in ("nbgrader_config.py", "gradebook.db"):
        shutil.copy2(root / name, target / name)
    mark(target, spec, marks_for(spec))
    return target


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_marked_answers_enter_grades_csv(course, spec, tmp_path, capsys):
    """After marking in the formgrader, `grade.py export` (make export)
    writes grades.csv with the manual points in the score and nothing left
    to mark; its summary says so."""
    root = marked_copy(course, spec, tmp_path / "grading")
    written = sum(written_points(spec).values())
    shares = marks_for(spec)
    rows = {row["student_id"]: row for row in grade_tool.export(root)
            if row["assignment"] == spec.ASSIGNMENT}
    assert set(rows) == set(spec.STUDENTS)
    for student, row in rows.items():
        autograded = sum(expected_scores(spec, student).values())
        assert float(row["score"]) == autograded + shares.get(student, 0) \
            * written, (student, row)
        assert float(row["max_score"]) == 10 + written
        assert int(row["to_mark"]) == 0, (student, row)
    assert float(rows["reference"]["score"]) == 10 + written
    assert grade_tool.main(["export", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"{spec.ASSIGNMENT}: nothing left to mark by hand" in out, out
    assert "make formgrader" not in out


def test_regrading_keeps_the_marks(course, tmp_path):
    """Autograding again after marking (make grade, or the formgrader's
    Autograde button) keeps the manual scores: nbgrader flags them for
    review again (needs_manual_grade), grades.csv still counts them and
    to_mark stays 0. One assignment is enough."""
    spec = SPECS[0]
    root = tmp_path / "grading"
    shutil.copytree(course["roots"][spec.ASSIGNMENT], root)
    mark(root, spec, marks_for(spec))
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", spec.ASSIGNMENT,
         "--force"], cwd=root, env=exercises.nbgrader_env(),
        capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {row["student_id"]: row for row in grade_tool.export(root)}
    written = sum(written_points(spec).values())
    for student, share in marks_for(spec).items():
        autograded = sum(expected_scores(spec, student).values())
        assert float(rows[student]["score"]) == autograded + share * written
        assert int(rows[student]["to_mark"]) == 0
        grades = written_grades({spec.ASSIGNMENT: root}, spec, student)
        for auto, manual, needs, _, _ in grades.values():
            assert auto is None and manual is not None and needs


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
