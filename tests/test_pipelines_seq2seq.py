"""``pipeline("text2text-generation" | "summarization" | "translation[_xx_to_yy]")`` against transformers 4.57.6 on
the same tiny T5 / BART / Marian / mBART checkpoints: task prefixes and parameters, greedy / beam / sampling, output
options, batches, language codes, length warnings and bad input."""

from __future__ import annotations

import logging

import pytest
import torch

import pretrained

from .pipeline_fixtures import assert_same
from .pipeline_gen_fixtures import bart, causal_lm, marian, mbart, t5

transformers = pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")
transformers.logging.set_verbosity_error()

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "Paris is the capital of France",
    "hello world, what a news report!",
    "",
]
SHORT = dict(max_new_tokens=6)
BART_CNN = dict(
    max_length=12, min_length=4, num_beams=3, length_penalty=2.0, no_repeat_ngram_size=3, early_stopping=True,
    forced_bos_token_id=0, forced_eos_token_id=2,
)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq2seq")
    return {
        "t5": t5(root / "t5"),
        "bart": bart(root / "bart"),
        "bart-cnn": bart(root / "bart-cnn", seed=1, generation=BART_CNN),
        "marian": marian(root / "marian"),
        "mbart": mbart(root / "mbart"),
        "mbart50": mbart(root / "mbart50", "MBart50TokenizerFast"),
    }


_PIPES: dict = {}


def pipes(folders, task: str, name: str, **kwargs):
    key = (task, name, repr(sorted(kwargs.items())))
    if key not in _PIPES:
        folder = str(folders[name])
        _PIPES[key] = (
            pretrained.pipeline(task, model=folder, device="cpu", **kwargs),
            transformers.pipeline(task, model=folder, device="cpu", **kwargs),
        )
    return _PIPES[key]


def run_both(ours, ref, inputs, seed: int | None = None, **kwargs):
    if seed is not None:
        torch.manual_seed(seed)
    a = ours(inputs, **kwargs)
    if seed is not None:
        torch.manual_seed(seed)
    return a, ref(inputs, **kwargs)


CALLS = {
    "default-beams": SHORT,
    "greedy": dict(SHORT, num_beams=1),
    "beams-n": dict(SHORT, num_beams=3, num_return_sequences=2),
    "beams-penalized": dict(max_new_tokens=7, num_beams=2, length_penalty=-1.0, no_repeat_ngram_size=2),
    "min-length": dict(max_new_tokens=7, min_new_tokens=5, num_beams=1),
    "tensors": dict(SHORT, return_tensors=True),
    "clean-up": dict(SHORT, clean_up_tokenization_spaces=True),
    "sampling": dict(SHORT, do_sample=True, top_k=10, num_beams=1, num_return_sequences=2),
    "stop-sequence": dict(SHORT, num_beams=1, stop_sequence="news"),
    "truncation": dict(SHORT, truncation=True),
}


@pytest.mark.parametrize("name", ["t5", "bart", "marian"])
@pytest.mark.parametrize("call", list(CALLS))
def test_text2text_matches_reference(folders, name, call):
    ours, ref = pipes(folders, "text2text-generation", name)
    a, b = run_both(ours, ref, TEXTS, seed=0, **CALLS[call])
    assert_same(a, b)
    single_a, single_b = run_both(ours, ref, TEXTS[0], seed=0, **CALLS[call])
    assert_same(single_a, single_b)
    assert isinstance(single_a, list)
    if call == "tensors":
        assert isinstance(a[0]["generated_token_ids"], torch.Tensor)
    if call == "greedy":  # the tiny model's output depends on its input, so the comparison means something
        assert len({r["generated_text"] for r in a}) == len(TEXTS)


@pytest.mark.parametrize("name", ["t5", "bart"])
@pytest.mark.parametrize("batch_size", [2, 3])
def test_batches_match_reference(folders, name, batch_size):
    ours, ref = pipes(folders, "text2text-generation", name)
    for call in ("default-beams", "beams-n", "greedy"):
        a, b = run_both(ours, ref, TEXTS, batch_size=batch_size, **CALLS[call])
        assert_same(a, b)
        assert_same(ours(TEXTS, **CALLS[call]), a)  # batching changes nothing


