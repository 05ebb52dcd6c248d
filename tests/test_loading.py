"""Checkpoint loading and saving: formats, shards, dtypes, prefixes, mismatches and bad files."""

from __future__ import annotations

import json
import logging
import os
import pickle
import struct

import pytest
import torch

from pretrained import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification
from pretrained.models.bert import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel
from pretrained.weights import (
    CheckpointError,
    load_safetensors,
    parse_size,
    save_checkpoint,
    save_safetensors,
)

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)


def tiny_bert(tmp_path, cls=BertModel, **kw):
    torch.manual_seed(0)
    model = cls(BertConfig(**TINY, **kw)).eval()
    model.save_pretrained(tmp_path)
    return model


def ids():
    return torch.tensor([[2, 5, 7, 9, 3], [2, 8, 3, 0, 0]]), torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])


def same_outputs(a, b):
    x, m = ids()
    with torch.no_grad():
        oa, ob = a(x, attention_mask=m), b(x, attention_mask=m)
    for key in oa.keys():
        torch.testing.assert_close(oa[key], ob[key], atol=1e-5, rtol=0)


def test_round_trip_safetensors(tmp_path):
    model = tiny_bert(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "config.json").is_file()
    loaded = BertModel.from_pretrained(tmp_path)
    same_outputs(model, loaded)
    assert not any(p.device.type == "meta" for p in loaded.parameters())


