"""Checkpoint files: safetensors (read memory-mapped, written atomically), ``pytorch_model.bin``, shards.

``pytorch_model.bin`` is read with ``torch.load(weights_only=True)``: a pickle that tries to run code is refused.

>>> from pretrained.weights import save_safetensors, load_safetensors
>>> import torch, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> _ = save_safetensors({"w": torch.ones(2, 3)}, path)
>>> load_safetensors(path)["w"].shape
torch.Size([2, 3])
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import mmap
import os
import pickle
import re
import shutil
import struct
import tempfile
import weakref
from collections.abc import Iterable
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"

_DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "U16": torch.uint16,
    "U32": torch.uint32,
    "U64": torch.uint64,
    "BOOL": torch.bool,
    "F8_E4M3": torch.float8_e4m3fn,
    "F8_E5M2": torch.float8_e5m2,
    "F8_E4M3FNUZ": torch.float8_e4m3fnuz,
    "F8_E5M2FNUZ": torch.float8_e5m2fnuz,
    "C64": torch.complex64,
}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint file that is malformed; the message names the file and what is wrong."""


# -- safetensors --------------------------------------------------------------------------------------
def read_safetensors_header(path: str | os.PathLike) -> tuple[dict, int]:
    """(tensor entries, offset of the data region), validated against the file's size."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: truncated safetensors file ({size} bytes, no header length)")
        (n,) = struct.unpack("<Q", head)
        if n > min(_MAX_HEADER, size - 8):
            raise CheckpointError(
                f"{path}: safetensors header claims {n} bytes but the file has {size - 8} after the length; "
                "the file is truncated or not a safetensors file"
            )
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: safetensors header is not valid JSON ({str(e)[:200]})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    header.pop("__metadata__", None)
    data_start, data_len = 8 + n, size - 8 - n
    spans = []
    for name, info in header.items():
        _check_entry(path, name, info, data_len)
        spans.append((*info["data_offsets"], name))
    _check_coverage(path, sorted(spans), data_len)
    return header, data_start


def _check_coverage(path: str | os.PathLike, spans: list[tuple[int, int, str]], data_len: int) -> None:
    """The tensors must tile the data region exactly, as the safetensors library requires: a header whose length
    field is off by a few bytes would otherwise shift every tensor and load garbage without a word."""
    end = 0
    for begin, stop, name in spans:
        if begin != end:
            what = "overlaps the previous tensor" if begin < end else "leaves a gap after the previous tensor"
            raise CheckpointError(
                f"{path}: tensor {name!r} {what} (offset {begin}, expected {end}); the header is corrupt"
            )
        end = stop
    if end != data_len:
        raise CheckpointError(
            f"{path}: the tensors cover {end} bytes of data but the file holds {data_len} after the header; "
            "the header length or offsets are wrong (corrupt file) — download or save it again"
        )


def _check_entry(path: str | os.PathLike, name: str, info: object, data_len: int) -> None:
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise CheckpointError(f"{path}: header entry {name!r} lacks dtype/shape/data_offsets")
    if info["dtype"] not in _DTYPES:
        raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {info['dtype']!r}")
    shape, offsets = info["shape"], info["data_offsets"]
    if not (isinstance(shape, list) and all(_is_int(d) and d >= 0 for d in shape)):
        raise CheckpointError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
        raise CheckpointError(f"{path}: tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    need = math.prod(shape) * _DTYPES[info["dtype"]].itemsize
    if not 0 <= begin <= end or end - begin != need:
        raise CheckpointError(
            f"{path}: tensor {name!r} {info['dtype']}{shape} needs {need} bytes but data_offsets {offsets} span {end - begin}"
        )
    if end > data_len:
        raise CheckpointError(
            f"{path}: tensor {name!r} ends at byte {end} of the data but the file holds only {data_len}; "
            "the file is truncated — download it again"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# live safetensors mappings: base address -> (length, weak reference to the mmap); entries leave with their mmap
_MAPPINGS: dict[int, tuple[int, weakref.ref]] = {}


def _register_mapping(buf: mmap.mmap) -> None:
    base = torch.frombuffer(buf, dtype=torch.uint8, count=1).data_ptr()
    _MAPPINGS[base] = (len(buf), weakref.ref(buf))
    weakref.finalize(buf, _MAPPINGS.pop, base, None)


def release_mapped_pages(tensor: torch.Tensor) -> None:
    """Drop the resident file pages under ``tensor`` when it lies in a safetensors mapping and has been copied away.

    A loaded tensor that the model replaces with a copy (a transposed layout) would otherwise keep its pages
    counted in the process's memory for as long as any other tensor of the file is alive. Only whole pages inside
    the tensor are dropped (neighbours keep theirs); a later read of them would fetch them from the file again.
    Tensors from anywhere else are left alone.
    """
    if tensor.device.type != "cpu" or not tensor.is_contiguous():
        return
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    for base, (length, ref) in list(_MAPPINGS.items()):
        buf = ref()
        if buf is None or not base <= start < base + length:
            continue
        page = mmap.PAGESIZE
        lo = -(-(start - base) // page) * page
        hi = (min(end, base + length) - base) // page * page
        if hi > lo and hasattr(buf, "madvise"):
            buf.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
        return


def load_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, memory-mapped: nothing is read until a tensor is used."""
    header, start = read_safetensors_header(path)
    if not header:
        return {}
    with open(path, "rb") as f:
        # copy-on-write mapping: pages are shared with the page cache and read lazily; tensors stay writable
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    _register_mapping(buf)
    out = {}
    for name, info in header.items():
        dtype, shape = _DTYPES[info["dtype"]], info["shape"]
        begin, end = info["data_offsets"]
        if end == begin:
            out[name] = torch.empty(shape, dtype=dtype)
            continue
        t = torch.frombuffer(buf, dtype=torch.uint8, count=end - begin, offset=start + begin)
        out[name] = t.view(dtype).reshape(shape)
    return out


