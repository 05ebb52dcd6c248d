"""Tiny BERT-family configs, padded batches, labels and output comparison for the encoder parity tests.

The reference (transformers) is imported lazily by the callers, so this module imports without it.
"""

from __future__ import annotations

from typing import Any

import torch

import pretrained

_BERT = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=64,
)
# model_type -> tiny config fields (2 layers, hidden 32, 4 heads) in the reference's own field names
TINY: dict[str, dict[str, Any]] = {
    "bert": _BERT,
    "distilbert": dict(
        vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64
    ),
    "roberta": {**_BERT, "type_vocab_size": 1},
    "xlm-roberta": {**_BERT, "type_vocab_size": 1},
    "electra": {**_BERT, "embedding_size": 16},
}
ARCHS = list(TINY)
# class name prefixes, the same in both libraries
PREFIX = {"bert": "Bert", "distilbert": "DistilBert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta",
          "electra": "Electra"}  # fmt: skip
SUFFIX = {
    "base": "Model",
    "masked-lm": "ForMaskedLM",
    "sequence-classification": "ForSequenceClassification",
    "token-classification": "ForTokenClassification",
    "question-answering": "ForQuestionAnswering",
    "pretraining": "ForPreTraining",
}
TASKS = ["base", "masked-lm", "sequence-classification", "token-classification", "question-answering"]
CASES = [(a, t) for a in ARCHS for t in TASKS] + [("electra", "pretraining")]
# our Auto class per task
AUTO = {
    "base": "AutoModel",
    "masked-lm": "AutoModelForMaskedLM",
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "pretraining": "AutoModelForPreTraining",
}
PAD = {"bert": 0, "distilbert": 0, "roberta": 1, "xlm-roberta": 1, "electra": 0}
HAS_TOKEN_TYPES = {"bert", "electra"}
LENGTHS = (8, 5, 3)  # right padding: rows of 8, 5 and 3 real tokens


def reference_class(arch: str, task: str) -> type:
    import transformers

    return getattr(transformers, PREFIX[arch] + SUFFIX[task])


def reference_config(arch: str, **overrides: Any):
    import transformers

    return transformers.AutoConfig.for_model(arch, **{**TINY[arch], **overrides})


def our_config(arch: str, **overrides: Any) -> pretrained.PretrainedConfig:
    return pretrained.AutoConfig.for_model(arch, **{**TINY[arch], **overrides})


def build_reference(arch: str, task: str, seed: int = 0, **overrides: Any):
    """A randomly initialized reference model in eval mode (eager attention is not forced: SDPA as by default)."""
    torch.manual_seed(seed)
    return reference_class(arch, task)(reference_config(arch, **overrides)).eval()


def batch(arch: str, seed: int = 1) -> dict[str, torch.Tensor]:
    """A right-padded batch (3 rows, lengths 8/5/3) with attention_mask, and token_type_ids where the model has them."""
    g = torch.Generator().manual_seed(seed)
    B, T = len(LENGTHS), max(LENGTHS)
    mask = (torch.arange(T)[None, :] < torch.tensor(LENGTHS)[:, None]).long()  # (B, T)
    ids = torch.randint(3, TINY[arch]["vocab_size"], (B, T), generator=g).masked_fill(mask == 0, PAD[arch])
    out = {"input_ids": ids, "attention_mask": mask}
    if arch in HAS_TOKEN_TYPES:
        out["token_type_ids"] = (torch.arange(T)[None, :] >= 2).long() * mask  # segment B from position 2
    return out


def labels_for(task: str, arch: str, num_labels: int = 2, problem_type: str | None = None, seed: int = 2):
    """The label arguments of ``task`` for :func:`batch`'s inputs (-100 on padding where the loss is per token)."""
    g = torch.Generator().manual_seed(seed)
    B, T = len(LENGTHS), max(LENGTHS)
    pads = torch.arange(T)[None, :] >= torch.tensor(LENGTHS)[:, None]  # (B, T)
    if task == "masked-lm":
        labels = torch.randint(0, TINY[arch]["vocab_size"], (B, T), generator=g).masked_fill(pads, -100)
        labels[0, 1] = -100
        return {"labels": labels}
    if task == "token-classification":
        return {"labels": torch.randint(0, num_labels, (B, T), generator=g).masked_fill(pads, -100)}
    if task == "pretraining":
        return {"labels": torch.randint(0, 2, (B, T), generator=g)}
    if task == "question-answering":
        return {
            "start_positions": torch.tensor([1, 0, 2]),
            "end_positions": torch.tensor([3, 4, 30]),  # 30 is outside the input: ignored
        }
    if task == "sequence-classification":
        if problem_type == "regression" or num_labels == 1:
            return {"labels": torch.randn(B, num_labels, generator=g).squeeze(-1)}
        if problem_type == "multi_label_classification":
            return {"labels": torch.randint(0, 2, (B, num_labels), generator=g).float()}
        return {"labels": torch.randint(0, num_labels, (B,), generator=g)}
    return {}


def assert_outputs_close(ours: Any, theirs: Any, atol: float = 1e-5, skip: tuple[str, ...] = ()) -> None:
    """Every field the reference sets (but ``skip``) is set by us too (same names), and equal within ``atol``."""
    keys = [k for k in theirs.keys() if k not in skip]
    assert [k for k in ours.keys() if k not in skip] == keys, (list(ours.keys()), list(theirs.keys()))
    for key in keys:
        a, b = ours[key], theirs[key]
        if isinstance(b, tuple):
            assert isinstance(a, tuple) and len(a) == len(b), key
            for i, (x, y) in enumerate(zip(a, b)):
                torch.testing.assert_close(
                    x, y, atol=atol, rtol=0, msg=lambda m, k=key, i=i: f"{k}[{i}]: {m}"
                )
        else:
            torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=lambda m, k=key: f"{k}: {m}")


def run_both(ours, theirs, inputs: dict[str, torch.Tensor]) -> tuple[Any, Any]:
    with torch.no_grad():
        return ours(**inputs), theirs(**inputs)
