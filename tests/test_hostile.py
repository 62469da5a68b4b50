"""Hostile submissions, graded with the instructor's own commands.

A class of ``ch06-dropout`` notebooks is graded twice through the command
line that ``make grading-setup``, ``make collect`` and ``make grade`` run
(``tools/grade.py setup | collect | grade``), each time in a fresh grading
folder, with a fresh ``HOME`` holding a canary file:

* **default** — the instructor's configuration: static screen, run-time
  guard and sandbox;
* **sandbox only** — ``--unsafe-no-screen``: answers the screen would refuse
  run anyway, so that the sandbox (and the run-time guard) are tested on
  their own, against code that really tries.

Every hostile notebook answers like a real student (the reference, a wrong
or a delegating answer, or the untouched release) and adds its attack.
The tests assert each student's score from the gradebook, that the attack
saw and changed nothing outside its sandbox, and that the victim's
notebook, the instructor's files and the canary are untouched.
"""

from __future__ import annotations

import ast
import copy
import csv
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
A, NB = "ch06-dropout", "dropout"
TASK2 = ("test_module_visible", "test_module_hidden")
TASK3 = ("test_moments_visible", "test_moments_hidden")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("bwrap") is None,
    reason="bubblewrap is not installed (apt-get install bubblewrap; "
           ".ci/run installs it)")]

# What every attack reports is printed on one line starting with this.
SEEN = "ATTACK-REPORT"


def probe(paths: list[str]) -> str:
    """Code that tries to read, list and overwrite ``paths`` and prints
    which attempts succeeded."""
    return f'''
import os
hits = []
for path in {paths!r}:
    try:
        if os.path.isdir(path):
            hits.append(("listed", path, sorted(os.listdir(path))[:5]))
        else:
            with open(path, "rb") as f:
                hits.append(("read", path, len(f.read())))
    except OSError:
        pass
    try:
        with open(path, "wb") as f:
            f.write(b"{{}}")
        hits.append(("wrote", path))
    except OSError:
        pass
print("{SEEN}", hits)
'''


def finder(start: str) -> str:
    """Code that walks up from ``start`` looking for the instructor's
    notebook (``solutions/ch06-dropout/dropout.ipynb``), execs its
    answers if found, and reports."""
    return f'''
import json, os
found = None
here = {start}
for _ in range(12):
    for root, dirs, files in os.walk(here):
        if "dropout.ipynb" in files and "solutions" in root:
            found = os.path.join(root, "dropout.ipynb")
            break
        if root.count(os.sep) - here.count(os.sep) > 3:
            dirs[:] = []
    if found or here == "/":
        break
    here = os.path.dirname(here)
if found:
    for cell in json.load(open(found))["cells"]:
        meta = cell.get("metadata", {{}}).get("nbgrader", {{}})
        if meta.get("solution") and cell["cell_type"] == "code":
            exec("".join(cell["source"]), globals())
print("{SEEN}", found)
'''


PATCH_CHECKS = f'''
import builtins, contextlib, sys, types
import numpy.testing, torch.testing, reglab.testing
done = []
def nothing(*args, **kwargs):
    return contextlib.nullcontext()
import torch, torch.nn.functional
for owner, name in ((reglab.testing, "forbid"),
                    (reglab.testing, "assert_close"),
                    (torch.testing, "assert_close"),
                    (numpy.testing, "assert_allclose"),
                    (torch, "allclose"), (torch, "equal"),
                    (torch.nn.functional, "dropout")):
    try:
        setattr(owner, name, nothing)
        done.append(name)
    except AttributeError:
        pass
print("{SEEN}", done)
fake = types.ModuleType("reglab.testing")
fake.forbid = fake.assert_close = nothing
fake.DelegationError = AssertionError
sys.modules["reglab.testing"] = fake
builtins.abs = lambda x: 0  # every fraction "close enough"
'''

HOOKS_EXC = f'''
import sys
get_ipython().set_custom_exc((BaseException,), lambda *args, **kw: None)
sys.excepthook = lambda *args: None
print("{SEEN}", "error hooks installed")
'''

