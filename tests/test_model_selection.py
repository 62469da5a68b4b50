"""reglab.model_selection against scikit-learn: KFold folds identical to
sklearn's, StratifiedKFold's guarantees (and sklearn's folds), and
cross_validate / grid_search_cv against cross_val_score and GridSearchCV
with a Ridge estimator on the same folds."""

import itertools
import math
import random

import numpy as np
import pytest
import sklearn.model_selection as skms
import torch
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from reglab.model_selection import (
    GridSearchResult,
    KFold,
    StratifiedKFold,
    cross_validate,
    grid_search_cv,
)


def _assert_same_folds(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (tr, va), (tr_s, va_s) in zip(ours, theirs):
        assert isinstance(tr, np.ndarray) and tr.dtype.kind == "i"
        np.testing.assert_array_equal(tr, tr_s)
        np.testing.assert_array_equal(va, va_s)


KFOLD_CASES = [
    (n, k, shuffle, seed)
    for n in (2, 3, 7, 10, 11, 50, 101, 1000)
    for k in (2, 3, 5, 7, 10)
    for shuffle, seed in ((False, None), (True, 0), (True, 1), (True, 42),
                          (True, 2**32 - 1))
    if k <= n
]


@pytest.mark.parametrize("n, k, shuffle, seed", KFOLD_CASES)
def test_kfold_identical_to_sklearn(n, k, shuffle, seed):
    X = np.zeros((n, 2))
    _assert_same_folds(
        KFold(k, shuffle=shuffle, random_state=seed).split(X),
        skms.KFold(k, shuffle=shuffle, random_state=seed).split(X))


def test_kfold_with_a_randomstate_instance_advances_like_sklearn():
    ours = KFold(4, shuffle=True, random_state=np.random.RandomState(7))
    theirs = skms.KFold(4, shuffle=True,
                        random_state=np.random.RandomState(7))
    X = np.zeros(23)
    first = [v for _, v in ours.split(X)]
    list(theirs.split(X))
    for _ in range(3):  # each call draws a new shuffle, in the same order
        _assert_same_folds(ours.split(X), theirs.split(X))
    assert any(not np.array_equal(a, b)
               for a, b in zip(first, [v for _, v in ours.split(X)]))


def test_kfold_int_seed_gives_the_same_folds_on_every_call():
    kf = KFold(3, shuffle=True, random_state=5)
    _assert_same_folds(kf.split(range(20)), kf.split(range(20)))


def test_random_state_none_is_a_partition_and_touches_no_global_state():
    np_state, py_state = np.random.get_state(), random.getstate()
    torch_state = torch.get_rng_state()
    kf = KFold(5, shuffle=True)
    draws = [np.concatenate([v for _, v in kf.split(np.zeros(200))])
             for _ in range(2)]
    for d in draws:
        assert sorted(d.tolist()) == list(range(200))
    assert not np.array_equal(draws[0], draws[1])  # not reproducible
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert random.getstate() == py_state
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_kfold_accepts_arrays_tensors_and_lists():
    expected = list(KFold(3).split(np.zeros((10, 4))))
    for X in (torch.zeros(10, 4), [[0.0] * 4] * 10, range(10)):
        _assert_same_folds(KFold(3).split(X), expected)
    assert KFold(4).get_n_splits() == 4
    assert repr(KFold(3)) == (
        "KFold(n_splits=3, shuffle=False, random_state=None)")


def _check_stratified(folds, y, k):
    n = len(y)
    val = [v for _, v in folds]
    assert len(val) == k
    assert sorted(np.concatenate(val).tolist()) == list(range(n))
    sizes = [len(v) for v in val]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0 and len(tr) + len(va) == n
    for c in np.unique(y):
        share = np.sum(y == c) / k
        for v in val:
            assert abs(np.sum(y[v] == c) - share) < 1


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("shuffle", [False, True])
def test_stratified_kfold_guarantees_on_random_labels(seed, shuffle):
    """Random label vectors, many of them heavily imbalanced, every class
    with at least n_splits members."""
    rng = np.random.RandomState(seed)
    k = int(rng.randint(2, 7))
    n_classes = int(rng.randint(2, 6))
    weights = rng.dirichlet(np.full(n_classes, 0.5))  # often imbalanced
    n = int(rng.randint(k * n_classes, 300))
    y = rng.choice(n_classes, size=n - k * n_classes, p=weights)
    y = rng.permutation(np.concatenate([y, np.repeat(np.arange(
        n_classes), k)]))
    skf = StratifiedKFold(k, shuffle=shuffle,
                          random_state=seed if shuffle else None)
    folds = list(skf.split(np.zeros(n), y))
    _check_stratified(folds, y, k)
    # scikit-learn's algorithm, so also scikit-learn's folds:
    _assert_same_folds(folds, skms.StratifiedKFold(
        k, shuffle=shuffle, random_state=seed if shuffle else None).split(
        np.zeros(n), y))


def test_stratified_kfold_labels_as_strings_tensors_and_columns():
    y = np.array(list("aabbbbcccccc") * 3)
    folds = list(StratifiedKFold(3).split(np.zeros(36), y))
    _check_stratified(folds, y, 3)
    codes = np.unique(y, return_inverse=True)[1]
    as_column = torch.tensor(codes, dtype=torch.float32).reshape(-1, 1)
    _assert_same_folds(StratifiedKFold(3).split(torch.zeros(36, 2),
                                                as_column), folds)


def test_stratified_kfold_refuses_a_class_smaller_than_n_splits():
    y = np.array([0] * 10 + [1] * 2 + [2] * 5)
    with pytest.raises(ValueError, match=r"Class 1 has only 2 member"):
        StratifiedKFold(3).split(np.zeros(17), y)
    # scikit-learn only warns here
    with pytest.warns(UserWarning, match="least populated class"):
        list(skms.StratifiedKFold(3).split(np.zeros(17), y))


def _ridge_fit_and_score(X_tr, y_tr, X_va, y_va, alpha=1.0,
                         fit_intercept=True):
    model = Ridge(alpha=alpha, fit_intercept=fit_intercept)
    return model.fit(X_tr, y_tr).score(X_va, y_va)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0),
                                           (True, 3)])
