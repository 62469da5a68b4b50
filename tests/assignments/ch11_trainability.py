"""Exercise 11 (chapter 7, "Keeping deep networks trainable"): Xavier and
He initialisation from scratch, clipping by the global norm, and the
per-layer gradient norms of the depth experiment. See
``tests/assignments/__init__.py`` for what each name means.

Random weights are checked statistically with seeded generators (mean,
variance against the draws of ``torch.nn.init`` and the formula, range
of a uniform draw, tails of a normal one), so that every run of a given
answer gets the same verdict; ``kaiming_std`` is checked exactly against
``calculate_gain(...) / sqrt(fan)``. Clipping is compared with
``torch.nn.utils.clip_grad_norm_`` on copies of the same gradients, and
the gradient norms with ``torch.autograd.grad``. Task 2 calls the
student's ``fan_in_and_fan_out`` from Task 1, so a wrong fan function
fails Task 2 as well (its test cells say so first).
"""

from tests.assignments._templates import fill

ASSIGNMENT = "ch11-trainability"
NOTEBOOK = "trainability"
# The written answers, marked by hand (markdown cells, not in SOLUTIONS).
WRITTEN = ("written1",)
SOLUTIONS = ("xavier", "kaiming", "clip_grad_norm", "layer_grad_norms")
TESTS1 = ("test_xavier_visible", "test_xavier_hidden")
TESTS2 = ("test_kaiming_visible", "test_kaiming_hidden")
TESTS3 = ("test_clip_visible", "test_clip_hidden")
TESTS4 = ("test_layer_norms_visible", "test_layer_norms_hidden")
TESTS = dict(zip(SOLUTIONS, (TESTS1, TESTS2, TESTS3, TESTS4)))
HIDDEN1, HIDDEN2 = {TESTS1[1]}, {TESTS2[1]}
HIDDEN3, HIDDEN4 = {TESTS3[1]}, {TESTS4[1]}
HIDDEN = HIDDEN1 | HIDDEN2 | HIDDEN3 | HIDDEN4
VISIBLE1 = {TESTS1[0]}
ALL1, ALL2, ALL3, ALL4 = set(TESTS1), set(TESTS2), set(TESTS3), set(TESTS4)
FORBIDDEN = {
    "torch.nn.init.xavier_uniform_", "torch.nn.init.xavier_normal_",
    "torch.nn.init.kaiming_uniform_", "torch.nn.init.kaiming_normal_",
    "torch.nn.init.calculate_gain", "torch.nn.init.uniform_",
    "torch.nn.init.normal_", "torch.nn.init.trunc_normal_",
    "torch.nn.init._calculate_fan_in_and_fan_out",
    "torch.nn.init._calculate_correct_fan",
    "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm",
    "torch.nn.utils.clip_grad_value_", "torch.nn.utils.get_total_norm",
    "torch.nn.utils.clip_grads_with_norm_",
}


# --- Task 1: fans and Xavier --------------------------------------------

XAVIER = '''
def fan_in_and_fan_out(w):
    if w.dim() < 2:
        raise ValueError(f"the fans need 2 dimensions, got {w.dim()}.")
    receptive = math.prod(w.shape[2:])
    return FANS


def xavier_uniform_(w, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(w)
    b = BOUND
    with torch.no_grad():
        return UNIFORM


def xavier_normal_(w, gain=1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(w)
    std = STD
    with torch.no_grad():
        return NORMAL
'''
XAVIER_GOOD = {
    "FANS": "w.shape[1] * receptive, w.shape[0] * receptive",
    "BOUND": "gain * math.sqrt(6.0 / (fan_in + fan_out))",
    "STD": "gain * math.sqrt(2.0 / (fan_in + fan_out))",
    "UNIFORM": "w.uniform_(-b, b, generator=generator)",
    "NORMAL": "w.normal_(0.0, std, generator=generator)",
}