def test_sharded_save_and_load(tmp_path):
    model = tiny_bert(tmp_path)
    model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    index = json.loads((tmp_path / "sharded" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1
    assert not (tmp_path / "sharded" / "model.safetensors").exists()
    same_outputs(model, AutoModel.from_pretrained(tmp_path / "sharded"))


def test_pytorch_model_bin_and_its_shards(tmp_path):
    model = tiny_bert(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    sd = model.state_dict()
    torch.save(sd, tmp_path / "pytorch_model.bin")
    same_outputs(model, BertModel.from_pretrained(tmp_path))
    (tmp_path / "pytorch_model.bin").unlink()
    keys = list(sd)
    shards = {"pytorch_model-00001-of-00002.bin": keys[:10], "pytorch_model-00002-of-00002.bin": keys[10:]}
    for name, part in shards.items():
        torch.save({k: sd[k] for k in part}, tmp_path / name)
    weight_map = {k: name for name, part in shards.items() for k in part}
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    same_outputs(model, BertModel.from_pretrained(tmp_path))


@pytest.mark.parametrize("shard", ["5GB", "20KB"])
def test_save_pretrained_as_pytorch_model_bin(tmp_path, shard):
    """safe_serialization=False writes the torch format (sharded too); the other format's files are removed."""
    transformers = pytest.importorskip("transformers")
    model = tiny_bert(tmp_path)  # model.safetensors there first
    model.save_pretrained(tmp_path, safe_serialization=False, max_shard_size=shard)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not any(n.endswith(".safetensors") or "safetensors" in n for n in names)
    if shard == "5GB":
        assert "pytorch_model.bin" in names
    else:
        assert "pytorch_model.bin.index.json" in names
        assert sum(n.startswith("pytorch_model-0") and n.endswith(".bin") for n in names) > 1
    same_outputs(model, BertModel.from_pretrained(tmp_path))
    theirs = transformers.BertModel.from_pretrained(tmp_path).eval()
    x, m = ids()
    with torch.no_grad():
        torch.testing.assert_close(
            model(x, attention_mask=m).last_hidden_state, theirs(x, attention_mask=m).last_hidden_state
        )
    model.save_pretrained(tmp_path)  # back to safetensors: no stale .bin left to shadow it
    assert not any(p.name.endswith(".bin") or "bin.index" in p.name for p in tmp_path.iterdir())


def test_reference_loader_arguments(tmp_path):
    """subfolder, use_safetensors, device_map and the loader hints that change nothing here, as the reference."""
    model = tiny_bert(tmp_path / "repo" / "encoder")
    model.save_pretrained(tmp_path / "repo" / "encoder", safe_serialization=False)
    for loaded in (
        AutoModel.from_pretrained(
            tmp_path / "repo", subfolder="encoder", device_map="cpu", low_cpu_mem_usage=True
        ),
        BertModel.from_pretrained(tmp_path / "repo", subfolder="encoder", attn_implementation="eager"),
    ):
        same_outputs(model, loaded)
        assert not hasattr(loaded.config, "attn_implementation") and not hasattr(loaded.config, "device_map")
    both = tmp_path / "both"
    model.save_pretrained(both, safe_serialization=False)
    torch.manual_seed(1)
    other = BertModel(BertConfig(**TINY)).eval()
    state = {k: v.contiguous() for k, v in other.state_dict().items()}
    model.save_pretrained(tmp_path / "bin", safe_serialization=False)
    save_checkpoint(state, both)  # the folder holds other weights as model.safetensors...
    for f in (tmp_path / "bin").glob("*.bin"):
        (both / f.name).write_bytes(f.read_bytes())  # ...and the model's as pytorch_model.bin
    same_outputs(other, BertModel.from_pretrained(both))  # safetensors preferred
    same_outputs(model, BertModel.from_pretrained(both, use_safetensors=False))
    with pytest.raises(FileNotFoundError, match="use_safetensors=True"):
        BertModel.from_pretrained(tmp_path / "bin", use_safetensors=True)
    with pytest.raises(FileNotFoundError, match="subfolder"):
        BertModel.from_pretrained(tmp_path / "repo", subfolder="nope", config=model.config)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, "float16", "auto"])
def test_torch_dtype(tmp_path, dtype):
    tiny_bert(tmp_path)
    model = BertModel.from_pretrained(tmp_path, torch_dtype=dtype)
    want = torch.float32 if dtype == "auto" else {"float16": torch.float16}.get(dtype, dtype)
    assert {p.dtype for p in model.parameters()} == {want}


@pytest.mark.parametrize("dtype", [torch.float16, "bfloat16"])
def test_dtype_is_the_newer_name_of_torch_dtype(tmp_path, dtype):
    """transformers >= 4.56 calls it ``dtype``: both the Auto and the model classes take it."""
    tiny_bert(tmp_path)
    want = torch.float16 if dtype == torch.float16 else torch.bfloat16
    for model in (
        BertModel.from_pretrained(tmp_path, dtype=dtype),
        AutoModel.from_pretrained(tmp_path, dtype=dtype),
    ):
        assert {p.dtype for p in model.parameters()} == {want}
    with pytest.raises(ValueError, match="disagree"):
        BertModel.from_pretrained(tmp_path, dtype=torch.float16, torch_dtype=torch.bfloat16)


def test_bad_torch_dtype(tmp_path):
    tiny_bert(tmp_path)
    with pytest.raises(ValueError, match="torch_dtype='float8'"):
        BertModel.from_pretrained(tmp_path, torch_dtype="float8")


def test_bare_checkpoint_into_head_model_and_back(tmp_path, caplog):
    bare = tiny_bert(tmp_path)
    with caplog.at_level(logging.WARNING):
        clf, info = BertForSequenceClassification.from_pretrained(
            tmp_path, output_loading_info=True, num_labels=3
        )
    assert info.missing_keys == ["classifier.bias", "classifier.weight"]
    assert "classifier.weight" in caplog.text  # one log line names the new weights
    torch.testing.assert_close(
        clf.bert.embeddings.word_embeddings.weight, bare.embeddings.word_embeddings.weight
    )
    assert (
        clf.classifier.weight.std() > 0 and clf.classifier.bias.abs().sum() == 0
    )  # initialized, not garbage
    clf.save_pretrained(tmp_path / "clf")
    back, info = BertModel.from_pretrained(tmp_path / "clf", output_loading_info=True)
    assert info.missing_keys == [] and set(info.unexpected_keys) == {"classifier.weight", "classifier.bias"}
    same_outputs(clf.bert, back)


def test_masked_lm_ties_decoder_to_embeddings(tmp_path):
    tiny_bert(tmp_path, cls=BertForMaskedLM)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    tiny_bert(tmp_path, cls=BertForSequenceClassification)
    with pytest.raises(
        ValueError,
        match=r"classifier.weight: checkpoint \(2, 32\) vs model \(5, 32\).*ignore_mismatched_sizes",
    ):
        BertForSequenceClassification.from_pretrained(tmp_path, num_labels=5)
    model, info = BertForSequenceClassification.from_pretrained(
        tmp_path, num_labels=5, ignore_mismatched_sizes=True, output_loading_info=True
    )
    assert model.classifier.weight.shape == (5, 32)
    assert info.mismatched_keys == ["classifier.bias", "classifier.weight"]  # names, as the reference
    assert info.mismatched_shapes == [((2,), (5,)), ((2, 32), (5, 32))]
    assert info.missing_keys == []  # mismatched keys are not also missing (the reference's report)
    assert float(model.classifier.weight.std()) > 0  # re-initialized


def test_legacy_gamma_beta_names(tmp_path):
    model = tiny_bert(tmp_path)
    sd = {
        k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
        for k, v in model.state_dict().items()
    }
    save_safetensors(sd, tmp_path / "model.safetensors")
    same_outputs(model, BertModel.from_pretrained(tmp_path))


def test_config_keeps_unknown_keys(tmp_path):
    cfg = BertConfig(**TINY, my_custom_field={"a": 1}, id2label={0: "NEG", 1: "POS"})
    cfg.save_pretrained(tmp_path)
    back = AutoConfig.from_pretrained(tmp_path)
    assert type(back) is BertConfig and back.my_custom_field == {"a": 1}
    assert back.id2label == {0: "NEG", 1: "POS"} and back.label2id == {"NEG": 0, "POS": 1}
    assert back.hidden_size == 32 and back.num_labels == 2


# -- bad input ------------------------------------------------------------------------------------------------
def test_missing_config_json(tmp_path):
    tiny_bert(tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"config.json not found in .*model.safetensors"):
        AutoModel.from_pretrained(tmp_path)


def test_missing_weights(tmp_path):
    BertConfig(**TINY).save_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="no weights in .*model.safetensors"):
        AutoModel.from_pretrained(tmp_path)


def test_unknown_model_type_lists_supported(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "frobnicator"}))
    with pytest.raises(ValueError, match=r"'frobnicator' is not supported.*bert"):
        AutoModel.from_pretrained(tmp_path)


def test_malformed_config_json(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert",')
    with pytest.raises(ValueError, match=r"config.json: invalid JSON at line 1"):
        AutoConfig.from_pretrained(tmp_path)


def test_truncated_safetensors(tmp_path):
    tiny_bert(tmp_path)
    path = tmp_path / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model.safetensors: tensor .* truncated"):
        BertModel.from_pretrained(tmp_path)
    path.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="truncated safetensors file"):
        load_safetensors(path)


def _rewrite_header(path, edit):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    edit(header)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda h: h["embeddings.word_embeddings.weight"].update(shape=[99, 64]),
            "needs .* bytes but data_offsets",
        ),
        (lambda h: h["embeddings.word_embeddings.weight"].update(data_offsets=[0, 10**9]), "needs .* bytes"),
        (lambda h: h["pooler.dense.bias"].update(data_offsets=[0, 128]), "overlaps"),
        (lambda h: h["pooler.dense.bias"].update(dtype="Q4"), "unsupported dtype 'Q4'"),
        (lambda h: h.update(bad={"dtype": "F32"}), "lacks dtype/shape/data_offsets"),
    ],
)
def test_lying_safetensors_header(tmp_path, edit, message):
    tiny_bert(tmp_path)
    _rewrite_header(tmp_path / "model.safetensors", edit)
    with pytest.raises(CheckpointError, match=message):
        BertModel.from_pretrained(tmp_path)


