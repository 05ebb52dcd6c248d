"""PreTrainedTokenizer / AutoTokenizer parity with transformers 4.57 on real and legacy tokenizer folders.

Ids, masks, token type ids, offsets, special-tokens masks, overflow, word/sequence ids and decoding,
for every padding / truncation combination, on awkward text.
"""

from __future__ import annotations

import itertools

import pytest

from tests.test_tokapi_common import assert_same_batch, call_both, fresh_pair, load_pair, same_json
from tests.tok_parity import HARD_TEXTS

transformers = pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

NAMES = [
    "minilm",
    "minilm_legacy",
    "gpt2_legacy",
    "gpt2_json",
    "gpt2_model_type",
    "roberta_legacy",
    "llama_legacy",
    "llama_json",
    "t5_legacy",
    "t5_json",
    "bert_added",
    "llama_added",
]
EXTRA = [
    "<s> </s> <unk> <|endoftext|> <pad> <extra_id_0> tokens",
    "x" * 300,
    "1234567890" * 5,
    "\u200d\u200d",
]
TEXTS = HARD_TEXTS + EXTRA
PAIRS = [
    ("Hello world!", "How are you today?"),
    ("", "second only"),
    ("a b c d e f g h i j k", "x"),
    ("é 😀", ""),
]
RETURNS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)


@pytest.mark.parametrize("name", NAMES)
def test_special_tokens_layout_methods(name):
    from tests.test_tokapi_classes import assert_same_special_layout

    assert_same_special_layout(*load_pair(name))


def _with_pad(name: str):
    ours, ref = load_pair(name)
    if ref.pad_token is None:  # GPT-2 and Llama ship without a pad token: use eos, as users do
        ours, ref = fresh_pair(name)
        ours.pad_token = ours.eos_token
        ref.pad_token = ref.eos_token
    return ours, ref


@pytest.mark.parametrize("name", NAMES)
def test_backend_json_and_attributes(name):
    ours, ref = load_pair(name)
    import json

    ours_json, ref_json = (
        json.loads(ours.backend_tokenizer.to_str()),
        json.loads(ref.backend_tokenizer.to_str()),
    )
    for state in (ours_json, ref_json):  # the last call's settings stay on the backend (as in transformers)
        state.pop("truncation"), state.pop("padding")
    assert same_json(ours_json, ref_json)
    assert type(ours).__name__ == type(ref).__name__
    for attr in (
        "model_max_length", "padding_side", "truncation_side", "clean_up_tokenization_spaces", "model_input_names",
        "all_special_tokens", "all_special_ids", "special_tokens_map", "additional_special_tokens",
        "additional_special_tokens_ids", "vocab_size", "name_or_path", "is_fast",
        "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
        "bos_token_id", "eos_token_id", "unk_token_id", "sep_token_id", "pad_token_id", "cls_token_id", "mask_token_id",
        "pad_token_type_id", "max_len_single_sentence", "max_len_sentences_pair",
    ):  # fmt: skip
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert len(ours) == len(ref)
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.get_added_vocab() == ref.get_added_vocab()
    assert {i: str(t) for i, t in ours.added_tokens_decoder.items()} == {
        i: str(t) for i, t in ref.added_tokens_decoder.items()
    }
    assert ours.num_special_tokens_to_add(pair=True) == ref.num_special_tokens_to_add(pair=True)


@pytest.mark.parametrize("name", NAMES)
def test_single_texts(name):
    ours, ref = load_pair(name)
    for text in TEXTS:
        a, b = ours(text, **RETURNS), ref(text, **RETURNS)
        assert_same_batch(a, b, repr(text))
        assert ours.tokenize(text) == ref.tokenize(text), repr(text)
        assert ours.encode(text, add_special_tokens=False) == ref.encode(text, add_special_tokens=False)
        for skip in (False, True):
            assert ours.decode(b["input_ids"], skip_special_tokens=skip) == ref.decode(
                b["input_ids"], skip_special_tokens=skip
            ), repr(text)
        for clean in (False, True):
            assert ours.decode(b["input_ids"], clean_up_tokenization_spaces=clean) == ref.decode(
                b["input_ids"], clean_up_tokenization_spaces=clean
            )
        tokens = ref.convert_ids_to_tokens(b["input_ids"])
        assert ours.convert_ids_to_tokens(b["input_ids"]) == tokens
        assert ours.convert_ids_to_tokens(
            b["input_ids"], skip_special_tokens=True
        ) == ref.convert_ids_to_tokens(b["input_ids"], skip_special_tokens=True)
        assert ours.convert_tokens_to_ids(tokens) == ref.convert_tokens_to_ids(tokens)
        assert ours.convert_tokens_to_string(tokens) == ref.convert_tokens_to_string(tokens)


