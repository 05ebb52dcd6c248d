"""GPT-2 and the Llama family (Llama, Mistral, Qwen2) against transformers 4.57.6: logits, loss, hidden states,
attentions, KV-cache decoding and padded batches, in both directions (reference-saved and ours-saved)."""

from __future__ import annotations

import json

import pytest
import torch

import pretrained
from pretrained.nn.kv_cache import KVCache

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

V, T = 97, 11
LLAMA_TINY = dict(
    vocab_size=V,
    hidden_size=32,
    intermediate_size=48,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=64,
)
LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 16,
}
# name -> (reference config class, config fields, compare against the reference's eager attention)
VARIANTS = {
    "gpt2": ("GPT2Config", dict(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=64), False),
    "gpt2-variant": (
        "GPT2Config",
        dict(
            vocab_size=V,
            n_embd=32,
            n_layer=3,
            n_head=2,
            n_positions=32,
            n_inner=40,
            activation_function="gelu",
            scale_attn_weights=False,  # the reference honours these two only in eager attention
            scale_attn_by_inverse_layer_idx=True,
            tie_word_embeddings=False,
        ),
        False,
    ),
    "llama-gqa": ("LlamaConfig", dict(LLAMA_TINY, num_key_value_heads=2), False),
    "llama-mha-tied-bias": (
        "LlamaConfig",
        dict(LLAMA_TINY, tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
        False,
    ),
    "llama-head-dim": ("LlamaConfig", dict(LLAMA_TINY, num_key_value_heads=1, head_dim=16), False),
    "llama-linear": (
        "LlamaConfig",
        dict(LLAMA_TINY, rope_scaling={"rope_type": "linear", "factor": 2.0}),
        False,
    ),
    "llama-dynamic": (
        "LlamaConfig",
        dict(LLAMA_TINY, max_position_embeddings=8, rope_scaling={"type": "dynamic", "factor": 2.0}),
        False,
    ),
    "llama-llama3": ("LlamaConfig", dict(LLAMA_TINY, num_key_value_heads=2, rope_scaling=LLAMA3), False),
    "llama-yarn": (
        "LlamaConfig",
        dict(LLAMA_TINY, rope_theta=500.0, rope_scaling={"rope_type": "yarn", "factor": 4.0}),
        False,
    ),
    "llama-longrope": (
        "LlamaConfig",
        dict(
            LLAMA_TINY,
            max_position_embeddings=32,
            original_max_position_embeddings=8,  # sequences past 8 tokens switch to the long factors
            rope_scaling={
                "rope_type": "longrope",
                "factor": 4.0,
                "short_factor": [1.0, 1.1, 1.2, 1.3],
                "long_factor": [2.0, 2.5, 3.0, 3.5],
            },
        ),
        False,
    ),
    "mistral-window": ("MistralConfig", dict(LLAMA_TINY, num_key_value_heads=2, sliding_window=4), False),
    "qwen2": ("Qwen2Config", dict(LLAMA_TINY, num_key_value_heads=2), False),
    "qwen2-tied-window": (
        "Qwen2Config",
        dict(
            LLAMA_TINY,
            num_key_value_heads=1,
            tie_word_embeddings=True,
            use_sliding_window=True,
            sliding_window=3,
            max_window_layers=1,
        ),
        False,
    ),
}
NAMES = list(VARIANTS)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Many small ops on 2 shared cores: one thread avoids OpenMP barrier stalls."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def reference_config(name: str, **extra):
    cls_name, fields, _ = VARIANTS[name]
    return getattr(transformers, cls_name)(**fields, **extra)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (folder, reference model as compared); each reference model is built and saved once."""
    made: dict[str, tuple] = {}

    def get(name: str):
        if name not in made:
            torch.manual_seed(0)
            eager = VARIANTS[name][2]
            attn = "eager" if eager else "sdpa"
            model = transformers.AutoModelForCausalLM.from_config(
                reference_config(name), attn_implementation=attn
            )
            folder = tmp_path_factory.mktemp(name)
            model.save_pretrained(folder)
            made[name] = (folder, model.eval())
        return made[name]

    return get


def inputs(seed: int = 1, batch: int = 2, length: int = T) -> torch.Tensor:
    return torch.randint(0, V, (batch, length), generator=torch.Generator().manual_seed(seed))


def left_padded(length: int = T) -> torch.Tensor:
    mask = torch.ones(3, length, dtype=torch.long)
    mask[1, :3] = 0
    mask[2, :6] = 0
    return mask


def reference_positions(mask: torch.Tensor) -> torch.Tensor:
    """What the reference's generate() passes for a padded batch."""
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=0, atol=1e-4)


