"""Bad input gets a clear error: one table of (callable, arguments,
exception type, message regex) for the whole package. Each message names
the argument, the value received and what is allowed.

The rows for the core (device, penalties, SGD, train, data helpers) are
below; the rows for the other modules live next to their tests, as
``BAD_INPUT`` in each test file, and are collected into the same table."""

import inspect

import pytest
import torch
from torch import nn

import reglab
from tests import (
    test_data,
    test_early_stopping,
    test_layers_batchnorm,
    test_layers_dropout,
    test_losses,
    test_model_selection,
    test_optim_adam,
    test_optim_rmsprop,
    test_plot,
    test_schedules,
)

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
    (reglab.plot_learning_curves, ([1.0, 2.0],), {}, TypeError,
     r"'histories'.*a dict \{label: History\}.*Got \[1.0, 2.0\]"),
]


TABLE = CASES + [
    row for module in (test_data, test_early_stopping, test_layers_batchnorm,
                       test_layers_dropout, test_losses, test_model_selection,
                       test_optim_adam, test_optim_rmsprop, test_plot,
                       test_schedules)
    for row in module.BAD_INPUT]


def _name(func):
    owner = getattr(func, "__self__", None)
    if owner is not None and not inspect.isclass(owner):
        return f"{type(owner).__name__}.{func.__name__}"
    return getattr(func, "__qualname__", func.__name__)


@pytest.mark.parametrize(
    "func, args, kwargs, exc, pattern", TABLE,
    ids=[f"{_name(c[0])}-{i}" for i, c in enumerate(TABLE)])
def test_bad_input_is_a_clear_error(func, args, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        func(*args, **kwargs)


def test_table_covers_every_public_callable():
    """Every public function and class of reglab has at least one row."""
    covered = set()
    for func, *_ in TABLE:
        covered.add(func)
        owner = getattr(func, "__self__", None)
        if owner is not None:
            covered.add(owner if inspect.isclass(owner) else type(owner))
        qual = getattr(func, "__qualname__", "")
        if "." in qual:  # an unbound method, e.g. EarlyStopping.step
            covered.add(getattr(reglab, qual.split(".")[0], None))
    exempt = {reglab.History, reglab.DeviceSetting, reglab.has_gpu,
              reglab.set_style, reglab.GridSearchResult}
    missing = [name for name in reglab.__all__
               if callable(getattr(reglab, name))
               and getattr(reglab, name) not in covered | exempt]
    assert not missing, f"no bad-input row for {missing}"
    assert len(TABLE) >= 40
