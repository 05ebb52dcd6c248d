"""GenerationConfig files, errors, stop strings, streamers, and encoder-decoder generation."""

from __future__ import annotations

import json
import logging
import threading

import pytest
import torch

transformers = pytest.importorskip("transformers")

from pretrained import (  # noqa: E402
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    GenerationConfig,
    TextIteratorStreamer,
    TextStreamer,
)
from pretrained.config import PretrainedConfig  # noqa: E402
from pretrained.generation import StopStringCriteria  # noqa: E402

from .generation_fixtures import (  # noqa: E402
    single_thread,  # noqa: F401
    tiny_bart,
    tiny_bpe_tokenizer,
    tiny_gpt2,
    tiny_marian,
    tiny_t5,
)


# -- GenerationConfig ----------------------------------------------------------------------------------
def test_defaults_match_reference():
    ref = transformers.GenerationConfig().to_dict()
    mine = GenerationConfig().to_dict()
    for key, value in mine.items():
        if key in ref:
            assert value == ref[key], key
    missing = set(ref) - set(mine) - {"compile_config"}
    assert not missing


def test_files_round_trip_with_reference(tmp_path):
    settings = {"max_new_tokens": 9, "do_sample": True, "top_p": 0.8, "eos_token_id": [2, 5], "my_key": 1}
    GenerationConfig(**settings).save_pretrained(tmp_path / "ours")
    theirs = transformers.GenerationConfig.from_pretrained(tmp_path / "ours")
    assert {k: getattr(theirs, k) for k in settings} == settings
    transformers.GenerationConfig(**settings).save_pretrained(tmp_path / "ref")
    mine = GenerationConfig.from_pretrained(tmp_path / "ref")
    assert {k: getattr(mine, k) for k in settings} == settings
    assert json.loads((tmp_path / "ours" / "generation_config.json").read_text()) == json.loads(
        (tmp_path / "ref" / "generation_config.json").read_text()
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"do_sample": False, "temperature": 0.5},
        {"top_k": 5},
        {"length_penalty": 2.0},
        {"early_stopping": True},
        {"output_scores": True},
        {"use_cache": False, "cache_implementation": "static"},
        {"pad_token_id": -1},
    ],
)
def test_settings_without_effect_are_refused_at_save_as_by_the_reference(tmp_path, settings):
    with pytest.raises(ValueError, match="Fix these issues"):
        transformers.GenerationConfig(**settings).save_pretrained(tmp_path / "ref")
    config = GenerationConfig(**settings)  # built (and logged), not saved
    assert set(config.minor_issues()) == set(settings) - {"do_sample", "use_cache"}
    with pytest.raises(ValueError, match="Fix these issues"):
        config.save_pretrained(tmp_path / "ours")
    with pytest.raises(ValueError, match=next(iter(config.minor_issues()))):
        config.validate(strict=True)


def test_from_dict_and_from_pretrained_return_unused_kwargs(tmp_path):
    config, unused = GenerationConfig.from_dict({"max_length": 5}, return_unused_kwargs=True, top_k=3)
    theirs, ref_unused = transformers.GenerationConfig.from_dict(
        {"max_length": 5}, return_unused_kwargs=True, top_k=3
    )
    assert (config.max_length, config.top_k, unused) == (theirs.max_length, theirs.top_k, ref_unused)
    GenerationConfig(max_length=7).save_pretrained(tmp_path)
    config, unused = GenerationConfig.from_pretrained(tmp_path, return_unused_kwargs=True, num_beams=2)
    assert (config.max_length, config.num_beams, unused) == (7, 2, {})


@pytest.mark.parametrize(
    "settings", [{}, {"do_sample": True}, {"num_beams": 2}, {"num_beams": 2, "do_sample": True}]
)
def test_generation_mode_matches_reference(settings):
    from pretrained.generation import GenerationMode

    mode = GenerationConfig(**settings).get_generation_mode()
    theirs = transformers.GenerationConfig(**settings).get_generation_mode()
    assert isinstance(mode, GenerationMode) and mode == theirs.value and mode.name == theirs.name


def test_from_model_config_matches_reference():
    ref_cfg = transformers.BartConfig(
        num_beams=4, max_length=142, no_repeat_ngram_size=3, forced_bos_token_id=0
    )
    theirs = transformers.GenerationConfig.from_model_config(ref_cfg)
    mine = GenerationConfig.from_model_config(PretrainedConfig(**ref_cfg.to_dict()))
    assert mine.to_json_string(ignore_metadata=True) == theirs.to_json_string(ignore_metadata=True)


