"""The exercises: sources, the committed release, and the tests they hold.

Fast tests read the MyST sources and ``exercises/`` and run the notebook's
test cells in this process against wrong answers ("mutants"); the slow ones
run nbgrader (a fresh ``generate_assignment``, ``Validator`` kernels).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import torch

import reglab.testing
from reglab_jupyter.validate import describe
from tests.assignments import REQUIRED_STUDENTS, SPECS

REPO = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location(
    "exercises_tool", REPO / "tools" / "exercises.py")
exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exercises)

SOURCES = exercises.sources()
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS",
           "END HIDDEN TESTS")
# The headings of a written answer's instructor version (model answer and
# marking scheme, in both languages): never in the release.
WRITTEN_HEADINGS = ("**Model answer.**", "**参考答案。**",
                    "**Marking scheme", "**评分标准")


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_cells(nb) -> list:
    return [cell for cell in nb.cells if nbgrader_meta(cell).get("grade")]


def autograded_cells(nb) -> list:
    """The autograded test cells (graded code cells)."""
    return [cell for cell in grade_cells(nb) if cell.cell_type == "code"]


def written_cells(nb) -> list:
    """The written answers: graded markdown answer cells, marked by hand."""
    return [cell for cell in grade_cells(nb) if cell.cell_type != "code"]


def between(source: str, begin: str, end: str) -> list[str]:
    """The lines strictly between the ``begin`` and ``end`` markers."""
    inside, lines = False, []
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def outside(source: str) -> list[str]:
    """The lines of a cell outside its solution and hidden-test regions
    (and not the markers): what generate_assignment releases of it."""
    inside, lines = False, []
    for line in source.splitlines():
        if any(m in line for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")):
            inside = True
        elif any(m in line for m in ("END SOLUTION", "END HIDDEN TESTS")):
            inside = False
        elif not inside:
            lines.append(line)
    return lines


def release_of(source: Path) -> Path:
    return REPO / "exercises" / source.parent.name / (source.stem + ".ipynb")


# --- the sources ------------------------------------------------------------

def source_of(spec) -> Path:
    return REPO / "solutions" / spec.ASSIGNMENT / f"{spec.NOTEBOOK}.md"


def spec_id(spec) -> str:
    return spec.ASSIGNMENT


@pytest.mark.skipif(bool(os.environ.get("REGLAB_ASSIGNMENTS")),
                    reason="REGLAB_ASSIGNMENTS selects some assignments")
def test_every_source_has_a_spec():
    """Each assignment has its round-trip description in tests/assignments,
    and the assignments are numbered 1-11, one each."""
    assert sorted(map(source_of, SPECS)) == SOURCES
    chapters = sorted(int(re.match(r"ch(\d+)-", s.ASSIGNMENT).group(1))
                      for s in SPECS)
    assert chapters == list(range(1, 12)), chapters


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_spec_is_complete(spec):
    nb = exercises.to_notebook(source_of(spec))
    graded = {c.id for c in autograded_cells(nb)}
    written = tuple(c.id for c in written_cells(nb))
    assert written == spec.WRITTEN, "WRITTEN must list the written answers"
    assert {c.id for c in grade_cells(nb)} == graded | set(written)
    assert set(spec.SOLUTIONS) == set(spec.TESTS)
    assert {c for cells in spec.TESTS.values() for c in cells} == graded
    assert spec.HIDDEN <= graded
    for cell in nb.cells:
        hidden = "BEGIN HIDDEN TESTS" in cell.source
        assert hidden == (cell.id in spec.HIDDEN), cell.id
    assert set(REQUIRED_STUDENTS) <= set(spec.STUDENTS)
    assert spec.STUDENTS["untouched"] == (None, graded)
    assert spec.STUDENTS["reference"] == ({}, set())
    wrong = spec.STUDENTS["wrong"][1]
    assert wrong and wrong < graded, "'wrong' must earn partial marks"
    assert "while True" in "".join(spec.STUDENTS["infinite-loop"][0].values())
    edits = spec.STUDENTS["edits-tests"][0]
    assert set(edits) & graded, "'edits-tests' must replace a test cell"
    assert any(d for _, _, d in spec.MUTANTS.values()), "no delegating mutant"
    diagnosed = spec.DIAGNOSES
    assert set(diagnosed) <= set(spec.MUTANTS)
    assert not any(spec.MUTANTS[m][2] for m in diagnosed), (
        "a delegating answer gets the delegation sentence, no diagnosis")
    sentences = {f for v in diagnosed.values() for f in fragments(v)}
    assert len(sentences) >= 3, f"only {len(sentences)} diagnoses"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_graded_cells_are_described(spec):
    """Each test cell opens with a sentence and its points; 10 in all."""
    source = source_of(spec)
    nb = exercises.to_notebook(source)
    cells = autograded_cells(nb)
    assert cells, "no graded test cells"
    for cell in cells:
        meta = nbgrader_meta(cell)
        first, second = cell.source.splitlines()[:2]
        assert re.fullmatch(r"# Checks .+\.", first), (
            f"{cell.id}: the first line should be a '# Checks ...' "
            f"sentence, not {first!r}")
        assert second == f"# Points: {meta['points']}", (
            f"{cell.id}: the second line should be "
            f"'# Points: {meta['points']}', not {second!r}")
        assert meta["locked"] and not meta["solution"]
    assert sum(nbgrader_meta(c)["points"] for c in cells) == 10
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution")
                 and c.cell_type == "code"]
    assert tuple(c.id for c in solutions) == spec.SOLUTIONS


def scheme_points(source: str, pattern: str) -> list[float]:
    """The points of each criterion of a marking scheme (list items)."""
    return [float(p) for p in re.findall(pattern, source, re.M)]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_written_questions_are_described(spec):
    """Each written answer is a manually graded answer cell after its
    locked question, whose heading states its points in both languages;
    the instructor version holds a model answer and a marking scheme in
    both languages whose criteria add up to those points; the intro
    states the total (the tests' 10 points plus the written ones)."""
    nb = exercises.to_notebook(source_of(spec))
    cells = written_cells(nb)
    assert cells, "no written question"
    written = 0.0
    for cell in cells:
        meta = nbgrader_meta(cell)
        assert cell.cell_type == "markdown"
        assert meta["solution"] and meta["grade"], cell.id
        assert not meta["locked"] and not meta.get("task"), cell.id
        points = float(meta["points"])
        assert points > 0, cell.id
        written += points
        question = nb.cells[nb.cells.index(cell) - 1]
        qmeta = nbgrader_meta(question)
        assert question.cell_type == "markdown" and qmeta["locked"]
        assert not qmeta["grade"] and not qmeta["solution"]
        assert question.id == f"{cell.id}_text"
        heading = question.source.splitlines()[0]
        match = re.fullmatch(r"## Written question · .+ \((\S+) points?\) / "
                             r"书面问题 · .+（(\S+) 分）", heading)
        assert match, f"{question.id}: heading {heading!r}"
        assert [float(g) for g in match.groups()] == [points, points], (
            f"{question.id}: the heading states {match.groups()} points, "
            f"the answer cell has {points}")
        for text in WRITTEN_HEADINGS:
            assert text in cell.source, f"{cell.id}: no {text!r}"
        english = scheme_points(cell.source, r"^- (\S+) points?: ")
        chinese = scheme_points(cell.source, r"^- (\S+) 分：")
        assert english and len(english) == len(chinese), cell.id
        assert sum(english) == sum(chinese) == points, (
            f"{cell.id}: the marking scheme gives {english} / {chinese} "
            f"points, the cell {points}")
        assert f"**Marking scheme ({points:g} point" in cell.source
        assert f"**评分标准（{points:g} 分）。**" in cell.source
    intro = nb.cells[0].source
    total = 10 + written
    assert f"marked by hand ({written:g} point" in intro
    assert f"{total:g} points in all" in intro
    assert f"最后的书面问题由教师人工评分（{written:g} 分），共 {total:g} 分" \
        in intro


def test_convert_is_byte_stable(tmp_path):
    """Cell ids come from grade_id (else a counter), not from chance."""
    source = tmp_path / "a" / "n.md"
    source.parent.mkdir()
    shutil.copy(SOURCES[0], source)
    with source.open("a", encoding="utf-8") as f:
        f.write("\n+++\n\nA note.\n\n```{code-cell} ipython3\n1 + 1\n```\n")
    first = nbformat.writes(exercises.to_notebook(source))
    second = nbformat.writes(exercises.to_notebook(source))
    assert first == second
    nb = nbformat.reads(first, 4)
    ids = [cell.id for cell in nb.cells]
    assert ids[-2:] == ["cell-1", "cell-2"]
    assert all(cell.id == nbgrader_meta(cell)["grade_id"]
               for cell in nb.cells[:-2])
    assert nb.metadata.kernelspec.name == "python3"
    assert "jupytext" not in nb.metadata


def test_convert_rejects_duplicate_grade_ids(tmp_path):
    source = tmp_path / "n.md"
    text = SOURCES[0].read_text("utf-8")
    source.write_text(text.replace("grade_id: setup", "grade_id: intro"),
                      "utf-8")
    with pytest.raises(ValueError, match="'intro'"):
        exercises.to_notebook(source)


# --- the committed release --------------------------------------------------

def test_release_lists_the_same_assignments():
    released = sorted(p.relative_to(REPO / "exercises").as_posix()
                      for p in (REPO / "exercises").glob("*/*.ipynb"))
    expected = sorted(f"{s.parent.name}/{s.stem}.ipynb" for s in SOURCES)
    assert released == expected


def test_release_holds_no_solution_or_hidden_test():
    files = [p for p in (REPO / "exercises").rglob("*") if p.is_file()]
    assert files, "exercises/ is empty: run tools/exercises.py generate"
    assert not [p for p in files if p.suffix == ".md"], "MyST sources shipped"
    secret, public = set(), []
    for source in SOURCES:
        for cell in exercises.to_notebook(source).cells:
            hidden = (between(cell.source, "BEGIN SOLUTION", "END SOLUTION")
                      + between(cell.source, "BEGIN HIDDEN TESTS",
                                "END HIDDEN TESTS"))
            if nbgrader_meta(cell).get("solution") and \
                    cell.cell_type == "markdown":  # a model answer, whole,
                hidden = cell.source.splitlines()  # and sentence by sentence
                hidden += re.split(r"(?<=[.;:。；：])\s*", cell.source)
            secret.update(hidden)
            # the rest of the instructor's cell is released as it is
            if not hidden or cell.cell_type == "code":
                public += outside(cell.source)
    # Lines that also occur in the released text (visible test code) are
    # not secret.
    public = "\n".join(public)
    secret = {line.strip() for line in secret if len(line.strip()) >= 12}
    assert len(secret) > 20
    for path in files:
        text = path.read_text("utf-8")
        if path.suffix == ".ipynb":  # the cells' text, unescaped, too
            text += "\n".join(cell.source
                               for cell in nbformat.read(path, 4).cells)
        for marker in MARKERS + WRITTEN_HEADINGS:
            assert marker not in text, f"{path.name} contains {marker!r}"
        leaked = sorted(line for line in secret
                        if line in text and line not in public)
        assert not leaked, f"{path.name} contains {leaked}"
    for path in files:
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, 4)
            for cell in nb.cells:
                if not nbgrader_meta(cell).get("solution"):
                    continue
                if cell.cell_type == "code":
                    assert cell.source.endswith(
                        "# YOUR CODE HERE\n    raise NotImplementedError()")
                else:
                    assert cell.source == "YOUR ANSWER HERE", path.name
            source = REPO / "solutions" / path.parent.name / f"{path.stem}.md"
            assert [c.id for c in written_cells(nb)] == [
                c.id for c in written_cells(exercises.to_notebook(source))]


