"""token-classification / ner: ours vs transformers.pipeline on tiny random checkpoints, every aggregation."""

from __future__ import annotations

import warnings

import pytest

from .pipeline_fixtures import (  # noqa: F401
    CORPUS,
    NER_LABELS,
    TOKENIZER_VARIANTS,
    assert_same,
    both,
    build_checkpoint,
    build_on_tokenizer,
    compare,
    our_pipeline,
    single_thread,
)

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

STRATEGIES = [None, "none", "simple", "first", "average", "max"]
TEXTS = CORPUS[:3] + ["", CORPUS[5], "Wolfgang wolfgangs WOLFGANG testing tested"]
LONG = " ".join(CORPUS[:4])  # longer than model_max_length=24: truncated, or windows with stride


@pytest.fixture(scope="module", autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module", params=["bert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = build_checkpoint(
        tmp_path_factory.mktemp(request.param), request.param, "token-classification",
        id2label=dict(enumerate(NER_LABELS)), model_max_length=24, scale=30,
    )  # fmt: skip
    return both("ner", folder)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategies(pipes, strategy):
    args = {} if strategy is None else {"aggregation_strategy": strategy}
    for batch_size in (1, 4):
        compare(pipes, TEXTS, batch_size=batch_size, **args)
    compare(pipes, TEXTS[1], **args)
    compare(pipes, LONG, **args)  # truncated to model_max_length
    compare(pipes, TEXTS[0], ignore_labels=[], **args)
    compare(pipes, TEXTS[2], ignore_labels=["O", "B-LOC", "LOC"], **args)


@pytest.mark.parametrize("strategy", [None, "simple", "first", "average", "max"])
@pytest.mark.parametrize("stride", [2, 8])
def test_stride_windows(pipes, strategy, stride):
    """Texts longer than the model are split into overlapping windows, batched, and merged back."""
    args = {"stride": stride} if strategy is None else {"stride": stride, "aggregation_strategy": strategy}
    for batch_size in (1, 3):
        compare(pipes, [LONG, TEXTS[0], LONG + " " + CORPUS[4]], batch_size=batch_size, **args)
    compare(pipes, LONG, ignore_labels=[], **args)


def test_input_forms(pipes):
    compare(pipes, lambda: (t for t in TEXTS[:3]), aggregation_strategy="simple")
    compare(pipes, lambda: (t for t in TEXTS[:3]), batch_size=2)
    compare(pipes, [TEXTS[0]])
    compare(pipes, "")


def test_split_into_words(tmp_path):
    """is_split_into_words: words in, character spans in the words joined by the delimiter."""
    folder = build_checkpoint(
        tmp_path, "bert", "token-classification", id2label=dict(enumerate(NER_LABELS)), scale=30
    )
    pipes = both("token-classification", folder)
    words = ["My", "name", "is", "Wolfgang", "wolfgangs", "Berlin"]
    for strategy in ("none", "simple", "first", "max", "average"):
        compare(pipes, words, is_split_into_words=True, aggregation_strategy=strategy)
        compare(pipes, [words, words[2:]], is_split_into_words=True, aggregation_strategy=strategy)
        compare(pipes, [words], is_split_into_words=True, delimiter="--", aggregation_strategy=strategy)


def test_legacy_arguments(tmp_path):
    folder = build_checkpoint(
        tmp_path, "bert", "token-classification", id2label=dict(enumerate(NER_LABELS)), scale=30
    )
    pipes = both("ner", folder)
    for grouped in (True, False):
        for ignore_subwords in (True, False):
            compare(pipes, TEXTS[:2], grouped_entities=grouped, ignore_subwords=ignore_subwords)
    pipes = both("ner", folder, aggregation_strategy="first", ignore_labels=[])  # given at construction
    compare(pipes, TEXTS[:3])


def test_bad_arguments(tmp_path):
    folder = build_checkpoint(tmp_path, "bert", "token-classification", model_max_length=24)
    pipe = our_pipeline("ner", folder)
    with pytest.raises(ValueError, match="aggregation_strategy"):
        pipe("a", aggregation_strategy="mean")
    with pytest.raises(ValueError, match="stride.*model_max_length"):
        pipe("a", stride=24, aggregation_strategy="simple")
    with pytest.raises(ValueError, match="stride"):
        pipe("a", stride=4, aggregation_strategy="none")
    with pytest.raises(ValueError, match="At least one input"):
        pipe([])
    with pytest.raises(ValueError, match="untokenized string"):
        pipe([3])
    with pytest.raises(TypeError, match="unknown argument.*top_k"):
        pipe("a", top_k=2)


def test_given_offset_mapping(tmp_path):
    """offset_mapping=: one (start, end) per token, special tokens included (for tokenizers without offsets)."""
    folder = build_checkpoint(
        tmp_path, "bert", "token-classification", id2label=dict(enumerate(NER_LABELS)), scale=30
    )
    pipes = both("ner", folder)
    offsets = [(0, 0), (0, 2), (3, 7), (8, 10), (11, 19), (0, 0)]
    compare(pipes, "My name is Wolfgang", offset_mapping=offsets)
    compare(pipes, "My name is Wolfgang", offset_mapping=offsets, aggregation_strategy="simple")
    with pytest.raises(ValueError, match="offset_mapping has 3 .* 6 tokens"):
        pipes[0]("My name is Wolfgang", offset_mapping=offsets[:3])
    with pytest.raises(ValueError, match="same batch size"):
        pipes[0](["a", "b"], offset_mapping=[offsets])
    # several texts: the reference reads every text with the first text's offsets (extra pairs are unused)
    other = [(0, 0), (0, 1), (1, 2), (2, 3), (3, 4), (0, 0)]
    for batch_size in (1, 2):
        compare(pipes, ["My name is Wolfgang", "My name is Berlin"], offset_mapping=[offsets, other],
                batch_size=batch_size, ignore_labels=[])  # fmt: skip
    compare(pipes, ["My name is"], offset_mapping=[offsets], aggregation_strategy="first", ignore_labels=[])


def test_tuple_input_raises(tmp_path):
    """The reference can't read a tuple of texts (it is taken as one input); ours says to pass a list."""
    pipe = our_pipeline("ner", build_checkpoint(tmp_path, "bert", "token-classification"))
    with pytest.raises(ValueError, match="as a list"):
        pipe(("a b", "c"))


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta"])
def test_other_families(tmp_path, arch):
    """ELECTRA (WordPiece) and XLM-RoBERTa (Unigram, no subword prefix: the fallback word heuristic)."""
    labels = ["O", "B-PER", "PER", "I-PER", "LOC", "I-LOC"]  # with and without B-/I- prefixes
    folder = build_checkpoint(
        tmp_path,
        arch,
        "token-classification",
        id2label=dict(enumerate(labels)),
        model_max_length=24,
        scale=30,
    )
    pipes = both("ner", folder)
    texts = TEXTS + ["東京 is big. 東京タワー", "hello   world\t\nnew  york", "Zürich → Genève ©"]
    for strategy in STRATEGIES:
        args = {} if strategy is None else {"aggregation_strategy": strategy}
        compare(pipes, texts, batch_size=3, **args)
        if strategy not in (None, "none"):
            compare(pipes, [LONG, texts[-1] * 4], stride=5, **args)


def test_split_words_generator(tmp_path):
    """A generator with is_split_into_words=True: the reference uses it up checking its items (no results), or
    raises when an item is not a word list."""
    folder = build_checkpoint(tmp_path, "bert", "token-classification", id2label=dict(enumerate(NER_LABELS)))
    pipes = both("ner", folder)
    words = ["My", "name", "is", "Wolfgang"]
    compare(pipes, lambda: (w for w in [words, words[1:]]), is_split_into_words=True)
    with pytest.raises(ValueError, match="list of tokens"):
        list(pipes[0]((w for w in ["My name", words]), is_split_into_words=True))


AWKWARD = [
    "Héllo wörld, naïve café — crème brûlée!",
    "東京タワーは高い。我爱北京 東京 is big.",
    "Jean-Pierre's café, São Paulo; Zürich/Genève: ok!! 🤗 👍🏽",
    "tab\there\x07bell\u200bzwsp\u00adsoft  e\u0301 ﬁ ẞ",
    "",
]


@pytest.mark.parametrize("kind", TOKENIZER_VARIANTS)
def test_word_strings_on_other_tokenizers(tmp_path, kind):
    """Byte-level BPE with add_prefix_space / untrimmed offsets, SentencePiece XLM-R and T5 (``▁``), and the real
    all-MiniLM-L6-v2 tokenizer: every strategy gives the reference's ``word`` strings and spans on awkward text."""
    if kind.endswith("spm"):
        pytest.importorskip("sentencepiece")
    folder = build_on_tokenizer(tmp_path, kind, "token-classification", id2label=dict(enumerate(NER_LABELS)))
    pipes = both("ner", folder)
    for strategy in STRATEGIES[1:]:
        compare(pipes, AWKWARD, aggregation_strategy=strategy, ignore_labels=[], batch_size=2)
        if strategy != "none":
            compare(pipes, " ".join(AWKWARD) * 3, aggregation_strategy=strategy, ignore_labels=[], stride=8)