@pytest.mark.parametrize("name", NAMES)
def test_pairs_and_batches(name):
    ours, ref = load_pair(name)
    for first, second in PAIRS:
        assert_same_batch(
            ours(first, second, **RETURNS), ref(first, second, **RETURNS), repr((first, second))
        )
    firsts, seconds = [p[0] for p in PAIRS], [p[1] for p in PAIRS]
    assert_same_batch(ours(firsts, seconds, **RETURNS), ref(firsts, seconds, **RETURNS))
    assert_same_batch(ours(TEXTS, **RETURNS), ref(TEXTS, **RETURNS))
    kw = dict(return_token_type_ids=True, return_attention_mask=False, add_special_tokens=False)
    assert_same_batch(ours(TEXTS[:5], **kw), ref(TEXTS[:5], **kw))
    assert_same_batch(ours(text_target=TEXTS[:3]), ref(text_target=TEXTS[:3]))
    assert_same_batch(ours(TEXTS[:3], text_target=TEXTS[3:6]), ref(TEXTS[:3], text_target=TEXTS[3:6]))
    ids = ref(TEXTS)["input_ids"]
    assert ours.batch_decode(ids, skip_special_tokens=True) == ref.batch_decode(ids, skip_special_tokens=True)


PADDINGS = [False, True, "max_length"]
TRUNCATIONS = [None, True, "only_first", "only_second"]
ALIASES = [
    dict(padding="longest"),
    dict(padding="do_not_pad"),
    dict(truncation="longest_first", max_length=5),
]
ALIASES += [dict(truncation="do_not_truncate"), dict(truncation=False, max_length=5), dict(max_length=5)]


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "roberta_legacy", "llama_json", "t5_json"])
def test_padding_truncation_grid(name):
    ours, ref = _with_pad(name)
    batch = ["short", "a longer sentence here", "", "é 😀 北京"]
    pairs = (batch, ["x", "second sentence is long", "y z", ""])
    grid = itertools.product(PADDINGS, TRUNCATIONS, [None, 9], ["left", "right"], [None, 4], [False, True])
    for kw in ALIASES:
        assert_same_batch(ours(*pairs, **kw), ref(*pairs, **kw), str(kw))
    for padding, truncation, max_length, side, multiple, pair in grid:
        args = pairs if pair else (batch,)
        kw = dict(padding=padding, truncation=truncation, max_length=max_length, pad_to_multiple_of=multiple)
        kw.update(padding_side=side, return_special_tokens_mask=True)
        where = f"{kw} pair={pair}"
        a, b = call_both(ours, ref, *args, **kw)
        if b is not None:
            assert_same_batch(a, b, where)
        a, b = call_both(ours, ref, args[0][1], *(x[1] for x in args[1:]), **kw)
        if b is not None:
            assert_same_batch(a, b, "single " + where)


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_json", "t5_legacy"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_overflow_and_stride(name, side):
    ours, ref = _with_pad(name)
    ours.truncation_side = ref.truncation_side = side
    try:
        texts = ["one two three four five six seven eight", "tiny", "tabs\t\tand\nnewlines é 😀"]
        for truncation, stride, max_length, pair in itertools.product(
            [True, "only_first", "only_second"], [0, 2, 4], [7, 12], [False, True]
        ):
            args = (texts, texts[::-1]) if pair else (texts,)
            kw = dict(
                truncation=truncation, max_length=max_length, stride=stride, return_overflowing_tokens=True
            )
            kw.update(RETURNS, padding=stride == 2)
            a, b = call_both(ours, ref, *args, **kw)
            if b is not None:
                assert_same_batch(a, b, str(kw))
            a, b = call_both(ours, ref, *(x[0] for x in args), **kw)
            if b is not None:
                assert_same_batch(a, b, "single " + str(kw))
    finally:
        ours.truncation_side = ref.truncation_side = "right"


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_legacy", "t5_json"])
def test_return_tensors(name):
    import numpy as np
    import torch

    ours, ref = _with_pad(name)
    for tensors in ("pt", "np"):
        a = ours(TEXTS[:4], padding=True, return_tensors=tensors)
        b = ref(TEXTS[:4], padding=True, return_tensors=tensors)
        assert_same_batch(a, b, tensors)
        a = ours("one text", return_tensors=tensors)
        b = ref("one text", return_tensors=tensors)
        assert_same_batch(a, b, tensors)
    a = ours(TEXTS[:2], padding=True, return_tensors="pt").to("cpu")
    assert a["input_ids"].dtype == torch.int64 and a.input_ids.device.type == "cpu"
    ids = ref(TEXTS[:3], padding=True, return_tensors="pt")["input_ids"]
    assert ours.batch_decode(ids) == ref.batch_decode(ids)
    assert ours.decode(ids[0]) == ref.decode(ids[0])
    assert ours.decode(np.asarray(ids[1])) == ref.decode(np.asarray(ids[1]))
    assert ours.decode(int(ids[0][1])) == ref.decode(int(ids[0][1]))
    with pytest.raises(ValueError, match="padding=True"):
        ours(["a", "a much longer text here"], return_tensors="pt")
    with pytest.raises(ValueError, match="return_tensors"):
        ours("a", return_tensors="tf2")


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_json", "t5_legacy"])
def test_split_into_words(name):
    ours, ref = fresh_pair(name, add_prefix_space=True) if "gpt2" in name else load_pair(name)
    words = [["Hello", "world", "!"], ["é", "😀", "北京", ""], ["single"]]
    for args in ([words], [words[0]], [words, words[::-1]], [words[0], words[1]]):
        assert_same_batch(
            ours(*args, is_split_into_words=True, **RETURNS), ref(*args, is_split_into_words=True, **RETURNS)
        )


