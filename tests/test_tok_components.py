"""Every normalizer, pre-tokenizer, decoder, post-processor and model option, each against the reference.

Normalizers and pre-tokenizers run inside a tokenizer whose model turns every char into its own token,
so the comparison covers each char's offsets (the alignments), not only the output text.
"""

from __future__ import annotations

import json

import pytest

from pretrained.tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
from tests.tok_parity import HARD_TEXTS, PAIRS, assert_same_encode, assert_same_encoding

tokenizers = pytest.importorskip("tokenizers")
N, P, D, R, M = (tokenizers.normalizers, tokenizers.pre_tokenizers, tokenizers.decoders, tokenizers.processors,
                 tokenizers.models)  # fmt: skip
Regex = tokenizers.Regex

TEXTS = HARD_TEXTS + [
    "e\u0301\u0323 a\u0323\u0301 \u1100\u1161\u11a8",
    "ﬃ ẛ̣ ḍ̇ Å Ω K",
    "a--b__c  d\u2581e",
    "ΣΑΣ. İi",
    "a\n",
    "\r\n\n",
    "dead beef\n\nC0FFEE\n",
    # marks newer than the reference's Unicode tables (combining class 0 there: never reordered)
    "o\u108d\u1dfa\u05a1 A\u2de0\u1dfa \u1dd8\u1df6\u1df7\u1df8\u1dfb\u1dfe x\u0316\u1ac1\u0301",
]


def char_tokenizer(normalizer=None, pre_tokenizer=None) -> str:
    """A reference tokenizer.json whose model makes one <unk> token per char (offsets show alignments)."""
    ref = tokenizers.Tokenizer(M.BPE(vocab={"<unk>": 0}, merges=[], unk_token="<unk>", fuse_unk=False))
    if normalizer is not None:
        ref.normalizer = normalizer
    if pre_tokenizer is not None:
        ref.pre_tokenizer = pre_tokenizer
    return ref.to_str()


def check_pipeline(text_json: str, texts=TEXTS) -> None:
    ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
    for text in texts:
        assert_same_encode(ours, ref, text)
        if ref.normalizer is not None:
            assert ours.normalizer.normalize_str(text) == ref.normalizer.normalize_str(text), text
        if ref.pre_tokenizer is not None:
            assert ours.pre_tokenizer.pre_tokenize_str(text) == ref.pre_tokenizer.pre_tokenize_str(text), text
    assert json.loads(tokenizers.Tokenizer.from_str(ours.to_str()).to_str()) == json.loads(ref.to_str())


NORMALIZERS = {
    "bert": N.BertNormalizer(),
    "bert_no_clean": N.BertNormalizer(clean_text=False),
    "bert_no_chinese": N.BertNormalizer(handle_chinese_chars=False),
    "bert_accents_cased": N.BertNormalizer(strip_accents=True, lowercase=False),
    "bert_keep_accents": N.BertNormalizer(strip_accents=False, lowercase=True),
    "bert_cased": N.BertNormalizer(lowercase=False),
    "nfc": N.NFC(),
    "nfd": N.NFD(),
    "nfkc": N.NFKC(),
    "nfkd": N.NFKD(),
    "lowercase": N.Lowercase(),
    "strip_accents": N.StripAccents(),
    "nfd_strip_accents": N.Sequence([N.NFD(), N.StripAccents()]),
    "strip": N.Strip(),
    "lstrip": N.Strip(right=False),
    "rstrip": N.Strip(left=False),
    "replace_space": N.Replace(" ", "\u2581"),
    "replace_grow": N.Replace("a", "xyz"),
    "replace_shrink": N.Replace("--", ""),
    "replace_regex": N.Replace(Regex(r"\s+"), " "),
    "replace_regex_remove": N.Replace(Regex("[aeiou]"), ""),
    "replace_regex_empty": N.Replace(Regex("x*"), "-"),
    # Ruby syntax: ^ is a line start but not the end after a last newline, \Z also matches before a last
    # newline, (?m) lets "." match newlines, \h is a hex digit
    "replace_regex_line_start": N.Replace(Regex("^"), "#"),
    "replace_regex_anchors": N.Replace(Regex(r"^$|\Z|(?m:a.b)|\h+"), "#"),
    "replace_empty_string": N.Replace("", "#"),  # an empty String matches between all chars (as Regex(""))
    "replace_regex_word": N.Replace(Regex(r"[^\w\s]"), "#"),
    "prepend": N.Prepend("\u2581"),
    "prepend_two": N.Prepend("ab"),
    "sequence": N.Sequence([N.NFKD(), N.StripAccents(), N.Lowercase(), N.Strip()]),
    "spm_like": N.Sequence([N.Strip(), N.Prepend("\u2581"), N.Replace(" ", "\u2581")]),
    "byte_level": N.ByteLevel(),
    "nmt": N.Nmt(),
}


