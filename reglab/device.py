"""Device selection, seeding and the "GPU cell" mechanism.

Library code never calls ``.cuda()``: it asks :func:`get_device` once and
moves models and batches there. Chapters that would teach more with a larger
run use :func:`device_setting`, which picks a large setting on a GPU and a
smaller one on a CPU, and says in one printed line which one it chose.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from ._validation import check_int, param_error

__all__ = ["DeviceSetting", "device_setting", "get_device", "has_gpu",
           "set_seed"]

_KINDS = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def has_gpu() -> bool:
    """Return ``True`` when a CUDA or Apple-MPS device can be used."""
    return torch.cuda.is_available() or _mps_available()


def get_device(prefer: str | None = None) -> torch.device:
    """Return the device that chapters and exercises should compute on.

    Without a preference: ``cuda`` when available, else ``mps`` when
    available, else ``cpu``.

    Args:
        prefer: ``None`` for the automatic choice, or ``"cpu"``, ``"cuda"``,
            ``"cuda:N"`` or ``"mps"`` to insist on one device.

    Returns:
        A :class:`torch.device`.

    Raises:
        ValueError: if ``prefer`` names an unknown or unavailable device.

    Example:
        >>> get_device("cpu")
        device(type='cpu')
    """
    if prefer is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    allowed = "None or one of 'cpu', 'cuda', 'cuda:N', 'mps'"
    if not isinstance(prefer, str):
        raise param_error("prefer", "get_device", allowed, prefer,
                          exc=TypeError)
    kind, _, index = prefer.partition(":")
    if kind not in _KINDS or (index and (kind != "cuda"
                                         or not index.isdigit())):
        raise param_error("prefer", "get_device", allowed, prefer)
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (index and int(index) >= count):
            raise ValueError(
                f"The 'prefer' parameter of get_device asked for {prefer!r}, "
                f"but this machine has {count} CUDA device(s). Use "
                f"prefer=None to fall back to the best available device."
            )
    if kind == "mps" and not _mps_available():
        raise ValueError(
            "The 'prefer' parameter of get_device asked for 'mps', but MPS "
            "is not available here. Use prefer=None to fall back to the "
            "best available device."
        )
    return torch.device(prefer)


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch.

    ``torch.manual_seed`` seeds the CPU and every CUDA device. This is the
    only reglab function that touches global random state.

    Args:
        seed: an int in ``[0, 2**32 - 1]`` (NumPy's limit).

    Example:
        >>> set_seed(0); a = torch.rand(2)
        >>> set_seed(0); torch.equal(a, torch.rand(2))
        True
    """
    seed = check_int(seed, "seed", "set_seed", low=0)
    if seed > 2**32 - 1:
        raise param_error("seed", "set_seed", "an int in the range "
                          "[0, 4294967295]", seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class DeviceSetting(dict):
    """The setting chosen by :func:`device_setting`: a ``dict`` of the
    chosen values plus the attributes ``device`` and ``on_gpu``."""

    device: torch.device
    on_gpu: bool


def _brief(value: Any) -> str:
    """A short form of a setting for the one-line note."""
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"<{len(value)} values>"
    return repr(value)


def device_setting(*, cpu: dict[str, Any], gpu: dict[str, Any],
                   device: torch.device | str | None = None,
                   verbose: bool = True) -> DeviceSetting:
    """Choose the size of an experiment by the device it runs on.

    This is the book's "GPU cell" mechanism. A cell that would teach more
    with a larger run states both sizes; on a GPU it runs the large one, on
    a CPU the small one, and either way it prints one line saying which,
    so a reader never wonders why their numbers differ from the book's.

    Args:
        cpu: the setting (e.g. ``{"n": 2_000, "epochs": 20}``) for a CPU.
        gpu: the setting for a GPU; must have the same keys as ``cpu``.
        device: the device to use; default :func:`get_device`.
        verbose: print the one-line note (default ``True``).

    Returns:
        A :class:`DeviceSetting` (a dict of the chosen values) whose
        ``device`` attribute is the device to compute on.

    Example:
        >>> s = device_setting(cpu={"n": 10}, gpu={"n": 1000},
        ...                    device="cpu", verbose=False)
        >>> s["n"], s.device
        (10, device(type='cpu'))
    """
    if not isinstance(cpu, dict) or not isinstance(gpu, dict):
        bad = cpu if not isinstance(cpu, dict) else gpu
        name = "cpu" if not isinstance(cpu, dict) else "gpu"
        raise param_error(name, "device_setting", "a dict", bad,
                          exc=TypeError)
    if set(cpu) != set(gpu):
        raise ValueError(
            "The 'cpu' and 'gpu' parameters of device_setting must have the "
            f"same keys. Got {sorted(cpu)} and {sorted(gpu)} instead."
        )
    dev = get_device() if device is None else torch.device(device)
    on_gpu = dev.type in ("cuda", "mps")
    chosen = DeviceSetting(gpu if on_gpu else cpu)
    chosen.device = dev
    chosen.on_gpu = on_gpu
    if verbose:
        shown = ", ".join(f"{k}={_brief(v)}" for k, v in chosen.items())
        if on_gpu:
            print(f"[GPU cell] running on {dev}: the full setting ({shown}).")
        else:
            print(f"[GPU cell] no GPU: smaller CPU setting ({shown}).")
    return chosen