def test_split_into_words_needs_prefix_space():
    ours, _ = load_pair("gpt2_json")
    with pytest.raises(ValueError, match="add_prefix_space=True"):
        ours(["a", "b"], is_split_into_words=True)


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "t5_json"])
def test_char_and_word_maps(name):
    ours, ref = load_pair(name)
    texts = ["Hello world, héllo 😀!", "second text here"]
    a, b = ours(texts, texts[::-1]), ref(texts, texts[::-1])
    for i in range(2):
        for c in range(len(texts[i]) + 1):
            for seq in (0, 1):
                assert a.char_to_token(i, c, sequence_index=seq) == b.char_to_token(i, c, sequence_index=seq)
                assert a.char_to_word(i, c, sequence_index=seq) == b.char_to_word(i, c, sequence_index=seq)
        for t in range(len(b["input_ids"][i])):
            assert a.token_to_chars(i, t) == b.token_to_chars(i, t)
            assert a.token_to_word(i, t) == b.token_to_word(i, t)
            assert a.token_to_sequence(i, t) == b.token_to_sequence(i, t)
        for w in range(3):
            assert a.word_to_tokens(i, w) == b.word_to_tokens(i, w)
            assert a.word_to_chars(i, w) == b.word_to_chars(i, w)
    single_a, single_b = ours(texts[0]), ref(texts[0])
    assert single_a.char_to_token(3) == single_b.char_to_token(3)
    last = len(single_b["input_ids"]) - 2  # the reference fails on negative indices; ours counts from the end
    assert single_a.token_to_word(last - len(single_b["input_ids"])) == single_b.token_to_word(last)
    assert single_a.words() == single_b.words()
    assert single_a[0].ids == single_b[0].ids


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_json", "t5_json", "roberta_legacy"])
def test_add_tokens_and_special_tokens(name):
    ours, ref = fresh_pair(name)
    for tok in (ours, ref):
        assert tok.add_tokens(["newtok", "[NEW]", "hello"]) in (2, 3)
    assert ours.add_special_tokens(
        {"additional_special_tokens": ["<tool>", "<call>"]}
    ) == ref.add_special_tokens({"additional_special_tokens": ["<tool>", "<call>"]})
    assert ours.add_special_tokens({"pad_token": "<PADX>", "cls_token": "<CLSX>"}) == ref.add_special_tokens(
        {"pad_token": "<PADX>", "cls_token": "<CLSX>"}
    )
    text = "a newtok b <tool>c<call> [NEW] <PADX> <CLSX> hello"
    assert_same_batch(ours(text, **RETURNS), ref(text, **RETURNS))
    ids = ref(text)["input_ids"]
    assert ours.decode(ids, skip_special_tokens=True) == ref.decode(ids, skip_special_tokens=True)
    for attr in (
        "additional_special_tokens",
        "all_special_tokens",
        "all_special_ids",
        "pad_token_id",
        "cls_token",
    ):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert len(ours) == len(ref) and ours.get_added_vocab() == ref.get_added_vocab()
    assert ours.add_special_tokens(
        {"additional_special_tokens": ["<more>"]}, replace_additional_special_tokens=False
    ) == ref.add_special_tokens(
        {"additional_special_tokens": ["<more>"]}, replace_additional_special_tokens=False
    )
    assert ours.additional_special_tokens == ref.additional_special_tokens
    ours.pad_token_id = ref.pad_token_id = 5
    assert ours.pad_token == ref.pad_token
    ours.bos_token = ref.bos_token = None
    assert ours.bos_token_id is None and ours.special_tokens_map == ref.special_tokens_map


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_json"])
def test_pad_method(name):
    import torch

    ours, ref = _with_pad(name)
    enc = [ref(t) for t in ["short", "a much longer piece of text", ""]]
    features = [{k: v for k, v in e.items()} for e in enc]
    for kw in (
        {}, {"padding": "max_length", "max_length": 12}, {"pad_to_multiple_of": 8}, {"padding_side": "left"},
        {"return_tensors": "pt"}, {"return_attention_mask": False}, {"padding": False},
    ):  # fmt: skip
        assert_same_batch(ours.pad(features, **kw), ref.pad(features, **kw), str(kw))
    batch = ref([t for t in ["short", "a much longer piece of text"]], return_special_tokens_mask=True)
    assert_same_batch(ours.pad(dict(batch)), ref.pad(dict(batch)))
    single = {k: v for k, v in ref("one").items()}
    assert_same_batch(
        ours.pad(single, padding="max_length", max_length=6),
        ref.pad(single, padding="max_length", max_length=6),
    )
    tensors = [{"input_ids": torch.tensor(f["input_ids"])} for f in features]
    assert_same_batch(ours.pad(tensors), ref.pad(tensors))
    with pytest.raises(ValueError, match="input_ids"):
        ours.pad([{"ids": [1]}])


