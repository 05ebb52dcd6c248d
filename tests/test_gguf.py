"""GGUF reader, dequantization, quantization and writer, checked against the `gguf` package (gguf-py)."""

from __future__ import annotations

import os
import struct

import pytest
import torch

from pretrained.gguf import (
    GGUFError,
    GGUFFile,
    GGUFValue,
    dequantize,
    hf_to_gguf_state_dict,
    iter_gguf_state_dict,
    quantize,
    read_gguf,
    write_gguf,
)
from pretrained.gguf.quants import GGML_TYPES_BY_NAME

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")
Q = gguf.GGMLQuantizationType

BLOCK_TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
ALL_TYPES = ["F32", "F16", "BF16", *BLOCK_TYPES]
GGUF_QUANTIZABLE = ["BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]  # gguf-py has reference quantizers
K_QUANTS = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# round-trip rmse / std of N(0, 1) data: a little above what llama.cpp's quantizers reach
RMSE_BOUND = {"Q8_0": 0.01, "Q6_K": 0.03, "Q5_0": 0.06, "Q5_1": 0.06, "Q5_K": 0.06, "Q4_0": 0.12}
RMSE_BOUND |= {"Q4_1": 0.12, "Q4_K": 0.12, "Q3_K": 0.22, "Q2_K": 0.45, "F16": 1e-3, "BF16": 5e-3, "F32": 0.0}


def ref_dequantize(raw: torch.Tensor, type_name: str) -> torch.Tensor:
    return torch.from_numpy(gguf.quants.dequantize(raw.numpy(), Q[type_name]).copy()).reshape(-1)


def random_raw(type_name: str, n_blocks: int, seed: int) -> torch.Tensor:
    t = GGML_TYPES_BY_NAME[type_name]
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n_blocks * t.type_size,), dtype=torch.uint8, generator=g)


