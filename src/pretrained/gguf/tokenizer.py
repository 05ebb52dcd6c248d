"""Build a tokenizer.json-structured dict (and tokenizer_config) from a GGUF file's tokenizer metadata.

Matches what transformers 4.57 builds for ``AutoTokenizer.from_pretrained(dir, gguf_file=...)``
(``integrations/ggml.py`` plus the fast tokenizer class it picks), so the ids are the same:

- architecture llama/mistral, ``tokenizer.ggml.model == "llama"`` (SentencePiece): BPE with byte
  fallback and scores-derived merges, ``Prepend("▁")``/``Replace(" ", "▁")`` normalizer;
- architecture llama/mistral, ``tokenizer.ggml.model == "gpt2"`` (Llama 3, SmolLM2): byte-level BPE;
- qwen2 and gpt2 architectures: byte-level BPE (Qwen2 adds its regex split and NFC).

Like transformers, a llama-architecture tokenizer prepends BOS (``tokenizer.ggml.add_bos_token`` is not
consulted) and never appends EOS. The special-token strings in ``tokenizer_config`` are transformers' (for
llama files: EOS = the BOS string, no pad; qwen2/gpt2: the class defaults, ``<|endoftext|>``), except that the
file's EOS string, and its PAD string where transformers has no pad token, are used when they are already special
tokens (as in real files, whose token types mark them). A string named special becomes an added token and splits
text, and a pad token sets padded ids, so the ids stay transformers' in all cases.

>>> tok_json, tok_config = gguf_tokenizer(read_gguf("SmolLM2-135M-Instruct.Q4_1.gguf").metadata)  # doctest: +SKIP
>>> tok_json["model"]["type"], tok_config["eos_token"]  # doctest: +SKIP
('BPE', '<|im_end|>')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .reader import GGUFFile

log = logging.getLogger(__name__)

SPIECE_UNDERLINE = "▁"
CONTROL = 3  # llama.cpp token type of special (control) tokens
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")  # transformers always adds these
GPT2_DEFAULT = "<|endoftext|>"
TOKENIZER_CLASSES = {
    "llama": "LlamaTokenizerFast",
    "mistral": "LlamaTokenizerFast",
    "qwen2": "Qwen2TokenizerFast",
    "gpt2": "GPT2TokenizerFast",
}


def _byte_level(add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True) -> dict:
    return {
        "type": "ByteLevel",
        "add_prefix_space": add_prefix_space,
        "trim_offsets": trim_offsets,
        "use_regex": use_regex,
    }


def _bpe(vocab: dict[str, int], merges: list[list[str]], *, unk: str | None, spm: bool) -> dict:
    """The BPE model section: SentencePiece-style (byte fallback, fused unk) or GPT-2 style."""
    return {
        "type": "BPE",
        "dropout": None,
        "unk_token": unk,
        "continuing_subword_prefix": None if spm else "",
        "end_of_word_suffix": None if spm else "",
        "fuse_unk": spm,
        "byte_fallback": spm,
        "ignore_merges": False,
        "vocab": vocab,
        "merges": merges,
    }


def _template(bos: str | None, bos_id: int | None) -> dict:
    """LlamaTokenizerFast's post-processor: ``<bos> $A`` and ``<bos> $A <bos> $B``."""
    if bos is None:
        single = [{"Sequence": {"id": "A", "type_id": 0}}]
        pair = single + [{"Sequence": {"id": "B", "type_id": 1}}]
        return {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": {}}
    single = [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
    pair = single + [{"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}]
    specials = {bos: {"id": bos, "ids": [bos_id], "tokens": [bos]}}
    return {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials}


class _Added:
    """The added-tokens table, assigning ids the way ``tokenizers``' AddedVocabulary does."""

    def __init__(self, vocab: dict[str, int]):
        self.vocab, self.ids, self.entries = vocab, {}, []

    def add(self, content: str | None) -> None:
        if content is None or content in self.ids:
            return
        new_id = self.vocab.get(content)
        if new_id is None:  # not in the model's vocab: next free id past it
            top = max(self.ids.values(), default=-1)
            new_id = top + 1 if top >= len(self.vocab) else len(self.vocab)
        self.ids[content] = new_id
        self.entries.append(
            {
                "id": new_id,
                "content": content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        )

    def token_id(self, content: str) -> int | None:
        return self.ids.get(content, self.vocab.get(content))

    def table(self) -> list[dict]:
        return sorted(self.entries, key=lambda e: e["id"])


def _spm_merges(tokens: list[str], scores: list[float]) -> list[list[str]]:
    """Merges for a SentencePiece vocab that ships none: every split of a piece into two pieces,
    ordered by the piece's score (as transformers' ``GGUFTokenizerSkeleton`` orders them)."""
    vocab = {t: scores[i] for i, t in enumerate(tokens)}
    known = set(tokens)
    merges: list[tuple[str, str, float]] = []
    for piece, score in vocab.items():
        local = [(piece[:i], piece[i:], score) for i in range(1, len(piece))]
        local = [m for m in local if m[0] in known and m[1] in known]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]]), reverse=True))
    merges.sort(key=lambda m: m[2], reverse=True)
    return [[left, right] for left, right, _ in merges]