@pytest.mark.parametrize("name", NORMALIZERS)
def test_normalizer(name):
    check_pipeline(char_tokenizer(normalizer=NORMALIZERS[name]))


BEHAVIORS = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]
PRE_TOKENIZERS = {
    "whitespace": P.Whitespace(),
    "whitespace_split": P.WhitespaceSplit(),
    "bert": P.BertPreTokenizer(),
    "digits": P.Digits(),
    "digits_individual": P.Digits(individual_digits=True),
    "char_delimiter": P.CharDelimiterSplit("a"),
    "char_delimiter_space": P.CharDelimiterSplit(" "),
    "unicode_scripts": P.UnicodeScripts(),
    "fixed_length": P.FixedLength(3),
    "sequence": P.Sequence([P.WhitespaceSplit(), P.Digits(individual_digits=True), P.Punctuation()]),
    "metaspace": P.Metaspace(),
    "metaspace_first": P.Metaspace(prepend_scheme="first", split=False),
    "metaspace_never": P.Metaspace(replacement="_", prepend_scheme="never"),
    "byte_level": P.ByteLevel(),
    "byte_level_plain": P.ByteLevel(add_prefix_space=False, use_regex=False),
    "split_regex_words": P.Split(Regex(r"\d+|[a-z]+"), "isolated", invert=True),
    "split_onig_word": P.Split(Regex(r"\w+|[^\w\s]+"), "isolated"),
    "split_onig_not_word": P.Split(Regex(r"\W"), "removed"),
    "split_line_anchors": P.Split(Regex(r"^\s*\S|\S$|."), "isolated"),
    "split_empty_matches": P.Split(Regex(r"x*"), "isolated"),
    "split_dotall": P.Split(Regex(r"(?m).|\h"), "isolated"),
    "split_empty_string": P.Split("", "removed"),
    "split_empty_string_merged": P.Split("", "merged_with_next", invert=True),
    # classes inside classes and && (BLOOM's pattern), boundaries of Oniguruma's \w, POSIX digits
    "split_bloom": P.Split(Regex(" ?[^(\\s|[.,!?…。，、।۔،])]+"), "isolated"),
    "split_nested_classes": P.Split(Regex(r"[a-z&&[^aeiou]]+|[^[^0-9]]|[\w&&\D]{3}"), "isolated"),
    "split_word_boundaries": P.Split(Regex(r"\b\w|\B."), "isolated"),
    "split_posix_digits": P.Split(Regex(r"[[:digit:]]+"), "removed"),
    "split_llama3": P.Split(
        Regex(
            r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
        ),
        "isolated",
    ),
    "split_gpt4o": P.Split(
        Regex(r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+(?!\S)|\s+"), "isolated"
    ),
}
for _b in BEHAVIORS:
    PRE_TOKENIZERS[f"punctuation_{_b}"] = P.Punctuation(_b)
    PRE_TOKENIZERS[f"split_space_{_b}"] = P.Split(" ", _b)
    PRE_TOKENIZERS[f"split_regex_{_b}_inverted"] = P.Split(Regex(r"\s+|-"), _b, invert=True)
    PRE_TOKENIZERS[f"split_regex_{_b}"] = P.Split(Regex(r"\s+|-"), _b)


@pytest.mark.parametrize("name", PRE_TOKENIZERS)
def test_pre_tokenizer(name):
    check_pipeline(char_tokenizer(pre_tokenizer=PRE_TOKENIZERS[name]))


def test_normalizer_and_pre_tokenizer_together():
    check_pipeline(
        char_tokenizer(N.Sequence([N.NFKD(), N.Lowercase()]), P.Sequence([P.Metaspace(), P.Digits()]))
    )
    check_pipeline(char_tokenizer(N.Replace("a", "xyz"), P.ByteLevel()))


DECODERS = {
    "wordpiece": D.WordPiece(),
    "wordpiece_no_cleanup": D.WordPiece(prefix="@@", cleanup=False),
    "byte_level": D.ByteLevel(),
    "metaspace": D.Metaspace(),
    "metaspace_never": D.Metaspace(prepend_scheme="never"),
    "metaspace_first": D.Metaspace(replacement="_", prepend_scheme="first", split=False),
    "byte_fallback": D.ByteFallback(),
    "fuse": D.Fuse(),
    "strip": D.Strip(" ", 1, 1),
    "strip_more": D.Strip("a", 2, 3),
    "replace": D.Replace("\u2581", " "),
    "replace_regex": D.Replace(Regex("a+"), "-"),
    "replace_empty_string": D.Replace("", "#"),
    "replace_regex_line_start": D.Replace(Regex("^"), "#"),
    "bpe": D.BPEDecoder(),
    "ctc": D.CTC(),
    "ctc_plain": D.CTC(pad_token="a", word_delimiter_token=" ", cleanup=False),
    "sequence": D.Sequence([D.Replace("\u2581", " "), D.ByteFallback(), D.Fuse(), D.Strip(" ", 1, 0)]),
}
TOKEN_LISTS = [
    [],
    ["\u2581\u2581a\u2581b", "\u2581c"],  # Metaspace drops every replacement char of the first token
    ["a_b", "_", "c__"],
    ["a.b", "", "*", ""],
    ["hello", "##world", "!", "don", "'", "t", " .", "do", "not"],
    ["\u2581Hel", "lo", "\u2581\u2581", "<0xE2>", "<0x82>", "<0xAC>", "<0xFF>", "x", "<0x41>"],
    ["<0xE2>", "<0x82>"],
    ["a</w>", "b", "c</w>", "aaab", "aaa", "<pad>", "<pad>", "|", "|", "x", "x", "<pad>", "x"],
    ["\u0120Hello", "\u0120world", "\u010a", "\u00e2\u0124\u00ac", " a ", "  "],
    *[t.split(" ") for t in HARD_TEXTS if t],
    *[list(t) for t in HARD_TEXTS[:8]],
]


@pytest.mark.parametrize("name", DECODERS)
def test_decoder(name):
    ref = tokenizers.Tokenizer(M.WordLevel({"a": 0}, unk_token="a"))
    ref.decoder = DECODERS[name]
    data = json.loads(ref.to_str())["decoder"]
    ours = decoders.from_dict(data)
    assert ours.to_dict() == data
    for tokens in TOKEN_LISTS:
        try:
            expected = DECODERS[name].decode(tokens)
        except BaseException:  # the reference panics on some inputs (Strip on empty tokens)
            continue
        assert ours.decode(tokens) == expected, tokens


def word_level_json(processor, pre_tokenizer=None) -> str:
    words = sorted({w for t in TEXTS + [x for p in PAIRS for x in p] for w in t.split()})
    vocab = {
        "[UNK]": 0,
        "[CLS]": 1,
        "[SEP]": 2,
        "<s>": 3,
        "</s>": 4,
        "[PAD]": 5,
        **{w: i + 6 for i, w in enumerate(words)},
    }
    ref = tokenizers.Tokenizer(M.WordLevel(vocab, unk_token="[UNK]"))
    ref.pre_tokenizer = pre_tokenizer or P.WhitespaceSplit()
    ref.post_processor = processor
    ref.add_special_tokens(["[CLS]", "[SEP]", "<s>", "</s>"])
    return ref.to_str()


PROCESSORS = {
    "template_bert": R.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 1), ("[SEP]", 2)],
    ),  # fmt: skip
    "template_odd": R.TemplateProcessing(
        single=["$A:1", "[SEP]:2"],
        pair="[CLS]:3 $B:1 [SEP] $A [SEP]:1",
        special_tokens=[("[CLS]", 1), ("[SEP]", 2)],
    ),  # fmt: skip
    "template_multi_id": R.TemplateProcessing(
        single="[X] $0 [SEP]",
        pair="[X] $A [SEP] $B:1",
        special_tokens=[{"id": "[X]", "ids": [1, 3, 4], "tokens": ["[CLS]", "<s>", "</s>"]}, ("[SEP]", 2)],
    ),  # fmt: skip
    "bert": R.BertProcessing(("[SEP]", 2), ("[CLS]", 1)),
    "roberta": R.RobertaProcessing(("</s>", 4), ("<s>", 3)),
    "roberta_no_trim": R.RobertaProcessing(("</s>", 4), ("<s>", 3), trim_offsets=False),
    "byte_level": R.ByteLevel(),
    "sequence": R.Sequence(
        [
            R.ByteLevel(trim_offsets=True),
            R.TemplateProcessing(
                single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", 3), ("</s>", 4)]
            ),
        ]
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", PROCESSORS)
def test_post_processor(name):
    for pre in (None, P.Split(Regex(r"\s*\S+\s*"), "isolated")):
        text_json = word_level_json(PROCESSORS[name], pre)
        ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
        assert ours.num_special_tokens_to_add(True) == ref.num_special_tokens_to_add(True)
        assert ours.num_special_tokens_to_add(False) == ref.num_special_tokens_to_add(False)
        for text in TEXTS:
            assert_same_encode(ours, ref, text)
            assert_same_encode(ours, ref, text, add_special_tokens=False)
        for a, b in PAIRS:
            assert_same_encode(ours, ref, a, b)
            assert_same_encode(ours, ref, a, b, add_special_tokens=False)
            assert_same_encode(ours, ref, a.split(), b.split(), is_pretokenized=True)
        for t in (ours, ref):
            t.enable_truncation(12, stride=2)
            t.enable_padding(length=16)
        for a, b in PAIRS:
            assert_same_encode(ours, ref, a, b)
        assert json.loads(tokenizers.Tokenizer.from_str(ours.to_str()).to_str()) == json.loads(ref.to_str())


def test_post_process_method():
    text_json = word_level_json(PROCESSORS["template_bert"])
    ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
    a = ours.post_process(ours.encode("Hello, world!", add_special_tokens=False))
    b = ref.post_process(ref.encode("Hello, world!", add_special_tokens=False))
    assert_same_encoding(a, b)


def _trained_bpe(**kwargs) -> str:
    ref = tokenizers.Tokenizer(
        M.BPE(unk_token="[UNK]", **{k: v for k, v in kwargs.items() if k != "vocab_size"})
    )
    ref.pre_tokenizer = P.Whitespace()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=kwargs.get("vocab_size", 300), special_tokens=["[UNK]"],
                                             **{k: v for k, v in kwargs.items() if k in ("continuing_subword_prefix",
                                                                                      "end_of_word_suffix")})  # fmt: skip
    ref.train_from_iterator(TEXTS * 3, trainer=trainer)
    if "end_of_word_suffix" in kwargs:
        ref.decoder = D.BPEDecoder(suffix=kwargs["end_of_word_suffix"])
    return ref.to_str()


