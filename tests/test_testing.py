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


def test_assert_close_treats_infinities_as_torch_does():
    """Equal infinities are close (as in torch.testing.assert_close);
    opposite ones, or an infinity against a finite value, are not."""
    inf = float("inf")
    got = torch.tensor([inf, -inf, 1.0])
    torch.testing.assert_close(got, got.clone())  # the oracle agrees
    assert_close(got, got.clone())
    for other in ([-inf, -inf, 1.0], [1e30, -inf, 1.0]):
        with pytest.raises(AssertionError):
            torch.testing.assert_close(got, torch.tensor(other))
        with pytest.raises(AssertionError, match="index \\(0,\\)"):
            assert_close(got, torch.tensor(other))


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


# --- tests_of: what a failing test cell shows ----------------------------

STUDENT = '''
import torch

def dropout(x, p=0.5, training=True, generator=None):
    return x * (torch.rand(x.shape) < p) / (1 - p)  # p kept, not dropped

def dropout_moments(x, p, draws, generator=None):
    Y = dropout(x.expand(draws, *x.shape), p)
    return Y.mean(0), Y.var(0)

def own_moments(x, p, draws, generator=None):
    return x.clone(), x.nonexistent
'''
TASK1 = '''
from reglab.testing import tests_of
tests_of(1, "dropout")
y = dropout(torch.ones(4000), 0.3)
secret = "a line of a hidden test"
assert abs((y == 0).double().mean() - 0.3) < 0.05, "dropout drops too much."
'''
TASK3 = '''
from reglab.testing import assert_close, tests_of
tests_of(3, "dropout_moments", uses={"dropout": 1})
m, v = dropout_moments(torch.ones(3), 0.2, 1000)
secret = "a line of a hidden test"
assert_close(m, torch.ones(3), name="the mean")
'''


@pytest.fixture
def shell(capsys):
    """An IPython shell running cells in this process; ``run(source)``
    returns (the cell's exception, what it printed)."""
    from IPython.core.interactiveshell import InteractiveShell

    import reglab.testing

    ip = InteractiveShell.instance()
    reglab.testing._FAILED.clear()
    capsys.readouterr()

    def run(source):
        result = ip.run_cell(source)
        return result.error_in_exec, capsys.readouterr().out

    yield run
    reglab.testing._FAILED.clear()


def test_tests_of_shows_the_sentence_alone(shell):
    shell(STUDENT)
    error, out = shell(TASK1)
    assert isinstance(error, AssertionError)  # the cell still fails
    assert out.strip() == "dropout drops too much."


def test_tests_of_passing_cell_is_silent(shell):
    shell(STUDENT)
    error, out = shell(TASK1.replace("0.3) < 0.05", "0.7) < 0.05"))
    assert error is None and out == ""


def test_tests_of_points_at_the_earlier_task(shell):
    shell(STUDENT)
    shell(TASK1)
    error, out = shell(TASK3)
    assert isinstance(error, AssertionError)
    first, second = out.strip().splitlines()
    assert first == ("Task 3 uses your `dropout` from Task 1, which does "
                     "not pass its tests yet: fix Task 1 first.")
    assert second.startswith("the mean differs from the expected values")


def test_tests_of_no_hint_when_the_earlier_task_passes(shell):
    shell(STUDENT)
    error, out = shell(TASK3)  # Task 1's tests have not failed
    assert out.startswith("the mean differs")
    shell(TASK1)
    shell(STUDENT)  # dropout defined again: a new function, not yet tested
    error, out = shell(TASK3)
    assert error is not None and out.startswith("the mean differs")


def test_tests_of_no_hint_when_the_earlier_function_is_not_used(shell):
    shell(STUDENT + "\ndropout_moments = own_moments\n")
    shell(TASK1)
    error, out = shell(TASK3)
    assert isinstance(error, AttributeError)
    lines = out.strip().splitlines()
    assert lines[0] == ("Your `own_moments` raised AttributeError: 'Tensor' "
                        "object has no attribute 'nonexistent'")
    assert lines[1:] == ["In your code (innermost last):",
                         "  `own_moments`, line 11 of its cell: return "
                         "x.clone(), x.nonexistent"]


def test_tests_of_never_shows_test_code(shell):
    shell(STUDENT)
    for cell in (TASK1, TASK3,
                 TASK3.replace("m, v =", "1 / 0\nm, v =")):
        error, out = shell(cell)
        assert error is not None
        assert "secret" not in out and "hidden test" not in out
        assert "Traceback" not in out and "\x1b[" not in out
    assert out.strip().splitlines()[1] == (
        "The test stopped with ZeroDivisionError: division by zero")


def test_tests_of_unanswered_and_delegating(shell):
    shell("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    error, out = shell("from reglab.testing import tests_of\n"
                       "tests_of(1, 'f')\nf(1)")
    assert isinstance(error, NotImplementedError)
    assert out.strip() == (
        "`f` is not answered yet: it still raises NotImplementedError "
        "(write your code where it says # YOUR CODE HERE and delete that "
        "line).")
    shell("import reglab\ndef f(w):\n    return reglab.l2_penalty(w)")
    error, out = shell(
        "from reglab.testing import forbid, tests_of\ntests_of(1, 'f')\n"
        "with forbid('reglab.penalties.l2_penalty'):\n"
        "    f([torch.ones(1)])")
    assert isinstance(error, DelegationError)
    assert out.splitlines()[:3] == [
        "reglab.penalties.l2_penalty was called: write it yourself.",
        "In your code (innermost last):",
        "  `f`, line 3 of its cell: return reglab.l2_penalty(w)"]


