"""reglab as a distribution: ``python -m build`` makes an sdist and a
wheel whose metadata is right, and the wheel, installed in a fresh
environment outside the repository, passes the package's tests."""

from __future__ import annotations

import ast
import email
import re
import shutil
import sys
import tarfile
import tomllib
import zipfile

import pytest

from tests.fresh_venv import (
    PACKAGE_TESTS,
    ROOT,
    TESTER,
    clean_env,
    make_venv,
    run,
)

sys.path.insert(0, str(ROOT / "tools"))
from build_book import build_package  # noqa: E402

pytestmark = pytest.mark.slow

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn"}


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    made = build_package(tmp_path_factory.mktemp("dist"), sdist=True)
    return {p.name.rsplit(".", 1)[-1]: p for p in made}


def third_party_imports() -> set[str]:
    """The top-level modules that reglab's sources import, other than the
    standard library and reglab itself (read from the code, not from
    pyproject.toml)."""
    names = set()
    for path in (ROOT / "reglab").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"reglab", "__future__"}


def sources() -> set[str]:
    return {p.relative_to(ROOT).as_posix()
            for p in (ROOT / "reglab").rglob("*.py")}


def test_wheel_metadata(dists):
    assert set(dists) == {"whl", "gz"}
    with zipfile.ZipFile(dists["whl"]) as whl:
        names = set(whl.namelist())
        info = f"reglab-{PROJECT['version']}.dist-info"
        meta = email.message_from_bytes(whl.read(f"{info}/METADATA"))
        licence = whl.read(f"{info}/licenses/LICENSE").decode()
    assert meta["Name"] == "reglab"
    assert meta["Version"] == PROJECT["version"]
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert licence == (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence
    assert meta["Requires-Python"] == ">=3.11"
    assert "reglab" in meta.get_payload()  # the long description
    assert meta["Description-Content-Type"] == "text/markdown"
    assert any(u.startswith("Homepage, https://")
               for u in meta.get_all("Project-URL"))
    # the run-time dependencies are exactly what the code imports
    requires = {re.split(r"[<>=!~; ]", r)[0].lower()
                for r in meta.get_all("Requires-Dist") if "extra ==" not in r}
    assert requires == {DISTRIBUTION.get(n, n)
                        for n in third_party_imports()}
    # every module, and no tests, notebooks or build files
    assert {n for n in names if n.startswith("reglab/")} == sources()
    assert not [n for n in names if n.startswith(("tests/", "book/"))]


def test_sdist_contents(dists):
    with tarfile.open(dists["gz"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"pyproject.toml", "LICENSE", "docs/package.md"} <= names
    assert sources() <= names


def test_installed_wheel_passes_the_package_tests(dists, tmp_path):
    """pip install the wheel into a fresh venv (torch and the other pinned
    dependencies, no reglab), then run the package tests from a folder
    that holds only them."""
    python = make_venv(tmp_path / "venv", TESTER)
    work = tmp_path / "work"
    (work / "tests").mkdir(parents=True)
    for name in PACKAGE_TESTS:
        shutil.copy(ROOT / "tests" / name, work / "tests" / name)
    probe = "import importlib.util; print(importlib.util.find_spec('reglab'))"
    assert run(python, "-c", probe, cwd=work).stdout.strip() == "None"

    install = run(python, "-m", "pip", "install", "-q",
                  "--disable-pip-version-check", str(dists["whl"]),
                  cwd=work)
    assert install.returncode == 0, install.stderr[-2000:]
    where = run(python, "-c", "import reglab; print(reglab.__file__)",
                cwd=work)
    assert where.stdout.startswith(str(tmp_path / "venv")), where

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-W", "ignore::pytest.PytestUnknownMarkWarning", "tests",
                cwd=work, env=clean_env())
    tail = tests.stdout[-3000:] + tests.stderr[-2000:]
    assert tests.returncode == 0, tail
    passed = int(re.search(r"(\d+) passed", tests.stdout)[1])
    assert passed > 1000, tail