MODEL_JSONS = {
    "bpe_prefix_suffix": lambda: _trained_bpe(continuing_subword_prefix="##", end_of_word_suffix="</w>"),
    "bpe_suffix": lambda: _trained_bpe(end_of_word_suffix="</w>"),
    "bpe_fuse_unk": lambda: _trained_bpe(fuse_unk=True, vocab_size=120),
    "bpe_ignore_merges": lambda: _trained_bpe(ignore_merges=True),
    "wordpiece_custom": lambda: _wordpiece(),
    "wordlevel": lambda: word_level_json(None),
}


def _wordpiece() -> str:
    ref = tokenizers.Tokenizer(
        M.WordPiece(unk_token="[UNK]", continuing_subword_prefix="@@", max_input_chars_per_word=7)
    )
    ref.pre_tokenizer = P.BertPreTokenizer()
    trainer = tokenizers.trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[UNK]"], continuing_subword_prefix="@@"
    )
    ref.train_from_iterator(TEXTS * 3, trainer=trainer)
    ref.decoder = D.WordPiece(prefix="@@")
    return ref.to_str()


@pytest.mark.parametrize("name", MODEL_JSONS)
def test_model_options(name):
    text_json = MODEL_JSONS[name]()
    check_pipeline(text_json)
    ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
    for text in TEXTS:
        ids = ref.encode(text).ids
        assert ours.decode(ids) == ref.decode(ids)
        for word in text.split()[:5]:
            assert [tuple(t) for t in ours.model.tokenize(word)] == [
                t.as_tuple() for t in ref.model.tokenize(word)
            ]


