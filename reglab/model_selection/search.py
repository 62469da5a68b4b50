r"""Cross-validation and grid search (book chapter "Model selection").

With folds :math:`k = 1, \dots, K` (validation fold
:math:`\mathcal V_k`) and the score :math:`\hat R_k(\vartheta)` on
:math:`\mathcal V_k` of a model with hyper-parameters :math:`\vartheta`
trained on the other folds, the cross-validation estimate and its spread
are

.. math::

    \mathrm{CV}(\vartheta) = \frac1K \sum_{k=1}^K \hat R_k(\vartheta), \qquad
    \mathrm{sd}(\vartheta) = \Big(\frac1K \sum_{k=1}^K
        \big(\hat R_k(\vartheta) - \mathrm{CV}(\vartheta)\big)^2\Big)^{1/2},

and grid search picks :math:`\hat\vartheta = \arg\max_\vartheta
\mathrm{CV}(\vartheta)` for a score (``mode="max"``) or
:math:`\arg\min` for a loss (``mode="min"``).

The model is whatever the caller's ``fit_and_score`` trains: a torch
network, a closed-form ridge solution, a scikit-learn estimator.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._validation import check_choice, check_int, param_error
from .split import KFold, _num_samples

__all__ = ["GridSearchResult", "cross_validate", "grid_search_cv"]


def _check_callable(f, owner: str) -> None:
    if not callable(f):
        raise param_error(
            "fit_and_score", owner,
            "a callable fit_and_score(X_train, y_train, X_val, y_val)", f,
            exc=TypeError)


def _check_lengths(X, y, owner: str) -> int:
    n = _num_samples(X, owner)
    if y is not None:
        n_y = _num_samples(y, owner, "y")
        if n_y != n:
            raise ValueError(
                f"The 'y' parameter of {owner} must have one entry per "
                f"sample of X ({n}). Got {n_y} entries instead.")
    return n


def _splits(cv, X, y, owner: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, val) index pairs that ``cv`` describes, as a list, so
    that every candidate of a grid search sees the same folds."""
    allowed = ("an int >= 2, a splitter with a split(X, y) method such as "
               "KFold, or an iterable of (train_idx, val_idx) pairs")
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = KFold(check_int(cv, "cv", owner, low=2))
    if isinstance(cv, (str, bytes)):
        raise param_error("cv", owner, allowed, cv, exc=TypeError)
    if hasattr(cv, "split"):
        pairs = cv.split(X, y)
    elif isinstance(cv, Iterable):
        pairs = cv
    else:
        raise param_error("cv", owner, allowed, cv, exc=TypeError)
    splits = []
    for pair in pairs:
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise param_error("cv", owner, allowed, cv)
        splits.append(tuple(np.asarray(p, dtype=np.int64) for p in pair))
    if not splits:
        raise param_error("cv", owner, allowed + " (at least one)", cv)
    return splits


def _take(data, idx: np.ndarray):
    """Rows ``idx`` of an array, tensor, DataFrame or list (None stays
    None)."""
    if data is None:
        return None
    if isinstance(data, torch.Tensor):
        return data[torch.as_tensor(idx, device=data.device)]
    if isinstance(data, np.ndarray):
        return data[idx]
    if hasattr(data, "iloc"):  # pandas
        return data.iloc[idx]
    return [data[i] for i in idx]


def _score(fit_and_score, folds, params: dict, owner: str) -> np.ndarray:
    scores = []
    for X_tr, y_tr, X_va, y_va in folds:
        s = fit_and_score(X_tr, y_tr, X_va, y_va, **params)
        try:
            scores.append(float(s))
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"The 'fit_and_score' parameter of {owner} must return a "
                f"number (a float or a one-element tensor). Got {s!r} "
                f"instead.") from None
    return np.array(scores)


def _fold_data(X, y, splits):
    return [(_take(X, tr), _take(y, tr), _take(X, va), _take(y, va))
            for tr, va in splits]


