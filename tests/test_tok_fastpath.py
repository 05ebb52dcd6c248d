"""The Tokenizer's fast path (fastpath.py) gives exactly the Encoding of the general path.

Each pipeline encodes awkward and random text twice, once with the fast path switched off, and every
field must agree; the word caches must follow added tokens, component and model-setting changes.
"""

from __future__ import annotations

import random

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretrained.tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
from pretrained.tokenizers import tokenizer as tokenizer_module
from pretrained.tokenizers.added_vocab import AddedToken
from pretrained.tokenizers.fastpath import encode_fast
from tests.tok_parity import HARD_TEXTS, assert_same_encoding

N, P = normalizers, pre_tokenizers
ALPHABET = "ab cdAB\t\n.,!'-▁Ġ1é中😀\u0301\x00ÉÀΣİßﬁΩ\u00ad\u3000\u0323ǅ"
LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def bpe_model(byte_fallback: bool = False, **kwargs) -> models.BPE:
    """A small BPE whose merges make tokens across spaces, ▁ and Ġ (so cuts matter)."""
    chars = sorted(set("abcdABe.,!'-1 ▁Ġ"))
    vocab = {"<unk>": 0, **{c: i + 1 for i, c in enumerate(chars)}}
    if byte_fallback:
        vocab.update({f"<0x{b:02X}>": len(vocab) + b for b in range(256)})
    merges = [("a", "b"), ("▁", "a"), ("Ġ", "a"), ("c", "d"), ("ab", "cd"), ("▁", "▁"), ("b", "▁"),
              (".", ","), ("▁a", "b"), ("Ġa", "b"), ("1", "1"), ("e", "."), ("A", "B")]  # fmt: skip
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=byte_fallback, **kwargs)


def wordpiece_model() -> models.WordPiece:
    vocab = [
        "[UNK]",
        "a",
        "b",
        "ab",
        "##a",
        "##b",
        "##ab",
        "cd",
        "##cd",
        ".",
        ",",
        "!",
        "'",
        "-",
        "1",
        "é",
        "e",
    ]
    return models.WordPiece({t: i for i, t in enumerate(vocab)}, max_input_chars_per_word=12)