def test_header_length_beyond_file(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", 10**6) + b"{}")
    with pytest.raises(CheckpointError, match="claims 1000000 bytes"):
        load_safetensors(path)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path, capsys):
    BertConfig(**TINY).save_pretrained(tmp_path)
    with open(tmp_path / "pytorch_model.bin", "wb") as f:
        pickle.dump({"x": _Evil()}, f)
    with pytest.raises(CheckpointError, match="refused to load"):
        BertModel.from_pretrained(tmp_path)
    assert "pwned" not in capsys.readouterr().out


def test_save_leaves_nothing_half_written(tmp_path):
    class Boom(dict):
        def items(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint(Boom(a=torch.ones(1)), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_parse_size():
    assert parse_size("5GB") == 5 * 10**9 and parse_size("200MiB") == 200 * 2**20 and parse_size(7) == 7
    with pytest.raises(ValueError, match="max_shard_size"):
        parse_size("lots")


# -- the reference loads what we save, and we load what it saves --------------------------------------------
def test_reference_round_trip(tmp_path):
    transformers = pytest.importorskip("transformers")
    ours = tiny_bert(tmp_path / "ours", cls=BertForSequenceClassification, num_labels=3)
    theirs = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "ours").eval()
    x, m = ids()
    with torch.no_grad():
        torch.testing.assert_close(
            ours(x, m).logits, theirs(input_ids=x, attention_mask=m).logits, atol=1e-4, rtol=0
        )
    theirs.save_pretrained(tmp_path / "theirs")
    back = AutoModelForSequenceClassification.from_pretrained(tmp_path / "theirs")
    with torch.no_grad():
        torch.testing.assert_close(
            back(x, m).logits, theirs(input_ids=x, attention_mask=m).logits, atol=1e-4, rtol=0
        )


def test_return_dict_false_gives_a_tuple(tmp_path):
    model = tiny_bert(tmp_path, cls=BertForSequenceClassification)
    x, m = ids()
    with torch.no_grad():
        out = model(x, attention_mask=m)
        tup = model(x, attention_mask=m, return_dict=False)
    assert isinstance(tup, tuple) and len(tup) == 1
    (logits,) = tup
    torch.testing.assert_close(logits, out.logits)


def test_config_reads_new_dtype_key(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "dtype": "bfloat16", **TINY}))
    assert AutoConfig.from_pretrained(tmp_path).torch_dtype == "bfloat16"


# -- generating models load weights in the decode layout (see pretrained.nn.linear); nothing else changes -----
def test_encoders_keep_the_checkpoint_layout(tmp_path):
    tiny_bert(tmp_path, cls=BertForSequenceClassification)
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert all(p.is_contiguous() for p in loaded.parameters())


def _tiny_generators():
    from pretrained.models.bart import BartConfig, BartForConditionalGeneration
    from pretrained.models.llama import LlamaConfig, LlamaForCausalLM
    from pretrained.models.t5 import T5Config, T5ForConditionalGeneration

    small = dict(vocab_size=99)
    return {
        "llama": lambda: LlamaForCausalLM(
            LlamaConfig(
                **small,
                hidden_size=32,
                intermediate_size=48,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                tie_word_embeddings=False,
            )
        ),
        "t5": lambda: T5ForConditionalGeneration(
            T5Config(
                **small, d_model=32, d_ff=48, d_kv=8, num_layers=2, num_heads=4, decoder_start_token_id=0
            )
        ),
        "bart": lambda: BartForConditionalGeneration(
            BartConfig(
                **small,
                d_model=32,
                encoder_layers=1,
                decoder_layers=1,
                encoder_attention_heads=4,
                decoder_attention_heads=4,
                encoder_ffn_dim=48,
                decoder_ffn_dim=48,
                max_position_embeddings=64,
            )
        ),
    }


@pytest.mark.parametrize("family", ["llama", "t5", "bart"])
def test_generating_models_load_the_decode_layout_with_the_checkpoints_values(tmp_path, family, layout):
    from pretrained import AutoModelForCausalLM, AutoModelForSeq2SeqLM
    from pretrained.nn.linear import Linear, is_transposed_storage

    torch.manual_seed(0)
    model = _tiny_generators()[family]().eval()
    model.save_pretrained(tmp_path)
    auto = AutoModelForCausalLM if family == "llama" else AutoModelForSeq2SeqLM
    loaded = auto.from_pretrained(tmp_path)
    linears = [m for m in loaded.modules() if isinstance(m, Linear)]
    assert any(m.out_features < m.in_features for m in linears)
    if layout == "rows":  # the C kernel streams every weight row-major (out, in), fused ones as row blocks
        assert all(m.weight.is_contiguous() for m in linears)
        assert loaded.get_output_embeddings().weight.is_contiguous()
    else:  # MKL's gemv: widening and square projections stored (in, out), narrowing ones (out, in)
        for m in linears:  # (in, out) in memory: rows of weight.t() are contiguous
            wide = m.out_features >= m.in_features
            fused = m.weight.stride() == (1, m.weight.stride(1)) and m.weight.stride(1) > m.out_features
            assert (m.weight.stride(0) == 1) == (wide or fused) and m.weight.is_contiguous() != (
                wide or fused
            )
        assert is_transposed_storage(loaded.get_output_embeddings().weight)
    if (
        family == "t5"
    ):  # self-attention q/k/v share one buffer, run as one matmul when no gradient is recorded
        from pretrained.nn.linear import fused_weight

        attn = loaded.encoder.block[0].layer[0].SelfAttention
        assert fused_weight([attn.q, attn.k, attn.v]) is None  # gradients recorded: one by one
        with torch.no_grad():
            weight, bias = fused_weight([attn.q, attn.k, attn.v])
        assert bias is None and torch.equal(weight, torch.cat([attn.q.weight, attn.k.weight, attn.v.weight]))
    ours = loaded.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(ours[key], value), key
    x = torch.tensor([[5, 6, 7, 8, 9]])
    kw = {} if family == "llama" else {"decoder_input_ids": torch.tensor([[0, 4, 5]])}
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x, **kw).logits, model(x, **kw).logits, atol=1e-5, rtol=0)
    loaded.save_pretrained(tmp_path / "again")  # saved back contiguous and identical
    raw = load_safetensors(tmp_path / "again" / "model.safetensors")
    for key, value in raw.items():
        assert value.is_contiguous() and torch.equal(value, model.state_dict()[key]), key


