"""zero-shot-classification: ours vs transformers.pipeline on tiny random NLI checkpoints (BERT, RoBERTa, BART)."""

from __future__ import annotations

import pytest

from .pipeline_fixtures import (  # noqa: F401
    CORPUS,
    NLI_LABELS,
    assert_same,
    both,
    build_checkpoint,
    compare,
    our_pipeline,
    single_thread,
)

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

LABELS = ["sport", "politics", "music", "cooking"]
ARGS = [
    {"candidate_labels": LABELS},
    {"candidate_labels": "sport, politics,, music ,"},  # a comma-separated string
    {"candidate_labels": ["travel"]},  # one label: entailment vs contradiction
    {"candidate_labels": LABELS, "multi_label": True},
    {"candidate_labels": LABELS[:2], "multi_class": True},  # the old name
    {"candidate_labels": LABELS, "hypothesis_template": "The topic is {}"},
]


def nli_checkpoint(folder, arch, labels=NLI_LABELS):
    return build_checkpoint(
        folder, arch, "sequence-classification", id2label=dict(enumerate(labels)), scale=30
    )


@pytest.fixture(scope="module", params=["bert", "roberta", "bart"])
def pipes(request, tmp_path_factory):
    return both(
        "zero-shot-classification", nli_checkpoint(tmp_path_factory.mktemp(request.param), request.param)
    )


@pytest.mark.parametrize("args", ARGS, ids=str)
def test_arguments(pipes, args):
    for batch_size in (1, 5):
        compare(pipes, CORPUS[:4], batch_size=batch_size, **args)
    compare(pipes, CORPUS[0], **args)


def test_input_forms(pipes):
    ours, theirs = pipes
    compare(pipes, [CORPUS[1]], candidate_labels=LABELS)
    compare(pipes, lambda: (t for t in CORPUS[:3]), candidate_labels=LABELS, batch_size=3)
    assert_same(
        ours(CORPUS[2], LABELS), theirs(CORPUS[2], LABELS)
    )  # labels as the second positional argument


@pytest.mark.parametrize(
    "labels", [["ENTAILMENT", "neutral", "contradiction"], ["entails", "not"], ["yes", "no"]]
)
def test_entailment_label(tmp_path, labels):
    """The entailment id is the first label starting with 'entail' (any case); none -> the last logit."""
    pipes = both("zero-shot-classification", nli_checkpoint(tmp_path, "bert", labels))
    compare(pipes, CORPUS[:2], candidate_labels=LABELS)
    compare(pipes, CORPUS[:2], candidate_labels=LABELS[:1])
    compare(pipes, CORPUS[:2], candidate_labels=LABELS, multi_label=True)


def test_construction_arguments(tmp_path):
    pipes = both("zero-shot-classification", nli_checkpoint(tmp_path, "bert"), candidate_labels=LABELS)
    compare(pipes, CORPUS[:2])
    compare(pipes, CORPUS[:2], candidate_labels=["a", "b"], hypothesis_template="{}!")


def test_bad_inputs(tmp_path):
    classify = our_pipeline("zero-shot-classification", nli_checkpoint(tmp_path, "bert"))
    with pytest.raises(ValueError, match="needs candidate_labels"):
        classify("a text")
    with pytest.raises(ValueError, match="at least one label"):
        classify("a text", candidate_labels=[])
    with pytest.raises(ValueError, match="at least one label"):
        classify("a text", candidate_labels=" , ")
    with pytest.raises(ValueError, match="at least one sequence"):
        classify("", candidate_labels=LABELS)
    with pytest.raises(ValueError, match="hypothesis_template"):
        classify("a text", candidate_labels=LABELS, hypothesis_template="no slot")
    with pytest.raises(ValueError, match="extra arguments"):
        classify("a text", LABELS, "x")


@pytest.mark.parametrize("arch", ["electra", "xlm-roberta", "distilbert"])
def test_other_families(tmp_path, arch):
    pipes = both(
        "zero-shot-classification", nli_checkpoint(tmp_path, arch, ["ENTAILMENT", "NEUTRAL", "CONTRADICTION"])
    )
    compare(pipes, CORPUS[:3] + ["   "], candidate_labels=LABELS + ["東京", "naïve café"], batch_size=3)
    compare(pipes, CORPUS[5], candidate_labels="sport, music", multi_label=True)


def test_label2id_read_from_the_file(tmp_path):
    """Some NLI checkpoints name their classes only in label2id (id2label is LABEL_i): the entailment id comes
    from the file's label2id, as in the reference, not from one rebuilt out of id2label."""
    import json

    import pretrained

    folder = nli_checkpoint(tmp_path, "bert")
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(3)}
    config["label2id"] = {"neutral": 0, "contradiction": 1, "entailment": 2}
    path.write_text(json.dumps(config))
    assert pretrained.AutoConfig.from_pretrained(folder).label2id == config["label2id"]
    pipes = both("zero-shot-classification", folder)
    compare(pipes, CORPUS[:2], candidate_labels=LABELS)
    compare(pipes, CORPUS[:2], candidate_labels=LABELS, multi_label=True)
