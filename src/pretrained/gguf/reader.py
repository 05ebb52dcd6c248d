"""Read GGUF v2/v3 files: header, metadata, tensor infos; tensors are decoded only when asked for.

The file is memory-mapped (copy-on-write, so torch can wrap it without a copy); nothing past the header
is read until :meth:`GGUFFile.load` asks for a tensor.

>>> f = read_gguf("model.Q4_K_M.gguf")  # doctest: +SKIP
>>> f.architecture, f.metadata["llama.block_count"], f.tensors["token_embd.weight"].shape  # doctest: +SKIP
('llama', 30, (49152, 576))
>>> f.load("token_embd.weight").shape  # doctest: +SKIP
torch.Size([49152, 576])
"""

from __future__ import annotations

import logging
import math
import mmap
import os
import struct
from array import array
from dataclasses import dataclass
from typing import Any

import torch

from .quants import GGML_TYPES, SUPPORTED_TYPES, dequantize

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NESTING = 16  # arrays of arrays: real files use one level

# GGUF metadata value type id -> (name, struct format or None for string/array)
VALUE_TYPES: dict[int, tuple[str, str | None]] = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    8: ("string", None),
    9: ("array", None),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
VALUE_TYPE_IDS: dict[str, int] = {name: i for i, (name, _) in VALUE_TYPES.items()}


class GGUFError(ValueError):
    """A GGUF file that cannot be read: bad magic, unsupported version, truncated, or malformed."""


@dataclass(frozen=True)
class GGUFTensorInfo:
    """Where one tensor lives in the file. ``shape`` is in PyTorch order (GGUF stores dims reversed).

    >>> GGUFTensorInfo("w", (4, 32), "Q8_0", 0, 136).n_elements
    128
    """

    name: str
    shape: tuple[int, ...]
    ggml_type: str  # ggml type name, e.g. "Q4_K"
    offset: int  # absolute byte offset in the file
    nbytes: int

    @property
    def n_elements(self) -> int:
        return math.prod(self.shape)


class _Cursor:
    """Sequential little-endian reads over the mapped header, with errors that name the file."""

    def __init__(self, buf: mmap.mmap, path: str):
        self.buf, self.path, self.pos = buf, path, 0

    def take(self, n: int, what: str) -> int:
        start = self.pos
        if start + n > len(self.buf):
            raise GGUFError(
                f"{self.path}: truncated GGUF header while reading {what} at byte {start}: "
                f"need {n} bytes, file has {len(self.buf)}"
            )
        self.pos += n
        return start

    def scalar(self, fmt: str, what: str) -> Any:
        size = struct.calcsize("<" + fmt)
        return struct.unpack_from("<" + fmt, self.buf, self.take(size, what))[0]

    def string(self, what: str) -> str:
        n = self.scalar("Q", what)
        start = self.take(n, what)
        return bytes(self.buf[start : start + n]).decode("utf-8", errors="replace")

    def value(self, type_id: int, what: str, depth: int = 0) -> tuple[Any, str | tuple[str, str]]:
        """One metadata value and its type name (``("array", item_type)`` for arrays)."""
        if depth > MAX_NESTING:
            raise GGUFError(
                f"{self.path}: {what} nests arrays more than {MAX_NESTING} deep; the file is corrupt"
            )
        if type_id not in VALUE_TYPES:
            raise GGUFError(f"{self.path}: unknown metadata value type {type_id} for {what}")
        name, fmt = VALUE_TYPES[type_id]
        if fmt is not None:
            return self.scalar(fmt, what), name
        if name == "string":
            return self.string(what), name
        item_id, count = self.scalar("I", what), self.scalar("Q", what)
        if item_id not in VALUE_TYPES:
            raise GGUFError(f"{self.path}: unknown array item type {item_id} for {what}")
        item_name, item_fmt = VALUE_TYPES[item_id]
        if item_fmt is not None:  # numeric array: one bulk read
            size = struct.calcsize("<" + item_fmt)
            start = self.take(size * count, what)
            items = array(item_fmt.replace("?", "B"), bytes(self.buf[start : start + size * count]))
            values = [bool(v) for v in items] if item_fmt == "?" else items.tolist()
            return values, ("array", item_name)
        if item_name == "string":
            return self._strings(count, what), ("array", item_name)
        return [self.value(item_id, what, depth + 1)[0] for _ in range(count)], ("array", item_name)

    def _strings(self, count: int, what: str) -> list[str]:
        """An array of strings (vocabularies: ~100k entries), read in one tight loop."""
        buf, pos, size, out = self.buf, self.pos, len(self.buf), []
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > size:
                break
            (n,) = unpack(buf, pos)
            if pos + 8 + n > size:
                break
            out.append(buf[pos + 8 : pos + 8 + n].decode("utf-8", errors="replace"))
            pos += 8 + n
        self.pos = pos
        if len(out) < count:
            self.take(size - pos + 1, f"{what}[{len(out)}]")  # raises the truncation error
        return out