def test_python_constructors():
    ours = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(" ", "_")])
    assert ours.normalize_str("ﬁ a") == "fi_a"
    assert pre_tokenizers.Split(" ", "removed").pre_tokenize_str("a b") == [("a", (0, 1)), ("b", (2, 3))]
    assert (
        decoders.Sequence([decoders.Replace("_", " "), decoders.Strip(" ", 1, 0)]).decode(["_a", "_b"])
        == "ab"
    )


def test_empty_sequences_round_trip():
    ref = tokenizers.Tokenizer(M.WordLevel({"a": 0}, unk_token="a"))
    ref.normalizer, ref.pre_tokenizer = N.Sequence([]), P.Sequence([])
    ref.post_processor, ref.decoder = R.Sequence([]), D.Sequence([])
    ours = Tokenizer.from_str(ref.to_str())
    assert json.loads(ours.to_str()) == json.loads(ref.to_str())
    assert_same_encode(ours, ref, "a b", "a")


def test_bpe_drops_unknown_chars_in_long_words():
    """No unk token: unknown chars vanish and later tokens' offsets count kept bytes only (even in long words)."""
    ref = tokenizers.Tokenizer(M.BPE(unk_token=None))
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=80, show_progress=False)
    ref.train_from_iterator(["private use and unassigned, plain words " * 3], trainer=trainer)
    ours = Tokenizer.from_str(ref.to_str())
    for text in ("private use \ue000\uf8ff and unassigned \u0378 and", "xq" * 20 + "a," * 15, "é中 " * 30):
        assert_same_encode(ours, ref, text)
        assert_same_encode(ours, ref, text.split(), is_pretokenized=True)


