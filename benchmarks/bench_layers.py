"""Benchmark: reglab's dropout, batch norm and cross-entropy against the
built-ins, forward + backward, in the same run.

Prints the time of one forward + backward pass and the ratio
reglab / built-in (target: at most 2) for dropout on a 4096×4096 tensor,
2-D batch normalisation on (64, 64, 32, 32) and cross-entropy on
(4096, 1000) logits, on the CPU and, when present, on CUDA. A benchmark,
not a test: run it with ``python benchmarks/bench_layers.py
[--device cpu|cuda] [--repeat 10] [--threads N]``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

import reglab.layers
import reglab.losses


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _once(fn, inputs, device) -> float:
    for t in inputs:
        t.grad = None
    _sync(device)
    start = time.perf_counter()
    fn(*inputs).sum().backward()
    _sync(device)
    return time.perf_counter() - start


def time_pair(ours, ref, inputs, device, repeat: int):
    """Best-of-``repeat`` seconds of ``fn(*inputs).sum().backward()`` for
    both functions, interleaved so that both see the same machine load
    (the minimum is the least disturbed run, as ``timeit`` advises)."""
    for fn in (ours, ref):  # warm-up
        _once(fn, inputs, device)
    t_ours, t_ref = [], []
    for _ in range(repeat):
        t_ours.append(_once(ours, inputs, device))
        t_ref.append(_once(ref, inputs, device))
    return min(t_ours), min(t_ref)


def cases(device):
    """(name, reglab function, built-in function, inputs) per workload."""
    g = torch.Generator(device=device).manual_seed(0)

    def rand(*shape, grad=True):
        x = torch.randn(*shape, generator=g, device=device)
        return x.requires_grad_(grad)

    x = rand(4096, 4096)
    yield ("dropout 4096x4096 p=0.5",
           lambda x: reglab.layers.dropout(x, 0.5),
           lambda x: F.dropout(x, 0.5), (x,))
    x, w, b = rand(64, 64, 32, 32), rand(64), rand(64)
    rm, rv = torch.zeros(64, device=device), torch.ones(64, device=device)
    yield ("batch_norm (64,64,32,32) train",
           lambda x, w, b: reglab.layers.batch_norm(x, rm, rv, w, b, True),
           lambda x, w, b: F.batch_norm(x, rm, rv, w, b, True), (x, w, b))
    yield ("batch_norm (64,64,32,32) eval",
           lambda x, w, b: reglab.layers.batch_norm(x, rm, rv, w, b),
           lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (x, w, b))
    z = rand(4096, 1000)
    y = torch.randint(0, 1000, (4096,), generator=g, device=device)
    yield ("cross_entropy (4096,1000)",
           lambda z: reglab.losses.cross_entropy(z, y),
           lambda z: F.cross_entropy(z, y), (z,))
    yield ("cross_entropy ls=0.1",
           lambda z: reglab.losses.cross_entropy(z, y, label_smoothing=0.1),
           lambda z: F.cross_entropy(z, y, label_smoothing=0.1), (z,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None,
                        help="cpu or cuda (default: cpu, and cuda too "
                             "when present)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device is None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    else:
        devices = [args.device]
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    print(f"{'device':6} {'workload':32} {'reglab ms':>10} {'torch ms':>9} "
          f"{'ratio':>6}")
    for name in devices:
        device = torch.device(name)
        for label, ours, ref, inputs in cases(device):
            t_ours, t_ref = time_pair(ours, ref, inputs, device,
                                      args.repeat)
            print(f"{device.type:6} {label:32} {t_ours * 1e3:10.2f} "
                  f"{t_ref * 1e3:9.2f} {t_ours / t_ref:6.2f}")


if __name__ == "__main__":
    main()
