r"""K-fold splitters (book chapter "Model selection").

Both splitters give every sample a validation fold :math:`f(i) \in
\{0, \dots, K-1\}`; split :math:`k` validates on :math:`\{i : f(i) = k\}`
and trains on the rest. Indices are returned sorted, as scikit-learn does.

Randomness comes only from ``random_state``, through a local
``numpy.random.RandomState``; the global NumPy generator is never used.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np
import torch

from .._validation import check_bool, check_int, param_error

__all__ = ["KFold", "StratifiedKFold"]

_MAX_SEED = 2**32 - 1


def _check_random_state(random_state, shuffle: bool, owner: str):
    """Validate ``random_state`` at construction time."""
    allowed = ("None, an int in the range [0, 4294967295] or a "
               "numpy.random.RandomState")
    if random_state is None or isinstance(random_state,
                                          np.random.RandomState):
        pass
    elif (isinstance(random_state, numbers.Integral)
          and not isinstance(random_state, bool)):
        if not 0 <= random_state <= _MAX_SEED:
            raise param_error("random_state", owner, allowed, random_state)
    else:
        raise param_error("random_state", owner, allowed, random_state,
                          exc=TypeError)
    if not shuffle and random_state is not None:
        # scikit-learn refuses this too: the seed would have no effect.
        raise param_error("random_state", owner,
                          "None when shuffle=False (it would have no "
                          "effect; set shuffle=True to use it)",
                          random_state)
    return random_state


def _rng(random_state) -> np.random.RandomState:
    """The generator for one call of ``split``.

    An int seeds a new generator each time (so every call gives the same
    folds); a ``RandomState`` is used as is (so successive calls differ);
    ``None`` gives a fresh generator seeded by the operating system
    (scikit-learn would use NumPy's *global* generator instead).
    """
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


def _num_samples(X, owner: str, name: str = "X") -> int:
    """The number of samples (rows) of an array, tensor or list."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if shape is None and hasattr(X, "__len__") and not isinstance(
            X, (str, bytes, dict)):
        return len(X)
    raise TypeError(
        f"The {name!r} parameter of {owner} must be an array, tensor or list "
        f"with one row per sample. Got {type(X).__name__} "
        f"{X!r} instead.")


def _as_numpy_labels(y, owner: str, n_samples: int) -> np.ndarray:
    """Class labels as a 1-d NumPy array of length ``n_samples``."""
    if y is None:
        raise ValueError(
            f"The 'y' parameter of {owner} must hold the class labels "
            "(StratifiedKFold needs them to stratify). Got None instead.")
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # a label column such as a BCE target
    if y.ndim != 1:
        raise ValueError(
            f"The 'y' parameter of {owner} must be 1-d (or one column) of "
            f"class labels. Got an array of shape {y.shape} instead.")
    if len(y) != n_samples:
        raise ValueError(
            f"The 'y' parameter of {owner} must have one label per sample "
            f"of X ({n_samples}). Got {len(y)} labels instead.")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == y.round())):
        raise ValueError(
            f"The 'y' parameter of {owner} must hold class labels (ints, "
            "strings or integer-valued floats). Got continuous values "
            f"such as {y[~(y == y.round())][:3]} instead.")
    return y