# ---------------------------------------------------------------- dequantization


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # gguf-py meets inf/nan scales
@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_dequantize_random_bytes_matches_gguf(type_name):
    raw = random_raw(type_name, 700, seed=len(type_name))  # any bytes, incl. inf/nan fp16 scales
    n = raw.numel() // GGML_TYPES_BY_NAME[type_name].type_size * GGML_TYPES_BY_NAME[type_name].block_size
    ours = dequantize(raw, type_name, n)
    torch.testing.assert_close(ours, ref_dequantize(raw, type_name), rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_dequantize_realistic_blocks_bit_exact(type_name):
    x = torch.randn(16, 512, generator=torch.Generator().manual_seed(1)) * 0.05
    raw = quantize(x, type_name)
    ours = dequantize(raw, type_name, x.numel())
    assert torch.equal(ours.view(torch.int32), ref_dequantize(raw, type_name).view(torch.int32))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("type_name", ["F32", "F16", "BF16", "Q8_0", "Q4_K"])
def test_dequantize_to_other_dtypes(type_name, dtype):
    x = torch.randn(4, 256, generator=torch.Generator().manual_seed(2))
    raw = quantize(x, type_name)
    ours = dequantize(raw, type_name, x.numel(), dtype=dtype)
    assert ours.dtype == dtype
    torch.testing.assert_close(ours, dequantize(raw, type_name, x.numel()).to(dtype), rtol=0, atol=0)


def test_dequantize_unknown_and_unsupported_types():
    with pytest.raises(ValueError, match=r"unknown GGML tensor type 99.*Q4_K"):
        dequantize(torch.zeros(4, dtype=torch.uint8), 99, 1)
    with pytest.raises(NotImplementedError, match=r"Q8_K \(id 15\).*supported types: .*Q8_0"):
        dequantize(torch.zeros(292, dtype=torch.uint8), "Q8_K", 256)  # gguf-py cannot decode it either


# ---------------------------------------------------------------- quantization


def awkward_blocks() -> torch.Tensor:
    """Rows that stress the quantizers: zeros, ties of +-max, constants, tiny and huge values."""
    g = torch.Generator().manual_seed(3)
    rows = [
        torch.zeros(256),
        torch.full((256,), 0.5),
        torch.tensor([1.0, -1.0] * 128),
        torch.tensor([-1.0, 1.0] * 128),
        torch.randn(256, generator=g) * 1e-6,
        torch.randn(256, generator=g) * 1e3,
        torch.randn(256, generator=g).abs(),
        -torch.randn(256, generator=g).abs(),
        torch.linspace(-3, 3, 256),
    ]
    return torch.stack(rows + [torch.randn(256, generator=g) for _ in range(23)])  # (32, 256)


@pytest.mark.parametrize("type_name", GGUF_QUANTIZABLE)
def test_quantize_bytes_match_gguf(type_name):
    x = awkward_blocks()
    ref = torch.from_numpy(gguf.quants.quantize(x.numpy(), Q[type_name]).copy()).reshape(-1)
    assert torch.equal(quantize(x, type_name), ref.view(torch.uint8))


@pytest.mark.parametrize("type_name", ["F32", "F16", "BF16", *BLOCK_TYPES])
def test_quantize_round_trip_error(type_name):
    x = torch.randn(64, 1024, generator=torch.Generator().manual_seed(4))
    raw = quantize(x, type_name)
    back = dequantize(raw, type_name, x.numel()).view_as(x)
    rmse = (back - x).pow(2).mean().sqrt().item()
    assert rmse <= RMSE_BOUND[type_name], rmse
    torch.testing.assert_close(back.view(-1), ref_dequantize(raw, type_name), rtol=0, atol=0)


@pytest.mark.parametrize("type_name", K_QUANTS)
def test_k_quants_awkward_blocks_stay_finite_and_close(type_name):
    x = awkward_blocks()
    back = dequantize(quantize(x, type_name), type_name, x.numel()).view_as(x)
    assert torch.isfinite(back).all()
    assert torch.equal(back[0], torch.zeros(256))  # an all-zero block decodes to zeros
    err = (back - x).abs().amax(dim=1)  # (32,)
    assert err[4] < 1e-5  # values below fp16's range come back as (near) zero
    worst = (err / x.abs().amax(dim=1).clamp(min=1e-30))[torch.arange(32) != 4].max().item()
    assert worst < 0.35, worst  # never more than a fraction of the row's magnitude off


def test_quantize_rejects_bad_row_size():
    with pytest.raises(ValueError, match=r"last dimension must be a multiple of 256"):
        quantize(torch.zeros(4, 100), "Q4_K")


# ---------------------------------------------------------------- reading


def write_with_gguf_py(path, arch="llama", kv=(), tensors=(), alignment=None) -> None:
    """Write a GGUF with gguf-py. ``kv``: (key, value, GGUFValueType[, sub type]); ``tensors``:
    (name, float32 array or quantized bytes, raw type or None, shape or None)."""
    w = gguf.GGUFWriter(os.fspath(path), arch)
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for key, value, *vtype in kv:
        w.add_key_value(key, value, *vtype)
    for name, data, raw_type, shape in tensors:
        w.add_tensor(name, data, raw_shape=shape, raw_dtype=raw_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


V = gguf.GGUFValueType
ALL_VALUES = [
    ("t.u8", 200, V.UINT8),
    ("t.i8", -100, V.INT8),
    ("t.u16", 60000, V.UINT16),
    ("t.i16", -30000, V.INT16),
    ("t.u32", 4_000_000_000, V.UINT32),
    ("t.i32", -2_000_000_000, V.INT32),
    ("t.f32", 0.1, V.FLOAT32),
    ("t.bool", True, V.BOOL),
    ("t.str", "héllo 😀", V.STRING),
    ("t.u64", 2**63 + 5, V.UINT64),
    ("t.i64", -(2**62), V.INT64),
    ("t.f64", 0.1, V.FLOAT64),
    ("t.strs", ["a", "", "ü b", "<|im_end|>"], V.ARRAY, V.STRING),
    ("t.ints", [-1, 0, 7], V.ARRAY, V.INT32),
    ("t.floats", [0.5, -1.25], V.ARRAY, V.FLOAT32),
    ("t.bools", [True, False, True], V.ARRAY, V.BOOL),
]


def test_reader_metadata_types_and_tensor_layout(tmp_path):
    path = tmp_path / "all.gguf"
    x3 = np.arange(2 * 3 * 32, dtype=np.float32).reshape(2, 3, 32)
    q = gguf.quants.quantize(np.linspace(-1, 1, 4 * 64, dtype=np.float32).reshape(4, 64), Q.Q8_0)
    tensors = [("a", x3, None, None), ("b", q, Q.Q8_0, None), ("c", np.ones(5, np.float16), None, None)]
    write_with_gguf_py(path, kv=ALL_VALUES, tensors=tensors, alignment=64)
    ref = gguf.GGUFReader(path)
    with read_gguf(path) as f:
        assert f.version == 3 and f.alignment == 64 and f.data_offset == ref.data_offset
        for key, field in ref.fields.items():
            if not key.startswith("GGUF."):
                assert f.metadata[key] == pytest.approx(field.contents()), key
        assert f.metadata_types["t.strs"] == ("array", "string")
        assert f.metadata_types["t.u64"] == "uint64"
        assert [(i.name, i.shape, i.ggml_type) for i in f.tensors.values()] == [
            ("a", (2, 3, 32), "F32"),
            ("b", (4, 64), "Q8_0"),
            ("c", (5,), "F16"),
        ]
        for rt in ref.tensors:
            assert f.tensors[rt.name].offset == ref.data_offset + rt.data_offset - ref.data_offset
            expected = torch.from_numpy(gguf.quants.dequantize(rt.data, rt.tensor_type).copy())
            assert torch.equal(f.load(rt.name), expected.view(f.tensors[rt.name].shape))
        assert torch.equal(f.load("a"), torch.from_numpy(x3))
        assert f.load("c", dtype=torch.float16).dtype == torch.float16


def test_reader_is_lazy_and_loaded_tensors_outlive_the_file(tmp_path):
    path = tmp_path / "lazy.gguf"
    write_gguf(path, {"general.architecture": "llama"}, {"w": torch.arange(64.0).view(2, 32)})
    f = GGUFFile(path)
    w = f.load("w")
    f.close()
    assert torch.equal(w, torch.arange(64.0).view(2, 32))  # owns its memory
    with pytest.raises(ValueError, match="closed"):
        f.load("w")


# ---------------------------------------------------------------- writing


def tiny_llama_state_dict(seed: int = 0, tied: bool = False) -> dict[str, torch.Tensor]:
    """A 2-layer Llama-shaped HF state dict: hidden 64, 4 heads of 16, 2 kv heads, ffn 256, vocab 96."""
    g = torch.Generator().manual_seed(seed)
    h, ffn, vocab, kv = 64, 256, 96, 2 * 16
    sd = {"model.embed_tokens.weight": torch.randn(vocab, h, generator=g), "model.norm.weight": torch.rand(h)}
    if not tied:
        sd["lm_head.weight"] = torch.randn(vocab, h, generator=g)
    for i in range(2):
        p = f"model.layers.{i}."
        shapes = {
            "input_layernorm.weight": (h,),
            "post_attention_layernorm.weight": (h,),
            "self_attn.q_proj.weight": (h, h),
            "self_attn.k_proj.weight": (kv, h),
            "self_attn.v_proj.weight": (kv, h),
            "self_attn.o_proj.weight": (h, h),
            "mlp.gate_proj.weight": (ffn, h),
            "mlp.up_proj.weight": (ffn, h),
            "mlp.down_proj.weight": (h, ffn),
        }
        sd.update({p + k: torch.randn(*s, generator=g) for k, s in shapes.items()})
    return sd


LLAMA_META = {
    "general.architecture": "llama",
    "llama.block_count": 2,
    "llama.embedding_length": 64,
    "llama.feed_forward_length": 256,
    "llama.attention.head_count": 4,
    "llama.attention.head_count_kv": 2,
    "llama.context_length": 128,
    "llama.rope.freq_base": 10000.0,
    "llama.attention.layer_norm_rms_epsilon": 1e-5,
}


@pytest.mark.parametrize("type_name", ["F32", "F16", "BF16", *BLOCK_TYPES])
def test_write_then_load_tiny_llama(tmp_path, type_name):
    sd = tiny_llama_state_dict()
    path = tmp_path / f"tiny-{type_name}.gguf"
    # token_embd rows are 64 wide: K-quants need 256, so it stays Q8_0 for them (as llama.cpp falls back)
    types = {g: type_name for g in hf_to_gguf_state_dict(sd, "llama", 4, 2) if not g.endswith("norm.weight")}
    if type_name in K_QUANTS:
        types = {
            g: t for g, t in types.items() if not g.startswith(("token_embd", "output.", "blk.0.ffn_down"))
        }
        types |= {"blk.0.ffn_down.weight": type_name, "blk.1.ffn_down.weight": type_name}
    tensors = hf_to_gguf_state_dict(sd, "llama", n_head=4, n_kv_head=2)
    types = {g: t for g, t in types.items() if tensors[g].shape[-1] % GGML_TYPES_BY_NAME[t].block_size == 0}
    write_gguf(path, LLAMA_META, tensors, types)
    loaded = dict(iter_gguf_state_dict(path))
    assert set(loaded) == set(sd)
    ref = gguf.GGUFReader(path)  # the file is valid for gguf-py too, and decodes the same
    for rt in ref.tensors:
        expected = torch.from_numpy(gguf.quants.dequantize(rt.data, rt.tensor_type).copy())
        assert torch.equal(GGUFFile(path).load(rt.name).view(-1), expected.reshape(-1)), rt.name
    for name, w in sd.items():
        assert loaded[name].shape == w.shape
        rmse = (loaded[name] - w).pow(2).mean().sqrt() / w.std()
        assert rmse <= max(RMSE_BOUND[type_name], RMSE_BOUND["Q6_K"]) * 1.5, (name, rmse)


@pytest.mark.parametrize("type_name", GGUF_QUANTIZABLE + ["F16", "F32"])
def test_gguf_py_written_file_loads(tmp_path, type_name):
    sd = tiny_llama_state_dict(seed=1)
    tensors = hf_to_gguf_state_dict(sd, "llama", n_head=4, n_kv_head=2)
    items = []
    for name, w in tensors.items():
        arr = w.numpy()
        if w.ndim == 1 or type_name == "F32":
            items.append((name, arr, None, None))
        elif type_name == "F16":
            items.append((name, arr.astype(np.float16), None, None))
        else:
            items.append((name, gguf.quants.quantize(arr, Q[type_name]), Q[type_name], None))
    kv = [
        (k, v, V.FLOAT32 if isinstance(v, float) else V.UINT32)
        for k, v in LLAMA_META.items()
        if k != "general.architecture"
    ]
    path = tmp_path / "ref.gguf"
    write_with_gguf_py(path, kv=kv, tensors=items)
    loaded = dict(iter_gguf_state_dict(path))
    for name, w in sd.items():
        rmse = (loaded[name] - w).pow(2).mean().sqrt() / w.std()
        assert rmse <= RMSE_BOUND[type_name] * 1.5, (name, rmse)


def test_writer_metadata_types_round_trip(tmp_path):
    meta = {
        "general.architecture": "llama",
        "general.alignment": 64,
        "a.int": 7,
        "a.neg": -3,
        "a.big": 2**40,
        "a.float": 0.25,
        "a.bool": False,
        "a.str": "ünï",
        "a.strs": ["x", "y z"],
        "a.mixed_ints": [1, -1],
        "a.empty": [],
        "a.typed": GGUFValue(5, "uint8"),
        "tokenizer.ggml.token_type": [1, 3, 6],
    }
    path = tmp_path / "meta.gguf"
    write_gguf(path, meta, {"t": torch.ones(3)})
    with read_gguf(path) as f:
        assert {k: f.metadata[k] for k in meta} == {**meta, "a.typed": 5}
        assert f.metadata_types["a.typed"] == "uint8"
        assert f.metadata_types["tokenizer.ggml.token_type"] == ("array", "int32")
        assert f.metadata_types["a.big"] == "uint64" and f.alignment == 64
        assert torch.equal(f.load("t"), torch.ones(3))
        # a reader's metadata and types write back identically
        write_gguf(tmp_path / "copy.gguf", f.metadata, {"t": f.load("t")}, metadata_types=f.metadata_types)
    with read_gguf(tmp_path / "copy.gguf") as g:
        assert g.metadata == read_gguf(path).metadata
        assert g.metadata_types == read_gguf(path).metadata_types
    assert gguf.GGUFReader(path).fields["a.typed"].contents() == 5


def test_writer_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"old contents")
    import pretrained.gguf.writer as writer_module

    calls = []

    def failing_quantize(t, type_name):
        calls.append(type_name)
        if len(calls) == 2:
            raise RuntimeError("disk full (simulated)")
        return quantize(t, type_name)

    monkeypatch.setattr(writer_module, "quantize", failing_quantize)
    with pytest.raises(RuntimeError, match="simulated"):
        write_gguf(path, {"general.architecture": "llama"}, {"a": torch.ones(32), "b": torch.ones(32)})
    assert path.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == ["model.gguf"]  # no temp file left behind


def test_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"'w'.*multiple of 32"):
        write_gguf(tmp_path / "x.gguf", {}, {"w": torch.ones(2, 10)}, {"w": "Q4_0"})
    with pytest.raises(ValueError, match=r"unknown GGML tensor type 'Q9_9'"):
        write_gguf(tmp_path / "x.gguf", {}, {"w": torch.ones(2, 32)}, "Q9_9")
    with pytest.raises(NotImplementedError, match=r"IQ4_NL"):
        write_gguf(tmp_path / "x.gguf", {}, {"w": torch.ones(2, 32)}, "IQ4_NL")
    with pytest.raises(TypeError, match=r"'a.obj'"):
        write_gguf(tmp_path / "x.gguf", {"a.obj": object()}, {})
    assert not os.listdir(tmp_path)


