"""Write GGUF v3 files: metadata, tensor infos, and tensor data quantized to the requested ggml types.

The file is written to a temporary file next to ``path`` and renamed into place, so an error never
leaves a half-written checkpoint behind.

>>> write_gguf("tiny.gguf", {"general.architecture": "llama"},
...            {"token_embd.weight": torch.randn(16, 32)}, types="Q8_0")  # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import logging
import os
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import torch

from .quantize import WRITABLE_TYPES, quantize
from .quants import ggml_type
from .reader import DEFAULT_ALIGNMENT, VALUE_TYPE_IDS, VALUE_TYPES

log = logging.getLogger(__name__)

ValueType = str | tuple[str, str]  # "uint32", or ("array", "int32")

# keys whose GGUF type llama.cpp checks; everything else is inferred from the Python value
KEY_TYPES: dict[str, ValueType] = {
    "general.alignment": "uint32",
    "general.file_type": "uint32",
    "general.quantization_version": "uint32",
    "tokenizer.ggml.token_type": ("array", "int32"),
    "tokenizer.ggml.scores": ("array", "float32"),
}
NATIVE_TYPES: dict[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int8: "I8",
    torch.int16: "I16",
    torch.int32: "I32",
    torch.int64: "I64",
}


@dataclass(frozen=True)
class GGUFValue:
    """A metadata value with an explicit GGUF type, e.g. ``GGUFValue(-1, "int32")``.

    >>> GGUFValue([1, 2], ("array", "uint8")).type
    ('array', 'uint8')
    """

    value: Any
    type: ValueType


def _infer_scalar(v: Any, key: str) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        if 0 <= v < 2**32:
            return "uint32"
        return "int32" if -(2**31) <= v < 0 else ("int64" if v < 0 else "uint64")
    if isinstance(v, float):
        return "float32"
    if isinstance(v, str):
        return "string"
    raise TypeError(f"GGUF metadata {key!r}: cannot store a value of type {type(v).__name__}")


def _infer(v: Any, key: str) -> ValueType:
    if isinstance(v, GGUFValue):
        return v.type
    if key in KEY_TYPES:
        return KEY_TYPES[key]
    if isinstance(v, (list, tuple)):
        if not v:
            return ("array", "uint32")
        kinds = {_infer_scalar(x, key) for x in v}
        if kinds <= {"uint32", "int32"} and len(kinds) == 2:
            return ("array", "int32")
        if len(kinds) != 1:
            raise TypeError(f"GGUF metadata {key!r}: array items of mixed types {sorted(kinds)}")
        return ("array", kinds.pop())
    return _infer_scalar(v, key)


def _pack_value(out: list[bytes], v: Any, vtype: ValueType, key: str) -> None:
    """Append the encoding of value ``v`` (without its type id) to ``out``."""
    if isinstance(vtype, tuple):
        item = vtype[1]
        out.append(struct.pack("<IQ", VALUE_TYPE_IDS[item], len(v)))
        fmt = VALUE_TYPES[VALUE_TYPE_IDS[item]][1]
        if fmt is not None:
            out.append(struct.pack(f"<{len(v)}{fmt}", *v))
        else:
            for x in v:
                _pack_value(out, x, item, key)
        return
    if vtype == "string":
        data = str(v).encode("utf-8")
        out.append(struct.pack("<Q", len(data)) + data)
        return
    if vtype not in VALUE_TYPE_IDS or vtype == "array":
        raise ValueError(f"GGUF metadata {key!r}: unknown value type {vtype!r}")
    try:
        out.append(struct.pack("<" + VALUE_TYPES[VALUE_TYPE_IDS[vtype]][1], v))
    except struct.error as e:
        raise ValueError(f"GGUF metadata {key!r}: {v!r} does not fit type {vtype}: {e}") from None


def _string(s: str) -> bytes:
    data = s.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _tensor_type(name: str, t: torch.Tensor, types: str | Mapping[str, str] | None) -> str:
    if isinstance(types, Mapping) and name in types:
        return ggml_type(types[name]).name
    if isinstance(types, str) and t.ndim >= 2:
        return ggml_type(types).name
    if t.dtype not in NATIVE_TYPES:
        raise TypeError(f"tensor {name!r}: dtype {t.dtype} has no GGUF type; give one in `types`")
    return "F32" if isinstance(types, str) else NATIVE_TYPES[t.dtype]


def write_gguf(
    path: str | os.PathLike[str],
    metadata: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor],
    types: str | Mapping[str, str] | None = None,
    *,
    metadata_types: Mapping[str, ValueType] | None = None,
) -> None:
    """Write a GGUF v3 file atomically.

    ``tensors`` are in PyTorch shape order (dims are reversed on disk, as GGUF wants). ``types`` picks
    each tensor's ggml type: None keeps the dtype (float32 -> F32, float16 -> F16, ...); a type name
    such as ``"Q4_K"`` applies to every tensor of 2+ dims (1-D ones stay F32, as llama.cpp keeps
    norms); a dict gives per-tensor types (others keep their dtype). Metadata value types are inferred
    (int -> uint32, float -> float32, ...) unless given by ``metadata_types`` (e.g. a reader's
    ``metadata_types``), by :class:`GGUFValue`, or by llama.cpp's conventions (``KEY_TYPES``).

    >>> write_gguf("w.gguf", {"general.architecture": "llama"}, {"w": torch.ones(2, 32)}, "Q4_0")  # doctest: +SKIP
    """
    path = os.fspath(path)
    align = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    alignment = align.value if isinstance(align, GGUFValue) else align
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise ValueError(f"general.alignment must be a power of two, got {alignment!r}")
    plan = []  # (name, tensor, type name, nbytes)
    for name, t in tensors.items():
        tname = _tensor_type(name, t, types)
        info = ggml_type(tname)
        if tname not in WRITABLE_TYPES:
            raise NotImplementedError(
                f"cannot write GGUF type {tname}; writable: {', '.join(WRITABLE_TYPES)}"
            )
        if t.ndim and t.shape[-1] % info.block_size:
            raise ValueError(
                f"tensor {name!r} of shape {list(t.shape)} cannot be stored as {tname}: "
                f"its last dimension must be a multiple of {info.block_size}"
            )
        plan.append((name, t, tname, t.numel() // info.block_size * info.type_size))
    header = _header(metadata, metadata_types or {}, plan, alignment)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header)
            _pad(fh, alignment)
            for name, t, tname, nbytes in plan:
                data = quantize(t.detach().cpu(), tname)
                if data.numel() != nbytes:  # pragma: no cover - a quantizer bug, not user input
                    raise RuntimeError(f"tensor {name!r}: encoded {data.numel()} bytes, expected {nbytes}")
                _write_bytes(fh, data)
                _pad(fh, alignment)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    log.info("wrote %s: %d tensors, %d metadata keys", path, len(plan), len(metadata))


def _header(
    metadata: Mapping[str, Any], metadata_types: Mapping[str, ValueType], plan: list, alignment: int
) -> bytes:
    out = [b"GGUF", struct.pack("<IQQ", 3, len(plan), len(metadata))]
    for key, v in metadata.items():
        vtype = metadata_types.get(key) or _infer(v, key)
        raw = v.value if isinstance(v, GGUFValue) else v
        type_id = VALUE_TYPE_IDS["array"] if isinstance(vtype, tuple) else VALUE_TYPE_IDS.get(vtype)
        if type_id is None:
            raise ValueError(f"GGUF metadata {key!r}: unknown value type {vtype!r}")
        out.append(_string(key) + struct.pack("<I", type_id))
        _pack_value(out, raw, vtype, key)
    offset = 0
    for name, t, tname, nbytes in plan:
        dims = list(reversed(t.shape)) or [1]
        out.append(_string(name) + struct.pack(f"<I{len(dims)}Q", len(dims), *dims))
        out.append(struct.pack("<IQ", ggml_type(tname).id, offset))
        offset += -(-nbytes // alignment) * alignment
    return b"".join(out)


def _pad(fh: BinaryIO, alignment: int) -> None:
    fh.write(b"\0" * (-fh.tell() % alignment))


def _write_bytes(fh: BinaryIO, data: torch.Tensor) -> None:
    data = data.contiguous()
    if data.numel():
        fh.write((ctypes.c_uint8 * data.numel()).from_address(data.data_ptr()))
