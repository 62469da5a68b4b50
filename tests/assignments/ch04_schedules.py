"""Exercise 4 (chapter 4): the largest stable learning rate of gradient
descent on a quadratic, and the step, cosine and warm-up + cosine
schedules in closed form. See ``tests/assignments/__init__.py`` for what
each name means.

The schedules are checked against the rates that PyTorch's schedulers
leave in a dummy optimiser (``pytorch_rates`` in the setup cell, run
outside ``forbid``). ``forbid`` switches off a scheduler class in its
``__init__``; every scheduler's ``__init__`` ends in
``LRScheduler.__init__``, so forbidding the base class catches the
schedulers that are not named too. The reference ``warmup_cosine`` calls
the notebook's ``cosine_lr``, so a ``cosine_lr`` that is wrong for
``t <= T`` and ``eta_min = 0`` fails Task 4's cells as well.
"""

ASSIGNMENT = "ch04-schedules"
NOTEBOOK = "schedules"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("max_stable_lr", "step_lr", "cosine_lr", "warmup_cosine")
TESTS1 = ("test_max_stable_lr_visible", "test_max_stable_lr_hidden")
TESTS2 = ("test_step_lr_visible", "test_step_lr_hidden")
TESTS3 = ("test_cosine_lr_visible", "test_cosine_lr_hidden")
TESTS4 = ("test_warmup_cosine_visible", "test_warmup_cosine_hidden")
TESTS = {"max_stable_lr": TESTS1, "step_lr": TESTS2, "cosine_lr": TESTS3,
         "warmup_cosine": TESTS4}
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
HIDDEN3, HIDDEN4 = {TESTS3[1]}, {TESTS4[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3 | HIDDEN4
ALL1, ALL2, ALL3, ALL4 = set(TESTS1), set(TESTS2), set(TESTS3), set(TESTS4)
FORBIDDEN = {
    "reglab.schedules.step_lr", "reglab.schedules.exponential_lr",
    "reglab.schedules.cosine_lr", "reglab.schedules.linear_warmup",
    "torch.optim.lr_scheduler.LRScheduler",
    "torch.optim.lr_scheduler.StepLR", "torch.optim.lr_scheduler.MultiStepLR",
    "torch.optim.lr_scheduler.ExponentialLR",
    "torch.optim.lr_scheduler.CosineAnnealingLR",
    "torch.optim.lr_scheduler.LinearLR",
    "torch.optim.lr_scheduler.SequentialLR",
    "torch.optim.lr_scheduler.LambdaLR",
}

CHECKED = '''
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("'A' must be a square matrix")
    if not torch.allclose(A, A.T):
        raise ValueError("'A' must be symmetric")
    h = torch.linalg.eigvalsh(A)
    if h[0] <= 0:
        raise ValueError("'A' must be positive definite")
    return {result}
'''

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {
    # --- Task 1: max_stable_lr ---------------------------------------------
    "lr-one-over-hmax": (CHECKED.format(result="1 / h[-1].item()"),
                         ALL1, False),
    "lr-smallest-eigenvalue": (CHECKED.format(result="2 / h[0].item()"),
                               ALL1, False),
    "lr-returns-tensor": (CHECKED.format(result="2 / h[-1]"), ALL1, False),
    "lr-float32": (CHECKED.format(
        result="2 / torch.linalg.eigvalsh(A.float())[-1].item()"),
        ALL1, False),
    "lr-no-symmetry-check": ("""
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("'A' must be a square matrix")
    h = torch.linalg.eigvalsh(A)
    if h[0] <= 0:
        raise ValueError("'A' must be positive definite")
    return 2 / h[-1].item()
""", HIDDEN1, False),
    "lr-eigvals-no-checks": ("""
def max_stable_lr(A):
    return 2 / torch.linalg.eigvals(A).real.max().item()
""", HIDDEN1, False),
    "lr-only-hmax-positive": ("""
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("'A' must be a square matrix")
    if not torch.allclose(A, A.T):
        raise ValueError("'A' must be symmetric")
    h_max = torch.linalg.eigvalsh(A)[-1]
    if h_max <= 0:
        raise ValueError("'A' must be positive definite")
    return 2 / h_max.item()
""", HIDDEN1, False),
    "lr-exact-symmetry": ("""
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("'A' must be a square matrix")
    if not torch.equal(A, A.T):
        raise ValueError("'A' must be symmetric")
    h = torch.linalg.eigvalsh(A)
    if h[0] <= 0:
        raise ValueError("'A' must be positive definite")
    return 2 / h[-1].item()
""", HIDDEN1, False),
    "lr-no-shape-check": ("""
def max_stable_lr(A):
    if not torch.allclose(A, A.T):
        raise ValueError("'A' must be symmetric")
    h = torch.linalg.eigvalsh(A)
    if h[0] <= 0:
        raise ValueError("'A' must be positive definite")
    return 2 / h[-1].item()
""", HIDDEN1, False),
    "lr-unnamed-error": ("""
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("not a square matrix")
    if not torch.allclose(A, A.T):
        raise ValueError("not symmetric")
    h = torch.linalg.eigvalsh(A)
    if h[0] <= 0:
        raise ValueError("not positive definite")
    return 2 / h[-1].item()
""", HIDDEN1, False),
    "lr-spectral-norm-correct": ("""
def max_stable_lr(A):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("'A' must be a square matrix")
    if not torch.allclose(A, A.T):
        raise ValueError("'A' must be symmetric")
    if torch.linalg.cholesky_ex(A).info != 0:
        raise ValueError("'A' must be positive definite")
    return 2 / torch.linalg.matrix_norm(A, ord=2).item()
""", set(), False),
    # --- Task 2: step_lr -----------------------------------------------------
    "step-off-by-one": ("""
def step_lr(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** ((t + 1) // step_size)
""", ALL2, False),
    "step-no-floor": ("""
def step_lr(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** (t / step_size)
""", ALL2, False),
    "step-precedence": ("""
def step_lr(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** t // step_size
""", ALL2, False),
    "step-returns-tensor": ("""
def step_lr(t, lr0, step_size, gamma=0.1):
    return torch.tensor(lr0) * gamma ** (t // step_size)
""", ALL2, False),
    "step-default-gamma-half": ("""
def step_lr(t, lr0, step_size, gamma=0.5):
    return lr0 * gamma ** (t // step_size)
""", HIDDEN2, False),
    "step-calls-reglab": ("""
import reglab
def step_lr(t, lr0, step_size, gamma=0.1):
    return reglab.step_lr(t, lr0, step_size, gamma)
""", ALL2, True),
    "step-calls-exponential": ("""
from reglab.schedules import exponential_lr as _exp
def step_lr(t, lr0, step_size, gamma=0.1):
    return _exp(t // step_size, lr0, gamma)
""", ALL2, True),
    "step-replays-torch": ("""
from torch.optim import lr_scheduler as _sched
def step_lr(t, lr0, step_size, gamma=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    sched = _sched.StepLR(opt, step_size=step_size, gamma=gamma)
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]
""", ALL2, True),
    "step-lambda-lr": ("""
from torch.optim.lr_scheduler import LambdaLR as _Lambda
def step_lr(t, lr0, step_size, gamma=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    sched = _Lambda(opt, lambda e: gamma ** (e // step_size))
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]
""", ALL2, True),
    # --- Task 3: cosine_lr ---------------------------------------------------
    "cos-t-max-minus-one": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t
                                                     / (t_max - 1))) / 2
""", ALL3 | ALL4, False),
    "cos-integer-division": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * (t // t_max))
                                        ) / 2
""", ALL3 | ALL4, False),
    "cos-forgets-eta-min": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    return lr0 * (1 + math.cos(math.pi * t / t_max)) / 2
