"""SentencePiece ``.model`` parsing and legacy-file -> tokenizer.json conversion vs the reference.

The parser is checked field by field against protobuf's ``ModelProto``; each converter's dict against
``json.loads(transformers.convert_slow_tokenizer(slow).to_str())``.
"""

from __future__ import annotations

import json
import logging
import struct

import pytest

from pretrained.tokenizers import legacy
from pretrained.tokenizers.sentencepiece_model import SentencePieceModel
from tests.test_tokapi_common import GPT2_FILES, MINILM, MISTRAL_MODEL, SITE, train_t5_model

transformers = pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")
from sentencepiece import sentencepiece_model_pb2 as pb  # noqa: E402
from transformers.convert_slow_tokenizer import convert_slow_tokenizer  # noqa: E402

SPM_FILES = sorted((SITE / "mistral_common/data").glob("*.model*"))


@pytest.fixture(scope="module")
def t5_model(tmp_path_factory):
    return train_t5_model(tmp_path_factory.mktemp("t5"))


@pytest.fixture(scope="module")
def bpe_model(tmp_path_factory):
    import sentencepiece as spm

    from tests.test_tokapi_common import CORPUS

    folder = tmp_path_factory.mktemp("bpe")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 20), model_prefix=str(folder / "m"), vocab_size=420, model_type="bpe", hard_vocab_limit=False,
        byte_fallback=True, user_defined_symbols=["<tool>", "XX"], control_symbols=["<ctl>"], split_digits=True,
        character_coverage=1.0, minloglevel=2, normalization_rule_name="nfkc_cf", add_dummy_prefix=False,
    )  # fmt: skip
    return folder / "m.model"


def _assert_same_proto(path):
    ref = pb.ModelProto()
    ref.ParseFromString(path.read_bytes())
    ours = SentencePieceModel.from_file(path)
    assert [(p.piece, p.score, p.type) for p in ours.pieces] == [
        (p.piece, p.score, p.type) for p in ref.pieces
    ]
    for name in ("trainer_spec", "normalizer_spec", "denormalizer_spec"):
        spec, our_spec = getattr(ref, name), getattr(ours, name)
        for field in spec.DESCRIPTOR.fields:
            value = getattr(spec, field.name)
            value = list(value) if field.is_repeated else value
            assert getattr(our_spec, field.name) == value, f"{path.name}: {name}.{field.name}"


@pytest.mark.parametrize("path", SPM_FILES, ids=lambda p: p.name)
def test_sentencepiece_parser_matches_protobuf(path):
    _assert_same_proto(path)


def test_sentencepiece_parser_trained_models(t5_model, bpe_model):
    _assert_same_proto(t5_model)
    _assert_same_proto(bpe_model)
    model = SentencePieceModel.from_file(bpe_model)
    assert model.trainer_spec.model_type == 2 and model.trainer_spec.byte_fallback
    assert model.trainer_spec.user_defined_symbols == ["<tool>", "XX"]
    assert model.normalizer_spec.name == "nfkc_cf" and not model.normalizer_spec.add_dummy_prefix
    assert SentencePieceModel.from_file(t5_model).trainer_spec.bos_id == -1


def test_sentencepiece_parser_bad_files(tmp_path):
    data = MISTRAL_MODEL.read_bytes()
    truncated = tmp_path / "truncated.model"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.model"):
        SentencePieceModel.from_file(truncated)
    json_file = tmp_path / "tokenizer.model"
    json_file.write_text('{"model": {"type": "BPE"}}')
    with pytest.raises(ValueError, match="tokenizer.model"):
        SentencePieceModel.from_file(json_file)
    with pytest.raises(ValueError, match="no pieces"):
        SentencePieceModel.from_bytes(b"")
    with pytest.raises(ValueError, match="wire type"):
        SentencePieceModel.from_bytes(b"\x0b")  # field 1 with the (unsupported) group wire type
    with pytest.raises(FileNotFoundError):
        SentencePieceModel.from_file(tmp_path / "missing.model")
    # a negative int32 is a 10-byte varint; unknown fields are skipped
    piece = b"\x0a\x01a\x15" + struct.pack("<f", -1.5)
    trainer = b"\x98\x02" + b"\xff" * 9 + b"\x01" + b"\xf8\x7f\x05"  # pad_id (43) = -1, field 1023 = 5
    model = SentencePieceModel.from_bytes(
        b"\x0a" + bytes([len(piece)]) + piece + b"\x12" + bytes([len(trainer)]) + trainer
    )
    assert model.pieces[0].piece == "a" and model.pieces[0].score == -1.5
    assert model.trainer_spec.pad_id == -1


