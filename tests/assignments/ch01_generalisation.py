"""Exercise 1 (chapter 1, "Generalisation"): polynomial features and a
least-squares fit from scratch, a random train/validation split, the
choice of the degree by validation error, and the bias and variance of
the fit estimated by refitting on resampled training sets. See
``tests/assignments/__init__.py`` for what each name means.

The oracles are independent of the reference solution: the features are
compared with ``numpy.polynomial.polynomial.polyvander`` and scikit-learn's
``PolynomialFeatures``, the fits with ``numpy.linalg.lstsq`` and
``LinearRegression(fit_intercept=False)``, the split's sizes with
``train_test_split`` (and its uniformity by counting over 400 seeds), the
validation errors with ``numpy.polynomial``'s ``polyfit``, the bias² and
variance of given predictions with ``numpy.var(ddof=1)``, and the
resampled estimates with the closed forms of least squares (p = A y),
within five standard deviations that are themselves computed in closed
form. Tasks 3 and 4 call the student's ``poly_features`` and
``fit_least_squares``, so a wrong Task 1 or 2 fails them as well (their
test cells say so first).
"""

from tests.assignments._templates import fill

ASSIGNMENT = "ch01-generalisation"
NOTEBOOK = "generalisation"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("poly_features", "fit_least_squares", "train_val_split",
             "choose_degree", "bias2_and_variance", "bias_variance")
TESTS1 = ("test_poly_visible", "test_poly_hidden")
TESTS2 = ("test_lstsq_visible", "test_lstsq_hidden")
TESTS3A = ("test_split_visible", "test_split_hidden")
TESTS3B = ("test_choose_degree",)
TESTS4A = ("test_bias2_and_variance",)
TESTS4B = ("test_bias_variance_visible", "test_bias_variance_hidden")
TESTS = dict(zip(SOLUTIONS, (TESTS1, TESTS2, TESTS3A, TESTS3B, TESTS4A,
                             TESTS4B)))
HIDDEN = {"test_poly_hidden", "test_lstsq_hidden", "test_split_hidden",
          "test_choose_degree", "test_bias2_and_variance",
          "test_bias_variance_hidden"}
ALL1, ALL2, ALL3A = set(TESTS1), set(TESTS2), set(TESTS3A)
CHOOSE, DECOMPOSE, ALL4B = set(TESTS3B), set(TESTS4A), set(TESTS4B)
# the test cells that call poly_features and fit_least_squares
FITS = CHOOSE | ALL4B
FORBIDDEN = {
    "numpy.linalg.lstsq", "numpy.linalg.pinv", "numpy.polyfit",
    "numpy.vander", "numpy.polynomial.polynomial.polyfit",
    "numpy.polynomial.polynomial.polyvander",
    "numpy.polynomial.Polynomial.fit", "scipy.linalg.lstsq",
    "scipy.linalg.pinv", "sklearn.preprocessing.PolynomialFeatures",
    "sklearn.linear_model.LinearRegression",
    "sklearn.model_selection.train_test_split", "reglab.data.poly_features",
}


# --- Task 1: poly_features ----------------------------------------------

POLY = '''
def poly_features(x, degree):
    if isinstance(degree, bool) or not isinstance(degree,
                                                  (int, np.integer)):
        raise ValueError(f"degree must be an integer, got {degree!r}.")
    if degree < 0:
        raise ValueError(f"degree must be at least 0, got {degree}.")
    x = CAST
    return COLUMNS
'''
POLY_GOOD = {"CAST": "np.asarray(x, dtype=np.float64).reshape(-1, 1)",
             "COLUMNS": "x ** np.arange(degree + 1)"}
TYPE_CHECK = ('    if isinstance(degree, bool) or not isinstance(degree,\n'
              '                                                  '
              '(int, np.integer)):\n'
              '        raise ValueError(f"degree must be an integer, got '
              '{degree!r}.")\n')
SIGN_CHECK = ('    if degree < 0:\n        raise ValueError(f"degree must '
              'be at least 0, got {degree}.")\n')


