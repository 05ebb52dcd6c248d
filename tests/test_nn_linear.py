"""The oneDNN-backed Linear and the few-row C kernel: same numbers as torch's, gradients where they are recorded."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from pretrained.nn import linear as linear_mod
from pretrained.nn.activations import get_activation
from pretrained.nn.linear import FUSED_ACTIVATIONS, Linear, linear, linear_act


@pytest.mark.parametrize("shape", [(1, 16), (3, 16), (2, 5, 16), (4, 1, 16), (0, 16), (16,)])
@pytest.mark.parametrize("bias", [True, False])
def test_matches_f_linear_without_grad(shape, bias):
    torch.manual_seed(0)
    layer = Linear(16, 24, bias=bias)
    x = torch.randn(*shape)
    with torch.no_grad():
        out = layer(x)
    assert out.shape == (*shape[:-1], 24)
    torch.testing.assert_close(out, F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)


def test_takes_onednn_only_when_no_gradient_is_recorded(monkeypatch):
    calls = []
    real = torch.ops.mkldnn._linear_pointwise

    class Spy:
        def __call__(self, *args):
            calls.append(args[0].shape)
            return real(*args)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", Spy(), raising=False)
    layer = Linear(8, 4)
    x = torch.randn(12, 8)  # more rows than the few-row kernel takes
    with torch.inference_mode():
        layer(x)
    if linear_mod._enabled:
        assert calls == [torch.Size([12, 8])]
    out = layer(x)  # grad enabled and the weight requires grad: torch's kernel, so backward works
    out.sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.shape == (4, 8)
    assert len(calls) == int(linear_mod._enabled)
    with torch.no_grad():
        out64 = layer.double()(x.double())  # other dtypes: torch's kernel
    assert out64.dtype == torch.float64 and len(calls) == int(linear_mod._enabled)


def test_transposed_and_strided_operands():
    torch.manual_seed(1)
    w_in_out = torch.randn(16, 24)  # GPT-2's Conv1D layout
    x = torch.randn(3, 10, 16)[:, ::2]  # not contiguous
    with torch.no_grad():
        torch.testing.assert_close(linear(x, w_in_out.t()), x @ w_in_out, rtol=1e-5, atol=1e-5)


def test_environment_switch_turns_it_off():
    code = "import pretrained.nn.linear as m; print(m._enabled)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PRETRAINED_ONEDNN": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("act", [*FUSED_ACTIVATIONS, "silu", "quick_gelu"])
def test_linear_act_matches_activation_of_linear(act):
    torch.manual_seed(2)
    x, w, b = torch.randn(2, 7, 16) * 3, torch.randn(24, 16), torch.randn(24)
    expected = get_activation(act)(F.linear(x, w, b))
    with torch.no_grad():
        torch.testing.assert_close(linear_act(x, w, b, act), expected, rtol=1e-5, atol=1e-5)
    x.requires_grad_(True)
    linear_act(x, w, b, act).sum().backward()  # recorded: the unfused path, with gradients
    assert x.grad is not None and x.grad.shape == x.shape


def test_a_shape_error_is_torchs_and_keeps_onednn_on():
    enabled = linear_mod._enabled
    with torch.no_grad(), pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        linear(torch.randn(2, 5), torch.randn(3, 4))
    assert linear_mod._enabled == enabled


# -- the few-row C kernel (decode products): built at install where a C compiler is there --------------------
needs_kernel = pytest.mark.skipif(
    not linear_mod._rows_enabled, reason="pretrained.nn._gemv not built or disabled (PRETRAINED_GEMV=0)"
)


@pytest.fixture(params=[512, 256], ids=["avx512", "avx2"])
def simd(request, monkeypatch):
    """Run a kernel test on each vector path this CPU has (the AVX2 one also on AVX-512 machines)."""
    ext = linear_mod._gemv_ext
    if not linear_mod._rows_enabled:
        pytest.skip("pretrained.nn._gemv not built")
    before = ext.simd()
    if request.param > before:
        pytest.skip(f"this CPU has no {request.param}-bit kernel")
    ext.use_simd(request.param)
    monkeypatch.setattr(linear_mod, "KERNEL_ROWS", ext.max_rows())
    yield request.param
    ext.use_simd(before)


class _KernelSpy:
    """Counts calls into the C kernel and passes them on."""

    def __init__(self, ext):
        self.ext, self.calls = ext, []

    def gemv(self, *args):
        self.calls.append(args[7:10])  # (M, K, N)
        return self.ext.gemv(*args)

    def simd(self):
        return self.ext.simd()


@needs_kernel
@pytest.mark.parametrize("rows", [1, 2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("K", [1, 7, 16, 64, 100, 768])  # tails shorter than a vector, one vector, several
@pytest.mark.parametrize("N", [1, 5, 300])
@pytest.mark.parametrize("bias", [True, False])
def test_kernel_matches_f_linear(monkeypatch, simd, rows, K, N, bias):
    spy = _KernelSpy(linear_mod._gemv_ext)
    monkeypatch.setattr(linear_mod, "_gemv_ext", spy)
    if rows > linear_mod.KERNEL_ROWS:
        pytest.skip(f"this CPU's kernel takes {linear_mod.KERNEL_ROWS} rows")
    torch.manual_seed(K * 7 + N)
    w, b = torch.randn(N, K), (torch.randn(N) if bias else None)
    x = torch.randn(rows, K)
    with torch.inference_mode():
        out = linear(x.view(1, rows, K), w, b)
    assert spy.calls == [(rows, K, N)] and out.shape == (1, rows, N)
    torch.testing.assert_close(out[0], F.linear(x, w, b), rtol=1e-5, atol=1e-5 * K**0.5)


@needs_kernel
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_kernel_splits_large_weights_over_threads_with_the_same_result(monkeypatch, simd, threads):
    torch.manual_seed(5)
    w, b, x = torch.randn(1031, 257), torch.randn(1031), torch.randn(8, 257)  # past the threaded size
    counts = [m for m in (1, 2, 3, 4, 7, 8) if m <= linear_mod.KERNEL_ROWS]
    monkeypatch.setattr(linear_mod, "_GEMV_THREADS", threads)
    with torch.inference_mode():
        outs = [linear(x[:rows], w, b) for rows in counts]
    for rows, out in zip(counts, outs):
        torch.testing.assert_close(out, F.linear(x[:rows], w, b), rtol=1e-5, atol=1e-4)


@needs_kernel
@pytest.mark.parametrize("rows", [4, 7])
def test_kernel_reads_strided_operands(monkeypatch, simd, rows):
    spy = _KernelSpy(linear_mod._gemv_ext)
    monkeypatch.setattr(linear_mod, "_gemv_ext", spy)
    torch.manual_seed(6)
    big = torch.randn(40, 50)
    w = big[5:29, 3:35]  # rows 50 floats apart, a column offset: still one contiguous run per row
    x = torch.randn(rows, 3, 64)[:, 1, ::2]  # (rows, 32), neither rows nor columns contiguous
    b = torch.randn(48)[::2]  # strided bias
    with torch.inference_mode():
        out = linear(x, w, b)
        transposed = linear(x, big[3:35, 5:29].t())  # unit stride along out, not in: not the kernel's
    assert spy.calls == [(rows, 32, 24)] or rows > linear_mod.KERNEL_ROWS
    torch.testing.assert_close(out, F.linear(x, w, b), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(transposed, x @ big[3:35, 5:29], rtol=1e-5, atol=1e-5)


@needs_kernel
def test_kernel_only_where_it_applies(monkeypatch):
    spy = _KernelSpy(linear_mod._gemv_ext)
    monkeypatch.setattr(linear_mod, "_gemv_ext", spy)
    layer = Linear(16, 8)
    x = torch.randn(2, 16)
    with torch.inference_mode():
        layer(torch.randn(linear_mod.KERNEL_ROWS + 1, 16))  # more rows than it takes
        layer(torch.randn(0, 16))  # no rows
    assert spy.calls == []
    out = layer(x)  # gradient recorded: torch's kernel, so backward works
    out.sum().backward()
    assert layer.weight.grad is not None and spy.calls == []
    with torch.no_grad():
        layer.double()(x.double())  # other dtypes
        linear_act(x.double(), layer.weight, layer.bias, "gelu")
        assert spy.calls == []
        out = linear_act(
            x, layer.weight.float(), layer.bias.float(), "gelu_new"
        )  # few rows: kernel + activation
    assert spy.calls == [(2, 16, 8)]
    torch.testing.assert_close(
        out,
        get_activation("gelu_new")(F.linear(x, layer.weight.float(), layer.bias.float())),
        rtol=1e-5,
        atol=1e-5,
    )


def test_kernel_switch_and_layout_policy():
    code = "import pretrained.nn.linear as m; print(m._rows_enabled, m.decode_layout())"
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PRETRAINED_GEMV": "0"}, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "blas"]
    assert linear_mod.decode_layout() == ("rows" if linear_mod._rows_enabled else "blas")


@needs_kernel
@pytest.mark.parametrize("rows", [1, 3, 8, 9])
@pytest.mark.parametrize("C", [1, 7, 64, 100, 576])
def test_rms_norm_of_few_rows_takes_the_kernel_and_matches_torch(monkeypatch, simd, rows, C):
    from pretrained.nn.norms import RMSNorm

    calls = []
    real = linear_mod._gemv_ext

    class Spy(_KernelSpy):
        def rms_norm(self, *args):
            calls.append(args[4:6])
            return real.rms_norm(*args)

    monkeypatch.setattr(linear_mod, "_gemv_ext", Spy(real))
    torch.manual_seed(C + rows)
    norm = RMSNorm(C, eps=1e-5)
    with torch.no_grad():
        norm.weight.normal_()
    x = torch.randn(rows, 1, C) * 3
    expected = F.rms_norm(x, (C,), norm.weight, 1e-5)
    with torch.inference_mode():
        out = norm(x)
    assert calls == ([(rows, C)] if rows <= linear_mod.KERNEL_ROWS else [])
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
    y = norm(x.requires_grad_())  # a gradient to record: torch's ops
    y.sum().backward()
    assert x.grad is not None and len(calls) == (1 if rows <= linear_mod.KERNEL_ROWS else 0)


@needs_kernel
def test_kernel_threads_survive_fork():
    code = """