def _convert(slow):
    logging.disable(logging.WARNING)
    try:
        return json.loads(convert_slow_tokenizer(slow).to_str())
    finally:
        logging.disable(logging.NOTSET)


BERT_OPTIONS = [
    {},
    dict(do_lower_case=False, strip_accents=True, tokenize_chinese_chars=False),
    dict(do_basic_tokenize=False),
]


@pytest.mark.parametrize("options", BERT_OPTIONS, ids=str)
def test_bert_vocab_txt(options):
    vocab = MINILM / "vocab.txt"
    assert legacy.bert_tokenizer_json(vocab, **options) == _convert(
        transformers.BertTokenizer(vocab, **options)
    )


def test_bert_special_tokens_missing_from_vocab(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\nhello\nworld\n##s\n", encoding="utf-8")
    assert legacy.bert_tokenizer_json(vocab) == _convert(transformers.BertTokenizer(vocab))


@pytest.mark.parametrize("options", [{}, dict(add_prefix_space=True), dict(add_bos_token=True)], ids=str)
def test_gpt2_vocab_merges(options):
    ours = legacy.gpt2_tokenizer_json(*GPT2_FILES, **options)
    assert ours == _convert(transformers.GPT2Tokenizer(*map(str, GPT2_FILES), **options))


@pytest.mark.parametrize("cls", ["RobertaTokenizer", "BartTokenizer"])
@pytest.mark.parametrize("options", [{}, dict(add_prefix_space=True)], ids=str)
def test_roberta_vocab_merges(cls, options):
    ours = legacy.roberta_tokenizer_json(*GPT2_FILES, **options)
    assert ours == _convert(getattr(transformers, cls)(*map(str, GPT2_FILES), **options))


def test_bad_merges_and_vocab(tmp_path):
    vocab, merges = tmp_path / "vocab.json", tmp_path / "merges.txt"
    vocab.write_text('{"a": 0, "b": 1, "ab": 2}')
    merges.write_text("#version: 0.2\na b c\n")
    with pytest.raises(ValueError, match="merges.txt: line 2"):
        legacy.gpt2_tokenizer_json(vocab, merges)
    vocab.write_text("[1, 2]")
    merges.write_text("#version: 0.2\na b\n")
    with pytest.raises(ValueError, match="vocab.json"):
        legacy.gpt2_tokenizer_json(vocab, merges)
    empty = tmp_path / "vocab.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        legacy.bert_tokenizer_json(empty)
    with pytest.raises(ValueError, match="unknown legacy tokenizer convention"):
        legacy.convert_legacy("marian", {}, {})


LLAMA_OPTIONS = [
    {},
    dict(legacy=False),
    dict(legacy=False, add_prefix_space=False),
    dict(add_prefix_space=False),
]


@pytest.mark.parametrize("options", LLAMA_OPTIONS[1:3], ids=str)
def test_llama_sentencepiece(options):
    ours = legacy.llama_tokenizer_json(MISTRAL_MODEL, **options)
    assert ours == _convert(transformers.LlamaTokenizer(str(MISTRAL_MODEL), **options))


def test_llama_trained_bpe_with_user_symbols(bpe_model):
    for options in LLAMA_OPTIONS:
        ours = legacy.llama_tokenizer_json(bpe_model, **options)
        assert ours == _convert(transformers.LlamaTokenizer(str(bpe_model), **options))


@pytest.mark.parametrize(
    "options",
    [{}, dict(legacy=False), dict(extra_ids=0), dict(extra_ids=3), dict(add_prefix_space=False)],
    ids=str,
)
def test_t5_sentencepiece(t5_model, options):
    ours = legacy.t5_tokenizer_json(t5_model, **options)
    assert ours == _convert(transformers.T5Tokenizer(str(t5_model), **options))


def test_generate_merges_matches_reference():
    from transformers.convert_slow_tokenizer import generate_merges

    vocab = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "ca": 6}
    scores = [("a", 0.0), ("b", -1.0), ("c", -1.0), ("ab", -2.0), ("bc", -2.0), ("abc", -0.5), ("ca", -3.0)]
    expected = [list(m) for m in generate_merges(vocab, scores)]
    assert legacy.generate_merges(vocab, scores) == expected
    assert legacy.generate_merges(vocab, None) == [list(m) for m in generate_merges(vocab, None)]