def pipelines() -> dict[str, Tokenizer]:
    out = {}

    def make(name, model, normalizer=None, pre_tokenizer=None):
        tok = Tokenizer(model)
        tok.normalizer, tok.pre_tokenizer = normalizer, pre_tokenizer
        out[name] = tok

    make("bert", wordpiece_model(), N.BertNormalizer(), P.BertPreTokenizer())
    make(
        "bert_cased",
        wordpiece_model(),
        N.BertNormalizer(lowercase=False, clean_text=False),
        P.BertPreTokenizer(),
    )
    bert_variants = {"bert_accents_cased": N.BertNormalizer(strip_accents=True, lowercase=False),
                     "bert_keep_accents": N.BertNormalizer(strip_accents=False, handle_chinese_chars=False)}  # fmt: skip
    for name, normalizer in bert_variants.items():
        make(name, wordpiece_model(), normalizer, P.BertPreTokenizer())
    make("gpt2", bpe_model(), None, P.ByteLevel(add_prefix_space=False))
    make("gpt2_prefix", bpe_model(), None, P.ByteLevel(add_prefix_space=True))
    make("bytelevel_no_regex", bpe_model(), None, P.ByteLevel(use_regex=False))
    make("llama", bpe_model(True), N.Sequence([N.Prepend("▁"), N.Replace(" ", "▁")]))
    make(
        "llama_two_prepends",
        bpe_model(True),
        N.Sequence([N.Prepend("▁▁"), N.Replace(" ", "▁"), N.Prepend("a")]),
    )
    make("metaspace", bpe_model(True), N.NFKC(), P.Metaspace())
    make(
        "metaspace_first_no_split",
        bpe_model(),
        N.Lowercase(),
        P.Metaspace(prepend_scheme="first", split=False),
    )
    make("prepend_metaspace", bpe_model(), N.Prepend("▁"), P.Metaspace())
    make(
        "strip_nfd_accents",
        bpe_model(),
        N.Sequence([N.Strip(), N.NFD(), N.StripAccents()]),
        P.WhitespaceSplit(),
    )
    make("nmt_whitespace", wordpiece_model(), N.Sequence([N.Nmt(), N.NFC()]), P.Whitespace())
    make("replace_regex", bpe_model(), N.Replace(Regex(r"\s+"), " "), P.WhitespaceSplit())
    make("no_cut_prefix", bpe_model(continuing_subword_prefix="##"), N.Prepend("▁"), None)
    make("ignore_merges", bpe_model(ignore_merges=True), N.Replace(" ", "▁"), None)
    make("bytelevel_normalizer", bpe_model(), N.ByteLevel(), None)
    llama3 = P.Split(Regex(LLAMA3_PATTERN), "isolated")
    make(
        "llama3",
        bpe_model(ignore_merges=True),
        None,
        P.Sequence([llama3, P.ByteLevel(False, use_regex=False)]),
    )
    make("llama3_merges", bpe_model(), N.NFC(), P.Sequence([llama3, P.ByteLevel(False, use_regex=False)]))
    cutters = [P.WhitespaceSplit(), P.Punctuation("merged_with_previous"), P.Digits(individual_digits=True)]
    make("cutters", wordpiece_model(), N.Lowercase(), P.Sequence(cutters))
    make("split_invert", bpe_model(), None, P.Split("b", "merged_with_next", invert=True))
    make("char_delimiter", wordpiece_model(), None, P.Sequence([P.CharDelimiterSplit("c"), P.Digits()]))
    make(
        "metaspace_never_digits",
        bpe_model(True),
        None,
        P.Sequence([P.Metaspace(prepend_scheme="never"), P.Digits()]),
    )
    make("sequence_not_fast", bpe_model(), None, P.Sequence([P.WhitespaceSplit(), P.FixedLength(3)]))
    return out


PIPELINES = pipelines()
TEXTS = HARD_TEXTS + [
    "ab▁ab cd Ġab▁▁ab abab" * 3,
    "abcdabcdabcdabcdabcdabcdabcdabcdabcd ab.,ab▁b▁b▁ab" * 2,
    "  ab  ",
    "AB. ab, é ab",
]


def general(tok: Tokenizer, *args, **kwargs):
    """``tok.encode`` with the fast path switched off."""
    saved = tokenizer_module.encode_fast
    tokenizer_module.encode_fast = lambda *a: None
    try:
        return tok.encode(*args, **kwargs)
    finally:
        tokenizer_module.encode_fast = saved


def assert_same(tok: Tokenizer, *args, **kwargs) -> None:
    assert_same_encoding(tok.encode(*args, **kwargs), general(tok, *args, **kwargs), (args, kwargs))


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_fast_path_matches_general_path(name):
    tok = PIPELINES[name]
    for text in TEXTS:
        assert_same(tok, text)
    assert_same(tok, TEXTS[2], TEXTS[3])
    assert_same(tok, ["ab cd", "é", "", "ab▁ab"], is_pretokenized=True)


@pytest.mark.parametrize(
    "name", ["bert", "gpt2", "llama", "metaspace", "llama3", "cutters", "char_delimiter"]
)
def test_fast_path_is_taken(name):
    assert encode_fast(PIPELINES[name], "ab cd, ab.", 0, None) is not None
    if name in ("gpt2", "llama3", "llama", "metaspace"):  # byte-level too maps non-ASCII text
        assert encode_fast(PIPELINES[name], "É 😀 ab", 0, None) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=60), st.sampled_from(sorted(PIPELINES)))
def test_fast_path_random_text(text, name):
    assert_same(PIPELINES[name], text)