@pytest.mark.parametrize(
    "task,kwargs",
    [
        ("summarization", dict(max_new_tokens=None)),  # T5's summarization parameters: prefix, beams, lengths
        ("summarization", dict(max_new_tokens=None, min_length=2, max_length=8, num_beams=1)),
        ("translation_en_to_de", dict(max_new_tokens=None)),
        ("translation_en_to_fr", dict(max_new_tokens=4)),
        ("translation", dict(max_new_tokens=None)),  # the first translation_* entry
        ("text2text-generation", SHORT),  # no task parameters, no prefix
    ],
)
def test_t5_task_specific_params(folders, task, kwargs):
    ours, ref = pipes(folders, task, "t5")
    assert_same(*run_both(ours, ref, TEXTS, **kwargs))
    assert ours.prefix == ref.prefix
    for key in (
        "max_length",
        "min_length",
        "num_beams",
        "no_repeat_ngram_size",
        "length_penalty",
        "max_new_tokens",
    ):
        assert getattr(ours.generation_config, key) == getattr(ref.generation_config, key), key
    assert (
        "prefix" in ours.model.config.task_specific_params["summarization"]
    )  # the model config is untouched


def test_model_generation_config_and_its_max_length(folders):
    """bart-large-cnn style defaults come from generation_config.json; a model max_length beats the task's 256."""
    ours, ref = pipes(folders, "summarization", "bart-cnn")
    assert ours.generation_config.max_new_tokens is None and ours.generation_config.max_length == 12
    assert_same(*run_both(ours, ref, TEXTS))
    assert_same(*run_both(ours, ref, TEXTS, min_length=3, max_length=6))
    ours, ref = pipes(folders, "translation", "marian")  # num_beams=3, max_length=12, bad_words_ids
    assert_same(*run_both(ours, ref, TEXTS))
    assert_same(*run_both(ours, ref, TEXTS, num_beams=2, num_return_sequences=2, batch_size=2))


@pytest.mark.parametrize("name", ["mbart", "mbart50"])
def test_language_codes(folders, name):
    ours, ref = pipes(folders, "translation", name)
    for src, tgt in (("en_XX", "fr_XX"), ("de_DE", "en_XX")):
        kwargs = dict(src_lang=src, tgt_lang=tgt, max_new_tokens=5)
        a, b = run_both(ours, ref, TEXTS, **kwargs)
        assert_same(a, b)
        assert_same(ours(TEXTS, batch_size=2, **kwargs), a)
        assert_same(*run_both(ours, ref, TEXTS[1], num_beams=1, **kwargs))
    with pytest.raises(ValueError, match="src_lang"):
        ours("hello")
    with pytest.raises(ValueError, match="src_lang"):
        ref("hello")
    with pytest.raises(ValueError, match="tgt_lang='fr'.*fr_XX"):
        ours("hello", src_lang="en_XX", tgt_lang="fr")  # the reference silently forces the unknown token
    named, _ = pipes(folders, "translation_en_to_fr", name)  # the task name's "en"/"fr" are not mBART codes
    with pytest.raises(ValueError, match="src_lang='en'"):
        named("hello")


def test_length_warnings(folders, caplog):
    summarize, _ = pipes(folders, "summarization", "t5")
    with caplog.at_level(logging.WARNING, logger="pretrained"):
        summarize("a b", max_new_tokens=None, min_length=31, max_length=30)
    messages = [r.getMessage() for r in caplog.records]
    assert any("min_length=31 must be inferior than your max_length=30" in m for m in messages)
    assert any("Your max_length is set to 30, but your input_length is only" in m for m in messages)
    caplog.clear()
    translate, _ = pipes(folders, "translation_en_to_de", "t5")
    with caplog.at_level(logging.WARNING, logger="pretrained"):
        translate(TEXTS[0], max_new_tokens=None, max_length=4)
    assert any("is bigger than 0.9 * max_length: 4" in r.getMessage() for r in caplog.records)


def test_bad_input(folders):
    ours, _ = pipes(folders, "summarization", "t5")
    with pytest.raises(TypeError, match="str"):
        ours(123)
    with pytest.raises(TypeError, match="str"):
        ours([["nested"]])
    with pytest.raises(ValueError, match="stop_sequence"):
        ours("x", stop_sequence="")
    with pytest.raises(ValueError, match="seq2seq-lm"):
        pretrained.pipeline("summarization", model=str(causal_lm(folders["t5"].parent / "gpt2", "gpt2")))
    with pytest.raises(NotImplementedError, match="contrastive"):
        ours("x", penalty_alpha=0.6, top_k=4)