# SpmConverter subclasses: class -> (its .model file name, slow-tokenizer options to try besides the defaults)
SPM_LEGACY_CLASSES = {
    "XLMRobertaTokenizer": ("sentencepiece.bpe.model", dict(mask_token="[M]", cls_token="<cls>")),
    "CamembertTokenizer": ("sentencepiece.bpe.model", dict(additional_special_tokens=["<x1>"])),
    "AlbertTokenizer": ("spiece.model", dict(do_lower_case=False, keep_accents=True)),
    "XLNetTokenizer": ("spiece.model", dict(do_lower_case=True, keep_accents=True)),
    "BigBirdTokenizer": ("spiece.model", dict(cls_token="<s>")),
    "DebertaV2Tokenizer": ("spm.model", dict(do_lower_case=True, split_by_punct=True)),
    "MT5Tokenizer": ("spiece.model", dict(extra_ids=5, legacy=False)),
    "MBartTokenizer": (
        "sentencepiece.bpe.model",
        dict(src_lang="ro_RO", additional_special_tokens=["<x>", "en_XX"]),
    ),
    "MBart50Tokenizer": (
        "sentencepiece.bpe.model",
        dict(src_lang="ro_RO", additional_special_tokens=["<x>"]),
    ),
    "NllbTokenizer": ("sentencepiece.bpe.model", dict(src_lang="fra_Latn", legacy_behaviour=True)),
    "PegasusTokenizer": ("spiece.model", dict(offset=6, additional_special_tokens=["<mask_1>", "<x>"])),
    "BarthezTokenizer": ("sentencepiece.bpe.model", dict(mask_token="<m>")),
    "FNetTokenizer": ("spiece.model", dict(do_lower_case=True, keep_accents=False)),
    "ReformerTokenizer": ("spiece.model", dict(additional_special_tokens=["<x>"])),
    "RemBertTokenizer": ("sentencepiece.model", dict(do_lower_case=True, keep_accents=False)),
    "XGLMTokenizer": ("sentencepiece.bpe.model", dict(additional_special_tokens=["<x>"])),
}
SPM_TEXTS = ["Hello world!", "", "  lead  and   trail  ", "a\tb\nc 12345", "é café naïve Ångström 北京 😀",
             "<s>x</s> <unk> <pad>y<mask>z [CLS] [SEP] [MASK] <sep><cls>", "``quoted'' ﬁ ½", "unknownΩ ⅷ"]  # fmt: skip


@pytest.mark.parametrize("name", sorted(SPM_LEGACY_CLASSES))
def test_spm_converters_match_reference(name, t5_model, bpe_model):
    """legacy.spm_tokenizer_json is the reference converter's tokenizer.json, with and without options."""
    from pretrained.tokenizers.tokenizer_classes import CLASS_SPECS, SLOW_SPECS

    if name == "MT5Tokenizer":
        return  # the T5 converter, checked by test_t5_sentencepiece
    convention = legacy.CONVENTIONS[name]
    for path in (t5_model, bpe_model):
        for options in ({}, SPM_LEGACY_CLASSES[name][1]):
            slow = getattr(transformers, name)(str(path), **options)
            slow_defaults = SLOW_SPECS.get(name, {}).get("defaults", {})
            settings = {**CLASS_SPECS[name].get("defaults", {}), **slow_defaults, **options}
            settings = {k: v["content"] if isinstance(v, dict) else v for k, v in settings.items()}
            ours = legacy.spm_tokenizer_json(convention, path, **settings)
            assert ours == _convert(slow), (name, path.name, options)


