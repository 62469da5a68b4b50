"""The students' JupyterLab (tools/lab.py, reglab_jupyter): nbgrader's
Validate button only, reporting each failing test's sentence first; the
instructors' folder turns every nbgrader tool back on."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_spec = importlib.util.spec_from_file_location("lab_tool",
                                               REPO / "tools" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)

NBGRADER_PLUGINS = lab.STUDENT_PLUGINS + lab.INSTRUCTOR_PLUGINS


def jupyter(*args: str, config_path: list[Path], home: Path) -> str:
    """The output of a ``jupyter`` command that reads the config folders
    ``config_path`` (first wins) before the environment's own."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home),
               JUPYTER_CONFIG_PATH=os.pathsep.join(map(str, config_path)),
               NO_COLOR="1")
    run = subprocess.run([str(BIN / "jupyter"), *args], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout + run.stderr


def disabled_plugins(output: str) -> set[str]:
    """The plugins under 'Disabled extensions:' in `labextension list`."""
    _, _, tail = output.partition("Disabled extensions:")
    return {line.split()[0] for line in tail.splitlines() if line.strip()
            and line.strip().startswith("@")}


def effective(config_path: list[Path], home: Path) -> dict[str, bool]:
    """``tools/lab.py status`` (what Jupyter's own config machinery makes
    of every config folder): plugin or server extension -> on."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home),
               JUPYTER_CONFIG_PATH=os.pathsep.join(map(str, config_path)))
    run = subprocess.run([sys.executable, str(REPO / "tools" / "lab.py"),
                          "status"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return {line[5:]: line.startswith("on ")
            for line in run.stdout.splitlines()}


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """A config folder written by ``tools/lab.py student``."""
    prefix = tmp_path_factory.mktemp("env")
    lab.configure("student", prefix)
    return lab.config_dir(prefix)


def test_student_lab_shows_the_validate_button_only(student, tmp_path):
    """The student folder's files decide (here over the instructors')."""
    folders = [student, REPO / "tools" / "jupyter-instructor"]
    listing = jupyter("labextension", "list", config_path=folders,
                      home=tmp_path)
    assert disabled_plugins(listing) >= set(lab.INSTRUCTOR_PLUGINS)
    assert not disabled_plugins(listing) & set(lab.STUDENT_PLUGINS)
    on = effective(folders, tmp_path)
    assert on == {**dict.fromkeys(NBGRADER_PLUGINS, False),
                  **dict.fromkeys(lab.INSTRUCTOR_SERVER, False),
                  **dict.fromkeys(lab.STUDENT_PLUGINS, True),
                  **dict.fromkeys(lab.STUDENT_SERVER, True)}


def test_instructor_folder_turns_everything_back_on(student, tmp_path):
    folder = REPO / "tools" / "jupyter-instructor"
    listing = jupyter("labextension", "list",
                      config_path=[folder, student], home=tmp_path)
    assert not disabled_plugins(listing) & set(NBGRADER_PLUGINS)
    on = effective([folder, student], tmp_path)
    assert all(on.values()) and len(on) == 11, on


def test_configure_keeps_other_settings_and_switches(tmp_path):
    page = lab.config_dir(tmp_path) / "labconfig" / "page_config.json"
    page.parent.mkdir(parents=True)
    page.write_text(json.dumps({"disabledExtensions": ["other:plugin"],
                                "otherKey": 1}))
    lab.configure("student", tmp_path)
    lab.configure("student", tmp_path)  # idempotent
    data = json.loads(page.read_text())
    assert data["otherKey"] == 1
    assert data["disabledExtensions"] == {
        "other:plugin": True, **dict.fromkeys(lab.INSTRUCTOR_PLUGINS, True),
        **dict.fromkeys(lab.STUDENT_PLUGINS, False)}
    lab.configure("instructor", tmp_path)
    data = json.loads(page.read_text())
    assert not any(data["disabledExtensions"][name]
                   for name in NBGRADER_PLUGINS)
    with pytest.raises(ValueError, match="'teacher'"):
        lab.configure("teacher", tmp_path)


def test_course_environment_is_the_students(monkeypatch):
    """``make env`` ran ``tools/lab.py student`` for this environment."""
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    on = lab.status()
    assert all(on[name] for name in lab.STUDENT_PLUGINS + lab.STUDENT_SERVER)
    assert not any(on[name] for name in lab.INSTRUCTOR_PLUGINS
                   + lab.INSTRUCTOR_SERVER), on


def test_validate_button_uses_the_readable_validator(monkeypatch):
    from nbgrader.server_extensions.validate_assignment import handlers

    import reglab_jupyter
    from reglab_jupyter.validate import ReadableValidator

    class App:
        class log:
            info = staticmethod(lambda *args: None)

    monkeypatch.setattr(handlers, "Validator", handlers.Validator)
    assert reglab_jupyter._jupyter_server_extension_points() == [
        {"module": "reglab_jupyter"}]
    reglab_jupyter._load_jupyter_server_extension(App())
    assert handlers.Validator is ReadableValidator