def test_metaspace_first_after_a_normalizer_drops_the_start():
    """prepend_scheme="first" prepends only when the normalized text still starts at the original's start."""
    for normalizer in (N.Strip(), N.Replace("ab", ""), N.Sequence([N.Strip(), N.NFKC()])):
        check_pipeline(char_tokenizer(normalizer, P.Metaspace(prepend_scheme="first")),
                       ["\n?t", " x", "abx", "x", "", "ab", "  a b  "])  # fmt: skip


def test_processor_sequences_with_special_tokens():
    """A processors Sequence hands every encoding on: Bert/Roberta wrap each one after the first as a pair."""
    procs = [PROCESSORS[k] for k in ("bert", "roberta", "byte_level", "template_bert", "template_odd")]
    for first in procs:
        for second in procs[:3]:
            text_json = word_level_json(R.Sequence([first, second]))
            ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
            for args in (("Hello, world!",), ("Hello, world!", "How are you?"), ("", "x")):
                for special in (True, False):
                    assert_same_encode(ours, ref, *args, add_special_tokens=special)
    ours = Tokenizer.from_str(word_level_json(R.Sequence([PROCESSORS["template_bert"]] * 2)))
    with pytest.raises(ValueError, match="TemplateProcessing"):  # the reference panics
        ours.encode("Hello", "world")


def test_bpe_byte_fallback_with_prefix_and_suffix():
    """Byte-fallback tokens of "##" or "</w>" count their bytes too, so tokens can end past their word."""
    for kwargs in ({"continuing_subword_prefix": "##"}, {"end_of_word_suffix": "</w>"}):
        ref = tokenizers.Tokenizer(M.BPE(unk_token="[UNK]", byte_fallback=True, **kwargs))
        ref.pre_tokenizer = P.WhitespaceSplit()
        trainer = tokenizers.trainers.BpeTrainer(vocab_size=60, special_tokens=["[UNK]"], show_progress=False,
                                                 **kwargs)  # fmt: skip
        ref.train_from_iterator(["hello world, the words"] * 3, trainer=trainer)
        data = json.loads(ref.to_str())
        for b in range(256):
            data["model"]["vocab"].setdefault(f"<0x{b:02X}>", len(data["model"]["vocab"]))
        ours, ref = Tokenizer.from_str(json.dumps(data)), tokenizers.Tokenizer.from_str(json.dumps(data))
        for text in (
            "hello world",
            "zq\x00\x00] jk",
            "r北$j",
            "é 😀 a",
            "hello wörld 中文字符 x",
            "wörld\x00q",
            "hello\x00",
            "ok 京ÀÉÎ𝔘7k👨\u200d👩\u200d👧",
            "é\x00",
            "h\x00ello",
            "x hé\x00llo",
        ):
            assert_same_encode(ours, ref, text)
            for word in filter(str.isascii, text.split()):  # (ours gives whole chars to byte tokens of é)
                assert [tuple(t) for t in ours.model.tokenize(word)] == [
                    t.as_tuple() for t in ref.model.tokenize(word)
                ]
