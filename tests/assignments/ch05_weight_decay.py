"""Exercise 5 (chapter 5): the L2 penalty, one SGD step with weight
decay, and the L1 proximal step (soft-thresholding). See
``tests/assignments/__init__.py`` for what each name means."""

ASSIGNMENT = "ch05-weight-decay"
NOTEBOOK = "weight-decay"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("l2_penalty", "sgd_weight_decay_step", "soft_threshold",
             "proximal_l1_step")
TESTS1 = ("test_l2_penalty_visible", "test_l2_penalty_hidden")
TESTS2 = ("test_sgd_step_visible", "test_sgd_step_hidden")
TESTS3S = ("test_soft_threshold_visible", "test_soft_threshold_hidden")
TESTS3P = ("test_proximal_step_visible", "test_proximal_step_hidden")
TESTS3 = TESTS3S + TESTS3P  # Task 3: the proximal step uses soft_threshold
TESTS = {"l2_penalty": TESTS1, "sgd_weight_decay_step": TESTS2,
         "soft_threshold": TESTS3S, "proximal_l1_step": TESTS3P}
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
HIDDEN3S, HIDDEN3P = {TESTS3S[1]}, {TESTS3P[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3S | HIDDEN3P
FORBIDDEN = {"reglab.penalties.l2_penalty", "torch.optim.SGD",
             "reglab.optim.sgd.SGD", "torch.optim.sgd.sgd",
             "torch.nn.functional.softshrink", "torch._C._nn.softshrink",
             "torch.nn.Softshrink"}

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {
    "l2-no-half": ("""
def l2_penalty(params):
    return sum((w * w).sum() for w in params)
""", set(TESTS1), False),
    "l2-python-float": ("""
def l2_penalty(params):
    return 0.5 * sum((w * w).sum().item() for w in params)
""", set(TESTS1), False),
    "l2-detached": ("""
def l2_penalty(params):
    return 0.5 * sum((w.detach() ** 2).sum() for w in params)
""", set(TESTS1), False),
    "l2-float32-sum": ("""
def l2_penalty(params):
    total = torch.zeros(())
    for w in params:
        total += 0.5 * (w * w).sum()
    return total
""", HIDDEN1, False),
    "l2-iterates-twice": ("""
def l2_penalty(params):
    count = sum(1 for _ in params)
    return 0.5 * sum((w * w).sum() for w in params)
""", HIDDEN1, False),
    "l2-calls-reglab": ("""
import reglab
def l2_penalty(params):
    return reglab.l2_penalty(params)
""", set(TESTS1), True),
    "l2-calls-reglab-alias": ("""
from reglab.penalties import l2_penalty as _l2
def l2_penalty(params):
    return _l2(list(params))
""", set(TESTS1), True),
    "l2-norm-correct": ("""
def l2_penalty(params):
    return 0.5 * sum(torch.linalg.vector_norm(w) ** 2 for w in params)
""", set(), False),
    "sgd-no-decay": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * p.grad)
""", set(TESTS2), False),
    "sgd-wrong-sign": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * (p.grad - weight_decay * p))
""", set(TESTS2), False),
    "sgd-no-grad-mode": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    for p in params:
        if p.grad is not None:
            p.sub_(lr * (p.grad + weight_decay * p))
""", set(TESTS2), False),
    "sgd-not-in-place": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p = p - lr * (p.grad + weight_decay * p)
""", set(TESTS2), False),
    "sgd-changes-grad": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.add_(p, alpha=weight_decay)
                p.sub_(lr * p.grad)
""", HIDDEN2, False),
    "sgd-no-skip": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * (p.grad + weight_decay * p))
""", HIDDEN2, False),
    "sgd-returns-params": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    params = list(params)
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * (p.grad + weight_decay * p))
    return params
""", HIDDEN2, False),
    "sgd-uses-torch-sgd": ("""
