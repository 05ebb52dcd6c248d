"""Test fixtures for generation: tiny reference models (saved, then loaded by ours) and a tiny BPE tokenizer."""

from __future__ import annotations

import pytest
import torch


def tiny_gpt2(seed: int = 0, vocab_size: int = 96, **overrides):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(
        vocab_size=vocab_size,
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=128,
        **{"bos_token_id": 1, "eos_token_id": 2, **overrides},
    )
    return transformers.GPT2LMHeadModel(cfg).eval()


def tiny_llama(seed: int = 0, vocab_size: int = 96, **overrides):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        **{"bos_token_id": 1, "eos_token_id": 2, **overrides},
    )
    return transformers.LlamaForCausalLM(cfg).eval()


def tiny_t5(seed: int = 0, vocab_size: int = 96):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.T5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    return transformers.T5ForConditionalGeneration(cfg).eval()


def tiny_bart(seed: int = 0, vocab_size: int = 96):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.BartConfig(
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
    )
    return transformers.BartForConditionalGeneration(cfg).eval()


def tiny_marian(seed: int = 0, vocab_size: int = 96):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.MarianConfig(
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        pad_token_id=vocab_size - 1,
        eos_token_id=0,
        decoder_start_token_id=vocab_size - 1,
        forced_eos_token_id=0,
    )
    return transformers.MarianMTModel(cfg).eval()


CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Generation streams text as it is produced.",
    "Beam search keeps the best hypotheses; sampling draws from the distribution.",
    "naïve café — 東京 and 北京 are cities. Ünïcödé, emoji 🙂 and tabs\tand\nnew lines.",
    "User: what is the answer?\nAssistant: the answer is forty-two.\n\n",
]


def tiny_bpe_tokenizer(folder):
    """A real byte-level BPE tokenizer (~300 ids) trained on a few lines, saved in ``folder``: (reference, path)."""
    import tokenizers
    import transformers

    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 20, vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"])
    ref = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    ref.save_pretrained(folder)
    return ref, folder


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Tiny models run fastest on one thread (and don't spin against other jobs on shared cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