# ---------------------------------------------------------------- bad files


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.gguf"
    tensors = {"token_embd.weight": torch.randn(8, 64), "blk.0.attn_q.weight": torch.randn(64, 64)}
    write_gguf(path, LLAMA_META, tensors, "Q8_0")
    return path


def test_bad_magic(tmp_path):
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGML" + b"\0" * 60)
    with pytest.raises(GGUFError, match=r"bad.gguf: not a GGUF file \(magic b'GGML'"):
        read_gguf(path)
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(GGUFError, match="empty.gguf: empty file"):
        read_gguf(tmp_path / "empty.gguf")


@pytest.mark.parametrize("version", [1, 4, 3 << 24])
def test_unsupported_version(small_file, version):
    data = bytearray(small_file.read_bytes())
    data[4:8] = struct.pack("<I", version)
    small_file.write_bytes(bytes(data))
    with pytest.raises(
        GGUFError, match=rf"small.gguf: unsupported GGUF version {version}.*supported versions: 2, 3"
    ):
        read_gguf(small_file)


def test_version_2_reads_like_3(small_file):
    expected = read_gguf(small_file).load("blk.0.attn_q.weight")
    data = bytearray(small_file.read_bytes())
    data[4:8] = struct.pack("<I", 2)  # v2 and v3 share the little-endian layout
    small_file.write_bytes(bytes(data))
    with read_gguf(small_file) as f:
        assert f.version == 2 and torch.equal(f.load("blk.0.attn_q.weight"), expected)


