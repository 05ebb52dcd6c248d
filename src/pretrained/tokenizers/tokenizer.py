"""Tokenizer: normalizer -> pre-tokenizer -> model -> post-processor, loaded from tokenizer.json.

Mirrors ``tokenizers.Tokenizer`` (same methods, same outputs) in pure Python.

>>> from pretrained.tokenizers.models import WordLevel
>>> tok = Tokenizer(WordLevel({"hello": 0, "[UNK]": 1}, unk_token="[UNK]"))
>>> tok.encode("hello").ids
[0]
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import decoders, normalizers, pre_tokenizers, processors
from . import models as models_mod
from ._registry import TokenizerFileError
from .added_vocab import AddedToken, AddedVocabulary
from .encoding import Encoding
from .fastpath import encode_fast
from .normalized import NormalizedString
from .pretokenized import PreTokenizedString, into_encoding
from .processors import PostProcessor
from .truncation import (
    TRUNCATION_STRATEGIES,
    pad_encodings,
    padding_from_json,
    padding_to_json,
    truncate_encodings,
    truncation_from_json,
    truncation_to_json,
)

log = logging.getLogger(__name__)


class Tokenizer:
    """A tokenization pipeline around a model.

    >>> from pretrained.tokenizers.models import WordPiece
    >>> tok = Tokenizer(WordPiece({"[UNK]": 0, "hi": 1}))
    >>> tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    >>> tok.encode("hi hi").offsets
    [(0, 2), (3, 5)]
    """

    def __init__(self, model: models_mod.Model) -> None:
        self._model = model
        self._normalizer: normalizers.Normalizer | None = None
        self.pre_tokenizer: pre_tokenizers.PreTokenizer | None = None
        self.post_processor: PostProcessor | None = None
        self.decoder: decoders.Decoder | None = None
        self._added = AddedVocabulary()
        self._truncation: dict[str, Any] | None = None
        self._padding: dict[str, Any] | None = None

    # -- components --------------------------------------------------------------------------------
    @property
    def model(self) -> models_mod.Model:
        return self._model

    @model.setter
    def model(self, value: models_mod.Model) -> None:
        self._model = value
        self._added.refresh(self._model, self._normalizer)

    @property
    def normalizer(self) -> normalizers.Normalizer | None:
        return self._normalizer

    @normalizer.setter
    def normalizer(self, value: normalizers.Normalizer | None) -> None:
        self._normalizer = value
        self._added.refresh(self._model, self._normalizer)

    @property
    def encode_special_tokens(self) -> bool:
        return self._added.encode_special_tokens

    @encode_special_tokens.setter
    def encode_special_tokens(self, value: bool) -> None:
        self._added.encode_special_tokens = bool(value)

    # -- loading and saving ------------------------------------------------------------------------
    @staticmethod
    def from_file(path: str | os.PathLike) -> Tokenizer:
        """Load a tokenizer.json file."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"tokenizer file not found: {path!r}; pass the path of a tokenizer.json"
            ) from None
        except UnicodeDecodeError as e:
            raise TokenizerFileError(f"{path}: not UTF-8 text ({e}); is this really a tokenizer.json?") from e
        return Tokenizer.from_str(text, source=path)

    @staticmethod
    def from_buffer(buffer: bytes) -> Tokenizer:
        return Tokenizer.from_str(bytes(buffer).decode("utf-8"))

    @staticmethod
    def from_str(json_str: str, source: str = "tokenizer.json") -> Tokenizer:
        """Load a tokenizer from the JSON text of a tokenizer.json."""
        try:
            data = json.loads(json_str)
        except json.JSONDecodeError as e:
            raise TokenizerFileError(
                f"{source}: invalid JSON at line {e.lineno} column {e.colno} (char {e.pos}): {e.msg}. "
                "The file may be truncated or corrupted; download or write it again."
            ) from None
        return Tokenizer.from_dict(data, source)

    @staticmethod
    def from_dict(data: Any, source: str = "tokenizer.json") -> Tokenizer:
        if not isinstance(data, dict) or "model" not in data:
            raise TokenizerFileError(
                f"{source}: not a tokenizer.json (expected an object with a 'model' field); "
                "pass a file saved by Tokenizer.save / tokenizers"
            )
        try:
            tok = Tokenizer(models_mod.from_dict(data["model"]))
            tok._normalizer = normalizers.from_dict(data.get("normalizer"))
            tok.pre_tokenizer = pre_tokenizers.from_dict(data.get("pre_tokenizer"))
            tok.post_processor = processors.from_dict(data.get("post_processor"))
            tok.decoder = decoders.from_dict(data.get("decoder"))
            tok._truncation = truncation_from_json(data.get("truncation"))
            tok._padding = padding_from_json(data.get("padding"))
            added = [AddedToken.from_dict(d) for d in data.get("added_tokens") or []]
        except TokenizerFileError as e:
            msg = str(e)
            raise TokenizerFileError(msg if msg.startswith(source) else f"{source}: {msg}") from None
        if added:
            tok._added.add_tokens(added, tok._model, tok._normalizer)
            for d in data.get("added_tokens") or []:
                got = tok.token_to_id(d["content"])
                if "id" in d and got != d["id"]:
                    log.warning(
                        "%s: added token %r has id %s in the file but gets id %s",
                        source,
                        d["content"],
                        d["id"],
                        got,
                    )
        return tok

    def to_dict(self) -> dict[str, Any]:
        added = [{"id": i, **t.to_dict()} for i, t in sorted(self._added.map_r.items())]
        return {
            "version": "1.0",
            "truncation": truncation_to_json(self._truncation),
            "padding": padding_to_json(self._padding),
            "added_tokens": added,
            "normalizer": self._normalizer.to_dict() if self._normalizer is not None else None,
            "pre_tokenizer": self.pre_tokenizer.to_dict() if self.pre_tokenizer is not None else None,
            "post_processor": self.post_processor.to_dict() if self.post_processor is not None else None,
            "decoder": self.decoder.to_dict() if self.decoder is not None else None,
            "model": self._model.to_dict(),
        }

    def to_str(self, pretty: bool = False) -> str:
        """The tokenizer.json text (the reference loads it identically)."""
        if pretty:
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def save(self, path: str | os.PathLike, pretty: bool = True) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_str(pretty))

    # -- vocabulary --------------------------------------------------------------------------------
    def token_to_id(self, token: str) -> int | None:
        return self._added.token_to_id(token, self._model)

    def id_to_token(self, id: int) -> str | None:
        return self._added.id_to_token(id, self._model)

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = self._model.get_vocab()
        if with_added_tokens:
            vocab.update(self._added.map)
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        return len(self.get_vocab(True)) if with_added_tokens else self._model.get_vocab_size()

    def get_added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(sorted(self._added.map_r.items()))

    def add_tokens(self, tokens: list[str | AddedToken]) -> int:
        """Add tokens (str or AddedToken); returns how many were new."""
        toks = [t if isinstance(t, AddedToken) else _added_token(t, special=False) for t in tokens]
        return self._added.add_tokens(toks, self._model, self._normalizer)

    def add_special_tokens(self, tokens: list[str | AddedToken]) -> int:
        """Add special tokens (skipped by ``decode(skip_special_tokens=True)``)."""
        toks = []
        for t in tokens:
            if isinstance(t, AddedToken):
                t.special = True
                toks.append(t)
            else:
                toks.append(_added_token(t, special=True))
        return self._added.add_tokens(toks, self._model, self._normalizer)

    # -- truncation and padding ----------------------------------------------------------------------
    def enable_truncation(
        self, max_length: int, stride: int = 0, strategy: str = "longest_first", direction: str = "right"
    ) -> None:
        if strategy not in TRUNCATION_STRATEGIES:
            raise ValueError(
                f"Unknown `strategy`: `{strategy}`. Use one of `longest_first`, `only_first`, or `only_second`"
            )
        if direction not in ("left", "right"):
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`.")
        n_added = self.num_special_tokens_to_add(False)
        if n_added <= max_length and max_length - n_added < stride:  # as tokenizers (its usize wraps below 0)
            raise ValueError(
                f"tokenizer stride set to {stride}, which is greater than or equal to its effective max length "
                f"of {max_length - n_added} (= {max_length} original max length - {n_added} added special tokens), "
            )
        self._truncation = {
            "max_length": max_length,
            "stride": stride,
            "strategy": strategy,
            "direction": direction,
        }

    def no_truncation(self) -> None:
        self._truncation = None

    @property
    def truncation(self) -> dict[str, Any] | None:
        return dict(self._truncation) if self._truncation else None

    def enable_padding(
        self,
        direction: str = "right",
        pad_id: int = 0,
        pad_type_id: int = 0,
        pad_token: str = "[PAD]",
        length: int | None = None,
        pad_to_multiple_of: int | None = None,
    ) -> None:
        if direction not in ("left", "right"):
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`")
        self._padding = {
            "length": length,
            "pad_to_multiple_of": pad_to_multiple_of,
            "pad_id": pad_id,
            "pad_token": pad_token,
            "pad_type_id": pad_type_id,
            "direction": direction,
        }

    def no_padding(self) -> None:
        self._padding = None

    @property
    def padding(self) -> dict[str, Any] | None:
        return dict(self._padding) if self._padding else None

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self.post_processor.added_tokens(is_pair) if self.post_processor is not None else 0

    # -- encoding ----------------------------------------------------------------------------------
    def _encode_text(self, text: str, type_id: int, word_idx: int | None) -> Encoding:
        if not text.isascii():
            _check_utf8(text)
        fast = encode_fast(self, text, type_id, word_idx)
        if fast is not None:
            return fast
        pts = self._added.extract_and_normalize(self._normalizer, text)
        if self.pre_tokenizer is not None:
            self.pre_tokenizer.pre_tokenize(pts)
        return into_encoding(pts, self._model._tokenize, type_id, word_idx)

    def _encode_sequence(self, seq: Any, type_id: int, is_pretokenized: bool) -> Encoding:
        if is_pretokenized:
            if isinstance(seq, str) or not isinstance(seq, list | tuple):
                raise TypeError(
                    f"with is_pretokenized=True each sequence must be a list of words, got {type(seq).__name__}"
                )
            return Encoding.merge([self._encode_text(w, type_id, i) for i, w in enumerate(seq)], False)
        if not isinstance(seq, str):
            raise TypeError(
                f"TextEncodeInput must be a str (or a pair of str), got {type(seq).__name__}; "
                "for lists of words pass is_pretokenized=True"
            )
        return self._encode_text(seq, type_id, None)

    def encode(
        self, sequence: Any, pair: Any = None, is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> Encoding:
        """Encode a text (or pre-tokenized words), optionally with a pair.

        >>> from pretrained.tokenizers.models import WordLevel
        >>> Tokenizer(WordLevel({"a": 0}, unk_token="a")).encode("a").tokens
        ['a']
        """
        enc = self._encode_sequence(sequence, 0, is_pretokenized)
        pair_enc = None if pair is None else self._encode_sequence(pair, 1, is_pretokenized)
        return self.post_process(enc, pair_enc, add_special_tokens)

    def encode_batch(
        self, input: list[Any], is_pretokenized: bool = False, add_special_tokens: bool = True
    ) -> list[Encoding]:
        """Encode many inputs (str, or (str, str) pairs); pads the batch together when padding is on."""
        with _gc_paused():
            return self._encode_batch(input, is_pretokenized, add_special_tokens)

    def _encode_batch(
        self, input: list[Any], is_pretokenized: bool, add_special_tokens: bool
    ) -> list[Encoding]:
        out = []
        for item in input:
            if type(item) is str and not is_pretokenized:  # the common case, without the checks of encode
                out.append(self.post_process(self._encode_text(item, 0, None), None, add_special_tokens))
                continue
            if is_pretokenized:
                is_pair = isinstance(item, tuple | list) and len(item) == 2 and not isinstance(item[0], str)
            else:
                is_pair = isinstance(item, tuple | list) and len(item) == 2
            if is_pair:
                out.append(self.encode(item[0], item[1], is_pretokenized, add_special_tokens))
            else:
                out.append(self.encode(item, None, is_pretokenized, add_special_tokens))
        if self._padding:
            pad_encodings(out, self._padding)
        return out

    encode_batch_fast = encode_batch

    def post_process(
        self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True
    ) -> Encoding:
        """Truncate, add special tokens, pad: what ``encode`` does after the model."""
        if self._truncation:
            params = dict(self._truncation)
            n_added = self.num_special_tokens_to_add(pair is not None)
            if add_special_tokens and n_added > 0:
                params["max_length"] -= n_added
            if params["max_length"] >= 0:  # below 0 tokenizers' usize wraps to a huge limit: no truncation
                encoding, pair = truncate_encodings(encoding, pair, params)
        if self.post_processor is not None:
            final = self.post_processor.process(encoding, pair, add_special_tokens)
        else:
            final = PostProcessor.default_process(encoding, pair, add_special_tokens)
        if self._padding:
            pad_encodings([final], self._padding)
        return final

    # -- training ----------------------------------------------------------------------------------
    def _words_of(self, sequence: str) -> list[str]:
        """Normalized, pre-tokenized words of a text, as the trainers count them (no added tokens)."""
        ns = NormalizedString(sequence)
        if self._normalizer is not None:
            self._normalizer.normalize(ns)
        pts = PreTokenizedString(ns)
        if self.pre_tokenizer is not None:
            self.pre_tokenizer.pre_tokenize(pts)
        return [sp[0].normalized for sp in pts.splits]

    def train_from_iterator(self, iterator: Any, trainer: Any = None, length: int | None = None) -> None:
        """Train the model on texts (an iterable of str, or of lists of str)."""
        from .trainers import default_trainer

        trainer = trainer if trainer is not None else default_trainer(self._model)

        def texts() -> Any:
            for item in iterator:
                if isinstance(item, str):
                    yield item
                else:
                    yield from item

        trainer.feed(texts(), self._words_of)
        self.add_special_tokens(trainer.train(self._model))
        self._added.refresh(self._model, self._normalizer)

    def train(self, files: list[str], trainer: Any = None) -> None:
        """Train the model on text files (read line by line, keeping line ends)."""

        def lines() -> Any:
            for path in files:
                with open(path, encoding="utf-8", newline="") as f:
                    yield from f

        self.train_from_iterator(lines(), trainer)

    # -- decoding ----------------------------------------------------------------------------------
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """Turn ids back into text."""
        tokens = []
        for i in ids:
            tok = self._added.id_to_token(int(i), self._model)
            if tok is None or (skip_special_tokens and tok in self._added.special_set):
                continue
            tokens.append(tok)
        if self.decoder is not None:
            return self.decoder.decode(tokens)
        return " ".join(tokens)

    def decode_batch(self, sequences: list[list[int]], skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(ids, skip_special_tokens) for ids in sequences]

    def __repr__(self) -> str:
        return f"Tokenizer(model={self._model!r}, vocab_size={self.get_vocab_size()})"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: encodings allocate many small tuples and lists (no cycles),
    which would otherwise trigger collections that scan every live object again and again."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"text has a lone surrogate {text[e.start]!r} at index {e.start}, which is not valid Unicode text; "
            "decode your input with errors='replace' or remove it"
        ) from None


def _added_token(content: str, special: bool) -> AddedToken:
    if not isinstance(content, str):
        raise TypeError(f"added tokens must be str or AddedToken, got {type(content).__name__}")
    return AddedToken(content, special=special)


__all__ = ["AddedToken", "Encoding", "Tokenizer", "TokenizerFileError"]
