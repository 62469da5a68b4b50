"""The students' JupyterLab (tools/lab.py, reglab_jupyter): nbgrader's
Validate button only, reporting each failing test's sentence first; the
instructors' folder turns every nbgrader tool back on."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.assignments import SPECS

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


def test_course_environment_is_the_students(monkeypatch, tmp_path):
    """``make env`` ran ``tools/lab.py student`` for this environment
    (read without the user's own ~/.jupyter)."""
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
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


def test_sentence_first_reduces_any_error_to_its_sentence():
    from reglab_jupyter.validate import describe, sentence_first

    ours = ("Task 3 uses your `dropout` from Task 1, which does not pass "
            "its tests yet: fix Task 1 first.\nFor p=0.2 the measured mean "
            "is 213.0 standard errors away from x (allowed 5).")
    assert sentence_first(ours) == ours
    ipython = ("\x1b[31m------------------------------------------\x1b[39m\n"
               "\x1b[31mAssertionError\x1b[39m  Traceback (most recent call "
               "last)\nCell In[5], line 44\n---> 44 assert z_mean <= 5, (\n"
               "\x1b[31mAssertionError\x1b[39m: For p=0.2 the measured mean "
               "is 213.0 standard errors away from x (allowed 5).")
    assert sentence_first(ipython) == (
        "AssertionError: For p=0.2 the measured mean is 213.0 standard "
        "errors away from x (allowed 5).")
    assert sentence_first("\x1b[31mNotImplementedError\x1b[39m: ") == (
        "Not answered yet: a task's cell still raises NotImplementedError.")
    assert sentence_first("") == "(no message)"
    assert describe("# Checks the moments.\n# Points: 1\nx = 1") == (
        "Checks the moments.")


# --- in a browser (slow) -----------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """The course environment's JupyterLab (the students'), serving a
    ch06 notebook whose Task 1 takes p as the probability of keeping;
    started in the repository, as a student starts it."""
    from tests.test_exercises import answered

    spec = next(s for s in SPECS if s.ASSIGNMENT == "ch06-dropout")
    root = tmp_path_factory.mktemp("lab")
    nbformat.write(answered(spec, {"dropout": "do-p-is-keep-probability"}),
                   root / "dropout.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_DATA_DIR=str(home / "data"))
    env.pop("JUPYTER_CONFIG_PATH", None)
    news = (home / "config" / "lab" / "user-settings" / "@jupyterlab"
            / "apputils-extension" / "notification.jupyterlab-settings")
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no question in the shots
    log = open(home / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--ServerApp.token=reglab",
         f"--ServerApp.root_dir={root}", "--allow-root"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token=reglab",
                                       timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None or sync_playwright is None,
                    reason="browser tests skipped: Chromium or Playwright "
                           "is not installed")
def test_validate_dialog_in_the_students_lab(lab_server):
    """The real Validate button: the dialog lists each failing test's
    sentence first (Task 3's says first that Task 1 is wrong), then the
    likely mistake, no test code; the Nbgrader menu is gone. Screenshots
    of the dialog and of the notebook's failing Task 1 test go to
    _build/screenshots."""
    sys.path.insert(0, str(REPO / "tools"))
    from print_pdf import ARGS

    out = REPO / "_build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{lab_server}/lab/tree/dropout.ipynb?token=reglab")
            button = page.locator("jp-button:has-text('Validate')").first
            button.wait_for(timeout=120_000)
            menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
            assert "Run" in menus and "Nbgrader" not in menus, menus
            button.click()
            dialog = page.locator(".jp-Dialog")
            page.wait_for_selector(".jp-Dialog .validation-failed",
                                   timeout=180_000)
            blocks = dialog.locator("pre").all_inner_texts()
            sentences, tests = blocks[0::2], blocks[1::2]
            assert sentences[0].startswith("dropout(x, p=0.3) zeroed a "
                                           "fraction 0.705")
            # the second line names the mistake (reglab.testing.diagnosis)
            assert "\nLikely mistake: you keep each element with " \
                "probability p" in sentences[0], sentences[0]
            assert sentences[1].startswith(
                "Task 3 uses your `dropout` from Task 1, which does not "
                "pass its tests yet:\nfix Task 1 first.\nFor p=0.2 the "
                "measured mean is 213.0 standard errors")
            assert all(t.startswith("(test: Checks ") for t in tests)
            text = dialog.inner_text()
            assert "banned" not in text and "Traceback" not in text
            assert len(text) < 1000, len(text)
            page.screenshot(path=str(out / "validate-dialog.png"))
            dialog.locator("button:has-text('Ok')").click()
            # Run every cell, one after the other (Run All would stop at
            # the first failing test): the notebook shows the same
            # sentences first.
            page.locator(".jp-Cell").first.click()
            busy = ("() => ![...document.querySelectorAll('.jp-InputPrompt')"
                    "].some(e => e.textContent.includes('*'))")
            for _ in range(page.locator(".jp-Cell").count()):
                page.keyboard.press("Shift+Enter")
                page.wait_for_timeout(300)
                page.wait_for_function(busy, timeout=60_000)
            error = page.locator(
                ".jp-Cell:has-text('Checks the measured moments') "
                "[data-mime-type='application/vnd.jupyter.stderr']").first
            error.wait_for(timeout=180_000)
            assert error.inner_text().startswith(
                "Task 3 uses your `dropout` from Task 1")
            # Task 1's test, scrolled into view (JupyterLab renders only
            # the cells near the viewport): its sentence, then the mistake
            cell = page.locator(
                ".jp-Cell:has-text('Checks dropout(x, p=0.3) on 10 000')"
                ).first
            cell.scroll_into_view_if_needed()
            task1 = cell.locator(
                "[data-mime-type='application/vnd.jupyter.stderr']").first
            task1.wait_for(timeout=60_000)
            lines = task1.inner_text().splitlines() + ["", ""]
            assert lines[0].startswith("dropout(x, p=0.3) zeroed a "
                                       "fraction"), lines
            assert lines[1].startswith("Likely mistake: you keep each "
                                       "element with probability p"), lines
            cell.locator(".jp-Cell-outputWrapper").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "notebook-failed-test.png"))
        finally:
            browser.close()