# -- reference saves, we load ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_reference_checkpoint_same_logits_loss_hidden_states(saved, name):
    folder, theirs = saved(name)
    ours, info = pretrained.AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
    assert not info.missing_keys and not info.unexpected_keys
    assert type(ours).__name__ == type(theirs).__name__
    ids = inputs()
    labels = ids.clone()
    labels[0, 4] = -100
    with torch.no_grad():
        want = theirs(ids, labels=labels, output_hidden_states=True)
        got = ours(ids, labels=labels, output_hidden_states=True)
    close(got.logits, want.logits)
    close(got.loss, want.loss)
    assert len(got.hidden_states) == len(want.hidden_states)
    for g, w in zip(got.hidden_states, want.hidden_states):
        close(g, w)


@pytest.mark.parametrize("name", ["gpt2", "gpt2-variant", "llama-gqa", "mistral-window", "qwen2-tied-window"])
def test_attentions_match_reference_eager(saved, name):
    folder, _ = saved(name)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
    ids, mask = inputs(batch=3), left_padded()
    pos = reference_positions(mask)
    with torch.no_grad():
        want = theirs(ids, attention_mask=mask, position_ids=pos, output_attentions=True)
        got = ours(ids, attention_mask=mask, position_ids=pos, output_attentions=True)
    assert len(got.attentions) == len(want.attentions)
    real = mask.bool()  # padded query rows differ by design of each backend; real tokens must match
    for g, w in zip(got.attentions, want.attentions):
        close(g.transpose(1, 2)[real], w.transpose(1, 2)[real])
    close(got.logits[real], want.logits[real])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("positions", ["default", "from_mask"])
def test_left_padded_batch_matches_reference(saved, name, positions):
    """Without position_ids both number tokens 0..T-1 (padding included); with generate()'s positions both
    number each row's first real token 0."""
    folder, theirs = saved(name)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids, mask = inputs(batch=3), left_padded()
    labels = ids.masked_fill(mask == 0, -100)
    pos = reference_positions(mask) if positions == "from_mask" else None
    with torch.no_grad():
        want = theirs(ids, attention_mask=mask, position_ids=pos, labels=labels)
        got = ours(ids, attention_mask=mask, position_ids=pos, labels=labels)
        alone = ours(ids[2:, 6:]).logits  # the padded row, unpadded: same logits
    if VARIANTS[name][2]:  # eager reference: padded query rows attend uniformly there, compare real tokens
        close(got.logits[mask.bool()], want.logits[mask.bool()])
    else:
        close(got.logits, want.logits)
        close(got.loss, want.loss)
    if positions == "default":
        return
    if name not in (
        "llama-dynamic",
        "llama-longrope",
    ):  # their frequencies follow the longest row of the batch
        close(got.logits[2:, 6:], alone)


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa", "mistral-window", "qwen2"])
def test_right_padded_batch_matches_reference_forward(saved, name):
    folder, theirs = saved(name)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids = inputs(batch=2)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    with torch.no_grad():
        close(ours(ids, attention_mask=mask).logits, theirs(ids, attention_mask=mask).logits)


