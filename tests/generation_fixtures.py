"""Test fixtures for generation: tiny reference models and adapters that run them behind our GenerationMixin.

The adapters let the decoding algorithm be compared with the reference ``generate`` on bit-identical logits
(same model, same forward); the parity tests on our own GPT-2 / Llama check the models on top of that.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pretrained.config import PretrainedConfig
from pretrained.generation import GenerationConfig, GenerationMixin
from pretrained.modeling import PreTrainedModel
from pretrained.outputs import BaseModelOutput, CausalLMOutput, Seq2SeqLMOutput


class _RefCache:
    """Our cache protocol (get_seq_length / reorder) over a reference cache object."""

    def __init__(self, ref) -> None:
        self.ref = ref

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.ref.get_seq_length()

    def reorder(self, beam_idx: torch.Tensor) -> None:
        self.ref.reorder_cache(beam_idx)


def _config(ref_model) -> PretrainedConfig:
    data = ref_model.config.to_dict()
    data.pop("model_type", None)
    return PretrainedConfig(**data)


class RefCausalLM(PreTrainedModel, GenerationMixin):
    """A reference causal LM behind our forward contract."""

    def __init__(self, ref_model) -> None:
        super().__init__(_config(ref_model))
        self.ref = ref_model
        self.generation_config = GenerationConfig.from_dict(ref_model.generation_config.to_dict())

    def _new_generation_cache(self, max_cache_len, encoder_len):
        from transformers import DynamicCache

        return _RefCache(DynamicCache())

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        use_cache=None,
        logits_to_keep=0,
        return_dict=None,
        output_attentions=None,
        output_hidden_states=None,
    ):
        out = self.ref(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=None if past_key_values is None else past_key_values.ref,
            use_cache=use_cache,
            logits_to_keep=logits_to_keep,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return CausalLMOutput(
            logits=out.logits,
            past_key_values=past_key_values,
            attentions=out.attentions,
            hidden_states=out.hidden_states,
        )


class _RefEncoder(nn.Module):
    def __init__(self, ref_encoder) -> None:
        super().__init__()
        self.ref = ref_encoder

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        output_attentions=None,
        output_hidden_states=None,
        return_dict=None,
    ):
        out = self.ref(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        return BaseModelOutput(out.last_hidden_state, out.hidden_states, out.attentions)


class RefSeq2SeqLM(PreTrainedModel, GenerationMixin):
    """A reference encoder-decoder LM behind our seq2seq forward contract."""

    def __init__(self, ref_model) -> None:
        super().__init__(_config(ref_model))
        self.ref = ref_model
        self.encoder_wrapper = _RefEncoder(ref_model.get_encoder())
        self.generation_config = GenerationConfig.from_dict(ref_model.generation_config.to_dict())

    def get_encoder(self):
        return self.encoder_wrapper

    def _new_generation_cache(self, max_cache_len, encoder_len):
        from transformers import DynamicCache, EncoderDecoderCache

        return _RefCache(EncoderDecoderCache(DynamicCache(), DynamicCache()))

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        decoder_input_ids=None,
        decoder_attention_mask=None,
        encoder_outputs=None,
        past_key_values=None,
        use_cache=None,
        return_dict=None,
        output_attentions=None,
        output_hidden_states=None,
    ):
        out = self.ref(
            input_ids=input_ids,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=decoder_attention_mask,
            encoder_outputs=(encoder_outputs.last_hidden_state,),
            past_key_values=None if past_key_values is None else past_key_values.ref,
            use_cache=use_cache,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return Seq2SeqLMOutput(
            logits=out.logits,
            past_key_values=past_key_values,
            decoder_attentions=out.decoder_attentions,
            cross_attentions=out.cross_attentions,
            decoder_hidden_states=out.decoder_hidden_states,
        )


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
