"""pipeline(): task registry, aliases, defaults from the cache, model objects, errors; the Pipeline base's
batching (sort by length, pad, cut the padding back off, restore order), chunked inputs and streams."""

from __future__ import annotations

import logging
import shutil

import pytest
import torch
from torch import nn

import pretrained
from pretrained.pipelines import Pipeline, check_task, supported_tasks
from pretrained.pipelines.base import PerItem

from .pipeline_fixtures import (  # noqa: F401
    CORPUS,
    assert_same,
    both,
    build_checkpoint,
    compare,
    our_pipeline,
    single_thread,
)

SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    return build_checkpoint(tmp_path_factory.mktemp("cls"), "distilbert", "sequence-classification", scale=20)


# -- the registry ---------------------------------------------------------------------------------------
def test_tasks_and_aliases():
    assert check_task("sentiment-analysis")[0] == "text-classification"
    assert check_task("ner")[0] == "token-classification"
    assert check_task("translation_en_to_de")[::2] == ("translation", ("en", "de"))
    for task in ("feature-extraction", "fill-mask", "question-answering", "zero-shot-classification"):
        assert check_task(task)[0] == task
    assert {"text-classification", "sentiment-analysis", "ner", "translation_XX_to_YY"} <= set(
        supported_tasks()
    )


def test_unknown_task_lists_the_tasks():
    with pytest.raises(
        KeyError, match="Unknown task 'sentiment'.*text-classification.*zero-shot-classification"
    ):
        pretrained.pipeline("sentiment", model="whatever")
    with pytest.raises(KeyError, match="translation_XX_to_YY"):
        check_task("translation_en_fr")
    with pytest.raises(TypeError, match="task must be a string"):
        check_task(3)


def test_needs_a_task_or_a_model():
    with pytest.raises(RuntimeError, match="needs a task or a model"):
        pretrained.pipeline()
    with pytest.raises(RuntimeError, match="tokenizer but no model"):
        pretrained.pipeline("text-classification", tokenizer="some/tokenizer")


# -- default checkpoints (offline: the Hugging Face cache) ------------------------------------------------
def _cache_snapshot(cache, repo: str, revision: str, source) -> None:
    repo_dir = cache / ("models--" + repo.replace("/", "--"))
    snap = repo_dir / "snapshots" / revision
    shutil.copytree(source, snap)
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)


def test_default_model_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"{SST2}.*714eb0f.*not in the local.*model="):
        pretrained.pipeline("sentiment-analysis")


@pytest.mark.parametrize("revision", ["714eb0f" + "0" * 33, "a" * 40])
def test_default_model_from_cache(tmp_path, monkeypatch, classifier_dir, revision, caplog):
    """The reference's default checkpoint at its revision; another cached revision is used with a warning."""
    _cache_snapshot(tmp_path, SST2, revision, classifier_dir)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        pipe = pretrained.pipeline("sentiment-analysis", device="cpu")
    assert "defaulted to " + SST2 in caplog.text
    assert ("not at revision" in caplog.text) == (not revision.startswith("714eb0f"))
    assert_same(pipe(CORPUS[:2]), our_pipeline("text-classification", classifier_dir)(CORPUS[:2]))


# -- models and tokenizers ------------------------------------------------------------------------------
def test_task_inferred_from_architectures(classifier_dir):
    pipe = pretrained.pipeline(model=str(classifier_dir), device="cpu")
    assert type(pipe).__name__ == "TextClassificationPipeline"


def test_model_and_tokenizer_objects(classifier_dir):
    model = pretrained.AutoModelForSequenceClassification.from_pretrained(classifier_dir)
    tok = pretrained.AutoTokenizer.from_pretrained(classifier_dir)
    expected = our_pipeline("text-classification", classifier_dir)(CORPUS, top_k=None)
    for tokenizer in (tok, str(classifier_dir), None):  # None: from the model's folder
        pipe = pretrained.pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
        assert_same(pipe(CORPUS, top_k=None), expected)
    fresh = pretrained.AutoModelForSequenceClassification.from_config(model.config)
    with pytest.raises(ValueError, match="pass tokenizer="):
        pretrained.pipeline("text-classification", model=fresh)