import os, torch
from pretrained.nn import linear as m
from pretrained.nn.linear import linear
m._GEMV_THREADS = 2
w, x = torch.randn(1024, 128), torch.randn(1, 128)
with torch.inference_mode():
    a = linear(x, w)  # large enough to split: starts the worker pool
    pid = os.fork()
    if pid == 0:  # the child has no workers: the pool starts again instead of waiting on threads that are gone
        os._exit(0 if torch.allclose(linear(x, w), a) and torch.allclose(linear(x[:, :64], w[:, :64]), x[:, :64] @ w[:, :64].T, atol=1e-4) else 1)
    _, status = os.waitpid(pid, 0)
    assert torch.allclose(linear(x, w), a)
print(os.waitstatus_to_exitcode(status))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "0"


@needs_kernel
def test_kernel_bad_arguments_raise_instead_of_reading_memory():
    with pytest.raises(ValueError, match="no such vector kernel"):
        linear_mod._gemv_ext.use_simd(128)
    with pytest.raises(ValueError, match=f"M <= {linear_mod.KERNEL_ROWS}"):
        linear_mod._gemv_ext.gemv(0, 1, 0, 1, 0, 0, 1, linear_mod.KERNEL_ROWS + 1, 1, 1, 1)
    with pytest.raises(TypeError, match="gemv"):
        linear_mod._gemv_ext.gemv(1, 2, 3)
    with pytest.raises(ValueError, match="C >= 1"):
        linear_mod._gemv_ext.rms_norm(0, 1, 0, 0, 1, 0, 1e-5)


