"""text-classification / sentiment-analysis: ours vs transformers.pipeline on tiny random checkpoints."""

from __future__ import annotations

import pytest

from .pipeline_fixtures import (  # noqa: F401
    CORPUS,
    assert_same,
    both,
    build_checkpoint,
    compare,
    our_pipeline,
    single_thread,
)

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

TEXTS = [CORPUS[0], "bad", CORPUS[2], "x", CORPUS[5]]
FORMS = {
    "str": CORPUS[3],
    "list": TEXTS,
    "one-item list": [CORPUS[1]],
    "pair dict": {"text": "I love it", "text_pair": "the movie was great"},
    "list of pair dicts": [
        {"text": "hello", "text_pair": "world"},
        {"text": CORPUS[1], "text_pair": CORPUS[2]},
    ],
    "legacy pair": [[["hello", "world"]]],
    "generator": lambda: (t for t in TEXTS),
}
ARGS = [
    {},
    {"top_k": None},
    {"top_k": 1},
    {"top_k": 2},
    {"top_k": 10},
    {"function_to_apply": "sigmoid"},
    {"function_to_apply": "NONE", "top_k": None},
    {"return_all_scores": True},
    {"return_all_scores": False},
    {"truncation": True, "max_length": 6},
]


@pytest.fixture(scope="module", params=["bert", "distilbert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = build_checkpoint(
        tmp_path_factory.mktemp(request.param),
        request.param,
        "sequence-classification",
        num_labels=3,
        scale=20,
    )
    return both("sentiment-analysis", folder)


@pytest.mark.parametrize("form", list(FORMS))
def test_input_forms(pipes, form):
    for args in ({}, {"top_k": 2}, {"top_k": None}):
        for batch_size in (1, 3):
            compare(pipes, FORMS[form], batch_size=batch_size, **args)


@pytest.mark.parametrize("args", ARGS, ids=str)
def test_arguments(pipes, args):
    for batch_size in (1, 2):
        compare(pipes, TEXTS, batch_size=batch_size, **args)
    compare(pipes, TEXTS[0], **args)


@pytest.mark.parametrize(
    "fields",
    [
        {"num_labels": 1},
        {"num_labels": 2, "problem_type": "multi_label_classification"},
        {"num_labels": 3, "problem_type": "regression"},
        {"id2label": {0: "NEGATIVE", 1: "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}},
        {"num_labels": 3, "return_all_scores": True},
    ],
    ids=str,
)
def test_config_defaults(tmp_path, fields):
    """function_to_apply follows problem_type and num_labels; label names come from id2label."""
    pipes = both(
        "text-classification", build_checkpoint(tmp_path, "bert", "sequence-classification", **fields)
    )
    compare(pipes, TEXTS[:3])
    compare(pipes, TEXTS[0], top_k=None)
    compare(pipes, TEXTS[0])


def test_construction_arguments(tmp_path):
    """Arguments given to pipeline() apply to every call; call arguments override them."""
    folder = build_checkpoint(tmp_path, "bert", "sequence-classification", num_labels=4, scale=20)
    pipes = both("text-classification", folder, top_k=2, function_to_apply="sigmoid", batch_size=2)
    compare(pipes, TEXTS)
    compare(pipes, TEXTS[0])
    compare(pipes, TEXTS, top_k=3, function_to_apply="softmax")


def test_batching_keeps_results(tmp_path):
    """Length-sorted batches give the same results as one text at a time, in input order."""
    pipe = our_pipeline(
        "text-classification", build_checkpoint(tmp_path, "roberta", "sequence-classification")
    )
    texts = [CORPUS[i % 6][: 5 + 7 * i] for i in range(23)]
    one = pipe(texts, top_k=None)
    for batch_size in (2, 5, 64):
        assert_same(pipe(texts, top_k=None, batch_size=batch_size), one, atol=1e-5)
    streamed = pipe((t for t in texts), top_k=None, batch_size=4)
    assert not isinstance(streamed, list)
    assert_same(list(streamed), one, atol=1e-5)


def test_bad_inputs(tmp_path):
    pipe = our_pipeline("text-classification", build_checkpoint(tmp_path, "bert", "sequence-classification"))
    with pytest.raises(ValueError, match="text pairs"):
        pipe([["a", "b"]])
    with pytest.raises(ValueError, match="function_to_apply"):
        pipe("a", function_to_apply="relu")
    with pytest.raises(ValueError, match="top_k"):
        pipe("a", top_k=0)
    with pytest.raises(TypeError, match="takes a str"):
        pipe(3)
    with pytest.raises(ValueError, match="batch_size"):
        pipe("a", batch_size=0)
    assert pipe([]) == []


def test_empty_text(pipes):
    compare(pipes, "")
    compare(pipes, ["", "a"], batch_size=2)


def test_decoder_classifier(tmp_path):
    """A GPT-2 head: one text at a time without a pad token; batched once the tokenizer has one."""
    folder = build_checkpoint(
        tmp_path, "gpt2", "sequence-classification", num_labels=3, scale=20, pad_token_id=1
    )
    pipes = both("text-classification", folder)
    compare(pipes, TEXTS, top_k=None)
    with pytest.raises(ValueError, match="no pad_token"):
        pipes[0](TEXTS, batch_size=2)
    for pipe in pipes:
        pipe.tokenizer.pad_token = "<pad>"
    compare(pipes, TEXTS, top_k=None, batch_size=3)


def test_left_padding_tokenizer_batches(tmp_path):
    """Batches are padded on the right even for a left-padding tokenizer: BERT's absolute positions stay those of
    each text alone, so batched results are the reference's (batch_size=1) ones."""
    import json

    folder = build_checkpoint(tmp_path, "bert", "sequence-classification", num_labels=3, scale=20)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "padding_side": "left"}))
    ours, theirs = both("text-classification", folder)
    assert_same(ours(TEXTS, top_k=None, batch_size=3), theirs(TEXTS, top_k=None))


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta"])
def test_other_families(tmp_path, arch):
    folder = build_checkpoint(tmp_path, arch, "sequence-classification", num_labels=3, scale=20)
    pipes = both("text-classification", folder)
    for args in ({}, {"top_k": None}, {"function_to_apply": "sigmoid", "top_k": 2}):
        compare(pipes, TEXTS + ["", "   "], batch_size=3, **args)
    compare(pipes, {"text": CORPUS[1], "text_pair": CORPUS[5]})


def test_torch_dataset_inputs(pipes):
    """A torch Dataset (transformers' KeyDataset, or a map-style one) streams its items, as the reference."""
    import torch

    key_dataset = pytest.importorskip("transformers.pipelines.pt_utils").KeyDataset

    class Texts(torch.utils.data.Dataset):
        def __len__(self):
            return len(TEXTS)

        def __getitem__(self, i):
            return TEXTS[i]

    compare(pipes, lambda: key_dataset([{"text": t} for t in TEXTS], "text"), batch_size=2)
    compare(pipes, Texts, top_k=None)
