"""Exercise 9 (chapter 10): random shifts of the 8x8 digits with zeros
coming in (a label-preserving augmentation), the indices of a bootstrap
sample, soft voting (the mean of the members' softmax probabilities) and
the variance of an average of M equicorrelated members with the range of
ρ that it allows. See ``tests/assignments/__init__.py`` for what each name
means.

The shifts and the bootstrap samples are random, so their tests are
structural and statistical: every output image must equal one of the
(2k+1)² zero-filled shifts of its input (built in the test with
``torch.roll`` and masking), each shift must come up about equally often
(five binomial standard deviations), and the share of distinct indices
must be 1 - (1 - 1/n)^n within five standard deviations of the exact
variance of the number of distinct indices. ``average_variance`` is
checked against Monte Carlo simulations of correlated Gaussians and its
closed-form edge cases. No torch built-in does a zero-filled random shift
or soft voting, so only the bootstrap's ready-made samplers are forbidden.
``numpy.random.choice`` is not on the list: it is a bound method, which
``forbid`` cannot switch off.
"""

ASSIGNMENT = "ch09-ensembles"
NOTEBOOK = "ensembles"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("random_shift", "bootstrap_indices", "ensemble_average",
             "average_variance")
TESTS1 = ("test_random_shift_visible", "test_random_shift_hidden")
TESTS2 = ("test_bootstrap_visible", "test_bootstrap_hidden")
TESTS3 = ("test_ensemble_visible", "test_ensemble_hidden")
TESTS4 = ("test_variance_visible", "test_variance_hidden")
TESTS = {"random_shift": TESTS1, "bootstrap_indices": TESTS2,
         "ensemble_average": TESTS3, "average_variance": TESTS4}
VISIBLE1, VISIBLE2 = {TESTS1[0]}, {TESTS2[0]}
HIDDEN1, HIDDEN2, HIDDEN3, HIDDEN4 = ({TESTS1[1]}, {TESTS2[1]},
                                      {TESTS3[1]}, {TESTS4[1]})
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3 | HIDDEN4
ALL1, ALL2, ALL3, ALL4 = set(TESTS1), set(TESTS2), set(TESTS3), set(TESTS4)
FORBIDDEN = {"sklearn.utils.resample", "torch.utils.data.RandomSampler",
             "torch.utils.data.WeightedRandomSampler",
             "sklearn.ensemble._bagging._generate_indices"}

# --- Task 1: random_shift ----------------------------------------------------

# A correct answer (a loop over the images, with slicing) with hooks
# <NAME>; the mutants below change one piece.
SHIFT_TEMPLATE = """
def random_shift(images, max_shift, generator=None):
    <CHECK>
    k, n = max_shift, len(images)
    x = images.reshape(n, 8, 8)
    <DRAW>
    out = <OUT>
    for i in range(n):
        sx, sy = int(s[i, 0]), int(s[i, 1])
        <MOVE>
    return out.reshape(images.shape)
"""
SHIFT_GOOD = {
    "<CHECK>": ("if max_shift < 0:\n"
                "        raise ValueError(f'max_shift={max_shift} < 0')"),
    "<DRAW>": "s = torch.randint(-k, k + 1, (n, 2), generator=generator)",
    "<OUT>": "torch.zeros_like(x)",
    "<MOVE>": ("if abs(sx) < 8 and abs(sy) < 8:\n"
               "            out[i, max(sy, 0):8 + min(sy, 0),\n"
               "                max(sx, 0):8 + min(sx, 0)] = \\\n"
               "                x[i, max(-sy, 0):8 - max(sy, 0),\n"
               "                  max(-sx, 0):8 - max(sx, 0)]"),
}


