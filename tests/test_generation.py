"""generate() parity: our GPT-2 / Llama (loaded from the reference's save) against the reference's generate.

Same token ids for greedy, beam search, seeded sampling and every logits processor, on left-padded batches.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from pretrained import AutoModelForCausalLM  # noqa: E402

from .generation_fixtures import single_thread, tiny_gpt2, tiny_llama  # noqa: E402, F401

NEW = 24  # new tokens per case (20+)
PROMPTS = torch.tensor([[5, 6, 7, 8, 9, 10], [0, 0, 0, 11, 12, 13], [0, 14, 15, 16, 17, 18]])
MASK = (PROMPTS != 0).long()


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def pair(request, tmp_path_factory):
    ref = {"gpt2": tiny_gpt2, "llama": tiny_llama}[request.param]()
    folder = tmp_path_factory.mktemp(request.param)
    ref.save_pretrained(folder)
    return ref, AutoModelForCausalLM.from_pretrained(folder)


def both(pair, seed=0, prompts=PROMPTS, mask=MASK, **kwargs):
    ref, ours = pair
    torch.manual_seed(seed)
    theirs = ref.generate(prompts, attention_mask=mask, **kwargs)
    torch.manual_seed(seed)
    mine = ours.generate(prompts, attention_mask=mask, **kwargs)
    return theirs, mine


def assert_same_ids(theirs, mine):
    assert mine.shape == theirs.shape
    assert torch.equal(mine, theirs), f"\ntheirs {theirs}\nmine   {mine}"


def frequent_tokens(pair, n=2):
    """Ids the greedy continuation produces early, to make EOS / stop cases actually trigger."""
    ref, _ = pair
    out = ref.generate(PROMPTS, attention_mask=MASK, max_new_tokens=8, pad_token_id=0)
    gen = out[:, PROMPTS.shape[1] :]
    return [int(gen[0, 3]), int(gen[1, 5])][:n]


DECODING = {
    "greedy": {},
    "beam2": {"num_beams": 2},
    "beam4_lp05_early_n2": {
        "num_beams": 4,
        "length_penalty": 0.5,
        "early_stopping": True,
        "num_return_sequences": 2,
    },
    "beam3_never_lp15": {"num_beams": 3, "early_stopping": "never", "length_penalty": 1.5},
    "beam3_lpneg_n3": {"num_beams": 3, "length_penalty": -0.5, "num_return_sequences": 3},
    "sample_topk": {"do_sample": True, "top_k": 5},
    "sample_topp": {"do_sample": True, "top_k": 0, "top_p": 0.8},
    "sample_minp_temp": {"do_sample": True, "min_p": 0.1, "temperature": 0.8},
    "sample_temp_hot": {"do_sample": True, "temperature": 1.7, "top_k": 0},
    "sample_typical": {"do_sample": True, "typical_p": 0.9},
    "sample_eps_eta": {"do_sample": True, "epsilon_cutoff": 3e-3, "eta_cutoff": 1e-3},
    "sample_n3": {"do_sample": True, "top_k": 20, "num_return_sequences": 3},
    "beam_sample": {"do_sample": True, "num_beams": 3, "top_k": 10},
}


@pytest.mark.parametrize("case", list(DECODING))
def test_decoding_parity(pair, case):
    assert_same_ids(*both(pair, max_new_tokens=NEW, pad_token_id=0, **DECODING[case]))


PROCESSORS = {
    "repetition_penalty": {"repetition_penalty": 1.3},
    "repetition_penalty_beam": {"repetition_penalty": 0.7, "num_beams": 2},
    "no_repeat_ngram": {"no_repeat_ngram_size": 2},
    "no_repeat_ngram_beam": {"no_repeat_ngram_size": 3, "num_beams": 3},
    "bad_words": {"bad_words_ids": [[20], [21, 22], [5, 6, 7]]},
    "sequence_bias": {"sequence_bias": [[[20], 3.0], [[21, 22], 6.0], [[7, 9], -4.0]]},
    "sequence_bias_beam": {"sequence_bias": {(30,): 2.0, (5, 6, 7, 31): 9.0}, "num_beams": 3},
    "guidance": {"guidance_scale": 1.5},
    "guidance_negative_prompt": {"guidance_scale": 2.5, "negative_prompt_ids": torch.tensor([[7, 8]] * 3)},
    "guidance_beam_no_cache": {"guidance_scale": 0.5, "num_beams": 2, "use_cache": False},
    "forced_bos": {"forced_bos_token_id": 3},
    "forced_eos": {"forced_eos_token_id": 4},
    "suppress": {"suppress_tokens": [1, 2, 3, 30, 31]},
    "begin_suppress": {"begin_suppress_tokens": [1, 2, 3]},
    "encoder_repetition_penalty": {"encoder_repetition_penalty": 1.5},
    "encoder_no_repeat_ngram": {"encoder_no_repeat_ngram_size": 2},
    "exp_decay": {"exponential_decay_length_penalty": (5, 1.5), "eos_token_id": 7},
    "renormalize": {"renormalize_logits": True, "do_sample": True},
    "remove_invalid": {"remove_invalid_values": True},
    "stacked_sampling": {
        "do_sample": True,
        "repetition_penalty": 1.2,
        "no_repeat_ngram_size": 3,
        "top_p": 0.9,
    },
}


@pytest.mark.parametrize("case", list(PROCESSORS))
def test_processor_parity(pair, case):
    assert_same_ids(*both(pair, max_new_tokens=NEW, pad_token_id=0, **PROCESSORS[case]))


@pytest.mark.parametrize("beams", [1, 3])
def test_eos_single_and_list_pad_finished_rows(pair, beams):
    eos = frequent_tokens(pair)
    for eos_id in (eos[0], eos):
        theirs, mine = both(pair, max_new_tokens=NEW, pad_token_id=0, eos_token_id=eos_id, num_beams=beams)
        assert_same_ids(theirs, mine)
    if beams == 1:  # EOS did end rows (their tails are padding)
        assert (mine[:, PROMPTS.shape[1] :] == 0).any()


def test_min_new_tokens_and_min_length(pair):
    eos = frequent_tokens(pair)
    assert_same_ids(*both(pair, max_new_tokens=NEW, pad_token_id=0, eos_token_id=eos, min_new_tokens=10))
    assert_same_ids(*both(pair, max_new_tokens=NEW, pad_token_id=0, eos_token_id=eos, min_length=14))


def test_lengths_max_length_and_default(pair):
    assert_same_ids(*both(pair, max_length=PROMPTS.shape[1] + 9, pad_token_id=0))
    theirs, mine = both(pair, pad_token_id=0)  # no length given: 20 new tokens
    assert_same_ids(theirs, mine)
    assert mine.shape[1] == PROMPTS.shape[1] + 20


def test_single_prompt_without_mask_or_pad(pair):
    prompt = torch.tensor([[5, 6, 7]])
    theirs, mine = both(pair, prompts=prompt, mask=None, max_new_tokens=NEW)
    assert_same_ids(theirs, mine)


def test_no_cache_matches_cache(pair):
    _, ours = pair
    cached = ours.generate(PROMPTS, attention_mask=MASK, max_new_tokens=12, pad_token_id=0, num_beams=2)
    plain = ours.generate(
        PROMPTS, attention_mask=MASK, max_new_tokens=12, pad_token_id=0, num_beams=2, use_cache=False
    )
    assert torch.equal(cached, plain)


def test_left_padding_matches_unpadded(pair):
    _, ours = pair
    batch = ours.generate(PROMPTS, attention_mask=MASK, max_new_tokens=10, pad_token_id=0)
    alone = ours.generate(PROMPTS[1:2, 3:], max_new_tokens=10, pad_token_id=0)
    assert torch.equal(batch[1, 3:], alone[0])


@pytest.mark.parametrize(
    "kwargs", [{}, {"do_sample": True, "top_k": 10}, {"num_beams": 3, "num_return_sequences": 2}]
)
def test_return_dict_scores_and_logits(pair, kwargs):
    theirs, mine = both(
        pair,
        max_new_tokens=12,
        pad_token_id=0,
        eos_token_id=frequent_tokens(pair, 1),
        return_dict_in_generate=True,
        output_scores=True,
        output_logits=True,
        **kwargs,
    )
    assert type(mine).__name__ == type(theirs).__name__
    assert_same_ids(theirs.sequences, mine.sequences)
    assert len(mine.scores) == len(theirs.scores) and len(mine.logits) == len(theirs.logits)
    for a, b in zip(theirs.scores + theirs.logits, mine.scores + mine.logits):
        torch.testing.assert_close(b, a, atol=1e-4, rtol=1e-4)
    if "num_beams" in kwargs:
        torch.testing.assert_close(mine.sequences_scores, theirs.sequences_scores, atol=1e-4, rtol=1e-4)
        assert torch.equal(mine.beam_indices, theirs.beam_indices.to(mine.beam_indices.dtype))


@pytest.mark.parametrize("kwargs", [{}, {"num_beams": 2}, {"num_beams": 2, "output_logits": True}])
def test_return_dict_fields_not_asked_for_are_none(pair, kwargs):
    theirs, mine = both(pair, max_new_tokens=3, pad_token_id=0, return_dict_in_generate=True, **kwargs)
    assert list(mine.keys()) == list(theirs.keys())  # ModelOutput.keys(): the fields that are not None


def test_return_dict_attentions_and_hidden_states(pair):
    theirs, mine = both(  # unpadded prompts: hidden states at pad positions are meaningless
        pair,
        prompts=PROMPTS[:1],
        mask=MASK[:1],
        max_new_tokens=4,
        pad_token_id=0,
        num_beams=2,
        return_dict_in_generate=True,
        output_attentions=True,
        output_hidden_states=True,
    )
    assert len(mine.attentions) == len(theirs.attentions) == 4
    for step_theirs, step_mine in zip(theirs.hidden_states, mine.hidden_states):
        for a, b in zip(step_theirs, step_mine):
            torch.testing.assert_close(b, a, atol=1e-4, rtol=1e-4)
    assert mine.past_key_values is not None


def test_generation_config_object_and_model_defaults(pair, tmp_path):
    from transformers import GenerationConfig as RefGenerationConfig

    from pretrained import GenerationConfig

    settings = {"max_new_tokens": 15, "do_sample": True, "top_k": 7, "pad_token_id": 0}
    ref, ours = pair
    torch.manual_seed(3)
    theirs = ref.generate(PROMPTS, attention_mask=MASK, generation_config=RefGenerationConfig(**settings))
    torch.manual_seed(3)
    mine = ours.generate(PROMPTS, attention_mask=MASK, generation_config=GenerationConfig(**settings))
    assert_same_ids(theirs, mine)


def test_prefix_allowed_tokens_and_custom_criteria(pair):
    from transformers.generation import StoppingCriteria

    from pretrained.generation import StoppingCriteria as OurStoppingCriteria

    def allowed(batch_id, sent):
        return list(range(10 + batch_id, 40 + int(sent[-1]) % 7))

    class StopAtLength(StoppingCriteria, OurStoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            return torch.full((input_ids.shape[0],), input_ids.shape[1] >= 15, dtype=torch.bool)

    for beams in (1, 2):
        theirs, mine = both(
            pair,
            max_new_tokens=NEW,
            pad_token_id=0,
            num_beams=beams,
            prefix_allowed_tokens_fn=allowed,
            stopping_criteria=[StopAtLength()],
        )
        assert_same_ids(theirs, mine)
        assert mine.shape[1] == 15


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_new_tokens": 6},
        {"max_length": 12, "min_length": 9},  # lengths count the embedded prompt
        {"max_new_tokens": 5, "num_beams": 3, "num_return_sequences": 2},
        {"max_new_tokens": 5, "do_sample": True, "top_k": 10, "repetition_penalty": 1.3},
        {"max_new_tokens": 4, "use_cache": False},  # the reference forces the cache on
    ],
)
@pytest.mark.parametrize("with_ids", [False, True])
def test_inputs_embeds_prompt(pair, kwargs, with_ids):
    """A prompt given as embeddings: fed at the first step (the ids returned are input_ids, if given, then the
    new tokens), left padding from the mask."""
    ref, _ = pair
    embeds = ref.get_input_embeddings()(PROMPTS).detach()
    prompts = PROMPTS if with_ids else None
    theirs, mine = both(pair, prompts=prompts, inputs_embeds=embeds, pad_token_id=0, **kwargs)
    assert_same_ids(theirs, mine)


def test_inputs_embeds_of_one_position_are_fed_at_every_step(pair):
    """The reference feeds inputs_embeds whenever a step's new positions are as many as the embeddings: a
    one-position prompt's embedding at every step (not the generated tokens)."""
    ref, _ = pair
    embeds = ref.get_input_embeddings()(PROMPTS[:1, -1:]).detach()
    assert_same_ids(
        *both(pair, prompts=None, mask=None, inputs_embeds=embeds, max_new_tokens=5, pad_token_id=0)
    )
