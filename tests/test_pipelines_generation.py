"""``pipeline("text-generation")`` against transformers 4.57.6 on the same tiny checkpoints: prompts and chats,
greedy / beam / sampling, every output option, prefixes, stop sequences, long prompts, batches and bad input."""

from __future__ import annotations

import pytest
import torch

import pretrained

from .pipeline_fixtures import assert_same
from .pipeline_gen_fixtures import causal_lm

transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
transformers.logging.set_verbosity_error()

PROMPTS = [
    "Hello world",
    "the quick brown fox jumps over",
    "café 東京 naïve!",
    " what is the capital of France?",
]
CHAT = [{"role": "user", "content": "What is the capital of France?"}]
CHAT_SYSTEM = [{"role": "system", "content": "Be brief."}, *CHAT]
PREFILL = [*CHAT, {"role": "assistant", "content": "The capital is"}]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("causal")
    return {arch: causal_lm(root / arch, arch) for arch in ("gpt2", "llama", "llama-prefill")}


_PIPES: dict = {}


def pipes(folders, arch: str, **kwargs):
    """(ours, reference) pipelines for a checkpoint, cached per construction arguments."""
    key = (arch, repr(sorted(kwargs.items())))
    if key not in _PIPES:
        folder = str(folders[arch])
        _PIPES[key] = (
            pretrained.pipeline("text-generation", model=folder, device="cpu", **kwargs),
            transformers.pipeline("text-generation", model=folder, device="cpu", **kwargs),
        )
    return _PIPES[key]


def run_both(ours, ref, inputs, seed: int | None = None, **kwargs):
    if seed is not None:
        torch.manual_seed(seed)
    a = ours(inputs, **kwargs)
    if seed is not None:
        torch.manual_seed(seed)
    b = ref(inputs, **kwargs)
    return a, b


GREEDY = dict(do_sample=False, max_new_tokens=8)
CALLS = {
    "greedy": GREEDY,
    "beam": dict(do_sample=False, num_beams=3, num_return_sequences=2, max_new_tokens=6),
    "beam-penalized": dict(do_sample=False, num_beams=2, length_penalty=0.5, early_stopping=True, max_new_tokens=6),
    "new-text": dict(GREEDY, return_full_text=False),
    "tensors": dict(GREEDY, return_tensors=True),
    "text": dict(GREEDY, return_text=True),
    "raw-text": dict(GREEDY, clean_up_tokenization_spaces=False, skip_special_tokens=False),
    "prefix": dict(do_sample=False, prefix="the quick ", max_new_tokens=5),
    "prefix-max-length": dict(do_sample=False, prefix="hello ", max_new_tokens=None, max_length=30, min_length=27),
    "stop-sequence": dict(GREEDY, stop_sequence="d"),
    "penalties": dict(GREEDY, repetition_penalty=1.5, no_repeat_ngram_size=2, bad_words_ids=[[5], [7, 8]]),
    "min-new-tokens": dict(do_sample=False, max_new_tokens=6, min_new_tokens=5),
    "sampling": dict(do_sample=True, top_k=20, top_p=0.9, temperature=0.8, max_new_tokens=6, num_return_sequences=3),
    "beam-sampling": dict(do_sample=True, num_beams=2, max_new_tokens=5, num_return_sequences=2),
    "no-special-tokens": dict(GREEDY, add_special_tokens=False),
    "scores": dict(GREEDY, return_dict_in_generate=True, output_scores=True),
    "beam-scores": dict(GREEDY, num_beams=2, num_return_sequences=2, return_dict_in_generate=True, output_scores=True),
}  # fmt: skip


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("call", list(CALLS))
def test_prompts_match_reference(folders, arch, call):
    ours, ref = pipes(folders, arch)
    a, b = run_both(ours, ref, PROMPTS, seed=0, **CALLS[call])
    assert_same(a, b)
    if call == "tensors":
        assert set(a[0][0]) == {"generated_token_ids"}
    if call == "new-text":  # the tiny model's output depends on its input, so the comparison means something
        assert len({r[0]["generated_text"] for r in a}) == len(PROMPTS)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_single_prompt_and_empty_prompt(folders, arch):
    ours, ref = pipes(folders, arch)
    for prompt in ("Hello", ""):
        a, b = run_both(ours, ref, prompt, **GREEDY)
        assert_same(a, b)
        assert isinstance(a, list) and isinstance(a[0]["generated_text"], str)