def shift(**pieces: str) -> str:
    """The template with the named pieces replaced (keys without <>)."""
    source = SHIFT_TEMPLATE
    chosen = {**SHIFT_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


SHIFT_MUTANTS = {
    # torch.roll: the pixels that leave come back on the other side
    "shift-wraps-around": (shift(
        OUT="x.clone()",
        MOVE="out[i] = torch.roll(x[i], shifts=(sy, sx), dims=(0, 1))"),
        ALL1, False),
    # one shift for the whole batch
    "shift-one-for-batch": (shift(
        DRAW=("s = torch.randint(-k, k + 1, (1, 2), generator=generator)"
              ".expand(n, 2)")), ALL1, False),
    # max_shift exclusive: {-k, ..., k - 1} (and an error for k = 0)
    "shift-exclusive-range": (shift(
        DRAW="s = torch.randint(-k, k, (n, 2), generator=generator)"),
        ALL1, False),
    # δ_x = δ_y: diagonal shifts only
    "shift-same-for-both-axes": (shift(
        DRAW=("s = torch.randint(-k, k + 1, (n, 1), generator=generator)"
              ".expand(n, 2)")), ALL1, False),
    # only the extreme shifts ±k (and 0 when k = 0)
    "shift-extremes-only": (shift(
        DRAW=("s = k * (2 * torch.randint(0, 2, (n, 2), generator=generator)"
              " - 1)")), ALL1, False),
    # the opposite direction: still an allowed shift (the set is symmetric)
    "shift-opposite-direction-correct": (shift(
        DRAW="s = -torch.randint(-k, k + 1, (n, 2), generator=generator)"),
        set(), False),
    # shifts the images in place and returns them
    "shift-in-place": ("""
def random_shift(images, max_shift, generator=None):
    if max_shift < 0:
        raise ValueError(f'max_shift={max_shift} < 0')
    k, n = max_shift, len(images)
    x = images.reshape(n, 8, 8)
    s = torch.randint(-k, k + 1, (n, 2), generator=generator)
    for i in range(n):
        sx, sy = int(s[i, 0]), int(s[i, 1])
        moved = torch.zeros_like(x[i])
        if abs(sx) < 8 and abs(sy) < 8:
            moved[max(sy, 0):8 + min(sy, 0), max(sx, 0):8 + min(sx, 0)] = \\
                x[i, max(-sy, 0):8 - max(sy, 0), max(-sx, 0):8 - max(sx, 0)]
        x[i] = moved
    return images
""", ALL1, False),
    # ignores the generator: the global generator's draw
    "shift-ignores-generator": (shift(
        DRAW="s = torch.randint(-k, k + 1, (n, 2))"), VISIBLE1, False),
    # returns the images and the shifts
    "shift-returns-tuple": (shift().replace(
        "return out.reshape(images.shape)",
        "return out.reshape(images.shape), s"), ALL1, False),
    # float32 zeros: float64 images come back as float32
    "shift-float32-output": (shift(OUT="torch.zeros(x.shape)"), HIDDEN1,
                             False),
    # returns (N, 8, 8) also for flattened images
    "shift-unflattened-output": (shift().replace(
        "return out.reshape(images.shape)", "return out"), HIDDEN1, False),
    # the slices go wrong for shifts of 8 pixels or more
    "shift-large-shift-bug": (shift(MOVE=(
        "out[i, max(sy, 0):8 + min(sy, 0), max(sx, 0):8 + min(sx, 0)] = \\\n"
        "            x[i, max(-sy, 0):8 - max(sy, 0),"
        " max(-sx, 0):8 - max(sx, 0)]")), HIDDEN1, False),
    # no check of max_shift: torch.randint's RuntimeError for k < 0
    "shift-no-check": (shift(CHECK="pass"), HIDDEN1, False),
    # the error does not name max_shift
    "shift-error-without-name": (shift(CHECK=(
        "if max_shift < 0:\n"
        "        raise ValueError('the shift must be >= 0')")), HIDDEN1,
        False),
    # reseeds the global generator: the same shifts at every call
    "shift-reseeds-global": (shift(DRAW=(
        "if generator is None:\n"
        "        generator = torch.Generator().manual_seed(0)\n"
        "    s = torch.randint(-k, k + 1, (n, 2), generator=generator)")),
        HIDDEN1, False),
    # the chapter's affine_grid / grid_sample with whole-pixel shifts:
    # correct (bilinear interpolation at the pixel centres is exact)
    "shift-grid-sample-correct": ("""
import torch.nn.functional as F
def random_shift(images, max_shift, generator=None):
    if max_shift < 0:
        raise ValueError(f'max_shift must be >= 0, got {max_shift}')
    k, n = max_shift, len(images)
    if n == 0:
        return images.clone()
    s = torch.randint(-k, k + 1, (n, 2), generator=generator)
    x = images.reshape(n, 1, 8, 8)
    theta = torch.zeros(n, 2, 3, dtype=images.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = -s.to(images.dtype) * 2 / 8
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros',
                        align_corners=False)
    return out.reshape(images.shape)
""", set(), False),
    # the reference's pad-and-gather idea, written with a mask: correct
    "shift-mask-correct": ("""
def random_shift(images, max_shift, generator=None):
    if max_shift < 0:
        raise ValueError(f'max_shift must be >= 0, got {max_shift}')
    k, n = max_shift, len(images)
    s = torch.randint(-k, k + 1, (n, 2), generator=generator)
    r = torch.arange(8)
    rows = r[None, :] - s[:, 1:]
    cols = r[None, :] - s[:, :1]
    ok = (((rows >= 0) & (rows < 8))[:, :, None]
          & ((cols >= 0) & (cols < 8))[:, None, :])
    x = images.reshape(n, 8, 8)
    picked = x[torch.arange(n)[:, None, None], rows.clamp(0, 7)[:, :, None],
               cols.clamp(0, 7)[:, None, :]]
    return torch.where(ok, picked, torch.zeros_like(picked)).reshape(
        images.shape)
""", set(), False),
}

# --- Task 2: bootstrap_indices -----------------------------------------------

BOOT_CHECK = """
    if n < 1:
        raise ValueError(f'n must be >= 1, got n={n}')"""

BOOT_MUTANTS = {
    # without replacement: every index exactly once
    "bs-randperm": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randperm(n, generator=generator)
""", ALL2, False),
    # 1, ..., n instead of 0, ..., n - 1
    "bs-one-based": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randint(1, n + 1, (n,), generator=generator)
""", ALL2, False),
    # never the last index (for n >= 2)
    "bs-misses-last": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randint(0, max(n - 1, 1), (n,), generator=generator)
""", HIDDEN2, False),
    # n - 1 draws
    "bs-one-short": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randint(0, n, (max(n - 1, 1),), generator=generator)
""", ALL2, False),
    # floats, floored
    "bs-float-indices": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return (n * torch.rand(n, generator=generator)).floor()
