"""BERT, DistilBERT, RoBERTa, XLM-RoBERTa and ELECTRA against transformers 4.57.6, every head, both directions."""

from __future__ import annotations

import pytest
import torch

import pretrained
from pretrained.models.distilbert import sinusoidal_table
from pretrained.models.roberta import create_position_ids_from_input_ids
from pretrained.weights import checkpoint_files, load_checkpoint

from .encoder_fixtures import (
    ARCHS,
    AUTO,
    CASES,
    HAS_TOKEN_TYPES,
    PAD,
    TINY,
    assert_outputs_close,
    batch,
    build_reference,
    labels_for,
    our_config,
    reference_class,
    reference_config,
    run_both,
)

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

EVERYTHING = {"output_hidden_states": True, "output_attentions": True}
# the reference lists a tied bias under both of its names; ours under one
BIAS_ALIASES = {"cls.predictions.decoder.bias", "lm_head.decoder.bias"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: threads only add overhead (and the test machine's cores are shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory):
    """(arch, task, variant...) -> folder with the reference model saved; each model is built and saved once."""
    made: dict[tuple, tuple] = {}

    def get(arch: str, task: str, **overrides):
        key = (arch, task, tuple(sorted(overrides.items())))
        if key not in made:
            model = build_reference(arch, task, **overrides)
            folder = tmp_path_factory.mktemp(f"{arch}-{task}")
            model.save_pretrained(folder)
            made[key] = (folder, model)
        return made[key]

    return get


def load_ours(task: str, folder, **kwargs):
    return getattr(pretrained, AUTO[task]).from_pretrained(folder, **kwargs)


# -- reference saves, we load ---------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,task", CASES)
def test_reference_checkpoint_loads_with_same_outputs(reference_dir, arch, task):
    folder, theirs = reference_dir(arch, task)
    ours, info = load_ours(task, folder, output_loading_info=True)
    assert type(ours).__name__ == type(theirs).__name__
    assert info.missing_keys == [] and info.unexpected_keys == [] and info.mismatched_keys == []
    inputs = {**batch(arch), **labels_for(task, arch)}
    o, t = run_both(
        ours, theirs, {**inputs, **EVERYTHING}
    )  # eager attention in the reference, weights returned
    assert_outputs_close(o, t)
    assert len(o.hidden_states) == 3 and len(o.attentions) == 2
    o, t = run_both(ours, theirs, inputs)  # SDPA in both, no extra outputs
    assert_outputs_close(o, t)
    assert o.hidden_states is None and o.attentions is None
    if "logits" in t.keys():
        assert o["logits"] is o.logits
    if task != "base":
        assert o.loss is not None and o.loss.ndim == 0


# -- we save, reference loads ---------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,task", CASES)
def test_our_checkpoint_loads_into_reference(tmp_path, arch, task):
    torch.manual_seed(0)
    ours = getattr(pretrained, AUTO[task]).from_config(our_config(arch)).eval()
    ours.save_pretrained(tmp_path)
    theirs, info = reference_class(arch, task).from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    inputs = {**batch(arch), **labels_for(task, arch), **EVERYTHING}
    assert_outputs_close(*run_both(ours, theirs.eval(), inputs))


# -- losses ---------------------------------------------------------------------------------------------------
PROBLEMS = [("single_label_classification", 3), ("multi_label_classification", 4), ("regression", 1)]
MORE_PROBLEMS = [("regression", 2), (None, 1), (None, 3)]  # None: inferred (regression, then integer labels)


@pytest.mark.parametrize(
    "arch,problem_type,num_labels",
    [(a, *p) for a in ARCHS for p in PROBLEMS] + [("roberta", *p) for p in MORE_PROBLEMS],
)
def test_sequence_classification_loss_per_problem_type(reference_dir, arch, problem_type, num_labels):
    overrides = {"num_labels": num_labels}
    if problem_type is not None:
        overrides["problem_type"] = problem_type
    folder, theirs = reference_dir(arch, "sequence-classification", **overrides)
    ours = load_ours("sequence-classification", folder)
    inputs = {**batch(arch), **labels_for("sequence-classification", arch, num_labels, problem_type)}
    o, t = run_both(ours, theirs, inputs)
    assert_outputs_close(o, t)
    assert ours.config.problem_type == theirs.config.problem_type


def test_electra_pretraining_loss_without_attention_mask(reference_dir):
    folder, theirs = reference_dir("electra", "pretraining")
    ours = load_ours("pretraining", folder)
    inputs = {"input_ids": batch("electra")["input_ids"], **labels_for("pretraining", "electra")}
    assert_outputs_close(*run_both(ours, theirs, inputs))


# -- bare <-> head checkpoints ----------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("task", ["sequence-classification", "masked-lm"])
def test_bare_checkpoint_into_head_model(reference_dir, arch, task):
    folder, bare = reference_dir(arch, "base")
    ours, info = load_ours(task, folder, output_loading_info=True)
    _, ref_info = reference_class(arch, task).from_pretrained(folder, output_loading_info=True)
    assert info.missing_keys == sorted(ref_info["missing_keys"])  # a tied bias under both its names, too
    silenced = type(ours)._ignore_unexpected  # keys both skip (the tied bias's second name, old buffers)
    assert set(info.unexpected_keys) == {k for k in ref_info["unexpected_keys"] if not k.endswith(silenced)}
    base = getattr(ours, ours.base_model_prefix)
    o, t = run_both(base, bare, {**batch(arch), **EVERYTHING})
    assert_outputs_close(
        o, t, skip=("pooler_output",)
    )  # the encoder is the checkpoint's (head models: no pooler)
    for name, p in ours.named_parameters():
        assert p.device.type != "meta" and torch.isfinite(p).all(), name


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("task", ["masked-lm", "token-classification"])
def test_head_checkpoint_into_bare_model(reference_dir, arch, task):
    folder, _ = reference_dir(arch, task)
    ours, info = load_ours("base", folder, output_loading_info=True)
    theirs, ref_info = reference_class(arch, "base").from_pretrained(folder, output_loading_info=True)
    assert set(info.missing_keys) == set(ref_info["missing_keys"])
    assert set(info.unexpected_keys) == set(ref_info["unexpected_keys"]) - BIAS_ALIASES
    new_pooler = (
        ("pooler_output",) if info.missing_keys else ()
    )  # head checkpoints have no pooler: random in both
    assert_outputs_close(*run_both(ours, theirs.eval(), {**batch(arch), **EVERYTHING}), skip=new_pooler)


# -- config variants --------------------------------------------------------------------------------------------
VARIANTS = [
    ("bert", "sequence-classification", dict(hidden_act="relu", num_labels=5, intermediate_size=64)),
    ("bert", "masked-lm", dict(hidden_act="gelu_new", tie_word_embeddings=False)),
    ("distilbert", "sequence-classification", dict(activation="relu", num_labels=5, hidden_dim=64)),
    ("distilbert", "masked-lm", dict(sinusoidal_pos_embds=True, activation="gelu_new")),
    ("distilbert", "token-classification", dict(sinusoidal_pos_embds=True, num_labels=7)),
    ("roberta", "token-classification", dict(hidden_act="silu", num_labels=9, intermediate_size=16)),
    ("roberta", "masked-lm", dict(tie_word_embeddings=False, layer_norm_eps=1e-5)),
    ("roberta", "sequence-classification", dict(type_vocab_size=2, pad_token_id=0, num_labels=4)),
    (
        "xlm-roberta",
        "sequence-classification",
        dict(num_hidden_layers=3, num_labels=3, hidden_act="gelu_new"),
    ),
    ("xlm-roberta", "question-answering", dict(num_attention_heads=8, intermediate_size=20)),
    ("electra", "masked-lm", dict(embedding_size=32)),  # no embeddings_project
    ("electra", "pretraining", dict(embedding_size=8, hidden_act="relu")),
    ("electra", "sequence-classification", dict(embedding_size=32, num_labels=6, intermediate_size=50)),
    # relative position embeddings: a distance table in every attention layer, no absolute positions added
    ("bert", "token-classification", dict(position_embedding_type="relative_key", hidden_act="gelu_10")),
    ("bert", "sequence-classification", dict(position_embedding_type="relative_key_query")),
    ("roberta", "masked-lm", dict(position_embedding_type="relative_key_query", hidden_act="relu2")),
    ("xlm-roberta", "question-answering", dict(position_embedding_type="relative_key")),
    ("electra", "pretraining", dict(position_embedding_type="relative_key_query", hidden_act="leaky_relu")),
]


@pytest.mark.parametrize(
    "arch,task,overrides", VARIANTS, ids=[f"{a}-{t}-{i}" for i, (a, t, _) in enumerate(VARIANTS)]
)
def test_config_variants_both_directions(reference_dir, tmp_path, arch, task, overrides):
    folder, theirs = reference_dir(arch, task, **overrides)
    ours = load_ours(task, folder)
    inputs = {**batch(arch), **labels_for(task, arch, overrides.get("num_labels", 2)), **EVERYTHING}
    if "type_vocab_size" in overrides:
        inputs["token_type_ids"] = (torch.arange(8)[None, :] >= 4).long() * inputs["attention_mask"]
    if overrides.get("pad_token_id") == 0:
        inputs["input_ids"] = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, 0)
    assert_outputs_close(*run_both(ours, theirs, inputs))
    ours.save_pretrained(tmp_path)
    back = reference_class(arch, task).from_pretrained(tmp_path).eval()
    assert_outputs_close(*run_both(ours, back, inputs))


# -- details ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS)
def test_inputs_embeds_and_explicit_position_ids(reference_dir, arch):
    folder, theirs = reference_dir(arch, "base")
    ours = load_ours("base", folder)
    inputs = batch(arch)
    embeds = theirs.get_input_embeddings()(inputs.pop("input_ids"))
    assert_outputs_close(*run_both(ours, theirs, {**inputs, "inputs_embeds": embeds}))
    if arch != "distilbert":  # DistilBERT takes no position_ids
        positions = torch.arange(8).flip(0)[None].expand(3, 8) + 2
        inputs = {**batch(arch), "position_ids": positions}
        assert_outputs_close(*run_both(ours, theirs, inputs))


@pytest.mark.parametrize("arch", ARCHS)
def test_left_padding(reference_dir, arch):
    folder, theirs = reference_dir(arch, "token-classification")
    ours = load_ours("token-classification", folder)
    inputs = {k: v.flip(-1) for k, v in batch(arch).items()}  # pads first: RoBERTa's positions start later
    assert_outputs_close(*run_both(ours, theirs, {**inputs, **EVERYTHING}))


def test_partly_loaded_module_keeps_its_loaded_tensor(tmp_path):
    torch.manual_seed(0)
    model = pretrained.AutoModelForTokenClassification.from_config(our_config("electra"))
    model.save_pretrained(tmp_path)
    state = load_checkpoint(checkpoint_files(tmp_path))
    del state["classifier.bias"]
    loaded, info = pretrained.AutoModelForTokenClassification.from_pretrained(
        tmp_path, state_dict=state, output_loading_info=True
    )
    assert info.missing_keys == ["classifier.bias"]
    assert torch.equal(loaded.classifier.weight, model.classifier.weight)
    assert (loaded.classifier.bias == 0).all()


def test_roberta_position_ids_skip_padding():
    ids = torch.tensor([[0, 7, 8, 2, 1, 1], [0, 9, 2, 1, 1, 1]])
    assert create_position_ids_from_input_ids(ids, 1).tolist() == [[2, 3, 4, 5, 1, 1], [2, 3, 4, 1, 1, 1]]
    ref = transformers.models.roberta.modeling_roberta.create_position_ids_from_input_ids
    assert torch.equal(create_position_ids_from_input_ids(ids, 1, 3), ref(ids, 1, 3))


def test_distilbert_sinusoidal_table_matches_reference():
    theirs = build_reference("distilbert", "base", sinusoidal_pos_embds=True)
    table = theirs.embeddings.position_embeddings.weight
    torch.testing.assert_close(sinusoidal_table(*table.shape), table, atol=1e-6, rtol=0)
    ours = pretrained.AutoModel.from_config(our_config("distilbert", sinusoidal_pos_embds=True))
    torch.testing.assert_close(ours.embeddings.position_embeddings.weight, table, atol=1e-6, rtol=0)
    assert not ours.embeddings.position_embeddings.weight.requires_grad  # fixed, as in the reference


@pytest.mark.parametrize("arch", ARCHS)
def test_fresh_model_initialized_like_reference(arch):
    """Random init: LayerNorms 1/0, padding rows zero, weights ~ N(0, initializer_range), output heads tied."""
    task = "masked-lm"
    ours = getattr(pretrained, AUTO[task]).from_config(our_config(arch, initializer_range=0.5))
    emb = ours.get_input_embeddings()
    assert emb.weight[PAD[arch]].abs().sum() == 0
    assert ours.get_output_embeddings().weight is emb.weight
    assert 0.4 < emb.weight.std().item() < 0.6
    for name, module in ours.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            assert (module.weight == 1).all() and (module.bias == 0).all(), name
        if isinstance(module, torch.nn.Linear) and module.bias is not None:
            assert (module.bias == 0).all(), name
    if arch in ("roberta", "xlm-roberta"):  # position table has padding_idx too
        assert ours.roberta.embeddings.position_embeddings.weight[PAD[arch]].abs().sum() == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_too_long_input_is_a_clear_error(reference_dir, arch):
    folder, _ = reference_dir(arch, "base")
    ours = load_ours("base", folder)
    ids = torch.full((1, TINY[arch]["max_position_embeddings"] + 1), 5)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        ours(ids)


def test_roberta_longest_input_uses_the_last_position(reference_dir):
    folder, theirs = reference_dir("roberta", "base")
    ours = load_ours("base", folder)
    ids = torch.full((1, 64 - 2), 5)  # positions 2..63: the whole table
    assert_outputs_close(*run_both(ours, theirs, {"input_ids": ids}))
    with pytest.raises(ValueError, match="sequence length 63 > 62"):
        ours(torch.full((1, 63), 5))


def test_distilbert_question_answering_needs_two_labels():
    with pytest.raises(ValueError, match="num_labels == 2"):
        pretrained.AutoModelForQuestionAnswering.from_config(our_config("distilbert", num_labels=3))


def test_distilbert_config_aliases():
    cfg = our_config("distilbert")
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (32, 2, 4)
    cfg = pretrained.AutoConfig.for_model("distilbert", hidden_size=48)
    assert cfg.dim == 48 and "hidden_size" not in cfg.to_dict()


def test_pretraining_head_only_where_it_exists():
    with pytest.raises(ValueError, match="no pretraining head"):
        pretrained.AutoModelForPreTraining.from_config(pretrained.AutoConfig.for_model("llama"))


@pytest.mark.parametrize("arch", ARCHS)
def test_auto_pretraining_class_is_the_references(arch):
    """BERT has its own pre-training heads; RoBERTa, XLM-R and DistilBERT map to their masked LM, as the reference."""
    ours = pretrained.AutoModelForPreTraining.from_config(our_config(arch))
    theirs = transformers.AutoModelForPreTraining.from_config(reference_config(arch))
    assert type(ours).__name__ == type(theirs).__name__


@pytest.mark.parametrize(
    "overrides", [{}, dict(tie_word_embeddings=False, position_embedding_type="relative_key")]
)
def test_bert_for_pretraining_both_directions(reference_dir, tmp_path, overrides):
    folder, _ = reference_dir("bert", "base")
    torch.manual_seed(0)
    theirs = transformers.BertForPreTraining(reference_config("bert", **overrides)).eval()
    theirs.save_pretrained(tmp_path / "ref")
    ours, info = pretrained.AutoModelForPreTraining.from_pretrained(
        tmp_path / "ref", output_loading_info=True
    )
    assert info.missing_keys == info.unexpected_keys == []
    labels = {
        "labels": labels_for("masked-lm", "bert")["labels"],
        "next_sentence_label": torch.tensor([0, 1, 1]),
    }
    inputs = {**batch("bert"), **labels}
    assert_outputs_close(*run_both(ours, theirs, {**inputs, **EVERYTHING}))
    assert_outputs_close(*run_both(ours, theirs, batch("bert")))  # no loss without both labels
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.BertForPreTraining.from_pretrained(tmp_path / "ours").eval()
    assert_outputs_close(*run_both(ours, back, inputs))
    # a bare checkpoint: the heads are new in both (only the loading report is compared)
    _, ref_info = transformers.BertForPreTraining.from_pretrained(folder, output_loading_info=True)
    _, info = pretrained.AutoModelForPreTraining.from_pretrained(folder, output_loading_info=True)
    assert info.missing_keys == sorted(ref_info["missing_keys"])  # the tied bias under both its names


@pytest.mark.parametrize("arch", sorted(HAS_TOKEN_TYPES))
def test_token_type_ids_change_the_output(reference_dir, arch):
    folder, _ = reference_dir(arch, "base")
    ours = load_ours("base", folder)
    inputs = batch(arch)
    with torch.no_grad():
        a = ours(**inputs).last_hidden_state
        b = ours(**{**inputs, "token_type_ids": torch.zeros_like(inputs["token_type_ids"])}).last_hidden_state
    assert (a - b).abs().max() > 1e-3


@pytest.mark.parametrize("arch", ["bert", "roberta", "electra", "distilbert"])
def test_first_token_only_computes_the_same_first_position(reference_dir, arch):
    folder, _ = reference_dir(arch, "base")
    model = load_ours("base", folder)
    inputs = batch(arch)  # padded rows included
    with torch.inference_mode():
        full = model(**inputs)
        first = model(**inputs, first_token_only=True)
        asked = model(**inputs, first_token_only=True, output_hidden_states=True)  # needs every position
    assert first.last_hidden_state.shape[1] == 1
    torch.testing.assert_close(first.last_hidden_state, full.last_hidden_state[:, :1], atol=1e-5, rtol=0)
    if getattr(full, "pooler_output", None) is not None:
        torch.testing.assert_close(first.pooler_output, full.pooler_output, atol=1e-5, rtol=0)
    assert asked.last_hidden_state.shape == full.last_hidden_state.shape


def test_every_reference_activation_name_computes_the_same():
    """Every ``hidden_act`` the reference knows (but the two with learned parameters) exists here, same values."""
    from transformers.activations import ACT2CLS, ACT2FN

    from pretrained.nn.activations import get_activation

    x = torch.linspace(-12, 12, 241)
    for name in sorted(set(ACT2CLS) - {"prelu", "xielu"}):
        torch.testing.assert_close(get_activation(name)(x), ACT2FN[name](x), atol=1e-6, rtol=0, msg=name)


# -- decoders: is_decoder=True (causal attention, KV cache) and the ForCausalLM heads --------------------------
DECODER_CASES = [
    ("bert", dict(is_decoder=True)),
    ("roberta", dict(is_decoder=True)),
    ("xlm-roberta", dict(is_decoder=True)),
    ("electra", dict(is_decoder=True)),
    ("bert", dict(is_decoder=True, position_embedding_type="relative_key")),
    ("roberta", dict(is_decoder=False)),  # the reference only warns: bidirectional attention, no cache
]


@pytest.mark.parametrize(
    "arch,overrides", DECODER_CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(DECODER_CASES)]
)
def test_causal_lm_heads_match_reference(tmp_path, arch, overrides):
    torch.manual_seed(0)
    theirs = transformers.AutoModelForCausalLM.from_config(reference_config(arch, **overrides)).eval()
    theirs.save_pretrained(tmp_path / "ref")
    ours, info = pretrained.AutoModelForCausalLM.from_pretrained(tmp_path / "ref", output_loading_info=True)
    assert type(ours).__name__ == type(theirs).__name__
    assert info.missing_keys == info.unexpected_keys == []
    inputs = batch(arch)
    mask = inputs["attention_mask"]
    labels = inputs["input_ids"].masked_fill(mask == 0, -100)
    with_labels = {**inputs, "labels": labels, "output_hidden_states": True}  # labels: no cache in either
    assert_outputs_close(*run_both(ours, theirs, with_labels))
    with torch.no_grad():
        got, want = ours(**inputs), theirs(**inputs)
    assert list(got.keys()) == list(want.keys())  # past_key_values only where the reference keeps a cache
    torch.testing.assert_close(got.logits, want.logits, atol=1e-5, rtol=0)
    ours.save_pretrained(tmp_path / "ours")
    back = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "ours").eval()
    assert_outputs_close(*run_both(ours, back, inputs), skip=("past_key_values",))
    if not overrides["is_decoder"]:
        return
    # cached decoding: the prompt, then one token at a time, as the reference (and as the full forward, for
    # absolute positions; relative ones take every cached-call query at the last position, as the reference)
    steps, ref_steps, cache, ref_cache = [], [], None, None
    with torch.no_grad():
        for start, stop in [(0, 3)] + [(t, t + 1) for t in range(3, 8)]:
            kw = {k: v[:, start:stop] for k, v in inputs.items() if k != "attention_mask"}
            kw["attention_mask"] = mask[:, :stop]
            out = ours(**kw, past_key_values=cache, use_cache=True)
            ref = theirs(**kw, past_key_values=ref_cache, use_cache=True)
            cache, ref_cache = out.past_key_values, ref.past_key_values
            steps.append(out.logits)
            ref_steps.append(ref.logits)
    real = mask.bool()
    torch.testing.assert_close(torch.cat(steps, 1)[real], torch.cat(ref_steps, 1)[real], atol=1e-5, rtol=0)
    if "position_embedding_type" not in overrides:
        torch.testing.assert_close(torch.cat(steps, 1)[real], want.logits[real], atol=1e-5, rtol=0)
    prompt = inputs["input_ids"][:1, :4]
    kw = dict(max_new_tokens=5, do_sample=False)
    assert torch.equal(ours.generate(prompt, **kw), theirs.generate(prompt, **kw))


