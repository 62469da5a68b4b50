"""Exercise 2 (chapter 2): a stable log-softmax, the cross-entropy built on
it, and the binary cross-entropy from logits. See
``tests/assignments/__init__.py`` for what each name means.

``reglab.testing.forbid`` cannot switch off methods of ``torch.Tensor``
(``z.log_softmax(1)``, ``z.logsumexp(1)``, ``z.softmax(1)``): the notebook's
setup cell defines ``forbid_methods`` for them, a ``TorchFunctionMode`` that
raises ``DelegationError``. It stays active when the tests replace
``forbid`` by a no-op, so the mutants that call those methods are marked
as not delegating (they fail with ``DelegationError`` all the same).
"""

ASSIGNMENT = "ch02-losses"
NOTEBOOK = "losses"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("log_softmax", "cross_entropy", "bce_with_logits")
TESTS1 = ("test_log_softmax_visible", "test_log_softmax_hidden")
TESTS2 = ("test_cross_entropy_visible", "test_cross_entropy_hidden")
TESTS3 = ("test_bce_visible", "test_bce_hidden")
TESTS = {"log_softmax": TESTS1, "cross_entropy": TESTS2,
         "bce_with_logits": TESTS3}
HIDDEN1, HIDDEN2, HIDDEN3 = {TESTS1[1]}, {TESTS2[1]}, {TESTS3[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3
FORBIDDEN = {
    "reglab.losses.log_softmax", "reglab.losses.cross_entropy",
    "reglab.losses.binary_cross_entropy_with_logits",
    "reglab.losses._shift_and_log_norm",
    "torch.log_softmax", "torch.nn.functional.log_softmax",
    "torch.special.log_softmax", "torch.logsumexp",
    "torch.special.logsumexp", "torch.softmax",
    "torch.nn.functional.softmax", "torch.special.softmax",
    "torch.nn.functional.cross_entropy", "torch._C._nn.cross_entropy_loss",
    "torch.nn.functional.nll_loss", "torch._C._nn.nll_loss_nd",
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.binary_cross_entropy_with_logits",
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.functional.softplus", "torch.nn.functional.logsigmoid",
}
# cross_entropy calls the student's log_softmax, so a log_softmax that
# fails on large logits (or delegates) fails Task 2's cells too.
ALL1, ALL2, ALL3 = set(TESTS1), set(TESTS2), set(TESTS3)

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {
    # --- Task 1: log_softmax ---------------------------------------------
    "ls-naive-log-of-softmax": ("""
def log_softmax(logits, dim=-1):
    e = torch.exp(logits)
    return torch.log(e / e.sum(dim=dim, keepdim=True))
""", HIDDEN1 | HIDDEN2, False),
    "ls-no-max-subtracted": ("""
def log_softmax(logits, dim=-1):
    return logits - torch.log(torch.exp(logits).sum(dim=dim, keepdim=True))
""", HIDDEN1 | HIDDEN2, False),
    "ls-max-of-whole-tensor": ("""
def log_softmax(logits, dim=-1):
    shifted = logits - logits.max()
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
""", HIDDEN1 | HIDDEN2, False),
    "ls-float32": ("""
def log_softmax(logits, dim=-1):
    z = logits.float()
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
""", HIDDEN1 | HIDDEN2, False),
    "ls-ignores-dim": ("""
def log_softmax(logits, dim=-1):
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
""", ALL1, False),
    "ls-no-keepdim": ("""
def log_softmax(logits, dim=-1):
    shifted = logits - logits.amax(dim=dim)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
""", ALL1 | ALL2, False),
    "ls-forgets-log-norm": ("""
def log_softmax(logits, dim=-1):
    return logits - logits.amax(dim=dim, keepdim=True)
""", ALL1 | ALL2, False),
    "ls-in-place": ("""
def log_softmax(logits, dim=-1):
    logits -= logits.detach().amax(dim=dim, keepdim=True)
    return logits - logits.exp().sum(dim=dim, keepdim=True).log()
""", ALL1 | ALL2, False),  # in place on a leaf that requires grad
    "ls-detached": ("""
def log_softmax(logits, dim=-1):
    z = logits.detach()
    shifted = z - z.amax(dim=dim, keepdim=True)
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()
""", ALL1 | ALL2, False),
    "ls-max-not-detached": ("""
def log_softmax(logits, dim=-1):
    shifted = logits - logits.max(dim=dim, keepdim=True).values
    return shifted - torch.log(torch.sum(torch.exp(shifted), dim,
                                         keepdim=True))
""", set(), False),
    "ls-log-of-torch-softmax": ("""
def log_softmax(logits, dim=-1):
    return torch.log(torch.softmax(logits, dim=dim))
""", ALL1 | ALL2, False),  # fails the hidden tests even without forbid
    "ls-calls-torch": ("""
def log_softmax(logits, dim=-1):
    return torch.log_softmax(logits, dim)
""", ALL1 | ALL2, True),
    "ls-calls-functional": ("""
import torch.nn.functional as F
def log_softmax(logits, dim=-1):
    return F.log_softmax(logits, dim=dim)
""", ALL1 | ALL2, True),
    "ls-calls-special": ("""
def log_softmax(logits, dim=-1):
    return torch.special.log_softmax(logits, dim)
""", ALL1 | ALL2, True),
    "ls-calls-module": ("""
def log_softmax(logits, dim=-1):
    return torch.nn.LogSoftmax(dim=dim)(logits)
""", ALL1 | ALL2, True),
    "ls-calls-logsumexp": ("""
def log_softmax(logits, dim=-1):
    return logits - torch.logsumexp(logits, dim=dim, keepdim=True)
""", ALL1 | ALL2, True),
    "ls-calls-reglab": ("""
import reglab
def log_softmax(logits, dim=-1):
    return reglab.log_softmax(logits, dim)
""", ALL1 | ALL2, True),
    "ls-calls-reglab-helper": ("""
from reglab.losses import _shift_and_log_norm
def log_softmax(logits, dim=-1):
    shifted, log_norm = _shift_and_log_norm(logits, dim)
    return shifted - log_norm
""", ALL1 | ALL2, True),
    # Tensor methods: switched off by forbid_methods, which forbid's no-op
    # replacement does not reach (see the module docstring).
    "ls-tensor-method": ("""
def log_softmax(logits, dim=-1):
    return logits.log_softmax(dim)
""", ALL1 | ALL2, False),
    "ls-tensor-logsumexp": ("""
def log_softmax(logits, dim=-1):
    return logits - logits.logsumexp(dim, keepdim=True)
""", ALL1 | ALL2, False),
    # --- Task 2: cross_entropy --------------------------------------------
    "ce-sum": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=1)
    return -log_p[torch.arange(len(target)), target].sum()
""", ALL2, False),
    "ce-no-minus": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=1)
    return log_p[torch.arange(len(target)), target].mean()
""", ALL2, False),
    "ce-off-by-one": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=1)
    return -log_p[torch.arange(len(target)), target - 1].mean()