class _KFoldBase:
    """What KFold and StratifiedKFold share: arguments, the check of
    ``n_splits`` against the data, and turning fold labels into indices."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state=None):
        owner = type(self).__name__
        self.n_splits = check_int(n_splits, "n_splits", owner, low=2)
        self.shuffle = check_bool(shuffle, "shuffle", owner)
        self.random_state = _check_random_state(random_state, shuffle,
                                                owner)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of splits, ``n_splits`` (the arguments are ignored,
        as in scikit-learn).

        Example:
            >>> KFold(3).get_n_splits()
            3
        """
        return self.n_splits

    def _check_n_samples(self, X) -> int:
        owner = f"{type(self).__name__}.split"
        n = _num_samples(X, owner)
        if self.n_splits > n:
            raise ValueError(
                f"The 'n_splits' parameter of {type(self).__name__} must be "
                f"<= the number of samples ({n}) to split. Got "
                f"{self.n_splits} instead.")
        return n

    def _fold_of(self, X, y) -> np.ndarray:
        raise NotImplementedError

    def split(self, X, y=None, groups=None) -> Iterator[
            tuple[np.ndarray, np.ndarray]]:
        """Iterate over ``(train_idx, val_idx)`` for each of the
        ``n_splits`` folds: sorted ``int64`` NumPy arrays that partition
        ``range(n_samples)``.

        The arguments are checked and the folds drawn when ``split`` is
        called (scikit-learn waits for the first iteration), so a bad
        argument is reported on the line that calls it.

        Args:
            X: the data (array, tensor or list), one row per sample; only
                its length is used.
            y: the labels (required by :class:`StratifiedKFold`, ignored by
                :class:`KFold`).
            groups: ignored; accepted for scikit-learn compatibility.

        Returns:
            An iterator over ``(train_idx, val_idx)`` pairs.

        Raises:
            ValueError: if ``n_splits`` exceeds the number of samples.
        """
        fold_of = self._fold_of(X, y)  # f(i): the validation fold of i
        return self._iter_splits(fold_of)

    def _iter_splits(self, fold_of: np.ndarray):
        for k in range(self.n_splits):
            is_val = fold_of == k
            yield np.flatnonzero(~is_val), np.flatnonzero(is_val)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, "
                f"shuffle={self.shuffle}, "
                f"random_state={self.random_state!r})")


