"""Benchmark: reglab's KFold / StratifiedKFold against scikit-learn's.

Times one full pass over the folds of ``split`` (drawing the folds and
materialising every ``(train_idx, val_idx)`` pair) on 1 M samples, with
``shuffle=False`` and ``shuffle=True``, ours and scikit-learn's in the same
run, and prints the milliseconds and the ratio ours / scikit-learn. A
benchmark, not a test: ``python benchmarks/bench_model_selection.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sklearn
import sklearn.model_selection as skms

from reglab.model_selection import KFold, StratifiedKFold


def time_split(splitter, X, y, repeat: int) -> float:
    """Best of ``repeat`` full passes over ``splitter.split(X, y)``, in s."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in splitter.split(X, y):
            pass
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-splits", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    X = np.zeros((args.n, 1), dtype=np.float32)
    y = np.random.RandomState(0).choice(10, size=args.n,
                                        p=np.linspace(1, 10, 10) / 55)
    print(f"n = {args.n:,}, n_splits = {args.n_splits}, numpy "
          f"{np.__version__}, scikit-learn {sklearn.__version__}, best of "
          f"{args.repeat}")
    print(f"{'splitter':16} {'shuffle':>7} {'reglab ms':>10} "
          f"{'sklearn ms':>11} {'ratio':>6}")
    pairs = [("KFold", KFold, skms.KFold),
             ("StratifiedKFold", StratifiedKFold, skms.StratifiedKFold)]
    for name, ours, theirs in pairs:
        for shuffle in (False, True):
            seed = 0 if shuffle else None
            t_ours = time_split(ours(args.n_splits, shuffle=shuffle,
                                     random_state=seed), X, y, args.repeat)
            t_sk = time_split(theirs(args.n_splits, shuffle=shuffle,
                                     random_state=seed), X, y, args.repeat)
            print(f"{name:16} {shuffle!s:>7} {t_ours * 1e3:10.1f} "
                  f"{t_sk * 1e3:11.1f} {t_ours / t_sk:6.2f}")


if __name__ == "__main__":
    main()