""", ALL2, False),
    "ce-wrong-dim": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=0)
    return -log_p[torch.arange(len(target)), target].mean()
""", ALL2, False),
    "ce-mean-over-classes-too": ("""
def cross_entropy(logits, target):
    one_hot = torch.nn.functional.one_hot(target, logits.shape[1])
    return -(one_hot * log_softmax(logits, dim=1)).mean()
""", ALL2, False),
    "ce-per-example": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=1)
    return -log_p.gather(1, target.unsqueeze(1))
""", ALL2, False),
    "ce-python-float": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits, dim=1)
    return -log_p[torch.arange(len(target)), target].mean().item()
""", ALL2, False),
    "ce-naive-probabilities": ("""
def cross_entropy(logits, target):
    e = torch.exp(logits)
    p = e / e.sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(len(target)), target]).mean()
""", HIDDEN2, False),
    "ce-float32": ("""
def cross_entropy(logits, target):
    log_p = log_softmax(logits.float(), dim=1)
    return -log_p[torch.arange(len(target)), target].mean()
""", HIDDEN2, False),
    "ce-one-hot-correct": ("""
def cross_entropy(logits, target):
    one_hot = torch.nn.functional.one_hot(target, logits.shape[1])
    return -(one_hot * log_softmax(logits, dim=1)).sum(dim=1).mean()
""", set(), False),
    "ce-calls-functional": ("""
import torch.nn.functional as F
def cross_entropy(logits, target):
    return F.cross_entropy(logits, target)
""", ALL2, True),
    "ce-calls-module": ("""
def cross_entropy(logits, target):
    return torch.nn.CrossEntropyLoss()(logits, target)
""", ALL2, True),
    "ce-calls-internal": ("""
def cross_entropy(logits, target):
    return torch._C._nn.cross_entropy_loss(logits, target, None, 1, -100,
                                           0.0)
""", ALL2, True),
    "ce-calls-nll-loss": ("""
import torch.nn.functional as F
def cross_entropy(logits, target):
    return F.nll_loss(log_softmax(logits, dim=1), target)
""", ALL2, True),
    "ce-calls-nll-internal": ("""
def cross_entropy(logits, target):
    return torch._C._nn.nll_loss_nd(log_softmax(logits, dim=1), target,
                                    None, 1, -100)
""", ALL2, True),
    "ce-calls-reglab": ("""
from reglab.losses import cross_entropy as _ce
def cross_entropy(logits, target):
    return _ce(logits, target)
""", ALL2, True),
    # --- Task 3: bce_with_logits ------------------------------------------
    "bce-naive-sigmoid": ("""
def bce_with_logits(z, y):
    s = torch.sigmoid(z)
    return (-y * torch.log(s) - (1 - y) * torch.log(1 - s)).mean()
""", HIDDEN3, False),
    "bce-no-abs": ("""
def bce_with_logits(z, y):
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z))).mean()
""", ALL3, False),
    "bce-wrong-sign": ("""
def bce_with_logits(z, y):
    return (z.clamp(min=0) + z * y + torch.log1p(torch.exp(-z.abs()))).mean()
""", ALL3, False),
    "bce-sum": ("""
def bce_with_logits(z, y):
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()
""", ALL3, False),
    "bce-divides-by-len": ("""
def bce_with_logits(z, y):
    loss = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    return loss.sum() / len(z)
""", HIDDEN3, False),
    "bce-float32": ("""
def bce_with_logits(z, y):
    z, y = z.float(), y.float()
    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()
""", HIDDEN3, False),
    "bce-log-not-log1p": ("""
def bce_with_logits(z, y):
    loss = torch.relu(z) - z * y + torch.log(1 + torch.exp(-torch.abs(z)))
    return loss.mean()
""", set(), False),
    "bce-via-bce-of-sigmoid": ("""
import torch.nn.functional as F
def bce_with_logits(z, y):
    return F.binary_cross_entropy(torch.sigmoid(z), y)
""", ALL3, False),  # fails the hidden tests even without forbid
    "bce-calls-functional": ("""
import torch.nn.functional as F
def bce_with_logits(z, y):
    return F.binary_cross_entropy_with_logits(z, y)
""", ALL3, True),
    "bce-calls-module": ("""
def bce_with_logits(z, y):
    return torch.nn.BCEWithLogitsLoss()(z, y)
""", ALL3, True),
    "bce-calls-torch": ("""
def bce_with_logits(z, y):
    return torch.binary_cross_entropy_with_logits(z, y, None, None, 1)
""", ALL3, True),
    "bce-calls-softplus": ("""
import torch.nn.functional as F
def bce_with_logits(z, y):
    return (F.softplus(z) - z * y).mean()
""", ALL3, True),
    "bce-calls-logsigmoid": ("""
import torch.nn.functional as F
def bce_with_logits(z, y):
    return ((1 - y) * z - F.logsigmoid(z)).mean()
""", ALL3, True),
    "bce-calls-reglab": ("""
import reglab
def bce_with_logits(z, y):
    return reglab.binary_cross_entropy_with_logits(z, y)
""", ALL3, True),
}

