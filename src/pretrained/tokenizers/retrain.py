"""``train_new_from_iterator``: a tokenizer of the same kind, with a vocabulary learned on new text.

Mirrors transformers' ``PreTrainedTokenizerFast.train_new_from_iterator``: the same normalizer,
pre-tokenizer and decoder; a fresh model of the same type trained by the matching trainer (BPE keeps its
continuing-subword prefix and end-of-word suffix, byte-level pre-tokenizers start from the 256-byte
alphabet, Unigram keeps its unknown token); the special tokens carried over (renamed through
``special_tokens_map``); the post-processor's special-token ids looked up in the new vocabulary.

>>> new = tok.train_new_from_iterator(["some text", "more text"], vocab_size=300)  # doctest: +SKIP
>>> new.tokenize("some more")  # doctest: +SKIP
['some', 'more']
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES, engine_classes

log = logging.getLogger(__name__)

TRAINER_OF_MODEL = {
    "BPE": "BpeTrainer",
    "Unigram": "UnigramTrainer",
    "WordLevel": "WordLevelTrainer",
    "WordPiece": "WordPieceTrainer",
}


def train_new_from_iterator(
    tok: Any,
    text_iterator: Iterable[str] | Iterable[list[str]],
    vocab_size: int,
    length: int | None = None,
    new_special_tokens: list[Any] | None = None,
    special_tokens_map: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Train a new tokenizer like ``tok`` on ``text_iterator``; ``kwargs`` go to the trainer.

    >>> new = train_new_from_iterator(tok, [["a batch", "of texts"]], vocab_size=300)  # doctest: +SKIP
    """
    from . import trainers

    Tokenizer, _ = engine_classes()
    rename = special_tokens_map or {}
    data = json.loads(tok.backend_tokenizer.to_str())
    added_tokens = data.pop("added_tokens")
    post_processor = data.pop("post_processor")
    model = data["model"]
    unk_token = _empty_model(model, rename)
    tokenizer = Tokenizer.from_str(json.dumps(data))

    special_tokens = _carried_special_tokens(added_tokens, model["type"], rename)
    special_tokens.extend(new_special_tokens or [])
    if model["type"] == "BPE":
        for key in ("continuing_subword_prefix", "end_of_word_suffix"):
            if key not in kwargs and model.get(key) is not None:
                kwargs[key] = model[key]
    if model["type"] == "Unigram" and unk_token is not None:
        kwargs["unk_token"] = unk_token
    if _is_byte_level(data.get("pre_tokenizer")):
        from .pre_tokenizers import ByteLevel

        kwargs["initial_alphabet"] = ByteLevel.alphabet()
    trainer_class = getattr(trainers, TRAINER_OF_MODEL[model["type"]])
    trainer = trainer_class(vocab_size=vocab_size, special_tokens=special_tokens, **kwargs)
    tokenizer.train_from_iterator(text_iterator, trainer=trainer, length=length)

    if post_processor is not None:
        trained = json.loads(tokenizer.to_str())
        trained["post_processor"] = _renumber_post_processor(post_processor, tokenizer, rename)
        tokenizer = Tokenizer.from_str(json.dumps(trained))
    return type(tok)(tokenizer_object=tokenizer, **_init_kwargs(tok, rename, new_special_tokens))


def _empty_model(model: dict, rename: dict[str, str]) -> str | None:
    """Empty the model's vocabulary in place; the Unigram unknown token (renamed) or None."""
    unk_token = None
    if model["type"] == "BPE":
        model["vocab"], model["merges"] = {}, []
    elif model["type"] == "Unigram":
        if model.get("unk_id") is not None:
            unk_token = model["vocab"][model["unk_id"]][0]
            unk_token = rename.get(unk_token, unk_token)
            model["unk_id"], model["vocab"] = 0, [[unk_token, 0.0]]
    elif model["type"] in ("WordLevel", "WordPiece"):
        model["vocab"] = {}
    else:
        raise ValueError(
            f"train_new_from_iterator does not support {model['type']} models; "
            "only BPE, Unigram, WordLevel and WordPiece."
        )
    if model.get("unk_token") in rename:
        model["unk_token"] = rename[model["unk_token"]]
    return unk_token


def _carried_special_tokens(added_tokens: list[dict], model_type: str, rename: dict[str, str]) -> list[Any]:
    """The added tokens the trainer must keep first: the special ones (all of them for Unigram)."""
    _, AddedToken = engine_classes()
    out = []
    for token in added_tokens:
        if model_type != "Unigram" and not token.get("special"):
            continue
        fields = {k: v for k, v in token.items() if k not in ("id", "special")}
        fields["content"] = rename.get(fields["content"], fields["content"])
        out.append(AddedToken(**fields))
    return out


def _is_byte_level(pre_tokenizer: dict | None) -> bool:
    if pre_tokenizer is None:
        return False
    if pre_tokenizer["type"] == "ByteLevel":
        return True
    parts = pre_tokenizer.get("pretokenizers") if pre_tokenizer["type"] == "Sequence" else None
    return bool(parts) and any(p["type"] == "ByteLevel" for p in parts)


def _renumber_post_processor(post_processor: dict, tokenizer: Any, rename: dict[str, str]) -> dict:
    """Look up the post-processor's special tokens in the new vocabulary (top level only, as the reference)."""

    def new_id(token: str) -> int:
        token_id = tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(
                f"the post-processor uses the special token {token!r}, which the retrained tokenizer does "
                "not have; pass it in new_special_tokens (or rename it with special_tokens_map)"
            )
        return token_id

    for entry in (post_processor.get("special_tokens") or {}).values():
        entry["tokens"] = [rename.get(t, t) for t in entry["tokens"]]
        entry["ids"] = [new_id(t) for t in entry["tokens"]]
    for key in ("cls", "sep"):
        if key in post_processor:
            token = rename.get(post_processor[key][0], post_processor[key][0])
            post_processor[key] = [token, new_id(token)]
    nested = post_processor.get("processors") or []
    if any("special_tokens" in p or "cls" in p or "sep" in p for p in nested):
        log.warning(
            "train_new_from_iterator: the special-token ids inside a Sequence post-processor are kept as they "
            "were (as transformers does); check them against the new vocabulary"
        )
    return post_processor


def _init_kwargs(tok: Any, rename: dict[str, str], new_special_tokens: list[Any] | None) -> dict[str, Any]:
    """The original init kwargs with the special-token attributes renamed (their flags kept)."""
    _, AddedToken = engine_classes()
    kwargs = tok.init_kwargs.copy()
    for name in SPECIAL_TOKENS_ATTRIBUTES[:-1]:  # all but additional_special_tokens
        token = getattr(tok, name)
        if token is None:
            continue
        token = rename.get(token, token)
        full = tok._special_tokens_map.get(name)
        if isinstance(full, AddedToken):
            kwargs[name] = AddedToken(token, single_word=full.single_word, lstrip=full.lstrip,
                                      rstrip=full.rstrip, normalized=full.normalized, special=True)  # fmt: skip
        else:
            kwargs[name] = token
    additional = tok.additional_special_tokens
    additional.extend(new_special_tokens or [])
    if additional:
        kwargs["additional_special_tokens"] = additional
    return kwargs
