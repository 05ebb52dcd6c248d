"""Encoder-decoder models (T5 v1.0/v1.1, BART, Marian, mBART) against transformers 4.57.6: logits, loss, hidden
states, attentions, padded batches on both sides, KV-cached decoding, save/load in both directions, generation
(greedy, beam search, num_return_sequences, forced BOS/EOS, config-level summarization defaults) and bad input."""

from __future__ import annotations

import json

import pytest
import torch

import pretrained
from pretrained import AutoModel, AutoModelForSeq2SeqLM
from pretrained.models import mbart as our_mbart
from pretrained.models.t5 import relative_position_bucket
from pretrained.nn.positions import sinusoidal_table

transformers = pytest.importorskip("transformers")
safetensors = pytest.importorskip("safetensors")
transformers.logging.set_verbosity_error()

V = 99
BART_TINY = dict(
    vocab_size=V,
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=37,
    decoder_ffn_dim=37,
    max_position_embeddings=40,
)
T5_TINY = dict(
    vocab_size=V,
    d_model=32,
    d_kv=8,
    d_ff=37,
    num_layers=2,
    num_heads=4,
    decoder_start_token_id=0,
    relative_attention_num_buckets=8,
    relative_attention_max_distance=12,
)
MARIAN = dict(
    BART_TINY, pad_token_id=V - 1, decoder_start_token_id=V - 1, eos_token_id=0, scale_embedding=True
)
# name -> (LM class, config class, config fields); our classes carry the reference's names
VARIANTS = {
    "t5-v1.0": ("T5ForConditionalGeneration", "T5Config", T5_TINY),
    "t5-v1.1": (
        "T5ForConditionalGeneration",
        "T5Config",
        dict(T5_TINY, feed_forward_proj="gated-gelu", tie_word_embeddings=False),
    ),
    # (the reference's generate() breaks on num_decoder_layers != num_layers: its cache is sized by num_layers)
    "t5-deep-decoder": ("T5ForConditionalGeneration", "T5Config", dict(T5_TINY, num_decoder_layers=3)),
    "t5-relu-untied": ("T5ForConditionalGeneration", "T5Config", dict(T5_TINY, tie_word_embeddings=False)),
    "t5-gated-silu-tied": (
        "T5ForConditionalGeneration",
        "T5Config",
        dict(T5_TINY, feed_forward_proj="gated-silu", num_heads=2, d_kv=16),
    ),
    "bart": ("BartForConditionalGeneration", "BartConfig", BART_TINY),
    "bart-scaled-relu": (
        "BartForConditionalGeneration",
        "BartConfig",
        dict(BART_TINY, scale_embedding=True, activation_function="relu", encoder_layers=3, decoder_layers=1),
    ),
    "marian": ("MarianMTModel", "MarianConfig", dict(MARIAN, activation_function="swish")),
    "marian-unshared": (
        "MarianMTModel",
        "MarianConfig",
        dict(MARIAN, share_encoder_decoder_embeddings=False),
    ),
    "mbart": ("MBartForConditionalGeneration", "MBartConfig", dict(BART_TINY, scale_embedding=True)),
}
NAMES = list(VARIANTS)
GEN_NAMES = ["t5-v1.0", "t5-v1.1", "bart", "marian", "mbart"]
_CACHE: dict[str, tuple] = {}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: thread hand-offs cost more than the math (and the test machine's cores are shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def reference_config(name: str, **extra):
    _, cfg_cls, fields = VARIANTS[name]
    return getattr(transformers, cfg_cls)(**fields, **extra)


@pytest.fixture
def saved(request, tmp_path_factory):
    """(reference model, folder it saved to, ours loaded from it), built once per variant."""
    name = request.param
    if name not in _CACHE:
        torch.manual_seed(0)
        ref = getattr(transformers, VARIANTS[name][0])(reference_config(name)).eval()
        if hasattr(ref, "final_logits_bias"):
            with torch.no_grad():
                ref.final_logits_bias.normal_()
        folder = tmp_path_factory.mktemp(name)
        ref.save_pretrained(folder)
        ours = getattr(pretrained, VARIANTS[name][0]).from_pretrained(folder)
        _CACHE[name] = (ref, folder, ours)
    return _CACHE[name]


def batch(config, seed: int = 1):
    """Three sources (right-padded, eos-terminated), labels with -100, decoder inputs padded left and right."""
    g = torch.Generator().manual_seed(seed)
    pad, eos = config.pad_token_id, config.eos_token_id
    ids = torch.randint(3, V - 2, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    for row, n in ((1, 6), (2, 4)):
        mask[row, n:] = 0
    ids[mask == 0] = pad
    ids[torch.arange(3), mask.sum(1) - 1] = eos
    labels = torch.randint(3, V - 2, (3, 7), generator=g)
    labels[1, 5:] = -100
    dec = torch.randint(3, V - 2, (3, 6), generator=g)
    dec_mask = torch.ones_like(dec)
    dec_mask[1, :2] = 0  # left padding: the reference leaves those rows fully masked on CPU
    dec_mask[2, 4:] = 0
    return (
        dict(input_ids=ids, attention_mask=mask),
        labels,
        dict(decoder_input_ids=dec, decoder_attention_mask=dec_mask),
    )


def close(a, b, atol=1e-4):
    torch.testing.assert_close(a, b, atol=atol, rtol=0)


@pytest.mark.parametrize("saved", NAMES, indirect=True)
def test_forward_with_labels_matches_reference(saved):
    ref, _, ours = saved
    src, labels, _ = batch(ref.config)
    with torch.no_grad():
        a, b = ref(**src, labels=labels), ours(**src, labels=labels)
    close(a.logits, b.logits)
    close(a.loss, b.loss)
    close(a.encoder_last_hidden_state, b.encoder_last_hidden_state)


@pytest.mark.parametrize("saved", NAMES, indirect=True)
def test_decoder_inputs_hidden_states_and_attentions(saved):
    ref, _, ours = saved
    src, _, dec = batch(ref.config, seed=2)
    ref.config._attn_implementation = "eager"  # the reference's SDPA path returns no attention weights
    try:
        with torch.no_grad():
            kw = dict(**src, **dec, output_hidden_states=True, output_attentions=True)
            a, b = ref(**kw), ours(**kw)
    finally:
        ref.config._attn_implementation = "sdpa" if hasattr(ref, "final_logits_bias") else "eager"
    close(a.logits, b.logits)
    for key in ("encoder_hidden_states", "decoder_hidden_states"):
        assert len(a[key]) == len(b[key])
        for x, y in zip(a[key], b[key]):
            close(x, y)
    for key in ("encoder_attentions", "decoder_attentions", "cross_attentions"):
        assert len(a[key]) == len(b[key])
        for x, y in zip(a[key], b[key]):
            close(x, y, atol=1e-5)


@pytest.mark.parametrize("saved", NAMES, indirect=True)
def test_cached_decoding_matches_full_forward(saved):
    ref, _, ours = saved
    src, _, dec = batch(ref.config, seed=3)
    ids = dec["decoder_input_ids"]
    with torch.no_grad():
        full = ref(**src, decoder_input_ids=ids).logits
        enc = ours.get_encoder()(**src)
        out = ours(encoder_outputs=enc, attention_mask=src["attention_mask"], decoder_input_ids=ids[:, :2])
        cache, steps = out.past_key_values, [out.logits]
        cross_k = cache.cross_attention.get(0)[0]
        for t in range(2, ids.shape[1]):
            out = ours(
                encoder_outputs=enc,
                attention_mask=src["attention_mask"],
                decoder_input_ids=ids[:, t : t + 1],
                past_key_values=cache,
                use_cache=True,
            )
            steps.append(out.logits)
            assert out.past_key_values is cache
    close(torch.cat(steps, 1), full)
    assert cache.get_seq_length() == ids.shape[1]
    # cross-attention keys/values were computed once and reused
    assert cache.cross_attention.get_seq_length(0) == src["input_ids"].shape[1]
    assert cache.cross_attention.get(0)[0].data_ptr() == cross_k.data_ptr()


@pytest.mark.parametrize("saved", NAMES, indirect=True)
def test_logits_to_keep(saved):
    _, _, ours = saved
    src, _, dec = batch(ours.config, seed=4)
    with torch.no_grad():
        full = ours(**src, **dec).logits
        last = ours(**src, **dec, logits_to_keep=1).logits
    assert last.shape[1] == 1
    torch.testing.assert_close(last, full[:, -1:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_ours_saved_reference_loads(name, tmp_path):
    cls_name, cfg_cls, fields = VARIANTS[name]
    torch.manual_seed(0)
    ours = getattr(pretrained, cls_name)(getattr(pretrained, cfg_cls)(**fields)).eval()
    ours.save_pretrained(tmp_path / "ours")
    ref = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours").eval()
    src, labels, _ = batch(ref.config, seed=5)
    with torch.no_grad():
        a, b = ref(**src, labels=labels), ours(**src, labels=labels)
    close(a.logits, b.logits)
    close(a.loss, b.loss)
    ref.save_pretrained(tmp_path / "ref")  # the same tensors under the same names, nothing extra
    assert saved_keys(tmp_path / "ours") == saved_keys(tmp_path / "ref")


def saved_keys(folder) -> set[str]:
    with safetensors.safe_open(str(folder / "model.safetensors"), "pt") as f:
        return set(f.keys())


BARE = {
    "t5-v1.1": ("T5Model", "T5Model"),
    "t5-v1.0": ("T5EncoderModel", "T5EncoderModel"),
    "bart": ("BartModel", "BartModel"),
    "marian": ("MarianModel", "MarianModel"),
    "mbart": ("MBartModel", "MBartModel"),
}


@pytest.mark.parametrize("name", list(BARE))
def test_bare_models_and_prefix_handling(name, tmp_path):
    cls_name = BARE[name][0]
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(reference_config(name)).eval()
    ref.save_pretrained(tmp_path)
    ours = getattr(pretrained, cls_name).from_pretrained(tmp_path)
    src, _, dec = batch(ref.config, seed=6)
    kw = dict(src) if cls_name == "T5EncoderModel" else dict(src, **dec)
    with torch.no_grad():
        a, b = ref(**kw), ours(**kw)
    close(a.last_hidden_state, b.last_hidden_state)
    # the LM checkpoint (model.* prefix for the BART family) loads into the bare class too
    lm = getattr(transformers, VARIANTS[name][0])(reference_config(name)).eval()
    lm.save_pretrained(tmp_path / "lm")
    ref_bare = getattr(transformers, cls_name).from_pretrained(tmp_path / "lm").eval()
    ours_bare, info = getattr(pretrained, cls_name).from_pretrained(tmp_path / "lm", output_loading_info=True)
    assert info.missing_keys == []
    with torch.no_grad():
        close(ref_bare(**kw).last_hidden_state, ours_bare(**kw).last_hidden_state)


@pytest.mark.parametrize("family", ["bart", "mbart"])
def test_sequence_classification(family, tmp_path):
    cls_name = "BartForSequenceClassification" if family == "bart" else "MBartForSequenceClassification"
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(reference_config(family, num_labels=3)).eval()
    ref.save_pretrained(tmp_path)
    ours = AutoModel.model_class(ours_config(tmp_path)) and getattr(pretrained, cls_name).from_pretrained(
        tmp_path
    )
    src, _, _ = batch(ref.config, seed=7)
    labels = torch.tensor([0, 2, 1])
    with torch.no_grad():
        a, b = ref(**src, labels=labels), ours(**src, labels=labels)
    close(a.logits, b.logits)
    close(a.loss, b.loss)
    src["input_ids"][0, 0] = ref.config.eos_token_id  # rows with different eos counts
    with pytest.raises(ValueError, match="same number"):
        ours(**src)


def ours_config(folder):
    return pretrained.AutoConfig.from_pretrained(folder)


GEN_MODES = {
    "greedy": dict(max_new_tokens=10),
    "beam": dict(max_new_tokens=8, num_beams=3),
    "beam-nrs": dict(max_new_tokens=8, num_beams=4, num_return_sequences=2, length_penalty=0.6),
    "beam-ngram-forced": dict(
        max_new_tokens=7, num_beams=2, no_repeat_ngram_size=2, forced_bos_token_id=5, forced_eos_token_id=6
    ),
}


@pytest.mark.parametrize("mode", list(GEN_MODES))
@pytest.mark.parametrize("saved", GEN_NAMES, indirect=True)
def test_generate_matches_reference(saved, mode):
    ref, _, ours = saved
    src, _, _ = batch(ref.config, seed=8)
    want = ref.generate(**src, **GEN_MODES[mode])
    got = ours.generate(**src, **GEN_MODES[mode])
    assert got.tolist() == want.tolist()


SUMMARIZATION = dict(
    num_beams=3,
    no_repeat_ngram_size=2,
    length_penalty=2.0,
    min_length=4,
    max_length=12,
    early_stopping=True,
    forced_bos_token_id=0,
    forced_eos_token_id=2,
)


@pytest.mark.parametrize("where", ["config.json", "generation_config.json"])
def test_summarization_defaults_drive_generation(where, tmp_path):
    """BART-CNN style defaults (num_beams, no_repeat_ngram_size, length_penalty, min/max_length, forced ids): in
    config.json as older hub checkpoints have them, or in generation_config.json where save_pretrained moves them."""
    torch.manual_seed(0)
    ref = transformers.BartForConditionalGeneration(
        reference_config("bart", task_specific_params={"summarization": {"num_beams": 3}})
    ).eval()
    with torch.no_grad():
        ref.final_logits_bias[0, 2] = 3.0  # make eos likely, so beams finish at different lengths
    ref.generation_config = transformers.GenerationConfig.from_model_config(ref.config)
    ref.generation_config.update(**SUMMARIZATION)
    ref.save_pretrained(tmp_path)
    if where == "config.json":
        data = json.loads((tmp_path / "config.json").read_text())
        (tmp_path / "config.json").write_text(json.dumps({**data, **SUMMARIZATION}))
        (tmp_path / "generation_config.json").unlink()
        ref = transformers.BartForConditionalGeneration.from_pretrained(tmp_path).eval()
    ours = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert type(ours).__name__ == "BartForConditionalGeneration"
    assert ours.config.task_specific_params == {"summarization": {"num_beams": 3}}
    if where == "config.json":  # kept in the config, as read
        assert (ours.config.num_beams, ours.config.no_repeat_ngram_size, ours.config.forced_bos_token_id) == (
            3,
            2,
            0,
        )
    assert (ours.generation_config.num_beams, ours.generation_config.length_penalty) == (3, 2.0)
    src, _, _ = batch(ref.config, seed=9)
    assert ours.generate(**src).tolist() == ref.generate(**src).tolist()


@pytest.mark.parametrize("name", ["t5-v1.0", "bart", "marian"])
def test_empty_source_is_a_clear_error(name):
    torch.manual_seed(0)
    cls_name, cfg_cls, fields = VARIANTS[name]
    ours = getattr(pretrained, cls_name)(getattr(pretrained, cfg_cls)(**fields)).eval()
    empty = torch.zeros(2, 0, dtype=torch.long)
    with pytest.raises(ValueError, match=r"input_ids has shape \(2, 0\)"):
        ours(input_ids=empty, decoder_input_ids=torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="seq_len >= 1"):
        ours.generate(input_ids=empty, max_new_tokens=3)


@pytest.mark.parametrize("name", ["t5-v1.0", "bart"])
def test_mask_shapes_are_checked(name):
    torch.manual_seed(0)
    cls_name, cfg_cls, fields = VARIANTS[name]
    ours = getattr(pretrained, cls_name)(getattr(pretrained, cfg_cls)(**fields)).eval()
    ids, dec = torch.randint(3, V - 2, (2, 5)), torch.randint(3, V - 2, (2, 3))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(2, 4\) but the source is \(2, 5\)"):
        ours(input_ids=ids, attention_mask=torch.ones(2, 4), decoder_input_ids=dec)
    with pytest.raises(ValueError, match="decoder_attention_mask has length 2"):
        ours(input_ids=ids, decoder_input_ids=dec, decoder_attention_mask=torch.tensor([[1, 0], [1, 1]]))


@pytest.mark.parametrize("name", ["bart", "marian", "mbart"])
def test_source_longer_than_positions(name):
    torch.manual_seed(0)
    cls_name, cfg_cls, fields = VARIANTS[name]
    ours = getattr(pretrained, cls_name)(getattr(pretrained, cfg_cls)(**fields)).eval()
    limit = fields["max_position_embeddings"]
    ids = torch.randint(3, V - 2, (1, limit + 1))
    with pytest.raises(ValueError, match=f"sequence length {limit + 1} > max_position_embeddings {limit}"):
        ours(input_ids=ids, decoder_input_ids=ids[:, :2])
    with pytest.raises(ValueError, match=f"max_position_embeddings {limit}"):  # decoder positions too
        ours(input_ids=ids[:, :4], decoder_input_ids=ids)
    with torch.no_grad():
        assert ours(input_ids=ids[:, :limit], decoder_input_ids=ids[:, :limit]).logits.shape[1] == limit


@pytest.mark.parametrize("saved", ["t5-v1.1"], indirect=True)
def test_t5_has_no_length_limit(saved):
    ref, _, ours = saved
    ids = torch.randint(3, V - 2, (2, 150))
    dec = torch.randint(3, V - 2, (2, 40))
    with torch.no_grad():
        close(
            ref(input_ids=ids, decoder_input_ids=dec).logits,
            ours(input_ids=ids, decoder_input_ids=dec).logits,
        )


def test_relative_position_buckets_match_reference():
    rel = torch.arange(-300, 300)[None, :]
    for bidirectional in (True, False):
        for buckets, distance in ((32, 128), (8, 12), (16, 20), (6, 3)):
            want = transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket(
                rel, bidirectional=bidirectional, num_buckets=buckets, max_distance=distance
            )
            assert torch.equal(relative_position_bucket(rel, bidirectional, buckets, distance), want)


@pytest.mark.parametrize("n_pos, dim", [(40, 32), (12, 7), (5, 1)])
def test_marian_sinusoids_match_reference(n_pos, dim):
    emb = transformers.models.marian.modeling_marian.MarianSinusoidalPositionalEmbedding(n_pos, dim)
    emb._init_weight()
    assert torch.equal(sinusoidal_table(n_pos, dim), emb.weight.data)
    assert torch.equal(sinusoidal_table(n_pos, dim, torch.float16), emb.weight.data.half())


def test_shift_rules():
    labels = torch.tensor([[5, 6, 2, 250, -100], [7, 2, 251, -100, -100]])
    want = transformers.models.mbart.modeling_mbart.shift_tokens_right(labels, 1)
    assert torch.equal(our_mbart.shift_tokens_right(labels, 1), want)
    t5 = pretrained.T5ForConditionalGeneration(
        pretrained.T5Config(**dict(T5_TINY, decoder_start_token_id=None))
    )
    with pytest.raises(ValueError, match="decoder_start_token_id"):
        t5(input_ids=torch.tensor([[5, 1]]), labels=torch.tensor([[6, 1]]))


def test_t5_config_fields(tmp_path):
    cfg = pretrained.T5Config(
        feed_forward_proj="gated-gelu", num_layers=3, task_specific_params={"t": {"a": 1}}
    )
    assert (cfg.dense_act_fn, cfg.is_gated_act, cfg.num_decoder_layers) == ("gelu_new", True, 3)
    assert (cfg.hidden_size, cfg.num_attention_heads, cfg.num_hidden_layers) == (512, 8, 3)
    cfg.save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert transformers.T5Config.from_pretrained(tmp_path).to_dict()["task_specific_params"] == {
        "t": {"a": 1}
    }
    assert data["dense_act_fn"] == "gelu_new" and data["model_type"] == "t5"
    with pytest.raises(ValueError, match="feed_forward_proj"):
        pretrained.T5Config(feed_forward_proj="gelu-gated")


def test_missing_heads_are_initialized_like_the_reference(tmp_path):
    torch.manual_seed(0)
    transformers.T5Model(reference_config("t5-v1.1")).save_pretrained(tmp_path / "t5")
    t5, info = pretrained.T5ForConditionalGeneration.from_pretrained(
        tmp_path / "t5", output_loading_info=True
    )
    assert info.missing_keys == ["lm_head.weight"]
    assert 0.8 < float(t5.lm_head.weight.detach().std()) < 1.2  # normal(0, initializer_factor)
    transformers.BartModel(reference_config("bart")).save_pretrained(tmp_path / "bart")
    bart, info = pretrained.BartForConditionalGeneration.from_pretrained(
        tmp_path / "bart", output_loading_info=True
    )
    _, ref_info = transformers.BartForConditionalGeneration.from_pretrained(
        tmp_path / "bart", output_loading_info=True
    )
    assert info.missing_keys == ref_info["missing_keys"] == []  # final_logits_bias: zeros, not reported
    assert torch.equal(bart.final_logits_bias, torch.zeros(1, V))
    assert bart.lm_head.weight is bart.model.shared.weight


@pytest.mark.parametrize("saved", ["t5-v1.0", "bart"], indirect=True)
def test_old_checkpoint_naming_only_the_encoder_embeddings(saved, tmp_path):
    ref, folder, _ = saved
    state = safetensors.torch.load_file(str(folder / "model.safetensors"))
    shared = next(k for k in state if k.endswith("shared.weight"))
    state[shared.replace("shared", "encoder.embed_tokens")] = state.pop(shared)
    ours = getattr(pretrained, type(ref).__name__).from_pretrained(folder, state_dict=state)
    src, labels, _ = batch(ref.config, seed=10)
    with torch.no_grad():
        close(ref(**src, labels=labels).logits, ours(**src, labels=labels).logits)


@pytest.mark.parametrize("name", ["t5-v1.1", "t5-deep-decoder", "bart", "marian-unshared", "mbart"])
def test_training_gradients_match(name, tmp_path):
    no_dropout = dict(dropout_rate=0.0) if name.startswith("t5") else dict(dropout=0.0)
    torch.manual_seed(0)
    ref = getattr(transformers, VARIANTS[name][0])(reference_config(name, **no_dropout))
    ref.save_pretrained(tmp_path)
    ours = getattr(pretrained, VARIANTS[name][0]).from_pretrained(tmp_path).train()
    ref.train()
    src, labels, _ = batch(ref.config, seed=11)
    ref(**src, labels=labels).loss.backward()
    ours(**src, labels=labels).loss.backward()
    grads = dict(ref.named_parameters())
    for key, p in ours.named_parameters():
        close(p.grad, grads[key].grad, atol=1e-5)


@pytest.mark.parametrize("name", ["t5-v1.0", "bart", "marian", "mbart"])
def test_auto_classes(name, tmp_path):
    torch.manual_seed(0)
    getattr(transformers, VARIANTS[name][0])(reference_config(name)).save_pretrained(tmp_path)
    assert type(AutoModelForSeq2SeqLM.from_pretrained(tmp_path)).__name__ == VARIANTS[name][0]
    base = {"t5-v1.0": "T5Model", "bart": "BartModel", "marian": "MarianModel", "mbart": "MBartModel"}[name]
    assert type(AutoModel.from_pretrained(tmp_path)).__name__ == base


@pytest.mark.parametrize("name", ["t5-v1.1", "t5-v1.0", "bart", "marian-unshared", "mbart"])
def test_fresh_initialization_matches_reference_statistics(name):
    """Same init rules as the reference (T5's Mesh-TensorFlow fan-in stds, BART's init_std, zeroed pad rows)."""
    cls_name, cfg_cls, fields = VARIANTS[name]
    big = dict(fields, vocab_size=400, d_model=64, **({"d_ff": 128} if "d_ff" in fields else {}))
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(getattr(transformers, cfg_cls)(**big))
    ours = getattr(pretrained, cls_name)(getattr(pretrained, cfg_cls)(**big))
    theirs = dict(ref.named_parameters())
    for key, p in ours.named_parameters():
        want = theirs[key].detach()
        assert p.shape == want.shape, key
        if float(want.std()) == 0.0:
            assert torch.equal(p.detach(), want), key  # ones / zeros
        else:
            assert abs(float(p.detach().std()) / float(want.std()) - 1) < 0.25, key
    assert set(dict(ours.named_buffers())) <= set(dict(ref.named_buffers()))


# -- classification and question-answering heads ---------------------------------------------------------
HEADS = [
    ("t5-v1.0", "T5ForSequenceClassification", "AutoModelForSequenceClassification"),
    ("t5-v1.1", "T5ForSequenceClassification", "AutoModelForSequenceClassification"),
    ("t5-v1.0", "T5ForTokenClassification", "AutoModelForTokenClassification"),
    ("t5-deep-decoder", "T5ForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("bart-scaled-relu", "BartForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("mbart", "MBartForQuestionAnswering", "AutoModelForQuestionAnswering"),
]


@pytest.mark.parametrize("name,cls_name,auto", HEADS, ids=[f"{n}-{c}" for n, c, _ in HEADS])
def test_heads_match_reference_both_ways(name, cls_name, auto, tmp_path):
    """T5's sequence classifier keeps its encoder-decoder under ``transformer``, the token classifier its encoder;
    T5's QA model holds ``shared``/``encoder``/``decoder`` at the top, BART's under ``model``."""
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(
        reference_config(name, num_labels=3 if "Seq" in cls_name else 2)
    ).eval()
    ref.save_pretrained(tmp_path / "ref")
    ours, info = getattr(pretrained, auto).from_pretrained(tmp_path / "ref", output_loading_info=True)
    assert type(ours).__name__ == cls_name
    assert info.missing_keys == info.unexpected_keys == []
    src, _, _ = batch(ref.config, seed=7)
    if "Sequence" in cls_name:
        labels = dict(labels=torch.tensor([0, 2, 1]))
    elif "Token" in cls_name:
        labels = dict(labels=torch.randint(0, 2, (3, 9)).masked_fill(src["attention_mask"] == 0, -100))
    else:
        labels = dict(start_positions=torch.tensor([1, 0, 20]), end_positions=torch.tensor([3, 4, 2]))
    with torch.no_grad():
        for kw in (labels, dict(output_hidden_states=True)):
            a, b = ours(**src, **kw), ref(**src, **kw)
            assert [k for k in a.keys() if k != "past_key_values"] == [
                k for k in b.keys() if k != "past_key_values"
            ]
            for key in b.keys():
                if key != "past_key_values":
                    for x, y in zip(
                        *((a[key], b[key]) if isinstance(b[key], tuple) else ([a[key]], [b[key]]))
                    ):
                        close(x, y)
    ours.save_pretrained(tmp_path / "ours")
    back = getattr(transformers, cls_name).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        close(ours(**src, **labels).loss, back(**src, **labels).loss)
    # the LM checkpoint into the head: the same keys loaded, missing and unexpected in both
    lm = getattr(transformers, VARIANTS[name][0])(reference_config(name)).save_pretrained(tmp_path / "lm")
    del lm
    _, info = getattr(pretrained, auto).from_pretrained(tmp_path / "lm", output_loading_info=True)
    _, ref_info = getattr(transformers, cls_name).from_pretrained(tmp_path / "lm", output_loading_info=True)
    assert sorted(info.missing_keys) == sorted(ref_info["missing_keys"])
    assert sorted(info.unexpected_keys) == sorted(ref_info["unexpected_keys"])


# -- the decoders alone: BartForCausalLM, MBartForCausalLM, MarianForCausalLM ------------------------------
@pytest.mark.parametrize(
    "name,cls_name",
    [("bart", "BartForCausalLM"), ("mbart", "MBartForCausalLM"), ("marian-unshared", "MarianForCausalLM")],
)
def test_decoder_only_causal_lm_matches_reference(name, cls_name, tmp_path):
    """No encoder, no cross-attention; the loss compares each position with its own label (no shift), as the
    reference; cached steps equal the full forward; greedy generation gives the reference's ids."""
    torch.manual_seed(0)
    ref = getattr(transformers, cls_name)(reference_config(name)).eval()
    ref.save_pretrained(tmp_path)
    ours, info = pretrained.AutoModelForCausalLM.from_pretrained(tmp_path, output_loading_info=True)
    assert type(ours).__name__ == cls_name and ours.config.is_decoder and not ours.config.is_encoder_decoder
    assert info.missing_keys == info.unexpected_keys == []
    ids = torch.randint(3, V - 2, (3, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, :3] = 0
    real = mask.bool()
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        a = ours(ids, attention_mask=mask, labels=labels, output_hidden_states=True)
        b = ref(ids, attention_mask=mask, labels=labels, output_hidden_states=True)
        assert list(a.keys()) == list(b.keys())
        close(a.logits[real], b.logits[real])
        close(a.loss, b.loss)
        for x, y in zip(a.hidden_states, b.hidden_states, strict=True):
            close(x[real], y[real])
        out = ours(ids[:, :4], attention_mask=mask[:, :4], use_cache=True)
        steps = [out.logits]
        for t in range(4, 9):
            out = ours(
                ids[:, t : t + 1], attention_mask=mask[:, : t + 1], past_key_values=out.past_key_values
            )
            steps.append(out.logits)
    close(torch.cat(steps, 1)[real], b.logits[real])
    kw = dict(max_new_tokens=5, do_sample=False)
    assert torch.equal(ours.generate(ids[:1, :3], **kw), ref.generate(ids[:1, :3], **kw))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("saved", ["t5-v1.0", "t5-v1.1"], indirect=True)
def test_t5_half_precision_load_matches_reference(saved, dtype, tmp_path):
    """Half-precision T5 follows the reference's rounding (softmax in float32 over model-dtype scores): fused
    attention kernels differed by as much as the reference's own half-vs-float32 gap."""
    _, folder, _ = saved
    name = VARIANTS["t5-v1.0"][0]
    theirs = getattr(transformers, name).from_pretrained(folder, torch_dtype=dtype).eval()
    ours = getattr(pretrained, name).from_pretrained(folder, torch_dtype=dtype)
    assert {k: p.dtype for k, p in ours.named_parameters()} == {
        k: p.dtype for k, p in theirs.named_parameters() if k in dict(ours.named_parameters())
    }
    enc, _, dec = batch(theirs.config)
    with torch.no_grad():
        want, got = theirs(**enc, **dec).logits, ours(**enc, **dec).logits
        full = getattr(transformers, name).from_pretrained(folder).eval()(**enc, **dec).logits
    assert got.dtype == want.dtype == dtype
    gap = (want.float() - full).abs().max().item()  # the reference's own rounding error
    assert (got.float() - want.float()).abs().max().item() <= gap / 10


@pytest.mark.parametrize("checkpointing", [False, True])
@pytest.mark.parametrize("saved", ["t5-v1.0", "bart"], indirect=True)
def test_forward_with_labels_returns_the_references_fields_in_training(saved, checkpointing):
    """With labels the reference's T5 still returns its KV cache (BART drops it); gradient checkpointing drops it."""
    ref, folder, _ = saved
    name = VARIANTS["t5-v1.0" if ref.config.model_type == "t5" else "bart"][0]
    no_dropout = {"dropout_rate": 0.0} if name.startswith("T5") else {"dropout": 0.0}
    theirs = getattr(transformers, name).from_pretrained(folder, **no_dropout).train()
    ours = getattr(pretrained, name).from_pretrained(folder, **no_dropout).train()
    if checkpointing:
        theirs.gradient_checkpointing_enable(), ours.gradient_checkpointing_enable()
    src, labels, _ = batch(ref.config)
    a, b = theirs(**src, labels=labels), ours(**src, labels=labels)
    assert list(b.keys()) == list(a.keys())
    if a.past_key_values is not None:
        assert b.past_key_values.get_seq_length() == a.past_key_values.get_seq_length()
    close(a.loss, b.loss)


@pytest.mark.parametrize("saved", ["t5-v1.0"], indirect=True)
def test_t5_half_precision_beam_search_matches_reference(saved):
    """Beams share one cached encoder row in cross-attention: the half-precision path rounds as the reference."""
    _, folder, _ = saved
    name = VARIANTS["t5-v1.0"][0]
    theirs = getattr(transformers, name).from_pretrained(folder, torch_dtype=torch.bfloat16).eval()
    ours = getattr(pretrained, name).from_pretrained(folder, torch_dtype=torch.bfloat16)
    enc, _, _ = batch(theirs.config)
    kw = dict(
        num_beams=3,
        num_return_sequences=2,
        max_new_tokens=6,
        output_scores=True,
        return_dict_in_generate=True,
    )
    a, b = theirs.generate(**enc, **kw), ours.generate(**enc, **kw)
    assert b.sequences.tolist() == a.sequences.tolist()
    for x, y in zip(a.scores, b.scores):
        torch.testing.assert_close(
            y.float().nan_to_num(0, 0, 0), x.float().nan_to_num(0, 0, 0), atol=1e-4, rtol=0
        )


@pytest.mark.parametrize("saved", ["t5-v1.0", "bart"], indirect=True)
def test_cpu_autocast_matches_reference_in_inference_and_training(saved):
    """torch.autocast (bf16): the same logits as the reference, and in training the same loss and gradients."""
    _, folder, _ = saved
    name = VARIANTS["t5-v1.0" if "T5" in type(saved[0]).__name__ else "bart"][0]
    no_dropout = {"dropout_rate": 0.0} if name.startswith("T5") else {"dropout": 0.0}
    theirs = getattr(transformers, name).from_pretrained(folder, **no_dropout).eval()
    ours = getattr(pretrained, name).from_pretrained(folder, **no_dropout)
    enc, labels, dec = batch(theirs.config)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        want = theirs(**enc, decoder_input_ids=dec["decoder_input_ids"]).logits
        got = ours(**enc, decoder_input_ids=dec["decoder_input_ids"]).logits
    assert got.dtype == want.dtype
    close(got.float(), want.float())
    theirs.train(), ours.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        want, got = theirs(**enc, labels=labels).loss, ours(**enc, labels=labels).loss
    close(got, want)
    want.backward(), got.backward()
    grads = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        close(p.grad, grads[key].grad)
