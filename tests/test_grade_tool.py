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