""", ALL2, False),
    # int32
    "bs-int32": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randint(0, n, (n,), generator=generator, dtype=torch.int32)
""", ALL2, False),
    # ignores the generator
    "bs-ignores-generator": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.randint(0, n, (n,))
""", VISIBLE2, False),
    # a NumPy array
    "bs-numpy": (f"""
import numpy as np
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return np.random.randint(0, n, n)
""", ALL2, False),
    # no check of n: torch's RuntimeError for n = 0
    "bs-no-check": ("""
def bootstrap_indices(n, generator=None):
    return torch.randint(0, n, (n,), generator=generator)
""", HIDDEN2, False),
    # torch.multinomial over uniform weights, with replacement: correct
    "bs-multinomial-correct": (f"""
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    return torch.multinomial(torch.ones(n), n, replacement=True,
                             generator=generator)
""", set(), False),
    # delegation (seeded from the torch generator, so otherwise right)
    "bs-uses-resample": (f"""
import numpy as np
from sklearn.utils import resample
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return torch.from_numpy(resample(np.arange(n), replace=True,
                                     n_samples=n, random_state=seed))
""", ALL2, True),
    "bs-uses-random-sampler": (f"""
from torch.utils.data import RandomSampler
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    sampler = RandomSampler(range(n), replacement=True, num_samples=n,
                            generator=generator)
    return torch.tensor(list(sampler), dtype=torch.int64)
""", ALL2, True),
    "bs-uses-weighted-sampler": (f"""
import torch.utils.data
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    sampler = torch.utils.data.WeightedRandomSampler(
        torch.ones(n), n, replacement=True, generator=generator)
    return torch.tensor(list(sampler), dtype=torch.int64)
""", ALL2, True),
    "bs-uses-bagging-indices": (f"""
import numpy as np
from sklearn.ensemble._bagging import _generate_indices
def bootstrap_indices(n, generator=None):{BOOT_CHECK}
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    rng = np.random.RandomState(seed)
    return torch.from_numpy(_generate_indices(rng, True, n, n)).long()
""", ALL2, True),
}

# --- Task 3: ensemble_average ------------------------------------------------

ENSEMBLE_MUTANTS = {
    # softmax of the mean logits
    "ens-averages-logits": ("""
def ensemble_average(models, x):
    z = torch.stack([model(x) for model in models])
    return torch.softmax(z.mean(dim=0), dim=-1)
""", ALL3, False),
    # hard voting: the share of the members' votes for each class
    "ens-hard-voting": ("""