@pytest.mark.parametrize("family", ["llama", "t5"])
def test_decode_layout_and_fused_weights_train_and_convert(tmp_path, family, layout):
    from pretrained import AutoModelForCausalLM, AutoModelForSeq2SeqLM
    from pretrained.nn.linear import is_transposed_storage

    torch.manual_seed(0)
    _tiny_generators()[family]().save_pretrained(tmp_path)
    auto = AutoModelForCausalLM if family == "llama" else AutoModelForSeq2SeqLM
    model = auto.from_pretrained(tmp_path).train()
    x = torch.tensor([[5, 6, 7, 8, 9]])
    kw = {"labels": x} if family == "llama" else {"labels": torch.tensor([[4, 5, 6]])}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(x, **kw).loss.backward()
    assert model.lm_head.weight.grad is not None
    opt.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert "lm_head.weight" in changed or "shared.weight" in changed
    if family == "t5":  # each of the fused q/k/v views got its own update
        assert {f"encoder.block.0.layer.0.SelfAttention.{n}.weight" for n in "qkv"} <= changed
    with torch.no_grad():  # and the fused matmul reads the updated values
        model.eval()
        ref = {k: v.clone() for k, v in model.state_dict().items()}
        fresh = auto.from_pretrained(tmp_path)
        fresh.load_state_dict(ref)
        kw2 = {} if family == "llama" else {"decoder_input_ids": torch.tensor([[0, 4, 5]])}
        torch.testing.assert_close(model(x, **kw2).logits, fresh(x, **kw2).logits, atol=1e-5, rtol=0)
    half = model.to(torch.float16)
    assert half.lm_head.weight.dtype == torch.float16  # .to() keeps the layout
    assert is_transposed_storage(half.lm_head.weight) == (layout == "blas")
    with torch.no_grad():  # fused buffers separated by the conversion: one projection at a time, still right
        assert half(x, **kw2).logits.dtype == torch.float16


def test_gpt2_ties_its_embedding_and_stores_conv1d_for_decoding(tmp_path, layout):
    from pretrained import AutoModelForCausalLM
    from pretrained.models.gpt2 import Conv1D, GPT2Config, GPT2LMHeadModel
    from pretrained.nn.linear import is_transposed_storage

    torch.manual_seed(0)
    ref = GPT2LMHeadModel(GPT2Config(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64)).eval()
    ref.save_pretrained(tmp_path)
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert is_transposed_storage(model.lm_head.weight) == (layout == "blas")
    mlp = model.transformer.h[0].mlp  # Conv1D weights are (in, out) parameters
    if layout == "rows":  # every one stored (out, in) for the kernel
        assert all(m.weight.t().is_contiguous() for m in model.modules() if isinstance(m, Conv1D))
    else:  # the narrowing one stored (out, in)
        assert mlp.c_fc.weight.is_contiguous() and mlp.c_proj.weight.t().is_contiguous()
    x = torch.tensor([[5, 6, 7, 8]])
    with torch.inference_mode():
        torch.testing.assert_close(model(x).logits, ref(x).logits, atol=1e-5, rtol=0)
        assert torch.equal(
            model.generate(x, max_new_tokens=6, do_sample=False),
            ref.generate(x, max_new_tokens=6, do_sample=False),
        )


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def test_release_mapped_pages_frees_memory_and_keeps_values(tmp_path):
    from pretrained.weights import release_mapped_pages

    torch.manual_seed(0)
    big, small = torch.randn(2048, 1024), torch.randn(3, 5)  # 8 MB
    save_safetensors({"big": big, "small": small}, tmp_path / "w.safetensors")
    tensors = load_safetensors(tmp_path / "w.safetensors")
    assert torch.equal(tensors["big"], big)  # every page read: resident
    before = _rss_kb()
    release_mapped_pages(tensors["big"])
    assert before - _rss_kb() > 6 * 1024  # most of the 8 MB left the process
    assert torch.equal(tensors["big"], big) and torch.equal(
        tensors["small"], small
    )  # read back from the file
    anon = big.clone()
    release_mapped_pages(anon)  # not from a mapping: left alone
    assert torch.equal(anon, big)


def test_a_callers_state_dict_is_left_whole(tmp_path):
    from pretrained import AutoModelForCausalLM

    torch.manual_seed(0)
    model = _tiny_generators()["llama"]()
    model.save_pretrained(tmp_path)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path, state_dict=sd)
    assert set(sd) == set(model.state_dict())  # not consumed
    for key, value in model.state_dict().items():
        assert torch.equal(sd[key], value) and torch.equal(loaded.state_dict()[key], value), key