def test_head_does_not_fit(tmp_path, classifier_dir):
    masked_lm = pretrained.AutoModelForMaskedLM.from_pretrained(
        build_checkpoint(tmp_path, "bert", "masked-lm")
    )
    with pytest.raises(ValueError, match="BertForMaskedLM can't be used for 'text-classification'"):
        pretrained.pipeline("text-classification", model=masked_lm)
    transformers = pytest.importorskip("transformers")
    config = transformers.MarianConfig(  # the reference has no question-answering head for Marian either
        vocab_size=50,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=32,
        pad_token_id=0,
        decoder_start_token_id=0,
    )
    transformers.MarianMTModel(config).save_pretrained(tmp_path / "marian")
    with pytest.raises(
        ValueError, match="can't be used for 'question-answering'.*no question-answering head"
    ):
        pretrained.pipeline("question-answering", model=str(tmp_path / "marian"))
    with pytest.raises(TypeError, match="model must be a folder"):
        pretrained.pipeline("text-classification", model=3)


def test_unknown_arguments(classifier_dir):
    with pytest.raises(TypeError, match="unknown argument.*aggregation.*accepts: .*top_k"):
        pretrained.pipeline("question-answering", model=str(classifier_dir), aggregation="max")


def test_device_and_dtype(classifier_dir):
    expected = our_pipeline("text-classification", classifier_dir)(CORPUS, top_k=None)
    for device in ("cpu", -1, torch.device("cpu")):
        pipe = pretrained.pipeline("text-classification", model=str(classifier_dir), device=device)
        assert pipe.device == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA, which is not available"):
            pretrained.pipeline("text-classification", model=str(classifier_dir), device=0)
    with pytest.raises(TypeError, match="device must be"):
        pretrained.pipeline("text-classification", model=str(classifier_dir), device=1.5)
    pipe = pretrained.pipeline(
        "text-classification", model=str(classifier_dir), device="cpu", torch_dtype="float64"
    )
    assert pipe.model.dtype == torch.float64
    assert_same(pipe(CORPUS, top_k=None), expected)
    pipe = pretrained.pipeline(
        "text-classification", model=str(classifier_dir), device="cpu", torch_dtype="bfloat16"
    )
    assert_same(pipe(CORPUS, top_k=None, batch_size=3), expected, atol=0.05)


def test_saved_dtype_is_kept(tmp_path, classifier_dir):
    """torch_dtype defaults to the checkpoint's ("auto"), as the reference's pipeline()."""
    shutil.copytree(classifier_dir, tmp_path / "m")
    model = pretrained.AutoModelForSequenceClassification.from_pretrained(
        tmp_path / "m", torch_dtype="float16"
    )
    model.save_pretrained(tmp_path / "m")
    ours, theirs = both("text-classification", tmp_path / "m")
    assert ours.model.dtype == theirs.model.dtype == torch.float16
    compare((ours, theirs), CORPUS, top_k=None)


# -- the Pipeline base: batching, chunks, streams -------------------------------------------------------
class _Config:
    pass