""", HIDDEN3, False),
    "cos-eta-min-not-subtracted": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    return eta_min + lr0 * (1 + math.cos(math.pi * t / t_max)) / 2
""", HIDDEN3, False),
    "cos-stops-at-t-max": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    t = min(t, t_max)
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2
""", HIDDEN3, False),
    "cos-returns-tensor": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    c = torch.cos(torch.tensor(math.pi * t / t_max))
    return eta_min + (lr0 - eta_min) * (1 + c) / 2
""", ALL3 | ALL4, False),
    "cos-recursive-correct": ("""
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    lr = lr0
    for k in range(1, t + 1):  # PyTorch's recursive update
        if (k - 1 - t_max) % (2 * t_max) == 0:
            lr = lr + (lr0 - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        else:
            ratio = ((1 + math.cos(math.pi * k / t_max))
                     / (1 + math.cos(math.pi * (k - 1) / t_max)))
            lr = ratio * (lr - eta_min) + eta_min
    return lr
""", set(), False),
    "cos-calls-reglab": ("""
import reglab
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    t = t % (2 * t_max)
    return reglab.cosine_lr(min(t, 2 * t_max - t), lr0, t_max, eta_min)
""", ALL3 | ALL4, True),
    "cos-replays-torch": ("""
from torch.optim import lr_scheduler as _sched
def cosine_lr(t, lr0, t_max, eta_min=0.0):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    sched = _sched.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]
""", ALL3 | ALL4, True),
    # --- Task 4: warmup_cosine ---------------------------------------------
    "warm-starts-at-zero": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return lr0 * t / warmup_steps
    return cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", ALL4, False),
    "warm-overshoots": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t <= warmup_steps:
        return lr0 * (t + 1) / warmup_steps
    return cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", ALL4, False),
    "warm-integer-division": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return lr0 * ((t + 1) // warmup_steps)
    return cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", ALL4, False),
    "warm-cosine-over-t-max": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return lr0 * (t + 1) / warmup_steps
    return cosine_lr(t - warmup_steps, lr0, t_max)
""", ALL4, False),
    "warm-cosine-not-shifted": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return lr0 * (t + 1) / warmup_steps
    return cosine_lr(t, lr0, t_max)
""", ALL4, False),
    "warm-interpolates": ("""
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        start = lr0 / warmup_steps
        return start + (lr0 - start) * t / (warmup_steps - 1)
    return cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", HIDDEN4, False),
    "warm-chapter-code": ("""
import reglab
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return reglab.linear_warmup(t, lr0, warmup_steps)
    return reglab.cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", ALL4, True),
    "warm-calls-linear-warmup": ("""
from reglab.schedules import linear_warmup as _warm
def warmup_cosine(t, lr0, warmup_steps, t_max):
    if t < warmup_steps:
        return _warm(t, lr0, warmup_steps)
    return cosine_lr(t - warmup_steps, lr0, t_max - warmup_steps)
""", ALL4, True),
    "warm-replays-torch": ("""
from torch.optim import lr_scheduler as _sched
def warmup_cosine(t, lr0, warmup_steps, t_max):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    sched = _sched.SequentialLR(opt, [
        _sched.LinearLR(opt, start_factor=1 / warmup_steps,
                        total_iters=warmup_steps - 1),
        _sched.CosineAnnealingLR(opt, T_max=t_max - warmup_steps)],
        milestones=[warmup_steps])
    for _ in range(t):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]
""", ALL4, True),
    "warm-uses-pytorch-rates": ("""
from torch.optim import lr_scheduler as _sched
def warmup_cosine(t, lr0, warmup_steps, t_max):
    W = warmup_steps
    return pytorch_rates(lambda o: _sched.SequentialLR(o, [
        _sched.LinearLR(o, start_factor=1 / W, total_iters=W - 1),
        _sched.CosineAnnealingLR(o, T_max=t_max - W)], milestones=[W]),
        lr0, t + 1)[t]
""", ALL4, True),
}