def test_truncated_tensor_data(small_file):
    data = small_file.read_bytes()
    small_file.write_bytes(data[:-1000])
    f = read_gguf(small_file)  # the header is intact: metadata is readable
    assert f.metadata["llama.block_count"] == 2
    f.load("token_embd.weight")  # the first tensor is complete
    msg = r"small.gguf: truncated GGUF: tensor 'blk.0.attn_q.weight' \(Q8_0, shape \[64, 64\]\) needs 4352 bytes"
    with pytest.raises(GGUFError, match=msg + r".*only \d+ are present"):
        f.load("blk.0.attn_q.weight")
    with pytest.raises(GGUFError, match=msg):
        next(iter_gguf_state_dict(small_file))  # fails before yielding anything


def test_truncated_header(small_file):
    data = small_file.read_bytes()
    small_file.write_bytes(data[:100])
    with pytest.raises(GGUFError, match=r"small.gguf: truncated GGUF header while reading"):
        read_gguf(small_file)


def test_unknown_tensor_type_id(small_file):
    data = bytearray(small_file.read_bytes())
    f = read_gguf(small_file)
    info_end = f.data_offset  # the type id of the last tensor info sits 12 bytes before its offset field
    f.close()
    pos = data.rfind(b"blk.0.attn_q.weight", 0, info_end) + len("blk.0.attn_q.weight") + 4 + 16
    assert struct.unpack_from("<I", data, pos)[0] == 8  # Q8_0
    data[pos : pos + 4] = struct.pack("<I", 99)
    small_file.write_bytes(bytes(data))
    with pytest.raises(
        GGUFError, match=r"'blk.0.attn_q.weight' has unknown GGML tensor type id 99; supported"
    ):
        read_gguf(small_file)