class ToyModel(nn.Module):
    """Per-token running sums and a per-sequence total, so padding mistakes show up."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))
        self.config = _Config()

    def forward(self, input_ids, attention_mask):
        x = input_ids.float() * attention_mask * self.w  # (B, T)
        return x.cumsum(dim=1), x.sum(dim=1)  # (B, T), (B,)


class ToyTokenizer:
    pad_token_id = 0

    def __init__(self, padding_side="right"):
        self.padding_side = padding_side


class ToyPipeline(Pipeline):
    """Each item (a list of ints) is split into chunks of at most ``size`` tokens."""

    chunked = True
    token_outputs = ("running",)

    def _sanitize_parameters(self, size=None):
        return ({"size": size} if size else {}), {}, {}

    def preprocess(self, item, size=4):
        for i in range(0, max(len(item), 1), size):
            ids = torch.tensor([item[i : i + size]])  # (1, t)
            yield {"input_ids": ids, "attention_mask": torch.ones_like(ids), "tag": f"chunk{i}"}

    def _forward(self, batch):
        assert isinstance(batch["tag"], (PerItem, str))
        running, total = self.model(batch["input_ids"], batch["attention_mask"])
        return {"running": running, "total": total, "input_ids": batch["input_ids"], "tag": batch["tag"]}

    def postprocess(self, outputs):
        return [
            (o["tag"], o["input_ids"][0].tolist(), o["running"][0].tolist(), o["total"].item())
            for o in outputs
        ]


@pytest.mark.parametrize("side", ["right", "left"])
def test_batching_matches_one_by_one(side):
    pipe = ToyPipeline(ToyModel(), ToyTokenizer(side), device="cpu")
    items = [list(range(1, n + 1)) for n in (9, 1, 5, 0, 12, 3, 4, 7, 2)]
    one = pipe(items, size=4)
    assert one[0][0] == ("chunk0", [1, 2, 3, 4], [1.0, 3.0, 6.0, 10.0], 10.0)
    assert [len(r) for r in one] == [3, 1, 2, 1, 3, 1, 1, 2, 1]
    for batch_size in (2, 3, 100):
        assert pipe(items, size=4, batch_size=batch_size) == one
        assert list(pipe((i for i in items), size=4, batch_size=batch_size)) == one
    assert pipe(tuple(items[0]), size=4, batch_size=2) == one[0]  # one item: its chunks batched together


class CountingModel(ToyModel):
    """ToyModel that records the (B, T) shape of each call."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def forward(self, input_ids, attention_mask):
        self.shapes.append(tuple(input_ids.shape))
        return super().forward(input_ids, attention_mask)


def test_batch_size_one_runs_equal_length_pieces_together():
    model = CountingModel()
    pipe = ToyPipeline(model, ToyTokenizer(), device="cpu")
    pipe.pad_multiple = 1  # no rounding up of widths here (see test_widths_are_rounded_up_to_pad_multiple)
    assert pipe.piece_batch is None  # on the CPU: one piece at a time
    assert pipe([list(range(1, 10))], size=4) and model.shapes == [(1, 4), (1, 4), (1, 1)]
    model.shapes.clear()
    pipe.piece_batch = 16  # as on an accelerator
    items = [list(range(1, 13)), list(range(1, 10))]
    one = pipe(items, size=4)
    assert model.shapes == [(3, 4), (2, 4), (1, 1)]  # no padding: the short last piece runs alone
    model.shapes.clear()
    assert pipe(tuple(items[0]), size=4) == one[0] and model.shapes == [(3, 4)]
    pipe.piece_batch, model.shapes = 2, []
    assert pipe(tuple(items[0]), size=4) == one[0] and model.shapes == [(2, 4), (1, 4)]


@pytest.mark.parametrize("stream", [False, True])
def test_batches_are_sorted_across_the_input(stream):
    model = CountingModel()
    pipe = ToyPipeline(model, ToyTokenizer(), device="cpu")
    pipe.pad_multiple = 1
    lengths = [(7 * i) % 50 + 1 for i in range(200)]
    items = [[1] * n for n in lengths]
    out = pipe((i for i in items) if stream else items, size=100, batch_size=4)
    assert [r[0][3] for r in out] == [float(n) for n in lengths]
    padded = sum(b * t for b, t in model.shapes)
    if stream:  # sorted within windows of batch_size * sort_window items
        assert padded < 1.1 * sum(lengths)
    else:  # the whole list sorted at once: each batch pads to its longest, never more
        assert padded == sum(max(c) * len(c) for c in _chunks(sorted(lengths, reverse=True), 4))


@pytest.mark.parametrize("batch_size", [1, 4])
def test_widths_are_rounded_up_to_pad_multiple(batch_size):
    lengths = [(7 * i) % 50 + 1 for i in range(40)]
    items = [list(range(1, n + 1)) for n in lengths]
    exact_model, model = CountingModel(), CountingModel()
    exact = ToyPipeline(exact_model, ToyTokenizer(), device="cpu")
    exact.pad_multiple = 1
    expected = exact(items, size=100, batch_size=batch_size)
    pipe = ToyPipeline(model, ToyTokenizer(), device="cpu")
    assert pipe.pad_multiple == 8
    assert pipe(items, size=100, batch_size=batch_size) == expected  # masked padding cut off again
    assert {t % 8 for _, t in model.shapes} == {0}  # few distinct shapes reach the model
    assert len({t for _, t in model.shapes}) <= 7 < len({t for _, t in exact_model.shapes})
    for tokenizer in (ToyTokenizer(padding_side="left"), type("NoPad", (), {"pad_token_id": None})()):
        model.shapes.clear()  # left padding would move positions; no pad token: nothing to pad with
        ToyPipeline(model, tokenizer, device="cpu")(items[:1], size=100)
        assert model.shapes == [(1, lengths[0])]