# --- the test cells against wrong answers, in this process ------------------

def code_cells(spec) -> dict[str, str]:
    nb = exercises.to_notebook(source_of(spec))
    return {cell.id: cell.source for cell in nb.cells
            if cell.cell_type == "code"}


def run_cells(spec, answer: str) -> dict[str, Exception | None]:
    """Run the notebook's code cells in this process, with ``answer``
    executed after each reference solution cell (so that it replaces the
    function it defines); return each test cell's exception, or None."""
    namespace: dict = {}
    outcome: dict[str, Exception | None] = {}
    tests = {c for cells in spec.TESTS.values() for c in cells}
    with torch.random.fork_rng():  # the cells seed the global generator
        for cell_id, source in code_cells(spec).items():
            code = compile(source, cell_id, "exec")
            if cell_id in tests:
                try:
                    exec(code, namespace)
                    outcome[cell_id] = None
                except Exception as error:  # recorded, not raised
                    # with the diagnosis that the student would read
                    found = reglab.testing.diagnosis(error)
                    if found:
                        error.args = (f"{error} {reglab.testing.DIAGNOSIS} "
                                      f"{found}",)
                    outcome[cell_id] = error
            else:
                exec(code, namespace)
            if cell_id in spec.SOLUTIONS:
                exec(compile(answer, "answer", "exec"), namespace)
    return outcome