# -- transposed storage: loaded weights live in (in, out) buffers ------------------------------------------------
@pytest.mark.parametrize("rows", [1, 2, 4, 8, 33])
@pytest.mark.parametrize("shape", [(24, 16), (16, 48), (700, 640)])  # small, wide, past the small-gemv size
def test_transposed_storage_gives_the_same_products(rows, shape):
    torch.manual_seed(3)
    w, b = torch.randn(*shape), torch.randn(shape[0])
    wt = linear_mod.transposed_storage(w)
    assert linear_mod.is_transposed_storage(wt) and torch.equal(wt, w)
    x = torch.randn(1, rows, shape[1])
    with torch.inference_mode():
        expected = F.linear(x, w, b)
        torch.testing.assert_close(linear(x, wt, b), expected, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(
            linear_act(x, wt, b, "gelu_new"), get_activation("gelu_new")(expected), rtol=1e-5, atol=1e-4
        )


def test_one_row_through_a_transposed_weight_takes_torchs_gemv(monkeypatch):
    monkeypatch.setattr(linear_mod, "_rows_enabled", False)  # the layout policy without the C kernel
    calls = []
    real = torch.ops.mkldnn._linear_pointwise

    def spy(*args):
        calls.append(tuple(args[0].shape))
        return real(*args)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", spy, raising=False)
    big = torch.randn(1024, 512)  # past the small-gemv size: row-major one-row products go to oneDNN
    with torch.inference_mode():
        linear(torch.randn(1, 1, 512), linear_mod.transposed_storage(big))
        linear(torch.randn(1, 1, 512), big)
        linear(torch.randn(1, 3, 512), linear_mod.transposed_storage(big))
    if linear_mod._enabled:
        assert calls == [(1, 1, 512), (1, 3, 512)]


def test_transposed_storage_casts_in_the_same_copy():
    w = torch.randn(5, 3, dtype=torch.float64)
    out = linear_mod.transposed_storage(w, torch.float32)
    assert out.dtype == torch.float32 and linear_mod.is_transposed_storage(out)
    torch.testing.assert_close(out, w.float())
    assert not linear_mod.is_transposed_storage(torch.randn(1, 4).t().t())  # one row: nothing to tell apart


@pytest.mark.parametrize("rows", [1, 6, 12])
def test_fused_weights_give_each_layers_product_until_separated(layout, rows):
    torch.manual_seed(4)
    layers = [Linear(16, 16), Linear(16, 8), Linear(16, 8)]
    x = torch.randn(2, rows, 16)
    with torch.no_grad():
        expected = torch.cat([layer(x) for layer in layers], dim=-1)
    before = [layer.weight.detach().clone() for layer in layers]
    assert linear_mod.fuse_weights(layers)
    assert all(torch.equal(layer.weight, w) for layer, w in zip(layers, before))  # values and shapes kept
    # one buffer: (32, 16) row blocks for the kernel, (16, 32) column blocks for MKL's gemv
    assert all(layer.weight.is_contiguous() == (layout == "rows") for layer in layers)
    with torch.inference_mode():
        weight, bias = linear_mod.fused_weight(layers)
        assert weight.shape == (32, 16) and weight.is_contiguous() == (layout == "rows")
        assert weight.data_ptr() == layers[0].weight.data_ptr()  # a view, not a copy
        torch.testing.assert_close(linear(x, weight, bias), expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(
            torch.cat([layer(x) for layer in layers], -1), expected, rtol=1e-5, atol=1e-5
        )
    assert linear_mod.fused_weight(layers) is None  # gradients recorded: the caller runs them one by one
    layers[1].weight = torch.nn.Parameter(before[1].clone())  # re-assigned: no longer in the buffer
    with torch.no_grad():
        assert linear_mod.fused_weight(layers) is None


def test_fuse_weights_refuses_mismatched_layers():
    assert not linear_mod.fuse_weights([Linear(4, 3), Linear(5, 3)])  # different inputs
    assert not linear_mod.fuse_weights([Linear(4, 3), Linear(4, 3, bias=False)])  # bias on one only
    assert not linear_mod.fuse_weights([Linear(4, 3), Linear(4, 3).double()])