def test_auto_from_config_takes_a_dtype():
    cfg = BertConfig(**TINY)
    assert (
        AutoModel.from_config(cfg, torch_dtype=torch.bfloat16, attn_implementation="eager").dtype
        == torch.bfloat16
    )
    assert AutoModel.from_config(cfg, dtype="float16").dtype == torch.float16
    with pytest.raises(TypeError, match="unexpected arguments"):
        AutoModel.from_config(cfg, hidden_size=8)


_TINY_REF = {
    "bert": ("BertConfig", dict(TINY)),
    "t5": ("T5Config", dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)),
    "t5-untied": (
        "T5Config",
        dict(
            vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, tie_word_embeddings=False
        ),
    ),
    "gpt2": ("GPT2Config", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)),
    "llama": (
        "LlamaConfig",
        dict(vocab_size=99, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4),
    ),
    "bart": (
        "BartConfig",
        dict(
            vocab_size=99,
            d_model=32,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=37,
            decoder_ffn_dim=37,
            max_position_embeddings=40,
        ),
    ),  # fmt: skip
}
# (family, class saved by the reference, class loading it): the missing / unexpected keys reported by both
CROSS_LOADS = [
    ("bert", "BertModel", "BertForMaskedLM"),
    ("bert", "BertForSequenceClassification", "BertLMHeadModel"),
    ("bert", "BertForMaskedLM", "BertForPreTraining"),
    ("t5", "T5ForSequenceClassification", "T5EncoderModel"),
    ("t5-untied", "T5ForConditionalGeneration", "T5EncoderModel"),
    ("t5", "T5ForConditionalGeneration", "T5ForTokenClassification"),
    ("gpt2", "GPT2Model", "GPT2ForTokenClassification"),
    ("llama", "LlamaForCausalLM", "LlamaForQuestionAnswering"),  # the QA decoder sits under transformer.
    ("bart", "BartModel", "BartForQuestionAnswering"),
    ("bart", "BartForConditionalGeneration", "BartModel"),
]


@pytest.mark.parametrize("family,saved,loaded", CROSS_LOADS, ids=[f"{s}->{t}" for _, s, t in CROSS_LOADS])
def test_loading_report_matches_reference(tmp_path, family, saved, loaded):
    transformers = pytest.importorskip("transformers")
    import importlib

    cfg_name, fields = _TINY_REF[family]
    torch.manual_seed(0)
    getattr(transformers, saved)(getattr(transformers, cfg_name)(**fields)).save_pretrained(tmp_path)
    module = importlib.import_module(f"pretrained.models.{family.split('-')[0]}")
    _, info = getattr(module, loaded).from_pretrained(tmp_path, output_loading_info=True)
    _, ref_info = getattr(transformers, loaded).from_pretrained(tmp_path, output_loading_info=True)
    assert info.missing_keys == sorted(ref_info["missing_keys"])
    assert sorted(info.unexpected_keys) == sorted(ref_info["unexpected_keys"])


def test_auto_classes_map_every_model_type_as_the_reference():
    """Each Auto class picks the reference's class name for every supported model_type (none where it has none)."""
    pytest.importorskip("transformers")
    from transformers.models.auto import modeling_auto as ref

    from pretrained.models.auto import MODEL_TYPES, _module

    mappings = {
        "base": ref.MODEL_MAPPING_NAMES,
        "masked-lm": ref.MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        "sequence-classification": ref.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES,
        "token-classification": ref.MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
        "question-answering": ref.MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES,
        "causal-lm": ref.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        "seq2seq-lm": ref.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        "pretraining": ref.MODEL_FOR_PRETRAINING_MAPPING_NAMES,
        "multiple-choice": ref.MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES,
        "next-sentence-prediction": ref.MODEL_FOR_NEXT_SENTENCE_PREDICTION_MAPPING_NAMES,
    }
    for model_type in MODEL_TYPES:
        module = _module(model_type, "test")
        for task, mapping in mappings.items():
            name = module.TASK_CLASSES.get(task)
            assert name == mapping.get(model_type), (model_type, task)
            assert name is None or hasattr(module, name), (model_type, name)


RESIZE_CASES = [
    ("BertConfig", dict(TINY), "BertForMaskedLM", "bert"),
    ("RobertaConfig", dict(TINY), "RobertaForMaskedLM", "roberta"),
    ("GPT2Config", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4), "GPT2LMHeadModel", "gpt2"),
    (
        "LlamaConfig",
        dict(vocab_size=99, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4),
        "LlamaForCausalLM",  # untied: the LM head grows too
        "llama",
    ),
    ("BartConfig", dict(_TINY_REF["bart"][1]), "BartForConditionalGeneration", "bart"),
]


