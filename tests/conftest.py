"""Shared fixtures: the devices to test on and the dtypes with their
tolerances from the reglab contract."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """The tests use tiny tensors: torch's intra-op threads only add
    overhead, and stall badly on a busy 2-core machine (10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=DEVICES)
def device(request):
    """Every test that takes ``device`` runs on the CPU and, when present,
    on CUDA."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


def tolerances(dtype):
    """The contract's tolerances: 1e-6/1e-5 in float32, 1e-10 in float64."""
    if dtype == torch.float64:
        return dict(atol=1e-10, rtol=1e-10)
    return dict(atol=1e-6, rtol=1e-5)


def pytest_collection_modifyitems(config, items):
    # tests marked `last` wait for work started in the background earlier
    items[:] = ([i for i in items if i.get_closest_marker("last") is None]
                + [i for i in items if i.get_closest_marker("last")])
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def built_book():
    """One clean, strict build of both editions, shared by the book, link
    and browser tests (the execution cache is kept, so notebooks re-run
    only when reglab or the pins changed). Returns ``_build/html``.

    ``REGLAB_BUILT_SITE=<folder>`` skips the build and tests that site
    (for authors iterating on the site tests)."""
    given = os.environ.get("REGLAB_BUILT_SITE")
    if given:
        return Path(given).resolve()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), "--clean"],
        cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return ROOT / "_build" / "html"
