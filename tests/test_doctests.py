"""Every docstring example in reglab runs as a doctest."""

import doctest
import importlib
import pkgutil

import pytest

import reglab

MODULES = sorted(m.name for m in pkgutil.walk_packages(
    reglab.__path__, prefix="reglab."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS
                             | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
