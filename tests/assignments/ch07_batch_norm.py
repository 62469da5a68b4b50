"""Exercise 7 (chapter 8): batch normalisation of (N, C) inputs in
training mode (batch statistics, running statistics updated in place) and
in evaluation mode, and a ``BatchNorm1d`` module with registered buffers
and ``momentum=None``. See ``tests/assignments/__init__.py`` for what each
name means.

The reference ``BatchNorm1d`` calls the notebook's ``batch_norm_train``
and ``batch_norm_eval`` (the task text asks for it), so an answer to Task
1 or 2 that is wrong where the module's tests look fails Task 3's cells as
well. The oracles are ``torch.nn.functional.batch_norm`` and
``torch.nn.BatchNorm1d``, run outside ``forbid`` on copies of the inputs.
"""

ASSIGNMENT = "ch07-batch-norm"
NOTEBOOK = "batch-norm"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("batch_norm_train", "batch_norm_eval", "BatchNorm1d")
TESTS1 = ("test_batch_norm_train_visible", "test_batch_norm_train_hidden")
TESTS2 = ("test_batch_norm_eval_visible", "test_batch_norm_eval_hidden")
TESTS3 = ("test_module_visible", "test_module_hidden")
TESTS = {"batch_norm_train": TESTS1, "batch_norm_eval": TESTS2,
         "BatchNorm1d": TESTS3}
