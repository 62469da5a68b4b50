"""Exercise 6 (chapter 6): inverted dropout as a function, the module that
follows ``model.train()`` / ``model.eval()``, and a measurement of the
moments of dropout. See ``tests/assignments/__init__.py`` for what each
name means.

The masks are random, so the tests check the student's code statistically
(fractions and means within five standard errors) and structurally (every
output is 0 or x / (1 - p); the gradient is m / (1 - p)), with seeded
generators so that every run of a given answer gives the same verdict.
The module (Task 2) and the measurement (Task 3) call the student's
``dropout``, so an answer that breaks ``dropout`` badly fails their cells
too. PyTorch's dropout takes no generator: the delegating answers below
seed a forked global generator from the given one, which makes them
otherwise right (``test_delegating_answers_are_otherwise_right``).
"""

ASSIGNMENT = "ch06-dropout"
NOTEBOOK = "dropout"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("dropout", "dropout_module", "dropout_moments")
TESTS1 = ("test_dropout_visible", "test_dropout_hidden")
TESTS2 = ("test_module_visible", "test_module_hidden")
TESTS3 = ("test_moments_visible", "test_moments_hidden")
TESTS = {"dropout": TESTS1, "dropout_module": TESTS2,
         "dropout_moments": TESTS3}
HIDDEN1, HIDDEN2, HIDDEN3 = {TESTS1[1]}, {TESTS2[1]}, {TESTS3[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3
VISIBLE1, VISIBLE2, VISIBLE3 = {TESTS1[0]}, {TESTS2[0]}, {TESTS3[0]}
ALL1, ALL2, ALL3 = set(TESTS1), set(TESTS2), set(TESTS3)
FORBIDDEN = {
    "reglab.layers.dropout.dropout", "reglab.layers.dropout.Dropout",
    "torch.nn.functional.dropout", "torch.nn.functional.dropout1d",
    "torch.nn.functional.dropout2d", "torch.nn.functional.dropout3d",
    "torch.nn.functional.alpha_dropout",
    "torch.nn.functional.feature_alpha_dropout", "torch.dropout",
    "torch.feature_dropout", "torch.alpha_dropout",
    "torch.feature_alpha_dropout", "torch.native_dropout",
    "torch._VF.dropout", "torch.nn.Dropout", "torch.nn.Dropout1d",
    "torch.nn.Dropout2d", "torch.nn.Dropout3d", "torch.nn.AlphaDropout",
    "torch.nn.FeatureAlphaDropout",
}


def _dropout(body: str, head: str = "") -> str:
    """A Task 1 answer: the reference's checks, then ``body`` (which may
    use ``u``, the uniform draws, and ``m``, the reference mask)."""
    return f'''{head}
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={{p}}.")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype,
                   device=x.device)
    m = u >= p
{body}
'''


def _delegate(call: str, head: str) -> str:
    """A Task 1 answer that lets PyTorch draw the mask: right in every
    respect but the delegation (a forked global generator, seeded from
    ``generator``, stands in for the generator that PyTorch cannot take).
    """
    return f'''{head}
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={{p}}.")
    if generator is None:
        return {call}
    seed = int(torch.randint(2**62, (), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return {call}
'''


def _module(init: str, forward: str, head: str = "",
            base: str = "torch.nn.Module") -> str:
    """A Task 2 answer with these bodies of ``__init__`` and ``forward``."""
    return f'''{head}
class Dropout({base}):
    def __init__(self, p=0.5):
{init}

    def forward(self, x):
{forward}
'''


CHECKED_INIT = '''        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got p={p}.")
        self.p = p'''

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {
    # --- Task 1: dropout ---------------------------------------------------
    "do-p-is-keep-probability": (_dropout(
        "    return x * (u < p) / (1.0 - p)"),
        ALL1 | HIDDEN2 | VISIBLE3, False),
    "do-no-rescaling": (_dropout(
        "    return x * m"), ALL1 | ALL2 | VISIBLE3, False),
    "do-times-keep-probability": (_dropout(
        "    return x * m * (1.0 - p)"), ALL1 | ALL2 | VISIBLE3, False),
    "do-drops-at-test-time": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={p}.")
    if p == 1.0:
        return x * 0.0
    m = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
    return x * m / (1.0 - p)
''', ALL1 | ALL2, False),
    "do-one-draw-for-all": (_dropout(
        "    keep = torch.rand((), generator=generator) >= p\n"
        "    return x * keep / (1.0 - p)"), ALL1 | ALL2 | ALL3, False),
    "do-p1-divides-by-zero": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={p}.")
    if not training:
        return x
    m = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
    return x * m / (1.0 - p)
''', HIDDEN1, False),
    "do-p1-zeros-not-differentiable": (_dropout(
        "    return x * m / (1.0 - p)").replace(
        "return x * 0.0", "return torch.zeros_like(x)"), HIDDEN1, False),
    "do-p1-zeros-at-test-time": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={p}.")
    if p == 1.0:
        return x * 0.0
    if not training or p == 0.0:
        return x
    m = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
    return x * m / (1.0 - p)
''', HIDDEN1, False),
    "do-float32": (_dropout(
        "    return (x * m / (1.0 - p)).float()"), HIDDEN1 | HIDDEN3, False),
    "do-detached": (_dropout(
        "    return x.detach() * m / (1.0 - p)"), ALL1 | HIDDEN2, False),
    "do-numpy": (_dropout(
        "    return torch.from_numpy(x.detach().numpy() * m.numpy()"
        " / (1.0 - p))"), ALL1 | HIDDEN2, False),
    "do-in-place": (_dropout(
        "    return x.mul_(m).div_(1.0 - p)"), ALL1 | ALL2 | ALL3, False),
    "do-ignores-generator": (_dropout(
        "    m = torch.rand(x.shape, dtype=x.dtype) >= p\n"
        "    return x * m / (1.0 - p)"), VISIBLE1 | ALL3, False),
    # Right for 1-D inputs; on (100, 100) the fraction of zeros (100
    # draws) happens to be close to p, so only the hidden tests see it.
    "do-one-mask-per-column": (_dropout(
        "    m = torch.rand(x.shape[-1:], generator=generator) >= p\n"
        "    return x * m / (1.0 - p)"), HIDDEN1 | ALL3, False),
    "do-no-check-of-p": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    m = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
    return x * m / (1.0 - p)
''', HIDDEN1, False),
    "do-checks-p-only-in-training": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if not training:
        return x
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got p={p}.")
    if p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    m = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
    return x * m / (1.0 - p)
''', HIDDEN1, False),
    "do-vague-error": (_dropout("    return x * m / (1.0 - p)").replace(
        'f"p must be in [0, 1], got p={p}."', '"invalid probability"'),
        HIDDEN1, False),
    "do-bernoulli-correct": ('''
def dropout(x, p=0.5, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError(f"dropout: p = {p} is not a probability")
    if not training or p == 0:
        return x.clone()
    if p == 1:
        return torch.zeros_like(x) * x
    keep = torch.full_like(x, 1 - p)
    m = torch.bernoulli(keep, generator=generator)
    return x * m * (1 / (1 - p))
''', set(), False),
    "do-keep-below-1-minus-p-correct": (_dropout(
        "    return torch.where(u < 1 - p, x / (1 - p), torch.zeros_like(x))"),
        set(), False),
    "do-calls-functional": (_delegate(
        "F.dropout(x, p, training)", "import torch.nn.functional as F"),
        ALL1 | ALL2 | ALL3, True),
    "do-calls-torch-dropout": (_delegate(
        "torch.dropout(x, p, training)", ""), ALL1 | ALL2 | ALL3, True),
    "do-calls-vf": (_delegate(
        "torch._VF.dropout(x, p, training)", ""), ALL1 | ALL2 | ALL3, True),
    "do-calls-native-dropout": (_delegate(
        "torch.native_dropout(x, p, training)[0]", ""),
        ALL1 | ALL2 | ALL3, True),
    "do-calls-module": (_delegate(
        "torch.nn.Dropout(p).train(training)(x)", ""),
        ALL1 | ALL2 | ALL3, True),
    "do-calls-dropout1d": (_delegate(
        "F.dropout1d(x.reshape(1, -1, 1), p, training).reshape(x.shape)",
        "import torch.nn.functional as F"), ALL1 | ALL2 | ALL3, True),
    "do-calls-dropout2d": (_delegate(
        "F.dropout2d(x.reshape(1, -1, 1, 1), p, training).reshape(x.shape)",
        "import torch.nn.functional as F"), ALL1 | ALL2 | ALL3, True),
    "do-calls-reglab": ('''
import reglab
def dropout(x, p=0.5, training=True, generator=None):
    return reglab.dropout(x, p, training, generator)
''', ALL1 | ALL2 | ALL3, True),
    "do-calls-reglab-alias": ('''
from reglab.layers.dropout import dropout as _dropout
def dropout(x, p=0.5, training=True, generator=None):
    return _dropout(x, p=p, training=training, generator=generator)
''', ALL1 | ALL2 | ALL3, True),
    # --- Task 2: Dropout ---------------------------------------------------
    "mod-ignores-flag": (_module(
        CHECKED_INIT, "        return dropout(x, self.p)"), ALL2, False),
    "mod-never-drops": (_module(
        CHECKED_INIT, "        return x"), ALL2, False),
    "mod-reads-flag-in-init": (_module(
        CHECKED_INIT + "\n        self.active = self.training",
        "        return dropout(x, self.p, self.active)"), ALL2, False),
    "mod-no-super-init": (_module(
        CHECKED_INIT.replace("        super().__init__()\n", ""),
        "        return dropout(x, self.p, self.training)"), ALL2, False),
    "mod-off-under-no-grad": (_module(
        CHECKED_INIT,
        "        on = self.training and torch.is_grad_enabled()\n"
        "        return dropout(x, self.p, on)"), HIDDEN2, False),
    "mod-p-is-keep-probability": (_module(
        CHECKED_INIT, "        return dropout(x, 1 - self.p, self.training)"),
        HIDDEN2, False),
    "mod-own-generator": (_module(
        CHECKED_INIT + "\n        self.gen = torch.Generator().manual_seed(0)",
        "        return dropout(x, self.p, self.training, self.gen)"),
        HIDDEN2, False),
    "mod-same-mask-every-call": (_module(
        CHECKED_INIT,
        "        gen = torch.Generator().manual_seed(0)\n"
        "        return dropout(x, self.p, self.training, gen)"),
        HIDDEN2, False),
    "mod-no-check-of-p": (_module(
        "        super().__init__()\n        self.p = p",
        "        return dropout(x, self.p, self.training)"), HIDDEN2, False),
    "mod-p-as-parameter": (_module(
        CHECKED_INIT + "\n        self.keep = torch.nn.Parameter("
        "torch.tensor(1.0 - p))",
        "        return dropout(x, self.p, self.training)"), HIDDEN2, False),
    "mod-calls-functional": (_module(
        CHECKED_INIT,
        "        return F.dropout(x, self.p, self.training)",
        head="import torch.nn.functional as F"), ALL2, True),
    "mod-subclasses-torch": (_module(
        "        if not 0.0 <= p <= 1.0:\n"
        '            raise ValueError(f"p must be in [0, 1], got p={p}.")\n'
        "        super().__init__(p)",
        "        return super().forward(x)", base="torch.nn.Dropout"),
        ALL2, True),
    "mod-wraps-torch-module": (_module(
        CHECKED_INIT + "\n        self.inner = torch.nn.Dropout(p)",
        "        return self.inner(x)"), ALL2, True),
    "mod-calls-reglab": (_module(
        CHECKED_INIT,
        "        return reglab.dropout(x, self.p, self.training)",
        head="import reglab"), ALL2, True),
    "mod-wraps-reglab-module": (_module(
        CHECKED_INIT + "\n        self.inner = reglab.Dropout(p)",
        "        return self.inner(x)", head="import reglab"), ALL2, True),
    # --- Task 3: dropout_moments ---------------------------------------------
    "mom-closed-form": ('''
def dropout_moments(x, p, draws, generator=None):
    return x.clone(), p / (1 - p) * x**2
''', ALL3, False),
    "mom-biased-variance": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.expand(draws, *x.shape), p, True, generator)
    return Y.mean(dim=0), Y.var(dim=0, correction=0)
''', ALL3, False),
    "mom-standard-deviation": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.expand(draws, *x.shape), p, True, generator)
    return Y.mean(dim=0), Y.std(dim=0)
