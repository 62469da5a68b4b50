"""Benchmark: one step of reglab's optimizers against torch.optim's, same run.

For SGD (momentum 0.9, weight decay 1e-4), Adam (defaults), AdamW
(defaults: weight decay 1e-2) and RMSprop (defaults), on ~10 M float32
parameters held in a few large tensors (4 x 2.5 M) and in many small ones
(2000 x 5000), it prints the median time of one ``step()``, the ratio to
torch's single-tensor implementation (``foreach=False``), and the achieved
memory bandwidth next to that of a plain tensor copy of the same size,
measured in the same run, and the minor page faults per step (large
temporary tensors are returned to the OS when freed and faulted in again
at the next step). The variants are timed in turn, step by step, so that a
slow patch of the machine hits them all alike.

The bandwidth counts the bytes that one fused pass over the data must read
and write, per float32 element (4 bytes per tensor touched):

* copy ``dst.copy_(src)``: read src, write dst: 2 x 4 = 8 bytes;
* SGD with momentum: read theta, g, b; write b, theta: 5 x 4 = 20 bytes;
* Adam, AdamW: read theta, g, m, v; write theta, m, v: 7 x 4 = 28 bytes;
* RMSprop (momentum 0): read theta, g, v; write v, theta: 5 x 4 = 20 bytes.

An unfused implementation moves more than that (each tensor operation is a
separate pass, with temporaries), so its figure is an *effective*
bandwidth: how close the step comes to the copy's speed of light.

A benchmark, not a test: ``python benchmarks/bench_optim.py [--device
cuda] [--repeat 20] [--threads N]``. On a small shared CPU machine, use
``--threads 1`` or ``OMP_WAIT_POLICY=passive``: with OpenMP's default
(spinning) wait policy, a parallel region stalls whenever another process
holds one of the cores (we measured a 10 MB copy 15 times slower, 2.5
instead of 35 GB/s, on the 2-core course machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

try:
    from resource import RUSAGE_SELF, getrusage
except ImportError:  # not on Windows
    getrusage = None

import torch

import reglab

TOTAL = 10_000_000
LAYOUTS = {"large": [TOTAL // 4] * 4, "small": [TOTAL // 2000] * 2000}
BYTES_COPY = 8
# name: (reglab class, torch class, options, bytes per element, has fused)
OPTIMIZERS = {
    "SGD": (reglab.optim.SGD, torch.optim.SGD,
            dict(lr=0.01, momentum=0.9, weight_decay=1e-4), 20, True),
    "Adam": (reglab.optim.Adam, torch.optim.Adam, dict(lr=1e-3), 28, True),
    "AdamW": (reglab.optim.AdamW, torch.optim.AdamW, dict(lr=1e-3), 28,
              True),
    "RMSprop": (reglab.optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-3),
                20, False),
}


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_params(sizes, device):
    gen = torch.Generator(device=device).manual_seed(0)
    params = [torch.zeros(n, device=device, requires_grad=True)
              for n in sizes]
    for p in params:
        p.grad = torch.randn(p.shape, device=device, generator=gen)
    return params


def _minor_faults() -> int:
    return getrusage(RUSAGE_SELF).ru_minflt if getrusage else 0


def time_interleaved(steps: dict, device, repeat: int) -> dict:
    """Median seconds and mean minor page faults of each callable, timed
    in turn ``repeat`` times after three warm-up calls each (which allocate
    the state and fault in the memory)."""
    for fn in steps.values():
        for _ in range(3):
            fn()
    _sync(device)
    times = {name: [] for name in steps}
    faults = dict.fromkeys(steps, 0)
    for _ in range(repeat):
        for name, fn in steps.items():
            before = _minor_faults()
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
            faults[name] += _minor_faults() - before
    return {name: (statistics.median(t), faults[name] / repeat)
            for name, t in times.items()}


def copy_bandwidth(sizes, device, repeat: int) -> float:
    """GB/s of ``dst.copy_(src)`` over tensors of the given sizes."""
    src = [torch.randn(n, device=device) for n in sizes]
    dst = [torch.empty_like(s) for s in src]

    def copy():
        for d, s in zip(dst, src):
            d.copy_(s)

    t, _ = time_interleaved({"copy": copy}, device, repeat)["copy"]
    return BYTES_COPY * sum(sizes) / t / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = reglab.get_device(args.device)
    print(f"device: {device}, torch {torch.__version__}, "
          f"threads: {torch.get_num_threads()}, "
          f"{TOTAL / 1e6:.0f} M float32 parameters, "
          f"median of {args.repeat} steps")
    header = (f"{'optimizer':8} {'layout':6} {'implementation':20} "
              f"{'ms/step':>8} {'vs foreach=False':>16} {'GB/s':>6} "
              f"{'copy GB/s':>9} {'faults/step':>11}")
    print(header)
    print("-" * len(header))
    for layout, sizes in LAYOUTS.items():
        copy_gbs = copy_bandwidth(sizes, device, args.repeat)
        for name, (ours, theirs, options, nbytes, fused) in \
                OPTIMIZERS.items():
            params = make_params(sizes, device)
            variants = {
                f"reglab.{name}": ours(params, **options),
                "torch foreach=False": theirs(params, foreach=False,
                                              **options),
                "torch default": theirs(params, **options),
            }
            if fused:
                variants["torch fused=True"] = theirs(params, fused=True,
                                                      **options)
            times = time_interleaved(
                {k: opt.step for k, opt in variants.items()}, device,
                args.repeat)
            base = times["torch foreach=False"][0]
            for impl, (t, faults) in times.items():
                gbs = nbytes * TOTAL / t / 1e9
                print(f"{name:8} {layout:6} {impl:20} {t * 1e3:8.2f} "
                      f"{t / base:16.2f} {gbs:6.1f} {copy_gbs:9.1f} "
                      f"{faults:11.0f}")
            del variants, params


if __name__ == "__main__":
    main()