def test_bad_config_values():
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationConfig(max_new_tokens=0)
    with pytest.raises(ValueError, match="early_stopping"):
        GenerationConfig(early_stopping="sometimes")
    with pytest.raises(ValueError, match="num_return_sequences"):
        GenerationConfig(num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="argument of generate"):
        GenerationConfig(streamer=object())


def test_model_gets_generation_config_at_load(tmp_path):
    ref = tiny_gpt2()
    ref.generation_config.max_new_tokens = 5
    ref.generation_config.top_k = 3
    ref.generation_config.do_sample = True
    ref.save_pretrained(tmp_path / "m")
    ours = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert ours.generation_config.max_new_tokens == 5 and ours.generation_config.top_k == 3
    (tmp_path / "m" / "generation_config.json").unlink()  # derived from config.json then
    ours = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert ours.generation_config.max_new_tokens is None and ours.generation_config.eos_token_id == 2
    ours.save_pretrained(tmp_path / "again")
    assert transformers.GenerationConfig.from_pretrained(tmp_path / "again").eos_token_id == 2


# -- errors --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gpt2_pair(tmp_path_factory):
    ref = tiny_gpt2()
    folder = tmp_path_factory.mktemp("gpt2")
    ref.save_pretrained(folder)
    return ref, AutoModelForCausalLM.from_pretrained(folder)


PROMPT = torch.tensor([[5, 6, 7]])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_new_tokens": 0}, ValueError, "max_new_tokens"),
        ({"num_beams": 2, "num_return_sequences": 3}, ValueError, "num_return_sequences"),
        ({"num_return_sequences": 2}, ValueError, "num_return_sequences"),
        ({"do_sample": True, "temperature": 0.0}, ValueError, "temperature"),
        ({"do_sample": True, "temperature": -0.5}, ValueError, "temperature"),
        ({"do_sample": True, "top_p": -0.5}, ValueError, "top_p"),  # 0.0 and 1.5 run, as in the reference
        ({"do_sample": True, "temperature": 2}, ValueError, "float"),  # the reference rejects an int
        ({"repetition_penalty": 2}, ValueError, "float"),
        ({"encoder_repetition_penalty": 3}, ValueError, "float"),
        ({"token_healing": True}, NotImplementedError, "token_healing"),
        ({"num_beams": 2, "low_memory": True}, ValueError, "low_memory"),
        ({"cache_implementation": "bogus"}, ValueError, "cache_implementation"),
        ({"stop_strings": ["x"]}, ValueError, "tokenizer"),
        ({"max_lenght": 5}, ValueError, "max_lenght"),
        ({"max_length": 3}, ValueError, "max_length"),
        ({"penalty_alpha": 0.6, "top_k": 4}, NotImplementedError, "contrastive"),
    ],
)
def test_generate_errors(gpt2_pair, kwargs, error, match):
    with pytest.raises(error, match=match):
        gpt2_pair[1].generate(PROMPT, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"do_sample": True, "top_p": 0.0},  # keeps one token
        {"do_sample": True, "top_p": 1.5},  # no top-p warper
        {"do_sample": True, "temperature": True},  # == 1.0: no temperature warper
        {"do_sample": True, "temperature": 1, "repetition_penalty": 1},  # == 1.0: no warper, no penalty
        {"num_beams": 2, "diversity_penalty": 0.5},  # ignored without beam groups
        {"logits_to_keep": 2},  # a forward argument generate() sets itself
        {"cache_implementation": "static"},
        {"guidance_scale": 1.0},  # no guidance
        {"synced_gpus": False, "trust_remote_code": False},
    ],
)
def test_arguments_the_reference_accepts(gpt2_pair, kwargs):
    ref, ours = gpt2_pair
    torch.manual_seed(0)
    theirs = ref.generate(PROMPT, max_new_tokens=6, pad_token_id=0, **kwargs)
    torch.manual_seed(0)
    assert torch.equal(ours.generate(PROMPT, max_new_tokens=6, pad_token_id=0, **kwargs), theirs)


@pytest.mark.parametrize("kwargs", [{"max_new_tokens": 2.5}, {"max_length": 6.5, "forced_eos_token_id": 4}])
def test_fractional_lengths_stop_at_the_first_length_past_them(gpt2_pair, kwargs):
    ref, ours = gpt2_pair
    theirs = ref.generate(PROMPT, pad_token_id=0, **kwargs)
    assert torch.equal(ours.generate(PROMPT, pad_token_id=0, **kwargs), theirs)


def test_reference_also_rejects_max_new_tokens_zero(gpt2_pair):
    with pytest.raises(ValueError, match="max_new_tokens"):
        gpt2_pair[0].generate(PROMPT, max_new_tokens=0)


