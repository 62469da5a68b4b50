"""The kernel guard of the grader (``tools/grading/execute.py``), run in a
plain interpreter: the modules the tests use are read-only for the
student's code, yet PyTorch's own lazy imports (the first optimiser step
imports ``torch._dynamo`` and ``torch._inductor.config``, which rewrite
their own attributes while they load) still work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from grading import execute  # noqa: E402


def run_guarded(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", execute.GUARD + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, cwd=REPO)


def test_lazy_torch_imports_still_work():
    done = run_guarded("""
        import torch
        w = torch.zeros(3, requires_grad=True)
        for opt in (torch.optim.SGD([w], lr=0.1, momentum=0.9),
                    torch.optim.Adam([w], lr=0.1)):
            w.grad = torch.ones(3)
            opt.step()
        import torch._inductor.config  # noqa: F401
        print("ok", w.detach().tolist())
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")


@pytest.mark.parametrize("statement", [
    "torch.optim.SGD = object",
    "torch.log_softmax = abs",
    "torch.nn.functional.cross_entropy = abs",
    "numpy.testing.assert_allclose = print",
    "reglab.testing.forbid = print",
    "del torch.optim.Adam",
])
def test_protected_modules_are_read_only(statement):
    done = run_guarded(f"""
        import numpy, numpy.testing, reglab.testing, torch
        import torch.nn.functional
        w = torch.zeros(1, requires_grad=True)
        torch.optim.Adam([w]).step()  # after the lazy imports, too
        try:
            {statement}
        except AttributeError as error:
            print("refused:", error)
        else:
            print("allowed")
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused:"), done.stdout
    assert "while the notebook is graded" in done.stdout


@pytest.mark.parametrize("attack", [
    # top-level code that claims to be a torch file
    "exec(compile('torch.log_softmax = abs', torch.__file__, 'exec'))",
    # a code object renamed into torch's folder
    "code = compile('torch.log_softmax = abs', 'x', 'exec')\n"
    "exec(code.replace(co_filename=torch.__file__))",
])
def test_library_file_names_cannot_be_borrowed(attack):
    done = run_guarded(f"""
        import torch
        try:
            {attack.replace(chr(10), chr(10) + " " * 12)}
        except (AttributeError, RuntimeError) as error:
            print("refused:", error)
        else:
            print("allowed", torch.log_softmax)
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused:"), done.stdout
