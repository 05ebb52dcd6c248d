"""question-answering: ours vs transformers.pipeline on tiny random checkpoints (windows, top_k, impossible)."""

from __future__ import annotations

import json
import warnings

import pytest

from .pipeline_fixtures import (  # noqa: F401
    CORPUS,
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

CONTEXT = " ".join(CORPUS[:4])  # ~60 tokens: several windows with max_seq_len=32
Q = "Where does Sarah work?"
EXAMPLES = [
    {"question": Q, "context": CONTEXT},
    {"question": "What is the capital of France?", "context": CORPUS[2]},
    {"question": "who", "context": CORPUS[5]},
]
ARGS = [
    {},
    {"top_k": 3},
    {"top_k": 12},
    {"max_answer_len": 1, "top_k": 2},
    {"max_answer_len": 4},
    {"handle_impossible_answer": True},
    {"handle_impossible_answer": True, "top_k": 4},
    {"align_to_words": False, "top_k": 3},
    {"max_seq_len": 32, "doc_stride": 8},
    {"max_seq_len": 36, "doc_stride": 12, "top_k": 5, "handle_impossible_answer": True},
    {"max_seq_len": 40, "doc_stride": 4, "align_to_words": False, "top_k": 3},
    {"max_seq_len": 32, "doc_stride": 8, "padding": "max_length", "top_k": 2},
    {"max_question_len": 3},
]


@pytest.fixture(scope="module", autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module", params=["bert", "distilbert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = build_checkpoint(
        tmp_path_factory.mktemp(request.param),
        request.param,
        "question-answering",
        scale=5,
        model_max_length=128,
    )
    return both("question-answering", folder)


@pytest.mark.parametrize("args", ARGS, ids=str)
def test_arguments(pipes, args):
    for batch_size in (1, 4):
        compare(pipes, EXAMPLES, batch_size=batch_size, **args)


def test_input_forms(pipes):
    ours, theirs = pipes
    compare(pipes, EXAMPLES[0])  # a dict: the seed's example
    compare(pipes, EXAMPLES[:1])  # a one-item list gives that item's answer
    compare(pipes, lambda: iter(EXAMPLES), batch_size=2)  # a generator: results streamed in order
    for batch_size in (1, 3):
        assert_same(
            ours(question=Q, context=CONTEXT, batch_size=batch_size), theirs(question=Q, context=CONTEXT)
        )
        qs = [Q, "who is John?", "what?"]
        assert_same(
            ours(question=qs, context=CONTEXT, batch_size=batch_size), theirs(question=qs, context=CONTEXT)
        )
        cs = [CONTEXT, CORPUS[1], CORPUS[4]]
        assert_same(ours(question=qs, context=cs, batch_size=batch_size), theirs(question=qs, context=cs))
    assert_same(ours(Q, CONTEXT), theirs(Q, CONTEXT))  # two positional strings


def test_squad_examples(pipes):
    squad = pytest.importorskip("transformers.data.processors.squad")
    examples = [squad.SquadExample(None, e["question"], e["context"], None, None, None) for e in EXAMPLES]
    compare(pipes, examples, top_k=2)
    compare(pipes, examples[:1])


def test_question_after_context(tmp_path):
    """A left-padding tokenizer puts the context first (the reference's rule)."""
    folder = build_checkpoint(tmp_path, "bert", "question-answering", scale=5)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "padding_side": "left"}))
    pipes = both("question-answering", folder)
    for args in ({}, {"top_k": 3}, {"max_seq_len": 32, "doc_stride": 8, "top_k": 2}):
        compare(pipes, EXAMPLES, **args)


def test_bad_inputs(tmp_path):
    qa = our_pipeline("question-answering", build_checkpoint(tmp_path, "bert", "question-answering"))
    with pytest.raises(ValueError, match="needs a context"):
        qa(question="Where?")
    with pytest.raises(KeyError, match="context"):
        qa({"question": "Where?"})
    with pytest.raises(ValueError, match="`context` cannot be empty"):
        qa(question="Where?", context="")
    with pytest.raises(ValueError, match="`question` cannot be None"):
        qa({"question": None, "context": "abc"})
    with pytest.raises(ValueError, match="same lengths"):
        qa(question=["a", "b"], context=["c"])
    with pytest.raises(ValueError, match="doc_stride"):
        qa(question="a", context="b", doc_stride=50, max_seq_len=20)
    with pytest.raises(ValueError, match="lower doc_stride or raise max_seq_len"):
        qa(question="what is the capital of france?", context=CONTEXT, doc_stride=10, max_seq_len=18)
    with pytest.raises(ValueError, match="top_k"):
        qa(question="a", context="b", top_k=0)
    with pytest.raises(ValueError, match="max_answer_len"):
        qa(question="a", context="b", max_answer_len=0)
    with pytest.raises(ValueError, match="needs inputs"):
        qa()


