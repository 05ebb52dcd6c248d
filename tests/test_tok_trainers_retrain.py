"""``train_new_from_iterator`` builds what transformers builds: same pipeline, same special tokens, a
vocabulary trained by the matching trainer, post-processor ids looked up in the new vocabulary.

Byte-level BPE (GPT-2, RoBERTa) and WordLevel retrain deterministically in the reference, so they must
match exactly. The reference numbers BERT's ``##`` symbols and orders Unigram's equal-score pieces in
hash order (it differs between two of its own runs), so those compare up to that order; for BERT a replay
with the reference's ``##`` order must then match exactly.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from collections import Counter
from pathlib import Path

import pytest

from pretrained import AutoTokenizer
from pretrained.tokenizers import trainers
from tests.test_tok_trainers_unigram import compare, ids_match_up_to_ties
from tests.test_tokapi_common import CORPUS, GPT2_FILES, MINILM, same_json, train_t5_model
from tests.tok_parity import HARD_TEXTS

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

TEXT = CORPUS + HARD_TEXTS + [
    "Tokenizers split text into tokens; a trainer learns the vocabulary from a corpus.",
    "The model reads token ids. Special tokens mark the start and the end of a sequence.",
] * 4  # fmt: skip
SAMPLES = HARD_TEXTS + CORPUS + ["an unseen sentence with newwords, 42 digits and ümlauts"]


def _write(folder: Path, name: str, data: dict) -> None:
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def _reference_built(folder: Path, kind: str) -> None:
    """A tokenizer.json made with the tokenizers library (a WordLevel or a suffix BPE model)."""
    N, P, Pr, T = (
        tokenizers.normalizers,
        tokenizers.pre_tokenizers,
        tokenizers.processors,
        tokenizers.trainers,
    )
    if kind == "wordlevel":
        tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
        trainer = T.WordLevelTrainer(special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)
        tok.post_processor = Pr.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
    else:
        tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="<unk>", end_of_word_suffix="</w>"))
        trainer = T.BpeTrainer(
            special_tokens=["<unk>", "<s>"], end_of_word_suffix="</w>", show_progress=False
        )
        tok.post_processor = Pr.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", 1)]
        )
    tok.normalizer = N.Sequence([N.NFKC(), N.Lowercase()])
    tok.pre_tokenizer = P.Whitespace()
    tok.train_from_iterator(CORPUS * 3, trainer)
    tok.save(str(folder / "tokenizer.json"))
    _write(folder, "tokenizer_config.json", {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]"
                                             if kind == "wordlevel" else "<unk>"})  # fmt: skip


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("retrain")
    out = {"bert": MINILM}
    for name, cls in (("gpt2", "GPT2Tokenizer"), ("roberta", "RobertaTokenizer")):
        out[name] = root / name
        out[name].mkdir()
        shutil.copy(GPT2_FILES[0], out[name] / "vocab.json")
        shutil.copy(GPT2_FILES[1], out[name] / "merges.txt")
        _write(out[name], "tokenizer_config.json", {"tokenizer_class": cls})
    out["t5"] = root / "t5"
    out["t5"].mkdir()
    train_t5_model(out["t5"])
    _write(out["t5"], "tokenizer_config.json", {"tokenizer_class": "T5Tokenizer"})
    for kind in ("wordlevel", "suffix_bpe"):
        out[kind] = root / kind
        out[kind].mkdir()
        _reference_built(out[kind], kind)
    return out


@functools.cache
def _loaded(path: Path) -> tuple:
    """(ours, reference) loaded once per folder: retraining leaves the original tokenizer untouched."""
    logging.disable(logging.WARNING)
    try:
        return AutoTokenizer.from_pretrained(path), transformers.AutoTokenizer.from_pretrained(path)
    finally:
        logging.disable(logging.NOTSET)


def retrain_both(path: Path, vocab_size: int, **kwargs):
    ours, ref = _loaded(path)
    return (ours.train_new_from_iterator([TEXT], vocab_size, **kwargs),
            ref.train_new_from_iterator([TEXT], vocab_size, **kwargs))  # fmt: skip


def assert_same_pipeline(ours, ref) -> None:
    """Everything but the vocabulary: components, special tokens, class."""
    assert type(ours).__name__.removesuffix("Fast") == type(ref).__name__.removesuffix("Fast")
    assert ours.special_tokens_map == ref.special_tokens_map
    assert ours.all_special_ids == ref.all_special_ids
    o, r = json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str())
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens", "truncation"):
        assert same_json(o[key], r[key]), key
    fields = ("vocab", "merges")
    assert same_json({k: v for k, v in o["model"].items() if k not in fields},
                     {k: v for k, v in r["model"].items() if k not in fields})  # fmt: skip


def assert_same_ids(ours, ref) -> None:
    for text in SAMPLES:
        assert ours(text)["input_ids"] == ref(text)["input_ids"], text
    assert ours(SAMPLES[2], SAMPLES[3])["input_ids"] == ref(SAMPLES[2], SAMPLES[3])["input_ids"]


EXACT = [
    ("gpt2", 400, {}),
    ("gpt2", 450, {"new_special_tokens": ["<|pad|>"], "special_tokens_map": {"<|endoftext|>": "<|end|>"}}),
    ("roberta", 400, {}),
    ("roberta", 400, {"special_tokens_map": {"<s>": "<bos>", "</s>": "<eos>"}, "min_frequency": 2}),
    ("wordlevel", 60, {}),
    ("wordlevel", 60, {"special_tokens_map": {"[CLS]": "<cls>", "[UNK]": "<unk>"}}),
]


@pytest.mark.parametrize("name, vocab_size, kwargs", EXACT, ids=[f"{e[0]}-{i}" for i, e in enumerate(EXACT)])
def test_retrain_matches_reference_exactly(folders, name, vocab_size, kwargs):
    ours, ref = retrain_both(folders[name], vocab_size, **kwargs)
    assert_same_pipeline(ours, ref)
    assert ours.get_vocab() == ref.get_vocab()
    o, r = json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str())
    assert o["model"].get("merges") == r["model"].get("merges")
    assert_same_ids(ours, ref)


@pytest.mark.parametrize("kwargs", [{}, {"special_tokens_map": {"</s>": "<eos>", "<unk>": "<UNK_T>"}}])
def test_retrain_unigram_t5(folders, kwargs):
    ours, ref = retrain_both(folders["t5"], 300, **kwargs)
    assert_same_pipeline(ours, ref)
    compare(ours.backend_tokenizer, ref.backend_tokenizer, SAMPLES, "t5 retrained")
    ids_match_up_to_ties(ours.backend_tokenizer, ref.backend_tokenizer)
    for text in SAMPLES:  # ids equal for the special tokens the post-processor adds
        assert ours(text)["input_ids"][-1] == ref(text)["input_ids"][-1]


@pytest.mark.parametrize(
    "name, vocab_size, kwargs", [("bert", 300, {}), ("suffix_bpe", 300, {"new_special_tokens": ["<mask>"]})]
)
def test_retrain_with_prefix_or_suffix(folders, monkeypatch, name, vocab_size, kwargs):
    ours, ref = retrain_both(folders[name], vocab_size, **kwargs)
    assert_same_pipeline(ours, ref)
    ov, rv = ours.get_vocab(), ref.get_vocab()
    assert len(ov) == len(rv)
    model = json.loads(ref.backend_tokenizer.to_str())["model"]
    prefix, suffix = model.get("continuing_subword_prefix") or "", model.get("end_of_word_suffix") or ""
    plain = {
        t: i
        for t, i in rv.items()
        if (prefix and not t.startswith(prefix)) or (suffix and not t.endswith(suffix))
    }
    assert all(ov.get(t) == i for t, i in plain.items() if len(t) == 1 or t in ref.all_special_tokens)
    print(f"\n{name} retrained: {len(set(ov) & set(rv))}/{len(rv)} tokens shared")
    assert len(set(ov) & set(rv)) >= 0.9 * len(rv)

    # replay: number the one-char prefixed/suffixed symbols in the reference's (hash) order, by feeding
    # words of count 0 that create them first; then the result must be identical
    symbols = sorted((i, t) for t, i in rv.items() if len(t) == len(prefix) + len(suffix) + 1
                     and t.startswith(prefix) and t.endswith(suffix) and t not in plain)  # fmt: skip
    feed = trainers.Trainer.feed

    def feed_in_reference_order(self, sequences, process):
        feed(self, sequences, process)
        anchor = next(iter(self.words))[0] if prefix else ""
        first = {anchor + t[len(prefix) : len(t) - len(suffix)]: 0 for _, t in symbols}
        self.words = Counter(first | dict(self.words))

    monkeypatch.setattr(trainers.Trainer, "feed", feed_in_reference_order)
    replayed = AutoTokenizer.from_pretrained(folders[name]).train_new_from_iterator(
        [TEXT], vocab_size, **kwargs
    )
    assert replayed.get_vocab() == rv
    assert_same_ids(replayed, ref)


def test_retrain_iterators_and_errors(folders):
    from pretrained.tokenizers import processors

    tok = AutoTokenizer.from_pretrained(folders["wordlevel"])
    before = tok.get_vocab()
    new = tok.train_new_from_iterator(iter(TEXT), 60, length=len(TEXT))  # an iterator of str works too
    assert new.get_vocab() == tok.train_new_from_iterator([TEXT[:10], TEXT[10:]], 60).get_vocab()
    assert tok.get_vocab() == before  # the original is untouched
    tok.backend_tokenizer.post_processor = processors.BertProcessing(("[SEP]", 2), ("<cls>", 5))
    with pytest.raises(ValueError, match="post-processor uses the special token '<cls>'.*new_special_tokens"):
        tok.train_new_from_iterator([TEXT], 60)
    assert (
        tok.train_new_from_iterator([TEXT], 60, new_special_tokens=["<cls>"]).convert_tokens_to_ids("<cls>")
        == 3
    )