def test_known_but_unsupported_type_raises_on_load(tmp_path):
    path = tmp_path / "q8k.gguf"
    raw = np.zeros((2, 292), dtype=np.uint8)  # two Q8_K blocks (llama.cpp's intermediate type)
    write_with_gguf_py(path, tensors=[("w", raw, Q.Q8_K, None)])
    f = read_gguf(path)
    assert f.tensors["w"].ggml_type == "Q8_K" and f.tensors["w"].shape == (2, 256)
    with pytest.raises(NotImplementedError, match=r"Q8_K.*supported types"):
        f.load("w")


def test_missing_tensor_name(small_file):
    with pytest.raises(KeyError, match=r"no tensor named 'nope'"):
        read_gguf(small_file).load("nope")


def _attn_q_info(path) -> int:
    """Byte position of the n_dims field of tensor info 'blk.0.attn_q.weight'."""
    data = path.read_bytes()
    return data.find(b"blk.0.attn_q.weight") + len("blk.0.attn_q.weight")


def test_corrupt_dim_count_fails_fast(small_file):
    """A flipped byte in a tensor's dimension count is refused at once (it used to read dims for seconds)."""
    data = bytearray(small_file.read_bytes())
    pos = _attn_q_info(small_file)
    assert struct.unpack_from("<I", data, pos)[0] == 2
    data[pos + 3] = 0xB4
    small_file.write_bytes(bytes(data))
    with pytest.raises(
        GGUFError, match=r"tensor #\d+ 'blk.0.attn_q.weight' claims \d+ dimensions .* at most 4"
    ):
        read_gguf(small_file)


