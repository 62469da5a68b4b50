"""reglab.device: device choice against torch's own availability checks,
seeding against fresh draws, and the GPU-cell setting chooser."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from reglab import device_setting, get_device, has_gpu, set_seed


def test_get_device_follows_torch_availability():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected
    assert has_gpu() == (expected != "cpu")


def test_prefer_cpu_always_works():
    assert get_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_unavailable_preference_is_a_clear_error():
    with pytest.raises(ValueError, match="'prefer'.*'cuda'.*0 CUDA"):
        get_device("cuda")


@pytest.mark.gpu
def test_cuda_preference_on_gpu():
    assert get_device("cuda").type == "cuda"


def test_set_seed_reproduces_all_generators():
    set_seed(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(123)
    again = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == again
    set_seed(124)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != first


def test_device_setting_picks_by_device(capsys):
    s = device_setting(cpu={"n": 10}, gpu={"n": 1000}, device="cpu")
    assert s["n"] == 10 and s.device.type == "cpu" and not s.on_gpu
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no GPU" in out and "n=10" in out


@pytest.mark.gpu
def test_device_setting_on_gpu(capsys):
    s = device_setting(cpu={"n": 10}, gpu={"n": 1000})
    assert s["n"] == 1000 and s.on_gpu
    assert "full setting" in capsys.readouterr().out


def test_import_has_no_side_effects():
    """Importing reglab must not touch the global random state (checked in
    a fresh interpreter, so this process's modules stay as they are)."""
    code = ("import torch; torch.manual_seed(7); a = torch.rand(3); "
            "torch.manual_seed(7); import reglab; "
            "assert torch.equal(torch.rand(3), a)")
    subprocess.run([sys.executable, "-c", code], check=True)
