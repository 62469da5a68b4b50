"""Exercise 3 (chapter 3): one step of SGD with momentum (heavy ball and
Nesterov) and one step of Adam, as functions with an explicit state dict.
See ``tests/assignments/__init__.py`` for what each name means."""

ASSIGNMENT = "ch03-optimisers"
NOTEBOOK = "optimisers"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("sgd_momentum_step", "adam_step")
TESTS1 = ("test_sgd_momentum_visible", "test_sgd_momentum_hidden")
TESTS2 = ("test_adam_visible", "test_adam_hidden")
TESTS = {"sgd_momentum_step": TESTS1, "adam_step": TESTS2}
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
HIDDEN = HIDDEN1 | HIDDEN2
FORBIDDEN = {
    "torch.optim.SGD", "torch.optim.sgd.sgd",
    "torch.optim.sgd._single_tensor_sgd", "torch.optim.sgd._multi_tensor_sgd",
    "torch.optim.sgd._fused_sgd", "reglab.optim.sgd.SGD",
    "torch.optim.Adam", "torch.optim.AdamW", "torch.optim.adam.adam",
    "torch.optim.adam._single_tensor_adam",
    "torch.optim.adam._multi_tensor_adam", "torch.optim.adam._fused_adam",
    "reglab.optim.adam.Adam", "reglab.optim.adam._adam_update",
}
ALL1, ALL2 = set(TESTS1), set(TESTS2)

# --- Task 1: SGD with momentum ----------------------------------------------

# A correct step, with a hook ``BUFFER`` for where the buffer is created and
# ``UPDATE`` for how it is updated; the mutants below change one piece.
SGD_TEMPLATE = """
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            g = p.grad
            if i not in state:
                state[i] = {"momentum_buffer": BUFFER}
            else:
                b = state[i]["momentum_buffer"]
                UPDATE
            b = state[i]["momentum_buffer"]
            STEP
"""
GOOD = {"BUFFER": "g.clone()", "UPDATE": "b.mul_(momentum).add_(g)",
        "STEP": "p.sub_(lr * (g + momentum * b if nesterov else b))"}


def sgd(**pieces: str) -> str:
    source = SGD_TEMPLATE
    for key, piece in {**GOOD, **pieces}.items():
        source = source.replace(key, piece)
    return source


SGD_MUTANTS = {
    # torch applies dampening τ only when asked; here τ = μ after step 1.
    "sgd-dampening": (sgd(UPDATE="b.mul_(momentum).add_(g, "
                                 "alpha=1 - momentum)"), ALL1, False),
    # The exponential-average form b = μb + (1-μ)g, from b_0 = 0.
    "sgd-ema-momentum": (sgd(BUFFER="(1 - momentum) * g",
                             UPDATE="b.mul_(momentum).add_(g, "
                                    "alpha=1 - momentum)"), ALL1, False),
    # Buffer created as zeros, then updated: b_1 = μ·0 + g_1 = g_1. This is
    # PyTorch's rule (dampening 0), so every test passes.
    "sgd-zeros-like-correct": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            entry = state.setdefault(
                i, {"momentum_buffer": torch.zeros_like(p)})
            b = entry["momentum_buffer"]
            b.mul_(momentum).add_(p.grad)
            p.sub_(lr * (p.grad + momentum * b if nesterov else b))
""", set(), False),
    # The same with torch.zeros(shape): a float32 buffer for float64
    # parameters. Passes the visible (float32) tests only.
    "sgd-zeros-float32": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            entry = state.setdefault(
                i, {"momentum_buffer": torch.zeros(p.shape)})
            b = entry["momentum_buffer"]
            b.mul_(momentum).add_(p.grad)
            p.sub_(lr * (p.grad + momentum * b if nesterov else b))
""", HIDDEN1, False),
    # Steps with the old buffer, then updates it: θ does not move at step 1.
    "sgd-step-before-update": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            entry = state.setdefault(
                i, {"momentum_buffer": torch.zeros_like(p)})
            b = entry["momentum_buffer"]
            p.sub_(lr * (p.grad + momentum * b if nesterov else b))
            b.mul_(momentum).add_(p.grad)