def sgd_weight_decay_step(params, lr, weight_decay):
    torch.optim.SGD(list(params), lr=lr, weight_decay=weight_decay).step()
""", set(TESTS2), True),
    "sgd-uses-reglab-sgd": ("""
import reglab
def sgd_weight_decay_step(params, lr, weight_decay):
    reglab.SGD(list(params), lr, weight_decay=weight_decay).step()
""", set(TESTS2), True),
    "sgd-uses-functional": ("""
from torch.optim.sgd import sgd as _sgd
def sgd_weight_decay_step(params, lr, weight_decay):
    ps = [p for p in params if p.grad is not None]
    with torch.no_grad():
        _sgd(ps, [p.grad for p in ps], [None] * len(ps),
             weight_decay=weight_decay, momentum=0.0, lr=lr,
             dampening=0.0, nesterov=False, maximize=False)
""", set(TESTS2), True),
    # Task 3: soft_threshold (proximal_l1_step calls it, so a wrong
    # soft_threshold also fails the proximal step's cells).
    "soft-crosses-zero": ("""
def soft_threshold(w, threshold):
    return torch.where(w > 0, w - threshold, w + threshold)
""", set(TESTS3), False),
    "soft-no-max": ("""
def soft_threshold(w, threshold):
    return w.sign() * (w.abs() - threshold)
""", set(TESTS3), False),
    "soft-drops-sign": ("""
def soft_threshold(w, threshold):
    return (w.abs() - threshold).clamp(min=0)
""", set(TESTS3), False),
    "soft-hard-threshold": ("""
def soft_threshold(w, threshold):
    return w * (w.abs() > threshold)
""", set(TESTS3), False),
    "soft-in-place": ("""
def soft_threshold(w, threshold):
    w[w.abs() <= threshold] = 0.0
    w.sub_(threshold * w.sign())
    return w
""", set(TESTS3S), False),
    "soft-same-tensor-at-zero": ("""
def soft_threshold(w, threshold):
    if threshold == 0:
        return w
    return w.sign() * (w.abs() - threshold).clamp(min=0)
""", HIDDEN3S, False),
    "soft-scaling-nan": ("""
def soft_threshold(w, threshold):
    return w * (1 - threshold / w.abs()).clamp(min=0)
""", HIDDEN3S, False),
    "soft-python-floats": ("""
import math
def soft_threshold(w, threshold):
    values = [math.copysign(max(abs(x) - threshold, 0.0), x)
              for x in w.flatten().tolist()]
    return torch.tensor(values).reshape(w.shape)  # float32, always
""", HIDDEN3S | HIDDEN3P, False),
    "soft-uses-softshrink": ("""
def soft_threshold(w, threshold):
    return torch.nn.functional.softshrink(w, threshold)
""", set(TESTS3), True),
    "soft-uses-softshrink-module": ("""
def soft_threshold(w, threshold):
    return torch.nn.Softshrink(threshold)(w)
""", set(TESTS3), True),
    "soft-uses-c-softshrink": ("""
def soft_threshold(w, threshold):
    return torch._C._nn.softshrink(w, threshold)
""", set(TESTS3), True),
    "soft-clamp-correct": ("""
def soft_threshold(w, threshold):
    return w - w.clamp(-threshold, threshold)
""", set(), False),
    # Task 3: proximal_l1_step
    "prox-threshold-without-lr": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.copy_(soft_threshold(p - lr * p.grad, l1))
""", set(TESTS3P), False),
    "prox-subgradient": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.sub_(lr * (p.grad + l1 * p.sign()))
""", set(TESTS3P), False),
    "prox-threshold-first": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.copy_(soft_threshold(p, lr * l1) - lr * p.grad)
""", set(TESTS3P), False),
    "prox-no-grad-mode": ("""
def proximal_l1_step(params, lr, l1):
    for p in params:
        if p.grad is not None:
            p.copy_(soft_threshold(p - lr * p.grad, lr * l1))
""", set(TESTS3P), False),
    "prox-not-in-place": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p = soft_threshold(p - lr * p.grad, lr * l1)