@pytest.mark.parametrize("arch", ["gpt2", "llama", "llama-prefill"])
@pytest.mark.parametrize(
    "chat,kwargs",
    [
        (CHAT, {}),
        (CHAT_SYSTEM, {"return_full_text": False}),
        (PREFILL, {}),  # a final assistant message is continued
        (PREFILL, {"continue_final_message": False}),  # ... unless asked for a new message
        (CHAT, {"num_beams": 2, "num_return_sequences": 2}),
        (CHAT, {"tokenizer_encode_kwargs": {"truncation": True, "max_length": 9}}),
    ],
    ids=["chat", "system-new-text", "prefill", "no-prefill", "beams", "encode-kwargs"],
)
def test_chats_match_reference(folders, arch, chat, kwargs):
    ours, ref = pipes(folders, arch)
    a, b = run_both(ours, ref, chat, **GREEDY, **kwargs)
    assert_same(a, b)
    if kwargs.get("return_full_text") is None:
        messages = a[0]["generated_text"]
        assert messages[: len(chat) - 1] == chat[:-1] and messages[-1]["role"] == "assistant"


def test_batch_of_chats_and_tuple_input(folders):
    ours, ref = pipes(folders, "llama")
    chats = [CHAT, PREFILL, CHAT_SYSTEM]
    a, b = run_both(ours, ref, chats, **GREEDY, batch_size=2)
    assert_same(a, b)
    assert_same(ours(chats, **GREEDY), a)  # unbatched: the same
    assert_same(ours(tuple(CHAT), **GREEDY), ref(CHAT, **GREEDY))


@pytest.mark.parametrize("batch_size", [2, 3])
@pytest.mark.parametrize("call", ["greedy", "beam", "new-text", "min-new-tokens"])
def test_left_padded_batches_match_reference(folders, batch_size, call):
    ours, ref = pipes(folders, "llama")  # its tokenizer pads on the left, as decoder-only batching needs
    a, b = run_both(ours, ref, PROMPTS, batch_size=batch_size, **CALLS[call])
    assert_same(a, b)
    assert_same(ours(PROMPTS, **CALLS[call]), a)  # batching changes nothing


def test_batches_pad_left_whatever_the_tokenizer_says(folders):
    """GPT-2's tokenizer pads on the right; the reference then generates after the padding. We pad on the left,
    so a batch gives the unbatched results."""
    ours, ref = pipes(folders, "gpt2")
    with pytest.raises(ValueError, match="pad"):  # no pad token: batching is refused, as the reference
        ours(PROMPTS, batch_size=2, **GREEDY)
    with pytest.raises(ValueError, match="pad"):
        ref(PROMPTS, batch_size=2, **GREEDY)
    ours.tokenizer.pad_token = "<|endoftext|>"
    try:
        assert_same(ours(PROMPTS, batch_size=4, **GREEDY), ref(PROMPTS, **GREEDY))
    finally:
        ours.tokenizer.pad_token = None


def test_streams(folders):
    ours, ref = pipes(folders, "llama")
    out = ours((p for p in PROMPTS), **GREEDY)
    assert not isinstance(out, list)
    assert_same(list(out), ref(PROMPTS, **GREEDY))
    chats = ours(iter([CHAT, PREFILL]), **GREEDY)
    assert_same(list(chats), ref([CHAT, PREFILL], **GREEDY))


def test_construction_arguments_and_generation_config(folders):
    kwargs = dict(max_new_tokens=4, do_sample=False, return_full_text=False, num_beams=2)
    ours, ref = pipes(folders, "llama", **kwargs)
    for key in ("max_new_tokens", "do_sample", "num_beams", "temperature", "pad_token_id", "eos_token_id"):
        assert getattr(ours.generation_config, key) == getattr(ref.generation_config, key), key
    assert_same(ours(PROMPTS), ref(PROMPTS))
    assert_same(*run_both(ours, ref, PROMPTS, max_new_tokens=2, return_full_text=True))  # call-time wins
    defaults, ref_defaults = pipes(folders, "gpt2")
    for key in ("max_new_tokens", "do_sample", "temperature", "top_k", "max_length", "pad_token_id"):
        assert getattr(defaults.generation_config, key) == getattr(ref_defaults.generation_config, key), key
    assert defaults.model.generation_config.max_new_tokens is None  # the model's own config is untouched


def test_generation_config_argument(folders):
    ours, ref = pipes(folders, "gpt2")
    cfg = pretrained.GenerationConfig(max_new_tokens=3, do_sample=False, num_beams=2)
    ref_cfg = transformers.GenerationConfig(max_new_tokens=3, do_sample=False, num_beams=2)
    assert_same(ours(PROMPTS, generation_config=cfg), ref(PROMPTS, generation_config=ref_cfg))