def test_cross_validate_equals_cross_val_score(diabetes, shuffle, seed):
    X, y = diabetes
    ours = cross_validate(_ridge_fit_and_score, X, y,
                          KFold(5, shuffle=shuffle, random_state=seed))
    theirs = skms.cross_val_score(
        Ridge(), X, y, cv=skms.KFold(5, shuffle=shuffle, random_state=seed))
    assert ours.dtype == np.float64 and ours.shape == (5,)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


def test_cross_validate_cv_forms_agree(diabetes):
    X, y = diabetes
    by_int = cross_validate(_ridge_fit_and_score, X, y, 4)
    by_splitter = cross_validate(_ridge_fit_and_score, X, y, KFold(4))
    by_pairs = cross_validate(_ridge_fit_and_score, X, y,
                              list(skms.KFold(4).split(X)))
    np.testing.assert_array_equal(by_int, by_splitter)
    np.testing.assert_array_equal(by_int, by_pairs)


def _torch_ridge(X_tr, y_tr, X_va, y_va, lam=1.0):
    """Closed-form ridge in torch, returning the validation MSE."""
    assert isinstance(X_tr, torch.Tensor) and isinstance(y_va, torch.Tensor)
    A = X_tr.T @ X_tr + lam * torch.eye(X_tr.shape[1], dtype=X_tr.dtype)
    w = torch.linalg.solve(A, X_tr.T @ y_tr)
    return ((X_va @ w - y_va) ** 2).mean()  # a 0-d tensor


def _numpy_ridge(X_tr, y_tr, X_va, y_va, lam=1.0):
    assert isinstance(X_tr, np.ndarray)
    w = np.linalg.solve(X_tr.T @ X_tr + lam * np.eye(X_tr.shape[1]),
                        X_tr.T @ y_tr)
    return float(np.mean((X_va @ w - y_va) ** 2))