def poly(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(POLY, POLY_GOOD, replace, **pieces)


POLY_MUTANTS = {
    # reglab.poly_features' columns x^1, ..., x^d: no constant column.
    "poly-no-constant-column": (poly(COLUMNS="x ** np.arange(1, degree + 1)"),
                                ALL1 | FITS, False),
    # Columns x^0, ..., x^(d-1): a degree too low.
    "poly-one-column-short": (poly(COLUMNS="x ** np.arange(degree)"),
                              ALL1 | FITS, False),
    "poly-one-column-long": (poly(COLUMNS="x ** np.arange(degree + 2)"),
                             ALL1 | FITS, False),
    # np.vander's order, highest power first: the same column space, so
    # the fits of Tasks 3 and 4 are right, only the features are not.
    "poly-highest-power-first": (poly(
        COLUMNS="x ** np.arange(degree, -1, -1)"), ALL1, False),
    "poly-times-not-power": (poly(COLUMNS="x * np.arange(degree + 1)"),
                             ALL1 | FITS, False),
    "poly-transposed": (poly(COLUMNS="(x ** np.arange(degree + 1)).T"),
                        ALL1 | FITS, False),
    # Integer inputs give integer features.
    "poly-no-float-cast": (poly(CAST="np.asarray(x).reshape(-1, 1)"),
                           {"test_poly_hidden"}, False),
    # A negative degree gives an empty (n, 0) array instead of an error.
    "poly-no-degree-check": (poly({TYPE_CHECK: "", SIGN_CHECK: ""}),
                             {"test_poly_hidden"}, False),
    # degree=2.5 gives the columns x^0, ..., x^3.
    "poly-accepts-float-degree": (poly({TYPE_CHECK: ""}),
                                  {"test_poly_hidden"}, False),
    "poly-loop-correct": ('''
def poly_features(x, degree):
    if not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError("degree must be an integer >= 0")
    x = np.array(x, dtype=float)
    columns = [np.ones_like(x)]
    for _ in range(degree):
        columns.append(columns[-1] * x)
    return np.stack(columns, axis=1)
''', set(), False),
}
POLY_DELEGATES = {
    "poly-calls-polyvander": (poly(
        COLUMNS="np.polynomial.polynomial.polyvander(x.ravel(), degree)"),
        ALL1 | FITS, True),
    "poly-calls-vander": (poly(
        COLUMNS="np.vander(x.ravel(), degree + 1, increasing=True)"),
        ALL1 | FITS, True),
    "poly-uses-sklearn": (poly(
        COLUMNS="PolynomialFeatures(degree).fit_transform(x)",
        replace={"def poly_features": "from sklearn.preprocessing import "
                                      "PolynomialFeatures\n\n\n"
                                      "def poly_features"}),
        ALL1 | FITS, True),
    # reglab's features, with the constant column put in front.
    "poly-uses-reglab": (poly(
        COLUMNS="np.hstack([np.ones_like(x), reglab.poly_features("
                "torch.from_numpy(x), degree).numpy()]) if degree else "
                "np.ones_like(x)",
        replace={"def poly_features": "import torch\n\n\n"
                                      "def poly_features"}),
        ALL1 | FITS, True),
}

# --- Task 2: fit_least_squares ------------------------------------------

LSTSQ = '''
def fit_least_squares(X, y):
    X = np.asarray(X, dtype=DTYPE)
    y = np.asarray(y, dtype=DTYPE)
    Q, R = np.linalg.qr(X)
    return SOLVE
'''
LSTSQ_GOOD = {"DTYPE": "np.float64", "SOLVE": "np.linalg.solve(R, Q.T @ y)"}


def lstsq(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(LSTSQ, LSTSQ_GOOD, replace, **pieces)


LSTSQ_MUTANTS = {
    # Xᵀy without (XᵀX)⁻¹: right only for orthonormal columns.
    "lsq-no-inverse": (lstsq(SOLVE="X.T @ y"), ALL2 | FITS, False),
    "lsq-forgets-q-transpose": (lstsq(SOLVE="np.linalg.solve(R, Q @ y)"),
                                ALL2 | FITS, False),
    # A tiny ridge "for stability": seen only on columns of size 1e-6.
    "lsq-ridge-for-stability": (lstsq(
        SOLVE="np.linalg.solve(X.T @ X + 1e-12 * np.eye(X.shape[1]), "
              "X.T @ y)"), {"test_lstsq_hidden"}, False),
    "lsq-ridge": (lstsq(
        SOLVE="np.linalg.solve(X.T @ X + 1e-3 * np.eye(X.shape[1]), "
              "X.T @ y)"), ALL2 | CHOOSE | {"test_bias_variance_hidden"},
        False),
    # LinearRegression's default: an intercept column added in front.
    "lsq-adds-intercept": (lstsq({
        "    Q, R = np.linalg.qr(X)\n":
        "    X = np.column_stack([np.ones(len(X)), X])\n"
        "    Q, R = np.linalg.qr(X)\n"}), ALL2 | FITS, False),
    "lsq-returns-fitted-values": (lstsq(
        SOLVE="X @ np.linalg.solve(R, Q.T @ y)"), ALL2 | FITS, False),
    # Single precision: off by ~1e-7, where float64 gives ~1e-15.
    "lsq-float32": (lstsq(DTYPE="np.float32"),
                    ALL2 | {"test_bias_variance_hidden"}, False),
    "lsq-normal-equations-correct": (lstsq(
        SOLVE="np.linalg.solve(X.T @ X, X.T @ y)"), set(), False),
    "lsq-inverse-correct": (lstsq(SOLVE="np.linalg.inv(X.T @ X) @ X.T @ y"),
                            set(), False),
}
LSTSQ_DELEGATES = {
    "lsq-calls-lstsq": (lstsq(
        SOLVE="np.linalg.lstsq(X, y, rcond=None)[0]"), ALL2 | FITS, True),
    "lsq-calls-pinv": (lstsq(SOLVE="np.linalg.pinv(X) @ y"), ALL2 | FITS,
                       True),
    "lsq-calls-scipy-lstsq": (lstsq(
        SOLVE="scipy.linalg.lstsq(X, y)[0]",
        replace={"def fit_least_squares": "import scipy.linalg\n\n\n"
                                          "def fit_least_squares"}),
        ALL2 | FITS, True),
    "lsq-uses-linear-regression": (lstsq(
        SOLVE="LinearRegression(fit_intercept=False).fit(X, y).coef_",
        replace={"def fit_least_squares":
                 "from sklearn.linear_model import LinearRegression\n\n\n"
                 "def fit_least_squares"}), ALL2 | FITS, True),
}

# --- Task 3: train_val_split and choose_degree --------------------------

SPLIT = '''
def train_val_split(n, val_fraction, seed):
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got "
                         f"{val_fraction}.")
    n_val = N_VAL
    if n_val >= n:
        raise ValueError("no training sample is left.")
    perm = PERM
    return RETURN
'''
SPLIT_GOOD = {"N_VAL": "math.ceil(val_fraction * n)",
              "PERM": "np.random.default_rng(seed).permutation(n)",
              "RETURN": "perm[n_val:], perm[:n_val]"}
FRACTION_CHECK = ('    if not 0.0 < val_fraction < 1.0:\n'
                  '        raise ValueError(f"val_fraction must be in (0, 1),'
                  ' got "\n                         f"{val_fraction}.")\n')
EMPTY_CHECK = ('    if n_val >= n:\n        raise ValueError("no training '
               'sample is left.")\n')


def split(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(SPLIT, SPLIT_GOOD, replace, **pieces)


SPLIT_MUTANTS = {
    # round(7.000000000000001) = 7 validation samples of 100 at 0.07,
    # where train_test_split takes 8.
    "split-rounds": (split(N_VAL="round(val_fraction * n)"), ALL3A, False),
    "split-floors": (split(N_VAL="int(val_fraction * n)"), ALL3A, False),
    "split-fraction-is-training": (split(RETURN="perm[:n_val], perm[n_val:]"),
                                   ALL3A, False),
    # The first indices for training, the last for validation: not random.
    "split-no-shuffle": (split(PERM="np.arange(n)"), ALL3A, False),
    # The same permutation whatever the seed.
    "split-seed-ignored": (split(
        PERM="np.random.default_rng(0).permutation(n)"), ALL3A, False),
    # The global generator: another split at every call.
    "split-not-reproducible": (split(PERM="np.random.permutation(n)"),
                               {"test_split_visible"}, False),
    "split-overlapping": (split(RETURN="perm[n_val - 1:], perm[:n_val]"),
                          ALL3A, False),
    "split-drops-an-index": (split(RETURN="perm[n_val + 1:], perm[:n_val]"),
                             ALL3A, False),
    # Indices drawn with replacement: repeats, and some never drawn.
    "split-with-replacement": (split(
        PERM="np.random.default_rng(seed).integers(0, n, size=n)"), ALL3A,
        False),
    "split-boolean-masks": (split(
        RETURN="np.isin(np.arange(n), perm[n_val:]), "
               "np.isin(np.arange(n), perm[:n_val])"), ALL3A, False),
    # val_fraction=0 gives an empty validation set instead of an error.
    "split-no-fraction-check": (split({FRACTION_CHECK: ""}),
                                {"test_split_hidden"}, False),
    "split-no-empty-check": (split({EMPTY_CHECK: ""}), {"test_split_hidden"},
                             False),
    "split-sorted-correct": (split(
        RETURN="np.sort(perm[n_val:]), np.sort(perm[:n_val])"), set(),
        False),
}
SPLIT_DELEGATES = {
    "split-calls-train-test-split": (split(
        RETURN="tuple(train_test_split(np.arange(n), "
               "test_size=val_fraction, random_state=seed))",
        replace={"def train_val_split":
                 "from sklearn.model_selection import train_test_split\n\n\n"
                 "def train_val_split"}), ALL3A, True),
}

CHOOSE_SOURCE = '''
def choose_degree(x_train, y_train, x_val, y_val, degrees):
    errors = []
    for d in degrees:
        w = fit_least_squares(poly_features(FIT_X, d), FIT_Y)
        residual = poly_features(EVAL_X, d) @ w - EVAL_Y
        errors.append(float(ERROR))
    best = BEST
    return best, errors
'''
CHOOSE_GOOD = {"FIT_X": "x_train", "FIT_Y": "y_train", "EVAL_X": "x_val",
               "EVAL_Y": "y_val", "ERROR": "np.mean(residual**2)",
               "BEST": "degrees[int(np.argmin(errors))]"}


def choose(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(CHOOSE_SOURCE, CHOOSE_GOOD, replace, **pieces)


CHOOSE_MUTANTS = {
    # The training error always prefers the largest degree.
    "choose-by-training-error": (choose(EVAL_X="x_train", EVAL_Y="y_train"),
                                 CHOOSE, False),
    "choose-fits-on-validation": (choose(FIT_X="x_val", FIT_Y="y_val"),
                                  CHOOSE, False),
    "choose-sum-not-mean": (choose(ERROR="np.sum(residual**2)"), CHOOSE,
                            False),
    "choose-root-mean-square": (choose(
        ERROR="np.sqrt(np.mean(residual**2))"), CHOOSE, False),
    "choose-mean-absolute-error": (choose(ERROR="np.mean(np.abs(residual))"),
                                   CHOOSE, False),
    "choose-highest-error": (choose(BEST="degrees[int(np.argmax(errors))]"),
                             CHOOSE, False),
    # The position in degrees, not the degree: right for range(0, ...)
    # only (the hidden tests pass other lists).
    "choose-returns-position": (choose(BEST="int(np.argmin(errors))"),
                                CHOOSE, False),
    "choose-min-key-correct": (choose(
        BEST="min(degrees, key=lambda d: errors[list(degrees).index(d)])"),
        set(), False),
}
CHOOSE_DELEGATES = {
    "choose-calls-polyfit": ('''
def choose_degree(x_train, y_train, x_val, y_val, degrees):
    P = np.polynomial.polynomial
    errors = [float(np.mean((P.polyval(x_val, P.polyfit(x_train, y_train, d))
                             - y_val) ** 2)) for d in degrees]
    return degrees[int(np.argmin(errors))], errors
''', CHOOSE, True),
}

# --- Task 4: bias² and variance -----------------------------------------

DECOMPOSE_SOURCE = '''
def bias2_and_variance(preds, g):
    preds = np.asarray(preds, dtype=np.float64)
    if preds.shape[0] < 2:
        raise ValueError("a sample variance needs at least 2 fits.")
    mean = preds.mean(axis=0)
    bias2 = BIAS2
    variance = VARIANCE
    return RETURN
'''
DECOMPOSE_GOOD = {
    "BIAS2": "np.mean((mean - g) ** 2)",
    "VARIANCE": "np.mean(((preds - mean) ** 2).sum(axis=0) "
                "/ (preds.shape[0] - 1))",
    "RETURN": "float(bias2), float(variance)"}
COUNT_CHECK = ('    if preds.shape[0] < 2:\n        raise ValueError("a '
               'sample variance needs at least 2 fits.")\n')


def decompose(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(DECOMPOSE_SOURCE, DECOMPOSE_GOOD, replace, **pieces)


DECOMPOSE_MUTANTS = {
    # np.var's default ddof=0: too small by (R - 1)/R, which 200 fits do
    # not show; the exact test with R = 3 does.
    "bv-variance-divides-by-r": (decompose(
        VARIANCE="np.mean(np.var(preds, axis=0))"), DECOMPOSE, False),
    "bv-bias-not-squared": (decompose(BIAS2="np.mean(mean - g)"),
                            DECOMPOSE | ALL4B, False),
    "bv-absolute-bias": (decompose(BIAS2="np.mean(np.abs(mean - g))"),
                         DECOMPOSE | ALL4B, False),
    # (mean of the bias)² instead of the mean of bias²: the errors of
    # opposite sign cancel.
    "bv-square-of-mean-bias": (decompose(BIAS2="np.mean(mean - g) ** 2"),
                               DECOMPOSE | ALL4B, False),
    # The mean squared error of the fits: bias² plus the variance.
    "bv-bias-is-mse": (decompose(BIAS2="np.mean((preds - g) ** 2)"),
                       DECOMPOSE | ALL4B, False),
    "bv-standard-deviation": (decompose(
        VARIANCE="np.mean(np.std(preds, axis=0, ddof=1))"),
        DECOMPOSE | ALL4B, False),
    # Across the points of one fit instead of across the fits.
    "bv-variance-wrong-axis": (decompose(
        VARIANCE="np.mean(np.var(preds, axis=1, ddof=1))"),
        DECOMPOSE | ALL4B, False),
    # Spread around g instead of around the mean fit.
    "bv-variance-around-truth": (decompose(
        VARIANCE="np.mean(((preds - g) ** 2).sum(axis=0) "
                 "/ (preds.shape[0] - 1))"), DECOMPOSE | ALL4B, False),
    "bv-swapped": (decompose(RETURN="float(variance), float(bias2)"),
                   DECOMPOSE | ALL4B, False),
    # One fit: nan (0/0) instead of an error.
    "bv-no-fit-count-check": (decompose({COUNT_CHECK: ""}), DECOMPOSE,
                              False),
    "bv-numpy-var-correct": (decompose(
        VARIANCE="np.var(preds, axis=0, ddof=1).mean()"), set(), False),
}

RESAMPLE = '''
def bias_variance(x_train, g_train, x_eval, g_eval, degree, sigma,
                  n_resamples, seed):
    rng = RNG
    Phi_train = poly_features(x_train, degree)
    Phi_eval = poly_features(EVAL_X, degree)
    preds = []
    for _ in range(FITS):
        y = NOISY
        preds.append(Phi_eval @ fit_least_squares(Phi_train, y))
    return bias2_and_variance(np.array(preds), EVAL_G)
'''
RESAMPLE_GOOD = {
    "RNG": "np.random.default_rng(seed)", "EVAL_X": "x_eval",
    "FITS": "n_resamples",
    "NOISY": "g_train + sigma * rng.standard_normal(len(g_train))",
    "EVAL_G": "g_eval"}


def resample(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(RESAMPLE, RESAMPLE_GOOD, replace, **pieces)


RESAMPLE_MUTANTS = {
    # A new generator with the same seed in the loop: one noise draw,
    # repeated, so no variance.
    "rs-same-noise-every-fit": (resample(
        NOISY="g_train + sigma * np.random.default_rng(seed)"
              ".standard_normal(len(g_train))"), ALL4B, False),
    "rs-no-noise": (resample(NOISY="g_train"), ALL4B, False),
    # σ² used as the standard deviation of the noise.
    "rs-sigma-squared": (resample(
        NOISY="g_train + sigma**2 * rng.standard_normal(len(g_train))"),
        ALL4B, False),
    "rs-noise-of-unit-variance": (resample(
        NOISY="g_train + rng.standard_normal(len(g_train))"), ALL4B, False),
    # One fit only: no sample variance.
    "rs-one-resample": (resample(FITS="1"), ALL4B, False),
    # range(1, n_resamples): one fit too few, seen only with R = 2.
    "rs-one-fit-too-few": (resample(FITS="1, n_resamples"),
                           {"test_bias_variance_hidden"}, False),
    "rs-seed-ignored": (resample(RNG="np.random.default_rng()"),
                        {"test_bias_variance_visible"}, False),
    # Bias and variance at the training inputs instead of at x_eval.
    "rs-evaluated-at-training-inputs": (resample(
        EVAL_X="x_train", EVAL_G="g_train"), ALL4B, False),
    "rs-fits-noise-free-targets": (resample(
        replace={"fit_least_squares(Phi_train, y)":
                 "fit_least_squares(Phi_train, g_train + 0 * y)"}),
        ALL4B, False),
    "rs-noise-matrix-correct": ('''
def bias_variance(x_train, g_train, x_eval, g_eval, degree, sigma,
                  n_resamples, seed):
    rng = np.random.default_rng(seed)
    Y = g_train + sigma * rng.standard_normal((n_resamples, len(g_train)))
    X = poly_features(x_train, degree)
    W = np.stack([fit_least_squares(X, y) for y in Y])
    return bias2_and_variance(W @ poly_features(x_eval, degree).T, g_eval)
''', set(), False),
}

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {**POLY_MUTANTS, **POLY_DELEGATES, **LSTSQ_MUTANTS,
           **LSTSQ_DELEGATES, **SPLIT_MUTANTS, **SPLIT_DELEGATES,
           **CHOOSE_MUTANTS, **CHOOSE_DELEGATES, **DECOMPOSE_MUTANTS,
           **RESAMPLE_MUTANTS}

# Answers as a student would type them into the solution cells.
INFINITE_LOOP = '''
def bias_variance(x_train, g_train, x_eval, g_eval, degree, sigma,
                  n_resamples, seed):
    while True:
        pass
'''
GRADED = ALL1 | ALL2 | ALL3A | CHOOSE | DECOMPOSE | ALL4B
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, GRADED),
    "wrong": ({"choose_degree": MUTANTS["choose-by-training-error"][0]},
              CHOOSE),
    "infinite-loop": ({"bias_variance": INFINITE_LOOP}, ALL4B),
    "delegates": ({"fit_least_squares": MUTANTS["lsq-calls-lstsq"][0]},
                  ALL2 | FITS),
    "delegates-split": ({"train_val_split":
                         MUTANTS["split-calls-train-test-split"][0]}, ALL3A),
    # Wrong Task 4 decomposition with its test replaced by `pass`: the
    # original test is put back, so it still scores 0.
    "edits-tests": ({"bias2_and_variance":
                     MUTANTS["bv-variance-divides-by-r"][0],
                     "test_bias2_and_variance": "pass"}, DECOMPOSE),
    # Task 1 without the constant column fails Tasks 3 and 4 as well.
    "wrong-features": ({"poly_features":
                        MUTANTS["poly-no-constant-column"][0]},
                       ALL1 | FITS),
    # Pass every visible test, fail the hidden ones: integer features, a
    # tiny ridge term, no check for an empty training set, the position
    # instead of the degree, no check for a single fit, one fit too few.
    "hidden-bugs": ({"poly_features": MUTANTS["poly-no-float-cast"][0],
                     "fit_least_squares":
                     MUTANTS["lsq-ridge-for-stability"][0],
                     "train_val_split": MUTANTS["split-no-empty-check"][0],
                     "choose_degree": MUTANTS["choose-returns-position"][0],
                     "bias2_and_variance":
                     MUTANTS["bv-no-fit-count-check"][0],
                     "bias_variance": MUTANTS["rs-one-fit-too-few"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "poly-no-constant-column": "you leave out the constant column",
    "poly-highest-power-first": "you put the highest power first",
    "poly-times-not-power": "you multiply x by k",
    "lsq-no-inverse": "you return Xᵀy",
    "lsq-returns-fitted-values": "you return the fitted values X w",
    "lsq-ridge": "you add a ridge term λI",
    "lsq-ridge-for-stability": "you add a ridge term λI",
    "lsq-float32": "your coefficients are float32",
    "split-fraction-is-training": "your validation set holds the share",
    "split-no-shuffle": "your split is not shuffled",
    "split-seed-ignored": "every seed gives the same split",
    "split-not-reproducible": "the same seed gives another split",
    "split-overlapping": "you cut the permutation one place off",
    "split-drops-an-index": "you cut the permutation one place off",
    "split-with-replacement": "some indices repeat and others are missing",
    "choose-by-training-error": "you measure the errors on the training",
    "choose-fits-on-validation": "you fit on the validation data",
    "choose-sum-not-mean": "you add up the squared errors",
    "choose-root-mean-square": "the square root of the mean squared error",
    "choose-mean-absolute-error": "you average the absolute errors",
    "choose-highest-error": "the highest validation error",
    "choose-returns-position": "you return the position of the best degree",
    "bv-variance-divides-by-r": "you divide by M (np.var's default ddof=0",
    "bv-bias-not-squared": "your bias² is not a mean of squares",
    "bv-absolute-bias": "your bias² is not a mean of squares",
    "bv-square-of-mean-bias": "you square the mean of p̄_j - f*(z_j)",
    "bv-bias-is-mse": "your bias² is the mean squared error of the fits",
    "bv-standard-deviation": "you return the standard deviation",
    "bv-variance-wrong-axis": "across the points of each fit (axis=1)",
    "bv-variance-around-truth": "the spread of the fits around the true",
    "bv-swapped": "you return (variance, bias2)",
    "rs-same-noise-every-fit": "you draw the same noise for every fit",
    "rs-no-noise": "your fits see no noise",
    "rs-fits-noise-free-targets": "your fits see no noise",
    "rs-sigma-squared": "the standard deviation σ², not σ",
    "rs-noise-of-unit-variance": "the standard deviation 1 whatever sigma",
    "rs-seed-ignored": "the same seed gives other estimates",
    "rs-evaluated-at-training-inputs": "at the training inputs",
}

FEEDBACK_CODE = ("oracle = LinearRegression(fit_intercept=False)"
                 ".fit(X, y).coef_")
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you measure the errors on the training data"],
    "hidden-bugs": [
        "poly_features(the integers -3, ..., 3, 4) should return a float64 "
        "NumPy array, not ndarray int64.",
        "fit_least_squares of noise-free targets with columns of size 1e-6 "
        "(no ridge term)",
        "train_val_split(3, 0.9, seed=0) should raise a ValueError: "
        "ceil(0.9 · 3) = 3 validation indices leave no training index.",
        "bias2_and_variance of a single fit (M = 1) should raise a "
        "ValueError: a sample variance needs at least 2 fits.",
    ],
}
# Tasks 3 and 4 call the student's poly_features: when it is wrong, their
# failures say first that Task 1 is the one to fix.
FEEDBACK_FIRST_LINES = {
    "wrong-features": [
        "Task 3 uses your `poly_features` from Task 1, which does not pass "
        "its tests yet: fix Task 1 first.",
        "Task 4 uses your `poly_features` from Task 1, which does not pass "
        "its tests yet: fix Task 1 first."],
}