class KFold(_KFoldBase):
    r"""K-fold cross-validation splits, identical to scikit-learn's.

    The samples (shuffled first if ``shuffle=True``) are cut into ``K`` =
    ``n_splits`` consecutive blocks; the first :math:`n \bmod K` blocks
    have :math:`\lfloor n/K \rfloor + 1` samples, the others
    :math:`\lfloor n/K \rfloor`. Split :math:`k` validates on block
    :math:`k` and trains on the other :math:`K-1`.

    The folds equal those of ``sklearn.model_selection.KFold`` with the
    same arguments: the shuffle is ``RandomState(random_state).shuffle``
    applied to ``arange(n)``, as in scikit-learn.

    Randomness, as in scikit-learn: an int ``random_state`` gives the same
    folds on every call of :meth:`split`; a ``numpy.random.RandomState``
    advances, so successive calls give different folds. With
    ``random_state=None`` (and ``shuffle=True``) the folds are **not
    reproducible**: they come from a fresh generator seeded by the
    operating system. Unlike scikit-learn, which draws from NumPy's global
    generator here, ``np.random.seed`` does not fix them — pass an int.

    Args:
        n_splits: the number of folds :math:`K \ge 2`.
        shuffle: shuffle the samples before cutting them into blocks.
        random_state: ``None``, an int seed in :math:`[0, 2^{32})` or a
            ``numpy.random.RandomState``; must be ``None`` when
            ``shuffle=False`` (scikit-learn refuses it too).

    Raises:
        ValueError: ``n_splits < 2``; a ``random_state`` without
            ``shuffle``; (in :meth:`split`) ``n_splits > n_samples``.
        TypeError: arguments of the wrong type.

    Example:
        >>> for train, val in KFold(3).split(np.zeros(5)):
        ...     print(train, val)
        [2 3 4] [0 1]
        [0 1 4] [2 3]
        [0 1 2 3] [4]
        >>> kf = KFold(3, shuffle=True, random_state=0)
        >>> [val.tolist() for _, val in kf.split(range(6))]
        [[2, 5], [1, 3], [0, 4]]

    References:
        M. Stone, "Cross-validatory choice and assessment of statistical
        predictions", J. R. Stat. Soc. B 36 (1974). Hastie, Tibshirani &
        Friedman, *The Elements of Statistical Learning*, §7.10. Book
        chapter "Model selection".
    """

    def _fold_of(self, X, y) -> np.ndarray:
        n = self._check_n_samples(X)
        order = np.arange(n)
        if self.shuffle:
            _rng(self.random_state).shuffle(order)  # as scikit-learn
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1  # the first n mod K get one more
        fold_of = np.empty(n, dtype=np.int64)
        fold_of[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold_of


class StratifiedKFold(_KFoldBase):
    r"""K-fold splits that keep each class's share in every fold.

    Guarantees, for :math:`n` samples, :math:`K` = ``n_splits`` and a class
    with :math:`n_c` members:

    - every sample is in exactly one validation fold;
    - validation folds have :math:`\lfloor n/K \rfloor` or
      :math:`\lceil n/K \rceil` samples (sizes differ by at most one);
    - each validation fold holds :math:`\lfloor n_c/K \rfloor` or
      :math:`\lceil n_c/K \rceil` members of the class, i.e. within one
      of its share :math:`n_c/K`.

    The algorithm is scikit-learn's (so the folds equal
    ``sklearn.model_selection.StratifiedKFold``'s with the same
    arguments): sort the labels, deal the sorted list round-robin to the
    folds to get each fold's count per class, then give each class's
    samples their folds in blocks, in data order (shuffled per class with
    ``shuffle=True``). Classes are taken in order of first appearance.

    A class with fewer than ``n_splits`` members raises ``ValueError``:
    some validation folds would contain none of it, so their scores would
    ignore that class. (scikit-learn only warns.)

    Args:
        n_splits: the number of folds :math:`K \ge 2`.
        shuffle: shuffle each class's samples before assigning folds.
        random_state: as in :class:`KFold` (``None`` is not reproducible).

    Raises:
        ValueError: as :class:`KFold`, plus (in :meth:`split`) a missing
            ``y``, a class with fewer than ``n_splits`` members, or
            continuous labels.
        TypeError: arguments of the wrong type.

    Example:
        >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        >>> for train, val in StratifiedKFold(2).split(np.zeros(10), y):
        ...     print(val, y[val])
        [0 1 4 5 6] [0 0 1 1 1]
        [2 3 7 8 9] [0 0 1 1 1]

    References:
        Hastie, Tibshirani & Friedman, *The Elements of Statistical
        Learning*, §7.10. Book chapter "Model selection".
    """

    def _fold_of(self, X, y) -> np.ndarray:
        owner = "StratifiedKFold.split"
        n = self._check_n_samples(X)
        y = _as_numpy_labels(y, owner, n)
        K = self.n_splits
        # Encode the classes 0, 1, ... in order of first appearance.
        _, first, inverse = np.unique(y, return_index=True,
                                      return_inverse=True)
        _, rank = np.unique(first, return_inverse=True)
        y_enc = rank[inverse.reshape(-1)]
        counts = np.bincount(y_enc)
        if counts.min() < K:
            c = int(np.argmin(counts))
            raise ValueError(
                f"The 'n_splits' parameter of StratifiedKFold must be <= "
                f"the number of members of every class, so that each "
                f"validation fold contains every class. Class "
                f"{y[np.sort(first)[c]].item()!r} has only "
                f"{counts[c]} member(s); got n_splits={K} instead.")
        # Deal the sorted labels round-robin: allocation[k, c] is the
        # number of members of class c in validation fold k.
        y_sorted = np.sort(y_enc)
        allocation = np.stack([
            np.bincount(y_sorted[k::K], minlength=len(counts))
            for k in range(K)])
        rng = _rng(self.random_state) if self.shuffle else None
        fold_of = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            folds_c = np.repeat(np.arange(K), allocation[:, c])
            if rng is not None:
                rng.shuffle(folds_c)
            fold_of[y_enc == c] = folds_c
        return fold_of
