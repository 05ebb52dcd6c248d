"""Map GGUF checkpoints to the Hugging Face layout: config.json fields, weight names, weight layout.

Follows ``transformers.modeling_gguf_pytorch_utils.load_gguf_checkpoint`` (4.57): the same config keys and
values, the same state-dict names, and llama.cpp's q/k row permutation undone the same way.

>>> f = read_gguf("SmolLM2-135M-Instruct.Q4_1.gguf")  # doctest: +SKIP
>>> gguf_config(f.metadata)["num_key_value_heads"]  # doctest: +SKIP
3
>>> for name, w in iter_gguf_state_dict(f):  # doctest: +SKIP
...     model.load_state_dict({name: w}, strict=False)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from .reader import GGUFFile

log = logging.getLogger(__name__)

# per architecture: GGUF metadata key (after "<arch>.") -> HF config.json field
_DECODER_KEYS = {
    "context_length": "max_position_embeddings",
    "block_count": "num_hidden_layers",
    "feed_forward_length": "intermediate_size",
    "embedding_length": "hidden_size",
    "rope.freq_base": "rope_theta",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "attention.layer_norm_rms_epsilon": "rms_norm_eps",
    "vocab_size": "vocab_size",
}
CONFIG_KEYS: dict[str, dict[str, str]] = {
    "llama": {**_DECODER_KEYS, "rope.dimension_count": "head_dim"},
    "mistral": {**_DECODER_KEYS, "rope.dimension_count": "head_dim"},
    "qwen2": dict(_DECODER_KEYS),
    "gpt2": {
        "block_count": "n_layer",
        "context_length": "n_ctx",
        "embedding_length": "n_embd",
        "feed_forward_length": "feed_forward_length",
        "attention.head_count": "n_head",
        "attention.layer_norm_epsilon": "layer_norm_epsilon",
    },
}
# fields transformers leaves out but a model needs: HF field -> the GGUF key (after "<arch>.") it comes from
EXTRA_CONFIG_KEYS: dict[str, dict[str, str]] = {
    "gpt2": {"n_positions": "context_length", "n_inner": "feed_forward_length"},
}
TOKEN_ID_KEYS = {
    "tokenizer.ggml.bos_token_id": "bos_token_id",
    "tokenizer.ggml.eos_token_id": "eos_token_id",
    "tokenizer.ggml.unknown_token_id": "unk_token_id",
    "tokenizer.ggml.padding_token_id": "pad_token_id",
}

_LLAMA_TENSORS = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "blk.{}.attn_norm.weight": "model.layers.{}.input_layernorm.weight",
    "blk.{}.attn_q.weight": "model.layers.{}.self_attn.q_proj.weight",
    "blk.{}.attn_k.weight": "model.layers.{}.self_attn.k_proj.weight",
    "blk.{}.attn_v.weight": "model.layers.{}.self_attn.v_proj.weight",
    "blk.{}.attn_output.weight": "model.layers.{}.self_attn.o_proj.weight",
    "blk.{}.ffn_norm.weight": "model.layers.{}.post_attention_layernorm.weight",
    "blk.{}.ffn_gate.weight": "model.layers.{}.mlp.gate_proj.weight",
    "blk.{}.ffn_up.weight": "model.layers.{}.mlp.up_proj.weight",
    "blk.{}.ffn_down.weight": "model.layers.{}.mlp.down_proj.weight",
}
_GPT2_TENSORS = {
    "token_embd.weight": "transformer.wte.weight",
    "position_embd.weight": "transformer.wpe.weight",
    "output_norm.weight": "transformer.ln_f.weight",
    "output_norm.bias": "transformer.ln_f.bias",
    "output.weight": "lm_head.weight",
    **{
        f"blk.{{}}.{g}.{p}": f"transformer.h.{{}}.{h}.{p}"
        for g, h in [
            ("attn_norm", "ln_1"),
            ("attn_qkv", "attn.c_attn"),
            ("attn_output", "attn.c_proj"),
            ("ffn_norm", "ln_2"),
            ("ffn_up", "mlp.c_fc"),
            ("ffn_down", "mlp.c_proj"),
        ]
        for p in ("weight", "bias")
    },
}
# per architecture: GGUF tensor name ("{}" = block index) -> HF state-dict name
TENSOR_NAMES: dict[str, dict[str, str]] = {
    "llama": _LLAMA_TENSORS,
    "mistral": _LLAMA_TENSORS,
    "qwen2": {
        **_LLAMA_TENSORS,
        **{f"blk.{{}}.attn_{x}.bias": f"model.layers.{{}}.self_attn.{x}_proj.bias" for x in "qkv"},
    },
    "gpt2": _GPT2_TENSORS,
}
# GGUF tensors stored (out, in) where the HF module keeps (in, out): GPT-2's Conv1D
TRANSPOSED: dict[str, set[str]] = {
    "gpt2": {f"blk.{{}}.{x}.weight" for x in ("attn_qkv", "attn_output", "ffn_up", "ffn_down")},
}
# GGUF tensors with llama.cpp's rotary row permutation -> which head count it was done with
PERMUTED: dict[str, dict[str, str]] = {
    "llama": {"blk.{}.attn_q.weight": "q", "blk.{}.attn_k.weight": "kv"},
    "mistral": {"blk.{}.attn_q.weight": "q", "blk.{}.attn_k.weight": "kv"},
}
# tensors llama.cpp derives or adds that have no Hugging Face parameter
IGNORED_TENSORS = {"rope_freqs.weight"}
SUPPORTED_ARCHITECTURES = tuple(TENSOR_NAMES)


def _template(name: str) -> tuple[str, str | None]:
    """``"blk.3.attn_q.weight"`` -> (``"blk.{}.attn_q.weight"``, ``"3"``)."""
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "blk" and parts[1].isdigit():
        return ".".join(["blk", "{}", *parts[2:]]), parts[1]
    return name, None


def _architecture(metadata: Mapping[str, Any]) -> str:
    arch = metadata.get("general.architecture")
    if arch is None:
        raise ValueError("GGUF metadata has no general.architecture; cannot tell which model this is")
    if arch not in CONFIG_KEYS:
        raise ValueError(
            f"GGUF architecture {arch!r} is not supported; supported: {', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    return arch


def gguf_config(
    metadata: Mapping[str, Any] | GGUFFile, tensor_names: list[str] | None = None
) -> dict[str, Any]:
    """A config.json-style dict for the model in a GGUF file, as transformers derives it.

    ``metadata`` is a :class:`GGUFFile` or its ``.metadata``. The tensor names (taken from the file, or
    given as ``tensor_names``) decide ``tie_word_embeddings``: True when there is no ``output.weight``;
    with neither, the field is left out. ``rope_scaling`` is added when the file has
    ``<arch>.rope.scaling.type`` (transformers ignores it); for gpt2, ``n_positions`` and ``n_inner``
    are added too (transformers only sets ``n_ctx`` and ``feed_forward_length``).

    >>> meta = {"general.architecture": "llama", "llama.block_count": 2, "llama.embedding_length": 64,
    ...         "llama.attention.head_count": 4, "tokenizer.ggml.bos_token_id": 1}
    >>> cfg = gguf_config(meta, ["token_embd.weight"])
    >>> cfg["model_type"], cfg["num_hidden_layers"], cfg["tie_word_embeddings"], cfg["bos_token_id"]
    ('llama', 2, True, 1)
    """
    if isinstance(metadata, GGUFFile):
        tensor_names = list(metadata.tensors) if tensor_names is None else tensor_names
        metadata = metadata.metadata
    arch = _architecture(metadata)
    model_type = arch
    if arch == "llama" and metadata.get("general.name") == "mistral":
        model_type = "mistral"  # transformers' rule: a llama-architecture file named exactly "mistral"
    config: dict[str, Any] = {}
    if tensor_names is not None:
        config["tie_word_embeddings"] = "output.weight" not in tensor_names
    config["model_type"] = model_type
    if "general.name" in metadata:
        config["_model_name_or_path"] = metadata["general.name"]
    for key, field in CONFIG_KEYS[model_type].items():
        if f"{arch}.{key}" in metadata:
            config[field] = _scalar(metadata[f"{arch}.{key}"])
    for key, field in TOKEN_ID_KEYS.items():
        if key in metadata:
            config[field] = _scalar(metadata[key])
    for field, key in EXTRA_CONFIG_KEYS.get(arch, {}).items():
        if f"{arch}.{key}" in metadata:
            config[field] = _scalar(metadata[f"{arch}.{key}"])
    if "vocab_size" not in config and "tokenizer.ggml.tokens" in metadata:
        config["vocab_size"] = len(metadata["tokenizer.ggml.tokens"])
    rope_scaling = _rope_scaling(metadata, arch)
    if rope_scaling is not None:
        config["rope_scaling"] = rope_scaling
    return config


def _scalar(value: Any) -> Any:
    """A one-element array stands for its element, as transformers reads GGUF metadata (``[2]`` -> ``2``)."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _rope_scaling(metadata: Mapping[str, Any], arch: str) -> dict[str, Any] | None:
    kind = metadata.get(f"{arch}.rope.scaling.type")
    if kind in (None, "none"):
        return None
    if kind not in ("linear", "yarn"):
        raise NotImplementedError(f"GGUF {arch}.rope.scaling.type {kind!r} is not supported (linear, yarn)")
    scaling: dict[str, Any] = {"rope_type": kind, "factor": metadata.get(f"{arch}.rope.scaling.factor", 1.0)}
    original = metadata.get(f"{arch}.rope.scaling.original_context_length")
    if original is not None:
        scaling["original_max_position_embeddings"] = original
    return scaling


