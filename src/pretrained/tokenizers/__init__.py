"""Tokenizers in pure Python: the ``tokenizers`` library's pipeline, loading tokenizer.json files.

>>> from pretrained.tokenizers import Tokenizer  # doctest: +SKIP
>>> tok = Tokenizer.from_file("tokenizer.json")  # doctest: +SKIP
>>> tok.encode("Hello world").ids  # doctest: +SKIP
"""

from __future__ import annotations

from . import decoders, models, normalizers, pre_tokenizers, processors, trainers
from ._registry import Regex, TokenizerFileError
from .added_vocab import AddedToken
from .encoding import Encoding
from .normalized import NormalizedString
from .pretokenized import PreTokenizedString
from .tokenizer import Tokenizer

__all__ = [
    "AddedToken",
    "Encoding",
    "NormalizedString",
    "PreTokenizedString",
    "Regex",
    "Tokenizer",
    "TokenizerFileError",
    "decoders",
    "models",
    "normalizers",
    "pre_tokenizers",
    "processors",
    "trainers",
]