@pytest.mark.parametrize("cfg_name,fields,cls_name,module", RESIZE_CASES, ids=[c[2] for c in RESIZE_CASES])
@pytest.mark.parametrize("size", [(110, None), (90, None), (101, 8)])
def test_resize_token_embeddings_as_the_reference(tmp_path, cfg_name, fields, cls_name, module, size):
    """New rows are the old rows' mean (the reference samples within ~1e-9 covariance of it), LM-head biases
    grow with zeros, shrinking keeps the first rows, config.vocab_size follows, and the result saves and loads."""
    transformers = pytest.importorskip("transformers")
    import importlib

    torch.manual_seed(0)
    theirs = getattr(transformers, cls_name)(getattr(transformers, cfg_name)(**fields, pad_token_id=0)).eval()
    theirs.save_pretrained(tmp_path)
    ours = getattr(importlib.import_module(f"pretrained.models.{module}"), cls_name).from_pretrained(tmp_path)
    new, multiple = size
    embeddings = ours.resize_token_embeddings(new, pad_to_multiple_of=multiple)
    theirs.resize_token_embeddings(new, pad_to_multiple_of=multiple)
    n = theirs.config.vocab_size
    assert (
        embeddings is ours.get_input_embeddings()
        and embeddings.weight.shape[0] == ours.config.vocab_size == n
    )
    ids = torch.randint(1, min(n, 99), (2, 6), generator=torch.Generator().manual_seed(0))
    ids[0, 2] = n - 1
    kw = {"decoder_input_ids": ids[:, :3]} if "Bart" in cls_name else {}
    with torch.no_grad():
        got, want = ours(ids, **kw).logits, theirs(ids, **kw).logits
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
    ours.save_pretrained(tmp_path / "resized")
    back = getattr(transformers, cls_name).from_pretrained(tmp_path / "resized").eval()
    with torch.no_grad():
        torch.testing.assert_close(back(ids, **kw).logits, got, atol=1e-5, rtol=0)


def test_resize_token_embeddings_keeps_the_padding_token(tmp_path):
    model = tiny_bert(tmp_path, pad_token_id=50)
    with pytest.raises(ValueError, match="padding token"):
        model.resize_token_embeddings(40)


def test_num_parameters_can_generate_and_set_input_embeddings(tmp_path):
    transformers = pytest.importorskip("transformers")
    from pretrained.models.t5 import T5ForConditionalGeneration

    fields = dict(_TINY_REF["t5"][1])
    theirs = transformers.T5ForConditionalGeneration(transformers.T5Config(**fields))
    theirs.save_pretrained(tmp_path)
    ours = T5ForConditionalGeneration.from_pretrained(tmp_path)
    for kw in ({}, {"exclude_embeddings": True}, {"only_trainable": True}):
        assert ours.num_parameters(**kw) == theirs.num_parameters(**kw), kw
    assert T5ForConditionalGeneration.can_generate() and not BertModel.can_generate()
    table = torch.nn.Embedding(99, 32)
    ours.set_input_embeddings(table)  # the shared table: encoder, decoder and the tied LM head all use it
    assert ours.shared is table and ours.encoder.embed_tokens is table and ours.decoder.embed_tokens is table
    assert ours.lm_head.weight is table.weight


@pytest.mark.parametrize(
    "model_type,fields", [("gpt2", dict(n_embd=32)), ("bert", dict(num_labels=3)), ("t5", {})]
)
def test_config_helpers_as_the_reference(tmp_path, model_type, fields):
    transformers = pytest.importorskip("transformers")
    ours, theirs = (
        AutoConfig.for_model(model_type, **fields),
        transformers.AutoConfig.for_model(model_type, **fields),
    )
    assert set(ours.to_diff_dict()) == set(theirs.to_diff_dict()) - {"transformers_version"}
    theirs.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert loaded.name_or_path == str(tmp_path) and "_name_or_path" not in loaded.to_dict()
    loaded.update({"hidden_size": 48, "extra_field": 1})
    assert loaded.hidden_size == 48 and loaded.extra_field == 1 and loaded.get_text_config() is loaded
    loaded.to_json_file(tmp_path / "diff.json")
    assert json.loads((tmp_path / "diff.json").read_text())["extra_field"] == 1
    assert transformers.AutoConfig.from_pretrained(tmp_path / "diff.json").to_dict()["extra_field"] == 1


def test_constructor_arguments_pass_through_from_pretrained_and_from_config(tmp_path):
    """As the reference, add_pooling_layer=False reaches the model (the checkpoint's pooler is then unused)."""
    tiny_bert(tmp_path)
    for model, info in (
        BertModel.from_pretrained(tmp_path, add_pooling_layer=False, output_loading_info=True),
        AutoModel.from_pretrained(tmp_path, add_pooling_layer=False, output_loading_info=True),
    ):
        assert model.pooler is None and not hasattr(model.config, "add_pooling_layer")
        assert info.unexpected_keys == ["pooler.dense.bias", "pooler.dense.weight"]
        assert list(model(ids()[0]).keys()) == ["last_hidden_state"]
    assert AutoModel.from_config(BertConfig(**TINY), add_pooling_layer=False).pooler is None


GC_CASES = [
    ("GPT2Config", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4), "AutoModelForCausalLM", "h"),
    ("LlamaConfig", dict(_TINY_REF["llama"][1], num_key_value_heads=2), "AutoModelForCausalLM", "layers"),
    ("BertConfig", dict(TINY), "AutoModelForMaskedLM", "layer"),
    ("T5Config", dict(_TINY_REF["t5"][1], decoder_start_token_id=0), "AutoModelForSeq2SeqLM", "block"),
]


@pytest.mark.parametrize("cfg_name,fields,auto,layers", GC_CASES, ids=[c[0] for c in GC_CASES])
def test_gradient_checkpointing_recomputes_layers_with_the_same_gradients(
    tmp_path, cfg_name, fields, auto, layers
):
    transformers = pytest.importorskip("transformers")
    import pretrained

    getattr(transformers, auto).from_config(getattr(transformers, cfg_name)(**fields)).save_pretrained(
        tmp_path
    )
    plain, checkpointed = (getattr(pretrained, auto).from_pretrained(tmp_path).train() for _ in range(2))
    checkpointed.gradient_checkpointing_enable()
    assert checkpointed.is_gradient_checkpointing and not plain.is_gradient_checkpointing
    calls = []
    first = next(m for n, m in checkpointed.named_modules() if n.endswith(f"{layers}.0"))
    norm = next(m for m in first.modules() if "Norm" in type(m).__name__)  # called inside the layer
    norm.register_forward_pre_hook(lambda *_: calls.append(1))
    ids = torch.randint(1, 99, (2, 7), generator=torch.Generator().manual_seed(0))
    for model in (plain, checkpointed):
        torch.manual_seed(0)
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
    assert getattr(out, "past_key_values", None) is None  # no cache while checkpointing
    assert len(calls) >= 2  # the first layer ran again in the backward pass
    grads = dict(plain.named_parameters())
    for name, p in checkpointed.named_parameters():
        torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-6, rtol=0, msg=name)
    checkpointed.gradient_checkpointing_disable()
    assert not checkpointed.is_gradient_checkpointing and "forward" not in first.__dict__