@pytest.mark.parametrize("name", NAMES)
def test_cache_decode_equals_full_forward_and_reference(saved, name):
    folder, theirs = saved(name)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids, mask = inputs(batch=3), left_padded()
    n = 6
    with torch.no_grad():
        positions = reference_positions(mask)
        full = ours(ids, attention_mask=mask, position_ids=positions, use_cache=False)
        assert full.past_key_values is None
        out = ours(ids[:, :n], attention_mask=mask[:, :n], position_ids=positions[:, :n], use_cache=True)
        cache, steps = out.past_key_values, [out.logits]
        assert isinstance(cache, KVCache) and cache.get_seq_length() == n
        ref_out = theirs(
            ids[:, :n], attention_mask=mask[:, :n], position_ids=reference_positions(mask)[:, :n]
        )
        ref_cache, ref_steps = ref_out.past_key_values, [ref_out.logits]
        for t in range(n, T):
            pos = reference_positions(mask[:, : t + 1])[:, -1:]
            step = ours(
                ids[:, t : t + 1],
                attention_mask=mask[:, : t + 1],
                position_ids=pos,
                past_key_values=cache,
                use_cache=True,
            )
            steps.append(step.logits)
            ref = theirs(
                ids[:, t : t + 1],
                attention_mask=mask[:, : t + 1],
                position_ids=pos,
                past_key_values=ref_cache,
            )
            ref_steps.append(ref.logits)
    decoded = torch.cat(steps, dim=1)
    real = mask.bool()
    if name not in ("llama-dynamic", "llama-longrope"):  # frequencies change as the sequence grows
        close(decoded[real], full.logits[real])
    close(decoded[real], torch.cat(ref_steps, dim=1)[real])
    assert cache.get_seq_length() == T


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa", "mistral-window", "qwen2-tied-window"])
def test_greedy_decode_of_left_padded_batch_equals_reference_generate(saved, name):
    folder, theirs = saved(name)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids, mask = inputs(seed=3, batch=3, length=7), left_padded(7)
    new = 6
    with torch.no_grad():
        want = theirs.generate(
            ids, attention_mask=mask, max_new_tokens=new, do_sample=False, pad_token_id=0, eos_token_id=None
        )[:, 7:]
        cache, tokens, x, m = None, [], ids, mask
        for _ in range(new):
            pos = reference_positions(m)[:, -x.shape[1] :]
            out = ours(
                x, attention_mask=m, position_ids=pos, past_key_values=cache, use_cache=True, logits_to_keep=1
            )
            cache, x = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
            tokens.append(x)
            m = torch.cat([m, torch.ones_like(x)], dim=1)
    assert torch.equal(torch.cat(tokens, dim=1), want)


# -- ours saves, the reference loads ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["gpt2", "gpt2-variant", "llama-gqa", "llama-mha-tied-bias", "mistral-window", "qwen2-tied-window"],
)
def test_our_checkpoint_loads_in_reference(tmp_path, name):
    ours_cfg = pretrained.AutoConfig.for_model(reference_config(name).model_type, **VARIANTS[name][1])
    torch.manual_seed(0)
    ours = pretrained.AutoModelForCausalLM.from_config(ours_cfg).eval()
    ours.save_pretrained(tmp_path)
    attn = "eager" if VARIANTS[name][2] else "sdpa"
    theirs = transformers.AutoModelForCausalLM.from_pretrained(tmp_path, attn_implementation=attn).eval()
    assert type(theirs).__name__ == ours.config.architectures[0]
    ids = inputs()
    with torch.no_grad():
        close(ours(ids, labels=ids).loss, theirs(ids, labels=ids).loss)
        close(ours(ids).logits, theirs(ids).logits)


def test_family_classes_and_configs_defaults():
    mistral = pretrained.MistralConfig()
    assert (mistral.sliding_window, mistral.num_key_value_heads, mistral.head_dim) == (4096, 8, None)
    qwen = pretrained.Qwen2Config(num_hidden_layers=4, use_sliding_window=True, max_window_layers=2)
    assert qwen.layer_types == ["full_attention"] * 2 + ["sliding_attention"] * 2
    assert (
        pretrained.Qwen2Config().sliding_window is None
    )  # as the reference: no window unless use_sliding_window
    llama = pretrained.LlamaConfig(
        hidden_size=64, num_attention_heads=4, rope_scaling={"type": "linear", "factor": 2.0}
    )
    assert (llama.head_dim, llama.num_key_value_heads, llama.rope_scaling["rope_type"]) == (16, 4, "linear")
    assert llama.tie_word_embeddings is False and pretrained.GPT2Config().tie_word_embeddings is True
    assert pretrained.GPT2Config(n_embd=48).hidden_size == 48


# -- sequence classification ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gpt2", "llama-gqa", "qwen2"])
def test_sequence_classification_matches_reference(tmp_path, name):
    cfg = reference_config(name, num_labels=3, pad_token_id=0)
    torch.manual_seed(0)
    theirs = transformers.AutoModelForSequenceClassification.from_config(cfg).eval()
    theirs.save_pretrained(tmp_path)
    ours = pretrained.AutoModelForSequenceClassification.from_pretrained(tmp_path)
    ids = inputs(batch=3).clamp(min=1)
    ids[1, 8:] = 0  # right padding with the pad token
    mask = (ids != 0).long()
    labels = torch.tensor([0, 2, 1])
    with torch.no_grad():
        want, got = (
            theirs(ids, attention_mask=mask, labels=labels),
            ours(ids, attention_mask=mask, labels=labels),
        )
    close(got.logits, want.logits)
    close(got.loss, want.loss)