def fragments(value) -> tuple[str, ...]:
    """A ``DIAGNOSES`` value: one fragment or a tuple of them."""
    return (value,) if isinstance(value, str) else tuple(value)


def diagnoses_in(outcome: dict) -> set[str]:
    """The diagnoses in the failed test cells' messages."""
    mark = re.escape(reglab.testing.DIAGNOSIS)
    return {m.group(1) for error in outcome.values() if error is not None
            for m in [re.search(f"{mark} (.*)$", str(error), re.S)] if m}


def all_pass(spec) -> dict[str, None]:
    return dict.fromkeys(c for cells in spec.TESTS.values() for c in cells)


MUTANT_CASES = [(spec, name) for spec in SPECS for name in spec.MUTANTS]


def mutant_id(case) -> str:
    return f"{case[0].ASSIGNMENT}:{case[1]}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_reference_passes_in_process(spec):
    assert run_cells(spec, "") == all_pass(spec)


@pytest.mark.parametrize("case", MUTANT_CASES, ids=mutant_id)
def test_wrong_answers_fail_the_right_cells(case):
    spec, name = case
    answer, must_fail, delegates = spec.MUTANTS[name]
    outcome = run_cells(spec, answer)
    failed = {cell for cell, error in outcome.items() if error is not None}
    assert failed == set(must_fail), {c: repr(e) for c, e in outcome.items()}
    for cell in failed:
        error = outcome[cell]
        if delegates:
            assert isinstance(error, reglab.testing.DelegationError), (
                f"{cell}: {error!r}")
        elif isinstance(error, AssertionError):
            assert str(error).strip(), f"{cell}: assertion without message"
    # the mistake it encodes is named, and no other (spec.DIAGNOSES)
    got = diagnoses_in(outcome)
    want = fragments(spec.DIAGNOSES.get(name, ()))
    assert all(any(f in g for f in want) for g in got), (
        f"{name} gets a diagnosis that is not its mistake: {got}")
    assert all(any(f in g for g in got) for f in want), (
        f"{name} should be told {want}, but gets {got or 'no diagnosis'}")


