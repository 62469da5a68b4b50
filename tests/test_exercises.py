"""The exercises: sources, the committed release, and the tests they hold.

Fast tests read the MyST sources and ``exercises/`` and run the notebook's
test cells in this process against wrong answers ("mutants"); the slow ones
run nbgrader (a fresh ``generate_assignment``, ``Validator`` kernels).
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import torch

import reglab.testing

REPO = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location(
    "exercises_tool", REPO / "tools" / "exercises.py")
exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exercises)

SOURCES = exercises.sources()
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS",
           "END HIDDEN TESTS")


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_cells(nb) -> list:
    return [cell for cell in nb.cells if nbgrader_meta(cell).get("grade")]


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


def release_of(source: Path) -> Path:
    return REPO / "exercises" / source.parent.name / (source.stem + ".ipynb")


# --- the sources ------------------------------------------------------------

def test_there_are_sources():
    assert [p.relative_to(REPO).as_posix() for p in SOURCES] == [
        "solutions/01-weight-decay/weight-decay.md"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_graded_cells_are_described(source):
    """Each test cell opens with a sentence and its points; 10 in all."""
    nb = exercises.to_notebook(source)
    cells = grade_cells(nb)
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
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    assert [c.id for c in solutions] == ["l2_penalty",
                                         "sgd_weight_decay_step"]


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
    secret = set()
    for source in SOURCES:
        for cell in exercises.to_notebook(source).cells:
            secret.update(
                between(cell.source, "BEGIN SOLUTION", "END SOLUTION"))
            secret.update(
                between(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
    # Lines that also occur in visible test code are not secret.
    public = "\n".join(
        cell.source for path in files if path.suffix == ".ipynb"
        for cell in nbformat.read(path, 4).cells)
    secret = {line.strip() for line in secret if len(line.strip()) >= 12}
    assert len(secret) > 20
    for path in files:
        text = path.read_text("utf-8")
        for marker in MARKERS:
            assert marker not in text, f"{path.name} contains {marker!r}"
        leaked = sorted(line for line in secret
                        if line in text and line not in public)
        assert not leaked, f"{path.name} contains {leaked}"
    for path in files:
        if path.suffix == ".ipynb":
            for cell in nbformat.read(path, 4).cells:
                if nbgrader_meta(cell).get("solution"):
                    assert cell.source.endswith(
                        "# YOUR CODE HERE\n    raise NotImplementedError()")


# --- the test cells against wrong answers, in this process ------------------

REFERENCE = exercises.to_notebook(
    REPO / "solutions" / "01-weight-decay" / "weight-decay.md")
CELLS = {cell.id: cell.source for cell in REFERENCE.cells
         if cell.cell_type == "code"}
TESTS1 = ("test_l2_penalty_visible", "test_l2_penalty_hidden")
TESTS2 = ("test_sgd_step_visible", "test_sgd_step_hidden")
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
SOLUTIONS = ("l2_penalty", "sgd_weight_decay_step")

# name -> (function source, the test cells it must fail, delegates?)
MUTANTS = {
    "l2-no-half": ("""
def l2_penalty(params):
    return sum((w * w).sum() for w in params)
""", set(TESTS1), False),
    "l2-python-float": ("""
def l2_penalty(params):
    return 0.5 * sum((w * w).sum().item() for w in params)
""", set(TESTS1), False),
    "l2-detached": ("""
def l2_penalty(params):
    return 0.5 * sum((w.detach() ** 2).sum() for w in params)
""", set(TESTS1), False),
    "l2-float32-sum": ("""
def l2_penalty(params):
    total = torch.zeros(())
    for w in params:
        total += 0.5 * (w * w).sum()
    return total
""", HIDDEN1, False),
    "l2-iterates-twice": ("""
def l2_penalty(params):
    count = sum(1 for _ in params)
    return 0.5 * sum((w * w).sum() for w in params)
""", HIDDEN1, False),
    "l2-calls-reglab": ("""
import reglab
def l2_penalty(params):
    return reglab.l2_penalty(params)
""", set(TESTS1), True),
    "l2-calls-reglab-alias": ("""
from reglab.penalties import l2_penalty as _l2
def l2_penalty(params):
    return _l2(list(params))
""", set(TESTS1), True),
    "l2-norm-correct": ("""
def l2_penalty(params):
    return 0.5 * sum(torch.linalg.vector_norm(w) ** 2 for w in params)
""", set(), False),
    "sgd-no-decay": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * p.grad)
""", set(TESTS2), False),
    "sgd-wrong-sign": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * (p.grad - weight_decay * p))