# -- details of the forward contract -----------------------------------------------------------------------
def test_logits_to_keep_and_inputs_embeds(saved):
    folder, _ = saved("llama-gqa")
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids = inputs()
    with torch.no_grad():
        full = ours(ids).logits
        close(ours(ids, logits_to_keep=1).logits, full[:, -1:])
        close(ours(ids, logits_to_keep=torch.tensor([0, 3])).logits, full[:, [0, 3]])
        close(ours(inputs_embeds=ours.get_input_embeddings()(ids)).logits, full)


def test_dynamic_rope_state_follows_reference_across_calls(saved):
    folder, theirs = saved("llama-dynamic")  # max_position_embeddings 8: these sequences stretch the base
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    with torch.no_grad():
        for length in (12, 10, 5, 9):  # grow, stay stretched, reset below the original length, grow again
            ids = inputs(seed=length, length=length)
            close(ours(ids).logits, theirs(ids).logits)


def test_gpt2_prompt_longer_than_positions_is_a_clear_error(saved):
    folder, _ = saved("gpt2-variant")  # n_positions 32
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        ours(inputs(length=33))
    out = ours(inputs(length=30), use_cache=True)
    with pytest.raises(ValueError, match="cached 30"):
        ours(inputs(length=3), past_key_values=out.past_key_values)


def test_unknown_rope_scaling_type_names_supported_ones():
    cfg = pretrained.LlamaConfig(**LLAMA_TINY, rope_scaling={"rope_type": "spiral", "factor": 2.0})
    with pytest.raises(ValueError, match=r"'spiral'.*default, linear, dynamic, llama3"):
        pretrained.LlamaForCausalLM(cfg)
    cfg = pretrained.LlamaConfig(**LLAMA_TINY, rope_scaling={"rope_type": "llama3", "factor": 2.0})
    with pytest.raises(ValueError, match="low_freq_factor"):
        pretrained.LlamaForCausalLM(cfg)


def test_bad_inputs_are_clear_errors():
    model = pretrained.LlamaForCausalLM(pretrained.LlamaConfig(**LLAMA_TINY)).eval()
    ids = inputs()
    with pytest.raises(ValueError, match="attention_mask must be"):
        model(ids, attention_mask=torch.ones(2, 3))
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        model()
    with pytest.raises(TypeError, match="KVCache"):
        model(ids, past_key_values=((torch.zeros(1),),))
    with pytest.raises(ValueError, match="labels must be"):
        model(ids, labels=ids, logits_to_keep=1)


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa", "qwen2"])
def test_training_gradients_match_reference(saved, name):
    folder, _ = saved(name)
    no_dropout = dict(attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0) if name.startswith("gpt2") else {}
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder, **no_dropout)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder, **no_dropout)
    theirs.train(), ours.train()
    ids = inputs()
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    theirs(ids, attention_mask=mask, labels=labels).loss.backward()
    ours(ids, attention_mask=mask, labels=labels).loss.backward()
    want = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        close(p.grad, want[key].grad)


# -- token classification and question answering -----------------------------------------------------------
@pytest.mark.parametrize("task", ["token", "qa"])
@pytest.mark.parametrize("name", ["gpt2", "llama-head-dim", "mistral-window", "qwen2-tied-window"])
def test_token_classification_and_qa_heads_match_reference_both_ways(tmp_path, name, task):
    """Llama and Qwen2 keep their QA decoder under ``transformer``, Mistral under ``model``: the keys load as saved."""
    auto = "AutoModelForTokenClassification" if task == "token" else "AutoModelForQuestionAnswering"
    torch.manual_seed(0)
    theirs = getattr(transformers, auto).from_config(reference_config(name, num_labels=5)).eval()
    theirs.save_pretrained(tmp_path / "ref")
    ours, info = getattr(pretrained, auto).from_pretrained(tmp_path / "ref", output_loading_info=True)
    assert type(ours).__name__ == type(theirs).__name__
    assert not info.missing_keys and not info.unexpected_keys
    ids = inputs(batch=3)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    if task == "token":
        kw = dict(labels=torch.randint(0, 5, ids.shape).masked_fill(mask == 0, -100))
    else:
        kw = dict(start_positions=torch.tensor([1, 0, 30]), end_positions=torch.tensor([3, 6, 2]))
    with torch.no_grad():
        want = theirs(ids, attention_mask=mask, output_hidden_states=True, **kw)
        got = ours(ids, attention_mask=mask, output_hidden_states=True, **kw)
    assert list(got.keys()) == list(want.keys())
    for key in want.keys():
        values = zip(got[key], want[key]) if key == "hidden_states" else [(got[key], want[key])]
        for g, w in values:
            close(g, w)
    ours.save_pretrained(tmp_path / "ours")
    back = getattr(transformers, auto).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        close(back(ids, attention_mask=mask, **kw).loss, got.loss)