@pytest.mark.parametrize(
    "case", [c for c in MUTANT_CASES if c[0].MUTANTS[c[1]][2]],
    ids=mutant_id)
def test_delegating_answers_are_otherwise_right(case, monkeypatch):
    """Without ``forbid`` they pass: only the delegation check fails
    them."""
    spec, name = case
    monkeypatch.setattr(reglab.testing, "forbid",
                        lambda *a, **k: contextlib.nullcontext())
    assert run_cells(spec, spec.MUTANTS[name][0]) == all_pass(spec)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_forbidden_names_resolve(spec):
    names = set()
    for source in code_cells(spec).values():
        for args in re.findall(r"forbid\(([^)]*)\)", source):
            names.update(re.findall(r'"([\w.]+)"', args))
        for args in re.findall(r"banned = \(([^)]*)\)", source):
            names.update(re.findall(r'"([\w.]+)"', args))
    assert spec.FORBIDDEN <= names
    for name in sorted(names):
        owner, attr = reglab.testing._resolve(name)
        assert callable(getattr(owner, attr)), name


# --- with nbgrader (slow) ---------------------------------------------------

@pytest.mark.slow
def test_release_is_fresh():
    stale = exercises.check_fresh()
    assert not stale, (
        "exercises/ differs from a fresh `python tools/exercises.py "
        "generate`:\n" + "\n".join(stale))


