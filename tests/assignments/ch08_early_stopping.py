"""Exercise 8 (chapter 9): the early-stopping rule as a class
``EarlyStopper`` (patience, absolute ``min_delta``, "min"/"max", NaN and
±inf never improve), ``stop_epoch`` replaying it on a recorded curve, and
``snapshot``, a copy of a model's state dict that does not alias the live
tensors. See ``tests/assignments/__init__.py`` for what each name means.

The reference ``stop_epoch`` steps the notebook's ``EarlyStopper`` (the
task text asks for it), so a wrong ``EarlyStopper`` that the curves of
Task 2 expose fails Task 2's cells as well. The oracles are hand-worked
tables, the closed form eq-es-stop-window, a running-minimum (cummin)
version of it, ``reglab.EarlyStopping`` replayed outside ``forbid``, and
``torch.save`` into a buffer for the snapshots.
"""

ASSIGNMENT = "ch08-early-stopping"
NOTEBOOK = "early-stopping"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("EarlyStopper", "stop_epoch", "snapshot")
TESTS1 = ("test_stopper_visible", "test_stopper_hidden")
TESTS2 = ("test_stop_epoch_visible", "test_stop_epoch_hidden")
TESTS3 = ("test_snapshot_visible", "test_snapshot_hidden")
TESTS = {"EarlyStopper": TESTS1, "stop_epoch": TESTS2, "snapshot": TESTS3}
HIDDEN1, HIDDEN2, HIDDEN3 = {TESTS1[1]}, {TESTS2[1]}, {TESTS3[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3
ALL1, ALL2, ALL3 = set(TESTS1), set(TESTS2), set(TESTS3)
FORBIDDEN = {"reglab.early_stopping.EarlyStopping",
             "reglab.early_stopping.EarlyStopping.step",
             "reglab.early_stopping.EarlyStopping._improves",
             "reglab.early_stopping.EarlyStopping.reset",
             "reglab.early_stopping._copy_state"}

# --- Task 1: EarlyStopper ----------------------------------------------------

# A correct answer with hooks <NAME>; the mutants below change one piece.
STOPPER_TEMPLATE = """
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        <CHECK>
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = <BEST0>
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self.epoch = 0

    def _improves(self, v):
        <IMPROVES>

    def step(self, value):
        v = <VALUE>
        t = self.epoch
        self.epoch += 1
        if self._improves(v):
            self.best, self.best_epoch = v, <BEST_EPOCH>
            <RESET>
            return False
        self.wait += 1
        if <STOP>:
            <SET_STOP>
            return True
        return False
"""
STOPPER_GOOD = {
    "<CHECK>": ("if patience < 0:\n"
                "            raise ValueError('patience < 0')\n"
                "        if min_delta < 0:\n"
                "            raise ValueError('min_delta < 0')\n"
                "        if mode not in ('min', 'max'):\n"
                "            raise ValueError('mode is not min or max')"),
    "<BEST0>": "math.inf if mode == 'min' else -math.inf",
    "<IMPROVES>": ("if not math.isfinite(v):\n"
                   "            return False\n"
                   "        if self.mode == 'min':\n"
                   "            return v < self.best - self.min_delta\n"
                   "        return v > self.best + self.min_delta"),
    "<VALUE>": "float(value)",
    "<BEST_EPOCH>": "t",
    "<RESET>": "self.wait = 0",
    "<STOP>": "self.wait >= self.patience",
    "<SET_STOP>": ("if self.stopped_epoch is None:\n"
                   "                self.stopped_epoch = t"),
}


def stopper(**pieces: str) -> str:
    """The template with the named pieces replaced (keys without <>)."""
    source = STOPPER_TEMPLATE
    chosen = {**STOPPER_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


def improves(lower: str, upper: str, finite: bool = True) -> str:
    """An <IMPROVES> piece with the two comparisons given."""
    check = ("if not math.isfinite(v):\n"
             "            return False\n        ") if finite else ""
    return (f"{check}if self.mode == 'min':\n"
            f"            return {lower}\n"
            f"        return {upper}")


NEG_INF_IMPROVES = stopper(IMPROVES=improves(
    "v < self.best - self.min_delta", "v > self.best + self.min_delta",
    finite=False))
OFF_BY_ONE = stopper(STOP="self.wait > self.patience")

STOPPER_MUTANTS = {
    # wait > patience: one epoch too late (patience 0 still works).
    "es-patience-off-by-one": (OFF_BY_ONE, ALL1 | ALL2, False),
    # an equal value (or v = best - delta) counts as an improvement
    "es-tie-improves": (stopper(IMPROVES=improves(
        "v <= self.best - self.min_delta",
        "v >= self.best + self.min_delta")), ALL1 | ALL2, False),
    # min_delta as a fraction of the best value
    "es-relative-delta": (stopper(IMPROVES=improves(
        "v < self.best * (1 - self.min_delta)",
        "v > self.best * (1 + self.min_delta)")), ALL1 | HIDDEN2, False),
    # the margin with the wrong sign in "max" mode
    "es-max-delta-sign": (stopper(IMPROVES=improves(
        "v < self.best - self.min_delta",
        "v > self.best - self.min_delta")), ALL1 | HIDDEN2, False),
    # "max" ignored: always minimises
    "es-ignores-mode": (stopper(
        BEST0="math.inf",
        IMPROVES=improves("v < self.best - self.min_delta",
                          "v < self.best - self.min_delta")),
        ALL1 | HIDDEN2, False),
    # the counter is not reset by an improvement
    "es-no-reset": (stopper(RESET="pass"), ALL1 | ALL2, False),
    # best_epoch counted from 1 (the number of calls so far)
    "es-best-epoch-one-based": (stopper(BEST_EPOCH="self.epoch"),
                                ALL1 | ALL2, False),
    # without math.isfinite: -inf improves in "min" mode (+inf in "max")
    "es-neg-inf-improves": (NEG_INF_IMPROVES, HIDDEN1 | HIDDEN2, False),
    # not (v >= best - delta): NaN counts as an improvement
    "es-nan-improves": (stopper(IMPROVES=improves(
        "not (v >= self.best - self.min_delta)",
        "not (v <= self.best + self.min_delta)", finite=False)),
        HIDDEN1 | HIDDEN2, False),
    # Lightning's check_finite: stop at once on NaN or inf
    "es-stops-at-once-on-nan": (stopper(
        VALUE="float(value)\n        if not math.isfinite(v):\n"
              "            self.stopped_epoch = self.epoch\n"
              "            self.epoch += 1\n"
              "            return True"), HIDDEN1 | HIDDEN2, False),
    # a tensor value stored as it is: best is a tensor (and an alias)
    "es-keeps-tensor": (stopper(VALUE="value"), HIDDEN1, False),
    # no argument checks
    "es-no-validation": (stopper(CHECK="pass"), HIDDEN1, False),
    # patience 0 rejected
    "es-rejects-patience-zero": (stopper(CHECK=(
        "if patience <= 0 or min_delta < 0 or mode not in ('min', 'max'):\n"
        "            raise ValueError('patience, min_delta or mode')")),
        HIDDEN1 | HIDDEN2, False),
    # a ValueError whose message does not name the argument
    "es-vague-errors": (stopper(CHECK=(
        "if patience < 0 or min_delta < 0 or mode not in ('min', 'max'):\n"
        "            raise ValueError('bad argument')")), HIDDEN1, False),
    # stopped_epoch moves on with every later True
    "es-overwrites-stopped-epoch": (stopper(
        SET_STOP="self.stopped_epoch = t"), HIDDEN1, False),
    # a correct variant: the counter derived from best_epoch
    "es-counts-from-best-epoch": ("""
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        for name, bad in (("patience", patience < 0),
                          ("min_delta", min_delta < 0),
                          ("mode", mode not in ("min", "max"))):
            if bad:
                raise ValueError(f"bad {name}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = self.sign * math.inf
        self.best_epoch, self.stopped_epoch, self.t = None, None, 0

    @property
    def wait(self):
        start = -1 if self.best_epoch is None else self.best_epoch
        return self.t - 1 - start

    def step(self, value):
        v = float(value)
        self.t += 1
        if math.isfinite(v) and self.sign * v < (
                self.sign * self.best - self.min_delta):
            self.best, self.best_epoch = v, self.t - 1
            return False
        if self.wait >= self.patience:
            if self.stopped_epoch is None:
                self.stopped_epoch = self.t - 1
            return True
        return False
""", set(), False),
    # delegation: a wrapper, a subclass, borrowed methods
    "es-wraps-reglab": ("""
import reglab
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self._es = reglab.EarlyStopping(patience, min_delta, mode)
        self.patience, self.min_delta, self.mode = patience, min_delta, mode

    def step(self, value):
        return self._es.step(value)

    best = property(lambda self: self._es.best)
    best_epoch = property(lambda self: self._es.best_epoch)
    wait = property(lambda self: self._es.wait)
    stopped_epoch = property(lambda self: self._es.stopped_epoch)
""", ALL1 | ALL2, True),
    "es-subclasses-reglab": ("""
from reglab.early_stopping import EarlyStopping as _ES
class EarlyStopper(_ES):
    def __init__(self, patience, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
""", ALL1 | ALL2, True),
    "es-borrows-step": ("""
from reglab.early_stopping import EarlyStopping as _ES
class EarlyStopper:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        if patience < 0 or min_delta < 0 or mode not in ("min", "max"):
            raise ValueError("patience, min_delta or mode")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best_weights = False
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait, self.stopped_epoch = None, 0, None
        self.epoch, self.best_state = 0, None
    step = _ES.step
    _improves = _ES._improves
""", ALL1 | ALL2, True),
    "es-borrows-improves": (stopper(
        IMPROVES="return EarlyStopping._improves(self, v)").replace(
        "class EarlyStopper:",
        "from reglab import EarlyStopping\nclass EarlyStopper:"),
        ALL1 | ALL2, True),
    "es-borrows-reset": (stopper().replace(
        "self.best_epoch = None",
        "_ES.reset(self)").replace(
        "class EarlyStopper:",
        "from reglab.early_stopping import EarlyStopping as _ES\n"
        "class EarlyStopper:"), ALL1 | ALL2, True),
}

# --- Task 2: stop_epoch ------------------------------------------------------

NO_BREAK = """
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    es = EarlyStopper(patience, min_delta, mode)
    for v in values:
        es.step(v)
    return es.best_epoch, es.stopped_epoch
"""
ARGMIN = """
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    es = EarlyStopper(patience, min_delta, mode)
    seen = []
    for v in values:
        seen.append(float(v))
        if es.step(v):
            break
    finite = [x for x in seen if math.isfinite(x)]
    if not finite:
        return None, es.stopped_epoch
    return seen.index(min(finite)), es.stopped_epoch
"""
STOP_MUTANTS = {
    # steps through the whole curve: a later improvement moves best_epoch
    "stop-no-break": (NO_BREAK, ALL2, False),
    # the position of the lowest value (no margin, no "max")
    "stop-argmin": (ARGMIN, HIDDEN2, False),
    # "training ran to the end": the last epoch instead of None
    "stop-last-epoch-if-no-stop": ("""
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    es = EarlyStopper(patience, min_delta, mode)
    for v in values:
        if es.step(v):
            break
    stop = es.stopped_epoch
    return es.best_epoch, len(values) - 1 if stop is None else stop
""", ALL2, False),
    # the closed form itself: right only for delta = 0, "min", p >= 1
    "stop-window-formula": ("""
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    v = [float(x) for x in values]
    p = patience
    stop = next((t for t in range(p, len(v))
                 if min(v[t - p + 1:t + 1]) >= min(v[:t - p + 1])), None)
    seen = v if stop is None else v[:stop + 1]
    return (seen.index(min(seen)) if seen else None), stop
""", HIDDEN2, False),
    # tensors in, tensors out
    "stop-returns-tensors": ("""
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    es = EarlyStopper(patience, min_delta, mode)
    for v in values:
        if es.step(v):
            break
    as_t = lambda x: None if x is None else torch.tensor(x)
    return as_t(es.best_epoch), as_t(es.stopped_epoch)
""", HIDDEN2, False),
    "stop-replays-reglab": ("""
import reglab
def stop_epoch(values, patience, min_delta=0.0, mode="min"):
    es = reglab.EarlyStopping(patience, min_delta, mode)
    for v in values:
        if es.step(v):
            break
    return es.best_epoch, es.stopped_epoch
""", ALL2, True),
}

# --- Task 3: snapshot --------------------------------------------------------

ALIAS = """
def snapshot(model):
    return model.state_dict()
"""
PARAMS_ONLY = """
def snapshot(model):
    return {k: p.detach().clone() for k, p in model.named_parameters()}
"""
SNAPSHOT_MUTANTS = {
    "snap-state-dict": (ALIAS, ALL3, False),
    "snap-dict-of-state-dict": ("""
def snapshot(model):
    return dict(model.state_dict())
""", ALL3, False),
    "snap-copy-copy": ("""
import copy
def snapshot(model):
    return copy.copy(model.state_dict())
""", ALL3, False),
    "snap-detach-only": ("""
def snapshot(model):
    return {k: v.detach() for k, v in model.state_dict().items()}
""", ALL3, False),
    "snap-parameters-only": (PARAMS_ONLY, HIDDEN3, False),
    "snap-keep-vars-clone": ("""
def snapshot(model):
    return {k: v.clone()
            for k, v in model.state_dict(keep_vars=True).items()}
""", HIDDEN3, False),
    "snap-float32": ("""
def snapshot(model):
    return {k: v.detach().float().clone()
            for k, v in model.state_dict().items()}
""", ALL3, False),
    "snap-deepcopy-correct": ("""
import copy
def snapshot(model):
    return copy.deepcopy(model.state_dict())
""", set(), False),
    "snap-deepcopy-model-correct": ("""
import copy
def snapshot(model):
    return dict(copy.deepcopy(model).state_dict())
""", set(), False),
    "snap-copy-state": ("""
from reglab.early_stopping import _copy_state
def snapshot(model):
    return _copy_state(model)
""", ALL3, True),
    "snap-reglab-restore": ("""
import reglab
def snapshot(model):
    es = reglab.EarlyStopping(restore_best_weights=True)
    es.step(0.0, model)
    return es.best_state
""", ALL3, True),
}

MUTANTS = {**STOPPER_MUTANTS, **STOP_MUTANTS, **SNAPSHOT_MUTANTS}

INFINITE_LOOP = '''
def snapshot(model):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: -inf improves, best_epoch
# is the position of the lowest value, and the buffers are not copied.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3),
    "wrong": ({"snapshot": ALIAS}, ALL3),
    "infinite-loop": ({"snapshot": INFINITE_LOOP}, ALL3),
    "delegates": ({"EarlyStopper": STOPPER_MUTANTS["es-wraps-reglab"][0]},
                  ALL1 | ALL2),
    "delegates-snapshot": ({"snapshot": SNAPSHOT_MUTANTS[
        "snap-copy-state"][0]}, ALL3),
    # A wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 (and Task 2, which uses it) still scores 0.
    "edits-tests": ({"EarlyStopper": OFF_BY_ONE,
                     "test_stopper_visible": "pass",
                     "test_stopper_hidden": "pass"}, ALL1 | ALL2),
    "hidden-bugs": ({"EarlyStopper": NEG_INF_IMPROVES,
                     "stop_epoch": ARGMIN,
                     "snapshot": PARAMS_ONLY}, HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
SHARES_MEMORY = "your snapshot shares memory with the model"
DIAGNOSES = {
    "es-patience-off-by-one": "your rule stops one epoch late",
    "es-tie-improves": "a value equal to the best one counts as an "
                       "improvement",
    "es-relative-delta": "your min_delta is a fraction of the best value",
    "es-ignores-mode": 'in "max" mode your rule still looks for lower '
                       "values",
    "es-no-reset": "an improvement does not reset wait to 0",
    "es-neg-inf-improves": "a value that is not finite (NaN or ±inf) "
                           "counts as an improvement",
    "es-nan-improves": "a value that is not finite (NaN or ±inf) counts "
                       "as an improvement",
    "stop-no-break": "stop_epoch goes on stepping after the first True",
    "stop-last-epoch-if-no-stop": "stop_epoch returns the last epoch when "
                                  "the rule never fires",
    "snap-state-dict": SHARES_MEMORY,
    "snap-dict-of-state-dict": SHARES_MEMORY,
    "snap-copy-copy": SHARES_MEMORY,
    "snap-detach-only": SHARES_MEMORY,
    "snap-parameters-only": "your snapshot holds only the parameters",
}

FEEDBACK_CODE = 'banned = ("reglab.early_stopping._copy_state",'
FEEDBACK_MESSAGES = {
    "wrong": [f"Likely mistake: {SHARES_MEMORY}"],
    "hidden-bugs": [
        "an infinite value never counts as an improvement",
        "(from the running minima)",
        "the buffers (running_mean, running_var, num_batches_tracked) "
        "belong to it too"]}
