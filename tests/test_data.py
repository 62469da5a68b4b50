"""reglab.data against scikit-learn's loaders and closed forms."""

import random

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from reglab import diabetes_tensors, poly_features, poly_regression
from reglab.data import breast_cancer_tensors, digits_loaders


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


def _all(loader):
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys)


def _global_states():
    return (torch.get_rng_state(), np.random.get_state()[1].copy(),
            random.getstate())


def _assert_states_equal(a, b):
    assert torch.equal(a[0], b[0]), "the global torch generator was used"
    assert np.array_equal(a[1], b[1]), "the global NumPy generator was used"
    assert a[2] == b[2], "Python's global generator was used"


def test_digits_loaders_shapes_dtypes_and_scale():
    train, val, test = digits_loaders(batch_size=50, seed=0)
    digits = load_digits()
    x, y = next(iter(train))
    assert x.shape == (50, 64) and x.dtype == torch.float32
    assert y.shape == (50,) and y.dtype == torch.int64
    parts = [_all(loader) for loader in (train, val, test)]
    X = torch.cat([p[0] for p in parts]).double().numpy()
    Y = torch.cat([p[1] for p in parts]).numpy()
    assert len(X) == len(digits.data) == 1797
    assert X.min() == 0.0 and X.max() == 1.0
    # The three parts together are exactly the data set, pixels / 16.
    ours = np.column_stack([X * 16, Y])
    theirs = np.column_stack([digits.data, digits.target])
    np.testing.assert_array_equal(ours[np.lexsort(ours.T)],
                                  theirs[np.lexsort(theirs.T)])
    images, _ = next(iter(digits_loaders(flatten=False,
                                         dtype=torch.float64)[1]))
    assert images.shape == (64, 1, 8, 8) and images.dtype == torch.float64


@pytest.mark.parametrize("val_size, test_size", [(0.2, 0.2), (0.1, 0.3)])
def test_digits_loaders_are_stratified(val_size, test_size):
    train, val, test = digits_loaders(val_size=val_size,
                                      test_size=test_size, seed=3)
    counts = np.bincount(load_digits().target)
    for loader, f in ((val, val_size), (test, test_size),
                      (train, 1 - val_size - test_size)):
        got = np.bincount(_all(loader)[1].numpy(), minlength=10)
        assert np.all(np.abs(got - f * counts) <= 1.0), (got, f * counts)


def test_digits_loaders_reproducible_by_seed_without_global_rng():
    before = _global_states()
    a = digits_loaders(seed=1)
    b = digits_loaders(seed=1)
    c = digits_loaders(seed=2)
    first_a, first_b = _all(a[0]), _all(b[0])
    assert torch.equal(first_a[0], first_b[0])  # same shuffled batches
    assert torch.equal(_all(a[1])[1], _all(b[1])[1])
    assert not torch.equal(_all(a[1])[0], _all(c[1])[0])  # other split
    second_a = _all(a[0])  # a new epoch is a new order of the same data
    assert not torch.equal(first_a[1], second_a[1])
    assert torch.equal(first_a[1].sort().values, second_a[1].sort().values)
    for loader in (*a, *c):
        _all(loader)
    _assert_states_equal(before, _global_states())


def test_breast_cancer_tensors_standardised_with_train_stats():
    before = _global_states()
    X_tr, X_va, y_tr, y_va = breast_cancer_tensors(val_size=0.25, seed=0,
                                                   dtype=torch.float64)
    _assert_states_equal(before, _global_states())
    X, y = load_breast_cancer(return_X_y=True)
    assert X_tr.shape == (427, 30) and X_va.shape == (142, 30)
    assert y_tr.shape == (427, 1) and y_va.dtype == torch.float64
    torch.testing.assert_close(X_tr.mean(0), torch.zeros(30, dtype=
                                                         torch.float64))
    torch.testing.assert_close(X_tr.std(0, unbiased=False),
                               torch.ones(30, dtype=torch.float64))
    assert X_va.mean(0).abs().max() > 1e-3  # not standardised on its own
    # The validation rows are the training transform of original rows:
    # recover mu, sd from the training part and map back.
    both = torch.cat([X_tr, X_va]).numpy()
    labels = torch.cat([y_tr, y_va]).numpy().ravel()
    assert set(np.unique(labels)) == {0.0, 1.0}
    for j in (0, 7, 29):
        a, b = np.sort(X[:, j]), np.sort(both[:, j])
        slope, icept = np.polyfit(a, b, 1)
        assert slope > 0 and np.abs(slope * a + icept - b).max() < 1e-8
    # Stratified: each class gives round(0.25 · n_c) samples to validation.
    n_c = np.bincount(y)
    got = np.bincount(y_va.numpy().ravel().astype(int), minlength=2)
    np.testing.assert_array_equal(got, np.round(0.25 * n_c))


def test_breast_cancer_tensors_seeds():
    a = breast_cancer_tensors(seed=4)
    b = breast_cancer_tensors(seed=4)
    c = breast_cancer_tensors(seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert a[0].dtype == torch.float32
    assert not torch.equal(a[1], c[1])


# (callable, args, kwargs, exception type, message regex)
BAD_INPUT = [
    (digits_loaders, (), {"batch_size": 0}, ValueError,
     r"'batch_size'.*>= 1.*Got 0"),
    (digits_loaders, (), {"val_size": 0.0}, ValueError,
     r"'val_size'.*\(0.0, 1.0\).*Got 0.0"),
    (digits_loaders, (), {"val_size": 0.5, "test_size": 0.5}, ValueError,
     r"'test_size'.*val_size \+ test_size < 1.*Got 0.5"),
    (digits_loaders, (), {"seed": -1}, ValueError, r"'seed'.*>= 0"),
    (digits_loaders, (), {"flatten": "yes"}, TypeError,
     r"'flatten'.*a bool.*Got 'yes'"),
    (digits_loaders, (), {"dtype": torch.int64}, TypeError,
     r"'dtype'.*floating torch.dtype.*Got torch.int64"),
    (breast_cancer_tensors, (), {"val_size": 1.5}, ValueError,
     r"'val_size'.*\(0.0, 1.0\).*Got 1.5"),
    (breast_cancer_tensors, (), {"seed": 0.5}, TypeError,
     r"'seed'.*an int.*Got 0.5"),
    (breast_cancer_tensors, (), {"dtype": "float"}, TypeError,
     r"'dtype'.*floating torch.dtype.*Got 'float'"),
]