HIDDEN1, HIDDEN2, HIDDEN3 = {TESTS1[1]}, {TESTS2[1]}, {TESTS3[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3
ALL1, ALL2, ALL3 = set(TESTS1), set(TESTS2), set(TESTS3)
VISIBLE3 = {TESTS3[0]}
FORBIDDEN = {
    "reglab.layers.batchnorm.batch_norm",
    "reglab.layers.batchnorm.BatchNorm1d", "torch.nn.BatchNorm1d",
    "torch.nn.modules.batchnorm._BatchNorm.forward",
    "torch.nn.functional.batch_norm", "torch.batch_norm",
    "torch.native_batch_norm", "torch._native_batch_norm_legit",
    "torch._native_batch_norm_legit_no_training",
    "torch.nn.functional.layer_norm", "torch.layer_norm",
    "torch.native_layer_norm", "torch.nn.functional.instance_norm",
    "torch.instance_norm", "torch.nn.functional.group_norm",
    "torch.group_norm", "torch.native_group_norm",
}

# --- Task 1: training mode ---------------------------------------------------

# A correct answer with hooks <NAME>; the mutants below change one piece.
TRAIN_TEMPLATE = """
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):
    m = x.shape[0]
    <CHECK>
    mu = <MU>
    var = <VAR>
    x_hat = <XHAT>
    <NO_GRAD>
        <UPDATE_MEAN>
        <UPDATE_VAR>
    return gamma * x_hat + beta
"""
TRAIN_GOOD = {
    "<CHECK>": "if m < 2:\n        raise ValueError('N = 1 in training')",
    "<MU>": "x.mean(dim=0)",
    "<VAR>": "((x - mu) ** 2).mean(dim=0)",
    "<XHAT>": "(x - mu) / torch.sqrt(var + eps)",
    "<NO_GRAD>": "with torch.no_grad():",
    "<UPDATE_MEAN>": "running_mean.mul_(1 - momentum).add_(momentum * mu)",
    "<UPDATE_VAR>": ("running_var.mul_(1 - momentum).add_("
                     "momentum * var * m / (m - 1))"),
}


def train(**pieces: str) -> str:
    """The template with the named pieces replaced (keys without <>)."""
    source = TRAIN_TEMPLATE
    chosen = {**TRAIN_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


TRAIN_MUTANTS = {
    # x.var() is unbiased: normalises with m/(m-1)·σ²_B (and stores it).
    "train-unbiased-normalise": (train(
        VAR="x.var(dim=0)",
        UPDATE_VAR="running_var.mul_(1 - momentum).add_(momentum * var)"),
        ALL1 | ALL3, False),
    "train-biased-running-var": (train(
        UPDATE_VAR="running_var.mul_(1 - momentum).add_(momentum * var)"),
        ALL1 | ALL3, False),
    # Keras' convention: momentum is the weight of the old average.
    "train-keras-momentum": (train(
        UPDATE_MEAN="running_mean.mul_(momentum).add_((1 - momentum) * mu)",
        UPDATE_VAR=("running_var.mul_(momentum).add_("
                    "(1 - momentum) * var * m / (m - 1))")),
        ALL1 | ALL3, False),
    "train-eps-outside-sqrt": (train(
        XHAT="(x - mu) / (torch.sqrt(var) + eps)"), ALL1 | ALL3, False),
    "train-no-running-update": (train(
        NO_GRAD="if True:", UPDATE_MEAN="pass", UPDATE_VAR="pass"),
        ALL1 | ALL3, False),
    # Rebinds the local names: the caller's tensors keep the old values.
    "train-rebinds-running": (train(
        UPDATE_MEAN=("running_mean = (1 - momentum) * running_mean "
                     "+ momentum * mu"),
        UPDATE_VAR=("running_var = (1 - momentum) * running_var "
                    "+ momentum * var * m / (m - 1)")),
        ALL1 | ALL3, False),
    # Statistics over the features of each example (layer normalisation).
    "train-wrong-dim": (train(
        MU="x.mean(dim=1, keepdim=True)",
        VAR="((x - mu) ** 2).mean(dim=1, keepdim=True)"),
        ALL1 | ALL3, False),
    # Statistics treated as constants: right values, wrong gradient for x.
    "train-detached-stats": (train(
        MU="x.mean(dim=0).detach()",
        VAR="((x - mu) ** 2).mean(dim=0).detach()"), ALL1 | ALL3, False),
    # m = N·C values instead of N in the factor m/(m-1).
    "train-numel-for-m": (train(
        UPDATE_VAR=("running_var.mul_(1 - momentum).add_(momentum * var "
                    "* x.numel() / (x.numel() - 1))")), ALL1 | ALL3, False),
    # mean(x²) - μ²: fine near 0, digits lost for features far from 0.
    "train-naive-variance": (train(VAR="(x * x).mean(dim=0) - mu * mu"),
                             HIDDEN1, False),
    # Updates without no_grad: the buffers get a graph and require grad.
    "train-stats-keep-graph": (train(NO_GRAD="if True:"),
                               HIDDEN1 | HIDDEN3, False),
    # No check for N = 1: m / (m - 1) raises ZeroDivisionError instead.
    "train-no-batch-size-check": (train(CHECK="pass"),
                                  HIDDEN1 | HIDDEN3, False),
    # Checks N after the update: the statistics become NaN, then it
    # raises.
    "train-checks-too-late": (train(
        CHECK="pass",
        UPDATE_VAR=TRAIN_GOOD["<UPDATE_VAR>"] + "\n    "
        + TRAIN_GOOD["<CHECK>"]), HIDDEN1, False),
    # Computes in float32: float64 results lose their precision.
    "train-float32": (train(MU="(x := x.float()).mean(dim=0)"),
                      HIDDEN1 | HIDDEN3, False),
    # torch.var_mean is allowed: a correct answer.
    "train-var-mean-correct": (train(
        MU="torch.var_mean(x, dim=0, unbiased=False)[1]",
        VAR="torch.var_mean(x, dim=0, unbiased=False)[0]"), set(), False),
}

# Delegating answers: each is right when the built-in is not switched off.
_CHECK = """
    if x.shape[0] < 2:
        raise ValueError('N = 1 in training')
"""
_BY_ANOTHER_NORM = """
import torch.nn.functional as F
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):
    m, c = x.shape
    if m < 2:
        raise ValueError('N = 1 in training')
    x_hat = X_HAT
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * x.mean(0))
        running_var.mul_(1 - momentum).add_(momentum * x.var(0))
    return gamma * x_hat + beta
"""
_COLUMNS = "x.T.contiguous()[None]"  # (1, C, N): channel c holds feature c
TRAIN_DELEGATES = {
    "train-calls-F-batch-norm": ("""
import torch.nn.functional as F
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):
    return F.batch_norm(x, running_mean, running_var, gamma, beta, True,
                        momentum, eps)
""", ALL1 | ALL3, True),
    "train-calls-torch-batch-norm": ("""
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):""" + _CHECK + """
    return torch.batch_norm(x, gamma, beta, running_mean, running_var, True,
                            momentum, eps, False)
""", ALL1 | ALL3, True),
    "train-calls-native-batch-norm": ("""
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):""" + _CHECK + """
    return torch.native_batch_norm(x, gamma, beta, running_mean,
                                   running_var, True, momentum, eps)[0]
""", ALL1 | ALL3, True),
    "train-calls-native-legit": ("""
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):""" + _CHECK + """
    return torch._native_batch_norm_legit(x, gamma, beta, running_mean,
                                          running_var, True, momentum,
                                          eps)[0]
""", ALL1 | ALL3, True),
    "train-calls-reglab": ("""
import reglab
def batch_norm_train(x, gamma, beta, running_mean, running_var,
                     momentum=0.1, eps=1e-5):
    return reglab.batch_norm(x, running_mean, running_var, gamma, beta,
                             training=True, momentum=momentum, eps=eps)
""", ALL1 | ALL3, True),
}
for _name, _x_hat in {
        "F-layer-norm": "F.layer_norm(x.T, (m,), eps=eps).T",
        "torch-layer-norm": "torch.layer_norm(x.T, [m], None, None, eps, "
                            "False).T",
        "native-layer-norm": "torch.native_layer_norm(x.T, [m], None, None, "
                             "eps)[0].T",
        "F-instance-norm": f"F.instance_norm({_COLUMNS}, eps=eps)[0].T",
        "torch-instance-norm": f"torch.instance_norm({_COLUMNS}, None, None, "
                               "None, None, True, 0.0, eps, False)[0].T",
        "F-group-norm": f"F.group_norm({_COLUMNS}, c, eps=eps)[0].T",
        "torch-group-norm": f"torch.group_norm({_COLUMNS}, c, None, None, "
                            "eps, False)[0].T",
        "native-group-norm": f"torch.native_group_norm({_COLUMNS}, None, "
                             "None, 1, c, m, c, eps)[0][0].T",
}.items():
    TRAIN_DELEGATES[f"train-calls-{_name}"] = (
        _BY_ANOTHER_NORM.replace("X_HAT", _x_hat), ALL1 | ALL3, True)

# --- Task 2: evaluation mode -------------------------------------------------

EVAL_MUTANTS = {
    # Batch statistics in evaluation mode.
    "eval-batch-stats": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    mu, var = x.mean(0), x.var(0, unbiased=False)
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta
""", ALL2 | ALL3, False),
    "eval-eps-outside-sqrt": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / (running_var.sqrt() + eps) + beta
""", ALL2 | ALL3, False),
    # Divides by the variance, not by the standard deviation.
    "eval-no-sqrt": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / (running_var + eps) + beta
""", ALL2 | ALL3, False),
    # Right output, but ε is added into the running variance for good.
    "eval-changes-running-var": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    running_var.add_(eps)
    return gamma * (x - running_mean) / running_var.sqrt() + beta
""", ALL2 | HIDDEN3, False),
    # Right output, but x is changed in place (and fails for a leaf that
    # requires grad).
    "eval-changes-x": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    x.sub_(running_mean)
    return gamma * x / torch.sqrt(running_var + eps) + beta
""", HIDDEN2 | HIDDEN3, False),
    "eval-no-grad": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    with torch.no_grad():
        return gamma * (x - running_mean) / torch.sqrt(running_var + eps) \\
            + beta
""", HIDDEN2 | HIDDEN3, False),
    # rsqrt is fine: a correct answer.
    "eval-rsqrt-correct": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return (x - running_mean) * torch.rsqrt(running_var + eps) * gamma + beta
""", set(), False),
}
EVAL_DELEGATES = {
    "eval-calls-F-batch-norm": ("""
import torch.nn.functional as F
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return F.batch_norm(x, running_mean, running_var, gamma, beta, False,
                        0.0, eps)
""", ALL2 | ALL3, True),
    "eval-calls-native-legit-no-training": ("""
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return torch._native_batch_norm_legit_no_training(
        x, gamma, beta, running_mean, running_var, 0.0, eps)[0]
""", ALL2 | ALL3, True),
    "eval-calls-reglab": ("""
import reglab
def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return reglab.batch_norm(x, running_mean, running_var, gamma, beta,
                             training=False, eps=eps)
""", ALL2 | ALL3, True),
}

# --- Task 3: the module ------------------------------------------------------

MODULE_TEMPLATE = """
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.momentum = momentum
        c = num_features
        self.weight = nn.Parameter(<WEIGHT>)
        self.bias = nn.Parameter(<BIAS>)
        <MEAN_BUFFER>
        <VAR_BUFFER>
        <COUNT_BUFFER>

    def forward(self, x):
        <BEFORE>
        if not self.training:
            return batch_norm_eval(x, self.weight, self.bias,
                                   self.running_mean, self.running_var,
                                   self.eps)
        <COUNT>
        alpha = <ALPHA>
        return batch_norm_train(x, self.weight, self.bias, self.running_mean,
                                self.running_var, alpha, self.eps)
"""
MODULE_GOOD = {
    "<WEIGHT>": "torch.ones(c)",
    "<BIAS>": "torch.zeros(c)",
    "<MEAN_BUFFER>": "self.register_buffer('running_mean', torch.zeros(c))",
    "<VAR_BUFFER>": "self.register_buffer('running_var', torch.ones(c))",
    "<COUNT_BUFFER>":
        "self.register_buffer('num_batches_tracked', torch.tensor(0))",
    "<BEFORE>": "pass",
    "<COUNT>": "self.num_batches_tracked.add_(1)",
    "<ALPHA>": ("1.0 / float(self.num_batches_tracked) "
                "if self.momentum is None else self.momentum"),
}


def module(**pieces: str) -> str:
    """The template with the named pieces replaced (keys without <>)."""
    source = MODULE_TEMPLATE
    chosen = {**MODULE_GOOD, **{f"<{k}>": v for k, v in pieces.items()}}
    for key, piece in chosen.items():
        assert key in source, key
        source = source.replace(key, piece)
    return source


def not_persistent(key: str) -> str:
    """The good register_buffer line of ``key`` with persistent=False."""
    return MODULE_GOOD[key][:-1] + ", persistent=False)"


MODULE_MUTANTS = {
    # Plain attributes: not in state_dict, not converted by .double().
    "module-plain-attributes": (module(
        MEAN_BUFFER="self.running_mean = torch.zeros(c)",
        VAR_BUFFER="self.running_var = torch.ones(c)",
        COUNT_BUFFER="self.num_batches_tracked = torch.tensor(0)"),
        ALL3, False),
    "module-non-persistent-buffers": (module(
        MEAN_BUFFER=not_persistent("<MEAN_BUFFER>"),
        VAR_BUFFER=not_persistent("<VAR_BUFFER>"),
        COUNT_BUFFER=not_persistent("<COUNT_BUFFER>")), ALL3, False),
    # Frozen parameters instead of buffers: listed by parameters().
    "module-stats-as-parameters": (module(
        MEAN_BUFFER=("self.running_mean = nn.Parameter(torch.zeros(c), "
                     "requires_grad=False)"),
        VAR_BUFFER=("self.running_var = nn.Parameter(torch.ones(c), "
                    "requires_grad=False)")), VISIBLE3, False),
    # No count buffer: the count lives in a Python attribute.
    "module-no-count-buffer": (module(
        COUNT_BUFFER="self.t = 0", COUNT="self.t += 1",
        ALPHA="1.0 / self.t if self.momentum is None else self.momentum"),
        ALL3, False),
    "module-swapped-init": (module(WEIGHT="torch.zeros(c)",
                                   BIAS="torch.ones(c)"), ALL3, False),
    # Batch statistics in both modes.
    "module-ignores-mode": (module(BEFORE="""self.num_batches_tracked.add_(1)
        alpha = (1.0 / float(self.num_batches_tracked)
                 if self.momentum is None else self.momentum)
        return batch_norm_train(x, self.weight, self.bias,
                                self.running_mean, self.running_var, alpha,
                                self.eps)"""), ALL3, False),
    "module-counts-in-eval": (module(
        BEFORE="self.num_batches_tracked.add_(1)", COUNT="pass"),
        HIDDEN3, False),
    "module-momentum-none-crashes": (module(ALPHA="self.momentum"),
                                     HIDDEN3, False),
    # Cumulative average with weight 1/(t+1) for the t-th batch.
    "module-cumulative-off-by-one": (module(
        ALPHA="1.0 / (float(self.num_batches_tracked) + 1) "
              "if self.momentum is None else self.momentum"),
        HIDDEN3, False),
    # A float count: the right values, the wrong dtype (not long).
    "module-float-count": (module(
        COUNT_BUFFER="self.register_buffer('num_batches_tracked', "
                     "torch.tensor(0.0))"), HIDDEN3, False),
    # Refuses a single example in evaluation mode too.
    "module-rejects-one-example-in-eval": (module(
        BEFORE="""if x.shape[0] < 2:
            raise ValueError('N = 1')"""), HIDDEN3, False),
}
MODULE_DELEGATES = {
    "module-subclasses-torch": ("""
class BatchNorm1d(torch.nn.BatchNorm1d):
    pass
""", ALL3, True),
    "module-subclasses-reglab": ("""
import reglab
class BatchNorm1d(reglab.BatchNorm1d):
    pass
""", ALL3, True),
    "module-calls-batchnorm-forward": (module(
        BEFORE="""return torch.nn.modules.batchnorm._BatchNorm.forward(
            self, x)""").replace(
        "    def forward(self, x):",
        "    track_running_stats = True\n\n"
        "    def _check_input_dim(self, x):\n"
        "        pass\n\n"
        "    def forward(self, x):"), ALL3, True),
}

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {**TRAIN_MUTANTS, **TRAIN_DELEGATES, **EVAL_MUTANTS,
           **EVAL_DELEGATES, **MODULE_MUTANTS, **MODULE_DELEGATES}

# Answers as a student would type them into the solution cells.
INFINITE_LOOP = """
class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        while True:
            pass
"""
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3),
    # Batch statistics in evaluation mode: Tasks 2 and 3 score 0.
    "wrong": ({"batch_norm_eval": MUTANTS["eval-batch-stats"][0]},
              ALL2 | ALL3),
    "infinite-loop": ({"BatchNorm1d": INFINITE_LOOP}, ALL3),
    "delegates": ({"batch_norm_train":
                   MUTANTS["train-calls-F-batch-norm"][0]}, ALL1 | ALL3),
    "delegates-module": ({"BatchNorm1d":
                          MUTANTS["module-subclasses-torch"][0]}, ALL3),
    # Wrong Task 3 with its tests replaced by `pass`: the original tests
    # are put back, so Task 3 still scores 0.
    "edits-tests": ({"BatchNorm1d": MUTANTS["module-plain-attributes"][0],
                     "test_module_visible": "pass",
                     "test_module_hidden": "pass"}, ALL3),
    # Pass every visible test, fail the hidden ones: N = 1 checked after
    # the running statistics are changed, evaluation mode under no_grad,
    # and the count increased in evaluation mode.
    "hidden-bugs": ({"batch_norm_train":
                     MUTANTS["train-checks-too-late"][0],
                     "batch_norm_eval": MUTANTS["eval-no-grad"][0],
                     "BatchNorm1d": MUTANTS["module-counts-in-eval"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
EPS_OUTSIDE = "you add eps to the standard deviation"
UNCHANGED = "your running statistics do not change"
DIAGNOSES = {
    "train-unbiased-normalise": "you normalise with the unbiased variance",
    "train-biased-running-var": "you store the biased batch variance",
    "train-keras-momentum": "(the Keras convention)",
    "train-eps-outside-sqrt": EPS_OUTSIDE,
    "train-no-running-update": UNCHANGED,
    "train-rebinds-running": UNCHANGED,
    "train-detached-stats": "treats the batch mean and variance as "
                            "constants",
    "eval-batch-stats": "in evaluation mode you normalise with the "
                        "statistics of the batch",
    "eval-eps-outside-sqrt": EPS_OUTSIDE,
    "eval-no-sqrt": "you divide by the variance",
    "module-ignores-mode": "after .eval() your BatchNorm1d still "
                           "normalises with the batch statistics",
    "module-cumulative-off-by-one": "your first batch gets the weight 1/2",
}

FEEDBACK_CODE = ("y = batch_norm_train(x, gamma, beta, running_mean, "
                 "running_var)")
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: in evaluation mode you normalise with the "
              "statistics of the batch"],
    "hidden-bugs": [
        "check the batch size first",
        "is cut off from autograd",
        "it should change nothing, num_batches_tracked included",
    ]}
# BatchNorm1d (Task 3) calls the functions of Tasks 1 and 2: when one of
# them is wrong, Task 3's failures say first which task to fix.
FEEDBACK_FIRST_LINES = {
    "wrong": ["Task 3 uses your `batch_norm_eval` from Task 2, which does "
              "not pass its tests yet: fix Task 2 first."],
    "delegates": ["Task 3 uses your `batch_norm_train` from Task 1, which "
                  "does not pass its tests yet: fix Task 1 first."],
}