""", ALL1, False),
    # The velocity form u = μu - ηg, θ += u: right parameters for a
    # constant lr, but the stored buffer is -η·b.
    "sgd-velocity-buffer": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            entry = state.setdefault(
                i, {"momentum_buffer": torch.zeros_like(p)})
            u = entry["momentum_buffer"]
            u.mul_(momentum).sub_(lr * p.grad)
            p.add_(momentum * u - lr * p.grad if nesterov else u)
""", ALL1, False),
    "sgd-nesterov-ignored": (sgd(STEP="p.sub_(lr * b)"), ALL1, False),
    # Nesterov with the previous buffer: θ -= η(g + μ b_{t-1}).
    "sgd-nesterov-old-buffer": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            entry = state.setdefault(
                i, {"momentum_buffer": torch.zeros_like(p)})
            b = entry["momentum_buffer"]
            if nesterov:
                p.sub_(lr * (p.grad + momentum * b))
            b.mul_(momentum).add_(p.grad)
            if not nesterov:
                p.sub_(lr * b)
""", ALL1, False),
    # Adds μb into .grad in place: right trajectory, .grad changed.
    "sgd-nesterov-changes-grad": (sgd(
        STEP="p.sub_(lr * (g.add_(b, alpha=momentum) if nesterov else b))"),
        HIDDEN1, False),
    # Stores .grad itself as the buffer: breaks when .grad is reused.
    "sgd-aliases-grad": (sgd(BUFFER="g"), HIDDEN1, False),
    "sgd-no-skip": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            if i not in state:
                state[i] = {"momentum_buffer": g.clone()}
            else:
                state[i]["momentum_buffer"].mul_(momentum).add_(g)
            b = state[i]["momentum_buffer"]
            p.sub_(lr * (g + momentum * b if nesterov else b))
""", HIDDEN1, False),
    "sgd-not-in-place": (sgd(
        STEP="p = p - lr * (g + momentum * b if nesterov else b)"),
        ALL1, False),
    "sgd-no-grad-mode": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    for i, p in enumerate(params):
        if p.grad is None:
            continue
        g = p.grad
        if i not in state:
            state[i] = {"momentum_buffer": g.clone()}
        else:
            state[i]["momentum_buffer"].mul_(momentum).add_(g)
        b = state[i]["momentum_buffer"]
        p.sub_(lr * (g + momentum * b if nesterov else b))
""", ALL1, False),
    # Keys the state by tensor (as torch.optim does), not by position.
    "sgd-keyed-by-tensor": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            if p not in state:
                state[p] = {"momentum_buffer": p.grad.clone()}
            else:
                state[p]["momentum_buffer"].mul_(momentum).add_(p.grad)
            b = state[p]["momentum_buffer"]
            p.sub_(lr * (p.grad + momentum * b if nesterov else b))
""", ALL1, False),
}

# Delegating answers: each is right when the built-in is not switched off.
SGD_DELEGATES = {
    "sgd-uses-torch-sgd": ("""
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    params = list(params)
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum,
                          nesterov=nesterov)
    for i, p in enumerate(params):
        if i in state:
            opt.state[p] = state[i]
    opt.step()
    for i, p in enumerate(params):
        if opt.state[p]:
            state[i] = opt.state[p]
""", ALL1, True),
    "sgd-uses-reglab-sgd": ("""
import reglab
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    params = list(params)
    opt = reglab.SGD(params, lr, momentum=momentum, nesterov=nesterov)
    for i, p in enumerate(params):
        if i in state:
            opt.state[p] = state[i]
    opt.step()
    for i, p in enumerate(params):
        if opt.state[p]:
            state[i] = opt.state[p]
""", ALL1, True),
}
_SGD_FUNCTIONAL = """
from torch.optim.sgd import NAME as _sgd
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            bufs = [state[i]["momentum_buffer"] if i in state else None]
            _sgd([p], [p.grad.clone()], bufs, weight_decay=0.0,
                 momentum=momentum, lr=lr, dampening=0.0, nesterov=nesterov,
                 maximize=False, has_sparse_grad=False, grad_scale=None,
                 found_inf=None)
            state[i] = {"momentum_buffer": bufs[0]}
"""
for _name, _label in (("sgd", "functional"),
                      ("_single_tensor_sgd", "single-tensor"),
                      ("_multi_tensor_sgd", "multi-tensor"),
                      ("_fused_sgd", "fused")):
    SGD_DELEGATES[f"sgd-uses-{_label}-sgd"] = (
        _SGD_FUNCTIONAL.replace("NAME", _name), ALL1, True)

