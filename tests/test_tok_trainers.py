"""Trainers learn what the reference trainers learn (vocab, merges, special tokens)."""

from __future__ import annotations

import json

import pytest

from pretrained.tokenizers import Tokenizer, models, pre_tokenizers, trainers
from tests.tok_parity import HARD_TEXTS

tokenizers = pytest.importorskip("tokenizers")
M, P, T = tokenizers.models, tokenizers.pre_tokenizers, tokenizers.trainers

WORDS = ("the quick brown fox jumps over the lazy dog while tokenizers tokenize tokens into tokenized "
         "pieces ünïcödé 東京 日本 def return self.value == other.value").split()  # fmt: skip
LINES = [
    " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(i % 13 + 3)) for i in range(400)
] + HARD_TEXTS


def train_both(make_model, ref_trainer, our_trainer, byte_level: bool = True) -> tuple[dict, dict]:
    ref, ours = tokenizers.Tokenizer(make_model(M)), Tokenizer(make_model(models))
    if byte_level:
        ref.pre_tokenizer, ours.pre_tokenizer = P.ByteLevel(), pre_tokenizers.ByteLevel()
    else:
        ref.pre_tokenizer, ours.pre_tokenizer = P.Whitespace(), pre_tokenizers.Whitespace()
    ref.train_from_iterator(LINES, trainer=ref_trainer)
    ours.train_from_iterator(LINES, trainer=our_trainer)
    for text in HARD_TEXTS:
        assert ours.encode(text).tokens == ref.encode(text).tokens
    return json.loads(ours.to_str()), json.loads(ref.to_str())


BPE_OPTIONS = [
    {"vocab_size": 300},
    {"vocab_size": 500, "min_frequency": 3, "special_tokens": ["<s>", "<pad>"]},
    {"vocab_size": 400, "limit_alphabet": "untied"},
    {"vocab_size": 350, "initial_alphabet": list("xyzé\u4e00")},
    {"vocab_size": 450, "max_token_length": 4},
]