@pytest.mark.parametrize("name", sorted(SPM_LEGACY_CLASSES))
def test_spm_legacy_folder_auto_tokenizer(name, t5_model, tmp_path):
    """A folder with only the .model file and tokenizer_config.json loads as the reference's fast class."""
    import shutil

    from pretrained import AutoTokenizer
    from tests.test_tokapi_common import assert_same_batch

    filename, options = SPM_LEGACY_CLASSES[name]
    for i, config in enumerate(({}, options)):
        folder = tmp_path / str(i)
        folder.mkdir()
        shutil.copy(t5_model, folder / filename)
        (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name, **config}))
        logging.disable(logging.WARNING)
        try:
            ref = transformers.AutoTokenizer.from_pretrained(folder)
        finally:
            logging.disable(logging.NOTSET)
        ours = AutoTokenizer.from_pretrained(folder)
        assert type(ours).__name__ == type(ref).__name__
        assert (
            ours.special_tokens_map == ref.special_tokens_map and ours.all_special_ids == ref.all_special_ids
        )
        kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
        assert_same_batch(ours(SPM_TEXTS, **kw), ref(SPM_TEXTS, **kw), f"{name} {config}")
        assert_same_batch(ours(SPM_TEXTS, SPM_TEXTS[::-1], **kw), ref(SPM_TEXTS, SPM_TEXTS[::-1], **kw), name)
        ids = ref(SPM_TEXTS)["input_ids"]
        for skip in (False, True):
            assert ours.batch_decode(ids, skip_special_tokens=skip) == ref.batch_decode(
                ids, skip_special_tokens=skip
            )
        # saved by each library, reloaded by the reference (which may differ from its legacy load: BigBird's
        # <unk> is a normalized token then) and by ours
        ours.save_pretrained(tmp_path / f"ours{i}")
        ref.save_pretrained(tmp_path / f"ref{i}")
        expected = transformers.AutoTokenizer.from_pretrained(tmp_path / f"ref{i}")(SPM_TEXTS)["input_ids"]
        assert (
            transformers.AutoTokenizer.from_pretrained(tmp_path / f"ours{i}")(SPM_TEXTS)["input_ids"]
            == expected
        )
        assert AutoTokenizer.from_pretrained(tmp_path / f"ours{i}")(SPM_TEXTS)["input_ids"] == expected


@pytest.fixture(scope="module")
def odd_bpe_files(tmp_path_factory):
    """vocab.json + merges.txt with a repeated merge, blank lines at the end, "</w>" word ends."""
    folder = tmp_path_factory.mktemp("oddbpe")
    merges = GPT2_FILES[1].read_text(encoding="utf-8").split("\n")[1:400]
    merges = merges[:50] + [merges[3]] + merges[50:] + ["h e</w>", "t he</w>", "th e</w>"]
    full = json.loads(GPT2_FILES[0].read_text(encoding="utf-8"))
    keep = [tok for tok, i in full.items() if i < 256] + ["".join(m.split()) for m in merges if m]
    keep += ["the</w>", "e</w>", "he</w>", "<|endoftext|>"]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(keep))}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n\n", encoding="utf-8")
    return folder / "vocab.json", folder / "merges.txt"


def test_qwen2_clip_mpnet_converters(odd_bpe_files, tmp_path):
    files = list(map(str, odd_bpe_files))
    assert legacy.qwen2_tokenizer_json(*files) == _convert(transformers.Qwen2Tokenizer(*files))
    assert legacy.clip_tokenizer_json(*files) == _convert(transformers.CLIPTokenizer(*files))
    gpt2_files = list(map(str, GPT2_FILES))  # these read merges.txt as GPT-2 (no blank lines at the end)
    assert legacy.openai_gpt_tokenizer_json(*gpt2_files) == _convert(
        transformers.OpenAIGPTTokenizer(*gpt2_files)
    )
    deberta = transformers.DebertaTokenizer(*gpt2_files, add_prefix_space=True)
    assert legacy.deberta_tokenizer_json(*gpt2_files, add_prefix_space=True) == _convert(deberta)
    options = dict(bos_token="<|endoftext|>", unk_token="<|x|>")
    assert legacy.clip_tokenizer_json(*files, **options) == _convert(
        transformers.CLIPTokenizer(*files, **options)
    )
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\nhello\nworld\n##s\n<s>\n", encoding="utf-8")
    for options in (
        {},
        dict(do_lower_case=False, strip_accents=True),
        dict(cls_token="[CLS]", eos_token="[E]"),
    ):
        slow = transformers.MPNetTokenizer(str(vocab), **options)
        text = {k: v for k, v in options.items() if k.endswith("_token")}
        flags = {k: v for k, v in options.items() if not k.endswith("_token")}
        defaults = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="[UNK]",
                        pad_token="<pad>", mask_token="<mask>")  # fmt: skip
        ours = legacy.bert_tokenizer_json(vocab, mpnet=True, **{**defaults, **text}, **flags)
        assert ours == _convert(slow), options