def test_prompt_longer_than_context(gpt2_pair):
    with pytest.raises(ValueError, match=r"130 tokens.*max_position_embeddings=128"):
        gpt2_pair[1].generate(torch.ones(1, 130, dtype=torch.long), max_new_tokens=2)


def test_generation_past_learned_positions(gpt2_pair):
    with pytest.raises(ValueError, match=r"max_length 140 .*max_position_embeddings=128.*at most 8 new"):
        gpt2_pair[1].generate(torch.ones(1, 120, dtype=torch.long), max_new_tokens=20)


def test_max_length_past_learned_positions_runs_while_eos_ends_rows_in_time(gpt2_pair):
    """As the reference, a max_length past GPT-2's 128 positions fails only if a step gets there."""
    ref, ours = gpt2_pair
    prompt = torch.randint(3, 96, (2, 120), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(prompt)
    mask[1, :5] = 0  # a padded row has smaller positions
    eos = ref.generate(prompt, attention_mask=mask, max_new_tokens=3, pad_token_id=0)[:, 121].tolist()
    kwargs = dict(attention_mask=mask, max_new_tokens=20, eos_token_id=eos, pad_token_id=0)
    theirs = ref.generate(prompt, **kwargs)
    assert theirs.shape[1] < 128
    assert torch.equal(ours.generate(prompt, **kwargs), theirs)


def test_bad_inputs(gpt2_pair):
    ours = gpt2_pair[1]
    with pytest.raises(ValueError, match=r"input_ids must be \(batch, seq_len\)"):
        ours.generate(torch.tensor(5), max_new_tokens=2)
    with pytest.raises(ValueError, match="attention_mask has shape"):
        ours.generate(PROMPT, attention_mask=torch.ones(1, 2, dtype=torch.long), max_new_tokens=2)
    with pytest.raises(ValueError, match="beam search"):
        ours.generate(PROMPT, num_beams=2, streamer=TextStreamer(None), max_new_tokens=2)


def test_list_prompt_and_inputs_alias(gpt2_pair):
    ours = gpt2_pair[1]
    a = ours.generate([5, 6, 7], max_new_tokens=4)
    b = ours.generate(inputs=PROMPT, max_new_tokens=4)
    assert torch.equal(a, b) and a.shape == (1, 7)


def test_generated_ids_can_feed_a_training_step(gpt2_pair):
    ours = gpt2_pair[1]
    ids = ours.generate(PROMPT, max_new_tokens=3)
    assert not ids.is_inference()
    with torch.enable_grad():
        ours.train()
        try:
            ours(ids, labels=ids).loss.backward()
        finally:
            ours.zero_grad()
            ours.eval()


def test_missing_pad_falls_back_to_eos_with_a_log_line(gpt2_pair, caplog):
    batch = torch.tensor([[5, 6, 7], [8, 9, 10]])
    with caplog.at_level(logging.WARNING, logger="pretrained.generation"):
        gpt2_pair[1].generate(batch, attention_mask=torch.ones_like(batch), max_new_tokens=3)
    assert "Setting `pad_token_id` to `eos_token_id`:2" in caplog.text


def test_generation_parameters_set_on_the_model_config_still_count(tmp_path):
    """The reference's legacy rule: while the generation config is the untouched one derived from the model
    config, generation parameters set on ``model.config`` afterwards are used (with a warning)."""
    ref = tiny_gpt2()
    ref.save_pretrained(tmp_path)
    ours = AutoModelForCausalLM.from_pretrained(tmp_path)
    for model in (ref, ours):
        model.config.num_beams, model.config.max_length = 3, 9
    theirs = ref.generate(PROMPT, pad_token_id=0)
    assert torch.equal(ours.generate(PROMPT, pad_token_id=0), theirs)
    assert ours.generation_config.num_beams == 3
    ours.generation_config.num_beams = 2  # a changed generation config wins from then on
    ours.config.num_beams = 4
    assert ours.generate(PROMPT, pad_token_id=0, return_dict_in_generate=True).beam_indices.shape[0] == 1
    assert ours.generation_config.num_beams == 2


def test_model_built_directly_has_a_generation_config():
    from pretrained.models.gpt2 import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, eos_token_id=7))
    assert model.generation_config.eos_token_id == 7
    assert model.generate(PROMPT, max_new_tokens=3, min_new_tokens=3).shape == (1, 6)


