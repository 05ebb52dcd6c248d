"""Every ``>>>`` example in the library's docstrings runs and holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pretrained

SKIP = {"pretrained.demo", "pretrained.__main__", "pretrained.cli.__main__"}  # programs, not examples
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pretrained.__path__, "pretrained.") if m.name not in SKIP
)


def test_modules_found():
    assert "pretrained.nn.linear" in MODULES and "pretrained.modeling" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