def test_tensors_are_indexed_as_tensors(diabetes):
    X, y = diabetes
    cv = KFold(5, shuffle=True, random_state=1)
    ours_t = cross_validate(_torch_ridge, torch.tensor(X), torch.tensor(y),
                            cv)
    ours_n = cross_validate(_numpy_ridge, X, y, cv)
    np.testing.assert_allclose(ours_t, ours_n, rtol=1e-10)
    grid = {"lam": [1e-3, 1e-1, 1.0, 10.0]}
    res_t = grid_search_cv(_torch_ridge, torch.tensor(X), torch.tensor(y),
                           grid, cv, mode="min")
    res_n = grid_search_cv(_numpy_ridge, X, y, grid, cv, mode="min")
    assert res_t.best_params == res_n.best_params
    np.testing.assert_allclose(res_t.mean_score, res_n.mean_score,
                               rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_grid_search_matches_gridsearchcv(diabetes, seed):
    X, y = diabetes
    grid = {"alpha": [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0],
            "fit_intercept": [True, False]}
    ours = grid_search_cv(_ridge_fit_and_score, X, y, grid,
                          KFold(5, shuffle=True, random_state=seed))
    theirs = skms.GridSearchCV(
        Ridge(), grid, cv=skms.KFold(5, shuffle=True, random_state=seed)
    ).fit(X, y)
    assert ours.best_params == theirs.best_params_
    assert ours.best_score == pytest.approx(theirs.best_score_, abs=1e-10)
    assert ours.params == theirs.cv_results_["params"]
    np.testing.assert_allclose(ours.mean_score,
                               theirs.cv_results_["mean_test_score"],
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.std_score,
                               theirs.cv_results_["std_test_score"],
                               rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.rank,
                                  theirs.cv_results_["rank_test_score"])
    assert ours.fold_scores.shape == (12, 5)


def test_grid_search_min_mode_on_a_loss(diabetes):
    X, y = diabetes
    grid = {"alpha": [1e-4, 1e-2, 1.0, 100.0]}

    def mse(X_tr, y_tr, X_va, y_va, alpha):
        pred = Ridge(alpha=alpha).fit(X_tr, y_tr).predict(X_va)
        return float(np.mean((pred - y_va) ** 2))

    cv = KFold(4, shuffle=True, random_state=2)
    ours = grid_search_cv(mse, X, y, grid, cv, mode="min")
    theirs = skms.GridSearchCV(
        Ridge(), grid, scoring="neg_mean_squared_error",
        cv=skms.KFold(4, shuffle=True, random_state=2)).fit(X, y)
    assert ours.best_params == theirs.best_params_
    np.testing.assert_allclose(ours.mean_score,
                               -theirs.cv_results_["mean_test_score"],
                               rtol=1e-12)


def test_grid_search_list_of_grids_ties_and_nan():
    calls = []

    def score(X_tr, y_tr, X_va, y_va, a, b=0):
        calls.append((a, b))
        return math.nan if a == "nan" else float(a == 1) + float(b)

    X = np.zeros(6)
    res = grid_search_cv(score, X, None, [{"a": ["nan", 1, 1]},
                                          {"b": [0, 1], "a": [0]}], cv=3)
    assert res.params == [{"a": "nan"}, {"a": 1}, {"a": 1},
                          {"a": 0, "b": 0}, {"a": 0, "b": 1}]
    assert res.best_index == 1  # the first of the tied best, never NaN
    assert res.rank.tolist() == [5, 1, 1, 4, 1]
    assert len(calls) == 5 * 3
    text = str(res)
    assert text == repr(res) and "*" in text and "nan" in text
    assert len(res.table) == 5 and res.table[1]["rank"] == 1


def test_result_text_lists_every_candidate():
    res = grid_search_cv(_numpy_ridge, np.eye(6), np.arange(6.0),
                         {"lam": [0.1, 1.0, 10.0]}, cv=3, mode="min")
    assert isinstance(res, GridSearchResult)
    lines = str(res).splitlines()
    assert lines[0] == ("GridSearchResult(mode='min', 3 candidates × 3 "
                        "folds)")
    assert len(lines) == 1 + 1 + 3 + 1 and lines[-1].startswith("best: ")
    assert sum(line.lstrip().startswith("*") for line in lines) == 1


def test_does_not_use_sklearn_splitters(monkeypatch, diabetes):
    def boom(*args, **kwargs):
        raise AssertionError("scikit-learn's splitter was called")

    split_module = skms._split
    for cls in (split_module.KFold, split_module.StratifiedKFold,
                split_module._BaseKFold, split_module.BaseCrossValidator):
        monkeypatch.setattr(cls, "split", boom)
    monkeypatch.setattr(split_module.KFold, "_iter_test_indices", boom)
    monkeypatch.setattr(split_module.StratifiedKFold, "_make_test_folds",
                        boom)
    monkeypatch.setattr(split_module, "check_random_state", boom)
    monkeypatch.setattr(skms, "train_test_split", boom)
    monkeypatch.setattr(skms, "cross_val_score", boom)
    with pytest.raises(AssertionError):  # the patch is live
        list(skms.KFold(2).split(np.zeros(4)))
    X, y = diabetes
    list(KFold(5, shuffle=True, random_state=0).split(X))
    list(StratifiedKFold(3, shuffle=True, random_state=0).split(
        X, y > np.median(y)))
    cross_validate(_numpy_ridge, X, y, KFold(3, shuffle=True,
                                             random_state=0))
    grid_search_cv(_numpy_ridge, X, y, {"lam": [0.1, 1.0]}, 3, mode="min")


def _raise_nan(*args, **kwargs):
    return math.nan


def _return_a_list(*args, **kwargs):
    return [1.0, 2.0]


_X = np.zeros((12, 2))
_Y = np.arange(12.0)
_Y_SMALL_CLASS = np.array([0] * 9 + [1] * 3)

# (callable, args, kwargs, exception type, message regex)
BAD_INPUT = [
    (KFold, (1,), {}, ValueError,
     r"^The 'n_splits' parameter of KFold must be an int >= 2\. "
     r"Got 1 instead\.$"),
    (KFold, (2.5,), {}, TypeError, r"'n_splits'.*an int.*Got 2.5"),
    (KFold, (3,), {"shuffle": "yes"}, TypeError,
     r"'shuffle'.*a bool.*Got 'yes'"),
    (KFold, (3,), {"random_state": 0}, ValueError,
     r"'random_state'.*None when shuffle=False.*Got 0"),
    (KFold, (3,), {"shuffle": True, "random_state": -1}, ValueError,
     r"'random_state'.*\[0, 4294967295\].*Got -1"),
    (KFold, (3,), {"shuffle": True, "random_state": "seed"}, TypeError,
     r"'random_state'.*RandomState.*Got 'seed'"),
    (StratifiedKFold, (0,), {}, ValueError,
     r"'n_splits' parameter of StratifiedKFold.*>= 2.*Got 0"),
    (KFold(13).split, (_X,), {}, ValueError,
     r"'n_splits'.*<= the number of samples \(12\).*Got 13"),
    (KFold(3).split, (5,), {}, TypeError, r"'X'.*one row per sample.*5"),
    (StratifiedKFold(3).split, (_X,), {}, ValueError,
     r"'y'.*class labels.*Got None"),
    (StratifiedKFold(4).split, (_X, _Y_SMALL_CLASS), {}, ValueError,
     r"'n_splits'.*every class.*Class 1 has only 3 member.*n_splits=4"),
    (StratifiedKFold(3).split, (_X, _Y + 0.5), {}, ValueError,
     r"'y'.*class labels.*continuous"),
    (StratifiedKFold(3).split, (_X, _Y_SMALL_CLASS[:-1]), {}, ValueError,
     r"'y'.*one label per sample.*\(12\).*Got 11"),
    (cross_validate, ("f", _X, _Y, 3), {}, TypeError,
     r"'fit_and_score'.*callable.*Got 'f'"),
    (cross_validate, (_numpy_ridge, _X, _Y, "kfold"), {}, TypeError,
     r"'cv'.*an int >= 2.*Got 'kfold'"),
    (cross_validate, (_numpy_ridge, _X, _Y, 1), {}, ValueError,
     r"'cv'.*>= 2.*Got 1"),
    (cross_validate, (_numpy_ridge, _X, _Y[:-1], 3), {}, ValueError,
     r"'y'.*one entry per sample.*\(12\).*Got 11"),
    (cross_validate, (_return_a_list, _X, _Y, 3), {}, TypeError,
     r"'fit_and_score'.*must return a number.*Got \[1.0, 2.0\]"),
    (grid_search_cv, (_numpy_ridge, _X, _Y, {"lam": [1.0]}, 3),
     {"mode": "best"}, ValueError, r"'mode'.*\{'max', 'min'\}.*'best'"),
    (grid_search_cv, (_numpy_ridge, _X, _Y, {"lam": 1.0}, 3), {},
     TypeError, r"'param_grid'.*list of values.*'lam': 1.0.*wrap"),
    (grid_search_cv, (_numpy_ridge, _X, _Y, {"lam": []}, 3), {},
     ValueError, r"'param_grid'.*non-empty.*'lam': \[\]"),
    (grid_search_cv, (_numpy_ridge, _X, _Y, [], 3), {}, ValueError,
     r"'param_grid'.*at least one.*Got \[\]"),
    (grid_search_cv, (_numpy_ridge, _X, _Y, "lam", 3), {}, TypeError,
     r"'param_grid'.*a dict.*Got 'lam'"),
    (grid_search_cv, (_raise_nan, _X, _Y, {"lam": [1.0, 2.0]}, 3), {},
     ValueError, r"every one of the 2 candidates had a NaN mean"),
]


def test_every_combination_of_the_grid_is_tried_once():
    seen = []

    def record(X_tr, y_tr, X_va, y_va, **params):
        seen.append(tuple(sorted(params.items())))
        return 0.0

    grid = {"b": [1, 2], "a": ["x", "y", "z"]}
    grid_search_cv(record, np.zeros(4), None, grid, cv=2)
    expected = [(("a", a), ("b", b)) for a, b in itertools.product(
        ["x", "y", "z"], [1, 2])]
    assert seen[::2] == expected and seen[1::2] == expected