def _chunks(values, size):
    return [values[i : i + size] for i in range(0, len(values), size)]


def test_streams_lazily():
    pulled = []

    def items():
        for n in range(1, 50):
            pulled.append(n)
            yield [n] * n

    pipe = ToyPipeline(ToyModel(), ToyTokenizer(), device="cpu")
    stream = pipe(items(), size=100)
    assert not isinstance(stream, list) and pulled == []
    assert next(stream)[0][3] == 1.0 and len(pulled) == 1
    stream = pipe(items(), size=100, batch_size=2)
    next(stream)
    assert len(pulled) <= 1 + 2 * ToyPipeline.sort_window


def test_padding_needs_a_pad_token():
    tok = ToyTokenizer()
    tok.pad_token_id = None
    pipe = ToyPipeline(ToyModel(), tok, device="cpu")
    with pytest.raises(ValueError, match="no pad_token"):
        pipe([[1, 2], [1, 2, 3]], batch_size=2)
    assert len(pipe([[1, 2], [1, 2, 3]])) == 2  # batch_size=1 needs no padding


def test_bad_batch_size():
    pipe = ToyPipeline(ToyModel(), ToyTokenizer(), device="cpu")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            pipe([[1]], batch_size=bad)


def test_exports():
    assert pretrained.pipeline is pretrained.pipelines.pipeline
    assert pretrained.Pipeline is Pipeline
    assert pretrained.pipelines.FillMaskPipeline.__name__ == "FillMaskPipeline"
    assert pretrained.pipelines.NerPipeline if hasattr(pretrained.pipelines, "NerPipeline") else True


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_rounding_up_stays_within_the_positions(tmp_path, arch):
    """A model with 20 positions (not a multiple of pad_multiple) runs texts of every length that fits it."""
    pytest.importorskip("transformers")
    folder = build_checkpoint(tmp_path, arch, "token-classification", max_positions=20)
    pipes = both("ner", folder)
    words = " ".join(CORPUS[:3]).split()
    count = pipes[1].tokenizer
    texts = [t for n in range(4, 40) if 14 <= len(count(t := " ".join(words[:n]))["input_ids"]) <= 20]
    assert len(texts) >= 3
    compare(pipes, texts, ignore_labels=[])
    compare(pipes, texts, ignore_labels=[], batch_size=3)


@pytest.mark.parametrize("batch_size", [2, 3, 8])
def test_stream_results_come_after_one_batch(batch_size):
    """A stream's first results come once one batch is read (as the reference's DataLoader); later windows grow
    so a long stream is still sorted by length over several batches."""
    pulled = []

    def items(n):
        for k in range(1, n + 1):
            pulled.append(k)
            yield [k] * (k % 7 + 1)

    pipe = ToyPipeline(ToyModel(), ToyTokenizer(), device="cpu")
    stream = pipe(items(20), size=100, batch_size=batch_size)
    first = next(stream)
    assert first[0][1] == [1, 1] and len(pulled) == batch_size
    rest = list(stream)
    assert [r[0][1][0] for r in rest] == list(range(2, 21)) and len(pulled) == 20


def test_stream_pulls_as_the_reference(classifier_dir):
    """text-classification on a generator with batch_size=3: as many items read for the first result."""
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    counts = []
    for make in (pretrained.pipeline, transformers.pipeline):
        pulled: list[int] = []
        texts = (pulled.append(k) or f"text {k}" for k in range(100))
        results = iter(
            make("text-classification", model=str(classifier_dir), device="cpu")(texts, batch_size=3)
        )
        assert next(results)["label"]
        counts.append(len(pulled))
    assert counts[0] == counts[1] == 3
