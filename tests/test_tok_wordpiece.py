"""WordPiece / BERT parity with the reference `tokenizers` on the all-MiniLM-L6-v2 tokenizer.json."""

from __future__ import annotations

import itertools
import json

import pytest

from pretrained.tokenizers import AddedToken, Tokenizer
from tests.tok_parity import (
    HARD_TEXTS,
    PAIRS,
    assert_same_encode,
    assert_same_encoding,
    minilm_tokenizer_json,
)

tokenizers = pytest.importorskip("tokenizers")

MINILM = minilm_tokenizer_json()


@pytest.fixture(scope="module")
def pair_of_tokenizers() -> tuple[Tokenizer, object]:
    return Tokenizer.from_file(MINILM), tokenizers.Tokenizer.from_file(str(MINILM))


@pytest.fixture
def toks(pair_of_tokenizers):
    ours, ref = pair_of_tokenizers
    for t in (ours, ref):
        t.no_padding()
        t.no_truncation()
    return ours, ref


def test_file_settings_apply(pair_of_tokenizers):
    ours, ref = (Tokenizer.from_file(MINILM), tokenizers.Tokenizer.from_file(str(MINILM)))
    assert ours.truncation == ref.truncation and ours.padding == ref.padding
    for text in HARD_TEXTS:
        assert_same_encode(ours, ref, text)
    assert_same_encoding(ours.encode("x " * 300), ref.encode("x " * 300))


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_single_texts(toks, text):
    ours, ref = toks
    assert_same_encode(ours, ref, text)
    assert_same_encode(ours, ref, text, add_special_tokens=False)
    assert_same_encode(ours, ref, text.split(), is_pretokenized=True)
    ids = ref.encode(text).ids
    for skip in (True, False):
        assert ours.decode(ids, skip) == ref.decode(ids, skip)


@pytest.mark.parametrize("first,second", PAIRS)
def test_pairs(toks, first, second):
    ours, ref = toks
    assert_same_encode(ours, ref, first, second)
    assert_same_encode(ours, ref, first, second, add_special_tokens=False)
    assert_same_encode(ours, ref, first.split(), second.split(), is_pretokenized=True)


def test_batches_with_padding(toks):
    ours, ref = toks
    batch = HARD_TEXTS + PAIRS
    for kwargs in [
        {},
        {"direction": "left", "pad_to_multiple_of": 8},
        {"length": 80, "pad_id": 3, "pad_type_id": 2},
    ]:
        for t in (ours, ref):
            t.enable_padding(**kwargs)
        for a, b in zip(ours.encode_batch(batch), ref.encode_batch(batch), strict=True):
            assert_same_encoding(a, b, kwargs)
    assert ours.decode_batch([[101, 7592, 102]]) == ref.decode_batch([[101, 7592, 102]])


LONG_PAIR = ("one two three four five six seven", "eight nine ten eleven twelve thirteen fourteen fifteen")


@pytest.mark.parametrize(
    "max_length,stride,strategy,direction",
    list(
        itertools.product([7, 12], [0, 2], ["longest_first", "only_first", "only_second"], ["left", "right"])
    ),
)
def test_truncation_and_overflow(toks, max_length, stride, strategy, direction):
    ours, ref = toks
    for t in (ours, ref):
        t.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
    assert ours.truncation == ref.truncation
    for first, second in [*PAIRS, LONG_PAIR]:
        try:
            expected = ref.encode(first, second)
        except BaseException:  # the reference panics where we raise ValueError
            with pytest.raises(ValueError):
                ours.encode(first, second)
            continue
        assert_same_encoding(ours.encode(first, second), expected, (first, second))
    if strategy != "only_second":
        for text in HARD_TEXTS:
            assert_same_encode(ours, ref, text)


def test_added_tokens(toks):
    ours, ref = (Tokenizer.from_file(MINILM), tokenizers.Tokenizer.from_file(str(MINILM)))
    for t, cls in ((ours, AddedToken), (ref, tokenizers.AddedToken)):
        t.no_padding()
        assert (
            t.add_tokens(
                ["hello world", cls("ony", single_word=True), cls("<mask>", lstrip=True, rstrip=True)]
            )
            == 3
        )
        assert t.add_special_tokens(["<special>", cls("[NEW]", normalized=True)]) == 2
    for text in [
        "Hello World ony anthony  <mask>  x <MASK> <special> [new] [NEW]",
        "hello world<mask>ony",
        *HARD_TEXTS,
    ]:
        assert_same_encode(ours, ref, text)
        ids = ref.encode(text).ids
        assert ours.decode(ids) == ref.decode(ids) and ours.decode(ids, False) == ref.decode(ids, False)
    assert ours.get_vocab() == ref.get_vocab() and ours.get_vocab_size() == ref.get_vocab_size()
    for t in (ours, ref):
        t.encode_special_tokens = True
    assert_same_encode(ours, ref, "x [CLS] <special> y")
    # what we write, the reference loads identically
    assert json.loads(tokenizers.Tokenizer.from_str(ours.to_str()).to_str()) == json.loads(ref.to_str())


def test_vocab_and_lookups(toks):
    ours, ref = toks
    assert ours.get_vocab_size() == ref.get_vocab_size() and ours.get_vocab_size(False) == ref.get_vocab_size(
        False
    )
    assert ours.token_to_id("hello") == ref.token_to_id("hello") and ours.token_to_id("zzzq") is None
    assert ours.id_to_token(7592) == ref.id_to_token(7592) and ours.id_to_token(10**9) is None
    assert ours.num_special_tokens_to_add(True) == ref.num_special_tokens_to_add(True) == 3


def test_encoding_helpers(toks):
    ours, ref = toks
    a, b = ours.encode("Hello wonderful world", "pair here"), ref.encode("Hello wonderful world", "pair here")
    for w in range(4):
        for s in (0, 1):
            assert a.word_to_tokens(w, s) == b.word_to_tokens(w, s)
            assert a.word_to_chars(w, s) == b.word_to_chars(w, s)
    for i in range(len(b.ids) + 1):
        assert a.token_to_word(i) == b.token_to_word(i)
        assert a.token_to_chars(i) == b.token_to_chars(i)
        assert a.token_to_sequence(i) == b.token_to_sequence(i)
    for c in range(25):
        assert a.char_to_token(c) == b.char_to_token(c) and a.char_to_word(c, 1) == b.char_to_word(c, 1)
