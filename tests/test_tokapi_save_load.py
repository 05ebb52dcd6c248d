"""save_pretrained / from_pretrained round trips with the reference, load-time options, and bad input."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from pretrained import AutoTokenizer, PreTrainedTokenizer, PreTrainedTokenizerFast
from tests.test_tokapi_common import (
    MINILM,
    assert_same_batch,
    fresh_pair,
    load_pair,
    same_json,
    tokenizer_dirs,
)

transformers = pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

TEXTS = ["Hello world!", "", "é 😀 北京 <s> [SEP] </s>", "  spaces\tand\nlines  ", "newtok <tool> x"]


def _ref_load(path, **kwargs):
    logging.disable(logging.WARNING)
    try:
        return transformers.AutoTokenizer.from_pretrained(path, **kwargs)
    finally:
        logging.disable(logging.NOTSET)


def _same_tokenizers(ours, ref):
    assert same_json(json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str()))
    for attr in ("special_tokens_map", "all_special_ids", "model_max_length", "padding_side", "chat_template",
                 "clean_up_tokenization_spaces", "model_input_names", "truncation_side"):  # fmt: skip
        assert getattr(ours, attr) == getattr(ref, attr), attr
    kw = dict(padding=True, return_offsets_mapping=True, return_special_tokens_mask=True)
    assert_same_batch(ours(TEXTS, **kw), ref(TEXTS, **kw))
    ids = ref(TEXTS, padding=True)["input_ids"]
    assert ours.batch_decode(ids, skip_special_tokens=True) == ref.batch_decode(ids, skip_special_tokens=True)


@pytest.mark.parametrize(
    "name", ["minilm", "minilm_legacy", "gpt2_json", "roberta_legacy", "llama_json", "t5_legacy"]
)
def test_save_then_reference_loads_identical(name, tmp_path):
    ours, ref = fresh_pair(name)
    for tok in (ours, ref):
        tok.add_tokens(["newtok"])
        tok.add_special_tokens({"additional_special_tokens": ["<tool>"]})
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"
        tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    files = ours.save_pretrained(tmp_path / "ours")
    ref.save_pretrained(tmp_path / "ref")
    assert {p.split("/")[-1] for p in files} >= {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    }
    ours_config = json.loads((tmp_path / "ours/tokenizer_config.json").read_text())
    ref_config = json.loads((tmp_path / "ref/tokenizer_config.json").read_text())
    assert ours_config["added_tokens_decoder"] == ref_config["added_tokens_decoder"]
    assert (tmp_path / "ours/chat_template.jinja").read_text() == ours.chat_template
    assert json.loads((tmp_path / "ours/special_tokens_map.json").read_text()) == json.loads(
        (tmp_path / "ref/special_tokens_map.json").read_text()
    )
    reloaded_by_ref = _ref_load(tmp_path / "ours")
    assert type(reloaded_by_ref).__name__ == type(ref).__name__
    _same_tokenizers(AutoTokenizer.from_pretrained(tmp_path / "ours"), reloaded_by_ref)
    _same_tokenizers(AutoTokenizer.from_pretrained(tmp_path / "ref"), _ref_load(tmp_path / "ref"))


def test_multiple_chat_templates_saved_and_loaded(tmp_path):
    ours, ref = fresh_pair("minilm")
    templates = {"default": "{{ messages[0]['content'] }}", "tool_use": "TOOLS {{ tools | tojson }}"}
    ours.chat_template = dict(templates)
    ref.chat_template = dict(templates)
    ours.save_pretrained(tmp_path / "o")
    assert (tmp_path / "o/additional_chat_templates/tool_use.jinja").read_text() == templates["tool_use"]
    back, ref_back = AutoTokenizer.from_pretrained(tmp_path / "o"), _ref_load(tmp_path / "o")
    assert back.chat_template == ref_back.chat_template == templates
    msgs = [{"role": "user", "content": "hi"}]
    tools = [{"type": "function", "function": {"name": "f"}}]
    for kw in ({}, {"tools": tools}, {"chat_template": "tool_use"}):
        assert back.apply_chat_template(msgs, tokenize=False, **kw) == ref_back.apply_chat_template(
            msgs, tokenize=False, **kw
        )
    ours.chat_template = {"a": "x", "b": "y"}
    with pytest.raises(ValueError, match="multiple chat templates"):
        ours.apply_chat_template(msgs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(padding_side="left", truncation_side="left", model_max_length=7),
        dict(pad_token="[UNK]", clean_up_tokenization_spaces=True),
        dict(do_lower_case=False),
        dict(model_input_names=["input_ids", "attention_mask"]),
        dict(additional_special_tokens=["[NEWSPECIAL]"]),
        dict(split_special_tokens=True),
    ],
    ids=str,
)
def test_load_time_options(kwargs):
    ours, ref = fresh_pair("minilm", **kwargs)
    _same_tokenizers(ours, ref)
    text = "Hello World [SEP] [NEWSPECIAL] x " * 3
    assert_same_batch(ours(text, truncation=True), ref(text, truncation=True))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("llama_json", dict(legacy=False)),
        ("llama_json", dict(add_prefix_space=False)),
        ("llama_json", dict(add_eos_token=True, add_bos_token=False)),
        ("gpt2_json", dict(add_prefix_space=True)),
        ("roberta_legacy", dict(add_prefix_space=True, trim_offsets=False)),
        ("t5_json", dict(add_prefix_space=False)),
        ("t5_legacy", dict(extra_ids=5, legacy=False)),
        ("minilm_legacy", dict(do_lower_case=False, strip_accents=True)),
        # from_slow with a tokenizer.json: the slow class gets add_prefix_space=None (no prefix space)
        ("llama_json", dict(from_slow=True)),
        ("llama_json", dict(from_slow=True, legacy=False)),
        ("t5_json", dict(from_slow=True, legacy=False)),
        ("llama_legacy", dict(legacy=False, add_prefix_space=True)),
    ],
    ids=str,
)
def test_class_specific_options(name, kwargs):
    ours, ref = fresh_pair(name, **kwargs)
    if ref.pad_token is None:
        ours.pad_token, ref.pad_token = ours.eos_token, ref.eos_token
    _same_tokenizers(ours, ref)
    assert_same_batch(ours(TEXTS, TEXTS[::-1]), ref(TEXTS, TEXTS[::-1]))


def test_llama_bos_eos_setters():
    ours, ref = fresh_pair("llama_json")
    ours.pad_token, ref.pad_token = ours.eos_token, ref.eos_token
    for tok in (ours, ref):
        tok.add_eos_token = True
        tok.add_bos_token = False
    assert_same_batch(ours(TEXTS, TEXTS[::-1]), ref(TEXTS, TEXTS[::-1]))
    assert ours.num_special_tokens_to_add(pair=True) == ref.num_special_tokens_to_add(pair=True)


def test_generic_class_and_tokenizer_object(tmp_path):
    ours, ref = load_pair("minilm")
    generic = PreTrainedTokenizerFast.from_pretrained(MINILM)
    ref_generic = transformers.PreTrainedTokenizerFast.from_pretrained(MINILM)
    assert type(generic) is PreTrainedTokenizer
    assert_same_batch(generic(TEXTS), ref_generic(TEXTS))
    wrapped = PreTrainedTokenizer(
        tokenizer_object=ours.backend_tokenizer, pad_token="[PAD]", model_max_length=16
    )
    ref_wrapped = transformers.PreTrainedTokenizerFast(
        tokenizer_object=ref.backend_tokenizer, pad_token="[PAD]", model_max_length=16
    )
    assert_same_batch(
        wrapped(TEXTS, padding=True, truncation=True), ref_wrapped(TEXTS, padding=True, truncation=True)
    )
    from_file = PreTrainedTokenizer(tokenizer_file=MINILM / "tokenizer.json")
    assert from_file("hi")["input_ids"] == ref_generic("hi")["input_ids"]


def test_unknown_class_falls_back_to_generic(tmp_path, caplog):
    shutil.copy(MINILM / "tokenizer.json", tmp_path)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "SomeFutureTokenizer"}))
    with caplog.at_level(logging.WARNING):
        tok = AutoTokenizer.from_pretrained(tmp_path)
    assert "SomeFutureTokenizer" in caplog.text
    assert type(tok) is PreTrainedTokenizer and tok("hello")["input_ids"] == [101, 7592, 102]


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        AutoTokenizer.from_pretrained(tmp_path / "no-such-folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        AutoTokenizer.from_pretrained(tmp_path / "empty")
    legacy_missing = tmp_path / "bert_without_vocab"
    legacy_missing.mkdir()
    (legacy_missing / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        AutoTokenizer.from_pretrained(legacy_missing)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": {')
    with pytest.raises(ValueError, match="tokenizer.json"):
        AutoTokenizer.from_pretrained(corrupt)
    bad_config = tmp_path / "bad_config"
    shutil.copytree(MINILM, bad_config, ignore=shutil.ignore_patterns("*.safetensors"))
    (bad_config / "tokenizer_config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="tokenizer_config.json"):
        AutoTokenizer.from_pretrained(bad_config)
    with pytest.raises(OSError, match="from_pretrained"):
        AutoTokenizer()
    with pytest.raises(ValueError, match="tokenizer_object"):
        PreTrainedTokenizer()
    ours, _ = load_pair("minilm")
    with pytest.raises(NotADirectoryError):
        ours.save_pretrained(MINILM / "vocab.txt")


def test_bad_call_arguments():
    ours, ref = load_pair("minilm")
    gpt2, _ = load_pair("gpt2_json")
    with pytest.raises(ValueError, match="pad_token"):
        gpt2(["a", "b c"], padding=True)
    with pytest.raises(ValueError, match="padding='sideways' is not valid"):
        ours("a", padding="sideways")
    with pytest.raises(ValueError, match="truncation='middle' is not valid"):
        ours("a", truncation="middle", max_length=4)
    with pytest.raises(ValueError, match="padding_side"):
        ours(["a"], padding=True, padding_side="middle")
    with pytest.raises(ValueError, match="text input must be of type"):
        ours(123)
    with pytest.raises(ValueError, match="text input must be of type"):
        ours([1, 2, 3])
    with pytest.raises(ValueError, match="either `text` or `text_target`"):
        ours()
    with pytest.raises(TypeError, match="text_pair"):
        ours(["a", "b"], "c")
    with pytest.raises(ValueError, match="batch length"):
        ours(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="multiple of pad_to_multiple_of"):
        ours(["a"], padding=True, truncation=True, max_length=10, pad_to_multiple_of=4)
    with pytest.raises(ValueError, match="non-string"):
        ours.pad_token = 5
    with pytest.raises(ValueError, match="not a special token"):
        ours.add_special_tokens({"foo_token": "x"})
    with pytest.raises(TypeError, match="str or AddedToken"):
        ours.add_tokens([1])
    with pytest.raises(ValueError, match="return_dict=True"):
        ours.apply_chat_template(
            [{"role": "user", "content": "x"}], chat_template="x", tokenize=False, return_dict=True
        )
    with pytest.raises(ValueError, match="chat_template is not set"):
        ours.apply_chat_template([{"role": "user", "content": "x"}])
    for bad in (dict(max_length=-1), dict(max_length=2.5), dict(stride=-1), dict(pad_to_multiple_of=-8)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ours(["a"], padding=True, truncation=True, **bad)
    with pytest.raises(TypeError, match="foo"):
        ours("a", foo=1)
    with pytest.raises(ValueError, match="-100 label padding"):
        ours.decode([101, -100])
    with pytest.raises(ValueError, match="batch_decode"):
        ours.decode([[101, 102]])
    assert (
        ours("a b c", max_length=3)["input_ids"] == ref("a b c", max_length=3)["input_ids"]
    )  # implied truncation
    for text, pair in (
        ("a b c", None),
        ("a b c", "d e"),
    ):  # max_length below the special tokens: no truncation
        assert ours(text, pair, max_length=1)["input_ids"] == ref(text, pair, max_length=1)["input_ids"]


def test_cached_repo_id(tmp_path, monkeypatch):
    snapshot = tmp_path / "hub/models--org--tiny-bert/snapshots/abc123"
    shutil.copytree(tokenizer_dirs()["minilm_legacy"], snapshot)
    (tmp_path / "hub/models--org--tiny-bert/refs").mkdir()
    (tmp_path / "hub/models--org--tiny-bert/refs/main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    tok = AutoTokenizer.from_pretrained("org/tiny-bert")
    assert tok("hello world")["input_ids"] == [101, 7592, 2088, 102]
    assert AutoTokenizer.from_pretrained("org/tiny-bert", revision="abc123").vocab_size == 30522
    with pytest.raises(FileNotFoundError, match="org/tiny-bertt"):
        AutoTokenizer.from_pretrained("org/tiny-bertt")


@pytest.mark.parametrize("name", ["minilm", "llama_json", "t5_json"])
def test_pickle_and_deepcopy(name):
    import copy
    import pickle

    ours, _ = load_pair(name)
    for clone in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours)):
        assert type(clone).__name__ == type(ours).__name__
        assert_same_batch(clone(TEXTS, return_offsets_mapping=True), ours(TEXTS, return_offsets_mapping=True))
        assert clone.special_tokens_map == ours.special_tokens_map
    batch = ours(TEXTS)
    restored = pickle.loads(pickle.dumps(batch))
    assert restored["input_ids"] == batch["input_ids"] and restored.word_ids(2) == batch.word_ids(2)


def test_config_names_a_plain_added_token_as_special(tmp_path):
    """A token tokenizer.json adds as plain, named in tokenizer_config.json as a special token (a string),
    turns special on load (transformers adds every saved added token again): decoding skips it."""
    tokenizers = pytest.importorskip("tokenizers")
    backend = tokenizers.Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    backend.add_tokens([tokenizers.AddedToken("<tool>", rstrip=True), "<|im_end|>", "plain"])
    backend.save(str(tmp_path / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "additional_special_tokens": ["<tool>"]}
    config.update(eos_token="<|im_end|>", unk_token="[UNK]")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    ours, ref = AutoTokenizer.from_pretrained(tmp_path), _ref_load(tmp_path)
    text = "a <tool> b<|im_end|> plain [SEP]"
    ids = ref(text)["input_ids"]
    assert ours(text)["input_ids"] == ids
    for skip in (True, False):
        assert ours.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)
    assert {i: str(t) for i, t in ours.added_tokens_decoder.items()} == {
        i: str(t) for i, t in ref.added_tokens_decoder.items()
    }
    assert same_json(json.loads(ours.backend_tokenizer.to_str()), json.loads(ref.backend_tokenizer.to_str()))


@pytest.mark.parametrize(
    "name", ["minilm_legacy", "gpt2_legacy", "roberta_legacy", "llama_legacy", "t5_legacy"]
)
def test_saved_files_match_the_reference(name, tmp_path):
    """Same files (added_tokens.json too) and the same tokenizer_config.json: the slow class's own init kwargs
    (errors, legacy, sp_model_kwargs ...) are kept, the slow class's add_prefix_space default is not."""
    import os

    ours, ref = fresh_pair(name)
    for tok in (ours, ref):
        tok.add_tokens(["newtok", "é€"])
    ours.save_pretrained(tmp_path / "ours")
    ref.save_pretrained(tmp_path / "ref")
    assert sorted(os.listdir(tmp_path / "ours")) == sorted(os.listdir(tmp_path / "ref"))
    for file in ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"):
        assert json.loads((tmp_path / "ours" / file).read_text()) == json.loads(
            (tmp_path / "ref" / file).read_text()
        )
    assert getattr(ours, "add_prefix_space", None) == getattr(ref, "add_prefix_space", None)


def test_empty_batch_and_sanitize_special_tokens():
    ours, ref = fresh_pair("minilm")
    with pytest.raises(ValueError, match="empty"):  # the reference fails with an IndexError
        ours([])
    with pytest.raises(ValueError, match="empty"):
        ours.batch_encode_plus([])
    assert ours([], is_split_into_words=True)["input_ids"] == ref([], is_split_into_words=True)["input_ids"]
    assert ours.sanitize_special_tokens() == ref.sanitize_special_tokens()
    assert ours.all_special_ids == ref.all_special_ids and len(ours) == len(ref)


@pytest.mark.parametrize("name", ["llama_legacy", "llama_json", "t5_json", "gpt2_json"])
def test_vocab_file_and_can_save_slow(name):
    ours, ref = load_pair(name)
    assert ours.can_save_slow_tokenizer == ref.can_save_slow_tokenizer
    if hasattr(ref, "vocab_file"):
        assert ours.vocab_file == ref.vocab_file