def _merges(metadata: Mapping[str, Any]) -> list[list[str]] | None:
    raw = metadata.get("tokenizer.ggml.merges")
    if raw is None:
        return None
    merges = [m.split(" ") for m in raw]
    bad = next((m for m in merges if len(m) != 2), None)
    if bad is not None:
        raise ValueError(
            f"GGUF tokenizer.ggml.merges entry {' '.join(bad)!r} is not two tokens split by a space"
        )
    return merges


def _token(tokens: list[str], metadata: Mapping[str, Any], key: str) -> str | None:
    i = metadata.get(f"tokenizer.ggml.{key}")
    if (
        isinstance(i, list) and len(i) == 1
    ):  # a one-element array stands for its element, as transformers reads it
        i = i[0]
    if i is None:
        return None
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(tokens):
        raise ValueError(f"GGUF tokenizer.ggml.{key} = {i} is outside the vocabulary (size {len(tokens)})")
    return tokens[i]


def _llama(metadata: Mapping[str, Any], tokens: list[str]) -> tuple[dict, _Added]:
    """GGUFLlamaConverter + LlamaTokenizerFast (SentencePiece BPE, or byte-level for Llama 3)."""
    kind = metadata["tokenizer.ggml.model"]
    add_prefix_space = bool(metadata.get("tokenizer.ggml.add_space_prefix", True))
    scores = metadata.get("tokenizer.ggml.scores")
    merges = _merges(metadata)
    if merges is None:
        if scores is None:
            raise ValueError("GGUF tokenizer has neither tokenizer.ggml.merges nor tokenizer.ggml.scores")
        merges = _spm_merges(tokens, scores)
    vocab = {t: i for i, t in enumerate(tokens)}
    unk, bos = _token(tokens, metadata, "unknown_token_id"), _token(tokens, metadata, "bos_token_id")
    if "tokenizer.ggml.eos_token_id" not in metadata:
        bos = None  # transformers takes its BOS string from the EOS branch
    added = _Added(vocab)
    types = metadata.get("tokenizer.ggml.token_type")
    if types is None:
        for t in (unk, bos):
            added.add(t)
    else:
        for t, ty in zip(tokens, types):
            if ty == CONTROL:
                added.add(t)
    for t in (bos, unk):  # LlamaTokenizerFast registers its special tokens too
        added.add(t)
    decoders = [
        {"type": "ByteFallback"},
        {"type": "Fuse"},
        {"type": "Replace", "pattern": {"String": SPIECE_UNDERLINE}, "content": " "},
    ]
    if kind == "llama":
        normalizers = [{"type": "Replace", "pattern": {"String": " "}, "content": SPIECE_UNDERLINE}]
        if add_prefix_space:
            normalizers.insert(0, {"type": "Prepend", "prepend": SPIECE_UNDERLINE})
        pre_tokenizer = None
    else:
        normalizers, pre_tokenizer = [], _byte_level(False, False, True)
        decoders.append(_byte_level())
    if add_prefix_space:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    body = {
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": pre_tokenizer,
        "post_processor": _template(bos, added.token_id(bos) if bos is not None else None),
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": _bpe(vocab, merges, unk=unk, spm=True),
    }
    return body, added


def _byte_level_bpe(metadata: Mapping[str, Any], tokens: list[str], arch: str) -> tuple[dict, _Added]:
    """GGUFQwen2Converter + Qwen2TokenizerFast, or GGUFGPTConverter + GPT2TokenizerFast."""
    merges = _merges(metadata)
    if merges is None:
        raise ValueError(f"GGUF {arch} tokenizer has no tokenizer.ggml.merges")
    vocab = {t: i for i, t in enumerate(tokens)}
    added = _Added(vocab)
    body: dict[str, Any] = {
        "post_processor": _byte_level(True, False, True),
        "decoder": _byte_level(),
        "model": _bpe(vocab, merges, unk=None, spm=False),
    }
    if arch == "qwen2":
        for t in QWEN2_SPECIALS:
            added.add(t)
        split = {
            "type": "Split",
            "pattern": {"Regex": QWEN2_PATTERN},
            "behavior": "Isolated",
            "invert": False,
        }
        add_prefix_space = bool(metadata.get("tokenizer.ggml.add_space_prefix", False))
        body["normalizer"] = {"type": "NFC"}
        body["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [split, _byte_level(add_prefix_space, True, False)],
        }
    else:
        added.add(GPT2_DEFAULT)  # GPT2TokenizerFast's unk/bos/eos
        body["normalizer"] = None
        body["pre_tokenizer"] = _byte_level(False, True, True)
    return body, added