def xavier(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(XAVIER, XAVIER_GOOD, replace, **pieces)


XAVIER_MUTANTS = {
    # The uniform bound √(6/(d_in+d_out)) used as the normal's σ: 3× the
    # variance; and the other way round: a third of it.
    "xav-normal-std-is-uniform-bound": (xavier(
        STD="gain * math.sqrt(6.0 / (fan_in + fan_out))"), ALL1, False),
    "xav-uniform-bound-is-std": (xavier(
        BOUND="gain * math.sqrt(2.0 / (fan_in + fan_out))"), ALL1, False),
    "xav-gain-ignored": (xavier(
        BOUND="math.sqrt(6.0 / (fan_in + fan_out))",
        STD="math.sqrt(2.0 / (fan_in + fan_out))"), ALL1, False),
    # The gain multiplies the variance instead of the standard deviation.
    "xav-gain-on-variance": (xavier(
        BOUND="math.sqrt(gain * 6.0 / (fan_in + fan_out))",
        STD="math.sqrt(gain * 2.0 / (fan_in + fan_out))"), ALL1, False),
    # LeCun's 1/d_in: right only for square weights.
    "xav-fan-in-only": (xavier(
        BOUND="gain * math.sqrt(3.0 / fan_in)",
        STD="gain * math.sqrt(1.0 / fan_in)"), ALL1, False),
    "xav-no-factor-2": (xavier(
        BOUND="gain * math.sqrt(3.0 / (fan_in + fan_out))",
        STD="gain * math.sqrt(1.0 / (fan_in + fan_out))"), ALL1, False),
    "xav-uniform-from-zero": (xavier(
        UNIFORM="w.uniform_(0.0, b, generator=generator)"), ALL1, False),
    # The right variance, the wrong distribution.
    "xav-normal-draws-uniform": (xavier(
        NORMAL="w.uniform_(-math.sqrt(3.0) * std, math.sqrt(3.0) * std, "
               "generator=generator)"), ALL1, False),
    # Xavier is symmetric in the fans, so only the fans' own checks (and
    # Task 2, which uses them) see the swap.
    "xav-fans-swapped": (xavier(
        FANS="w.shape[0] * receptive, w.shape[1] * receptive"),
        ALL1 | ALL2, False),
    # Right for nn.Linear weights; Task 2's hidden convolutions fail too.
    "xav-fans-ignore-kernel": (xavier(FANS="w.shape[1], w.shape[0]"),
                               ALL1 | HIDDEN2, False),
    "xav-not-in-place": (xavier(
        UNIFORM="torch.empty_like(w).uniform_(-b, b, generator=generator)",
        NORMAL="torch.empty_like(w).normal_(0.0, std, generator=generator)"),
        ALL1, False),
    # Fine on plain tensors; a layer's weight requires a gradient.
    "xav-no-no-grad": (xavier({"    with torch.no_grad():\n": ""}).replace(
        "        return w.", "    return w."), HIDDEN1, False),
    "xav-ignores-generator": (xavier(
        UNIFORM="w.uniform_(-b, b)", NORMAL="w.normal_(0.0, std)"),
        VISIBLE1, False),
    # A fixed seed when no generator is given: the same weights every call.
    "xav-fixed-seed-without-generator": (xavier({
        "    fan_in, fan_out = fan_in_and_fan_out(w)\n":
        "    fan_in, fan_out = fan_in_and_fan_out(w)\n"
        "    if generator is None:\n"
        "        generator = torch.Generator().manual_seed(0)\n"}),
        HIDDEN1, False),
    # A 1-D tensor gets an IndexError instead of a ValueError.
    "xav-no-dimension-check": (xavier({
        "    if w.dim() < 2:\n        raise ValueError("
        "f\"the fans need 2 dimensions, got {w.dim()}.\")\n": ""}),
        HIDDEN1, False),
    "xav-rand-and-copy-correct": (xavier(
        UNIFORM="w.copy_((2 * torch.rand(w.shape, generator=generator, "
                "dtype=w.dtype) - 1) * b)",
        NORMAL="w.copy_(torch.randn(w.shape, generator=generator, "
               "dtype=w.dtype) * std)"), set(), False),
    "xav-fans-loop-correct": (xavier(
        FANS="fan_in_out(w.shape)", replace={
            "def fan_in_and_fan_out(w):":
            "def fan_in_out(shape):\n"
            "    n_in, n_out = shape[1], shape[0]\n"
            "    for k in shape[2:]:\n"
            "        n_in, n_out = n_in * k, n_out * k\n"
            "    return n_in, n_out\n\n\n"
            "def fan_in_and_fan_out(w):"}), set(), False),
}
XAVIER_DELEGATES = {
    "xav-calls-torch-xavier": (xavier(
        UNIFORM="torch.nn.init.xavier_uniform_(w, gain, generator)",
        NORMAL="torch.nn.init.xavier_normal_(w, gain, generator)"),
        ALL1, True),
    "xav-calls-init-uniform-and-normal": (xavier(
        UNIFORM="torch.nn.init.uniform_(w, -b, b, generator=generator)",
        NORMAL="torch.nn.init.normal_(w, 0.0, std, generator=generator)"),
        ALL1, True),
    # The fans from PyTorch's helper: Task 2 uses them, and fails too.
    "xav-fans-from-torch": (xavier({
        "    if w.dim() < 2:\n        raise ValueError("
        "f\"the fans need 2 dimensions, got {w.dim()}.\")\n"
        "    receptive = math.prod(w.shape[2:])\n": ""},
        FANS="torch.nn.init._calculate_fan_in_and_fan_out(w)"),
        ALL1 | ALL2, True),
}

# --- Task 2: He (Kaiming) -----------------------------------------------

KAIMING = '''
def kaiming_std(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    if nonlinearity == "relu":
        gain = RELU_GAIN
    elif nonlinearity == "leaky_relu":
        gain = LEAKY_GAIN
    else:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    fan_in, fan_out = fan_in_and_fan_out(w)
    fan = FAN
    return STD


def kaiming_uniform_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
    b = BOUND
    with torch.no_grad():
        return UNIFORM


def kaiming_normal_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    std = kaiming_std(w, a, mode, nonlinearity)
    with torch.no_grad():
        return NORMAL
'''
KAIMING_GOOD = {
    "RELU_GAIN": "math.sqrt(2.0)",
    "LEAKY_GAIN": "math.sqrt(2.0 / (1 + a**2))",
    "FAN": "fan_in if mode == 'fan_in' else fan_out",
    "STD": "gain / math.sqrt(fan)",
    "BOUND": "math.sqrt(3.0) * kaiming_std(w, a, mode, nonlinearity)",
    "UNIFORM": "w.uniform_(-b, b, generator=generator)",
    "NORMAL": "w.normal_(0.0, std, generator=generator)",
}


def kaiming(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(KAIMING, KAIMING_GOOD, replace, **pieces)


MODE_CHECK = ('    if mode not in ("fan_in", "fan_out"):\n        raise '
              'ValueError(f"mode must be \'fan_in\' or \'fan_out\', not '
              '{mode!r}")\n')
KAIMING_MUTANTS = {
    # Xavier's gain 1 with the fan-in: LeCun's variance, half of He's.
    "kai-no-factor-2": (kaiming(
        RELU_GAIN="1.0", LEAKY_GAIN="math.sqrt(1.0 / (1 + a**2))"),
        ALL2, False),
    "kai-mode-ignored": (kaiming(FAN="fan_in"), ALL2, False),
    "kai-fans-swapped": (kaiming(
        FAN="fan_out if mode == 'fan_in' else fan_in"), ALL2, False),
    "kai-slope-ignored": (kaiming(LEAKY_GAIN="math.sqrt(2.0)"), ALL2, False),
    "kai-slope-not-squared": (kaiming(
        LEAKY_GAIN="math.sqrt(2.0 / (1 + a))"), ALL2, False),
    # calculate_gain("relu", a) ignores a; this answer does not.
    "kai-relu-uses-slope": (kaiming(
        RELU_GAIN="math.sqrt(2.0 / (1 + a**2))"), HIDDEN2, False),
    "kai-std-is-variance": (kaiming(STD="gain**2 / fan"), ALL2, False),
    "kai-xavier-fans": (kaiming(
        STD="gain / math.sqrt((fan_in + fan_out) / 2)"), ALL2, False),
    # The normal's σ used as the uniform bound, and the other way round.
    "kai-uniform-bound-is-std": (kaiming(
        BOUND="kaiming_std(w, a, mode, nonlinearity)"), ALL2, False),
    "kai-normal-std-is-bound": (kaiming(
        NORMAL="w.normal_(0.0, math.sqrt(3.0) * std, generator=generator)"),
        ALL2, False),
    # An unknown mode falls back to fan_in instead of raising.
    "kai-no-mode-check": (kaiming({MODE_CHECK: ""}), HIDDEN2, False),
    "kai-no-nonlinearity-check": (kaiming({
        "raise ValueError(f\"unsupported nonlinearity {nonlinearity!r}\")":
        "gain = 1.0"}), HIDDEN2, False),
    "kai-no-no-grad": (kaiming({"    with torch.no_grad():\n": ""}).replace(
        "        return w.", "    return w."), HIDDEN2, False),
    # Its own fan from w.shape[1]: right for nn.Linear, not for a
    # convolution.
    "kai-fan-ignores-kernel": (kaiming(
        FAN="w.shape[1] if mode == 'fan_in' else w.shape[0]"),
        HIDDEN2, False),
    "kai-math-correct": ('''
def kaiming_std(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    if mode != "fan_in" and mode != "fan_out":
        raise ValueError("bad mode: " + str(mode))
    if nonlinearity not in ("relu", "leaky_relu"):
        raise ValueError("bad nonlinearity: " + nonlinearity)
    slope = 0.0 if nonlinearity == "relu" else a
    n = fan_in_and_fan_out(w)[0 if mode == "fan_in" else 1]
    return (2.0 / ((1.0 + slope * slope) * n)) ** 0.5


def kaiming_uniform_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
    bound = (3.0 ** 0.5) * kaiming_std(w, a, mode, nonlinearity)
    with torch.no_grad():
        w.uniform_(-bound, bound, generator=generator)
    return w


def kaiming_normal_(w, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    std = kaiming_std(w, a, mode, nonlinearity)
    with torch.no_grad():
        noise = torch.randn(w.shape, generator=generator, dtype=w.dtype)
        w.copy_(noise * std)
    return w
''', set(), False),
}
KAIMING_DELEGATES = {
    "kai-calls-calculate-gain": (kaiming(
        RELU_GAIN="torch.nn.init.calculate_gain('relu')",
        LEAKY_GAIN="torch.nn.init.calculate_gain('leaky_relu', a)"),
        ALL2, True),
    "kai-calls-torch-kaiming": (kaiming(
        UNIFORM="torch.nn.init.kaiming_uniform_(w, a, mode, nonlinearity, "
                "generator)",
        NORMAL="torch.nn.init.kaiming_normal_(w, a, mode, nonlinearity, "
               "generator)"), ALL2, True),
}

# --- Task 3: clip_grad_norm_ --------------------------------------------

CLIP = '''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = NORMS
    total = TOTAL
    if error_if_nonfinite and not bool(torch.isfinite(total)):
        raise RuntimeError(f"the global norm is {total.item()}")
    factor = FACTOR
    with torch.no_grad():
        for g in grads:
            SCALE
    return RETURN
'''
CLIP_GOOD = {
    "NORMS": "torch.stack([torch.linalg.vector_norm(g, norm_type) "
             "for g in grads])",
    "TOTAL": "torch.linalg.vector_norm(norms, norm_type)",
    "FACTOR": "torch.clamp(max_norm / (total + 1e-6), max=1.0)",
    "SCALE": "g.mul_(factor)",
    "RETURN": "total",
}


def clip(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(CLIP, CLIP_GOOD, replace, **pieces)


RAISE = ('    if error_if_nonfinite and not bool(torch.isfinite(total)):\n'
         '        raise RuntimeError(f"the global norm is {total.item()}")\n')
CLIP_MUTANTS = {
    # Keras's clipnorm: each tensor by its own norm.
    "clip-each-tensor-separately": (clip(
        SCALE="g.mul_(torch.clamp(max_norm / (torch.linalg.vector_norm("
              "g, norm_type) + 1e-6), max=1.0))"), ALL3, False),
    "clip-returns-norm-after": (clip(
        RETURN="torch.linalg.vector_norm(torch.stack([torch.linalg."
               "vector_norm(g, norm_type) for g in grads]), norm_type)"),
        ALL3, False),
    # No min(1, ·): small gradients are scaled up to max_norm.
    "clip-scales-up": (clip(FACTOR="max_norm / (total + 1e-6)"), ALL3,
                       False),
    "clip-ignores-norm-type": (clip(
        NORMS="torch.stack([g.norm() for g in grads])",
        TOTAL="norms.norm()"), ALL3, False),
    "clip-sum-of-norms": (clip(TOTAL="norms.sum()"), ALL3, False),
    "clip-by-value": (clip(SCALE="g.clamp_(-max_norm, max_norm)"), ALL3,
                      False),
    # `g = g * factor` makes a scaled copy and leaves .grad as it was. (An
    # answer that sets p.grad = ... is refused by the grader's screen.)
    "clip-scales-a-copy": (clip(SCALE="g = g * factor"), ALL3, False),
    # The chapter's clip_by_global_norm: new tensors, .grad untouched.
    "clip-returns-clipped-copies": (clip(
        SCALE="pass",
        RETURN="[g * factor for g in grads], total"), ALL3, False),
    # Only float64 sees the missing 1e-6.
    "clip-no-epsilon": (clip(FACTOR="torch.clamp(max_norm / total, max=1.0)"),
                        HIDDEN3, False),
    # torch.tensor([...]) makes float32 norms for float64 gradients.
    "clip-norms-in-float32": (clip(
        NORMS="torch.tensor([float(torch.linalg.vector_norm(g, norm_type)) "
              "for g in grads])"), HIDDEN3, False),
    # Scales only when the norm is above max_norm: a nan norm scales
    # nothing, where PyTorch makes every gradient nan.
    "clip-only-above-threshold": (clip({
        "    factor = FACTOR\n    with torch.no_grad():\n"
        "        for g in grads:\n            SCALE\n":
        "    if total > max_norm:\n"
        "        with torch.no_grad():\n"
        "            for g in grads:\n"
        "                g.mul_(max_norm / (total + 1e-6))\n"}),
        HIDDEN3, False),
    "clip-skips-nonfinite": (clip({
        RAISE: RAISE + "    if not bool(torch.isfinite(total)):\n"
                       "        return total\n"}), HIDDEN3, False),
    "clip-ignores-error-flag": (clip({RAISE: ""}), HIDDEN3, False),
    "clip-raises-without-flag": (clip({
        "if error_if_nonfinite and not": "if not"}), HIDDEN3, False),
    "clip-raises-after-scaling": (clip({
        RAISE: "", "    return RETURN\n": RAISE + "    return RETURN\n"}),
        HIDDEN3, False),
    "clip-raises-value-error": (clip({
        "raise RuntimeError": "raise ValueError"}), HIDDEN3, False),
    # Goes through `parameters` twice: a generator is empty the second
    # time, so nothing is clipped (and no gradient at all crashes).
    "clip-two-passes": ('''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    total = torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(p.grad, norm_type) for p in parameters
         if p.grad is not None]), norm_type)
    if error_if_nonfinite and not bool(torch.isfinite(total)):
        raise RuntimeError("the global norm is not finite")
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(factor)
    return total
''', ALL3, False),
    # A lone tensor is iterated over: its rows have no .grad.
    "clip-no-single-tensor": (clip({
        "    if isinstance(parameters, torch.Tensor):\n"
        "        parameters = [parameters]\n": ""}), HIDDEN3, False),
    "clip-no-skip-of-missing-grads": (clip({
        "[p.grad for p in parameters if p.grad is not None]":
        "[p.grad for p in parameters]"}), HIDDEN3, False),
    "clip-crashes-without-grads": (clip({
        "    if not grads:\n        return torch.tensor(0.0)\n": ""}),
        HIDDEN3, False),
    "clip-flattened-correct": (clip(
        NORMS="torch.cat([g.reshape(-1) for g in grads])"), set(), False),
    "clip-loop-correct": ('''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if p.grad is not None:
            grads.append(p.grad)
    if len(grads) == 0:
        return torch.tensor(0.0)
    if norm_type == math.inf:
        total = torch.stack([g.abs().max() if g.numel() else g.new_zeros(())
                             for g in grads]).max()
    else:
        total = sum(g.abs().pow(norm_type).sum() for g in grads)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and (total.isnan() or total.isinf()):
        raise RuntimeError("cannot clip a non-finite norm")
    coef = max_norm / (total + 1e-6)
    if coef > 1.0:
        coef = torch.ones_like(coef)
    with torch.no_grad():
        for g in grads:
            g.mul_(coef)
    return total
''', set(), False),
}
CLIP_DELEGATES = {
    "clip-calls-torch": ('''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type,
                                          error_if_nonfinite)
''', ALL3, True),
    "clip-calls-deprecated-clip-grad-norm": ('''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    return torch.nn.utils.clip_grad_norm(parameters, max_norm, norm_type,
                                         error_if_nonfinite)
''', ALL3, True),
    "clip-uses-get-total-norm": (clip(
        NORMS="None",
        TOTAL="torch.nn.utils.get_total_norm(grads, norm_type)"), ALL3, True),
    "clip-uses-clip-grads-with-norm": ('''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(p.grad, norm_type) for p in params]),
        norm_type)
    if error_if_nonfinite and not bool(torch.isfinite(total)):
        raise RuntimeError("the global norm is not finite")
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
    return total
''', ALL3, True),
}

# --- Task 4: layer_grad_norms -------------------------------------------

LAYERS = '''
def layer_grad_norms(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return [NORM for m in HIDDEN_LAYERS]
'''
LAYERS_GOOD = {"NORM": "m.weight.grad.norm().item()",
               "HIDDEN_LAYERS": "linears[:-1]"}


def layers(replace: dict[str, str] | None = None, **pieces: str) -> str:
    return fill(LAYERS, LAYERS_GOOD, replace, **pieces)


LAYER_MUTANTS = {
    "lgn-weights-not-gradients": (layers(NORM="m.weight.norm().item()"),
                                  ALL4, False),
    "lgn-with-output-layer": (layers(HIDDEN_LAYERS="linears"), ALL4, False),
    # Layers 2, ..., D + 1 instead of 1, ..., D.
    "lgn-off-by-one": (layers(HIDDEN_LAYERS="linears[1:]"), ALL4, False),
    # Backpropagation's order: layer D first.
    "lgn-output-side-first": (layers(
        HIDDEN_LAYERS="reversed(linears[:-1])"), ALL4, False),
    # The second call adds the new gradients to the old ones.
    "lgn-no-zero-grad": (layers({"    model.zero_grad()\n": ""}), ALL4,
                         False),
    "lgn-sum-of-losses": (layers({
        "F.cross_entropy(model(x), y)":
        "F.cross_entropy(model(x), y, reduction='sum')"}), ALL4, False),
    "lgn-squared-norm": (layers(NORM="m.weight.grad.norm().item() ** 2"),
                         ALL4, False),
    "lgn-bias-gradient": (layers(NORM="m.bias.grad.norm().item()"), ALL4,
                          False),
    "lgn-weight-and-bias": (layers(
        NORM="math.sqrt(m.weight.grad.norm().item() ** 2 "
             "+ m.bias.grad.norm().item() ** 2)"), ALL4, False),
    "lgn-largest-entry": (layers(NORM="m.weight.grad.abs().max().item()"),
                          ALL4, False),
    # Every parameter, biases included: 2D numbers.
    "lgn-all-parameters": ('''
def layer_grad_norms(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return [p.grad.norm().item() for p in model.parameters()][:-2]
''', ALL4, False),
    # Assumes Linear, activation, Linear, ...: right for the depth
    # experiment's networks, wrong for other layouts.
    "lgn-every-other-module": ('''
def layer_grad_norms(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    depth = (len(model) - 1) // 2
    return [model[2 * l].weight.grad.norm().item() for l in range(depth)]
''', HIDDEN4, False),
    "lgn-forward-without-grad": (layers({
        "    F.cross_entropy(model(x), y).backward()\n":
        "    with torch.no_grad():\n"
        "        loss = F.cross_entropy(model(x), y)\n"
        "    loss.backward()\n"}), ALL4, False),
    "lgn-autograd-grad-correct": ('''
def layer_grad_norms(model, x, y):
    hidden = [m for m in model if isinstance(m, nn.Linear)][:-1]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, [m.weight for m in hidden])
    return [torch.linalg.vector_norm(g).item() for g in grads]
''', set(), False),
}

# name -> (answer source, the test cells it must fail, delegates?)
MUTANTS = {**XAVIER_MUTANTS, **XAVIER_DELEGATES, **KAIMING_MUTANTS,
           **KAIMING_DELEGATES, **CLIP_MUTANTS, **CLIP_DELEGATES,
           **LAYER_MUTANTS}

# Answers as a student would type them into the solution cells.
INFINITE_LOOP = '''
def layer_grad_norms(model, x, y):
    while True:
        pass
'''
STUDENTS = {
    "reference": ({}, set()),
    "untouched": (None, ALL1 | ALL2 | ALL3 | ALL4),
    "wrong": ({"clip_grad_norm":
               MUTANTS["clip-each-tensor-separately"][0]}, ALL3),
    "infinite-loop": ({"layer_grad_norms": INFINITE_LOOP}, ALL4),
    "delegates": ({"clip_grad_norm": MUTANTS["clip-calls-torch"][0]}, ALL3),
    "delegates-init": ({"xavier": MUTANTS["xav-calls-torch-xavier"][0]},
                       ALL1),
    # Wrong Task 2 with its tests replaced by `pass`: the original tests
    # are put back, so Task 2 still scores 0.
    "edits-tests": ({"kaiming": MUTANTS["kai-no-factor-2"][0],
                     "test_kaiming_visible": "pass",
                     "test_kaiming_hidden": "pass"}, ALL2),
    # Task 1's wrong fans fail Task 2 as well.
    "wrong-fans": ({"xavier": MUTANTS["xav-fans-swapped"][0]}, ALL1 | ALL2),
    # Pass every visible test, fail the hidden ones: no torch.no_grad()
    # around the fill, the slope a used with nonlinearity="relu",
    # error_if_nonfinite ignored, and modules assumed to alternate.
    "hidden-bugs": ({"xavier": MUTANTS["xav-no-no-grad"][0],
                     "kaiming": MUTANTS["kai-relu-uses-slope"][0],
                     "clip_grad_norm": MUTANTS["clip-ignores-error-flag"][0],
                     "layer_grad_norms":
                     MUTANTS["lgn-every-other-module"][0]}, HIDDEN),
}

# mutant -> the mistake its feedback names (reglab.testing.diagnosis)
DIAGNOSES = {
    "xav-fans-swapped": "your fan_in_and_fan_out returns (fan_out, fan_in)",
    "xav-fans-ignore-kernel": "your fans ignore the kernel of a convolution",
    "xav-normal-std-is-uniform-bound": "your xavier_normal_ uses the "
                                       "uniform's bound",
    "xav-uniform-bound-is-std": "your xavier_uniform_ draws from U(−σ, σ)",
    "xav-fan-in-only": "you use the fan-in only",
    "xav-gain-on-variance": "you multiply the variance by gain",
    "kai-no-factor-2": "your gain is 1, Xavier's",
    "kai-fans-swapped": "you divide by the fan-out for mode='fan_in'",
    "kai-mode-ignored": "mode='fan_out' gives you the σ of the fan-in too",
    "kai-slope-not-squared": "your gain is √(2/(1 + a))",
    "kai-std-is-variance": "your kaiming_std returns the variance",
    "clip-each-tensor-separately": "you clip each gradient tensor by its "
                                   "own norm",
    "clip-scales-up": "you also scale gradients shorter than max_norm",
    "clip-by-value": "you clamp each component to [−max_norm, max_norm]",
    "clip-two-passes": "you go through parameters twice",
    "clip-scales-a-copy": "your clip_grad_norm_ leaves the .grad tensors as "
                          "they were",
    "clip-returns-clipped-copies": "your clip_grad_norm_ leaves the .grad "
                                   "tensors as they were",
    "clip-returns-norm-after": "you return the norm after clipping",
    "lgn-weights-not-gradients": "you return the norms of the weights",
    "lgn-with-output-layer": "you include the output layer",
    "lgn-off-by-one": "your norms are those of layers 2 to D + 1",
    "lgn-sum-of-losses": "your norms are B times too large",
    "lgn-no-zero-grad": "at the second call your norms are twice too large",
}

FEEDBACK_CODE = "returned = clip_grad_norm_(net.parameters(), c, norm_type)"
FEEDBACK_MESSAGES = {
    "wrong": ["Likely mistake: you clip each gradient tensor by its own "
              "norm"],
    "hidden-bugs": [
        "fill a parameter inside torch.no_grad(), as torch.nn.init does",
        "with nonlinearity='relu' the gain is √2, whatever a is",
        "should raise a RuntimeError, as torch.nn.utils.clip_grad_norm_ "
        "does",
        "layer_grad_norms of a network with nn.Flatten and no biases in "
        "torch.float32 raised AttributeError",
    ],
    "wrong-fans": [
        "Task 2 uses your fan_in_and_fan_out from Task 1, which returns "
        "(300, 700) for a weight of shape (300, 700) instead of (700, 300): "
        "fix Task 1 first.",
    ],
}
