"""Each logits processor / warper / stopping criterion against the reference's, on random scores and ids."""

from __future__ import annotations

import pytest
import torch

tf_gen = pytest.importorskip("transformers.generation")

from pretrained import generation as ours  # noqa: E402
from pretrained.generation import GenerationConfig, build_logits_processor  # noqa: E402

from .generation_fixtures import single_thread  # noqa: E402, F401

V = 40


def random_case(seed: int, batch: int = 6, length: int = 9):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 8, (batch, length), generator=g)  # few distinct ids: n-grams repeat
    scores = torch.randn(batch, V, generator=g) * 3
    scores[0, 5] = scores[0, 6]  # a tie
    scores[1, :] = scores[1, 0]  # a flat row
    return ids, scores


EOS = torch.tensor([3, 7])
CASES = {
    "min_length": ("MinLengthLogitsProcessor", (12, EOS), {}),
    "min_length_done": ("MinLengthLogitsProcessor", (5, 3), {}),
    "min_new_tokens": ("MinNewTokensLengthLogitsProcessor", (4, 8, EOS), {}),
    "temperature": ("TemperatureLogitsWarper", (0.7,), {}),
    "repetition": ("RepetitionPenaltyLogitsProcessor", (1.4,), {}),
    "repetition_lt1": ("RepetitionPenaltyLogitsProcessor", (0.6,), {}),
    "top_p": ("TopPLogitsWarper", (0.7,), {}),
    "top_p_keep3": ("TopPLogitsWarper", (0.1,), {"min_tokens_to_keep": 3}),
    "top_k": ("TopKLogitsWarper", (4,), {}),
    "top_k_keep": ("TopKLogitsWarper", (1,), {"min_tokens_to_keep": 3}),
    "top_k_big": ("TopKLogitsWarper", (100,), {}),
    "min_p": ("MinPLogitsWarper", (0.2,), {}),
    "min_p_keep": ("MinPLogitsWarper", (0.9,), {"min_tokens_to_keep": 2}),
    "typical": ("TypicalLogitsWarper", (0.8,), {}),
    "epsilon": ("EpsilonLogitsWarper", (0.02,), {}),
    "eta": ("EtaLogitsWarper", (0.02,), {}),
    "ngram1": ("NoRepeatNGramLogitsProcessor", (1,), {}),
    "ngram2": ("NoRepeatNGramLogitsProcessor", (2,), {}),
    "ngram3": ("NoRepeatNGramLogitsProcessor", (3,), {}),
    "ngram_long": ("NoRepeatNGramLogitsProcessor", (12,), {}),
    "bad_words": ("NoBadWordsLogitsProcessor", ([[1], [2, 3], [4, 5, 6], [3]], EOS), {}),
    "sequence_bias": (
        "SequenceBiasLogitsProcessor",
        ([[[1], -2.5], [[2, 3], 4.0], [[4, 5, 3], -1.5], [[7, 3], 2.0]],),
        {},
    ),
    "sequence_bias_dict": (
        "SequenceBiasLogitsProcessor",
        ({(0,): 1.5, (1, 2, 3, 4, 5, 6, 7, 0, 1, 2): 3.0},),
        {},
    ),
    "forced_bos": ("ForcedBOSTokenLogitsProcessor", (2,), {}),
    "forced_eos": ("ForcedEOSTokenLogitsProcessor", (10, EOS), {}),
    "suppress": ("SuppressTokensLogitsProcessor", ([1, 2, 39],), {}),
    "begin_suppress": ("SuppressTokensAtBeginLogitsProcessor", ([1, 2], 9), {}),
    "exp_decay": ("ExponentialDecayLengthPenalty", ((2, 1.3), EOS, 4), {}),
    "inf_nan": ("InfNanRemoveLogitsProcessor", (), {}),
    "log_norm": ("LogitNormalization", (), {}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_processor_matches_reference(case, seed):
    name, args, kwargs = CASES[case]
    ids, scores = random_case(seed)
    if case == "inf_nan":
        scores[2, 3], scores[3, 4], scores[4, 5] = float("nan"), float("inf"), -float("inf")
    if case.startswith("min_p"):  # the reference's min_p reads pre-softmax scores; keep them moderate
        scores = scores / 3
    theirs = getattr(tf_gen, name)(*args, **kwargs)(ids.clone(), scores.clone())
    mine = getattr(ours, name)(*args, **kwargs)(ids.clone(), scores.clone())
    torch.testing.assert_close(mine, theirs, equal_nan=True, rtol=0, atol=0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_encoder_processors_match_reference(seed, n):
    ids, scores = random_case(seed, batch=6)
    enc = torch.randint(0, 8, (2, 7), generator=torch.Generator().manual_seed(seed))  # 2 prompts x 3 beams
    theirs = tf_gen.EncoderNoRepeatNGramLogitsProcessor(n, enc)(ids, scores.clone())
    mine = ours.EncoderNoRepeatNGramLogitsProcessor(n, enc)(ids, scores.clone())
    torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    enc6 = enc.repeat_interleave(3, dim=0)
    theirs = tf_gen.EncoderRepetitionPenaltyLogitsProcessor(1.5, enc6)(ids, scores.clone())
    mine = ours.EncoderRepetitionPenaltyLogitsProcessor(1.5, enc6)(ids, scores.clone())
    torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_processor_order_matches_reference():
    """The reference's _get_logits_processor order, with every processor switched on."""
    from transformers import GenerationConfig as RefConfig
    from transformers import GPT2Config, GPT2LMHeadModel

    settings = dict(
        do_sample=True,
        num_beams=2,
        repetition_penalty=1.2,
        encoder_repetition_penalty=1.1,
        no_repeat_ngram_size=2,
        encoder_no_repeat_ngram_size=2,
        bad_words_ids=[[5]],
        sequence_bias=[[[6], 1.5], [[1, 2], -0.5]],
        min_length=3,
        min_new_tokens=2,
        forced_bos_token_id=1,
        forced_eos_token_id=2,
        remove_invalid_values=True,
        exponential_decay_length_penalty=(2, 1.1),
        suppress_tokens=[9],
        begin_suppress_tokens=[8],
        temperature=0.5,
        top_k=5,
        top_p=0.9,
        min_p=0.1,
        typical_p=0.9,
        epsilon_cutoff=0.01,
        eta_cutoff=0.01,
        renormalize_logits=True,
        eos_token_id=2,
    )
    ref_model = GPT2LMHeadModel(GPT2Config(vocab_size=V, n_embd=8, n_layer=1, n_head=2))
    ref_cfg = RefConfig(**settings)
    ref_model._prepare_special_tokens(ref_cfg)
    ids = torch.zeros(2, 4, dtype=torch.long)
    theirs = ref_model._get_logits_processor(
        ref_cfg, input_ids_seq_length=4, encoder_input_ids=ids, device="cpu"
    )
    mine = build_logits_processor(
        GenerationConfig(**settings),
        input_ids_seq_length=4,
        encoder_input_ids=ids,
        eos_token_id=torch.tensor([2]),
    )
    assert [type(p).__name__ for p in mine] == [type(p).__name__ for p in theirs]
    _, scores = random_case(5, batch=2)
    torch.testing.assert_close(mine(ids, scores.clone()), theirs(ids, scores.clone()), rtol=0, atol=0)


def test_custom_processor_replaces_and_appends():
    class Shift(ours.LogitsProcessor):
        def __call__(self, input_ids, scores):
            return scores + 1

    custom_rep = ours.RepetitionPenaltyLogitsProcessor(2.0)
    procs = build_logits_processor(
        GenerationConfig(repetition_penalty=1.5), input_ids_seq_length=1, custom=[custom_rep, Shift()]
    )
    assert procs[0] is custom_rep and isinstance(procs[1], Shift)


@pytest.mark.parametrize(
    ("cls", "args", "match"),
    [
        ("TemperatureLogitsWarper", (0.0,), "temperature"),
        ("TemperatureLogitsWarper", (-1.0,), "temperature"),
        ("TopPLogitsWarper", (1.5,), "top_p"),
        ("TopPLogitsWarper", (-0.1,), "top_p"),
        ("TemperatureLogitsWarper", (2,), "float"),  # the reference rejects ints
        ("RepetitionPenaltyLogitsProcessor", (2,), "float"),
        ("TopKLogitsWarper", (0,), "top_k"),
        ("MinPLogitsWarper", (1.5,), "min_p"),
        ("TypicalLogitsWarper", (1.0,), "typical_p"),
        ("RepetitionPenaltyLogitsProcessor", (0.0,), "repetition_penalty"),
        ("NoRepeatNGramLogitsProcessor", (0,), "no_repeat_ngram_size"),
        ("NoBadWordsLogitsProcessor", ([],), "bad_words_ids"),
        ("SequenceBiasLogitsProcessor", ([],), "sequence_bias"),
        (
            "SequenceBiasLogitsProcessor",
            ([[[1], 2]],),
            "sequence_bias",
        ),  # an int bias: the reference refuses it
        ("SequenceBiasLogitsProcessor", ({(1,): 2.0, 3: 1.0},), "sequence_bias"),
        ("NoBadWordsLogitsProcessor", ([[1, -2]],), "bad_words_ids"),
    ],
)
def test_bad_processor_arguments(cls, args, match):
    with pytest.raises(ValueError, match=match):
        getattr(ours, cls)(*args)


def test_bad_words_outside_vocab():
    with pytest.raises(ValueError, match="vocabulary"):
        ours.NoBadWordsLogitsProcessor([[V + 5]])(torch.zeros(1, 2, dtype=torch.long), torch.zeros(1, V))


def test_stopping_criteria_match_reference():
    ids = torch.tensor([[1, 2, 3], [4, 5, 7], [7, 7, 9]])
    for mine, theirs in [
        (ours.MaxLengthCriteria(3), tf_gen.MaxLengthCriteria(3)),
        (ours.MaxLengthCriteria(4), tf_gen.MaxLengthCriteria(4)),
        (ours.EosTokenCriteria([3, 7]), tf_gen.EosTokenCriteria([3, 7])),
        (ours.EosTokenCriteria(9), tf_gen.EosTokenCriteria(9)),
    ]:
        assert torch.equal(mine(ids, None), theirs(ids, None))
    assert ours.MaxTimeCriteria(0.0, initial_timestamp=0.0)(ids, None).all()


def test_vocabulary_masks_are_built_once_and_follow_the_vocabulary():
    import gc

    from pretrained.generation import logits_process as lp

    proc = lp.SuppressTokensLogitsProcessor([1, 3, 99])  # 99: outside a vocabulary of 5, ignored
    ids = torch.tensor([[0]])
    out5 = proc(ids, torch.zeros(2, 5))
    assert out5.isinf().tolist() == [[False, True, False, True, False]] * 2
    mask = lp._vocab_mask(torch.zeros(1, 5), proc.suppress_tokens)
    assert mask is lp._vocab_mask(torch.zeros(3, 5), proc.suppress_tokens)  # cached for this vocabulary size
    out7 = proc(ids, torch.zeros(1, 7))  # another vocabulary size: its own mask
    assert out7.isinf().tolist() == [[False, True, False, True, False, False, False]]
    key = id(proc.suppress_tokens)
    assert key in lp._MASKS
    del proc, mask
    gc.collect()
    assert key not in lp._MASKS  # the entry leaves with its id tensor


def test_min_new_tokens_masks_eos_until_reached():
    from pretrained.generation import logits_process as lp

    proc = lp.MinNewTokensLengthLogitsProcessor(
        prompt_length_to_skip=2, min_new_tokens=2, eos_token_id=[4, 1]
    )
    scores = torch.arange(6.0).repeat(2, 1)
    early = proc(torch.zeros(2, 3, dtype=torch.long), scores)
    assert early[:, [1, 4]].isinf().all() and torch.equal(early[:, [0, 2, 3, 5]], scores[:, [0, 2, 3, 5]])
    assert torch.equal(proc(torch.zeros(2, 4, dtype=torch.long), scores), scores)  # reached: unchanged
    assert scores.isfinite().all()  # never in place
