"""Cross-attention over repeated encoder rows (beams / num_return_sequences): the cache keeps one row per run of
identical rows and the decoder's queries share it. Logits, cross-attention weights and cache edits must match the
reference, which keeps every repeated row."""

from __future__ import annotations

import pytest
import torch

import pretrained
from pretrained.nn.cross_attention import attend_grouped, shared_rows
from pretrained.nn.kv_cache import EncoderDecoderCache, KVCache

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

V = 61
CONFIGS = {
    "t5": ("T5ForConditionalGeneration", "T5Config", dict(vocab_size=V, d_model=32, d_kv=8, d_ff=37, num_layers=2,
                                                        num_heads=4, decoder_start_token_id=0)),
    "bart": ("BartForConditionalGeneration", "BartConfig", dict(
        vocab_size=V, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=40)),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(CONFIGS))
def pair(request, tmp_path_factory):
    cls, cfg_cls, fields = CONFIGS[request.param]
    torch.manual_seed(0)
    config = getattr(transformers, cfg_cls)(**fields)
    config._attn_implementation = "eager"  # cross-attention weights to compare
    ref = getattr(transformers, cls)(config).eval()
    folder = tmp_path_factory.mktemp(request.param)
    ref.save_pretrained(folder)
    return ref, getattr(pretrained, cls).from_pretrained(folder)


def test_shared_rows():
    a, b = torch.randn(2, 5, 3)
    assert shared_rows(torch.stack([a, a, b, b]), None) == 2
    assert shared_rows(torch.stack([a, a, a, b]), None) == 1  # runs of unequal length
    assert shared_rows(torch.stack([a, a, b, a]), None) == 1  # the second run is not constant
    assert shared_rows(torch.stack([a, b]), None) == 1
    mask = torch.tensor([[1] * 5, [1] * 5, [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]])
    assert shared_rows(torch.stack([a, a, b, b]), mask) == 1  # same states, different masks
    assert shared_rows(torch.stack([a, a, a, a]), None) == 4


def test_attend_grouped_is_attend_on_repeated_rows():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(6, 2, 3, 4, generator=g)  # 2 inputs x 3 beams, 3 queries each
    k, v = torch.randn(2, 2, 2, 5, 4, generator=g)
    mask = torch.zeros(2, 1, 1, 5).masked_fill(torch.tensor([False, False, False, True, True]), -1e9)
    y, w = attend_grouped(q, k, v, mask, need_weights=True)
    rep = dict(repeats=3, dim=0)
    y_ref, w_ref = attend_grouped(
        q,
        k.repeat_interleave(**rep),
        v.repeat_interleave(**rep),
        mask.repeat_interleave(**rep),
        need_weights=True,
    )
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(w, w_ref)


def test_cached_decoding_over_repeated_sources(pair):
    """Two beams per source: our cache holds 3 cross-attention rows for 6 decoder rows; every step, and a batch
    selection across groups, matches the reference's full forward."""
    ref, ours = pair
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, V - 2, (3, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = mask[2, 4:] = 0
    src = dict(input_ids=ids.repeat_interleave(2, 0), attention_mask=mask.repeat_interleave(2, 0))  # (6, 9)
    dec = torch.randint(3, V - 2, (6, 5), generator=g)
    with torch.no_grad():
        # as generate does: encode each source once, then repeat its rows (a batched matmul may round identical
        # rows differently)
        enc = ours.get_encoder()(input_ids=ids, attention_mask=mask)
        enc.last_hidden_state = enc.last_hidden_state.repeat_interleave(2, 0)  # (6, 9, C)
        out = ours(encoder_outputs=enc, attention_mask=src["attention_mask"], decoder_input_ids=dec[:, :3])
        cache = out.past_key_values
        assert cache.cross_attention.batch_size == 3 and cache.self_attention.batch_size == 6
        for t in (3, 4):
            step = ours(
                encoder_outputs=enc,
                attention_mask=src["attention_mask"],
                decoder_input_ids=dec[:, t : t + 1],
                past_key_values=cache,
                output_attentions=True,
            )
            full = ref(**src, decoder_input_ids=dec[:, : t + 1], output_attentions=True)
            torch.testing.assert_close(step.logits[:, -1], full.logits[:, -1], atol=1e-4, rtol=0)
            for a, b in zip(step.cross_attentions, full.cross_attentions):
                torch.testing.assert_close(a[:, :, -1], b[:, :, -1], atol=1e-5, rtol=0)
        rows = torch.tensor([5, 0, 2])  # one row from each source, out of order
        cache.batch_select_indices(rows)
        nxt = torch.randint(3, V - 2, (3, 1), generator=g)
        sel = {k: v[rows] for k, v in src.items()}
        step = ours(
            encoder_outputs=(enc.last_hidden_state[rows],),
            attention_mask=sel["attention_mask"],
            decoder_input_ids=nxt,
            past_key_values=cache,
        )
        full = ref(**sel, decoder_input_ids=torch.cat([dec[rows], nxt], 1))
    torch.testing.assert_close(step.logits[:, -1], full.logits[:, -1], atol=1e-4, rtol=0)


def test_repeat_interleave_of_a_grouped_cache_grows_the_groups():
    cache = EncoderDecoderCache(KVCache(1), KVCache(1))
    cache.cross_attention.update(0, torch.zeros(2, 1, 5, 4), torch.zeros(2, 1, 5, 4))
    cache.self_attention.update(0, torch.zeros(4, 1, 1, 4), torch.zeros(4, 1, 1, 4))  # 2 rows per source
    cache.batch_repeat_interleave(3)
    assert (cache.self_attention.batch_size, cache.cross_attention.batch_size) == (12, 2)
    cache.batch_select_indices(torch.tensor([11, 0]))
    assert (cache.self_attention.batch_size, cache.cross_attention.batch_size) == (2, 2)


def test_a_mismatched_cross_cache_is_a_clear_error(pair):
    _, ours = pair
    src = dict(input_ids=torch.randint(3, V - 2, (2, 6)))
    with torch.no_grad():
        cache = ours(**src, decoder_input_ids=torch.ones(2, 1, dtype=torch.long)).past_key_values
        with pytest.raises(ValueError, match="cross-attention cache holds 2"):
            ours(input_ids=torch.randint(3, V - 2, (3, 6)), decoder_input_ids=torch.ones(3, 1, dtype=torch.long),
                 past_key_values=cache)  # fmt: skip