def test_corrupt_name_length_fails_fast_with_a_short_message(small_file):
    data = bytearray(small_file.read_bytes())
    pos = data.find(b"blk.0.attn_q.weight") - 8
    assert struct.unpack_from("<Q", data, pos)[0] == len("blk.0.attn_q.weight")
    data[pos + 1] = 0xB4  # the name swallows ~46 KB of the file
    small_file.write_bytes(bytes(data))
    with pytest.raises(GGUFError) as e:
        read_gguf(small_file)
    assert len(str(e.value)) < 500


def test_head_count_that_does_not_fit_the_tensors(tmp_path):
    sd = hf_to_gguf_state_dict(tiny_llama_state_dict(), "llama", 4, 2)
    path = tmp_path / "bad-heads.gguf"
    write_gguf(path, {**LLAMA_META, "llama.attention.head_count": 3}, sd)
    with pytest.raises(ValueError, match=r"cannot split 64 q/k rows into 3 heads"):
        dict(iter_gguf_state_dict(path))


NEW_TYPES = [
    "TQ1_0",
    "TQ2_0",
    "MXFP4",
    "NVFP4",
    "IQ4_NL",
    "IQ4_XS",
]  # gguf-py dequantizes them, so transformers loads them
NEW_TYPES += ["IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M"]  # grid-based i-quants


