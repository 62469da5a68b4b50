"""Style: ruff over the package, tests, tools and benchmarks (79 columns,
pyflakes, import order), so that CI fails on a lint error."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.fail("ruff is not installed in this environment "
                    "(it is pinned in requirements.txt)")
    proc = subprocess.run(
        [ruff, "check", "reglab", "reglab_jupyter", "tests", "tools",
         "benchmarks", "book/_ext"], cwd=ROOT, capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