def test_every_model_class_is_a_top_level_name():
    """`from pretrained import BertModel` works as `from transformers import BertModel` does: every class an
    Auto class can pick, and every family's config, is exported, and every export resolves."""
    import pretrained
    from pretrained.models.auto import MODEL_TYPES, _module

    for model_type in MODEL_TYPES:
        module = _module(model_type, "test")
        for name in module.TASK_CLASSES.values():
            assert getattr(pretrained, name) is getattr(module, name), (model_type, name)
    for name in pretrained.__all__:
        assert getattr(pretrained, name) is not None, name
    assert {"BertModel", "BertConfig", "Qwen2Model", "MistralForSequenceClassification"} <= set(
        dir(pretrained)
    )
    with pytest.raises(AttributeError, match="no attribute 'NotAModel'"):
        _ = pretrained.NotAModel


def test_header_length_that_shifts_the_data_is_refused(tmp_path):
    """A length field 2 bytes short still parses (the padding is spaces) but would shift every tensor: refused,
    as the safetensors library refuses it ('file not fully covered')."""
    tiny_bert(tmp_path)
    path = tmp_path / "model.safetensors"
    data = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    assert data[8 + n - 1 : 8 + n] == b" "
    data[:8] = struct.pack("<Q", n - 1)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="cover .* bytes of data but the file holds"):
        load_safetensors(path)
    _rewrite_header(path, lambda h: None)  # a valid header again, then a gap between two tensors
    data = path.read_bytes()
    path.write_bytes(data + b"\0" * 4)
    with pytest.raises(CheckpointError, match="cover .* bytes"):
        BertModel.from_pretrained(tmp_path)


def test_bool_shape_is_refused(tmp_path):
    tiny_bert(tmp_path)
    _rewrite_header(tmp_path / "model.safetensors", lambda h: h["pooler.dense.bias"].update(shape=[True, 32]))
    with pytest.raises(CheckpointError, match="invalid shape"):
        load_safetensors(tmp_path / "model.safetensors")


def test_unsigned_complex_and_fnuz_dtypes_round_trip_with_the_reference(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    tensors = {
        "u16": torch.tensor([0, 1, 65535], dtype=torch.uint16),
        "u32": torch.tensor([0, 2**32 - 1], dtype=torch.uint32),
        "u64": torch.tensor([2**63 + 5], dtype=torch.uint64),
        "c64": torch.tensor([1 + 2j, -0.5j], dtype=torch.complex64),
        "e4fnuz": torch.tensor([0.5, -2.0]).to(torch.float8_e4m3fnuz),
        "e5fnuz": torch.tensor([0.25, 3.0]).to(torch.float8_e5m2fnuz),
    }
    save_safetensors(tensors, tmp_path / "ours.safetensors")
    st.save_file(tensors, tmp_path / "ref.safetensors")
    for path in ("ours.safetensors", "ref.safetensors"):
        for name, t in load_safetensors(tmp_path / path).items():
            assert t.dtype == tensors[name].dtype
            assert t.view(torch.uint8).tolist() == tensors[name].view(torch.uint8).tolist()
    assert st.load_file(tmp_path / "ours.safetensors").keys() == tensors.keys()


def test_failed_sharded_save_keeps_the_earlier_checkpoint(tmp_path, monkeypatch):
    """A save that fails on its second shard leaves the earlier weights in place and no stray files."""
    import pretrained.weights as weights

    model = tiny_bert(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    calls = []

    def fail_second(tensors, path, metadata=None):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return save_safetensors(tensors, path, metadata)

    monkeypatch.setattr(weights, "save_safetensors", fail_second)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(model.state_dict(), tmp_path, max_shard_size="20KB")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    same_outputs(model, BertModel.from_pretrained(tmp_path))
    monkeypatch.undo()
    save_checkpoint(model.state_dict(), tmp_path, max_shard_size="20KB")
    assert not (tmp_path / "model.safetensors").exists()
    assert (tmp_path / "model.safetensors.index.json").exists()
    same_outputs(model, BertModel.from_pretrained(tmp_path))


def test_use_safetensors_false_takes_only_pytorch_model_bin(tmp_path):
    """As the reference: use_safetensors=False never falls back to model.safetensors (it raises there too)."""
    tiny_bert(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"use_safetensors=False: only pytorch_model.bin"):
        BertModel.from_pretrained(tmp_path, use_safetensors=False)


@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("shard", ["5GB", "20KB"])
def test_variant_file_names_as_the_reference(tmp_path, safe, shard):
    transformers = pytest.importorskip("transformers")
    from pretrained.weights import checkpoint_files, load_checkpoint

    cfg = transformers.BertConfig(**TINY)
    torch.manual_seed(0)
    ref = transformers.BertModel(cfg)
    ref.save_pretrained(tmp_path / "ref", variant="v2", safe_serialization=safe, max_shard_size=shard)
    state = {k: v.contiguous() for k, v in ref.state_dict().items()}
    save_checkpoint(state, tmp_path / "ours", max_shard_size=shard, safe_serialization=safe, variant="v2")
    names = sorted(p.name for p in (tmp_path / "ref").iterdir() if p.name != "config.json")
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == names
    for index in [n for n in names if ".index." in n]:
        ref_index, our_index = (json.loads((tmp_path / f / index).read_text()) for f in ("ref", "ours"))
        assert our_index["weight_map"] == ref_index["weight_map"]
    for folder in ("ref", "ours"):
        loaded = load_checkpoint(checkpoint_files(tmp_path / folder, variant="v2"))
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], state[k]) for k in state)
    with pytest.raises(FileNotFoundError, match="variant='v3'"):
        checkpoint_files(tmp_path / "ref", variant="v3")