# -- tokenizer-dependent: stop strings and streamers ---------------------------------------------------
@pytest.fixture(scope="module")
def text_setup(tmp_path_factory):
    """A real byte-level BPE tokenizer (reference + ours) and a GPT-2 over its vocabulary."""
    ref_tok, folder = tiny_bpe_tokenizer(tmp_path_factory.mktemp("tok"))
    tok = AutoTokenizer.from_pretrained(folder)
    ref = tiny_gpt2(seed=1, vocab_size=len(ref_tok), eos_token_id=len(ref_tok) + 5)  # no EOS: run full length
    model_dir = tmp_path_factory.mktemp("gpt2_bpe")
    ref.save_pretrained(model_dir)
    return ref_tok, tok, ref, AutoModelForCausalLM.from_pretrained(model_dir)


STOPS = ["\n\n", "the", "ing ", "a", "Hello world", ".", "ation", "京"]


def test_stop_string_criteria_matches_reference(text_setup):
    ref_tok, tok, _, _ = text_setup
    theirs = transformers.generation.StopStringCriteria(ref_tok, STOPS)
    words = [
        "the",
        " the",
        "th",
        "e",
        "ing",
        " ",
        "\n",
        "\n\n",
        "a",
        "ation",
        "at",
        "ion",
        " Hello",
        " world",
    ]
    words += ["Hello", ".", "x", " rest", "ations", "ing.", "東京", "京", "🙂", " quick"]
    pool = torch.tensor(sorted({i for w in words for i in ref_tok(w, add_special_tokens=False)["input_ids"]}))
    seqs = pool[torch.randint(len(pool), (1500, 6), generator=torch.Generator().manual_seed(0))]
    expected = theirs(seqs, None)
    assert 100 < int(expected.sum()) < 1400
    assert torch.equal(StopStringCriteria(ref_tok, STOPS)(seqs, None), expected)
    assert torch.equal(StopStringCriteria(tok, STOPS)(seqs, None), expected)


def test_generate_with_stop_strings_matches_reference(text_setup):
    ref_tok, tok, ref, ours = text_setup
    prompt = torch.tensor([ref_tok("Hello world")["input_ids"][:2], ref_tok("the answer")["input_ids"][:2]])
    full = ours.generate(prompt, max_new_tokens=30, pad_token_id=0)
    text = ref_tok.decode(full[0, prompt.shape[1] :])
    stop = next(text[i : i + 2] for i in range(8, len(text) - 2) if text[i : i + 2].isprintable())
    theirs = ref.generate(prompt, max_new_tokens=30, pad_token_id=0, stop_strings=[stop], tokenizer=ref_tok)
    mine = ours.generate(prompt, max_new_tokens=30, pad_token_id=0, stop_strings=[stop], tokenizer=tok)
    assert torch.equal(mine, theirs)
    assert stop in ref_tok.decode(mine[0]) and int(mine[0, -1]) == 0  # row 0 stopped, then padded


def test_stop_strings_no_token_can_end_are_refused_as_by_the_reference(tmp_path):
    """A SentencePiece vocabulary without a newline cannot produce "\n\n": both refuse it up front."""
    pytest.importorskip("sentencepiece")
    from .pipeline_gen_fixtures import t5

    folder = t5(tmp_path / "t5")
    ref_tok, tok = transformers.AutoTokenizer.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    with pytest.raises(ValueError, match="unable to identify"):
        transformers.generation.StopStringCriteria(ref_tok, ["\n\n"])
    with pytest.raises(ValueError, match="no token"):
        StopStringCriteria(tok, ["\n\n"])
    for stops in (["\n\n", "the"], ["fox"]):  # one reachable string is enough
        ids = torch.tensor([ref_tok("the quick fox", add_special_tokens=False)["input_ids"]])
        theirs = transformers.generation.StopStringCriteria(ref_tok, stops)(ids, None)
        assert torch.equal(StopStringCriteria(tok, stops)(ids, None), theirs)


def test_text_iterator_streamer_yields_the_final_text(text_setup):
    _, tok, _, ours = text_setup
    prompt = torch.tensor([tok("Hello world")["input_ids"]])
    streamer = TextIteratorStreamer(tok, skip_prompt=True, timeout=60)
    kwargs = {"input_ids": prompt, "max_new_tokens": 40, "do_sample": True, "streamer": streamer}
    torch.manual_seed(0)
    thread = threading.Thread(target=ours.generate, kwargs=kwargs)
    thread.start()
    pieces = list(streamer)
    thread.join()
    torch.manual_seed(0)
    full = ours.generate(prompt, max_new_tokens=40, do_sample=True)
    assert "".join(pieces) == tok.decode(full[0, prompt.shape[1] :])
    assert len(pieces) > 2


