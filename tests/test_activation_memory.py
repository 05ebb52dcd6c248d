"""A forward keeps each layer's input alive only when hidden states are asked for (peak memory at large batches)."""

from __future__ import annotations

import weakref

import pytest
import torch

from pretrained.models.bart import BartConfig, BartForConditionalGeneration
from pretrained.models.bert import BertConfig, BertForQuestionAnswering
from pretrained.models.distilbert import DistilBertConfig, DistilBertForTokenClassification
from pretrained.models.gpt2 import GPT2Config, GPT2LMHeadModel
from pretrained.models.llama import LlamaConfig, LlamaForCausalLM
from pretrained.models.t5 import T5Config, T5ForConditionalGeneration

V, C, L = 50, 16, 6


def _models():
    seq2seq = dict(decoder_input_ids=torch.tensor([[0, 3, 4]]))
    return {
        "bert": (
            BertForQuestionAnswering(
                BertConfig(
                    vocab_size=V,
                    hidden_size=C,
                    num_hidden_layers=L,
                    num_attention_heads=2,
                    intermediate_size=32,
                )
            ),
            {},
        ),
        "distilbert": (
            DistilBertForTokenClassification(
                DistilBertConfig(vocab_size=V, dim=C, n_layers=L, n_heads=2, hidden_dim=32)
            ),
            {},
        ),
        "t5": (
            T5ForConditionalGeneration(
                T5Config(
                    vocab_size=V,
                    d_model=C,
                    d_ff=32,
                    d_kv=8,
                    num_layers=L,
                    num_heads=2,
                    decoder_start_token_id=0,
                )
            ),
            seq2seq,
        ),
        "bart": (
            BartForConditionalGeneration(
                BartConfig(
                    vocab_size=V,
                    d_model=C,
                    encoder_layers=L,
                    decoder_layers=L,
                    encoder_attention_heads=2,
                    decoder_attention_heads=2,
                    encoder_ffn_dim=32,
                    decoder_ffn_dim=32,
                    max_position_embeddings=32,
                )
            ),
            seq2seq,
        ),
        "gpt2": (
            GPT2LMHeadModel(GPT2Config(vocab_size=V, n_embd=C, n_layer=L, n_head=2, n_positions=32)),
            {},
        ),
        "llama": (
            LlamaForCausalLM(
                LlamaConfig(
                    vocab_size=V,
                    hidden_size=C,
                    intermediate_size=32,
                    num_hidden_layers=L,
                    num_attention_heads=2,
                )
            ),
            {},
        ),
    }


def _layer_lists(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == L]


@pytest.mark.parametrize("family", ["bert", "distilbert", "t5", "bart", "gpt2", "llama"])
@pytest.mark.parametrize("hidden_states", [False, True])
def test_layer_inputs_are_freed_unless_hidden_states_are_asked(family, hidden_states):
    torch.manual_seed(0)
    model, extra = _models()[family]
    model.eval()
    stacks = _layer_lists(model)
    assert stacks
    alive_at_last: list[int] = []
    for layers in stacks:
        seen: list[weakref.ref] = []

        def remember(module, args, seen=seen):
            seen.append(weakref.ref(args[0]))

        def count(module, args, seen=seen):
            # inputs of layers 1 .. L-3 (layer 0's may be the stack's own input, which its caller holds)
            alive_at_last.append(sum(r() is not None for r in seen[1:-2]))

        for layer in layers[:-1]:
            layer.register_forward_pre_hook(remember)
        layers[-1].register_forward_pre_hook(count)
    with torch.inference_mode():
        model(torch.tensor([[1, 2, 3, 4, 5, 6]]), output_hidden_states=hidden_states, **extra)
    assert len(alive_at_last) == len(stacks)
    if hidden_states:
        assert all(n == L - 4 for n in alive_at_last)  # the test can tell: every one is kept
    else:
        assert alive_at_last == [0] * len(stacks)