def test_long_prompts_hole(folders, tmp_path):
    folder = str(folders["gpt2"])
    tokenizer = (folder, {"model_max_length": 12})
    ours = pretrained.pipeline("text-generation", model=folder, tokenizer=tokenizer)
    ref = transformers.pipeline("text-generation", model=folder, tokenizer=tokenizer)
    long = " ".join(["the quick brown fox"] * 6)
    kwargs = dict(GREEDY, max_new_tokens=5, handle_long_generation="hole")
    assert_same(ours(long, **kwargs), ref(long, **kwargs))
    with pytest.raises(ValueError, match="hole"):
        ours(long, do_sample=False, max_new_tokens=20, handle_long_generation="hole")
    with pytest.raises(ValueError, match="handle_long_generation"):
        ours(long, handle_long_generation="middle")


def test_bad_arguments_and_inputs(folders):
    ours, ref = pipes(folders, "gpt2")
    for kwargs in (
        dict(return_full_text=True, return_text=True),
        dict(return_full_text=True, return_tensors=True),
        dict(return_tensors=True, return_text=True),
    ):
        with pytest.raises(ValueError, match="mutually exclusive"):
            ours("hi", **kwargs)
    with pytest.raises(ValueError, match="role"):
        ours([{"role": "user", "text": "hi"}])
    with pytest.raises(ValueError, match="role"):
        ours([[{"content": "hi"}]])
    with pytest.raises(TypeError, match="prompt"):
        ours(42)
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours("hi", do_sample=False, num_return_sequences=2)
    with pytest.raises(NotImplementedError, match="assist"):
        pretrained.pipeline("text-generation", model=str(folders["gpt2"]), assistant_model="x")
    assert ours([]) == []


def test_needs_a_causal_lm(folders, tmp_path):
    from .pipeline_gen_fixtures import t5

    folder = t5(tmp_path / "t5")
    with pytest.raises(ValueError, match="causal-lm"):
        pretrained.pipeline("text-generation", model=str(folder))


def test_prefix_from_the_model_config(folders):
    folder = folders["gpt2"]
    ours_model = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ref_model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    ours_model.config.prefix = ref_model.config.prefix = "the quick "
    ours = pretrained.pipeline("text-generation", model=ours_model, tokenizer=str(folder))
    ref = transformers.pipeline("text-generation", model=ref_model, tokenizer=str(folder))
    assert ours.prefix == "the quick "
    assert_same(ours(PROMPTS[:2], **GREEDY), ref(PROMPTS[:2], **GREEDY))
    assert_same(*run_both(ours, ref, PROMPTS[:2], do_sample=False, max_new_tokens=None, max_length=30))


def test_default_sampling_with_a_seed(folders):
    """Sampling is the task's default; with the same seed ours draws what the reference draws, for one prompt,
    a list, a chat and a stream."""
    ours, ref = pipes(folders, "llama")
    for inputs in ("Hello", PROMPTS[:2], CHAT):
        assert_same(*run_both(ours, ref, inputs, seed=1, max_new_tokens=5))
    torch.manual_seed(2)
    a = list(ours((p for p in PROMPTS[:2]), max_new_tokens=5))
    torch.manual_seed(2)
    assert_same(a, list(ref((p for p in PROMPTS[:2]), max_new_tokens=5)))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(do_sample=True, max_new_tokens=4, return_tensors=True),  # same batches, same draws, same padding
        dict(do_sample=False, max_new_tokens=3, skip_special_tokens=False, return_full_text=False),
    ],
    ids=["sampling", "pad-tokens-in-text"],
)
def test_batches_are_consecutive_inputs_as_the_reference(folders, kwargs):
    """Batches take the inputs in order (not sorted by length): a batch decides what seeded sampling draws and
    the padding the returned ids keep; the new text is cut after the padded prompt's text."""
    ours, ref = pipes(folders, "llama")
    inputs = ["Hello world", "", "the quick brown fox jumps over", "a"]
    assert_same(*run_both(ours, ref, inputs, seed=0, batch_size=2, **kwargs))
    torch.manual_seed(1)
    streamed = list(ours((x for x in inputs), batch_size=3, **kwargs))  # a stream: batches as they come
    torch.manual_seed(1)
    assert_same(streamed, list(ref((x for x in inputs), batch_size=3, **kwargs)))