@pytest.mark.parametrize("attn", [None, "eager", "sdpa"])
def test_gpt2_attention_flags_follow_the_reference_attention_implementation(tmp_path, attn):
    """scale_attn_weights / scale_attn_by_inverse_layer_idx act in the reference's eager attention only; ours
    honours them when attn_implementation="eager" is asked for, and otherwise ignores them as the reference's
    default (SDPA) does."""
    fields = dict(VARIANTS["gpt2-variant"][1], reorder_and_upcast_attn=True)
    torch.manual_seed(0)
    theirs = transformers.GPT2LMHeadModel(transformers.GPT2Config(**fields)).eval()
    theirs.save_pretrained(tmp_path)
    kw = {} if attn is None else {"attn_implementation": attn}
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path, **kw).eval()
    ours = pretrained.AutoModelForCausalLM.from_pretrained(tmp_path, **kw)
    ids = inputs()
    with torch.no_grad():
        close(ours(ids).logits, theirs(ids).logits)
    assert "attn_implementation" not in json.loads((tmp_path / "config.json").read_text())
    ours.save_pretrained(tmp_path / "ours")
    assert "attn_implementation" not in json.loads((tmp_path / "ours" / "config.json").read_text())


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa"])
def test_cache_position_continuing_the_cache_is_accepted(saved, name):
    folder, theirs = saved(name)
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids = inputs()
    with torch.no_grad():
        first = ours(ids[:, :6], cache_position=torch.arange(6), use_cache=True)
        step = ours(ids[:, 6:], past_key_values=first.past_key_values, cache_position=torch.arange(6, T))
        ref_first = theirs(ids[:, :6], cache_position=torch.arange(6), use_cache=True)
        ref_step = theirs(
            ids[:, 6:], past_key_values=ref_first.past_key_values, cache_position=torch.arange(6, T)
        )
    close(step.logits, ref_step.logits)
    with pytest.raises(ValueError, match="cache_position must continue the cache"):
        ours(ids[:, :2], cache_position=torch.tensor([3, 4]))


HEAD_LABELS = {
    "AutoModelForSequenceClassification": lambda ids, mask: {"labels": torch.tensor([0, 1, 1])},
    "AutoModelForTokenClassification": lambda ids, mask: {"labels": (ids % 2).masked_fill(mask == 0, -100)},
    "AutoModelForQuestionAnswering": lambda ids, mask: {
        "start_positions": torch.tensor([1, 0, 2]),
        "end_positions": torch.tensor([3, 4, 30]),
    },
}