def test_other_cells_keep_ipython_tracebacks(shell):
    shell(STUDENT)
    shell(TASK1)  # installs the handler
    error, out = shell("1 / 0")
    assert isinstance(error, ZeroDivisionError)
    assert "Traceback" in out and "ZeroDivisionError" in out


def test_tests_of_undefined_task(shell):
    shell(STUDENT)
    shell(TASK1)
    error, out = shell("from reglab.testing import tests_of\n"
                       "tests_of(2, 'Dropout', uses={'dropout': 1})\n"
                       "Dropout(0.5)")
    assert isinstance(error, NameError)
    assert out.strip() == ("`Dropout` is not defined: write it in Task 2 "
                           "and run its cell.")


# --- diagnoses ---------------------------------------------------------------

def test_diagnoses_names_the_first_symptom_that_holds():
    from reglab.testing import DIAGNOSIS, diagnoses
    calls = []

    def symptom(name, value):
        def check():
            calls.append(name)
            return value
        return check

    with pytest.raises(AssertionError) as caught:
        with diagnoses({"first.": symptom("first", False),
                        "second.": symptom("second", True),
                        "third.": symptom("third", True)}):
            raise AssertionError("the check failed.")
    assert str(caught.value) == f"the check failed. {DIAGNOSIS} second."
    assert calls == ["first", "second"]


def test_diagnoses_leaves_passing_blocks_and_other_errors_alone():
    from reglab.testing import diagnoses
    calls = []
    with diagnoses({"never.": lambda: calls.append(1) or True}):
        pass
    for error in (DelegationError("torch.dropout was called: write it."),
                  ValueError("not an assertion")):
        with pytest.raises(type(error)) as caught:
            with diagnoses({"never.": lambda: calls.append(1) or True}):
                raise error
        assert str(caught.value) == str(error)
    assert calls == []


def test_diagnoses_without_a_symptom_that_holds_keep_the_message():
    from reglab.testing import diagnoses

    def broken():
        raise RuntimeError("a symptom that fails counts as false")

    with pytest.raises(AssertionError) as caught:
        with diagnoses({"raises.": broken, "false.": lambda: 0}):
            raise AssertionError("the check failed.")
    assert str(caught.value) == "the check failed."
    with pytest.raises(AssertionError) as caught:  # without a message
        with diagnoses({"holds.": lambda: True}):
            raise AssertionError
    assert str(caught.value) == "Likely mistake: holds."


def test_diagnoses_restore_every_random_generator():
    import random

    import numpy as np

    from reglab.testing import diagnoses

    def draws():
        return (torch.rand(3), np.random.rand(3), random.random())

    def greedy():  # a symptom that draws from all three, then holds
        draws()
        return True

    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    expected = draws()
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    with pytest.raises(AssertionError):
        with diagnoses({"drew.": greedy}):
            raise AssertionError("failed.")
    got = draws()
    assert torch.equal(got[0], expected[0])
    assert np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_tests_of_shows_the_diagnosis_on_its_own_line(shell):
    shell(STUDENT)
    error, out = shell(
        TASK1.replace("assert abs(", "from reglab.testing import diagnoses\n"
                      "with diagnoses({'you keep with probability p.': "
                      "lambda: abs((y == 0).double().mean() - 0.7) < 0.05})"
                      ":\n    assert abs("))
    assert isinstance(error, AssertionError)
    assert out.strip().splitlines() == [
        "dropout drops too much.",
        "Likely mistake: you keep with probability p."]


def test_tests_of_names_the_mistake_it_was_told(shell):
    from reglab.testing import DIAGNOSIS, diagnosis
    shell(STUDENT)
    mistakes = ("mistakes={'you drop with probability 1 - p.': "
                "lambda: abs((dropout(torch.ones(4000), 0.3) == 0)"
                ".double().mean() - 0.7) < 0.05, "
                "'never.': lambda: 1 / 0}")
    task1 = TASK1.replace('tests_of(1, "dropout")',
                          f'tests_of(1, "dropout", {mistakes})')
    error, out = shell(task1)
    assert isinstance(error, AssertionError)
    assert out.strip().splitlines() == [
        "dropout drops too much.",
        f"{DIAGNOSIS} you drop with probability 1 - p."]
    assert diagnosis(error) == "you drop with probability 1 - p."
    # a right answer: the cell passes, and a failure would find nothing
    shell(STUDENT.replace("< p) / (1 - p)", ">= p) / (1 - p)"))
    error, out = shell(task1)
    assert error is None and out == ""
    assert diagnosis(AssertionError("another check")) is None
    assert diagnosis(DelegationError("torch.dropout was called")) is None


def test_assert_close_compares_numpy_with_numpy():
    import numpy as np
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert_close(np.float64(0.5), np.float64(0.5))
    with pytest.raises(AssertionError, match="differs from the expected"):
        assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    with pytest.raises(AssertionError, match="has shape"):
        assert_close(np.zeros((2, 3)), np.zeros((3, 2)))
    # a NumPy answer where a tensor is expected is still refused
    with pytest.raises(AssertionError, match="should be a tensor"):
        assert_close(np.array([1.0]), torch.tensor([1.0]))
    with pytest.raises(AssertionError, match="should be a tensor"):
        assert_close(np.array(["a"]), np.array([1.0]))
