"""Offline data: scikit-learn's bundled data sets and synthetic generators.

Nothing here downloads anything. Randomness comes only from the ``seed``
argument (a local generator), never from global state.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import (
    check_bool,
    check_float,
    check_int,
    param_error,
)

__all__ = ["breast_cancer_tensors", "diabetes_tensors", "digits_loaders",
           "poly_features", "poly_regression"]


def _true_coefficients(degree: int) -> np.ndarray:
    # Fixed for a given degree (independent of ``seed``), so that training
    # and validation sets drawn with different seeds share one function.
    return np.random.RandomState(2024).normal(0.0, 1.0, size=degree + 1)


def poly_regression(n: int, degree: int = 3, noise: float = 0.1,
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Samples of a noisy polynomial, for under- and over-fitting demos.

    .. math::

        x \sim \mathcal U[-1, 1], \qquad
        y = \sum_{k=0}^{d} c_k x^k + \varepsilon, \qquad
        \varepsilon \sim \mathcal N(0, \sigma^2)

    with degree :math:`d` = ``degree``, noise level :math:`\sigma` =
    ``noise``, and standard-normal coefficients :math:`c_k` that depend on
    ``degree`` only (a fixed generator), not on ``seed``.
    ``noise=0`` gives the noise-free values :math:`f^\star(x)`. Book chapters
    "Generalisation" (capacity, sample size) and "Parameter-norm
    penalties".

    Args:
        n: the number of samples (≥ 1).
        degree: the degree :math:`d` of the true polynomial (≥ 0).
        noise: the standard deviation :math:`\sigma \ge 0` of the noise.
        seed: the seed of the sampling generator.

    Returns:
        ``(x, y)``, float32 tensors of shape ``(n, 1)``.

    Example:
        >>> x, y = poly_regression(5, degree=2, noise=0.0, seed=1)
        >>> x.shape, y.shape
        (torch.Size([5, 1]), torch.Size([5, 1]))
    """
    n = check_int(n, "n", "poly_regression", low=1)
    degree = check_int(degree, "degree", "poly_regression", low=0)
    noise = check_float(noise, "noise", "poly_regression", low=0.0)
    seed = check_int(seed, "seed", "poly_regression", low=0)
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = np.polynomial.polynomial.polyval(x, _true_coefficients(degree))
    y = y + noise * rng.normal(size=n)
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float32).reshape(-1, 1)
    return as_tensor(x), as_tensor(y)


def poly_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    r"""The features :math:`(x, x^2, \dots, x^d)` of a column ``x``.

    The constant term is left to the model's bias, which is not penalised.

    Args:
        x: a tensor of shape ``(n, 1)`` or ``(n,)``.
        degree: the highest power :math:`d \ge 1`.

    Returns:
        A tensor of shape ``(n, degree)``.

    Example:
        >>> poly_features(torch.tensor([[2.0]]), 3)
        tensor([[2., 4., 8.]])
    """
    degree = check_int(degree, "degree", "poly_features", low=1)
    x = x.reshape(-1, 1)
    powers = torch.arange(1, degree + 1, device=x.device, dtype=x.dtype)
    return x ** powers


def diabetes_tensors(*, val_size: float = 0.25, seed: int = 0,
                     dtype: torch.dtype = torch.float32):
    """scikit-learn's diabetes regression data (442 patients, 10 features),
    split into training and validation tensors.

    Features are standardised and the target is centred and scaled with
    statistics of the *training* part only, so nothing leaks from the
    validation set.

    Args:
        val_size: the fraction of samples held out, in (0, 1).
        seed: the seed of the shuffle.
        dtype: the floating dtype of the tensors.

    Returns:
        ``(X_train, X_val, y_train, y_val)`` — the order of
        ``sklearn.model_selection.train_test_split``; targets have shape
        ``(n, 1)``.

    Example:
        >>> X_tr, X_va, y_tr, y_va = diabetes_tensors(seed=0)
        >>> X_tr.shape[1], len(X_tr) + len(X_va)
        (10, 442)
    """
    from sklearn.datasets import load_diabetes

    val_size = check_float(val_size, "val_size", "diabetes_tensors",
                           low=0.0, high=1.0, low_open=True, high_open=True)
    seed = check_int(seed, "seed", "diabetes_tensors", low=0)
    X, y = load_diabetes(return_X_y=True)
    order = np.random.RandomState(seed).permutation(len(X))
    n_val = int(round(val_size * len(X)))
    val, train = order[:n_val], order[n_val:]
    mu, sd = X[train].mean(0), X[train].std(0)
    y_mu, y_sd = y[train].mean(), y[train].std()

    def t(a):
        return torch.tensor(a, dtype=dtype)

    return (t((X[train] - mu) / sd), t((X[val] - mu) / sd),
            t((y[train] - y_mu) / y_sd).reshape(-1, 1),
            t((y[val] - y_mu) / y_sd).reshape(-1, 1))


def _check_dtype(dtype, owner: str) -> torch.dtype:
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise param_error("dtype", owner, "a floating torch.dtype such as "
                          "torch.float32", dtype, exc=TypeError)
    return dtype


def _stratified_parts(y: np.ndarray, fractions, rng) -> list[np.ndarray]:
    """Split ``range(len(y))`` into parts of the given fractions (the rest
    is the first part), class by class: each class ``c`` with ``n_c``
    members gives ``round(f · n_c)`` of them to a part of fraction ``f``.
    Each part's indices are returned sorted."""
    parts = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rng.shuffle(members)
        start = 0
        for j, f in enumerate(fractions, start=1):
            stop = start + int(round(f * len(members)))
            parts[j].append(members[start:stop])
            start = stop
        parts[0].append(members[start:])
    return [np.sort(np.concatenate(p)) for p in parts]