TINY = [
    {"question": "a", "context": "b"},
    {"question": "why", "context": "   word   "},
    {"question": "who", "context": "Wolfgang lives"},
]


@pytest.mark.parametrize(
    "args",
    [
        {"top_k": 5},
        {"top_k": 2, "max_answer_len": 1},
        {"top_k": 5, "handle_impossible_answer": True},
        {"top_k": 7, "align_to_words": False},
    ],
    ids=str,
)
def test_top_k_past_the_possible_spans(pipes, args):
    """Short contexts: top_k reaches the zero-score spans, which come in the reference's (numpy) order."""
    for example in TINY:
        compare(pipes, example, **args)


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta"])
def test_other_families(tmp_path, arch):
    folder = build_checkpoint(tmp_path, arch, "question-answering", scale=5, model_max_length=128)
    pipes = both("question-answering", folder)
    for args in ({}, {"top_k": 3, "handle_impossible_answer": True}, {"max_seq_len": 32, "doc_stride": 8}):
        compare(pipes, EXAMPLES + TINY[:1], **args)


def test_left_padding_batches_match_single(tmp_path):
    """A left-padding tokenizer: batches are still padded on the right, so BERT's positions (and the answers)
    are those of each example alone (the reference's default, batch_size=1)."""
    folder = build_checkpoint(tmp_path, "bert", "question-answering", scale=5)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "padding_side": "left"}))
    ours, theirs = both("question-answering", folder)
    for args in ({"top_k": 2}, {"max_seq_len": 32, "doc_stride": 8}):
        assert_same(ours(EXAMPLES, batch_size=3, **args), theirs(EXAMPLES, **args))


def test_dict_of_lists(pipes):
    """One {"question": [...], "context": [...]} dict: the lists are zipped, and the answers always come as a list."""
    context = " ".join(CORPUS[:3])
    compare(pipes, {"question": ["Where?", "who"], "context": [context, CORPUS[5]]})
    compare(pipes, {"question": ["Where?"], "context": [context]})  # one pair: still a list
    compare(pipes, [{"question": ["Where?"], "context": [context]}], top_k=2)
    compare(
        pipes, {"question": ["Where?", "who"], "context": context}
    )  # a str context is zipped by character
    ours, _ = pipes
    with pytest.raises(TypeError, match="'question' and 'context' only"):
        ours({"question": "who", "context": context, "id": 3})


def test_best_positions_without_numpy():
    """Without numpy, the k best spans come by score (ties by position); with distinct scores, as numpy's."""
    import torch

    from pretrained.pipelines.question_answering import _best_positions_by_position, best_positions

    flat = torch.rand(400, generator=torch.Generator().manual_seed(0))
    for k in (1, 3, 50, 400, 500):
        assert _best_positions_by_position(flat, k) == best_positions(flat, k)
    assert _best_positions_by_position(torch.tensor([0.0, 0.5, 0.0, 0.0]), 3) == [1, 0, 2]


AWKWARD_EXAMPLES = [
    {
        "question": "Où est Zürich?",
        "context": "Héllo wörld, naïve café — crème brûlée! Jean-Pierre vit à São Paulo.",
    },
    {"question": "何ですか？", "context": "東京タワーは高い。我爱北京天安门。 東京 is big. 🤗 👍🏽"},
    {"question": "who", "context": "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３ Ångström İstanbul ﬁ ǅ ß ẞ e\u0301 " * 4},
]


@pytest.mark.parametrize("kind", TOKENIZER_VARIANTS)
def test_answers_on_other_tokenizers(tmp_path, kind):
    """Byte-level BPE with add_prefix_space / untrimmed offsets, SentencePiece XLM-R and T5 (``▁``), and the real
    all-MiniLM-L6-v2 tokenizer: answers (accents, CJK, spans at window edges, align_to_words) as the reference."""
    if kind.endswith("spm"):
        pytest.importorskip("sentencepiece")
    pipes = both("question-answering", build_on_tokenizer(tmp_path, kind, "question-answering", scale=5))
    for args in ({"top_k": 5}, {"top_k": 5, "align_to_words": False}, {"max_seq_len": 32, "doc_stride": 8, "top_k": 6},
                 {"max_seq_len": 40, "doc_stride": 10, "top_k": 4, "align_to_words": False, "handle_impossible_answer": True}):  # fmt: skip
        compare(pipes, AWKWARD_EXAMPLES, batch_size=2, **args)