@pytest.mark.parametrize(
    "name",
    [
        "Qwen2Tokenizer",
        "CLIPTokenizer",
        "MPNetTokenizer",
        "ConvBertTokenizer",
        "FunnelTokenizer",
        "OpenAIGPTTokenizer",
        "DebertaTokenizer",
        "SplinterTokenizer",
    ],
)
def test_bpe_and_wordpiece_legacy_folders(name, odd_bpe_files, tmp_path):
    import shutil

    from pretrained import AutoTokenizer
    from tests.test_tokapi_common import assert_same_batch

    if name == "FunnelTokenizer":  # its special tokens are <unk>, <cls>, <sep>...
        words = (MINILM / "vocab.txt").read_text(encoding="utf-8").split("\n")[999:]
        specials = ["<pad>", "<unk>", "<cls>", "<sep>", "<mask>", "<s>", "</s>"]
        (tmp_path / "vocab.txt").write_text("\n".join(specials + words), encoding="utf-8")
    elif name in ("MPNetTokenizer", "ConvBertTokenizer", "SplinterTokenizer"):
        shutil.copy(MINILM / "vocab.txt", tmp_path)
    elif name == "OpenAIGPTTokenizer":  # lowercase letters and punctuation, "</w>" word ends, <unk>
        chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
        tokens = chars + [c + "</w>" for c in chars] + ["th", "the</w>", "he</w>", "<unk>"]
        (tmp_path / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
        (tmp_path / "merges.txt").write_text("#version: 0.2\nt h\nth e</w>\nh e</w>\n")
    elif name == "DebertaTokenizer":
        shutil.copy(GPT2_FILES[0], tmp_path / "vocab.json")
        shutil.copy(GPT2_FILES[1], tmp_path / "merges.txt")
    else:
        for path in odd_bpe_files:
            shutil.copy(path, tmp_path)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name}))
    logging.disable(logging.WARNING)
    try:
        ref = transformers.AutoTokenizer.from_pretrained(tmp_path)
    finally:
        logging.disable(logging.NOTSET)
    ours = AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours).__name__ == type(ref).__name__
    assert ours.special_tokens_map == ref.special_tokens_map and ours.all_special_ids == ref.all_special_ids
    texts = SPM_TEXTS + ["The theory  <|endoftext|>the\n\nthe", "Hello <s> world </s><pad>"]
    if name == "OpenAIGPTTokenizer":  # its <unk> is not added: texts with unknown characters raise in both
        texts = [t for t in texts if _encodes(ref, t)]
        assert len(texts) > 3
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    assert_same_batch(ours(texts, **kw), ref(texts, **kw), name)
    assert_same_batch(ours(texts, texts[::-1], **kw), ref(texts, texts[::-1], **kw), name)
    ids = ref(texts)["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == ref.batch_decode(
            ids, skip_special_tokens=skip
        )


@pytest.mark.parametrize(
    "name, src, tgt",
    [
        ("MBartTokenizer", "ro_RO", "de_DE"),
        ("MBart50Tokenizer", "ro_RO", "de_DE"),
        ("NllbTokenizer", "fra_Latn", "deu_Latn"),
    ],
)
def test_translation_language_codes(name, src, tgt, t5_model, tmp_path):
    """src_lang frames the texts, tgt_lang the text_target (then back to src_lang); the src_lang setter."""
    from pretrained import AutoTokenizer

    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "sentencepiece.bpe.model").write_bytes(t5_model.read_bytes())
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name}))
    ref = transformers.AutoTokenizer.from_pretrained(folder)
    ref.save_pretrained(tmp_path / "saved")  # with tokenizer.json, language codes in the config
    for path in (folder, tmp_path / "saved"):
        ours, ref = (
            AutoTokenizer.from_pretrained(path, src_lang=src, tgt_lang=tgt),
            transformers.AutoTokenizer.from_pretrained(path, src_lang=src, tgt_lang=tgt),
        )
        for args in (
            dict(text="hi there", text_target="bonjour"),
            dict(text_target=["a", "b c"]),
            dict(text=["x"], text_pair=["y"], text_target=["z"], text_pair_target=["w"]),
            dict(text="after"),
        ):
            assert dict(ours(**args)) == dict(ref(**args)), (path.name, args)
        ours.src_lang = ref.src_lang = tgt
        assert ours("x")["input_ids"] == ref("x")["input_ids"]
        assert ours.build_inputs_with_special_tokens([7, 8]) == ref.build_inputs_with_special_tokens([7, 8])
        assert ours.additional_special_tokens == ref.additional_special_tokens
        no_target = AutoTokenizer.from_pretrained(path)
        with pytest.raises(ValueError, match="tgt_lang"):
            no_target("x", text_target="y")


