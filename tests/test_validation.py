"""Bad input gets a clear error: one table of (callable, arguments,
exception type, message regex). Each message names the argument, the value
received and what is allowed."""

import pytest
import torch
from torch import nn

import reglab

W = [torch.ones(2, requires_grad=True)]

CASES = [
    (reglab.get_device, ("tpu",), {}, ValueError, r"'prefer'.*'tpu'"),
    (reglab.get_device, (3,), {}, TypeError, r"'prefer'.*Got 3"),
    (reglab.set_seed, (-1,), {}, ValueError, r"'seed'.*>= 0.*Got -1"),
    (reglab.set_seed, (1.5,), {}, TypeError, r"'seed'.*an int.*Got 1.5"),
    (reglab.set_seed, (2**40,), {}, ValueError, r"'seed'.*4294967295"),
    (reglab.device_setting, (), {"cpu": {"n": 1}, "gpu": {"m": 2}},
     ValueError, r"same keys"),
    (reglab.device_setting, (), {"cpu": 3, "gpu": {}}, TypeError,
     r"'cpu'.*a dict.*Got 3"),
    (reglab.l2_penalty, (nn.Linear(2, 2),), {}, TypeError,
     r"'params'.*model.parameters\(\).*Linear"),
    (reglab.l2_penalty, ([],), {}, ValueError, r"'params'.*at least one"),
    (reglab.l1_penalty, ([1.0, 2.0],), {}, TypeError,
     r"'params'.*only tensors.*float at position 0"),
    (reglab.l1_penalty, (3,), {}, TypeError, r"'params'.*iterable.*int"),
    (reglab.elastic_net_penalty, (W,), {"l1_ratio": 1.5}, ValueError,
     r"'l1_ratio'.*\[0.0, 1.0\].*Got 1.5"),
    (reglab.elastic_net_penalty, (W,), {"l1_ratio": "a"}, TypeError,
     r"'l1_ratio'.*Got 'a'"),
    (reglab.weights_only, ([],), {}, TypeError, r"'model'.*Module.*list"),
    (reglab.SGD, (W,), {"lr": -0.1}, ValueError, r"'lr'.*>= 0.*-0.1"),
    (reglab.SGD, (W,), {"lr": 0.1, "momentum": -1.0}, ValueError,
     r"'momentum'.*>= 0"),
    (reglab.SGD, (W,), {"lr": 0.1, "weight_decay": -1e-3}, ValueError,
     r"'weight_decay'.*>= 0.*-0.001"),
    (reglab.SGD, (W,), {"lr": 0.1, "nesterov": True}, ValueError,
     r"'nesterov'.*momentum > 0"),
    (reglab.SGD, (W,), {"lr": 0.1, "nesterov": 1}, TypeError,
     r"'nesterov'.*a bool"),
    (reglab.SGD, (W,), {"lr": float("nan")}, ValueError, r"'lr'.*nan"),
    (reglab.SGD, ([{"params": W, "lr": -1.0}],), {"lr": 0.1}, ValueError,
     r"'lr'.*Got -1.0"),
    (reglab.poly_regression, (0,), {}, ValueError, r"'n'.*>= 1.*Got 0"),
    (reglab.poly_regression, (10,), {"noise": -1.0}, ValueError,
     r"'noise'.*>= 0"),
    (reglab.poly_features, (torch.ones(3), 0), {}, ValueError,
     r"'degree'.*>= 1"),
    (reglab.diabetes_tensors, (), {"val_size": 1.0}, ValueError,
     r"'val_size'.*\(0.0, 1.0\)"),
    (reglab.fit, ("model", []), {"loss_fn": len, "optimizer": None,
                                 "epochs": 1}, TypeError, r"'model'.*Module"),
    (reglab.fit, (nn.Linear(1, 1), []),
     {"loss_fn": len, "optimizer": torch.optim.SGD(W, lr=0.1), "epochs": 0},
     ValueError, r"'epochs'.*>= 1.*Got 0"),
    (reglab.evaluate, (nn.Linear(1, 1), []), {}, ValueError,
     r"exactly one of the 'loss_fn' and 'metric'"),
]


@pytest.mark.parametrize(
    "func, args, kwargs, exc, pattern", CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_a_clear_error(func, args, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        func(*args, **kwargs)