def test_corrupt_pytorch_model_bin_is_a_checkpoint_error(tmp_path):
    """Corruption surfaces deep in the unpickler as UnicodeDecodeError, struct.error, IndexError...: one clear error."""
    BertConfig(**TINY).save_pretrained(tmp_path)
    path = tmp_path / "pytorch_model.bin"
    torch.save({"a": torch.randn(3)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    for cut in (52, 78, 338):  # legacy format cut short at the points that raised other errors
        path.write_bytes(data[:cut])
        with pytest.raises(
            CheckpointError, match=r"pytorch_model.bin: could not read .* truncated or corrupt"
        ):
            BertModel.from_pretrained(tmp_path)


def test_deeply_nested_safetensors_header_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "x.safetensors"
    header = b"[" * 100_000 + b"]" * 100_000
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError, match="header is not valid JSON"):
        load_safetensors(path)


def test_save_safetensors_refuses_what_the_format_cannot_hold(tmp_path):
    """Non-string metadata or a tensor named __metadata__ would write a file that no reader accepts."""
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match=r"metadata maps strings to strings; entries \['step'\]"):
        save_safetensors({"w": torch.ones(2)}, path, metadata={"format": "pt", "step": 3})
    with pytest.raises(ValueError, match="__metadata__"):
        save_safetensors({"w": torch.ones(2), "__metadata__": torch.ones(1)}, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    save_safetensors({"w": torch.ones(2)}, path, metadata={"step": "3"})
    st = pytest.importorskip("safetensors")
    with st.safe_open(path, "pt") as f:
        assert f.metadata() == {"format": "pt", "step": "3"}  # transformers refuses files without a format
        assert torch.equal(f.get_tensor("w"), torch.ones(2))


def test_loader_arguments_are_not_config_fields(tmp_path):
    """Hub and loader arguments (token, local_files_only, variant...) are consumed, never saved as config fields."""
    BertModel(BertConfig(**TINY)).save_pretrained(tmp_path / "m")
    hints = dict(local_files_only=True, token="x", force_download=False, _commit_hash="abc", from_tf=False)
    config = AutoConfig.from_pretrained(tmp_path / "m", **hints, hidden_dropout_prob=0.3)
    config.save_pretrained(tmp_path / "c")
    saved = json.loads((tmp_path / "c" / "config.json").read_text())
    assert saved["hidden_dropout_prob"] == 0.3 and not set(hints) & set(saved)
    model = AutoModel.from_pretrained(tmp_path / "m", **hints, mirror=None, code_revision=None)
    model.save_pretrained(tmp_path / "again")
    saved = json.loads((tmp_path / "again" / "config.json").read_text())
    assert not {*hints, "mirror", "code_revision"} & set(saved)


def test_variant_round_trip(tmp_path):
    """save_pretrained(variant=) names the files as the reference (model.v2.safetensors) and from_pretrained(variant=)
    reads them; without the variant the folder has no weights to load."""
    model = BertModel(BertConfig(**TINY)).eval()
    model.save_pretrained(tmp_path, variant="v2")
    assert (tmp_path / "model.v2.safetensors").is_file() and not (tmp_path / "model.safetensors").exists()
    again = AutoModel.from_pretrained(tmp_path, variant="v2")
    ids = torch.tensor([[2, 5, 7, 3]])
    with torch.no_grad():
        torch.testing.assert_close(again(ids).last_hidden_state, model(ids).last_hidden_state)
    with pytest.raises(FileNotFoundError):
        AutoModel.from_pretrained(tmp_path)
    transformers = pytest.importorskip("transformers")
    theirs = transformers.AutoModel.from_pretrained(tmp_path, variant="v2").eval()
    with torch.no_grad():
        torch.testing.assert_close(
            theirs(ids).last_hidden_state, model(ids).last_hidden_state, atol=1e-5, rtol=0
        )


def test_reference_optional_inputs_accepted_as_none():
    """head_mask and encoder_hidden_states (and kin), which scripts written for the reference pass as None, are
    accepted as None; a value is a clear NotImplementedError, not a TypeError from forward."""
    model = BertModel(BertConfig(**TINY)).eval()
    ids = torch.tensor([[2, 5, 7, 3]])
    with torch.no_grad():
        want = model(ids).last_hidden_state
        got = model(ids, head_mask=None, encoder_hidden_states=None, encoder_attention_mask=None)
    torch.testing.assert_close(got.last_hidden_state, want)
    with pytest.raises(NotImplementedError, match="BertModel does not support head_mask"):
        model(ids, head_mask=torch.ones(2, 4))


def test_saved_config_names_the_dtype_as_the_reference(tmp_path):
    """config.json says "dtype" (transformers >= 4.56's name), and "auto" loads read it back."""
    BertModel(BertConfig(**TINY)).to(torch.float16).save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["dtype"] == "float16" and "torch_dtype" not in saved
    assert AutoModel.from_pretrained(tmp_path, torch_dtype="auto").dtype == torch.float16
    transformers = pytest.importorskip("transformers")
    assert transformers.AutoModel.from_pretrained(tmp_path, dtype="auto").dtype == torch.float16