""", set(TESTS3P), False),
    "prox-changes-grad": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.grad.mul_(lr)
                p.copy_(soft_threshold(p - p.grad, lr * l1))
""", HIDDEN3P, False),
    "prox-no-skip": ("""
def proximal_l1_step(params, lr, l1):
    with torch.no_grad():
        for p in params:
            p.copy_(soft_threshold(p - lr * p.grad, lr * l1))
""", HIDDEN3P, False),
    "prox-returns-params": ("""
def proximal_l1_step(params, lr, l1):
    params = list(params)
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.copy_(soft_threshold(p - lr * p.grad, lr * l1))
    return params
""", HIDDEN3P, False),
}

# Answers as a student would type them into the solution cells.
NO_HALF = MUTANTS["l2-no-half"][0]
INFINITE_LOOP = '''
def l2_penalty(params):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: the sum stays float32,
# weight decay is added into .grad in place, soft_threshold returns its
# input itself when the threshold is 0, and the proximal step scales .grad.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, set(TESTS1 + TESTS2 + TESTS3)),
    "wrong": ({"l2_penalty": NO_HALF}, set(TESTS1)),
    "infinite-loop": ({"l2_penalty": INFINITE_LOOP}, set(TESTS1)),
    "delegates": ({"l2_penalty": MUTANTS["l2-calls-reglab"][0]},
                  set(TESTS1)),
    "delegates-sgd": ({"sgd_weight_decay_step":
                       MUTANTS["sgd-uses-torch-sgd"][0]}, set(TESTS2)),
    "delegates-softshrink": ({"soft_threshold":
                              MUTANTS["soft-uses-softshrink"][0]},
                             set(TESTS3)),
    "wrong-prox": ({"proximal_l1_step":
                    MUTANTS["prox-threshold-without-lr"][0]}, set(TESTS3P)),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"l2_penalty": NO_HALF,
                     "test_l2_penalty_visible": "pass",
                     "test_l2_penalty_hidden": "pass"}, set(TESTS1)),
    "hidden-bugs": ({"l2_penalty": MUTANTS["l2-float32-sum"][0],
                     "sgd_weight_decay_step": MUTANTS["sgd-changes-grad"][0],
                     "soft_threshold":
                         MUTANTS["soft-same-tensor-at-zero"][0],
                     "proximal_l1_step": MUTANTS["prox-changes-grad"][0]},
                    HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
UNCHANGED = "your step leaves the parameters unchanged"
CHANGES_GRAD = "your step changes p.grad"
DIAGNOSES = {
    "l2-no-half": "your penalty is twice too large",
    "l2-iterates-twice": "your penalty is 0 when params is a generator",
    "sgd-wrong-sign": "you subtract weight_decay * p from the gradient",
    "sgd-not-in-place": UNCHANGED,
    "sgd-changes-grad": CHANGES_GRAD,
    "soft-crosses-zero": "your small weights cross zero",
    "soft-no-max": "your small weights cross zero",
    "soft-hard-threshold": "(hard thresholding)",
    "prox-threshold-without-lr": "you soft-threshold at l1 instead of lr",
    "prox-subgradient": "you take a subgradient step",
    "prox-not-in-place": UNCHANGED,
    "prox-changes-grad": CHANGES_GRAD,
}

FEEDBACK_CODE = 'with forbid("reglab.penalties.l2_penalty"):'
FEEDBACK_MESSAGES = {"wrong": ["Likely mistake: your penalty is twice too "
                               "large"],
                     "hidden-bugs": ["it should keep the dtype of its inputs",
                                     ".grad after the step",
                                     "shares memory with its input w",
                                     "'s .grad after the step (torch.float32, "
                                     "lr=0.1, l1=0.3)"]}