def cross_validate(fit_and_score: Callable, X, y, cv) -> np.ndarray:
    r"""The score of each fold of a cross-validation.

    Calls ``fit_and_score(X_train, y_train, X_val, y_val)`` once per fold
    (which should train a fresh model on the training part and return its
    score on the validation part) and returns the scores
    :math:`\hat R_1, \dots, \hat R_K`. Their mean is the cross-validation
    estimate :math:`\mathrm{CV} = \frac1K\sum_k \hat R_k` of the model's
    performance.

    The counterpart of ``sklearn.model_selection.cross_val_score(
    estimator, X, y, cv=cv)``, with a function instead of an estimator.
    (scikit-learn's own ``cross_validate`` returns a dict of timings and
    scores; this one returns just the scores, as ``cross_val_score``.)

    Args:
        fit_and_score: ``fit_and_score(X_train, y_train, X_val, y_val)``
            → a number (a float or a one-element tensor).
        X: the inputs: a NumPy array, tensor, DataFrame or list, one row
            per sample. Parts are taken with the same type.
        y: the targets (same length as ``X``), or ``None``.
        cv: a splitter with ``split(X, y)`` (:class:`KFold`,
            :class:`StratifiedKFold`, or scikit-learn's), an iterable of
            ``(train_idx, val_idx)`` pairs, or an int ``K`` for
            ``KFold(K)`` — unshuffled, also for classifiers
            (scikit-learn would stratify a classifier's folds; pass a
            :class:`StratifiedKFold` for that).

    Returns:
        A float64 NumPy array of the ``K`` fold scores, in fold order.

    Raises:
        TypeError: ``fit_and_score`` is not callable or does not return a
            number; ``cv`` is of an unknown kind.
        ValueError: ``X`` and ``y`` differ in length; a bad ``cv``.

    Example:
        >>> X = np.arange(6.0).reshape(-1, 1); y = 2 * X[:, 0]
        >>> def fit_and_score(X_tr, y_tr, X_va, y_va):
        ...     w = (X_tr[:, 0] @ y_tr) / (X_tr[:, 0] @ X_tr[:, 0])
        ...     return float(np.mean((w * X_va[:, 0] - y_va) ** 2))
        >>> cross_validate(fit_and_score, X, y, cv=3)
        array([0., 0., 0.])

    References:
        M. Stone, "Cross-validatory choice and assessment of statistical
        predictions", J. R. Stat. Soc. B 36 (1974). Hastie, Tibshirani &
        Friedman, *The Elements of Statistical Learning*, §7.10. Book
        chapter "Model selection".
    """
    owner = "cross_validate"
    _check_callable(fit_and_score, owner)
    _check_lengths(X, y, owner)
    folds = _fold_data(X, y, _splits(cv, X, y, owner))
    return _score(fit_and_score, folds, {}, owner)


