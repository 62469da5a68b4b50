"""reglab.testing: the helpers that grade students must fail when they
should, with readable messages, and leave everything as it was."""

import pytest
import torch

import reglab
from reglab.testing import DelegationError, assert_close, forbid


def test_assert_close_passes_and_fails():
    assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
    with pytest.raises(AssertionError, match=r"at index \(1,\).*2\.1"):
        assert_close(torch.tensor([1.0, 2.1]), torch.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match="shape \\(2,\\).*\\(3,\\)"):
        assert_close(torch.zeros(2), torch.zeros(3))
    with pytest.raises(AssertionError, match="should be a tensor.*NoneType"):
        assert_close(None, torch.zeros(3), name="x")
    with pytest.raises(AssertionError, match="nan"):
        assert_close(torch.tensor(float("nan")), 1.0)


def test_assert_close_uses_float64_tolerance():
    a = torch.tensor(1.0, dtype=torch.float64)
    with pytest.raises(AssertionError):
        assert_close(a + 1e-8, a)
    assert_close(a.float() + 1e-7, a.float())


def test_forbid_catches_aliases_and_restores():
    alias = reglab.l2_penalty
    with forbid("reglab.penalties.l2_penalty"):
        with pytest.raises(DelegationError, match="l2_penalty was called"):
            alias([torch.ones(2)])
        with pytest.raises(DelegationError):
            reglab.penalties.l2_penalty([torch.ones(1)])
    torch.testing.assert_close(alias([torch.ones(2)]), torch.tensor(1.0))


def test_forbid_classes_and_restores():
    w = torch.ones(1, requires_grad=True)
    with forbid("torch.optim.SGD", "reglab.optim.SGD"):
        with pytest.raises(DelegationError, match="torch.optim.SGD"):
            torch.optim.SGD([w], lr=0.1)
        with pytest.raises(DelegationError, match="reglab.optim.SGD"):
            reglab.SGD([w], lr=0.1)
    torch.optim.SGD([w], lr=0.1)
    reglab.SGD([w], lr=0.1)


def test_forbid_catches_builtins_under_any_name_and_restores():
    from torch import log_softmax as alias

    x = torch.randn(3, 4)
    expected = torch.log_softmax(x, -1)
    calls = [lambda: torch.log_softmax(x, -1), lambda: alias(x, -1),
             lambda: x.log_softmax(-1),
             lambda: torch.nn.functional.log_softmax(x, -1)]
    for call in calls:
        with forbid("torch.log_softmax", "torch.Tensor.log_softmax"):
            with pytest.raises(DelegationError, match="log_softmax"):
                call()
    for call in calls:  # everything restored, inherited method included
        torch.testing.assert_close(call(), expected)
    assert "log_softmax" not in torch.Tensor.__dict__
    assert torch.Tensor.__init__ is object.__init__


def test_forbid_bound_methods():
    import numpy as np

    with forbid("numpy.random.choice"):
        with pytest.raises(DelegationError, match="numpy.random.choice"):
            np.random.choice(5, 3)
    assert len(np.random.choice(5, 3)) == 3
