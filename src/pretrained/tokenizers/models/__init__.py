"""Tokenization models: turn one pre-tokenized word into tokens (mirrors ``tokenizers.models``).

>>> from pretrained.tokenizers.models import WordLevel
>>> WordLevel({"hi": 0, "[UNK]": 1}, unk_token="[UNK]").tokenize("hi")
[Token(id=0, value='hi', offsets=(0, 2))]
"""

from __future__ import annotations

from typing import Any

from .._registry import TokenizerFileError, build
from .base import Model, Token
from .bpe import BPE
from .unigram import Unigram
from .wordlevel import WordLevel
from .wordpiece import WordPiece

MODELS: dict[str, type] = {"BPE": BPE, "WordPiece": WordPiece, "WordLevel": WordLevel, "Unigram": Unigram}


def from_dict(data: dict[str, Any]) -> Model:
    """Build a model from its tokenizer.json dict."""
    if data is None:
        raise TokenizerFileError("tokenizer.json: 'model' is missing or null; a tokenizer needs a model")
    return build("model", MODELS, data)


__all__ = ["BPE", "MODELS", "Model", "Token", "Unigram", "WordLevel", "WordPiece", "from_dict"]