def _expand_grid(param_grid, owner: str) -> list[dict]:
    """All candidates of a grid, in scikit-learn's ``ParameterGrid``
    order: dicts in turn, keys sorted, the last key varying fastest."""
    allowed = "a dict of lists of values, or a list of such dicts"
    grids = [param_grid] if isinstance(param_grid, Mapping) else param_grid
    if not isinstance(grids, (list, tuple)) or not all(
            isinstance(g, Mapping) for g in grids):
        raise param_error("param_grid", owner, allowed, param_grid,
                          exc=TypeError)
    if not grids:
        raise param_error("param_grid", owner, allowed + " (at least one)",
                          param_grid)
    candidates = []
    for grid in grids:
        for key, values in grid.items():
            if not isinstance(key, str) or isinstance(
                    values, (str, bytes)) or not isinstance(
                    values, (Sequence, np.ndarray)):
                raise TypeError(
                    f"The 'param_grid' parameter of {owner} must map each "
                    f"name (a str) to a list of values. Got {key!r}: "
                    f"{values!r} instead; wrap a single value in a list.")
            if len(values) == 0:
                raise ValueError(
                    f"The 'param_grid' parameter of {owner} must map each "
                    f"name to a non-empty list of values. Got {key!r}: "
                    f"{values!r} instead.")
        keys = sorted(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            candidates.append(dict(zip(keys, values)))
    return candidates


def _ranks(means: np.ndarray, mode: str) -> np.ndarray:
    """1 for the best mean, ties share the smaller rank, NaN ranks last."""
    key = np.where(np.isnan(means), np.inf, -means if mode == "max"
                   else means)
    return np.array([1 + int(np.sum(key < k)) for k in key])


@dataclass(eq=False)
class GridSearchResult:
    r"""What :func:`grid_search_cv` found: the best candidate and the
    cross-validation table of every candidate.

    Printing it (or leaving it as the last line of a notebook cell) shows
    the table, the best candidate marked with ``*``.

    Attributes:
        best_params: the hyper-parameters :math:`\hat\vartheta` with the best
            mean score (the first one on ties).
        best_score: its mean score :math:`\mathrm{CV}(\hat\vartheta)`.
        best_index: its position in ``params``.
        params: every candidate, in grid order.
        mean_score: :math:`\mathrm{CV}(\vartheta)` per candidate.
        std_score: the standard deviation of the fold scores per candidate
            (``ddof=0``, as scikit-learn's ``std_test_score``).
        fold_scores: the scores, shape ``(n_candidates, n_splits)``.
        mode: ``"max"`` (scores) or ``"min"`` (losses).

    Example:
        >>> r = GridSearchResult({"lam": 0.1}, 0.5, 1, [{"lam": 0.0},
        ...     {"lam": 0.1}], np.array([0.4, 0.5]), np.array([0.1, 0.2]),
        ...     np.array([[0.3, 0.5], [0.3, 0.7]]), "max")
        >>> print(r)
        GridSearchResult(mode='max', 2 candidates × 2 folds)
             rank  lam    mean     std
                2    0     0.4     0.1
           *    1  0.1     0.5     0.2
        best: lam=0.1, mean 0.5 ± 0.2 (std over 2 folds)
        >>> r.table[1]["rank"]
        1
    """

    best_params: dict
    best_score: float
    best_index: int
    params: list[dict]
    mean_score: np.ndarray
    std_score: np.ndarray
    fold_scores: np.ndarray
    mode: str = "max"

    @property
    def rank(self) -> np.ndarray:
        """The rank of each candidate (1 = best; NaN means rank last)."""
        return _ranks(np.asarray(self.mean_score, dtype=float), self.mode)

    @property
    def table(self) -> list[dict]:
        """One dict per candidate: ``params``, ``mean_score``,
        ``std_score``, ``rank`` (e.g. for ``pandas.DataFrame(...)``)."""
        return [{"params": p, "mean_score": float(m), "std_score": float(s),
                 "rank": int(r)}
                for p, m, s, r in zip(self.params, self.mean_score,
                                      self.std_score, self.rank)]

    def to_text(self) -> str:
        """The table as aligned text (this is what ``print`` shows)."""
        keys = sorted({k for p in self.params for k in p})
        header = ["", "rank", *keys, "mean", "std"]
        rows = []
        for i, row in enumerate(self.table):
            rows.append(["*" if i == self.best_index else "",
                         str(row["rank"]),
                         *(_fmt(row["params"].get(k, "")) for k in keys),
                         _fmt(row["mean_score"]), _fmt(row["std_score"])])
        widths = [max(len(r[j]) for r in [header, *rows])
                  for j in range(len(header))]
        lines = [f"GridSearchResult(mode={self.mode!r}, {len(self.params)} "
                 f"candidates × {self.fold_scores.shape[1]} folds)"]
        for r in [header, *rows]:
            lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths)))
        shown = ", ".join(f"{k}={_fmt(v)}"
                          for k, v in self.best_params.items())
        lines.append(
            f"best: {shown or '{}'}, mean {_fmt(self.best_score)} ± "
            f"{_fmt(self.std_score[self.best_index])} (std over "
            f"{self.fold_scores.shape[1]} folds)")
        return "\n".join(lines)

    __repr__ = to_text


