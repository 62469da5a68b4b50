"""A fresh virtual environment without reglab, for the tests of what a
reader or a user gets outside the repository (``test_package.py``,
``test_downloads.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What a reader's machine has before the first cell of a chapter runs
# (Colab has all of these), at the course's pinned versions.
READER = ("torch", "numpy", "scipy", "scikit-learn", "matplotlib", "tqdm",
          "ipykernel", "nbclient", "nbformat")
# The package tests need pytest too.
TESTER = READER + ("pytest",)

# The package's own tests: everything in tests/ that checks reglab against
# its oracles (not the book, the exercises or the grader).
PACKAGE_TESTS = (
    "__init__.py", "conftest.py", "optim_parity.py", "test_data.py",
    "test_device.py", "test_doctests.py", "test_early_stopping.py",
    "test_layers_batchnorm.py", "test_layers_dropout.py", "test_losses.py",
    "test_model_selection.py", "test_optim_adam.py", "test_optim_rmsprop.py",
    "test_optim_sgd.py", "test_penalties.py", "test_plot.py",
    "test_schedules.py", "test_testing.py", "test_train.py",
    "test_validation.py",
)


def pins(names) -> list[str]:
    """``name==version`` lines of requirements.txt for ``names``."""
    wanted = {n.lower().replace("_", "-") for n in names}
    found = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==", line)
        if m and m[1].lower().replace("_", "-") in wanted:
            found.append(line.strip())
    missing = wanted - {re.split("==", f)[0].lower().replace("_", "-")
                        for f in found}
    assert not missing, f"not pinned in requirements.txt: {missing}"
    return found


def clean_env() -> dict[str, str]:
    """The environment of a process that must not see the course's
    .venv or this repository."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PYTHONNOUSERSITE"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    env["REGLAB_PROGRESS"] = "0"
    env["MPLBACKEND"] = "Agg"
    return env


def make_venv(path: Path, packages=READER) -> Path:
    """Create a venv at ``path`` with ``packages`` (pinned); return its
    python. reglab is not among them."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = path / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", *pins(packages)],
                   check=True, env=clean_env(), capture_output=True)
    return python


def run(python: Path, *args, cwd: Path, timeout: float = 1800,
        env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], cwd=cwd, env=env or
                          clean_env(), capture_output=True, text=True,
                          timeout=timeout)