""", set(TESTS2), False),
    "sgd-no-grad-mode": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    for p in params:
        if p.grad is not None:
            p.sub_(lr * (p.grad + weight_decay * p))
""", set(TESTS2), False),
    "sgd-not-in-place": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p = p - lr * (p.grad + weight_decay * p)
""", set(TESTS2), False),
    "sgd-changes-grad": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.add_(p, alpha=weight_decay)
                p.sub_(lr * p.grad)
""", HIDDEN2, False),
    "sgd-no-skip": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * (p.grad + weight_decay * p))
""", HIDDEN2, False),
    "sgd-returns-params": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    params = list(params)
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * (p.grad + weight_decay * p))
    return params
""", HIDDEN2, False),
    "sgd-uses-torch-sgd": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    torch.optim.SGD(list(params), lr=lr, weight_decay=weight_decay).step()
""", set(TESTS2), True),
    "sgd-uses-reglab-sgd": ("""
import reglab
def sgd_weight_decay_step(params, lr, weight_decay):
    reglab.SGD(list(params), lr, weight_decay=weight_decay).step()
""", set(TESTS2), True),
    "sgd-uses-functional": ("""
from torch.optim.sgd import sgd as _sgd
def sgd_weight_decay_step(params, lr, weight_decay):
    ps = [p for p in params if p.grad is not None]
    with torch.no_grad():
        _sgd(ps, [p.grad for p in ps], [None] * len(ps),
             weight_decay=weight_decay, momentum=0.0, lr=lr,
             dampening=0.0, nesterov=False, maximize=False)
""", set(TESTS2), True),
}


def run_cells(answer: str) -> dict[str, Exception | None]:
    """Run the notebook's code cells in this process, with ``answer``
    executed after each reference solution cell (so that it replaces the
    function it defines); return each test cell's exception, or None."""
    namespace: dict = {}
    outcome: dict[str, Exception | None] = {}
    with torch.random.fork_rng():  # the cells seed the global generator
        for cell_id, source in CELLS.items():
            code = compile(source, cell_id, "exec")
            if cell_id.startswith("test_"):
                try:
                    exec(code, namespace)
                    outcome[cell_id] = None
                except Exception as error:  # recorded, not raised
                    outcome[cell_id] = error
            else:
                exec(code, namespace)
            if cell_id in SOLUTIONS:
                exec(compile(answer, "answer", "exec"), namespace)
    return outcome


def test_reference_passes_in_process():
    assert run_cells("") == dict.fromkeys(TESTS1 + TESTS2)


@pytest.mark.parametrize("name", list(MUTANTS))
def test_wrong_answers_fail_the_right_cells(name):
    answer, must_fail, delegates = MUTANTS[name]
    outcome = run_cells(answer)
    failed = {cell for cell, error in outcome.items() if error is not None}
    assert failed == must_fail, {c: repr(e) for c, e in outcome.items()}
    for cell in failed:
        error = outcome[cell]
        if delegates:
            assert isinstance(error, reglab.testing.DelegationError)
        elif isinstance(error, AssertionError):
            assert str(error).strip(), f"{cell}: assertion without message"


@pytest.mark.parametrize(
    "name", [name for name, (_, _, d) in MUTANTS.items() if d])
def test_delegating_answers_are_otherwise_right(name, monkeypatch):
    """Without ``forbid`` they pass: only the delegation check fails
    them."""
    monkeypatch.setattr(reglab.testing, "forbid",
                        lambda *a, **k: contextlib.nullcontext())
    assert run_cells(MUTANTS[name][0]) == dict.fromkeys(TESTS1 + TESTS2)


def test_forbidden_names_resolve():
    names = set()
    for source in CELLS.values():
        for args in re.findall(r"forbid\(([^)]*)\)", source):
            names.update(re.findall(r'"([\w.]+)"', args))
    banned = re.search(r"banned = \(([^)]*)\)", CELLS[TESTS2[1]])
    names.update(re.findall(r'"([\w.]+)"', banned.group(1)))
    assert {"reglab.penalties.l2_penalty", "torch.optim.SGD",
            "reglab.optim.sgd.SGD", "torch.optim.sgd.sgd"} <= names
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
    for name in ("solutions", "exercises"):
        shutil.copytree(REPO / name, course / name,
                        ignore=shutil.ignore_patterns(*exercises.JUNK))
    release = course / "exercises" / "01-weight-decay" / "weight-decay.ipynb"
    release.write_text(release.read_text("utf-8").replace(
        "# YOUR CODE HERE", "# Your code here"), "utf-8")
    (course / "exercises" / "01-weight-decay" / "notes.txt").write_text("x")
    assert exercises.check_fresh(course) == [
        "exercises/01-weight-decay/notes.txt (extra)",
        "exercises/01-weight-decay/weight-decay.ipynb (differs)"]


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