def _fmt(v) -> str:
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return f"{float(v):.4g}"
    return str(v)


def grid_search_cv(fit_and_score: Callable, X, y, param_grid, cv,
                   mode: str = "max") -> GridSearchResult:
    r"""Choose hyper-parameters by cross-validation over a grid.

    For every candidate :math:`\vartheta` of ``param_grid`` it calls
    ``fit_and_score(X_train, y_train, X_val, y_val, **params)`` on each
    fold — the hyper-parameters arrive as keyword arguments — and
    records the mean :math:`\mathrm{CV}(\vartheta) = \frac1K\sum_k
    \hat R_k(\vartheta)` and the standard deviation of the fold scores.
    The best candidate maximises (``mode="max"``, scores such as accuracy or
    :math:`R^2`) or minimises (``mode="min"``, losses) the mean; ties go
    to the first candidate in grid order, candidates with a NaN mean are
    never chosen.

    As in scikit-learn's ``GridSearchCV``: the folds are drawn once and
    shared by all candidates; the candidates come in ``ParameterGrid``
    order (dicts in turn, keys sorted, the last key varying fastest), so
    ``mean_score`` lines up with ``cv_results_["mean_test_score"]``.
    Unlike it, nothing is refitted: train the final model on all of
    ``X, y`` with ``best_params`` yourself. A common refinement is the
    one-standard-error rule (ESL §7.10): take the simplest candidate whose
    mean is within :math:`\mathrm{sd}/\sqrt K` of the best.

    Args:
        fit_and_score: ``fit_and_score(X_train, y_train, X_val, y_val,
            **params)`` → a number.
        X: the inputs (NumPy array, tensor, DataFrame or list).
        y: the targets (same length as ``X``), or ``None``.
        param_grid: ``{name: [values, ...]}`` or a list of such dicts.
        cv: as in :func:`cross_validate` (a splitter, pairs, or an int).
        mode: ``"max"`` for a score, ``"min"`` for a loss.

    Returns:
        A :class:`GridSearchResult`.

    Raises:
        TypeError: ``fit_and_score`` not callable or not returning a
            number; a malformed ``param_grid`` or ``cv``.
        ValueError: an empty ``param_grid``, an unknown ``mode``, or every
            candidate scoring NaN.

    Example:
        >>> X = np.arange(8.0).reshape(-1, 1); y = 3 * X[:, 0]
        >>> def fit_and_score(X_tr, y_tr, X_va, y_va, w):
        ...     return float(np.mean((w * X_va[:, 0] - y_va) ** 2))
        >>> r = grid_search_cv(fit_and_score, X, y, {"w": [1, 2, 3, 4]},
        ...                    cv=2, mode="min")
        >>> r.best_params, r.best_score
        ({'w': 3}, 0.0)

    References:
        Hastie, Tibshirani & Friedman, *The Elements of Statistical
        Learning*, §7.10. Book chapter "Model selection".
    """
    owner = "grid_search_cv"
    _check_callable(fit_and_score, owner)
    mode = check_choice(mode, "mode", owner, ("max", "min"))
    candidates = _expand_grid(param_grid, owner)
    _check_lengths(X, y, owner)
    folds = _fold_data(X, y, _splits(cv, X, y, owner))
    fold_scores = np.stack([_score(fit_and_score, folds, p, owner)
                            for p in candidates])
    mean = fold_scores.mean(axis=1)  # CV(ϑ) = (1/K) Σ_k R̂_k(ϑ)
    std = fold_scores.std(axis=1)  # ddof=0, as scikit-learn
    if np.all(np.isnan(mean)):
        raise ValueError(
            f"{owner} found no usable candidate: every one of the "
            f"{len(candidates)} candidates had a NaN mean score. Check "
            "that fit_and_score returns finite numbers.")
    best = int(np.argmin(_ranks(mean, mode)))  # first of the best
    return GridSearchResult(
        best_params=candidates[best], best_score=float(mean[best]),
        best_index=best, params=candidates, mean_score=mean,
        std_score=std, fold_scores=fold_scores, mode=mode)