@pytest.mark.slow
def test_check_fresh_finds_stale_files(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", course)
    spec = SPECS[0]  # one assignment is enough (and fast)
    for name in ("solutions", "exercises"):
        shutil.copytree(REPO / name / spec.ASSIGNMENT,
                        course / name / spec.ASSIGNMENT,
                        ignore=shutil.ignore_patterns(*exercises.JUNK))
    folder = course / "exercises" / spec.ASSIGNMENT
    release = folder / f"{spec.NOTEBOOK}.ipynb"
    release.write_text(release.read_text("utf-8").replace(
        "# YOUR CODE HERE", "# Your code here"), "utf-8")
    (folder / "notes.txt").write_text("x")
    assert exercises.check_fresh(course) == sorted([
        f"exercises/{spec.ASSIGNMENT}/notes.txt (extra)",
        f"exercises/{spec.ASSIGNMENT}/{spec.NOTEBOOK}.ipynb (differs)"])


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_reference_solution_validates(source, tmp_path):
    notebook = tmp_path / (source.stem + ".ipynb")
    nbformat.write(exercises.to_notebook(source), notebook)
    assert exercises.validate(notebook) == {}


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_released_stub_fails_every_test(source):
    release = release_of(source)
    assert grade_cells(nbformat.read(release, 4)), "no test cells"
    results = exercises.validate(release, invert=True)
    assert results == {}, f"cells pass or changed: {results}"


@pytest.mark.slow
def test_check_command_lists_each_failure_in_one_line(capsys):
    """`make check` (``exercises.py validate``) on the untouched release:
    exit status 1 and one line per failing test, the message first."""
    release = release_of(REPO / "solutions" / "ch06-dropout" / "dropout.md")
    nb = nbformat.read(release, 4)
    tests, written = autograded_cells(nb), written_cells(nb)
    assert exercises.main(["validate", str(release)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{len(tests) + len(written)} test cell(s) failed:", out
    failures = out[1:]
    assert len(failures) == len(tests) + len(written)
    for line in failures[:len(tests)]:
        assert line.startswith("  - `") and "[test: Checks " in line, line
        assert ("is not answered yet" in line
                or "`Dropout` is not defined: write it in Task 2" in line)
        assert "Traceback" not in line
    # the unanswered written question: a reminder, with its points
    for line, cell in zip(failures[len(tests):], written):
        assert line == (
            "  - The written question is not answered yet: its answer cell "
            "still says YOUR ANSWER HERE (write your answer there; it is "
            f"marked by hand, {nbgrader_meta(cell)['points']:g} points, not "
            "by the tests).  [test: written question (marked by hand)]"), line


def answered(spec, wrong: dict[str, str]) -> nbformat.NotebookNode:
    """The release of ``spec`` answered like the reference, except for the
    solution cells in ``wrong`` (grade_id -> mutant name)."""
    nb = nbformat.read(release_of(source_of(spec)), 4)
    reference = {cell.id: cell.source for cell in
                 exercises.to_notebook(source_of(spec)).cells
                 if nbgrader_meta(cell).get("solution")}
    for cell in nb.cells:
        if cell.id in wrong:
            cell.source = spec.MUTANTS[wrong[cell.id]][0]
        elif cell.id in reference:
            cell.source = "\n".join(
                line for line in reference[cell.id].splitlines()
                if "### " not in line)
    return nb


@pytest.mark.slow
def test_validate_reports_the_sentence_first(tmp_path):
    """What the Validate dialog shows for a wrong Task 1 (p taken as the
    probability of keeping): per failing test, the sentence first (for
    Task 3, first that Task 1 is wrong), wrapped to the dialog's width,
    then the test's description; no test code, no traceback."""
    from tests.assignments import ch06_dropout as spec  # also when filtered

    notebook = tmp_path / "dropout.ipynb"
    nbformat.write(answered(spec, {"dropout": "do-p-is-keep-probability"}),
                   notebook)
    failed = exercises.validate(notebook)["failed"]
    first = {describe(cell["test"]): cell["message"].splitlines()[0]
             for cell in failed}
    assert list(first.values()) == [
        "dropout(x, p=0.3) zeroed a fraction 0.705 of the 10000 elements, "
        "but should zero about p = 0.3 (allowed ± 0.023, five binomial "
        "standard deviations); p is the probability of dropping an element.",
        "Task 3 uses your `dropout` from Task 1, which does not pass its "
        "tests yet: fix Task 1 first."], first
    for cell in failed:
        assert cell["source"].replace("\n", " ").startswith(
            cell["message"].splitlines()[0][:60])
        assert max(map(len, cell["source"].splitlines())) <= 76
        assert cell["error"].startswith("(test: Checks ")
        for text in (cell["source"], cell["error"]):
            assert "banned" not in text and "Traceback" not in text
    assert "213.0 standard errors" in failed[1]["message"]
    assert sum(len(c["source"]) + len(c["error"]) for c in failed) < 1000