@pytest.mark.parametrize(
    "config", [{}, {"add_eos_token": True, "bos_token": "<s>", "eos_token": "</s>"}], ids=str
)
def test_gemma_tokenizer_model(config, bpe_model, tmp_path):
    """GemmaTokenizer from tokenizer.model alone: pad/eos/bos replace the first pieces, split after spaces."""
    import shutil

    from pretrained import AutoTokenizer
    from tests.test_tokapi_common import assert_same_batch

    texts = SPM_TEXTS + ["a\tb\t\tc  d", "<tool>x XX<ctl> 123", "<start_of_turn>user\nhi<end_of_turn>"]
    for i, model in enumerate((bpe_model, MISTRAL_MODEL) if not config else (bpe_model,)):
        folder = tmp_path / str(i)
        folder.mkdir()
        shutil.copy(model, folder / "tokenizer.model")
        (folder / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": "GemmaTokenizer", **config})
        )
        ref, ours = transformers.AutoTokenizer.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
        assert json.loads(ours.backend_tokenizer.to_str()) == json.loads(ref.backend_tokenizer.to_str())
        kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
        assert_same_batch(ours(texts, **kw), ref(texts, **kw), str(config))
        ids = ref(texts)["input_ids"]
        for skip in (False, True):
            assert ours.batch_decode(ids, skip_special_tokens=skip) == ref.batch_decode(
                ids, skip_special_tokens=skip
            )


@pytest.mark.parametrize("config", [{"do_basic_tokenize": False}, {"tokenize_chinese_chars": False}], ids=str)
def test_mpnet_normalizer_keeps_chinese_chars_setting(config, tmp_path):
    """MPNetTokenizerFast re-syncs only lowercase and strip_accents of the normalizer (BERT also the CJK split)."""
    import shutil

    from pretrained import AutoTokenizer

    shutil.copy(MINILM / "vocab.txt", tmp_path)
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "MPNetTokenizer", **config})
    )
    ref, ours = transformers.AutoTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    texts = ["北京 日本語 한국어 Héllo", "x中y"]
    assert ours(texts)["input_ids"] == ref(texts)["input_ids"]
    ref.save_pretrained(tmp_path / "saved")  # tokenizer.json, loaded with the setting as an argument
    ref = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved", tokenize_chinese_chars=True)
    ours = AutoTokenizer.from_pretrained(tmp_path / "saved", tokenize_chinese_chars=True)
    assert ours(texts)["input_ids"] == ref(texts)["input_ids"]


def test_codegen_fast_refuses_add_bos_token(tmp_path):
    import shutil

    from pretrained import AutoTokenizer

    for path, name in zip(GPT2_FILES, ("vocab.json", "merges.txt")):
        shutil.copy(path, tmp_path / name)
    config = {"tokenizer_class": "CodeGenTokenizer", "add_bos_token": True}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError):
        transformers.AutoTokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="add_bos_token"):
        AutoTokenizer.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "name, filename", [("AlbertTokenizer", "spiece.model"), ("XLNetTokenizer", "spiece.model")]
)
def test_spm_legacy_with_special_tokens_map_and_added_tokens(name, filename, t5_model, tmp_path):
    """Old checkpoints: special_tokens_map.json and added_tokens.json beside the .model file. Special tokens
    missing from the vocabulary get ids after the added ones; the map's additional tokens replace the class's."""
    from pretrained import AutoTokenizer
    from tests.test_tokapi_common import assert_same_batch

    (tmp_path / filename).write_bytes(t5_model.read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name}))
    mask = {"content": "<mask>", "lstrip": True, "rstrip": False, "normalized": True, "single_word": False}
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "mask_token": mask,
        "additional_special_tokens": ["<x1>"],
    }
    (tmp_path / "special_tokens_map.json").write_text(json.dumps(specials))
    (tmp_path / "added_tokens.json").write_text(json.dumps({"<x1>": 90, "newword": 91}))
    ref, ours = transformers.AutoTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert ours.special_tokens_map == ref.special_tokens_map and ours.all_special_ids == ref.all_special_ids
    texts = SPM_TEXTS + ["x<x1>y newword <mask> z"]
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    assert_same_batch(ours(texts, texts[::-1], **kw), ref(texts, texts[::-1], **kw), name)


