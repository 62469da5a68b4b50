"""Offline data: scikit-learn's bundled data sets and synthetic generators.

Nothing here downloads anything. Randomness comes only from the ``seed``
argument (a local generator), never from global state.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_float, check_int

__all__ = ["diabetes_tensors", "poly_features", "poly_regression"]


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
