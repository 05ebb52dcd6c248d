"""The oneDNN-backed Linear: same numbers as torch's, gradients where they are recorded."""

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
    x = torch.randn(2, 8)
    with torch.inference_mode():
        layer(x)
    if linear_mod._enabled:
        assert calls == [torch.Size([2, 8])]
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


def test_fused_weights_give_each_layers_product_until_separated():
    torch.manual_seed(4)
    layers = [Linear(16, 16), Linear(16, 8), Linear(16, 8)]
    x = torch.randn(2, 3, 16)
    with torch.no_grad():
        expected = torch.cat([layer(x) for layer in layers], dim=-1)
    before = [layer.weight.detach().clone() for layer in layers]
    assert linear_mod.fuse_weights(layers)
    assert all(torch.equal(layer.weight, w) for layer, w in zip(layers, before))  # values and shapes kept
    with torch.inference_mode():
        weight, bias = linear_mod.fused_weight(layers)
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