# Answers as a student would type them into the solution cells.
INFINITE_LOOP = '''
def log_softmax(logits, dim=-1):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: the maximum is taken over
# the whole tensor (rows far below it underflow to log 0 = -inf), and the
# mean divides by len(z), the size of the first dimension only.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3),
    "wrong": ({"bce_with_logits": MUTANTS["bce-wrong-sign"][0]}, ALL3),
    "infinite-loop": ({"log_softmax": INFINITE_LOOP}, ALL1 | ALL2),
    "delegates": ({"cross_entropy": MUTANTS["ce-calls-functional"][0]},
                  ALL2),
    "delegates-method": ({"log_softmax": MUTANTS["ls-tensor-method"][0]},
                         ALL1 | ALL2),
    # Wrong Task 3 with its tests replaced by `pass`: the original tests
    # are put back, so Task 3 still scores 0.
    "edits-tests": ({"bce_with_logits": MUTANTS["bce-wrong-sign"][0],
                     "test_bce_visible": "pass",
                     "test_bce_hidden": "pass"}, ALL3),
    "hidden-bugs": ({"log_softmax": MUTANTS["ls-max-of-whole-tensor"][0],
                     "bce_with_logits": MUTANTS["bce-divides-by-len"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "ls-naive-log-of-softmax": "you exponentiate the logits themselves",
    "ls-no-max-subtracted": "you exponentiate the logits themselves",
    "ls-max-of-whole-tensor": "you subtract the maximum of the whole tensor",
    "ls-ignores-dim": "you normalise along the last dimension whatever dim",
    "ls-forgets-log-norm": "you return z - z_max but do not subtract log",
    "ce-sum": "you add up the losses of the examples",
    "ce-no-minus": "you return the mean of log p_y",
    "ce-off-by-one": "you take log p of the class y - 1",
    "ce-wrong-dim": "you take the log-softmax over the examples (dim=0)",
    "ce-mean-over-classes-too": "you average over all n x C entries",
    "ce-per-example": "you return the loss of each example",
    "ce-naive-probabilities": "you take the log of the probabilities",
    "bce-naive-sigmoid": "you take the log of σ(z) and 1 - σ(z)",
    "bce-no-abs": "you compute log(1 + e^(-z))",
    "bce-wrong-sign": "you add z * y where the loss subtracts it",
    "bce-sum": "you add up the losses of the N entries",
    "bce-divides-by-len": "you divide by len(z)",
}

FEEDBACK_CODE = "with forbid(*banned), forbid_methods(*methods):"
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you add z * y where the loss subtracts it"],
    "hidden-bugs": [
        "log_softmax of logits of size 1e4 returns inf or nan",
        "cross_entropy of logits of size 1e4 is -inf",
        "bce_with_logits of torch.float32 tensors of shape (3, 4) is",
    ],
}
