"""Tiny checkpoints for the generative pipelines, built by the reference libraries into folders on disk.

Each builder trains a small tokenizer with the reference ``tokenizers`` / ``sentencepiece`` (byte-level BPE for
GPT-2, Llama and BART; a SentencePiece unigram model for T5, Marian and mBART), creates a random tiny model with
``transformers`` (2 layers, hidden 32) under a fixed seed and saves both, so ``pretrained.pipeline`` and
``transformers.pipeline`` read the very same folder.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import torch

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] }}"
    "{% if not loop.last or not continue_final_message %}{{ '<|im_end|>' + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# a template that follows transformers' convention for prefill: no end tag after the final message
CHATML_PREFILL = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# weights this wide make a tiny random model's output depend on its input (0.02 gives one repeated token)
STD = 0.25

WORDS = (
    "the quick brown fox jumps over lazy dog Paris is capital of France what where who hello world "
    "café naïve 東京 summary translate English German French article news report said . , ! ? it's"
).split()


def corpus(n: int = 300, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(n)]


def train_bpe(specials: list[str], vocab_size: int = 320):
    """A byte-level BPE ``tokenizers.Tokenizer`` (specials get the first ids)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer)
    return tok


def train_spm(folder: Path, vocab_size: int = 120) -> Path:
    """A SentencePiece unigram model with T5's special ids (pad 0, eos 1, unk 2)."""
    import sentencepiece as spm

    text = folder / "corpus.txt"
    text.write_text("\n".join(corpus()), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(folder / "spiece"), vocab_size=vocab_size, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, character_coverage=1.0,
        minloglevel=2,
    )  # fmt: skip
    text.unlink()
    (folder / "spiece.vocab").unlink()
    return folder / "spiece.model"


def _save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def causal_lm(folder: Path, arch: str, seed: int = 0) -> Path:
    """``gpt2``: GPT2TokenizerFast without a pad token (right padding side, as the class);
    ``llama``: a ChatML tokenizer with a pad token, a BOS added by the post-processor and left padding;
    ``llama-prefill``: as ``llama`` but a template without the end tag on a prefilled final message."""
    import transformers
    from tokenizers import processors

    folder.mkdir(parents=True, exist_ok=True)
    bpe = train_bpe(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"])
    torch.manual_seed(seed)
    tiny = dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=4)
    if arch == "gpt2":
        tok = transformers.GPT2TokenizerFast(tokenizer_object=bpe, chat_template=CHATML)
        config = transformers.GPT2Config(
            vocab_size=len(tok), n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=0, eos_token_id=0,
            initializer_range=STD,
        )  # fmt: skip
        model = transformers.GPT2LMHeadModel(config)
    else:
        bpe.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A",
            pair="<|endoftext|> $A <|endoftext|> $B",
            special_tokens=[("<|endoftext|>", 0)],
        )
        tok = transformers.PreTrainedTokenizerFast(
            tokenizer_object=bpe,
            bos_token="<|endoftext|>",
            eos_token="<|im_end|>",
            pad_token="<pad>",
            padding_side="left",
            chat_template=CHATML if arch == "llama" else CHATML_PREFILL,
        )
        config = transformers.LlamaConfig(
            vocab_size=len(tok), intermediate_size=64, num_key_value_heads=2, max_position_embeddings=128,
            bos_token_id=0, eos_token_id=2, pad_token_id=3, initializer_range=STD, **tiny,
        )  # fmt: skip
        model = transformers.LlamaForCausalLM(config)
    return _save(model.eval(), tok, folder)


T5_TASKS = {
    "summarization": {"prefix": "summarize: ", "max_length": 12, "min_length": 3, "num_beams": 2,
                      "no_repeat_ngram_size": 3, "length_penalty": 2.0, "early_stopping": True},
    "translation_en_to_de": {"prefix": "translate English to German: ", "max_length": 10, "num_beams": 3,
                             "early_stopping": True},
    "translation_en_to_fr": {"prefix": "translate English to French: ", "max_length": 9, "num_beams": 2},
}  # fmt: skip


