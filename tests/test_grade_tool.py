"""tools/grade.py's collect step, without nbgrader (the whole round trip
with nbgrader is in test_grading.py)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import grade as grade_tool  # noqa: E402


@pytest.fixture
def tiny_course(tmp_path):
    (tmp_path / "solutions" / "a1").mkdir(parents=True)
    (tmp_path / "solutions" / "a1" / "nb.ipynb").write_text("{}")
    (tmp_path / "solutions" / "a1" / "nb.md").write_text("")
    return tmp_path


def test_collect_files_notebooks_by_student(tiny_course, tmp_path_factory):
    downloads = tmp_path_factory.mktemp("dl")
    for name in ("alice.ipynb", "bob_nb (1).ipynb", "notes.txt"):
        (downloads / name).write_text("{}")
    archive = downloads / "more.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("export/carol_nb.ipynb", "{}")
        z.writestr("__MACOSX/export/._carol_nb.ipynb", "x")
    assert grade_tool.collect(tiny_course, "a1", [downloads, archive]) == [
        "alice", "bob", "carol"]
    for student in ("alice", "bob", "carol"):
        assert (tiny_course / "submitted" / student / "a1"
                / "nb.ipynb").read_text() == "{}"


@pytest.mark.parametrize("names, match", [
    (["alice.ipynb", "alice_v2.ipynb"], "student 'alice' handed in two"),
    (["_nb.ipynb"], "must start with the student id"),
    (["notes.txt"], "expected a .ipynb file"),
])
def test_collect_rejects_bad_input(tiny_course, tmp_path_factory, names,
                                   match):
    downloads = tmp_path_factory.mktemp("dl")
    paths = []
    for name in names:
        (downloads / name).write_text("{}")
        paths.append(downloads / name)
    with pytest.raises(ValueError, match=match):
        grade_tool.collect(tiny_course, "a1", paths)


def test_collect_names_the_unknown_assignment(tiny_course):
    with pytest.raises(ValueError, match="assignment='a2'.*known: \\['a1'\\]"):
        grade_tool.collect(tiny_course, "a2", [])


# --- the sandboxed grading pipeline, without nbgrader ---------------------

def test_grade_refuses_without_bwrap(tmp_path, monkeypatch):
    monkeypatch.setattr(grade_tool.sandbox.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="apt-get install bubblewrap"):
        grade_tool.grade(tmp_path)
    code = grade_tool.main(["grade", str(tmp_path)])
    assert code == 1


def test_grade_refuses_a_folder_setup_did_not_make(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(RuntimeError, match="grade.py setup"):
        grade_tool.grade(tmp_path, unsafe_no_sandbox=True)


def test_limits_reject_bad_values():
    with pytest.raises(ValueError, match="memory must be a positive "
                                         "integer, got 0"):
        grade_tool.sandbox.Limits(memory=0)


def _notebook(cells):
    import nbformat
    nb = nbformat.v4.new_notebook()
    for gid, source, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        if gid:
            cell.metadata["nbgrader"] = {"grade_id": gid}
        cell.outputs = outputs
        nb.cells.append(cell)
    return nb


def test_replay_copies_the_sandboxed_outputs(tmp_path, monkeypatch):
    import json

    import nbformat
    from grading.replay import Replay

    monkeypatch.chdir(tmp_path)
    out = nbformat.v4.new_output("stream", name="stdout", text="ok\n")
    ran = _notebook([("a", "x = 1", [out]), (None, "y = 2", []),
                     ("t", "assert x", [])])
    path = tmp_path / "sandbox" / "bob" / "a1" / "nb.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(ran, path)
    path.with_suffix(".status.json").write_text(json.dumps(
        {"events": ["your kernel <script>x</script> [stopped](http://e)"],
         "refused": []}))
    graded = _notebook([("a", "x = 1", []), (None, "y = 2", []),
                        ("t", "assert x", [])])
    resources = {"nbgrader": {"student": "bob", "assignment": "a1",
                              "notebook": "nb"}}
    nb, _ = Replay().preprocess(graded, resources)
    assert nb.cells[0].cell_type == "markdown"
    note = nb.cells[0].source
    assert "<script>" not in note and "](http" not in note
    assert nb.cells[1].outputs == [out]
    assert nb.cells[2].outputs == [] and nb.cells[3].outputs == []


def test_replay_never_runs_what_the_sandbox_did_not(tmp_path, monkeypatch):
    from grading.replay import Replay

    monkeypatch.chdir(tmp_path)
    graded = _notebook([("a", "import os; os.remove('x')", []),
                        ("t", "assert True", [])])
    resources = {"nbgrader": {"student": "eve", "assignment": "a1",
                              "notebook": "nb"}}
    nb, _ = Replay().preprocess(graded, resources)
    for cell in nb.cells:
        assert [o.ename for o in cell.outputs] == ["NotRun"]


def test_environment_under_tmp_is_bound_over_the_private_tmp(tmp_path):
    """A course environment that lives under /tmp (a clone in /tmp, as CI
    machines make) stays visible: bwrap mounts in argument order, so the
    private /tmp must come before the environment's read-only binds (the
    other order hid Python and every kernel died at start)."""
    sandbox = grade_tool.sandbox
    argv = sandbox.kernel_argv("bwrap", sandbox.Limits(), tmp_path, None,
                               None)
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    prefix = str(Path(sys.prefix))
    binds = [i for i, a in enumerate(argv[:-1])
             if a == "--ro-bind" and argv[i + 2] == prefix]
    assert binds, f"{prefix} is not bound"
    assert all(i > tmpfs for i in binds)
    run = argv.index(str(tmp_path))
    assert run > tmpfs and argv[run - 1] == "--bind"