def test_truncation_padding_and_added_tokens_through_fast_path():
    tok = pipelines()["llama"]
    tok.add_special_tokens(["<s>"])
    tok.add_tokens([AddedToken("cd", single_word=True)])
    tok.enable_truncation(5, stride=2)
    tok.enable_padding(length=7)
    for text in ["ab cd ab", "<s>ab cd", "abcd cd", "ab ab ab ab ab ab ab ab"]:
        assert_same(tok, text)


def test_caches_follow_added_tokens_and_settings():
    tok = pipelines()["gpt2"]
    before = tok.encode("ab abcd").tokens
    tok.add_tokens(["cd"])
    assert tok.encode("ab abcd").tokens == general(tok, "ab abcd").tokens != before
    tok = pipelines()["bert"]
    tok.encode("ab xyz")
    tok.model.unk_token = "a"
    assert tok.encode("ab xyz").tokens == ["ab", "a"]
    tok.normalizer = N.BertNormalizer(lowercase=False)
    assert tok.encode("AB").tokens == ["a"]  # "AB" is unknown once not lowercased


def test_training_empties_the_word_caches():
    tok = pipelines()["gpt2"]
    first = tok.encode("abab cdcd").ids
    from pretrained.tokenizers.trainers import BpeTrainer

    tok.train_from_iterator(["abab cdcd"] * 10 + ["zzz"], BpeTrainer(vocab_size=300, show_progress=False))
    assert tok.encode("abab cdcd").ids == general(tok, "abab cdcd").ids != first


def test_long_word_pieces_tokenize_like_the_whole_word():
    model = bpe_model(True)
    rng = random.Random(0)
    for _ in range(300):
        word = "".join(rng.choice("ab▁cd.,Ġ é") for _ in range(rng.randrange(20, 120)))
        pieces = model._pieces(word)
        assert "".join(pieces) == word
        assert model._tokenize(word) == model._bpe(word), word


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=[chr(i) for i in range(128)], max_size=40))
def test_ascii_regexes_match_the_unicode_ones(text):
    from pretrained.tokenizers._registry import compile_pattern

    gpt2 = compile_pattern("regex", pre_tokenizers._GPT2_PATTERN)
    assert pre_tokenizers._gpt2_ascii_pattern().findall(text) == [m.group() for m in gpt2.finditer(text)]
    bert = regex.compile(pre_tokenizers._BERT_WORDS._pattern)
    assert [m.span() for m in pre_tokenizers._BERT_WORDS_ASCII.finditer(text)] == [
        m.span() for m in bert.finditer(text)
    ]


def test_offsets_are_built_on_first_read_and_survive_padding_copy_and_pickle():
    import pickle

    from pretrained.tokenizers.encoding import LazyOffsets

    tok = PIPELINES["llama"]
    text = "ab cd, ab▁ab"
    expected = general(tok, text)
    enc = tok.encode(text)
    assert isinstance(enc._offsets, LazyOffsets)
    assert enc == expected and enc.copy() == expected
    assert pickle.loads(pickle.dumps(tok.encode(text))) == expected
    for direction in ("left", "right"):
        a, b = tok.encode(text), general(tok, text)
        a.pad(len(a) + 3, direction=direction)
        b.pad(len(b) + 3, direction=direction)
        assert isinstance(a._offsets, LazyOffsets)
        assert a.offsets == b.offsets and a.char_to_token(4) == b.char_to_token(4)
    enc = tok.encode(text)
    enc.offsets[0] = (9, 9)  # once built, offsets is a plain list the caller may edit
    assert enc.offsets[0] == (9, 9)


def test_pickled_tokenizers_leave_the_word_caches_behind():
    import copy
    import pickle

    tok = pipelines()["llama"]
    texts = [f"ab{'cd' * i} ab▁b{i}" for i in range(200)]
    before = [tok.encode(t).ids for t in texts]
    size = len(pickle.dumps(tok))
    assert tok.model._entry_state[1]
    for clone in (pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)):
        assert "_entry_state" not in clone.model.__dict__ and not clone.model._cache.data
        assert [clone.encode(t).ids for t in texts] == before
    assert len(pickle.dumps(pipelines()["llama"])) <= size