def test_text_streamer_prints_as_the_reference(text_setup, capsys):
    ref_tok, tok, ref, ours = text_setup
    prompt = torch.tensor([tok("the quick")["input_ids"]])
    ref.generate(prompt, max_new_tokens=30, streamer=transformers.TextStreamer(ref_tok), pad_token_id=0)
    theirs = capsys.readouterr().out
    ours.generate(prompt, max_new_tokens=30, streamer=TextStreamer(tok), pad_token_id=0)
    assert capsys.readouterr().out == theirs


def test_streamer_consumer_sees_a_failure(gpt2_pair):
    class Decoder:
        def decode(self, ids, **kwargs):
            return " ".join(map(str, ids))

    streamer = TextIteratorStreamer(Decoder(), timeout=30)
    thread = threading.Thread(
        target=lambda: pytest.raises(
            ValueError, gpt2_pair[1].generate, PROMPT, streamer=streamer, max_length=2
        )
    )
    thread.start()
    with pytest.raises(RuntimeError, match="generation failed"):
        list(streamer)
    thread.join()


# -- encoder-decoder -----------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["t5", "bart", "marian"])
def seq2seq(request, tmp_path_factory):
    ref = {"t5": tiny_t5, "bart": tiny_bart, "marian": tiny_marian}[request.param]()
    folder = tmp_path_factory.mktemp(request.param)
    ref.save_pretrained(folder)
    return ref, AutoModelForSeq2SeqLM.from_pretrained(folder)


ENC = torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 3, 3]])
ENC_MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_beams": 3, "num_return_sequences": 2, "length_penalty": 0.8},
        {"do_sample": True, "top_k": 8},
        {"no_repeat_ngram_size": 2, "repetition_penalty": 1.3},
        {"forced_bos_token_id": 4, "min_new_tokens": 5},
        {"encoder_no_repeat_ngram_size": 2, "num_beams": 2},
    ],
)
def test_seq2seq_matches_reference(seq2seq, kwargs):
    ref, ours = seq2seq
    torch.manual_seed(0)
    theirs = ref.generate(ENC, attention_mask=ENC_MASK, max_new_tokens=20, **kwargs)
    torch.manual_seed(0)
    mine = ours.generate(ENC, attention_mask=ENC_MASK, max_new_tokens=20, **kwargs)
    assert torch.equal(mine, theirs)


def test_seq2seq_inputs_embeds(seq2seq):
    ref, ours = seq2seq
    embeds = ref.get_encoder().embed_tokens(ENC).detach()
    if hasattr(ref.get_encoder(), "embed_scale"):  # BART / Marian scale their token embeddings inside
        embeds = embeds * ref.get_encoder().embed_scale
    for kwargs in ({}, {"num_beams": 2}):
        theirs = ref.generate(inputs_embeds=embeds, attention_mask=ENC_MASK, max_new_tokens=6, **kwargs)
        assert torch.equal(
            ours.generate(inputs_embeds=embeds, attention_mask=ENC_MASK, max_new_tokens=6, **kwargs), theirs
        )
    with pytest.raises(ValueError, match="pick one"):
        ours.generate(ENC, inputs_embeds=embeds, max_new_tokens=2)


def test_seq2seq_decoder_prefix_and_scores(seq2seq):
    ref, ours = seq2seq
    kwargs = dict(
        decoder_input_ids=torch.tensor([[7, 8], [9, 10]]),
        max_new_tokens=6,
        num_beams=2,
        return_dict_in_generate=True,
        output_scores=True,
    )
    theirs = ref.generate(ENC, attention_mask=ENC_MASK, **kwargs)
    mine = ours.generate(ENC, attention_mask=ENC_MASK, **kwargs)
    assert torch.equal(mine.sequences, theirs.sequences)
    torch.testing.assert_close(mine.sequences_scores, theirs.sequences_scores)
    assert type(mine).__name__ == "GenerateBeamEncoderDecoderOutput"


def test_rotary_prompt_longer_than_max_position_embeddings_generates_as_the_reference(tmp_path):
    """RoPE reads any position: a Llama prompt past max_position_embeddings generates (the reference's ids), it is
    not refused as a learned-table model's (GPT-2) is."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=16,
    )  # fmt: skip
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    ref = transformers.LlamaForCausalLM.from_pretrained(tmp_path).eval()
    ours = AutoModelForCausalLM.from_pretrained(tmp_path)
    prompt = torch.randint(3, 90, (1, 30), generator=torch.Generator().manual_seed(1))
    theirs = ref.generate(prompt, max_new_tokens=6, do_sample=False, pad_token_id=0)
    assert torch.equal(ours.generate(prompt, max_new_tokens=6, do_sample=False, pad_token_id=0), theirs)