def unpermute_qk(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """Undo llama.cpp's rotary permutation of q/k rows (rows are (head, pair, half) -> (head, half, pair)).

    >>> w = torch.arange(8.0).view(8, 1)
    >>> unpermute_qk(permute_qk(w, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """
    _check_heads(w, n_head)
    half = w.shape[0] // n_head // 2
    rest = w.shape[1:]
    return w.reshape(n_head, half, 2, *rest).transpose(1, 2).reshape(w.shape)  # (out, *rest)


def _check_heads(w: torch.Tensor, n_head: object) -> None:
    if not isinstance(n_head, int) or isinstance(n_head, bool) or n_head <= 0 or w.shape[0] % (2 * n_head):
        raise ValueError(
            f"cannot split {w.shape[0]} q/k rows into {n_head!r} heads of (pairs of) rotary rows: the GGUF "
            "attention.head_count / head_count_kv metadata does not fit the tensor shapes (corrupt file?)"
        )


def permute_qk(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """llama.cpp's permutation of q/k rows, as ``convert_hf_to_gguf.py`` applies it (inverse of unpermute_qk).

    >>> permute_qk(torch.arange(4.0), 1).tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    _check_heads(w, n_head)
    half = w.shape[0] // n_head // 2
    rest = w.shape[1:]
    return w.reshape(n_head, 2, half, *rest).transpose(1, 2).reshape(w.shape)  # (out, *rest)


def _heads(metadata: Mapping[str, Any], arch: str) -> dict[str, int]:
    n_head = _scalar(metadata.get(f"{arch}.attention.head_count"))
    if n_head is None:
        raise ValueError(f"GGUF metadata has no {arch}.attention.head_count; needed to un-permute q/k")
    return {"q": n_head, "kv": _scalar(metadata.get(f"{arch}.attention.head_count_kv", n_head))}


def gguf_to_hf_name(name: str, architecture: str) -> str | None:
    """The Hugging Face state-dict name of GGUF tensor ``name``, or None if it has none.

    >>> gguf_to_hf_name("blk.7.attn_q.weight", "llama")
    'model.layers.7.self_attn.q_proj.weight'
    """
    template, idx = _template(name)
    hf = TENSOR_NAMES[architecture].get(template)
    return None if hf is None else hf.format(idx)


def iter_gguf_state_dict(
    path_or_file: str | os.PathLike[str] | GGUFFile, dtype: torch.dtype = torch.float32
) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(hf_name, tensor)`` for each weight of a GGUF file, decoded one at a time, in file order.

    Each tensor is dequantized to ``dtype`` and put in the Hugging Face layout (q/k un-permuted for
    llama; GPT-2's Conv1D weights transposed). A caller that copies each tensor into its model as it
    comes keeps peak memory near the model size. Tensors with no HF counterpart are skipped with a
    warning. A truncated file raises before anything is yielded. A path is opened and closed here.

    >>> sd = dict(iter_gguf_state_dict("SmolLM2-135M-Instruct.Q4_1.gguf"))  # doctest: +SKIP
    >>> sd["model.layers.0.self_attn.q_proj.weight"].shape  # doctest: +SKIP
    torch.Size([576, 576])
    """
    f = path_or_file if isinstance(path_or_file, GGUFFile) else GGUFFile(path_or_file)
    try:
        arch = _architecture(f.metadata)
        f.validate()
        names, transposed = TENSOR_NAMES[arch], TRANSPOSED.get(arch, set())
        permuted = PERMUTED.get(arch, {})
        heads = _heads(f.metadata, arch) if permuted else {}
        skipped = []
        for name in f.tensors:
            template, idx = _template(name)
            if template not in names:
                skipped.append(name)
                continue
            w = f.load(name, dtype=dtype)
            if template in permuted:
                w = unpermute_qk(w, heads[permuted[template]])
            if template in transposed:
                w = w.t().contiguous()
            yield names[template].format(idx), w
        unknown = [n for n in skipped if n not in IGNORED_TENSORS]
        if unknown:
            log.warning(
                "%s: skipped %d GGUF tensors with no %s counterpart: %s", f.path, len(unknown), arch, unknown
            )
    finally:
        if f is not path_or_file:
            f.close()


def hf_to_gguf_state_dict(
    state_dict: Mapping[str, torch.Tensor], architecture: str, n_head: int, n_kv_head: int | None = None
) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face state dict to GGUF names, permuting q/k and transposing as llama.cpp does.

    The inverse of :func:`iter_gguf_state_dict`'s mapping.

    >>> sd = {"model.layers.0.self_attn.q_proj.weight": torch.eye(4)}
    >>> list(hf_to_gguf_state_dict(sd, "llama", n_head=1))
    ['blk.0.attn_q.weight']
    """
    if architecture not in TENSOR_NAMES:
        raise ValueError(
            f"architecture {architecture!r} is not supported; supported: {', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    inverse = {hf: g for g, hf in TENSOR_NAMES[architecture].items()}
    heads = {"q": n_head, "kv": n_kv_head or n_head}
    permuted, transposed = PERMUTED.get(architecture, {}), TRANSPOSED.get(architecture, set())
    out = {}
    for hf_name, w in state_dict.items():
        parts = hf_name.split(".")
        idx = next((p for p in parts if p.isdigit()), None)
        template = ".".join("{}" if p == idx else p for p in parts)
        g = inverse.get(template)
        if g is None:
            raise KeyError(f"no GGUF name for {hf_name!r} in architecture {architecture!r}")
        if g in transposed:
            w = w.t().contiguous()
        if g in permuted:
            w = permute_qk(w, heads[permuted[g]])
        out[g.format(idx)] = w
    return out
