"""Exercise 10 (chapter 11): K-fold indices with scikit-learn's fold sizes
and order (and a seeded shuffle that leaves the global generators alone),
the cross-validation score of closed-form ridge regression (mean loss plus
(λ/2)‖w‖², so that ``Ridge(alpha=m·λ)`` with m the training-fold size has
the same minimiser), and the choice of λ by that score. See
``tests/assignments/__init__.py`` for what each name means.

The reference ``choose_lambda`` calls the notebook's ``kfold_indices`` and
``cv_score`` (the task text asks for it), so an answer to Task 1 or 2 that
is wrong where Task 3's tests look fails Task 3's cells as well. The
oracles are ``KFold``, ``Ridge``, ``cross_val_score`` and ``GridSearchCV``
run outside ``forbid``, NumPy's ``lstsq`` for λ = 0, and the structural
properties of a shuffled partition.
"""

ASSIGNMENT = "ch10-model-selection"
NOTEBOOK = "model-selection"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("kfold_indices", "cv_score", "choose_lambda")
TESTS1 = ("test_kfold_visible", "test_kfold_hidden")
TESTS2 = ("test_cv_score_visible", "test_cv_score_hidden")
TESTS3 = ("test_choose_lambda_visible", "test_choose_lambda_hidden")
TESTS = {"kfold_indices": TESTS1, "cv_score": TESTS2,
         "choose_lambda": TESTS3}