def test_encoder_with_cross_attention_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="add_cross_attention"):
        pretrained.AutoModel.from_config(our_config("bert", is_decoder=True, add_cross_attention=True))


def _choices(arch: str, seed: int = 3) -> dict[str, torch.Tensor]:
    """Two examples of three right-padded choices each: (2, 3, 8) inputs and a label per example."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([[8, 5, 3], [6, 8, 2]])  # (B, C)
    mask = (torch.arange(8)[None, None, :] < lengths[..., None]).long()  # (B, C, T)
    ids = torch.randint(3, TINY[arch]["vocab_size"], (2, 3, 8), generator=g).masked_fill(mask == 0, PAD[arch])
    out = {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([2, 0])}
    if arch in HAS_TOKEN_TYPES:
        out["token_type_ids"] = (torch.arange(8) >= 3).long().expand(2, 3, 8) * mask
    return out


@pytest.mark.parametrize("arch", ARCHS)
def test_multiple_choice_matches_reference(tmp_path, arch):
    torch.manual_seed(0)
    theirs = getattr(
        transformers, reference_class(arch, "base").__name__.replace("Model", "ForMultipleChoice")
    )(reference_config(arch)).eval()
    theirs.save_pretrained(tmp_path / "ref")
    ours, info = pretrained.AutoModelForMultipleChoice.from_pretrained(
        tmp_path / "ref", output_loading_info=True
    )
    assert type(ours).__name__ == type(theirs).__name__
    assert info.missing_keys == [] and info.unexpected_keys == []
    inputs = _choices(arch)
    o, t = run_both(ours, theirs, {**inputs, "output_hidden_states": True})
    assert o.logits.shape == (2, 3)
    assert_outputs_close(o, t)
    without_labels = {k: v for k, v in inputs.items() if k != "labels"}
    o, t = run_both(ours, theirs, without_labels)
    assert o.loss is None and t.loss is None
    torch.testing.assert_close(o.logits, t.logits, atol=1e-5, rtol=0)
    ours.save_pretrained(tmp_path / "ours")  # and back: the reference reads our checkpoint
    back = type(theirs).from_pretrained(tmp_path / "ours").eval()
    with torch.no_grad():
        torch.testing.assert_close(back(**without_labels).logits, t.logits, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="batch, choices, length"):
        ours(input_ids=inputs["input_ids"][0])


def test_next_sentence_prediction_matches_reference(tmp_path):
    torch.manual_seed(0)
    theirs = transformers.BertForNextSentencePrediction(reference_config("bert")).eval()
    theirs.save_pretrained(tmp_path)
    ours = pretrained.AutoModelForNextSentencePrediction.from_pretrained(tmp_path)
    assert type(ours).__name__ == "BertForNextSentencePrediction"
    inputs = {**batch("bert"), "labels": torch.tensor([0, 1, 0])}
    o, t = run_both(ours, theirs, {**inputs, **EVERYTHING})
    assert o.logits.shape == (3, 2)
    assert_outputs_close(o, t)
    with pytest.raises(ValueError, match="no next-sentence-prediction head"):
        pretrained.AutoModelForNextSentencePrediction.from_config(our_config("roberta"))


NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "classifier_dropout": 0.0}
DISTIL_NO_DROPOUT = {"dropout": 0.0, "attention_dropout": 0.0, "qa_dropout": 0.0, "seq_classif_dropout": 0.0}


@pytest.mark.parametrize("checkpointing", [False, True])
@pytest.mark.parametrize("arch,task", [c for c in CASES if c[1] != "base"])
def test_training_step_matches_reference_then_eval(reference_dir, arch, task, checkpointing):
    """Train mode (dropout 0): same loss and gradients; after one optimizer step our eval outputs (fast paths,
    cached fused weights) still equal the reference's."""
    folder, _ = reference_dir(arch, task)
    no_dropout = DISTIL_NO_DROPOUT if arch == "distilbert" else NO_DROPOUT
    theirs = reference_class(arch, task).from_pretrained(folder, **no_dropout).train()
    ours = load_ours(task, folder, **no_dropout)
    with torch.no_grad():
        ours.eval()(**batch(arch))  # inference first: its caches must follow the update below
    ours.train()
    if checkpointing:
        theirs.gradient_checkpointing_enable(), ours.gradient_checkpointing_enable()
    inputs = {**batch(arch), **labels_for(task, arch)}
    want, got = theirs(**inputs).loss, ours(**inputs).loss
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    want.backward(), got.backward()
    grads = {k: p.grad for k, p in theirs.named_parameters() if p.grad is not None}
    for key, p in ours.named_parameters():
        if key in grads:
            torch.testing.assert_close(
                p.grad, grads[key], atol=1e-4, rtol=0, msg=lambda m, k=key: f"{k}: {m}"
            )
    for model in (theirs, ours):
        torch.optim.SGD(model.parameters(), lr=0.5).step()
    o, t = run_both(ours.eval(), theirs.eval(), batch(arch, seed=4))
    assert_outputs_close(o, t, atol=1e-4)