@pytest.mark.parametrize("checkpointing", [False, True])
@pytest.mark.parametrize("head", list(HEAD_LABELS))
@pytest.mark.parametrize("name", ["gpt2", "llama-gqa", "qwen2-tied-window"])
def test_heads_training_step_matches_reference_then_eval(tmp_path, name, head, checkpointing):
    """Train mode (dropout 0) on a padded batch: same loss and gradients (the pooled head switches off its
    last-token-only inference path); after one optimizer step eval logits still equal the reference's."""
    extra = dict(pad_token_id=0, classifier_dropout=0.0)
    if name.startswith("gpt2"):
        extra.update(attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0, summary_first_dropout=0.0)
    torch.manual_seed(0)
    getattr(transformers, head).from_config(reference_config(name, **extra)).save_pretrained(tmp_path)
    theirs = getattr(transformers, head).from_pretrained(tmp_path).train()
    ours = getattr(pretrained, head).from_pretrained(tmp_path)
    ids = inputs(batch=3)
    mask = torch.ones_like(ids)
    mask[1, 6:], mask[2, 3:] = 0, 0
    ids = ids.masked_fill(mask == 0, 0)
    with torch.no_grad():
        ours.eval()(ids, attention_mask=mask)  # inference first: its caches must follow the update below
    ours.train()
    if checkpointing:
        theirs.gradient_checkpointing_enable(), ours.gradient_checkpointing_enable()
    want = theirs(ids, attention_mask=mask, **HEAD_LABELS[head](ids, mask))
    got = ours(ids, attention_mask=mask, **HEAD_LABELS[head](ids, mask))
    assert list(got.keys()) == list(want.keys())
    close(got.loss, want.loss)
    want.loss.backward(), got.loss.backward()
    grads = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        close(p.grad, grads[key].grad)
    for model in (theirs, ours):
        torch.optim.SGD(model.parameters(), lr=0.5).step()
    with torch.no_grad():
        want, got = theirs.eval()(ids, attention_mask=mask), ours.eval()(ids, attention_mask=mask)
    for key in want.keys():
        if key != "past_key_values":
            close(got[key], want[key])


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa"])
def test_causal_lm_loss_keywords_of_the_trainer_match_reference(saved, name):
    """The reference's loss keywords: num_items_in_batch (sum / count, as the Trainer passes over gradient
    accumulation), ignore_index and already-shifted shift_labels."""
    folder, _ = saved(name)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    ids = inputs()
    labels = ids.clone()
    labels[0, 3] = 5
    shifted = torch.roll(ids, -1, dims=1)
    for kw in (
        {"num_items_in_batch": 7},
        {"num_items_in_batch": torch.tensor(13)},
        {"ignore_index": 5},
        {"shift_labels": shifted},
        {"shift_labels": shifted, "num_items_in_batch": 3, "ignore_index": 5},
    ):
        with torch.no_grad():
            close(ours(ids, labels=labels, **kw).loss, theirs(ids, labels=labels, **kw).loss)


@pytest.mark.parametrize("head", list(HEAD_LABELS))
def test_llama_heads_take_the_trainer_loss_keywords_as_the_reference(tmp_path, head):
    """The reference's generic heads take the Trainer's num_items_in_batch: classification ignores it, question
    answering divides its summed losses by it."""
    torch.manual_seed(0)
    getattr(transformers, head).from_config(reference_config("qwen2", pad_token_id=0)).save_pretrained(
        tmp_path
    )
    theirs = getattr(transformers, head).from_pretrained(tmp_path).eval()
    ours = getattr(pretrained, head).from_pretrained(tmp_path)
    ids = inputs(batch=3)
    labels = HEAD_LABELS[head](ids, torch.ones_like(ids))
    with torch.no_grad():
        for n in (7, torch.tensor(3)):
            close(
                ours(ids, **labels, num_items_in_batch=n).loss,
                theirs(ids, **labels, num_items_in_batch=n).loss,
            )


@pytest.mark.parametrize("name", ["gpt2", "llama-gqa"])
def test_cpu_autocast_inference_matches_reference(saved, name):
    """Under torch.autocast our fast fp32 kernels step aside: bf16 logits equal the reference's (one row too)."""
    folder, _ = saved(name)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    for ids in (inputs(), inputs(batch=1, length=1)):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            want, got = theirs(ids).logits, ours(ids).logits
        assert got.dtype == want.dtype == torch.bfloat16
        close(got.float(), want.float())


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_gpt2_reorder_and_upcast_attn_in_bf16_follows_the_reference(tmp_path, attn):
    """reorder_and_upcast_attn acts in the reference's eager attention only: float32 softmax, weights cast back to
    the value dtype before multiplying it."""
    torch.manual_seed(0)
    cfg = reference_config("gpt2", reorder_and_upcast_attn=True, scale_attn_by_inverse_layer_idx=True)
    transformers.GPT2LMHeadModel(cfg).save_pretrained(tmp_path)
    kw = dict(torch_dtype=torch.bfloat16, attn_implementation=attn)
    theirs = transformers.GPT2LMHeadModel.from_pretrained(tmp_path, **kw).eval()
    ours = pretrained.GPT2LMHeadModel.from_pretrained(tmp_path, **kw)
    ids = inputs()
    with torch.no_grad():
        close(ours(ids).logits.float(), theirs(ids).logits.float())
