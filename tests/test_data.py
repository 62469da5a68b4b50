"""reglab.data against scikit-learn's loaders and closed forms."""

import numpy as np
import torch
from sklearn.datasets import load_diabetes

from reglab import diabetes_tensors, poly_features, poly_regression


def test_poly_regression_noise_free_is_a_polynomial():
    x, y = poly_regression(50, degree=3, noise=0.0, seed=4)
    assert x.shape == (50, 1) and y.shape == (50, 1)
    assert x.dtype == torch.float32 and x.abs().max() <= 1
    coef = np.polyfit(x.double().numpy().ravel(), y.double().numpy().ravel(),
                      3)
    resid = np.polyval(coef, x.double().numpy().ravel()) - y.numpy().ravel()
    assert np.abs(resid).max() < 1e-5


def test_poly_regression_seeds():
    a = poly_regression(10, 3, 0.1, seed=1)
    b = poly_regression(10, 3, 0.1, seed=1)
    c = poly_regression(10, 3, 0.1, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_poly_regression_noise_level():
    x, y = poly_regression(20_000, degree=2, noise=0.5, seed=0)
    _, clean = poly_regression(20_000, degree=2, noise=0.0, seed=0)
    assert abs((y - clean).std().item() - 0.5) < 0.02


def test_poly_features_closed_form():
    x = torch.tensor([[0.5], [-2.0]])
    expected = torch.tensor([[0.5, 0.25, 0.125], [-2.0, 4.0, -8.0]])
    torch.testing.assert_close(poly_features(x, 3), expected)


def test_diabetes_tensors_is_a_standardised_split_of_sklearn_data():
    X_tr, X_va, y_tr, y_va = diabetes_tensors(val_size=0.25, seed=0,
                                              dtype=torch.float64)
    X, y = load_diabetes(return_X_y=True)
    assert len(X_tr) + len(X_va) == len(X) and len(X_va) == 110
    torch.testing.assert_close(X_tr.mean(0), torch.zeros(10, dtype=
                                                         torch.float64))
    torch.testing.assert_close(X_tr.std(0, unbiased=False),
                               torch.ones(10, dtype=torch.float64))
    # Each column of the two parts together is an increasing affine map of
    # the original column: sorted values lie on a line with positive slope.
    rows = np.concatenate([X_tr.numpy(), X_va.numpy()])
    for j in range(10):
        a, b = np.sort(X[:, j]), np.sort(rows[:, j])
        slope, icept = np.polyfit(a, b, 1)
        assert slope > 0 and np.abs(slope * a + icept - b).max() < 1e-8
    assert y_tr.shape == (332, 1)
    assert abs(y_va.mean().item()) < 0.3