def t5(folder: Path, seed: int = 0, task_specific_params: dict | None = T5_TASKS) -> Path:
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    slow = transformers.T5Tokenizer(str(train_spm(folder)), extra_ids=3, legacy=False)
    slow.save_pretrained(folder)
    tok = transformers.T5TokenizerFast.from_pretrained(folder)
    torch.manual_seed(seed)
    config = transformers.T5Config(
        vocab_size=len(tok), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, decoder_start_token_id=0,
        relative_attention_num_buckets=8, task_specific_params=task_specific_params, initializer_factor=3.0,
    )  # fmt: skip
    return _save(transformers.T5ForConditionalGeneration(config).eval(), tok, folder)


def bart(folder: Path, seed: int = 3, generation: dict | None = None) -> Path:
    """A BART; ``generation`` sets generation_config.json fields (e.g. bart-large-cnn's summarization ones)."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    bpe = train_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.model.save(str(folder))  # vocab.json + merges.txt: the slow-to-fast conversion builds the real thing
    tok = transformers.BartTokenizerFast.from_pretrained(folder)
    torch.manual_seed(seed)
    fields = dict(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64, init_std=STD,
    )  # fmt: skip
    model = transformers.BartForConditionalGeneration(transformers.BartConfig(**fields)).eval()
    model.generation_config.update(**(generation or {}))
    with torch.no_grad():
        model.final_logits_bias.normal_(std=0.1)
    return _save(model, tok, folder)


def marian(folder: Path, seed: int = 1) -> Path:
    """A Marian model; its tokenizer is a generic fast tokenizer (MarianTokenizer needs the slow classes)."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    spm_dir = folder / "spm"
    spm_dir.mkdir()
    slow = transformers.T5Tokenizer(str(train_spm(spm_dir)), extra_ids=0, legacy=False)
    slow.save_pretrained(spm_dir)
    fast = transformers.T5TokenizerFast.from_pretrained(spm_dir)
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=fast.backend_tokenizer, eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    shutil.rmtree(spm_dir)
    torch.manual_seed(seed)
    config = transformers.MarianConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64, init_std=STD,
        pad_token_id=0, decoder_start_token_id=0, eos_token_id=1, scale_embedding=True,
    )  # fmt: skip
    model = transformers.MarianMTModel(config).eval()
    model.generation_config.update(num_beams=3, max_length=12, bad_words_ids=[[0]])
    with torch.no_grad():
        model.final_logits_bias.normal_(std=0.1)
    return _save(model, tok, folder)


MBART_LANGS = ["en_XX", "de_DE", "fr_XX"]


def mbart(folder: Path, tokenizer_class: str = "MBartTokenizerFast", seed: int = 0) -> Path:
    """mBART with language codes: MBartTokenizerFast (``X </s> src``) or MBart50TokenizerFast (``src X </s>``)."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    spm_dir = folder / "spm"
    spm_dir.mkdir()
    train_spm(spm_dir, vocab_size=100)
    cls = getattr(transformers, tokenizer_class)
    slow = getattr(transformers, tokenizer_class.removesuffix("Fast"))
    slow_tok = slow(str(spm_dir / "spiece.model"), src_lang="en_XX", tgt_lang="de_DE")
    slow_tok.save_pretrained(spm_dir)
    tok = cls.from_pretrained(spm_dir, src_lang="en_XX", tgt_lang="de_DE")
    shutil.rmtree(spm_dir)
    torch.manual_seed(seed)
    config = transformers.MBartConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64, init_std=STD,
        scale_embedding=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id, decoder_start_token_id=tok.eos_token_id,
    )  # fmt: skip
    model = transformers.MBartForConditionalGeneration(config).eval()
    model.generation_config.update(max_length=10, num_beams=2)
    return _save(model, tok, folder)
