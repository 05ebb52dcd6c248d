"""Generation benchmark, ours vs the reference, each configuration in a fresh process (random weights).

- decoders (GPT-2-small and SmolLM-135M sizes): 128 new tokens from a 32-token prompt, greedy at batch 1 and 8,
  and 4 beams at batch 1: time to first token, new tokens/s, peak RSS.
- seq2seq (t5-small and bart-base sizes): 64 new tokens from a 256-token input, greedy at batch 1 and 8, 4 beams at batch 1.
Run: ``.venv/bin/python -m bench.bench_generation [--suite decoder|seq2seq|all] [--rounds N]``.

Peak RSS comes from a fresh process per library. Tokens/s and time to first token come from one process holding
both models, alternating ours and the reference's ``generate`` for ``--rounds`` rounds (order flipped each round):
on a shared machine whose memory bandwidth drifts, back-to-back pairs see the same conditions, so the median of the
per-round ratios is far steadier than two runs minutes apart. The table shows medians.
"""

from __future__ import annotations

import argparse

from bench.common import CACHE, PEAK_RSS, run_isolated

DECODERS = {
    "GPT-2 small (124M)": (
        "gpt2-small",
        "GPT2Config",
        dict(n_layer=12, n_embd=768, n_head=12, vocab_size=50257),
    ),
    "SmolLM-135M (Llama)": (
        "smollm-135m",
        "LlamaConfig",
        dict(
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            vocab_size=49152,
            max_position_embeddings=2048,
            tie_word_embeddings=True,
            rope_theta=10000.0,
        ),
    ),
}
SEQ2SEQ = {
    "t5-small size": (
        "t5-small",
        "T5Config",
        dict(d_model=512, d_ff=2048, num_layers=6, num_heads=8, vocab_size=32128, decoder_start_token_id=0),
    ),
    "bart-base size": (
        "bart-base",
        "BartConfig",
        dict(
            d_model=768,
            encoder_layers=6,
            decoder_layers=6,
            encoder_attention_heads=12,
            decoder_attention_heads=12,
            encoder_ffn_dim=3072,
            decoder_ffn_dim=3072,
            vocab_size=50265,
            forced_bos_token_id=None,
            forced_eos_token_id=None,
            no_repeat_ngram_size=0,
        ),
    ),
}
SUITES = {
    # suite: (models, Auto class, prompt length, new tokens, settings (label, batch, beams))
    "decoder": (
        DECODERS,
        "AutoModelForCausalLM",
        32,
        128,
        (("greedy, batch 1", 1, 1), ("greedy, batch 8", 8, 1), ("4 beams, batch 1", 1, 4)),
    ),
    "seq2seq": (
        SEQ2SEQ,
        "AutoModelForSeq2SeqLM",
        256,
        64,
        (
            ("greedy, batch 1", 1, 1),
            ("greedy, batch 8", 8, 1),
            ("4 beams, batch 1", 1, 4),
        ),
    ),
}

RUN = """
import json, time, torch
{rss}
torch.manual_seed(0)
{load}
ids = torch.randint(100, 1000, ({batch}, {prompt}))
kw = dict(do_sample=False, num_beams={beams}, pad_token_id=0, eos_token_id=None, length_penalty=1.0)
with torch.inference_mode():
    model.generate(ids[:, :8], max_new_tokens=4, **kw)  # warm-up
    t = time.perf_counter(); model.generate(ids, max_new_tokens=1, **kw); ttft = time.perf_counter() - t
    t = time.perf_counter(); out = model.generate(ids, max_new_tokens={new}, min_new_tokens={new}, **kw)
    dt = time.perf_counter() - t
assert out.shape[0] == {batch} and out.shape[1] >= {new}, out.shape
print(json.dumps([ttft, {batch} * {new} / dt, peak_mb()]))
"""

LOADERS = {
    "ours": "import pretrained; model = pretrained.{auto}.from_pretrained({p!r})",
    "ref": "import transformers; model = transformers.{auto}.from_pretrained({p!r}).eval()",
}


