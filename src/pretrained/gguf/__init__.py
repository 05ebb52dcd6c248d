"""GGUF checkpoints (llama.cpp): read, dequantize, map to Hugging Face names/config/tokenizer, and write.

>>> from pretrained.gguf import read_gguf, gguf_config, gguf_tokenizer, iter_gguf_state_dict
>>> f = read_gguf("SmolLM2-135M-Instruct.Q4_1.gguf")  # doctest: +SKIP
>>> config = gguf_config(f)  # doctest: +SKIP
>>> tokenizer_json, tokenizer_config = gguf_tokenizer(f.metadata)  # doctest: +SKIP
>>> state_dict = dict(iter_gguf_state_dict(f, dtype=torch.float32))  # doctest: +SKIP
"""

from .mapping import (
    SUPPORTED_ARCHITECTURES,
    gguf_config,
    gguf_to_hf_name,
    hf_to_gguf_state_dict,
    iter_gguf_state_dict,
    permute_qk,
    unpermute_qk,
)
from .quantize import WRITABLE_TYPES, quantize
from .quants import SUPPORTED_TYPES, dequantize
from .reader import GGUFError, GGUFFile, GGUFTensorInfo, read_gguf
from .tokenizer import gguf_tokenizer
from .writer import GGUFValue, write_gguf

__all__ = [
    "GGUFError",
    "GGUFFile",
    "GGUFTensorInfo",
    "GGUFValue",
    "SUPPORTED_ARCHITECTURES",
    "SUPPORTED_TYPES",
    "WRITABLE_TYPES",
    "dequantize",
    "gguf_config",
    "gguf_to_hf_name",
    "gguf_tokenizer",
    "hf_to_gguf_state_dict",
    "iter_gguf_state_dict",
    "permute_qk",
    "quantize",
    "read_gguf",
    "unpermute_qk",
    "write_gguf",
]
