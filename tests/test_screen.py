"""The grader's static screen (tools/grading/screen.py): every honest
answer of tests/assignments/ passes it, and the ways to reach the tests'
tools from an answer are refused with a sentence naming the line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.assignments import SPECS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from grading import screen  # noqa: E402

import exercises  # noqa: E402


def rules(spec):
    nb = exercises.to_notebook(
        REPO / "solutions" / spec.ASSIGNMENT / f"{spec.NOTEBOOK}.md")
    answers = [c for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution")]
    locked = [c.source for c in nb.cells if c.cell_type == "code"
              and c not in answers]
    names = set().union(*(screen.defined_names(c.source) for c in answers))
    return (answers, screen.protected_names(locked, names),
            screen.import_bindings(locked))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.ASSIGNMENT)
def test_reference_and_honest_mutants_pass(spec):
    answers, protected, imports = rules(spec)
    for cell in answers:
        assert screen.screen(cell.source, protected, imports) is None, \
            cell.id
    for name, (source, _, *delegates) in spec.MUTANTS.items():
        if delegates and delegates[0]:
            continue  # a delegating answer may be refused: it scores 0
        refusal = screen.screen(source, protected, imports)
        assert refusal is None, (name, refusal)


ALLOWED = [
    "import torch\nimport torch.nn.functional as F\nimport numpy as np",
    "from torch import nn\nclass M(nn.Module):\n    def __init__(self, p):\n"
    "        super().__init__()\n        self.p = p\n        self._n = 0\n"
    "    def forward(self, x):\n        self._n += 1\n        return x",
    "def f(state, g):\n    state['buf'] = g\n    return state",
    "import copy\ndef snap(m):\n    return copy.deepcopy(m.state_dict())",
    "x = [i * i for i in range(3)]\nprint(x)",
    "class E:\n    best = property(lambda self: self._best)",
    "def f(x):\n    sum = 0\n    for v in x:\n        sum += v\n"
    "    return sum",
    "def f(x):\n    return type(x).__name__",
    "y = 1 +",  # a syntax error is left for Python to report
]


@pytest.mark.parametrize("source", ALLOWED)
def test_legitimate_code_passes(source):
    assert screen.screen(source) is None


REFUSED = [
    ("import os", "imports 'os'"),
    ("import sys as s", "imports 'sys'"),
    ("from importlib import import_module", "imports 'importlib'"),
    ("import torch.overrides", "a part of torch"),
    ("from torch import _C", "imports '_C'"),
    ("import reglab.testing\nreglab.testing.forbid = None",
     "imports 'reglab.testing'"),
    ("import reglab\nreglab.dropout = None",
     "changes the attribute 'reglab.dropout'"),
    ("import torch\ntorch.Tensor.abs = lambda self: self",
     "changes the attribute 'torch.Tensor.abs'"),
    ("import torch\nt = torch\ndef f():\n    t.exp = 1",
     "changes the attribute 't.exp'"),
    ("def f(m):\n    m.allclose = 1", "changes the attribute 'm.allclose'"),
    # rebinding a gradient is refused too, with the in-place alternative
    ("def f(ps, s):\n    for p in ps:\n        p.grad = p.grad * s",
     "assigns 'p.grad'; change a tensor in place instead (e.g. "
     "p.grad.mul_(scale)"),
    ("import torch\ntorch.Tensor.data = None", "assigns 'torch.Tensor.data'"),
    ("class A:\n    @classmethod\n    def f(cls):\n        cls.x = 1",
     "changes the attribute 'cls.x'"),
    ("import numpy as np\ndel np.testing", "np.testing"),
    ("import torch\ntorch.__dict__['exp'] = 1", "torch.__dict__"),
    ("abs = lambda x: 0", "defines the name 'abs'"),
    ("def isinstance(*a):\n    return True", "defines the name 'isinstance'"),
    ("import math as len", "defines the name 'len'"),
    ("for print in range(3):\n    pass", "defines the name 'print'"),
    ("def f():\n    global abs\n    abs = 0", "defines the name 'abs'"),
    ("getattr(1, 'real')", "uses 'getattr'"),
    ("eval('1')", "uses 'eval'"),
    ("exec('x = 1')", "uses 'exec'"),
    ("open('/etc/passwd')", "uses 'open'"),
    ("get_ipython().set_custom_exc((Exception,), None)",
     "uses 'get_ipython'"),
    ("vars()['x'] = 1", "vars()"),
    ("__builtins__['abs'] = None", "'__builtins__'"),
    ("x = (1).__class__", "uses the attribute '(1).__class__'"
     .replace("(1)", "?")),
    ("def g():\n    yield\nf = g().gi_frame", "gi_frame"),
    ("import torch\nx = torch.sys", "torch.sys"),
    ("import torch\nx = torch.ops.aten", "torch.ops"),
    ("import torch\ntorch.library.impl", "torch.library"),
    ("import numpy as np\nnp.load('x', allow_pickle=True)", "np.load"),
    ("import torch\nclass T(torch.Tensor):\n    pass",
     "based on 'torch.Tensor'"),
    ("class M(type):\n    pass", "based on 'type'"),
    ("class A(metaclass=type):\n    pass", "keywords"),
    ("class A:\n    def __eq__(self, o):\n        return True",
     "special method '__eq__'"),
    ("class A:\n    def __torch_function__(self, *a):\n        pass",
     "special method '__torch_function__'"),
    ("X = type('X', (), {})", "type() with more than one argument"),
    ("%load solution.py", "IPython magic"),
    ("!cat /etc/passwd", "IPython magic"),
    ("x = 1\n!ls", "IPython magic"),
    ("import torch\ntorch.nn.modules.module.register_module_forward_hook",
     "register_module_forward_hook"),
]


@pytest.mark.parametrize("source, reason", REFUSED,
                         ids=[r[0].splitlines()[-1][:40] for r in REFUSED])
def test_escapes_are_refused(source, reason):
    refusal = screen.screen(source)
    assert refusal is not None, source
    assert reason in refusal.reason, refusal.reason
    sentence = refusal.sentence("dropout")
    assert sentence.startswith("Your answer in cell 'dropout' was not run: "
                               f"line {refusal.line} ")


def test_protected_names_are_those_the_tests_take_from_elsewhere():
    tests = ["def check(x):\n    return helper(x) and dropout(x)",
             "import math\nassert math.isclose(check(1), 1)"]
    protected = screen.protected_names(tests, {"dropout"})
    assert protected == {"helper", "check"}
    assert screen.screen("helper = None", protected) is not None
    assert screen.screen("def dropout(x):\n    return x", protected) is None
    # a test cell's own imports may be repeated by an answer
    imports = screen.import_bindings(["import torch\nfrom torch import nn"])
    assert screen.screen("import torch\nfrom torch import nn",
                         frozenset({"torch", "nn"}), imports) is None
    assert screen.screen("import numpy as torch",
                         frozenset({"torch"}), imports) is not None