def ensemble_average(models, x):
    z = torch.stack([model(x) for model in models])
    votes = torch.nn.functional.one_hot(z.argmax(dim=-1), z.shape[-1])
    return votes.to(z.dtype).mean(dim=0)
""", ALL3, False),
    # the softmax over the batch
    "ens-softmax-over-batch": ("""
def ensemble_average(models, x):
    return torch.stack([torch.softmax(model(x), dim=0)
                        for model in models]).mean(dim=0)
""", ALL3, False),
    # the sum over the members
    "ens-sum-not-mean": ("""
def ensemble_average(models, x):
    return sum(torch.softmax(model(x), dim=-1) for model in models)
""", ALL3, False),
    # the geometric mean: exp of the mean log-probability, renormalised
    "ens-geometric-mean": ("""
def ensemble_average(models, x):
    logp = torch.stack([torch.log_softmax(model(x), dim=-1)
                        for model in models])
    return torch.softmax(logp.mean(dim=0), dim=-1)
""", ALL3, False),
    # exp without the largest logit subtracted: nan for logits of 1e4
    "ens-naive-exp": ("""
def ensemble_average(models, x):
    probs = []
    for model in models:
        e = model(x).exp()
        probs.append(e / e.sum(dim=-1, keepdim=True))
    return torch.stack(probs).mean(dim=0)
""", HIDDEN3, False),
    # puts the members into evaluation mode
    "ens-calls-eval": ("""
def ensemble_average(models, x):
    probs = []
    for model in models:
        model.eval()
        probs.append(torch.softmax(model(x), dim=-1))
    return torch.stack(probs).mean(dim=0)
""", HIDDEN3, False),
    # iterates twice: len() of a generator
    "ens-len-of-models": ("""
def ensemble_average(models, x):
    return sum(torch.softmax(m(x), dim=-1) for m in models) / len(models)
""", HIDDEN3, False),
    # float32 always
    "ens-float32": ("""
def ensemble_average(models, x):
    return torch.stack([torch.softmax(model(x).float(), dim=-1)
                        for model in models]).mean(dim=0)
""", HIDDEN3, False),
    # stacked under torch.no_grad(): correct
    "ens-stack-no-grad-correct": ("""
def ensemble_average(models, x):
    with torch.no_grad():
        return torch.stack([torch.softmax(model(x), dim=-1)
                            for model in models]).mean(dim=0)
""", set(), False),
}

# --- Task 4: average_variance ------------------------------------------------

VAR_TEMPLATE = """
def average_variance(sigma2, rho, M):
    <CHECK_M>
    if sigma2 < 0:
        raise ValueError(f'sigma2 must be >= 0, got sigma2={sigma2}')
    <CHECK_RHO>
    return <FORMULA>