def save_safetensors(
    tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> Path:
    """Write tensors to a safetensors file through a temporary file (nothing half-written on failure)."""
    path = Path(path)
    metadata = {"format": "pt", **(metadata or {})}  # transformers refuses files without a format
    bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(
            f"safetensors metadata maps strings to strings; entries {bad} are not (convert them to str)"
        )
    if "__metadata__" in tensors:
        raise ValueError(
            "a tensor cannot be named '__metadata__' in safetensors (the name of the metadata entry)"
        )
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    items = []
    for name in sorted(tensors):
        t = tensors[name].detach()
        if t.dtype not in _DTYPE_NAMES:
            raise ValueError(f"tensor {name!r}: dtype {t.dtype} cannot be stored in safetensors")
        nbytes = t.numel() * t.element_size()
        header[name] = {
            "dtype": _DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + nbytes],
        }
        items.append(t)
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            for t in items:
                if t.numel():
                    t = t.contiguous().cpu()
                    f.write(ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- pytorch_model.bin --------------------------------------------------------------------------------
def load_torch_bin(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A ``pytorch_model.bin`` state dict, loaded without running pickled code (memory-mapped when possible)."""
    try:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e):  # old (non-zip) serialization cannot be memory-mapped
                raise
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused to load — the pickle asks to run code or build objects other than tensors "
            f"({str(e).splitlines()[0][:200]}). Only plain state dicts are loaded; convert the checkpoint to "
            "safetensors with a trusted tool."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, struct.error, IndexError, KeyError, TypeError) as e:
        # a truncated or corrupt file fails deep inside the unpickler with any of these
        raise CheckpointError(
            f"{path}: could not read the torch checkpoint ({type(e).__name__}: {str(e)[:200]}); it is truncated "
            "or corrupt — download or save it again"
        ) from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict)")
    return sd


# -- whole checkpoints --------------------------------------------------------------------------------
def with_variant(name: str, variant: str | None) -> str:
    """A weight file name with a ``variant`` before its extension, as transformers names them.

    >>> with_variant("model.safetensors", "fp16"), with_variant("pytorch_model.bin.index.json", "fp16")
    ('model.fp16.safetensors', 'pytorch_model.bin.index.fp16.json')
    """
    if not variant:
        return name
    stem, ext = name.rsplit(".", 1)
    return f"{stem}.{variant}.{ext}"


def checkpoint_files(
    folder: str | os.PathLike, use_safetensors: bool | None = None, variant: str | None = None
) -> list[Path]:
    """The weight files of a checkpoint folder, shards in index order, chosen as transformers chooses them:
    safetensors first, then ``pytorch_model.bin`` (``use_safetensors`` None); only safetensors (True); only
    ``pytorch_model.bin`` (False). ``variant`` ("fp16") picks ``model.fp16.safetensors`` and its kin."""
    folder = Path(folder)
    formats = [(SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME), (WEIGHTS_NAME, WEIGHTS_INDEX_NAME)]
    if use_safetensors is False:
        formats = formats[1:]
    elif use_safetensors:
        formats = formats[:1]
    formats = [(with_variant(single, variant), with_variant(index, variant)) for single, index in formats]
    for single, index in formats:
        if (folder / single).is_file():
            return [folder / single]
        if (folder / index).is_file():
            weight_map = _read_index(folder / index)
            files = [folder / f for f in dict.fromkeys(weight_map.values())]
            missing = [str(f) for f in files if not f.is_file()]
            if missing:
                raise FileNotFoundError(
                    f"{folder / index} lists shards that are missing: {', '.join(missing)}"
                )
            return files
    present = ", ".join(sorted(p.name for p in folder.iterdir())) if folder.is_dir() else "nothing"
    looked = ", ".join(name for pair in formats for name in pair)
    hint = {
        True: " (use_safetensors=True: only safetensors weights count)",
        False: " (use_safetensors=False: only pytorch_model.bin weights count; pass use_safetensors=None to "
        "take safetensors too)",
    }.get(use_safetensors, "")
    if variant:
        hint += f" (variant={variant!r})"
    raise FileNotFoundError(f"no weights in {folder}: looked for {looked}{hint}; the folder holds: {present}")


def _read_index(path: Path) -> dict[str, str]:
    from .config import read_json

    weight_map = read_json(path).get("weight_map")
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"{path}: no 'weight_map' object in the shard index")
    return weight_map


def load_checkpoint(files: Iterable[str | os.PathLike]) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint's files in one dict (lazily mapped for safetensors)."""
    out: dict[str, torch.Tensor] = {}
    for f in files:
        loader = load_safetensors if str(f).endswith(".safetensors") else load_torch_bin
        out.update(loader(f))
    return out


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$", re.I)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_size(size: int | str) -> int:
    """``"5GB"`` -> 5_000_000_000; ints pass through."""
    if isinstance(size, int):
        return size
    m = _SIZE.match(size)
    if not m:
        raise ValueError(f"max_shard_size={size!r}: expected an int or a size like '200MB' or '5GB'")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "B").upper()])


