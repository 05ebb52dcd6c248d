"""fill-mask: ours vs transformers.pipeline on tiny random masked-LM checkpoints (top_k, targets, masks)."""

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


@pytest.fixture(scope="module", params=["bert", "distilbert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = build_checkpoint(tmp_path_factory.mktemp(request.param), request.param, "masked-lm")
    return both("fill-mask", folder)


def texts(pipes) -> list[str]:
    m = pipes[0].tokenizer.mask_token
    return [
        f"Paris is the {m} of France.",
        f"My {m} is {m} and I live in {m}.",  # several masks: a list per mask
        m,
        f"{CORPUS[1]} {m}",
        f"naïve café {m} 🤗",
    ]


@pytest.mark.parametrize("args", [{}, {"top_k": 1}, {"top_k": 3}, {"top_k": 40}], ids=str)
def test_top_k(pipes, args):
    for batch_size in (1, 3):
        compare(pipes, texts(pipes), batch_size=batch_size, **args)
    for text in texts(pipes)[:3]:
        compare(pipes, text, **args)


def test_targets(pipes):
    ours = pipes[0]
    vocab = ours.tokenizer.get_vocab()
    in_vocab = [t for t in ("paris", "london", "Ġparis", "Ġthe", "the", "capital") if t in vocab]
    assert in_vocab
    cases = [
        in_vocab,
        in_vocab[0],  # one str
        in_vocab + ["zzzq", "Berlin", " music"],  # not in the vocabulary: replaced by their first token
        [in_vocab[0], in_vocab[0]],  # duplicates count once
    ]
    for targets in cases:
        for args in ({}, {"top_k": 1}, {"top_k": 10}):
            for batch_size in (1, 3):
                compare(pipes, texts(pipes), targets=targets, batch_size=batch_size, **args)


def test_input_forms(pipes):
    t = texts(pipes)
    compare(pipes, t[:1])  # a one-text list gives that text's predictions
    compare(pipes, t[1:2])
    compare(pipes, lambda: (x for x in t), batch_size=2)
    compare(pipes, t, tokenizer_kwargs={"truncation": True, "max_length": 20})
    compare(pipes, t[0], top_k=2, targets=None)


def test_construction_arguments(tmp_path):
    folder = build_checkpoint(tmp_path, "bert", "masked-lm")
    pipes = both("fill-mask", folder, top_k=2, targets=["paris", "london", "the"])
    compare(pipes, "paris is the [MASK] of [MASK].")
    compare(pipes, ["[MASK]", "a [MASK]"], top_k=1)


def test_bad_inputs(tmp_path):
    fill = our_pipeline("fill-mask", build_checkpoint(tmp_path, "bert", "masked-lm"))
    with pytest.raises(ValueError, match=r"No mask_token \(\[MASK\]\) found"):
        fill("no mask here")
    with pytest.raises(ValueError, match="No mask_token"):
        fill(["a [MASK]", "none"])
    with pytest.raises(ValueError, match="At least one target"):
        fill("a [MASK]", targets=[])
    with pytest.raises(ValueError, match="top_k"):
        fill("a [MASK]", top_k=0)
    assert len(fill("a [MASK]", top_k=10**6)) == len(fill.tokenizer)  # more than the vocabulary: all of it


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta"])
def test_other_families(tmp_path, arch):
    """ELECTRA's generator head (WordPiece) and XLM-RoBERTa (Unigram, '▁' pieces)."""
    pipes = both("fill-mask", build_checkpoint(tmp_path, arch, "masked-lm"))
    m = pipes[0].tokenizer.mask_token
    batch = [f"Paris is the {m} of France.", f"{m} {m}", f"  {m}  ", f"naïve café {m} 🤗 東京"]
    compare(pipes, batch, batch_size=3, top_k=3)
    compare(pipes, batch[0], targets=["▁the", "the", "paris", "zzzq", "東京"])