HIDDEN1, HIDDEN2, HIDDEN3 = {TESTS1[1]}, {TESTS2[1]}, {TESTS3[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3
ALL1, ALL2, ALL3 = set(TESTS1), set(TESTS2), set(TESTS3)
FORBIDDEN = {
    "sklearn.model_selection.KFold", "reglab.model_selection.split.KFold",
    "reglab.model_selection.split.KFold._fold_of",
    "reglab.model_selection.split.StratifiedKFold",
    "sklearn.linear_model.Ridge", "sklearn.linear_model.RidgeCV",
    "sklearn.linear_model.ridge_regression",
    "sklearn.model_selection.cross_val_score",
    "sklearn.model_selection.cross_validate",
    "sklearn.model_selection.GridSearchCV",
    "reglab.model_selection.search.cross_validate",
    "reglab.model_selection.search.grid_search_cv",
}

# --- Task 1: kfold_indices ---------------------------------------------------

# A correct answer with hooks <NAME>; the mutants below change one piece.
KFOLD_TEMPLATE = """
def kfold_indices(n, n_splits, shuffle=False, seed=None):
    <CHECK>
    if shuffle:
        <ORDER>
    else:
        order = torch.arange(n)
    sizes = <SIZES>
    folds, start = [], 0
    for size in sizes:
        val = <VAL>
        train = <TRAIN>
        folds.append((train, val))
        start += size
    return folds
"""
KFOLD_GOOD = {
    "<CHECK>": ("if n_splits < 2 or n_splits > n:\n"
                "        raise ValueError(f'bad n_splits = {n_splits}')"),
    "<ORDER>": ("g = torch.Generator()\n"
                "        if seed is None:\n"
                "            g.seed()\n"
                "        else:\n"
                "            g.manual_seed(seed)\n"
                "        order = torch.randperm(n, generator=g)"),
    "<SIZES>": ("[n // n_splits + (k < n % n_splits) "
                "for k in range(n_splits)]"),
    "<VAL>": "order[start:start + size].sort().values",
    "<TRAIN>": ("torch.tensor([i for i in range(n) "
                "if i not in set(val.tolist())], dtype=torch.int64)"),
}


def kfold(**pieces: str) -> str:
    """The template with the named pieces replaced (keys without <>)."""
    source = KFOLD_TEMPLATE
    chosen = {**KFOLD_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


KFOLD_MUTANTS = {
    # the last fold takes the remainder: sizes 3, 3, 4 for n = 10, K = 3
    "kf-last-fold-remainder": (kfold(SIZES=(
        "[n // n_splits] * (n_splits - 1) "
        "+ [n - (n_splits - 1) * (n // n_splits)]")), ALL1, False),
    # the last n mod K folds get the extra sample (and all of them when
    # n mod K = 0, since sizes[-0:] is the whole list)
    "kf-extra-at-the-end": (kfold(SIZES=(
        "[n // n_splits + (k >= n_splits - n % n_splits) "
        "for k in range(n_splits)]")), ALL1, False),
    # ceil(n / K) per fold, the last one short (torch.chunk's sizes)
    "kf-ceil-sizes": (kfold(SIZES=(
        "[min(-(-n // n_splits), n - k * -(-n // n_splits)) "
        "for k in range(n_splits)]")), ALL1, False),
    # off by one: n mod K + 1 folds get the extra sample
    "kf-off-by-one-sizes": (kfold(SIZES=(
        "[n // n_splits + (k <= n % n_splits) for k in range(n_splits)]")),
        ALL1 | ALL3, False),
    # the validation blocks overlap: each takes one sample too many
    "kf-overlapping-folds": (kfold(
        VAL="order[start:start + size + 1].sort().values"), ALL1 | ALL3,
        False),
    # train on everything, the validation fold included
    "kf-train-includes-val": (kfold(TRAIN="torch.arange(n)"), ALL1 | ALL3,
                              False),
    # NumPy index arrays instead of tensors
    "kf-numpy-arrays": ("""
import numpy as np
def kfold_indices(n, n_splits, shuffle=False, seed=None):
    if n_splits < 2 or n_splits > n:
        raise ValueError('bad n_splits')
    order = np.random.RandomState(seed).permutation(n) if shuffle \\
        else np.arange(n)
    sizes = [n // n_splits + (k < n % n_splits) for k in range(n_splits)]
    bounds = np.cumsum([0] + sizes)
    return [(np.setdiff1d(np.arange(n), order[a:b]), np.sort(order[a:b]))
            for a, b in zip(bounds[:-1], bounds[1:])]
""", ALL1, False),
    # only n_splits < 2 is refused
    "kf-no-upper-check": (kfold(CHECK=(
        "if n_splits < 2:\n"
        "        raise ValueError(f'bad n_splits = {n_splits}')")),
        HIDDEN1, False),
    # refuses leave-one-out (n_splits = n)
    "kf-refuses-loo": (kfold(CHECK=(
        "if n_splits < 2 or n_splits >= n:\n"
        "        raise ValueError(f'bad n_splits = {n_splits}')")),
        ALL1 | HIDDEN3, False),
    # the error does not name the argument
    "kf-error-without-name": (kfold(CHECK=(
        "if n_splits < 2 or n_splits > n:\n"
        "        raise ValueError('need 2 <= K <= n')")), HIDDEN1, False),
    # shuffled blocks are not sorted (as scikit-learn returns them)
    "kf-unsorted-shuffled-val": (kfold(VAL="order[start:start + size]"),
                                 HIDDEN1, False),
    # shuffle=True ignored
    "kf-no-shuffle": (kfold(ORDER="order = torch.arange(n)"), HIDDEN1,
                      False),
    # reseeds the global generator
    "kf-global-seed": (kfold(ORDER=(
        "if seed is not None:\n"
        "            torch.manual_seed(seed)\n"
        "        order = torch.randperm(n)")), HIDDEN1, False),
    # ignores the seed: the global generator's draw
    "kf-ignores-seed": (kfold(ORDER="order = torch.randperm(n)"), HIDDEN1,
                        False),
    # an unseeded torch.Generator() has a fixed default seed
    "kf-fixed-default-seed": (kfold(ORDER=(
        "g = torch.Generator()\n"
        "        if seed is not None:\n"
        "            g.manual_seed(seed)\n"
        "        order = torch.randperm(n, generator=g)")), HIDDEN1, False),
    # NumPy's own RandomState, as scikit-learn: correct
    "kf-numpy-randomstate-correct": (kfold(ORDER=(
        "import numpy as np\n"
        "        order = torch.from_numpy(\n"
        "            np.random.RandomState(seed).permutation(n))")), set(),
        False),
    # delegation
    "kf-uses-sklearn": ("""
from sklearn.model_selection import KFold
def kfold_indices(n, n_splits, shuffle=False, seed=None):
    kf = KFold(n_splits, shuffle=shuffle,
               random_state=seed if shuffle else None)
    return [(torch.from_numpy(tr), torch.sort(torch.from_numpy(va)).values)
            for tr, va in kf.split(range(n))]
""", ALL1, True),
    "kf-uses-reglab": ("""
import reglab
def kfold_indices(n, n_splits, shuffle=False, seed=None):
    kf = reglab.KFold(n_splits, shuffle=shuffle,
                      random_state=seed if shuffle else None)
    return [(torch.from_numpy(tr), torch.from_numpy(va))
            for tr, va in kf.split(range(n))]
""", ALL1, True),
    "kf-uses-reglab-fold-of": ("""
import numpy as np
from reglab.model_selection.split import KFold as _KF
def kfold_indices(n, n_splits, shuffle=False, seed=None):
    if n_splits < 2 or n_splits > n:
        raise ValueError('bad n_splits')
    me = _KF.__new__(_KF)
    me.n_splits, me.shuffle = n_splits, shuffle
    me.random_state = seed if shuffle else None
    fold_of = torch.from_numpy(_KF._fold_of(me, np.zeros(n), None))
    return [(torch.nonzero(fold_of != k).ravel(),
             torch.nonzero(fold_of == k).ravel()) for k in range(n_splits)]
""", ALL1, True),
}

# --- Task 2: cv_score --------------------------------------------------------

CV_TEMPLATE = """
def cv_score(X, y, lam, folds):
    eye = torch.eye(X.shape[1], dtype=X.dtype)
    scores, errors = [], []
    for train, val in folds:
        m = len(train)
        <FIT>
        err = (X[val] @ w - y[val]) ** 2
        scores.append(err.mean())
        errors.append(err)
    return <RESULT>
"""
CV_GOOD = {
    "<FIT>": ("w = torch.linalg.solve(X[train].T @ X[train] / m + lam * eye,"
              "\n                              X[train].T @ y[train] / m)"),
    "<RESULT>": "torch.stack(scores).mean()",
}


def cv(**pieces: str) -> str:
    source = CV_TEMPLATE
    chosen = {**CV_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


# A wrong cv_score also moves choose_lambda's choice where the tests of
# Task 3 look, unless it keeps the order of the candidates' scores (a
# fold's sum instead of its mean on equal folds; the RMSE).
CV_MUTANTS = {
    # fit once on all the data and score that model on every fold
    "cv-leakage": (cv(FIT=(
        "w = torch.linalg.solve(X.T @ X / len(X) + lam * eye,\n"
        "                              X.T @ y / len(X))")),
        ALL2 | ALL3, False),
    # (XᵀX + λI)⁻¹Xᵀy: λ not scaled by n_T
    "cv-lambda-unscaled": (cv(FIT=(
        "w = torch.linalg.solve(X[train].T @ X[train] + lam * eye,\n"
        "                              X[train].T @ y[train])")),
        ALL2 | ALL3, False),
    # scaled by the whole data set's n instead of the training fold's n_T
    "cv-lambda-scaled-by-n": (cv(FIT=(
        "w = torch.linalg.solve(X[train].T @ X[train] / len(X) + lam * eye,"
        "\n                              X[train].T @ y[train] / len(X))")),
        ALL2 | ALL3, False),
    # the ½ forgotten: λ‖w‖² instead of (λ/2)‖w‖² with the ½ of the loss
    "cv-lambda-doubled": (cv(FIT=(
        "w = torch.linalg.solve(X[train].T @ X[train] / m + 2 * lam * eye,"
        "\n                              X[train].T @ y[train] / m)")),
        ALL2 | ALL3, False),
    # scores the training folds: the training error
    "cv-scores-train": ("""
def cv_score(X, y, lam, folds):
    eye = torch.eye(X.shape[1], dtype=X.dtype)
    scores = []
    for train, val in folds:
        m = len(train)
        w = torch.linalg.solve(X[train].T @ X[train] / m + lam * eye,
                               X[train].T @ y[train] / m)
        scores.append(((X[train] @ w - y[train]) ** 2).mean())
    return torch.stack(scores).mean()
""", ALL2 | ALL3, False),
    # sums the squared errors of a fold
    "cv-sum-not-mean": (cv(RESULT="torch.stack([e.sum() for e in errors])"
                           ".mean()"), ALL2, False),
    # the mean of the fold scores' square roots (RMSE)
    "cv-rmse": (cv(RESULT="torch.stack(scores).sqrt().mean()"), ALL2,
                False),
    # a Python float
    "cv-python-float": (cv(RESULT="torch.stack(scores).mean().item()"),
                        ALL2, False),
    # pools all n squared errors: right only for folds of equal sizes
    # (Task 3's folds are equal where its choice is checked)
    "cv-pooled": (cv(RESULT="torch.cat(errors).mean()"), HIDDEN2, False),
    # computes in float64 and returns float64 for float32 data
    "cv-float64-result": ("""
def cv_score(X, y, lam, folds):
    X, y = X.double(), y.double()
    eye = torch.eye(X.shape[1], dtype=X.dtype)
    scores = []
    for train, val in folds:
        m = len(train)
        w = torch.linalg.solve(X[train].T @ X[train] / m + lam * eye,
                               X[train].T @ y[train] / m)
        scores.append(((X[val] @ w - y[val]) ** 2).mean())
    return torch.stack(scores).mean()
""", HIDDEN2, False),
    # centres X and y in place
    "cv-centres-in-place": ("""
def cv_score(X, y, lam, folds):
    X -= X.mean(dim=0)
    y -= y.mean()
    eye = torch.eye(X.shape[1], dtype=X.dtype)
    scores = []
    for train, val in folds:
        m = len(train)
        w = torch.linalg.solve(X[train].T @ X[train] / m + lam * eye,
                               X[train].T @ y[train] / m)
        scores.append(((X[val] @ w - y[val]) ** 2).mean())
    return torch.stack(scores).mean()
""", ALL2 | HIDDEN3, False),
    # an explicit inverse of n_T·(H_T + λI): right to rounding
    "cv-inverse-correct": (cv(FIT=(
        "w = torch.linalg.inv(X[train].T @ X[train] + m * lam * eye) @ (\n"
        "            X[train].T @ y[train])")), set(), False),
    # delegation
    "cv-uses-ridge": ("""
from sklearn.linear_model import Ridge
def cv_score(X, y, lam, folds):
    scores = []
    for train, val in folds:
        ridge = Ridge(alpha=len(train) * lam, fit_intercept=False,
                      solver="cholesky")
        ridge.fit(X[train].numpy(), y[train].numpy())
        w = torch.as_tensor(ridge.coef_, dtype=X.dtype)
        scores.append(((X[val] @ w - y[val]) ** 2).mean())
    return torch.stack(scores).mean()
""", ALL2 | ALL3, True),
    "cv-uses-cross-val-score": ("""
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
def cv_score(X, y, lam, folds):
    folds = [(tr.numpy(), va.numpy()) for tr, va in folds]
    scores = [-cross_val_score(
        Ridge(alpha=len(tr) * lam, fit_intercept=False), X.numpy(),
        y.numpy(), cv=[(tr, va)], scoring='neg_mean_squared_error')[0]
        for tr, va in folds]
    return torch.tensor(sum(scores) / len(scores), dtype=X.dtype)
""", ALL2 | ALL3, True),
}

# --- Task 3: choose_lambda ---------------------------------------------------

CHOOSE_MUTANTS = {
    # the largest CV score
    "ch-picks-max": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    scores = [float(cv_score(X, y, lam, folds)) for lam in lambdas]
    return lambdas[scores.index(max(scores))]
""", ALL3, False),
    # the position instead of the value
    "ch-returns-index": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    scores = torch.stack([cv_score(X, y, lam, folds) for lam in lambdas])
    return int(scores.argmin())
""", ALL3, False),
    # a float32 tensor of the value
    "ch-returns-tensor": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    scores = torch.stack([cv_score(X, y, lam, folds) for lam in lambdas])
    return torch.tensor(lambdas)[scores.argmin()]
""", ALL3, False),
    # chooses by the training loss (always the smallest λ)
    "ch-training-loss": ("""
def choose_lambda(X, y, lambdas, n_splits):
    everything = torch.arange(len(X))
    scores = [float(cv_score(X, y, lam, [(everything, everything)]))
              for lam in lambdas]
    return lambdas[scores.index(min(scores))]
""", ALL3, False),
    # a single 80/20 hold-out split instead of K folds
    "ch-hold-out": ("""
def choose_lambda(X, y, lambdas, n_splits):
    n = len(X)
    cut = n - n // 5
    split = [(torch.arange(cut), torch.arange(cut, n))]
    scores = [float(cv_score(X, y, lam, split)) for lam in lambdas]
    return lambdas[scores.index(min(scores))]
""", ALL3, False),
    # shuffled folds: not the folds of KFold(n_splits)
    "ch-shuffled-folds": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits, shuffle=True, seed=0)
    scores = [float(cv_score(X, y, lam, folds)) for lam in lambdas]
    return lambdas[scores.index(min(scores))]
""", {TESTS3[0]}, False),
    # the last of several tied candidates
    "ch-last-of-ties": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    best, best_score = None, float('inf')
    for lam in lambdas:
        score = float(cv_score(X, y, lam, folds))
        if score <= best_score:
            best, best_score = lam, score
    return best
""", HIDDEN3, False),
    # sorts the candidates first: the smallest λ among ties
    "ch-sorts-lambdas": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    ordered = sorted(lambdas)
    scores = [float(cv_score(X, y, lam, folds)) for lam in ordered]
    return ordered[scores.index(min(scores))]
""", HIDDEN3, False),
    # torch.argmin over the stacked scores: correct
    "ch-argmin-correct": ("""
def choose_lambda(X, y, lambdas, n_splits):
    folds = kfold_indices(len(X), n_splits)
    scores = torch.stack([cv_score(X, y, lam, folds) for lam in lambdas])
    return lambdas[int(torch.argmin(scores))]
""", set(), False),
    # delegation
    "ch-uses-gridsearchcv": ("""
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
def choose_lambda(X, y, lambdas, n_splits):
    m = len(X) - len(X) // n_splits
    search = GridSearchCV(Ridge(fit_intercept=False),
                          {'alpha': [m * lam for lam in lambdas]},
                          cv=KFold(n_splits),
                          scoring='neg_mean_squared_error')
    search.fit(X.numpy(), y.numpy())
    return lambdas[search.best_index_]
""", ALL3, True),
    "ch-uses-reglab": ("""
import reglab
def choose_lambda(X, y, lambdas, n_splits):
    def mse(X_tr, y_tr, X_va, y_va, lam):
        return float(cv_score(torch.cat([X_tr, X_va]),
                              torch.cat([y_tr, y_va]), lam,
                              [(torch.arange(len(X_tr)),
                                torch.arange(len(X_tr), len(X_tr)
                                             + len(X_va)))]))
    folds = [(tr.numpy(), va.numpy())
             for tr, va in kfold_indices(len(X), n_splits)]
    res = reglab.grid_search_cv(mse, X, y, {'lam': list(lambdas)}, folds,
                                mode='min')
    return lambdas[res.best_index]
""", ALL3, True),
}

MUTANTS = {**KFOLD_MUTANTS, **CV_MUTANTS, **CHOOSE_MUTANTS}

INFINITE_LOOP = '''
def choose_lambda(X, y, lambdas, n_splits):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: no check of n_splits > n,
# the fold errors pooled, the last of tied candidates.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3),
    "wrong": ({"choose_lambda": MUTANTS["ch-picks-max"][0]}, ALL3),
    "infinite-loop": ({"choose_lambda": INFINITE_LOOP}, ALL3),
    "delegates": ({"kfold_indices": MUTANTS["kf-uses-sklearn"][0]}, ALL1),
    "delegates-ridge": ({"cv_score": MUTANTS["cv-uses-ridge"][0]},
                        ALL2 | ALL3),
    "wrong-cv": ({"cv_score": MUTANTS["cv-lambda-scaled-by-n"][0]},
                 ALL2 | ALL3),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"kfold_indices": MUTANTS["kf-last-fold-remainder"][0],
                     "test_kfold_visible": "pass",
                     "test_kfold_hidden": "pass"}, ALL1),
    "hidden-bugs": ({"kfold_indices": MUTANTS["kf-no-upper-check"][0],
                     "cv_score": MUTANTS["cv-pooled"][0],
                     "choose_lambda": MUTANTS["ch-last-of-ties"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "kf-last-fold-remainder": "your larger folds come last",
    "kf-extra-at-the-end": "your larger folds come last",
    "kf-ceil-sizes": "your folds hold ⌈n/K⌉ samples",
    "kf-off-by-one-sizes": "n mod K + 1 of your folds get an extra sample",
    "kf-overlapping-folds": "your validation folds overlap",
    "kf-train-includes-val": "your training folds include their own "
                             "validation samples",
    "cv-leakage": "you fit the model on all the samples",
    "cv-lambda-unscaled": "you solve (X_TᵀX_T + λI) w = X_Tᵀy_T",
    "cv-lambda-scaled-by-n": "you divide by the size n of the whole data "
                             "set",
    "cv-lambda-doubled": "your penalty is λ‖w‖², twice the (λ/2)‖w‖²",
    "cv-pooled": "you average all the squared errors pooled together",
    "ch-picks-max": "you return the candidate with the largest CV score",
    "ch-training-loss": "you choose by the training loss",
    "ch-last-of-ties": "among candidates with the same CV score you return "
                       "the last one",
}

FEEDBACK_CODE = "folds = kfold_indices(n, n_splits)"
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you return the candidate with the largest "
              "CV score"],
    "hidden-bugs": [
        "kfold_indices(10, 11) should raise a ValueError naming n_splits",
        "cv_score for 23 samples in 5 unequal folds, λ = 0.0",
        "choose_lambda should return the first one, 2.0",
    ],
}