def gguf_tokenizer(metadata: Mapping[str, Any] | GGUFFile) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(tokenizer_json, tokenizer_config)`` for the tokenizer stored in GGUF ``metadata`` (or a GGUFFile).

    ``tokenizer_json`` has the structure of a ``tokenizer.json`` file (load it with our tokenizer, or
    ``tokenizers.Tokenizer.from_str(json.dumps(...))``). ``tokenizer_config`` holds
    ``tokenizer_class``, ``bos_token``/``eos_token``/``unk_token``/``pad_token`` (None when absent),
    ``add_bos_token``, ``add_eos_token``, ``clean_up_tokenization_spaces`` and ``chat_template`` (when the
    file has ``tokenizer.chat_template``).

    >>> meta = {"general.architecture": "gpt2", "tokenizer.ggml.model": "gpt2",
    ...         "tokenizer.ggml.tokens": ["a", "b", "ab", "<|endoftext|>"], "tokenizer.ggml.merges": ["a b"]}
    >>> tok_json, tok_config = gguf_tokenizer(meta)
    >>> tok_json["model"]["merges"], tok_config["add_bos_token"]
    ([['a', 'b']], False)
    """
    if isinstance(metadata, GGUFFile):
        metadata = metadata.metadata
    arch = metadata.get("general.architecture")
    if arch not in TOKENIZER_CLASSES:
        raise ValueError(
            f"GGUF tokenizer for architecture {arch!r} is not supported; supported: {', '.join(TOKENIZER_CLASSES)}"
        )
    kind = metadata.get("tokenizer.ggml.model")
    tokens = metadata.get("tokenizer.ggml.tokens")
    if kind is None or tokens is None:
        raise ValueError("GGUF file has no tokenizer (tokenizer.ggml.model / tokenizer.ggml.tokens missing)")
    llama_arch = TOKENIZER_CLASSES[arch] == "LlamaTokenizerFast"
    if kind not in (("llama", "gpt2") if llama_arch else ("gpt2",)):
        raise NotImplementedError(
            f"GGUF tokenizer.ggml.model {kind!r} is not supported for architecture {arch!r}"
        )
    body, added = _llama(metadata, tokens) if llama_arch else _byte_level_bpe(metadata, tokens, arch)
    tokenizer_json = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added.table()}
    tokenizer_json.update(body)
    special = {e["content"] for e in tokenizer_json["added_tokens"] if e["special"]}
    return tokenizer_json, _config(metadata, tokens, arch, kind, special)


def _config(
    metadata: Mapping[str, Any], tokens: list[str], arch: str, kind: str, special: set[str]
) -> dict[str, Any]:
    llama_arch = TOKENIZER_CLASSES[arch] == "LlamaTokenizerFast"
    specials = _llama_specials(metadata, tokens) if llama_arch else _class_defaults(arch)
    # The file's own EOS (and qwen2's BOS) strings where they are already special tokens of the tokenizer, so
    # ids stay transformers' (a string made special splits text differently); else transformers'. The file's PAD
    # only where transformers has none (it pads with its own where it has one: the same padded ids).
    own = {key: _token(tokens, metadata, f"{key}_token_id") for key in ("eos", "padding", "bos")}
    if own["eos"] in special:
        specials["eos_token"] = own["eos"]
    if own["padding"] in special and specials["pad_token"] is None:
        specials["pad_token"] = own["padding"]
    if arch == "qwen2" and own["bos"] in special:
        specials["bos_token"] = own["bos"]
    config: dict[str, Any] = {
        "tokenizer_class": TOKENIZER_CLASSES[arch],
        **specials,
        # transformers' BOS string needs both ids (see _llama)
        "add_bos_token": llama_arch and specials["bos_token"] is not None,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": llama_arch and kind == "gpt2",
    }
    file_add_bos = metadata.get("tokenizer.ggml.add_bos_token")
    if file_add_bos is not None and file_add_bos != config["add_bos_token"]:
        log.info(
            "GGUF tokenizer.ggml.add_bos_token=%s, but like transformers the tokenizer uses add_bos_token=%s",
            file_add_bos,
            config["add_bos_token"],
        )
    if "tokenizer.chat_template" in metadata:
        config["chat_template"] = metadata["tokenizer.chat_template"]
    return config


def _llama_specials(metadata: Mapping[str, Any], tokens: list[str]) -> dict[str, str | None]:
    """The special-token strings transformers 4.57's GGUFLlamaConverter hands LlamaTokenizerFast: ``bos_token``
    is the file's BOS string when the file also has an EOS id, ``eos_token`` is the BOS string too (its quirk),
    there is no ``pad_token``, and ``unk_token`` is None when the file names no unknown token."""
    bos = _token(tokens, metadata, "bos_token_id")
    has_eos = metadata.get("tokenizer.ggml.eos_token_id") is not None
    return {
        "bos_token": bos if has_eos else None,
        "eos_token": bos,
        "unk_token": _token(tokens, metadata, "unknown_token_id"),
        "pad_token": None,
    }


def _class_defaults(arch: str) -> dict[str, str | None]:
    """Qwen2TokenizerFast's and GPT2TokenizerFast's defaults: transformers ignores the file's special-token ids."""
    if arch == "qwen2":
        return {
            "bos_token": None,
            "eos_token": GPT2_DEFAULT,
            "unk_token": GPT2_DEFAULT,
            "pad_token": GPT2_DEFAULT,
        }
    return {
        "bos_token": GPT2_DEFAULT,
        "eos_token": GPT2_DEFAULT,
        "unk_token": GPT2_DEFAULT,
        "pad_token": None,
    }