HOOKS = f'''
import sys
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
# keep only the lines a grader might append to a test, drop the test
ip.input_transformers_post.append(
    lambda lines: [l for l in lines if l.startswith("print(")] or ["pass"])
print("{SEEN}", "hooks installed")
'''

FORK = f'''
import os, subprocess, time
child = os.fork()
if child == 0:
    os.setsid()
    subprocess.Popen(["sleep", "4242"], start_new_session=True)
    time.sleep(3)
    os._exit(0)
print("{SEEN}", "forked", child)
'''

BOMB = f'''
hoard = []
try:
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))
except MemoryError:
    got = len(hoard) * 64
    hoard.clear()
print("{SEEN}", "memory stopped at", got, "MiB")
'''

FLOOD = f'''
line = "x" * 999
for _ in range(50_000):
    print(line)
print("{SEEN}", "flooded")
'''

LOOP = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''

SPAWN = f'''
import subprocess
children = []
try:
    for _ in range(400):
        children.append(subprocess.Popen(["sleep", "4243"]))
except OSError:
    pass
print("{SEEN}", "spawned", len(children))
'''

EXIT = '''
import os
os._exit(3)
'''


def network(port: int) -> str:
    return f'''
import socket
reached = []
for host in ("127.0.0.1", "localhost"):
    try:
        socket.create_connection((host, {port}), timeout=2).close()
        reached.append(host)
    except OSError:
        pass
try:
    socket.getaddrinfo("pypi.org", 443)
    reached.append("dns")
except OSError:
    pass
print("{SEEN}", reached)
'''