class GGUFFile:
    """A memory-mapped GGUF file.

    Attributes: ``path``, ``version``, ``metadata`` (key -> Python value; arrays are lists),
    ``metadata_types`` (key -> GGUF value type name), ``tensors`` (name -> :class:`GGUFTensorInfo`, in
    file order), ``alignment`` and ``data_offset``.

    >>> with GGUFFile("model.gguf") as f:  # doctest: +SKIP
    ...     w = f.load("blk.0.attn_q.weight", dtype=torch.bfloat16)
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise GGUFError(f"{self.path}: empty file, not a GGUF checkpoint")
            self._map: mmap.mmap | None = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
        try:
            self._parse_header()
        except BaseException:
            self.close()
            raise

    def _parse_header(self) -> None:
        cur = _Cursor(self._map, self.path)
        magic = bytes(self._map[:4])
        if magic != GGUF_MAGIC:
            raise GGUFError(f"{self.path}: not a GGUF file (magic {magic!r}, expected {GGUF_MAGIC!r})")
        cur.pos = 4
        self.version = cur.scalar("I", "version")
        if self.version not in SUPPORTED_VERSIONS:
            hint = " (this looks like a big-endian GGUF)" if self.version & 0xFFFF == 0 else ""
            raise GGUFError(
                f"{self.path}: unsupported GGUF version {self.version}{hint}; "
                f"supported versions: {', '.join(map(str, SUPPORTED_VERSIONS))} (little-endian)"
            )
        n_tensors, n_kv = cur.scalar("Q", "tensor count"), cur.scalar("Q", "metadata count")
        self.metadata: dict[str, Any] = {}
        self.metadata_types: dict[str, str | tuple[str, str]] = {}
        for i in range(n_kv):
            key = cur.string(f"metadata key #{i}")
            if key in self.metadata:
                raise GGUFError(f"{self.path}: metadata key {key[:80]!r} appears twice; the file is corrupt")
            self.metadata[key], self.metadata_types[key] = cur.value(cur.scalar("I", key), key)
        infos = [self._tensor_info(cur, i) for i in range(n_tensors)]
        self.alignment = self._alignment()
        self.data_offset = -(-cur.pos // self.alignment) * self.alignment
        self.tensors: dict[str, GGUFTensorInfo] = {}
        for name, shape, type_id, rel in infos:
            if name in self.tensors:
                raise GGUFError(f"{self.path}: tensor {name[:80]!r} appears twice; the file is corrupt")
            t = GGML_TYPES.get(type_id)
            if t is None:
                raise GGUFError(
                    f"{self.path}: tensor {name!r} has unknown GGML tensor type id {type_id}; "
                    f"supported types: {', '.join(SUPPORTED_TYPES)}"
                )
            n = math.prod(shape)
            if shape and shape[-1] % t.block_size:
                raise GGUFError(
                    f"{self.path}: tensor {name!r} of type {t.name} has row size {shape[-1]}, "
                    f"not a multiple of its block size {t.block_size}"
                )
            info = GGUFTensorInfo(
                name, shape, t.name, self.data_offset + rel, n // t.block_size * t.type_size
            )
            self.tensors[name] = info

    def _tensor_info(self, cur: _Cursor, i: int) -> tuple[str, tuple[int, ...], int, int]:
        name = cur.string(f"tensor info #{i}")
        label = f"tensor #{i} {name[:80]!r}"  # a corrupt length can make a name of megabytes
        n_dims = cur.scalar("I", f"{label} dims")
        if n_dims > MAX_DIMS:
            raise GGUFError(
                f"{self.path}: {label} claims {n_dims} dimensions (GGML tensors have at most {MAX_DIMS}); "
                "the file is corrupt"
            )
        start = cur.take(8 * n_dims, f"{label} dims")
        dims = struct.unpack_from(f"<{n_dims}Q", self._map, start)
        type_id = cur.scalar("I", f"{label} type")
        offset = cur.scalar("Q", f"{label} offset")
        return name, tuple(reversed(dims)), type_id, offset  # GGUF lists the fastest dim first

    def _alignment(self) -> int:
        align = self.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if "general.alignment" in self.metadata and self.metadata_types["general.alignment"] != "uint32":
            raise GGUFError(
                f"{self.path}: general.alignment is a {self.metadata_types['general.alignment']}; GGUF wants a uint32"
            )
        if not isinstance(align, int) or isinstance(align, bool) or align <= 0 or align & (align - 1):
            raise GGUFError(f"{self.path}: general.alignment must be a power of two, got {align!r}")
        return align

    @property
    def architecture(self) -> str | None:
        """``general.architecture`` (e.g. ``"llama"``), or None when the file does not say."""
        return self.metadata.get("general.architecture")

    def validate(self) -> None:
        """Raise :class:`GGUFError` naming the first tensor whose bytes lie past the end of the file."""
        for info in self.tensors.values():
            self._check_bounds(info)

    def _check_bounds(self, info: GGUFTensorInfo) -> None:
        size = len(self._require_open())
        have = max(0, min(size - info.offset, info.nbytes))
        if have < info.nbytes:
            raise GGUFError(
                f"{self.path}: truncated GGUF: tensor {info.name!r} ({info.ggml_type}, shape "
                f"{list(info.shape)}) needs {info.nbytes} bytes at offset {info.offset}, "
                f"but only {have} are present (file size {size})"
            )

    def raw(self, name: str) -> torch.Tensor:
        """The stored bytes of tensor ``name`` as a flat uint8 tensor viewing the mapped file."""
        info = self._info(name)
        self._check_bounds(info)
        if info.nbytes == 0:
            return torch.empty(0, dtype=torch.uint8)
        return torch.frombuffer(self._map, dtype=torch.uint8, count=info.nbytes, offset=info.offset)

    def load(self, name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Decode tensor ``name`` to a new ``dtype`` tensor in PyTorch's shape order.

        >>> GGUFFile("model.gguf").load("output_norm.weight").shape  # doctest: +SKIP
        torch.Size([576])
        """
        info = self._info(name)
        flat = dequantize(self.raw(name), info.ggml_type, info.n_elements, dtype=dtype)
        return flat.view(info.shape)

    def _info(self, name: str) -> GGUFTensorInfo:
        info = self.tensors.get(name)
        if info is None:
            raise KeyError(
                f"{self.path}: no tensor named {name!r} (the file has {len(self.tensors)} tensors)"
            )
        return info

    def _require_open(self) -> mmap.mmap:
        if self._map is None:
            raise ValueError(f"{self.path}: GGUF file is closed")
        return self._map

    def close(self) -> None:
        """Unmap the file. Tensors returned by :meth:`load` own their memory and stay valid."""
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a raw() view is still alive; the map goes when it does
                log.debug("%s: mapping still referenced, leaving it to the garbage collector", self.path)
            self._map = None

    def __enter__(self) -> GGUFFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GGUFFile({self.path!r}, arch={self.architecture!r}, tensors={len(self.tensors)})"


def read_gguf(path: str | os.PathLike[str]) -> GGUFFile:
    """Open a GGUF file (memory-mapped; tensors are read lazily by :meth:`GGUFFile.load`).

    >>> read_gguf("model.gguf").architecture  # doctest: +SKIP
    'llama'
    """
    return GGUFFile(path)