"""
VAR_GOOD = {
    "<CHECK_M>": ("if M < 1:\n"
                  "        raise ValueError(f'M must be >= 1, got M={M}')"),
    "<CHECK_RHO>": ("low = -1.0 if M == 1 else -1.0 / (M - 1)\n"
                    "    if not low <= rho <= 1:\n"
                    "        raise ValueError(f'rho must be in [{low}, 1], "
                    "got rho={rho}')"),
    "<FORMULA>": "rho * sigma2 + (1 - rho) * sigma2 / M",
}


def var(**pieces: str) -> str:
    source = VAR_TEMPLATE
    chosen = {**VAR_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


VAR_MUTANTS = {
    # ρ and 1 - ρ swapped
    "var-swapped": (var(FORMULA="(1 - rho) * sigma2 + rho * sigma2 / M"),
                    ALL4, False),
    # independent members: σ²/M
    "var-independent": (var(FORMULA="sigma2 / M"), ALL4, False),
    # M - 1 in the denominator
    "var-m-minus-one": (var(FORMULA="rho * sigma2 + (1 - rho) * sigma2 / "
                                    "max(M - 1, 1)"), ALL4, False),
    # the standard deviation instead of the variance
    "var-std": (var(FORMULA="(rho * sigma2 + (1 - rho) * sigma2 / M) ** 0.5"),
                ALL4, False),
    # no validation at all
    "var-no-checks": (var(CHECK_M="pass", CHECK_RHO="pass").replace(
        "    if sigma2 < 0:\n        raise ValueError(f'sigma2 must be >= 0,"
        " got sigma2={sigma2}')\n", ""), HIDDEN4, False),
    # ρ only checked against [-1, 1]
    "var-rho-at-least-minus-one": (var(CHECK_RHO=(
        "if not -1 <= rho <= 1:\n"
        "        raise ValueError(f'rho must be in [-1, 1], got rho={rho}')")),
        HIDDEN4, False),
    # the ends of the range refused
    "var-strict-range": (var(CHECK_RHO=(
        "low = -1.0 if M == 1 else -1.0 / (M - 1)\n"
        "    if not low < rho < 1:\n"
        "        raise ValueError(f'rho must be in ({low}, 1), got rho={rho}')"
    )), HIDDEN4, False),
    # -1/(M - 1) also for M = 1: ZeroDivisionError
    "var-m1-divides-by-zero": (var(CHECK_RHO=(
        "if not -1.0 / (M - 1) <= rho <= 1:\n"
        "        raise ValueError(f'bad rho={rho}')")), HIDDEN4, False),
    # the error does not name the argument
    "var-error-without-name": (var(CHECK_M=(
        "if M < 1:\n"
        "        raise ValueError('need at least one member')")),
        HIDDEN4, False),
    # rho·(M - 1) >= -1 written without a division: correct
    "var-multiplied-check-correct": (var(CHECK_RHO=(
        "if rho > 1 or rho < -1 or rho * (M - 1) < -1:\n"
        "        raise ValueError(f'rho out of range for M={M}: rho={rho}')"
    )), set(), False),
}

MUTANTS = {**SHIFT_MUTANTS, **BOOT_MUTANTS, **ENSEMBLE_MUTANTS,
           **VAR_MUTANTS}

INFINITE_LOOP = '''
def random_shift(images, max_shift, generator=None):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: float32 output for
# float64 images, never the last index, the members put into evaluation
# mode, no validation of the arguments of average_variance.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3 | ALL4),
    "wrong": ({"ensemble_average": MUTANTS["ens-averages-logits"][0]},
              ALL3),
    "infinite-loop": ({"random_shift": INFINITE_LOOP}, ALL1),
    "delegates": ({"bootstrap_indices": MUTANTS["bs-uses-resample"][0]},
                  ALL2),
    "delegates-sampler": ({"bootstrap_indices":
                           MUTANTS["bs-uses-random-sampler"][0]}, ALL2),
    "wrong-shift": ({"random_shift": MUTANTS["shift-wraps-around"][0]},
                    ALL1),
    "wrong-variance": ({"average_variance": MUTANTS["var-swapped"][0]},
                       ALL4),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"random_shift": MUTANTS["shift-one-for-batch"][0],
                     "test_random_shift_visible": "pass",
                     "test_random_shift_hidden": "pass"}, ALL1),
    "hidden-bugs": ({"random_shift": MUTANTS["shift-float32-output"][0],
                     "bootstrap_indices": MUTANTS["bs-misses-last"][0],
                     "ensemble_average": MUTANTS["ens-calls-eval"][0],
                     "average_variance": MUTANTS["var-no-checks"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "shift-one-for-batch": "you draw one shift for the whole batch",
    "shift-exclusive-range": "your shifts never reach one end of -max_shift",
    "shift-same-for-both-axes": "you use the same shift for both axes",
    "bs-randperm": "you draw without replacement",
    "bs-misses-last": "your indices never reach n - 1",
    # the same function: softmax(mean z) = normalised exp(mean log p)
    "ens-averages-logits": "you take the softmax of the mean logits",
    "ens-geometric-mean": "you take the softmax of the mean logits",
    "ens-hard-voting": "you count the members' predicted classes",
    "ens-softmax-over-batch": "your softmax runs over the batch",
    "ens-sum-not-mean": "you add the members' probabilities without "
                        "dividing",
    "var-swapped": "you swapped ρ and 1 - ρ",
    "var-independent": "you return σ²/M",
    "var-m-minus-one": "you divide by M - 1",
    "var-std": "you return the standard deviation",
}

FEEDBACK_CODE = ("out = random_shift(x, 1, "
                 "generator=torch.Generator().manual_seed(0))")
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you take the softmax of the mean logits"],
    "hidden-bugs": [
        "random_shift of float64 images returns torch.float32",
        "index 4 came up 0 times",
        "ensemble_average changed the mode of a member",
        "average_variance(1.0, 0.5, 0) raises ZeroDivisionError",
    ]}