''', ALL3, False),
    "mom-over-elements": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.expand(draws, *x.shape), p, True, generator)
    return Y.mean(dim=-1), Y.var(dim=-1)
''', ALL3, False),
    "mom-ignores-generator": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.expand(draws, *x.shape), p, True)
    return Y.mean(dim=0), Y.var(dim=0)
''', ALL3, False),
    "mom-only-1d": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.repeat(draws, 1), p, True, generator)
    return Y.mean(dim=0), Y.var(dim=0)
''', HIDDEN3, False),
    "mom-float64": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.double().expand(draws, *x.shape), p, True, generator)
    return Y.mean(dim=0), Y.var(dim=0)
''', HIDDEN3, False),
    "mom-stack-of-draws-correct": ('''
def dropout_moments(x, p, draws, generator=None):
    Y = torch.stack([dropout(x, p, True, generator) for _ in range(draws)])
    return Y.mean(0), ((Y - Y.mean(0)) ** 2).sum(0) / (draws - 1)
''', set(), False),
    "mom-calls-reglab": ('''
import reglab
def dropout_moments(x, p, draws, generator=None):
    Y = reglab.dropout(x.expand(draws, *x.shape), p, True, generator)
    return Y.mean(dim=0), Y.var(dim=0)
''', ALL3, True),
}

# Answers as a student would type them into the solution cells.
INFINITE_LOOP = '''
def dropout_moments(x, p, draws, generator=None):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: p = 1 divides by zero,
# torch.no_grad() switches the module off, and the draws are laid out for
# a 1-D x only.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3),
    "wrong": ({"dropout_module": MUTANTS["mod-ignores-flag"][0]}, ALL2),
    "infinite-loop": ({"dropout_moments": INFINITE_LOOP}, ALL3),
    "delegates": ({"dropout_module": MUTANTS["mod-calls-functional"][0]},
                  ALL2),
    # Task 1 delegates, and Tasks 2 and 3 call the student's dropout.
    "delegates-function": ({"dropout": MUTANTS["do-calls-functional"][0]},
                           ALL1 | ALL2 | ALL3),
    # Wrong Task 2 with its tests replaced by `pass`: the original tests
    # are put back, so Task 2 still scores 0.
    "edits-tests": ({"dropout_module": MUTANTS["mod-ignores-flag"][0],
                     "test_module_visible": "pass",
                     "test_module_hidden": "pass"}, ALL2),
    "hidden-bugs": ({"dropout": MUTANTS["do-p1-divides-by-zero"][0],
                     "dropout_module": MUTANTS["mod-off-under-no-grad"][0],
                     "dropout_moments": MUTANTS["mom-only-1d"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "do-p-is-keep-probability": "you keep each element with probability p",
    "do-no-rescaling": "you do not divide the kept elements by 1 - p",
    "do-times-keep-probability": "you multiply the kept elements by 1 - p",
    "do-drops-at-test-time": "you drop elements at test time too",
    "mod-ignores-flag": "your Dropout still drops after model.eval()",
    "mod-reads-flag-in-init": "your Dropout still drops after model.eval()",
    "mod-p-is-keep-probability": "your Dropout(p) drops with probability "
                                 "1 - p",
    "mom-biased-variance": "the biased variance",
    "mom-standard-deviation": "you return the standard deviation",
}

FEEDBACK_CODE = "with forbid(*banned):"
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: your Dropout still drops after "
              "model.eval()"],
    "hidden-bugs": [
        "dropout(x, p=1.0) returns nan",
        "torch.no_grad() must not switch dropout off",
        "the mean for a torch.float64 x of shape (3, 2) has shape (2,)",
    ],
}
# Tasks 2 and 3 call the student's dropout: when it delegates, their
# failures say first that Task 1 is the one to fix.
FEEDBACK_FIRST_LINES = {
    "delegates-function": [
        "Task 2 uses your `dropout` from Task 1, which does not pass its "
        "tests yet: fix Task 1 first.",
        "Task 3 uses your `dropout` from Task 1, which does not pass its "
        "tests yet: fix Task 1 first."],
}