PAIRED = """
import json, time, statistics, torch
import pretrained, transformers
torch.manual_seed(0)
ours = pretrained.{auto}.from_pretrained({p!r})
ref = transformers.{auto}.from_pretrained({p!r}).eval()
ids = torch.randint(100, 1000, ({batch}, {prompt}))
kw = dict(do_sample=False, num_beams={beams}, pad_token_id=0, eos_token_id=None, length_penalty=1.0)
rates, ttft = {{"ours": [], "ref": []}}, {{"ours": [], "ref": []}}
with torch.inference_mode():
    for m in (ours, ref):
        m.generate(ids[:, :8], max_new_tokens=4, **kw)  # warm-up
    for r in range({rounds}):
        for name in (("ours", "ref") if r % 2 == 0 else ("ref", "ours")):
            m = ours if name == "ours" else ref
            t = time.perf_counter()
            m.generate(ids, max_new_tokens=1, **kw)
            ttft[name].append(time.perf_counter() - t)
            t = time.perf_counter()
            out = m.generate(ids, max_new_tokens={new}, min_new_tokens={new}, **kw)
            rates[name].append({batch} * {new} / (time.perf_counter() - t))
            assert out.shape[0] == {batch} and out.shape[1] >= {new}, out.shape
ratios = [a / b for a, b in zip(rates["ours"], rates["ref"])]
med = statistics.median
print(json.dumps([med(rates["ours"]), med(rates["ref"]), med(ratios), med(ttft["ours"]), med(ttft["ref"])]))
"""


def make_checkpoint(folder: str, config_class: str, kwargs: dict, auto: str) -> str:
    path = CACHE / folder
    if not (path / "config.json").is_file():
        import torch
        import transformers

        torch.manual_seed(0)
        config = getattr(transformers, config_class)(**kwargs)
        getattr(transformers, auto).from_config(config).save_pretrained(path)
    return str(path)


def measure(path: str, lib: str, auto: str, prompt: int, batch: int, beams: int, new: int) -> list[float]:
    load = LOADERS[lib].format(p=path, auto=auto)
    return run_isolated(RUN.format(rss=PEAK_RSS, load=load, prompt=prompt, batch=batch, beams=beams, new=new))


def paired_rates(
    path: str, auto: str, prompt: int, batch: int, beams: int, new: int, rounds: int
) -> list[float]:
    """[ours tokens/s, reference tokens/s, median per-round ratio, ours TTFT s, reference TTFT s]: medians, both
    models alternating in one process."""
    code = PAIRED.format(p=path, auto=auto, prompt=prompt, batch=batch, beams=beams, new=new, rounds=rounds)
    return run_isolated(code)


def suite(name: str, rounds: int = 5, only: str = "") -> str:
    models, auto, prompt, new, settings = SUITES[name]
    if only:  # --models: checkpoint folder names to keep
        models = {k: v for k, v in models.items() if v[0] in only.split(",")}
    lines = [f"### Generation ({name}): {new} new tokens from a {prompt}-token input (random weights)", ""]
    lines += [
        f"Tokens/s and TTFT: medians of {rounds} alternating rounds in one process; ratio: median per-round ratio.",
        "",
    ]
    lines += [
        "| model | setting | tokens/s ours | tokens/s ref | ratio | TTFT ours | TTFT ref | peak RSS ours | peak RSS ref |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|---|"]
    for model_name, (folder, config_class, kwargs) in models.items():
        path = make_checkpoint(folder, config_class, kwargs, auto)
        for label, batch, beams in settings:
            o = measure(path, "ours", auto, prompt, batch, beams, new)
            r = measure(path, "ref", auto, prompt, batch, beams, new)
            o[1], r[1], ratio, o[0], r[0] = paired_rates(path, auto, prompt, batch, beams, new, rounds)
            lines.append(
                f"| {model_name} | {label} | {o[1]:.1f} | {r[1]:.1f} | {ratio:.2f}x | {o[0] * 1000:.0f} ms | "
                f"{r[0] * 1000:.0f} ms | {o[2]:.0f} MB | {r[2]:.0f} MB |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds for tokens/s (median)")
    parser.add_argument(
        "--models", default="", help="comma-separated subset: gpt2-small,smollm-135m,t5-small,bart-base"
    )
    args = parser.parse_args()
    names = list(SUITES) if args.suite == "all" else [args.suite]
    out = "\n\n".join(suite(n, args.rounds, args.models) for n in names)
    print(out)
    return out


if __name__ == "__main__":
    main()