@pytest.mark.parametrize("type_name", NEW_TYPES)
def test_newer_types_match_gguf_bit_for_bit(type_name):
    raw = random_raw(type_name, 300, seed=7)
    t = GGML_TYPES_BY_NAME[type_name]
    assert (t.block_size, t.type_size) == gguf.constants.GGML_QUANT_SIZES[Q[type_name]]
    ours = dequantize(raw, type_name, 300 * t.block_size)
    assert torch.equal(ours.view(torch.int32), ref_dequantize(raw, type_name).view(torch.int32))


@pytest.mark.parametrize("type_name", ["TQ1_0", "TQ2_0", "MXFP4"])
def test_gguf_py_quantized_ternary_and_fp4_files_load(tmp_path, type_name):
    """Tensors that gguf-py quantizes to these types, written by its GGUFWriter, read back as gguf-py reads them."""
    x = (torch.randn(4, 512, generator=torch.Generator().manual_seed(4)) * 0.1).numpy()
    q = gguf.quants.quantize(x, Q[type_name])
    path = tmp_path / f"{type_name}.gguf"
    write_with_gguf_py(path, tensors=[("w", q, Q[type_name], None), ("b", x[0], None, None)])
    with read_gguf(path) as f:
        assert f.tensors["w"].ggml_type == type_name and f.tensors["w"].shape == (4, 512)
        want = torch.from_numpy(gguf.quants.dequantize(q, Q[type_name]).copy())
        assert torch.equal(f.load("w"), want)
        assert (f.load("w") - torch.from_numpy(x)).abs().max() < 0.2


@pytest.mark.parametrize("what", ["tensor", "key"])
def test_duplicate_names_are_refused_like_gguf_py(tmp_path, what):
    path = tmp_path / "dup.gguf"
    meta = {"general.architecture": "llama", "t.key1": 1, "t.key2": 2}
    write_gguf(path, meta, {"wwww1": torch.ones(32), "wwww2": torch.zeros(32)})
    data = path.read_bytes()
    old, new = (b"wwww2", b"wwww1") if what == "tensor" else (b"t.key2", b"t.key1")
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(GGUFError, match=r"dup.gguf: .* appears twice"):
        read_gguf(path)
    with pytest.raises((ValueError, KeyError)):
        gguf.GGUFReader(path)  # the reference refuses it too


def test_alignment_must_be_uint32_like_gguf_py(tmp_path):
    path = tmp_path / "align.gguf"
    write_gguf(path, {"general.architecture": "llama", "general.alignment": GGUFValue(64, "uint64")}, {})
    with pytest.raises(GGUFError, match="general.alignment is a uint64"):
        read_gguf(path)


def test_deeply_nested_metadata_arrays_are_refused(tmp_path):
    """Arrays of arrays thousands deep (a corrupt or hostile file) end in a GGUFError, not a RecursionError."""
    path = tmp_path / "nested.gguf"
    key = b"t.deep"
    body = struct.pack("<I", 9) + (struct.pack("<IQ", 9, 1)) * 5000 + struct.pack("<IQ", 4, 0)
    kv = struct.pack("<Q", len(key)) + key + body
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv)
    with pytest.raises(GGUFError, match="nests arrays more than"):
        read_gguf(path)