def _untied_limit() -> int:
    """An alphabet size whose cut falls between two different char counts (the reference breaks ties
    arbitrarily, so only such a limit has one right answer)."""
    counter = Tokenizer(models.BPE())
    counter.pre_tokenizer = pre_tokenizers.ByteLevel()
    counts: dict[str, int] = {}
    for line in LINES:
        for word in counter._words_of(line):
            for c in word:
                counts[c] = counts.get(c, 0) + 1
    ordered = sorted(counts.values(), reverse=True)
    return next(k for k in range(len(ordered) // 2, len(ordered)) if ordered[k - 1] > ordered[k])


@pytest.mark.parametrize("options", BPE_OPTIONS)
def test_bpe_trainer_exact(options):
    if options.get("limit_alphabet") == "untied":
        options = {**options, "limit_alphabet": _untied_limit()}
    ours, ref = train_both(lambda m: m.BPE(), T.BpeTrainer(show_progress=False, **options),
                           trainers.BpeTrainer(**options))  # fmt: skip
    assert ours["model"]["vocab"] == ref["model"]["vocab"]
    assert ours["model"]["merges"] == ref["model"]["merges"]
    assert ours["added_tokens"] == ref["added_tokens"]


def test_bpe_trainer_suffix_and_wordpiece():
    # the reference numbers prefixed/suffixed symbols in hash order (it changes between runs), so
    # compare the learned tokens and merges, not their ids
    opts = {"vocab_size": 300, "end_of_word_suffix": "</w>", "special_tokens": ["[UNK]"]}
    ours, ref = train_both(lambda m: m.BPE(unk_token="[UNK]"), T.BpeTrainer(show_progress=False, **opts),
                           trainers.BpeTrainer(**opts), byte_level=False)  # fmt: skip
    assert set(ours["model"]["vocab"]) == set(ref["model"]["vocab"])
    assert sorted(map(tuple, ours["model"]["merges"])) == sorted(map(tuple, ref["model"]["merges"]))
    opts = {"vocab_size": 300, "special_tokens": ["[UNK]"]}
    ours, ref = train_both(lambda m: m.WordPiece(unk_token="[UNK]"), T.WordPieceTrainer(show_progress=False, **opts),
                           trainers.WordPieceTrainer(**opts), byte_level=False)  # fmt: skip
    assert set(ours["model"]["vocab"]) == set(ref["model"]["vocab"])
    assert ours["added_tokens"] == ref["added_tokens"]


def test_word_level_trainer_exact():
    opts = {"vocab_size": 40, "min_frequency": 2, "special_tokens": ["[UNK]", "[PAD]"]}
    ours, ref = train_both(lambda m: m.WordLevel(unk_token="[UNK]"), T.WordLevelTrainer(show_progress=False, **opts),
                           trainers.WordLevelTrainer(**opts), byte_level=False)  # fmt: skip
    assert ours["model"]["vocab"] == ref["model"]["vocab"]
    assert ours["added_tokens"] == ref["added_tokens"]


def test_train_from_files(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(LINES), encoding="utf-8")
    ref, ours = tokenizers.Tokenizer(M.BPE()), Tokenizer(models.BPE())
    ref.pre_tokenizer, ours.pre_tokenizer = P.ByteLevel(), pre_tokenizers.ByteLevel()
    ref.train([str(path)], trainer=T.BpeTrainer(vocab_size=300, show_progress=False))
    ours.train([str(path)], trainer=trainers.BpeTrainer(vocab_size=300))
    assert json.loads(ours.to_str())["model"] == json.loads(ref.to_str())["model"]


def test_trainer_model_mismatch():
    with pytest.raises(Exception, match="can only train a BPE"):
        tokenizers.Tokenizer(M.WordPiece()).train_from_iterator(["ab"], T.BpeTrainer(show_progress=False))
    for trainer, kind in ((trainers.BpeTrainer(), "BPE"), (trainers.WordPieceTrainer(), "WordPiece"),
                          (trainers.WordLevelTrainer(), "WordLevel"), (trainers.UnigramTrainer(), "Unigram")):  # fmt: skip
        other = models.WordLevel() if kind != "WordLevel" else models.BPE()
        with pytest.raises(ValueError, match=f"can only train a {kind} model"):
            Tokenizer(other).train_from_iterator(["ab"], trainer)


def test_special_tokens_are_marked_special():
    from pretrained.tokenizers import AddedToken

    given = [tokenizers.AddedToken("x", normalized=True), tokenizers.AddedToken("y"), "z"]
    ref = T.BpeTrainer(special_tokens=given).special_tokens
    ours = trainers.BpeTrainer(
        special_tokens=[AddedToken("x", normalized=True), AddedToken("y"), "z"]
    ).special_tokens
    assert [(t.content, t.normalized, t.special) for t in ours] == [
        (t.content, t.normalized, t.special) for t in ref
    ]
    with pytest.raises(TypeError, match="special_tokens"):
        trainers.BpeTrainer(special_tokens=[3])


def test_byte_level_alphabet_as_initial_alphabet():
    assert sorted(pre_tokenizers.ByteLevel.alphabet()) == sorted(P.ByteLevel.alphabet())
    options = {"vocab_size": 400, "initial_alphabet": P.ByteLevel.alphabet()}
    ours, ref = train_both(lambda m: m.BPE(), T.BpeTrainer(show_progress=False, **options),
                           trainers.BpeTrainer(initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), vocab_size=400))  # fmt: skip
    assert ours["model"] == ref["model"]


def test_word_level_special_token_also_in_the_text():
    """A special token that is also a word of the text keeps its last place (id 0 left unused), as the reference."""
    lines = ["[CLS] a b a", "c [CLS] d"] * 3
    ref, ours = (
        tokenizers.Tokenizer(M.WordLevel(unk_token="[UNK]")),
        Tokenizer(models.WordLevel(unk_token="[UNK]")),
    )
    ref.pre_tokenizer, ours.pre_tokenizer = P.WhitespaceSplit(), pre_tokenizers.WhitespaceSplit()
    ref.train_from_iterator(
        lines, trainer=T.WordLevelTrainer(special_tokens=["[CLS]", "[UNK]"], show_progress=False)
    )
    ours.train_from_iterator(lines, trainer=trainers.WordLevelTrainer(special_tokens=["[CLS]", "[UNK]"]))
    assert json.loads(ours.to_str()) == json.loads(ref.to_str())
    assert ours.encode("[CLS] a zz").ids == ref.encode("[CLS] a zz").ids