# --- Task 2: Adam -----------------------------------------------------------

ADAM_TEMPLATE = """
def adam_step(params, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    beta1, beta2 = betas
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            g = p.grad
            if i not in state:
                state[i] = {"step": 0, "exp_avg": ZEROS, "exp_avg_sq": ZEROS}
            s = state[i]
            s["step"] += 1
            t = s["step"]
            m, v = s["exp_avg"], s["exp_avg_sq"]
            m.mul_(B1).add_((1 - B1) * g)
            v.mul_(B2).add_((1 - B2) * g * g)
            m_hat = m / (1 - beta1**T)
            v_hat = v / (1 - beta2**T)
            p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
"""
ADAM_GOOD = {"ZEROS": "torch.zeros_like(p)", "B1": "beta1", "B2": "beta2",
             "T": "t"}


def adam(replace: dict[str, str] | None = None, **pieces: str) -> str:
    source = ADAM_TEMPLATE
    for old, new in (replace or {}).items():
        assert old in source, old
        source = source.replace(old, new)
    for key, piece in {**ADAM_GOOD, **pieces}.items():
        source = source.replace(key, piece)
    return source


ADAM_MUTANTS = {
    "adam-no-bias-correction": (adam({
        "m / (1 - beta1**T)": "m", "v / (1 - beta2**T)": "v"}), ALL2, False),
    "adam-no-v-correction": (adam({"v / (1 - beta2**T)": "v"}), ALL2, False),
    "adam-eps-inside-sqrt": (adam({
        "(v_hat.sqrt() + eps)": "(v_hat + eps).sqrt()"}), ALL2, False),
    # ε added before the bias correction of the root: √v_t + ε, then /√c₂.
    "adam-eps-before-correction": (adam({
        "m_hat / (v_hat.sqrt() + eps)":
        "m_hat / ((v.sqrt() + eps) / (1 - beta2**T) ** 0.5)"}), ALL2, False),
    # Bias correction with t counted from 0: 1 - β^0 = 0 at the first step.
    "adam-t-from-zero": (adam(T="(t - 1)"), ALL2, False),
    "adam-betas-swapped": (adam(B1="beta2", B2="beta1"), ALL2, False),
    # One counter per call instead of per tensor: right while every tensor
    # has a gradient at every step.
    "adam-global-step": (adam({
        "    beta1, beta2 = betas\n":
        "    beta1, beta2 = betas\n"
        "    state['calls'] = state.get('calls', 0) + 1\n",
        's["step"] += 1': 's["step"] = state["calls"]'}), HIDDEN2, False),
    # torch.zeros(shape) is float32 whatever the parameter's dtype.
    "adam-state-float32": (adam(ZEROS="torch.zeros(p.shape)"), HIDDEN2,
                           False),
    "adam-no-skip": (adam({
        "            if p.grad is None:\n                continue\n"
        "            g = p.grad\n":
        "            g = p.grad if p.grad is not None "
        "else torch.zeros_like(p)\n"}), HIDDEN2, False),
    "adam-not-in-place": (adam({
        "p.sub_(lr * m_hat / (v_hat.sqrt() + eps))":
        "p = p - lr * m_hat / (v_hat.sqrt() + eps)"}), ALL2, False),
    "adam-no-grad-mode": (adam({
        "    with torch.no_grad():\n": "    if True:\n"}), ALL2, False),
}