def save_torch_bin(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> Path:
    """Write a plain state dict with ``torch.save`` through a temporary file. Each tensor is saved compact (a view
    into a larger buffer, such as a fused projection, would otherwise carry the whole buffer)."""
    path = Path(path)
    compact = {name: t.detach().contiguous().clone().cpu() for name, t in tensors.items()}
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(compact, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_checkpoint(
    state_dict: dict[str, torch.Tensor],
    folder: str | os.PathLike,
    max_shard_size: int | str = "5GB",
    safe_serialization: bool = True,
    variant: str | None = None,
) -> list[Path]:
    """Write ``model.safetensors``, or shards plus ``model.safetensors.index.json`` past ``max_shard_size``;
    with ``safe_serialization=False`` the same as ``pytorch_model.bin`` (``pytorch_model-0000i-of-0000n.bin`` and
    ``pytorch_model.bin.index.json``). ``variant`` ("fp16") names them as transformers does:
    ``model.fp16.safetensors``, ``model.fp16-00001-of-00002.safetensors``, ``model.safetensors.index.fp16.json``.

    Every file is written into a staging folder first; only when all are written are the weight files of an earlier
    save (in either format) removed and the new ones moved in, so a failed save leaves the folder as it was.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shards = _split_shards(state_dict, parse_size(max_shard_size))
    save = save_safetensors if safe_serialization else save_torch_bin
    single, index_name = (
        (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME)
        if safe_serialization
        else (WEIGHTS_NAME, WEIGHTS_INDEX_NAME)
    )
    single, index_name = with_variant(single, variant), with_variant(index_name, variant)
    stem, suffix = single.rsplit(".", 1)
    names = (
        [single]
        if len(shards) == 1
        else [f"{stem}-{i + 1:05d}-of-{len(shards):05d}.{suffix}" for i in range(len(shards))]
    )
    staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=folder))
    try:
        for shard, name in zip(shards, names):
            save(shard, staging / name)
        if len(shards) > 1:
            total = sum(t.numel() * t.element_size() for t in state_dict.values())
            index = {
                "metadata": {"total_size": total},
                "weight_map": {k: n for s, n in zip(shards, names) for k in s},
            }
            (staging / index_name).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        _remove_weight_files(folder, variant)
        for f in sorted(staging.iterdir()):
            os.replace(f, folder / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / n for n in names]


def _split_shards(state_dict: dict[str, torch.Tensor], limit: int) -> list[dict[str, torch.Tensor]]:
    """Tensors in order, as huggingface_hub's ``split_torch_state_dict_into_shards`` groups them: a new shard
    whenever the next tensor would push the current one past ``limit`` bytes; a tensor bigger than ``limit`` on
    its own gets a shard of its own, placed before the shard being filled."""
    shards: list[dict[str, torch.Tensor]] = []
    current: dict[str, torch.Tensor] = {}
    size = 0
    for name, t in state_dict.items():
        nbytes = t.numel() * t.element_size()
        if nbytes > limit:
            shards.append({name: t})
            continue
        if size + nbytes > limit:
            shards.append(current)
            current, size = {}, 0
        current[name] = t
        size += nbytes
    if current or not shards:
        shards.append(current)
    return shards


def _remove_weight_files(folder: Path, variant: str | None = None) -> None:
    """The weight files and shard indexes of an earlier save (of the same variant), in either format."""
    dot = f".{variant}" if variant else ""
    for stale in [
        *folder.glob(f"model{dot}-*-of-*.safetensors"),
        *folder.glob(f"pytorch_model{dot}-*-of-*.bin"),
        *(folder / with_variant(n, variant) for n in (SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME)),
        *(folder / with_variant(n, variant) for n in (WEIGHTS_INDEX_NAME, WEIGHTS_NAME)),
    ]:
        stale.unlink(missing_ok=True)
