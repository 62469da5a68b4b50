"""Exercise 5 (chapter 5): the L2 penalty and one SGD step with weight
decay. See ``tests/assignments/__init__.py`` for what each name means."""

ASSIGNMENT = "ch05-weight-decay"
NOTEBOOK = "weight-decay"
SOLUTIONS = ("l2_penalty", "sgd_weight_decay_step")
TESTS1 = ("test_l2_penalty_visible", "test_l2_penalty_hidden")
TESTS2 = ("test_sgd_step_visible", "test_sgd_step_hidden")
TESTS = {"l2_penalty": TESTS1, "sgd_weight_decay_step": TESTS2}
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
HIDDEN = HIDDEN1 | HIDDEN2
FORBIDDEN = {"reglab.penalties.l2_penalty", "torch.optim.SGD",
             "reglab.optim.sgd.SGD", "torch.optim.sgd.sgd"}

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
}

# Answers as a student would type them into the solution cells.
NO_HALF = MUTANTS["l2-no-half"][0]
INFINITE_LOOP = '''
def l2_penalty(params):
    while True:
        pass
'''
# Pass every visible test, fail the hidden ones: the sum stays float32,
# and weight decay is added into .grad in place.
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, set(TESTS1 + TESTS2)),
    "wrong": ({"l2_penalty": NO_HALF}, set(TESTS1)),
    "infinite-loop": ({"l2_penalty": INFINITE_LOOP}, set(TESTS1)),
    "delegates": ({"l2_penalty": MUTANTS["l2-calls-reglab"][0]},
                  set(TESTS1)),
    "delegates-sgd": ({"sgd_weight_decay_step":
                       MUTANTS["sgd-uses-torch-sgd"][0]}, set(TESTS2)),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"l2_penalty": NO_HALF,
                     "test_l2_penalty_visible": "pass",
                     "test_l2_penalty_hidden": "pass"}, set(TESTS1)),
    "hidden-bugs": ({"l2_penalty": MUTANTS["l2-float32-sum"][0],
                     "sgd_weight_decay_step": MUTANTS["sgd-changes-grad"][0]},
                    HIDDEN),
}

FEEDBACK_CODE = 'with forbid("reglab.penalties.l2_penalty"):'
FEEDBACK_MESSAGES = {"hidden-bugs": ["it should keep the dtype of its inputs",
                                     ".grad after the step"]}
