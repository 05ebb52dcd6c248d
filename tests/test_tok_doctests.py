"""The ``>>>`` examples in the tokenizer engine's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["pretokenized", "normalized", "encoding", "tokenizer", "truncation", "normalizers", "pre_tokenizers",
           "decoders", "processors", "template", "added_vocab", "precompiled", "trainers", "unicode_scripts",
           "_registry", "models", "models.base", "models.bpe", "models.wordpiece", "models.unigram",
           "models.wordlevel"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"pretrained.tokenizers.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