@pytest.mark.parametrize("model_type", ["albert", "big_bird", "deberta-v2", "mbart", "pegasus", "mt5"])
def test_legacy_class_from_model_type(model_type, t5_model, tmp_path):
    """Without tokenizer_config.json the class comes from config.json's model_type, as the reference's mapping."""
    from pretrained import AutoTokenizer
    from pretrained.tokenizers.legacy import CONVENTIONS, VOCAB_FILES

    ref_cls = type(
        transformers.AutoTokenizer.from_pretrained(_model_type_folder(model_type, t5_model, tmp_path))
    )
    filename = VOCAB_FILES[CONVENTIONS[ref_cls.__name__.removesuffix("Fast")]]["vocab_file"]
    (tmp_path / filename).write_bytes(t5_model.read_bytes())
    ref, ours = transformers.AutoTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert type(ours).__name__ == type(ref).__name__
    assert ours(SPM_TEXTS)["input_ids"] == ref(SPM_TEXTS)["input_ids"]


def _model_type_folder(model_type, model, tmp_path):
    """A folder with config.json and the model under every SentencePiece file name (to find the class)."""
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    for name in ("spiece.model", "sentencepiece.bpe.model", "spm.model"):
        (folder / name).write_bytes(model.read_bytes())
    return folder


def test_code_llama_infilling(bpe_model, tmp_path):
    """CodeLlamaTokenizer: infilling tokens join the special tokens; <FILL_ME>/suffix frame prefix and suffix."""
    import shutil

    from pretrained import AutoTokenizer

    shutil.copy(bpe_model, tmp_path / "tokenizer.model")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "CodeLlamaTokenizer"}))
    ref, ours = transformers.AutoTokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert ours.special_tokens_map == ref.special_tokens_map and ours.all_special_ids == ref.all_special_ids
    calls = [
        (("def f(x):<FILL_ME>    return x",), {}),
        (("def f(x):<FILL_ME>    return x",), {"suffix_first": True}),
        (("a",), {"suffix": "b c"}),
        (("pre <FILL_ME> post",), {"add_special_tokens": False}),
        ((["a<FILL_ME>b", "c"],), {}),  # a batch: no infilling
        (("Hello", "world"), {}),
        (("after",), {}),
    ]
    for args, kwargs in calls:
        assert dict(ours(*args, **kwargs)) == dict(ref(*args, **kwargs)), (args, kwargs)
        assert ours.encode(*args, **kwargs) == ref.encode(*args, **kwargs), (args, kwargs)
    ref.save_pretrained(tmp_path / "saved")  # reloading appends the infilling tokens again, as the reference
    ref = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    ours = AutoTokenizer.from_pretrained(tmp_path / "saved")
    assert ours.all_special_ids == ref.all_special_ids
    assert ours("x<FILL_ME>y")["input_ids"] == ref("x<FILL_ME>y")["input_ids"]


def _encodes(tokenizer, text):
    try:
        tokenizer(text)
    except Exception:  # noqa: BLE001 - the reference raises its own (Rust) exception type
        return False
    return True


@pytest.mark.parametrize("name", ["MBartTokenizer", "MBart50Tokenizer", "NllbTokenizer"])
def test_unknown_src_lang(name, t5_model, tmp_path):
    """An unknown src_lang: the slow mBART (legacy files) and mBART-50 raise; NLLB frames with <unk>."""
    from pretrained import AutoTokenizer

    (tmp_path / "sentencepiece.bpe.model").write_bytes(t5_model.read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": name, "src_lang": "xx_YY"})
    )
    try:
        ref = transformers.AutoTokenizer.from_pretrained(tmp_path)
    except KeyError:
        with pytest.raises(KeyError, match="xx_YY"):
            AutoTokenizer.from_pretrained(tmp_path)
        return
    assert AutoTokenizer.from_pretrained(tmp_path)(SPM_TEXTS)["input_ids"] == ref(SPM_TEXTS)["input_ids"]
