"""KVCache / EncoderDecoderCache: preallocation, chunked growth, in-place edits for beams, crop, batch expansion;
and a model decoding through an edited cache gives what a fresh forward gives."""

from __future__ import annotations

import pytest
import torch

from pretrained.models.llama import LlamaConfig, LlamaForCausalLM
from pretrained.nn.kv_cache import EncoderDecoderCache, KVCache


def kv(
    B: int = 2, H: int = 2, T: int = 3, D: int = 4, start: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    k = torch.arange(B * H * T * D, dtype=torch.float32).view(B, H, T, D) + start
    return k, -k


def test_update_returns_views_of_everything_cached():
    cache = KVCache(2, chunk=4)
    k1, v1 = kv(T=3)
    k, v = cache.update(0, k1, v1)
    assert torch.equal(k, k1) and torch.equal(v, v1)
    assert cache.get_seq_length() == 3 and cache.get_seq_length(1) == 0 and cache.capacity() == 4
    k2, v2 = kv(T=1, start=100)
    k, v = cache.update(0, k2, v2)
    assert (
        k.shape == (2, 2, 4, 4)
        and torch.equal(k, torch.cat([k1, k2], 2))
        and torch.equal(v, torch.cat([v1, v2], 2))
    )
    assert k.data_ptr() == cache.keys[0].data_ptr()  # a view of the buffer, not a concatenation
    got = cache.get(0)
    assert got is not None and torch.equal(got[0], k)
    assert cache.get(1) is None


def test_growth_is_by_chunks_and_keeps_content():
    cache = KVCache(1, chunk=4)
    parts = [kv(T=t, start=10 * i) for i, t in enumerate([3, 1, 1, 5, 1])]
    capacities = []
    for k, v in parts:
        cache.update(0, k, v)
        capacities.append(cache.capacity())
    assert capacities == [4, 4, 8, 12, 12]
    k_all, v_all = cache.get(0)
    assert torch.equal(k_all, torch.cat([p[0] for p in parts], 2))
    assert torch.equal(v_all, torch.cat([p[1] for p in parts], 2))


def test_max_length_preallocates_once():
    cache = KVCache(1, max_length=10)
    cache.update(0, *kv(T=4))
    ptr = cache.keys[0].data_ptr()
    for _ in range(6):
        cache.update(0, *kv(T=1))
    assert cache.capacity() == 10 and cache.keys[0].data_ptr() == ptr and cache.get_seq_length() == 10
    cache.update(0, *kv(T=1))  # past max_length it still grows rather than failing
    assert cache.get_seq_length() == 11 and cache.capacity() >= 11


def test_reorder_is_in_place_for_beams():
    cache = KVCache(2)
    k, v = kv(B=3)
    for layer in range(2):
        cache.update(layer, k, v)
    ptr = cache.keys[1].data_ptr()
    beam_idx = torch.tensor([2, 0, 0])
    cache.reorder(beam_idx)
    assert cache.keys[1].data_ptr() == ptr
    assert torch.equal(cache.get(1)[0], k[beam_idx]) and torch.equal(cache.get(0)[1], v[beam_idx])


def test_crop_positive_and_negative():
    cache = KVCache(2)
    k, v = kv(T=6)
    cache.update(0, k, v)
    cache.update(1, k, v)
    cache.crop(4)
    assert cache.get_seq_length() == 4 and torch.equal(cache.get(1)[0], k[:, :, :4])
    cache.crop(-1)
    assert cache.get_seq_length(0) == cache.get_seq_length(1) == 3
    cache.crop(10)  # longer than cached: nothing changes
    assert cache.get_seq_length() == 3
    k2, v2 = kv(T=1, start=500)
    k_all, _ = cache.update(0, k2, v2)  # writing after a crop overwrites the dropped tokens
    assert torch.equal(k_all, torch.cat([k[:, :, :3], k2], 2))


def test_batch_repeat_interleave_and_select():
    cache = KVCache(1)
    k, v = kv(B=2)
    cache.update(0, k, v)
    cache.batch_repeat_interleave(3)
    assert cache.batch_size == 6 and torch.equal(cache.get(0)[0], k.repeat_interleave(3, 0))
    cache.batch_select_indices(torch.tensor([0, 5]))
    assert cache.batch_size == 2 and torch.equal(cache.get(0)[1], v)
    cache.update(0, *kv(B=2, T=1))  # still writable after the batch edits
    assert cache.get_seq_length() == 4


def test_bad_updates_are_clear_errors():
    cache = KVCache(1)
    with pytest.raises(IndexError, match="layer_idx 1"):
        cache.update(1, *kv())
    with pytest.raises(ValueError, match="B, n_kv_heads, T, head_dim"):
        cache.update(0, torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))
    cache.update(0, *kv(B=2))
    with pytest.raises(ValueError, match="batch_repeat_interleave"):
        cache.update(0, *kv(B=4, T=1))
    with pytest.raises(ValueError, match="num_layers"):
        KVCache(0)


def test_encoder_decoder_cache_fills_cross_attention_once():
    cache = EncoderDecoderCache(KVCache(2), KVCache(2))
    assert not cache.is_cross_filled(0)
    cross_k, cross_v = kv(B=2, T=5)
    cache.cross_attention.update(0, cross_k, cross_v)
    cache.self_attention.update(0, *kv(B=2, T=1))
    assert cache.is_cross_filled(0) and cache.get_seq_length() == 1
    cache.batch_repeat_interleave(2)  # 2 beams per input: rows (0, 1) from input 0, (2, 3) from input 1
    self_k = cache.self_attention.get(0)[0].clone()
    cache.reorder(torch.tensor([1, 1, 3, 2]))  # beam search picks among the beams of the same input
    assert torch.equal(cache.self_attention.get(0)[0], self_k[[1, 1, 3, 2]])
    assert torch.equal(
        cache.cross_attention.get(0)[0], cross_k.repeat_interleave(2, 0)
    )  # identical per input
    cache.crop(0)  # crop touches the decoder's own tokens only
    assert cache.get_seq_length() == 0 and cache.cross_attention.get_seq_length(0) == 5


@pytest.fixture(scope="module")
def tiny_llama():
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=50,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return LlamaForCausalLM(cfg).eval()


def test_model_decoding_after_crop_and_reorder_matches_fresh_forward(tiny_llama):
    ids = torch.randint(0, 50, (3, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = tiny_llama(ids, use_cache=False).logits
        cache = tiny_llama(ids[:, :7], past_key_values=KVCache(2, max_length=16)).past_key_values
        cache.crop(5)  # e.g. rejected draft tokens
        rest = tiny_llama(ids[:, 5:], past_key_values=cache).logits
        torch.testing.assert_close(rest, full[:, 5:], rtol=0, atol=1e-5)
        beam_idx = torch.tensor([2, 2, 0])
        cache.reorder(beam_idx)
        cache.crop(8)
        step = tiny_llama(ids[beam_idx, 8:], past_key_values=cache).logits
        torch.testing.assert_close(step, full[beam_idx, 8:], rtol=0, atol=1e-5)
        cache.crop(8)
        cache.batch_repeat_interleave(2)
        again = tiny_llama(ids[beam_idx, 8:].repeat_interleave(2, 0), past_key_values=cache).logits
        torch.testing.assert_close(again, full[beam_idx, 8:].repeat_interleave(2, 0), rtol=0, atol=1e-5)