ADAM_DELEGATES = {}
for _cls in ("torch.optim.Adam", "torch.optim.AdamW", "reglab.Adam",
             "reglab.AdamW"):
    ADAM_DELEGATES[f"adam-uses-{_cls.lower().replace('.', '-')}"] = (f"""
import reglab
def adam_step(params, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    params = list(params)
    opt = {_cls}(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
    for i, p in enumerate(params):
        if i in state:
            opt.state[p] = state[i]
    opt.step()
    for i, p in enumerate(params):
        if opt.state[p]:
            state[i] = opt.state[p]
""", ALL2, True)
_ADAM_FUNCTIONAL = """
from torch.optim.adam import NAME as _adam
def adam_step(params, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            s = state.setdefault(i, {"step": torch.tensor(0.0),
                                     "exp_avg": torch.zeros_like(p),
                                     "exp_avg_sq": torch.zeros_like(p)})
            _adam([p], [p.grad], [s["exp_avg"]], [s["exp_avg_sq"]], [],
                  [s["step"]], amsgrad=False, beta1=betas[0],
                  beta2=betas[1], lr=lr, weight_decay=0.0, eps=eps,
                  maximize=False, grad_scale=None, found_inf=None,
                  has_complex=False, capturable=False, differentiable=False,
                  decoupled_weight_decay=False)
"""
for _name, _label in (("adam", "functional"),
                      ("_single_tensor_adam", "single-tensor"),
                      ("_multi_tensor_adam", "multi-tensor"),
                      ("_fused_adam", "fused")):
    ADAM_DELEGATES[f"adam-uses-{_label}-adam"] = (
        _ADAM_FUNCTIONAL.replace("NAME", _name), ALL2, True)
ADAM_DELEGATES["adam-uses-reglab-update"] = ("""
from reglab.optim.adam import _adam_update
def adam_step(params, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is not None:
                _adam_update(p, p.grad, state.setdefault(i, {}), lr,
                             betas[0], betas[1], eps, False)
""", ALL2, True)

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {**SGD_MUTANTS, **SGD_DELEGATES, **ADAM_MUTANTS, **ADAM_DELEGATES}

INFINITE_LOOP = """
def sgd_momentum_step(params, state, lr, momentum, nesterov=False):
    while True:
        pass
"""
NO_CORRECTION = MUTANTS["adam-no-bias-correction"][0]
DAMPENING = MUTANTS["sgd-dampening"][0]
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2),
    "wrong": ({"adam_step": NO_CORRECTION}, ALL2),
    "infinite-loop": ({"sgd_momentum_step": INFINITE_LOOP}, ALL1),
    "delegates": ({"adam_step": MUTANTS["adam-uses-torch-optim-adam"][0]},
                  ALL2),
    "delegates-sgd": ({"sgd_momentum_step":
                       MUTANTS["sgd-uses-torch-sgd"][0]}, ALL1),
    # Wrong Task 1 with its tests replaced by `pass`: the original tests
    # are put back, so Task 1 still scores 0.
    "edits-tests": ({"sgd_momentum_step": DAMPENING,
                     "test_sgd_momentum_visible": "pass",
                     "test_sgd_momentum_hidden": "pass"}, ALL1),
    # Pass every visible test, fail the hidden ones: the buffer is .grad
    # itself, and Adam counts calls instead of each tensor's steps.
    "hidden-bugs": ({"sgd_momentum_step": MUTANTS["sgd-aliases-grad"][0],
                     "adam_step": MUTANTS["adam-global-step"][0]}, HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "sgd-dampening": "you damp the gradient",
    "sgd-ema-momentum": "you keep an exponential average",
    "sgd-step-before-update": "you step with the old buffer",
    "sgd-velocity-buffer": "you keep the velocity u = μ u - lr · g",
    "sgd-nesterov-ignored": "you take the plain momentum step",
    # θ -= lr (g + μ b_{t-1}) is θ -= lr b_t: the plain momentum step
    "sgd-nesterov-old-buffer": "you take the plain momentum step",
    "sgd-not-in-place": "θ does not change",
    "sgd-zeros-float32": "your buffer is float32 for a float64 parameter",
    "sgd-nesterov-changes-grad": "you add μ b into .grad in place",
    "sgd-aliases-grad": "your buffer is .grad itself",
    "adam-no-bias-correction": "you do not correct m and v",
    "adam-no-v-correction": "you correct m but not v",
    "adam-eps-inside-sqrt": "you add ε inside the square root",
    "adam-eps-before-correction": "you add ε to √v before the bias correction",
    "adam-t-from-zero": "you count t from 0",
    "adam-betas-swapped": "you swap β1 and β2",
    "adam-not-in-place": "θ does not change",
    "adam-state-float32": "your m and v are float32 for a float64 parameter",
}

FEEDBACK_CODE = ("sgd_momentum_step([theta], state, 0.1, 0.9, "
                 "nesterov=nesterov)")
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you do not correct m and v for their start "
              "at 0"],
    "hidden-bugs": [
        "keep the buffer in a tensor of its own and leave .grad as it is",
        "each tensor counts its own steps"]}
