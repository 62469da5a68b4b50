"""Benchmark: reglab.SGD.step against torch.optim.SGD in the same run.

Prints the time of one optimizer step and the ratio to torch's
single-tensor implementation (``foreach=False``), its default
(``foreach=None``) and ``fused=True`` where available, for ~10 M parameters
held in a few large tensors and in many small ones. A benchmark, not a
test: run it with ``python benchmarks/bench_sgd.py [--device cuda]``.
"""

from __future__ import annotations

import argparse
import time

import torch

import reglab


def make_params(layout: str, device, total=10_000_000):
    sizes = [total // 4] * 4 if layout == "large" else [total // 2000] * 2000
    params = [torch.zeros(n, device=device, requires_grad=True)
              for n in sizes]
    for p in params:
        p.grad = torch.randn_like(p)
    return params


def time_step(opt, device, repeat: int) -> float:
    for _ in range(3):  # warm-up, allocates the momentum buffers
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    device = reglab.get_device(args.device)
    options = dict(lr=0.01, momentum=0.9, weight_decay=1e-4)
    print(f"device: {device}, torch {torch.__version__}, "
          f"threads: {torch.get_num_threads()}")
    print(f"{'layout':8} {'implementation':22} {'ms/step':>9} "
          f"{'vs foreach=False':>17}")
    for layout in ("large", "small"):
        variants = {
            "reglab.SGD": lambda p: reglab.SGD(p, **options),
            "torch foreach=False": lambda p: torch.optim.SGD(
                p, foreach=False, **options),
            "torch default": lambda p: torch.optim.SGD(p, **options),
        }
        if device.type == "cuda":
            variants["torch fused=True"] = lambda p: torch.optim.SGD(
                p, fused=True, **options)
        times = {name: time_step(make(make_params(layout, device)), device,
                                 args.repeat)
                 for name, make in variants.items()}
        base = times["torch foreach=False"]
        for name, t in times.items():
            print(f"{layout:8} {name:22} {t * 1e3:9.2f} "
                  f"{t / base:17.2f}")


if __name__ == "__main__":
    main()