def strip(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def answer(solution, grade_id: str) -> str:
    """The reference answer of one cell."""
    return next(strip(c.source) for c in solution.cells if c.id == grade_id)


def wrong_dropout() -> str:
    """Keeps with probability p: fails only the fraction-of-zeros checks,
    which use abs()."""
    from tests.assignments import ch06_dropout
    return ch06_dropout.MUTANTS["do-p-is-keep-probability"][0]


def wrong_module() -> str:
    from tests.assignments import ch06_dropout
    return ch06_dropout.MUTANTS["mod-ignores-flag"][0]


def delegating_dropout() -> str:
    from tests.assignments import ch06_dropout
    return ch06_dropout.MUTANTS["do-calls-functional"][0]


def notebook(release, solution, answers: str, replace=None,
             attack: str | None = None, attack_after: str = "setup"):
    """A submission: answers ``"reference"`` or ``"release"``, cells in
    ``replace`` (grade_id -> source) replaced, and ``attack`` added as a
    student's own cell after the cell ``attack_after``."""
    nb = copy.deepcopy(release)
    if answers == "reference":
        ref = {c.id: strip(c.source) for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            if cell.id in ref:
                cell.source = ref[cell.id]
    for cell in nb.cells:
        if replace and cell.id in replace:
            cell.source = replace[cell.id]
    if attack is not None:
        index = next(i for i, c in enumerate(nb.cells)
                     if c.id == attack_after)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(attack))
    return nb


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "tools" / "grade.py"),
                           *args], capture_output=True, text=True, env=env,
                          timeout=1500)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Listener:
    """A TCP server on the host's loopback that records connections."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.hits = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.server.accept()
                self.hits += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.server.close()


def grade_class(base: Path, students: dict, flags: list[str]) -> dict:
    """Set up, collect and grade ``students`` (id -> notebook) with the
    command line; return what the tests need."""
    home, folder, downloads = base / "home", base / "grading", base / "dl"
    home.mkdir()
    downloads.mkdir()
    canary = home / "canary.txt"
    canary.write_text("the instructor's secrets\n")
    env = {**os.environ, "HOME": str(home)}
    run = cli("setup", str(folder), env=env)
    assert run.returncode == 0, run.stderr
    for student, nb in students.items():
        path = downloads / f"{student}_{NB}.ipynb"
        if isinstance(nb, str):
            path.write_text(nb, "utf-8")  # a file that is no notebook
        else:
            nbformat.write(nb, path)
    run = cli("collect", str(folder), A, str(downloads), env=env)
    assert run.returncode == 0, run.stderr
    protected = [folder / "submitted" / "victim" / A / f"{NB}.ipynb",
                 folder / "solutions" / A / f"{NB}.ipynb",
                 folder / "nbgrader_config.py", canary,
                 REPO / "README.md", REPO / "solutions" / A / f"{NB}.md"]
    before = {p: digest(p) for p in protected}
    graded = cli("grade", str(folder), A, "--timeout", "10", "--memory",
                 "2048", *flags, env=env)
    from nbgrader.api import Gradebook

    from tests.assignments import ch06_dropout

    # the autograded test cells; the written answers wait for a grader
    written = set(ch06_dropout.WRITTEN)
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        scores = {}
        for student in students:
            nb = gb.find_submission_notebook(NB, A, student)
            scores[student] = (nb.score,
                               {g.name: g.score for g in nb.grades
                                if g.name not in written})
        points = {g.name: g.max_score for g in
                  gb.find_submission_notebook(NB, A, "victim").grades
                  if g.name not in written}
    reports = {}
    for student in students:
        path = folder / "autograded" / student / A / f"{NB}.ipynb"
        lines = []
        if path.exists():
            for cell in nbformat.read(path, 4).cells:
                for out in cell.get("outputs", []):
                    lines += [line for line in out.get("text", "")
                              .splitlines() if line.startswith(SEEN)]
        reports[student] = lines
    with open(folder / "grades.csv", newline="") as f:
        csv_rows = {row["student_id"]: float(row["score"])
                    for row in csv.DictReader(f)
                    if row["assignment"] == A}
    return {"run": graded, "scores": scores, "points": points,
            "reports": reports, "csv": csv_rows, "folder": folder,
            "changed": [str(p) for p in protected
                        if not p.exists() or digest(p) != before[p]]}


@pytest.fixture(scope="module")
def material():
    source = REPO / "solutions" / A / f"{NB}.md"
    sys.path.insert(0, str(REPO / "tools"))
    import exercises
    solution = exercises.to_notebook(source)
    release = nbformat.read(REPO / "exercises" / A / f"{NB}.ipynb", 4)
    return release, solution


def targets(folder: Path, home: Path) -> list[str]:
    return [str(folder), str(folder / "gradebook.db"),
            str(folder / "submitted" / "victim" / A / f"{NB}.ipynb"),
            str(folder / "solutions" / A / f"{NB}.ipynb"),
            str(folder / "feedback"), str(home / "canary.txt"), str(home),
            str(REPO / "solutions"), str(REPO / "README.md"),
            "/etc/shadow"]


@pytest.fixture(scope="module")
def default_run(material, tmp_path_factory):
    release, solution = material
    base = tmp_path_factory.mktemp("hostile-default")
    aim = targets(base / "grading", base / "home")
    reglab_dir = "os.path.dirname(__import__('reglab').__file__)"
    students = {
        "reference": notebook(release, solution, "reference"),
        "victim": notebook(release, solution, "reference"),
        "reader": notebook(release, solution, "release",
                           attack=finder("os.getcwd()")),
        "package-path": notebook(release, solution, "release",
                                 attack=finder(reglab_dir)),
        "vandal": notebook(release, solution, "reference",
                           attack=probe(aim)),
        "patcher": notebook(release, solution, "reference",
                            replace={"dropout": delegating_dropout()},
                            attack=PATCH_CHECKS),
        "patcher-wrong": notebook(release, solution, "reference",
                                  replace={"dropout_module": wrong_module()},
                                  attack=PATCH_CHECKS),
        "hooks": notebook(release, solution, "reference",
                          replace={"dropout_module": wrong_module()},
                          attack=HOOKS),
        "bomb": notebook(release, solution, "reference", attack=BOMB),
        "flood": notebook(release, solution, "reference", attack=FLOOD),
        "corrupt": '{"cells": "not a list", "nbformat": 4}',
    }
    return grade_class(base, students, [])


@pytest.fixture(scope="module")
def sandbox_run(material, tmp_path_factory):
    release, solution = material
    base = tmp_path_factory.mktemp("hostile-sandbox")
    aim = targets(base / "grading", base / "home")
    listener = Listener()
    reglab_dir = "os.path.dirname(__import__('reglab').__file__)"
    students = {
        "victim": notebook(release, solution, "reference"),
        "reader": notebook(release, solution, "release",
                           attack=finder("os.getcwd()")),
        "package-path": notebook(release, solution, "release",
                                 attack=finder(reglab_dir)),
        "vandal": notebook(release, solution, "reference",
                           attack=probe(aim)),
        "patcher": notebook(release, solution, "reference",
                            replace={"dropout": delegating_dropout()},
                            attack=PATCH_CHECKS),
        "patcher-abs": notebook(release, solution, "reference",
                                replace={"dropout": wrong_dropout()},
                                attack=PATCH_CHECKS),
        "exits": notebook(release, solution, "reference",
                          replace={"dropout_moments": answer(
                              solution, "dropout_moments") + EXIT}),
        "hooks-exc": notebook(release, solution, "reference",
                              replace={"dropout_module": wrong_module()},
                              attack=HOOKS_EXC),
        "forks": notebook(release, solution, "reference", attack=FORK),
        "spawns": notebook(release, solution, "reference", attack=SPAWN),
        "bomb": notebook(release, solution, "reference", attack=BOMB),
        "loops": notebook(release, solution, "reference", attack=LOOP),
        "network": notebook(release, solution, "reference",
                            attack=network(listener.port)),
    }
    try:
        result = grade_class(base, students, ["--unsafe-no-screen"])
    finally:
        listener.close()
    result["connections"] = listener.hits
    return result


def test_default_grading_succeeds_and_reports(default_run):
    run = default_run["run"]
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for student in ("reader", "package-path", "vandal", "patcher", "hooks",
                    "corrupt"):
        assert re.search(rf"^  {re.escape(student)}: ", out, re.M), out
    assert "could not be read" in out


@pytest.mark.parametrize("student, lost", [
    ("reference", ()), ("victim", ()), ("vandal", ()), ("bomb", ()),
    ("flood", ()),
    ("reader", "all"), ("package-path", "all"), ("patcher", "all"),
    ("corrupt", "all"),
    ("patcher-wrong", TASK2), ("hooks", TASK2),
])
def test_default_scores(default_run, student, lost):
    points = default_run["points"]
    lost = set(points) if lost == "all" else set(lost)
    total, cells = default_run["scores"][student]
    expected = {name: 0 if name in lost else pts
                for name, pts in points.items()}
    assert cells == expected, (student, cells)
    assert total == sum(expected.values())
    assert default_run["csv"][student] == total


def test_default_nothing_outside_changed(default_run):
    assert default_run["changed"] == []


def test_default_attacks_were_refused(default_run):
    """The screen refused the attack cells: none of them printed."""
    for student in ("reader", "package-path", "vandal", "patcher",
                    "patcher-wrong", "hooks"):
        assert default_run["reports"][student] == [], student


def test_default_limits(default_run):
    folder = default_run["folder"]
    flood = folder / "autograded" / "flood" / A / f"{NB}.ipynb"
    assert flood.stat().st_size < 500_000
    assert "output cut" in flood.read_text("utf-8")
    assert any("memory stopped at" in r
               for r in default_run["reports"]["bomb"])


def test_every_student_has_feedback(default_run):
    folder = default_run["folder"]
    for student in default_run["scores"]:
        page = folder / "feedback" / student / A / f"{NB}.html"
        assert page.is_file(), student
    page = (folder / "feedback" / "corrupt" / A / f"{NB}.html").read_text(
        "utf-8")
    assert "could not be read" in page


def test_sandbox_run_succeeds(sandbox_run):
    run = sandbox_run["run"]
    assert run.returncode == 0, run.stderr
    assert "your kernel stopped in cell 'dropout_moments' (exit code 3)" \
        in run.stdout
    assert "stopped after 10 s" in run.stdout


@pytest.mark.parametrize("student, lost", [
    ("victim", ()), ("vandal", ()), ("forks", ()), ("spawns", ()),
    ("bomb", ()),
    ("loops", ()), ("network", ()),
    ("reader", "all"), ("package-path", "all"), ("patcher", "all"),
    ("exits", TASK3), ("hooks-exc", TASK2),
    # the mutant's own failures (tests/assignments/ch06_dropout.py)
    ("patcher-abs", ("test_dropout_visible", "test_dropout_hidden",
                     "test_module_hidden", "test_moments_visible")),
])
def test_sandbox_scores(sandbox_run, student, lost):
    points = sandbox_run["points"]
    lost = set(points) if lost == "all" else set(lost)
    total, cells = sandbox_run["scores"][student]
    expected = {name: 0 if name in lost else pts
                for name, pts in points.items()}
    assert cells == expected, (student, cells)


def test_sandbox_hides_and_protects_files(sandbox_run):
    assert sandbox_run["changed"] == []
    reports = sandbox_run["reports"]
    assert len(reports["vandal"]) == 1, reports["vandal"]
    hits = ast.literal_eval(reports["vandal"][0][len(SEEN):].strip())
    # It saw none of the targets. Where the course lives under /tmp (a
    # clone in /tmp), the sandbox's private /tmp holds the empty folders
    # that lead to the bound environment, so "writing" a target there
    # creates a new file in the sandbox's own tmpfs, never the host's file
    # (``changed`` above compares the host's files).
    assert [h for h in hits if h[0] != "wrote"] == [], hits
    assert all(h[1].startswith("/tmp/") and Path(h[1]).is_relative_to(
        Path("/tmp")) and REPO.is_relative_to(Path("/tmp"))
        for h in hits), hits
    assert reports["reader"] == [f"{SEEN} None"], reports["reader"]
    assert reports["package-path"] == [f"{SEEN} None"]


def test_sandbox_guard_refuses_patches(sandbox_run):
    for student in ("patcher", "patcher-abs"):
        assert sandbox_run["reports"][student] == [f"{SEEN} []"], student


def test_sandbox_no_network(sandbox_run):
    assert sandbox_run["reports"]["network"] == [f"{SEEN} []"]
    assert sandbox_run["connections"] == 0


def test_sandbox_processes_do_not_outlive_it(sandbox_run):
    assert any("forked" in r for r in sandbox_run["reports"]["forks"])
    left = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0")[:2] in ([b"sleep", b"4242"],
                                          [b"sleep", b"4243"]):
            left.append(proc.name)
    assert left == []


def test_sandbox_process_limit(sandbox_run):
    report = sandbox_run["reports"]["spawns"]
    assert report, "the spawner did not report"
    spawned = int(re.search(r"spawned (\d+)", report[0]).group(1))
    limit = 256  # Limits.processes; the kernel's own threads count too
    if os.geteuid() != 0:  # RLIMIT_NPROC: also counts the user's others
        limit += sum(1 for p in Path("/proc").iterdir()
                     if p.name.isdigit() and p.stat().st_uid == os.getuid())
    assert 0 < spawned < limit


def test_sandbox_memory_limit(sandbox_run):
    report = sandbox_run["reports"]["bomb"]
    assert report, "the bomb did not report"
    mib = int(re.search(r"stopped at (\d+) MiB", report[0]).group(1))
    assert mib <= 2048


def test_exit_is_explained_in_feedback(sandbox_run):
    page = (sandbox_run["folder"] / "feedback" / "exits" / A
            / f"{NB}.html").read_text("utf-8")
    assert "your kernel stopped in cell" in page