def test_model_max_length_defaults():
    ours, ref = load_pair("minilm")
    a, b = ours("word " * 600, truncation=True), ref("word " * 600, truncation=True)
    assert_same_batch(a, b)
    assert len(a["input_ids"]) == 512
    assert_same_batch(ours("hi", padding="max_length"), ref("hi", padding="max_length"))
    ours, ref = load_pair("llama_json")
    assert ours.model_max_length == ref.model_max_length == int(1e30)
    assert_same_batch(ours("hi " * 10, truncation=True), ref("hi " * 10, truncation=True))
    assert_same_batch(ours("hi", max_length=3), ref("hi", max_length=3))


ALPHABET = list("abcdefghij ABC  \t\n.,!?'-0123456789") + [
    "é", "ü", "ß", "北", "京", "😀", "👍🏽", "\u200d", "\u0301", "مر", "ﬁ", "①", "\x00", "\u3000", "<s>", "</s>",
    "[SEP]", "[MASK]", "<unk>", "<pad>", "<|endoftext|>", "▁", "<extra_id_1>", " ##ing", "don't",
]  # fmt: skip


@pytest.mark.parametrize("name", ["minilm", "gpt2_json", "llama_json", "t5_json"])
def test_random_texts_and_arguments(name):
    import random

    rng = random.Random(1234)
    ours, ref = _with_pad(name)

    def text() -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 20)))

    for _ in range(60):
        batch = [text() for _ in range(rng.randint(1, 3))]
        args = (batch, [text() for _ in batch]) if rng.random() < 0.4 else (batch,)
        kw = dict(RETURNS)
        if rng.random() < 0.5:
            kw["padding"] = rng.choice([True, "max_length", "longest"])
        if rng.random() < 0.5:
            kw["truncation"] = rng.choice([True, "only_first", "only_second", "longest_first"])
        if rng.random() < 0.7:
            kw["max_length"] = rng.randint(1, 16)
        for key, p, values in (("stride", 0.3, [0, 1, 3]), ("return_overflowing_tokens", 0.3, [True]),
                               ("padding_side", 0.3, ["left", "right"]), ("pad_to_multiple_of", 0.2, [2, 8]),
                               ("add_special_tokens", 0.2, [False])):  # fmt: skip
            if rng.random() < p:
                kw[key] = rng.choice(values)
        a, b = call_both(ours, ref, *args, **kw)
        if b is None:
            continue
        assert_same_batch(a, b, f"{args} {kw}")
        for ids in b["input_ids"]:
            for skip in (False, True):
                assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)