# Answers as a student would type them into the solution cells.
ONE_OVER = MUTANTS["lr-one-over-hmax"][0]
INFINITE_LOOP = '''
def step_lr(t, lr0, step_size, gamma=0.1):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: no symmetry check, no
# eta_min, division by zero for W = 1, the wrong default gamma.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3 | ALL4),
    "wrong": ({"max_stable_lr": ONE_OVER}, ALL1),
    "infinite-loop": ({"step_lr": INFINITE_LOOP}, ALL2),
    "delegates": ({"step_lr": MUTANTS["step-calls-reglab"][0]}, ALL2),
    "delegates-torch": ({"warmup_cosine": MUTANTS["warm-replays-torch"][0]},
                        ALL4),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"max_stable_lr": ONE_OVER,
                     "test_max_stable_lr_visible": "pass",
                     "test_max_stable_lr_hidden": "pass"}, ALL1),
    "hidden-bugs": ({"max_stable_lr": MUTANTS["lr-no-symmetry-check"][0],
                     "step_lr": MUTANTS["step-default-gamma-half"][0],
                     "cosine_lr": MUTANTS["cos-forgets-eta-min"][0],
                     "warmup_cosine": MUTANTS["warm-interpolates"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "lr-one-over-hmax": "you return 1/h_max",
    "lr-smallest-eigenvalue": "you use the smallest eigenvalue",
    "lr-float32": "you compute the eigenvalues in float32",
    "step-off-by-one": "your rate decays one epoch early",
    "step-no-floor": "your rate decays a little at every epoch",
    "cos-t-max-minus-one": "you divide by T - 1",
    "cos-forgets-eta-min": "your rate ignores eta_min",
    "cos-stops-at-t-max": "your rate stays at eta_min after t = T",
    "warm-starts-at-zero": "your warm-up starts at 0",
    "warm-cosine-over-t-max": "your cosine runs over T epochs",
    "warm-cosine-not-shifted": "your cosine starts at t = 0",
}

FEEDBACK_CODE = 'got = [step_lr(t, 0.4, 3, 0.5) for t in range(12)]'
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you return 1/h_max"],
    "hidden-bugs": [
        "max_stable_lr should raise ValueError for a non-symmetric matrix",
        "cosine_lr(5, 0.3, 10, eta_min=0.1) is 0.15 but should be 0.2",
    ]}