def digits_loaders(*, batch_size: int = 64, val_size: float = 0.2,
                   test_size: float = 0.2, seed: int = 0,
                   flatten: bool = True, dtype: torch.dtype = torch.float32):
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes) as
    training, validation and test ``DataLoader`` objects.

    The split is stratified: each class ``c`` with ``n_c`` images gives
    ``round(val_size · n_c)`` of them to validation and
    ``round(test_size · n_c)`` to test, so every part has the classes'
    proportions. Pixels (integers 0–16) are divided by 16, into [0, 1] —
    a fixed scale, so no statistic of any part is used (per-pixel
    standardisation would divide by zero: some border pixels are 0 in
    every image).

    Only the training loader shuffles, with a ``torch.Generator`` seeded
    from ``seed``: the batches are the same on every run, and the global
    torch generator is neither used nor changed. The validation and test
    loaders keep a fixed order.

    Args:
        batch_size: the number of images per batch (≥ 1).
        val_size: the fraction of each class held out for validation.
        test_size: the fraction of each class held out for testing;
            ``val_size + test_size`` must be < 1.
        seed: the seed of the split and of the training shuffle.
        flatten: give images as 64-vectors (for an MLP); ``False`` gives
            ``(1, 8, 8)`` images (for a CNN).
        dtype: the floating dtype of the images.

    Returns:
        ``(train_loader, val_loader, test_loader)``, each yielding
        ``(x, y)`` with ``x`` of shape ``(b, 64)`` or ``(b, 1, 8, 8)`` and
        ``y`` int64 class indices of shape ``(b,)`` (for cross-entropy).

    Example:
        >>> train, val, test = digits_loaders(batch_size=32, seed=0)
        >>> x, y = next(iter(train))
        >>> x.shape, y.dtype, float(x.min()) >= 0, float(x.max()) <= 1
        (torch.Size([32, 64]), torch.int64, True, True)
        >>> len(train.dataset), len(val.dataset), len(test.dataset)
        (1079, 359, 359)
    """
    from sklearn.datasets import load_digits
    from torch.utils.data import DataLoader, TensorDataset

    owner = "digits_loaders"
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    val_size = check_float(val_size, "val_size", owner, low=0.0, high=1.0,
                           low_open=True, high_open=True)
    test_size = check_float(test_size, "test_size", owner, low=0.0,
                            high=1.0, low_open=True, high_open=True)
    if val_size + test_size >= 1.0:
        raise param_error(
            "test_size", owner,
            f"a float with val_size + test_size < 1 (val_size={val_size})",
            test_size)
    seed = check_int(seed, "seed", owner, low=0)
    check_bool(flatten, "flatten", owner)
    dtype = _check_dtype(dtype, owner)
    digits = load_digits()
    X = digits.images / 16.0  # pixels 0..16 → [0, 1]
    y = digits.target
    train, val, test = _stratified_parts(y, [val_size, test_size],
                                         np.random.RandomState(seed))
    shape = (-1, 64) if flatten else (-1, 1, 8, 8)

    def loader(idx, shuffle):
        data = TensorDataset(
            torch.tensor(X[idx], dtype=dtype).reshape(shape),
            torch.tensor(y[idx], dtype=torch.int64))
        # A generator of our own: DataLoader otherwise draws from the
        # global torch generator (for the shuffle and its worker seed).
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                          generator=torch.Generator().manual_seed(seed))

    return loader(train, True), loader(val, False), loader(test, False)


def breast_cancer_tensors(*, val_size: float = 0.25, seed: int = 0,
                          dtype: torch.dtype = torch.float32):
    """scikit-learn's breast-cancer data (569 tumours, 30 features, binary
    labels), split into training and validation tensors.

    The split is stratified by class (each class gives
    ``round(val_size · n_c)`` samples to validation). Features are
    standardised with the mean and standard deviation of the *training*
    part only. Labels keep scikit-learn's coding (0 = malignant,
    1 = benign) as a float column, the target that
    ``binary_cross_entropy_with_logits`` expects.

    Args:
        val_size: the fraction of each class held out, in (0, 1).
        seed: the seed of the split.
        dtype: the floating dtype of the tensors (features and labels).

    Returns:
        ``(X_train, X_val, y_train, y_val)`` — the order of
        ``sklearn.model_selection.train_test_split``; labels have shape
        ``(n, 1)``.

    Example:
        >>> X_tr, X_va, y_tr, y_va = breast_cancer_tensors(seed=0)
        >>> X_tr.shape, y_va.shape, sorted(y_tr.unique().tolist())
        (torch.Size([427, 30]), torch.Size([142, 1]), [0.0, 1.0])
    """
    from sklearn.datasets import load_breast_cancer

    owner = "breast_cancer_tensors"
    val_size = check_float(val_size, "val_size", owner, low=0.0, high=1.0,
                           low_open=True, high_open=True)
    seed = check_int(seed, "seed", owner, low=0)
    dtype = _check_dtype(dtype, owner)
    X, y = load_breast_cancer(return_X_y=True)
    train, val = _stratified_parts(y, [val_size],
                                   np.random.RandomState(seed))
    mu, sd = X[train].mean(0), X[train].std(0)  # training statistics only

    def t(a):
        return torch.tensor(a, dtype=dtype)

    return (t((X[train] - mu) / sd), t((X[val] - mu) / sd),
            t(y[train]).reshape(-1, 1), t(y[val]).reshape(-1, 1))
