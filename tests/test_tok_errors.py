"""Bad input gives clear errors; arbitrary Unicode never breaks encoding (and matches the reference)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretrained.tokenizers import Tokenizer, TokenizerFileError
from pretrained.tokenizers.models import WordPiece
from tests.tok_parity import minilm_tokenizer_json

MINILM = minilm_tokenizer_json()
GOOD = {
    "model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"},
    "pre_tokenizer": {"type": "WhitespaceSplit"},
}


def test_truncated_file_names_file_and_position(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(GOOD)[:-7], encoding="utf-8")
    with pytest.raises(
        TokenizerFileError, match=r"tokenizer\.json: invalid JSON at line 1 column \d+.*truncated"
    ):
        Tokenizer.from_file(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.json"):
        Tokenizer.from_file("/definitely/nope.json")


def test_not_a_tokenizer_file():
    with pytest.raises(TokenizerFileError, match="'model' field"):
        Tokenizer.from_str('{"vocab": {}}')
    with pytest.raises(TokenizerFileError, match="'model' field"):
        Tokenizer.from_str("[1, 2]")


@pytest.mark.parametrize(
    "kind,field,expected",
    [
        ("normalizer", "normalizer", "BertNormalizer"),
        ("pre_tokenizer", "pre_tokenizer", "ByteLevel"),
        ("post_processor", "post_processor", "TemplateProcessing"),
        ("decoder", "decoder", "WordPiece"),
        ("model", "model", "Unigram"),
    ],
)
def test_unknown_component_type(kind, field, expected):
    data = dict(GOOD)
    data[field] = {"type": "Frobnicate"}
    with pytest.raises(
        TokenizerFileError, match=rf"unknown {kind} type 'Frobnicate'; supported .*{expected}"
    ):
        Tokenizer.from_str(json.dumps(data))


def test_bad_component_fields():
    data = dict(GOOD, pre_tokenizer={"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"})
    with pytest.raises(TokenizerFileError, match="invalid regex"):
        Tokenizer.from_str(json.dumps(data))
    data = dict(GOOD, pre_tokenizer={"type": "Split", "pattern": {"Nope": "x"}, "behavior": "Isolated"})
    with pytest.raises(TokenizerFileError, match="String.*Regex"):
        Tokenizer.from_str(json.dumps(data))
    data = dict(GOOD, truncation={"max_length": "many"})
    with pytest.raises(TokenizerFileError, match="truncation"):
        Tokenizer.from_str(json.dumps(data))
    data = {"model": {"type": "WordLevel", "vocab": {"a": -3}}}
    with pytest.raises(TokenizerFileError, match="'a' has id -3"):
        Tokenizer.from_str(json.dumps(data))
    data = {"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 5}}
    with pytest.raises(TokenizerFileError, match="unk_id 5 is out of the vocabulary"):
        Tokenizer.from_str(json.dumps(data))


def test_bad_merges_name_merge_and_token():
    data = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "ab c"]}}
    with pytest.raises(TokenizerFileError, match=r"merge #1 'ab' \+ 'c': token 'c' is not in the vocab"):
        Tokenizer.from_str(json.dumps(data))


def test_missing_unk_token():
    tok = Tokenizer(WordPiece({"a": 0}, unk_token="[UNK]"))
    with pytest.raises(TokenizerFileError, match=r"unk_token '\[UNK\]' is not in the vocabulary"):
        tok.encode("b")


def test_bad_arguments():
    tok = Tokenizer.from_str(json.dumps(GOOD))
    with pytest.raises(TypeError, match="is_pretokenized=True"):
        tok.encode(["a", "b"])
    with pytest.raises(TypeError, match="list of words"):
        tok.encode("a", is_pretokenized=True)
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match="Unknown `strategy`"):
        tok.enable_truncation(5, strategy="middle")
    with pytest.raises(ValueError, match="direction"):
        tok.enable_padding(direction="up")
    tok.enable_truncation(3, strategy="only_second")
    with pytest.raises(ValueError, match="Second sequence not provided"):
        tok.encode("a a a a")
    tok.enable_truncation(2, stride=1, strategy="only_first")
    with pytest.raises(ValueError, match="too short"):
        tok.encode("a", "a a a")


tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def references():
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    out = {}
    if MINILM.exists():
        out["bert"] = MINILM.read_text(encoding="utf-8")
    ref = tokenizers.Tokenizer(models.Unigram())
    ref.normalizer = normalizers.NFKC()
    ref.pre_tokenizer = pre_tokenizers.Metaspace()
    corpus = [
        "the quick brown fox jumps over the lazy dog",
        "Ångström café naïve 東京",
        "hello world 123",
    ] * 20
    ref.train_from_iterator(
        corpus, trainers.UnigramTrainer(vocab_size=60, unk_token="<unk>", special_tokens=["<unk>"])
    )
    out["unigram"] = ref.to_str()
    return {k: (Tokenizer.from_str(v), tokenizers.Tokenizer.from_str(v)) for k, v in out.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30), st.sampled_from(["bert", "unigram"]))
def test_property_arbitrary_unicode_matches_reference(references, text, name):
    if name not in references:
        return
    ours, ref = references[name]
    a, b = ours.encode(text), ref.encode(text)
    assert a.ids == b.ids and a.offsets == b.offsets and a.word_ids == b.word_ids
    assert ours.decode(a.ids) == ref.decode(b.ids)
