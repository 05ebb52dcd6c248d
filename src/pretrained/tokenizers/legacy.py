"""Build a ``tokenizer.json`` dict from legacy ("slow") tokenizer files.

Checkpoints older than the fast-tokenizer era ship only ``vocab.txt`` (BERT family, MPNet, Funnel),
``vocab.json`` + ``merges.txt`` (GPT-2, RoBERTa, BART, Qwen2, CLIP, OpenAI GPT, DeBERTa) or a SentencePiece
``*.model`` (Llama, Gemma, T5/MT5, XLM-R, Camembert, Albert, XLNet, BigBird, DeBERTa-v2, mBART, NLLB, Pegasus, ...;
:data:`CONVENTIONS` lists them). transformers turns those
into a fast tokenizer with ``convert_slow_tokenizer``; each function here returns exactly the
``tokenizer.json`` dict that conversion produces, so our engine loads it with ``Tokenizer.from_str`` and
gives the same ids. Special tokens that the tokenizer class adds afterwards are added by
:class:`~pretrained.tokenizers.tokenization.PreTrainedTokenizer`, as transformers does.

>>> tok_json = bert_tokenizer_json("vocab.txt", do_lower_case=True)  # doctest: +SKIP
>>> tok_json["model"]["type"]  # doctest: +SKIP
'WordPiece'
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from .language_codes import LANGUAGE_CODE_CLASSES, MBART50_CODES, MBART_CODES, with_language_codes
from .sentencepiece_model import ModelType, PieceType, SentencePieceModel
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES

log = logging.getLogger(__name__)

SPIECE_UNDERLINE = "\u2581"

# tokenizer class name (as in tokenizer_config.json's "tokenizer_class") -> legacy file convention
CONVENTIONS: dict[str, str] = {
    "BertTokenizer": "bert",
    "DistilBertTokenizer": "bert",
    "ElectraTokenizer": "bert",
    "LayoutLMTokenizer": "bert",
    "LxmertTokenizer": "bert",
    "MobileBertTokenizer": "bert",
    "SqueezeBertTokenizer": "bert",
    "RetriBertTokenizer": "bert",
    "DPRQuestionEncoderTokenizer": "bert",
    "DPRContextEncoderTokenizer": "bert",
    "DPRReaderTokenizer": "bert",
    "RealmTokenizer": "bert",
    "GPT2Tokenizer": "gpt2",
    "CodeGenTokenizer": "gpt2",
    "RobertaTokenizer": "roberta",
    "BartTokenizer": "roberta",
    "LongformerTokenizer": "roberta",
    "LEDTokenizer": "roberta",
    "MvpTokenizer": "roberta",
    "LlamaTokenizer": "llama",
    "CodeLlamaTokenizer": "llama",
    "GemmaTokenizer": "gemma",
    "T5Tokenizer": "t5",
    "MT5Tokenizer": "t5",
    "XLMRobertaTokenizer": "xlm_roberta",
    "CamembertTokenizer": "camembert",
    "AlbertTokenizer": "albert",
    "XLNetTokenizer": "xlnet",
    "BigBirdTokenizer": "big_bird",
    "DebertaV2Tokenizer": "deberta_v2",
    "MBartTokenizer": "mbart",
    "MBart50Tokenizer": "mbart50",
    "NllbTokenizer": "nllb",
    "PegasusTokenizer": "pegasus",
    "BarthezTokenizer": "barthez",
    "FNetTokenizer": "fnet",
    "ReformerTokenizer": "reformer",
    "RemBertTokenizer": "rembert",
    "XGLMTokenizer": "xglm",
    "ConvBertTokenizer": "bert",
    "FunnelTokenizer": "funnel",
    "SplinterTokenizer": "splinter",
    "Qwen2Tokenizer": "qwen2",
    "OpenAIGPTTokenizer": "openai_gpt",
    "DebertaTokenizer": "deberta",
    "CLIPTokenizer": "clip",
    "MPNetTokenizer": "mpnet",
}

# convention -> {init argument: file name looked up beside tokenizer_config.json}
VOCAB_FILES: dict[str, dict[str, str]] = {
    "bert": {"vocab_file": "vocab.txt"},
    "gpt2": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "roberta": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "llama": {"vocab_file": "tokenizer.model"},
    "gemma": {"vocab_file": "tokenizer.model"},
    "t5": {"vocab_file": "spiece.model"},
    "xlm_roberta": {"vocab_file": "sentencepiece.bpe.model"},
    "camembert": {"vocab_file": "sentencepiece.bpe.model"},
    "albert": {"vocab_file": "spiece.model"},
    "xlnet": {"vocab_file": "spiece.model"},
    "big_bird": {"vocab_file": "spiece.model"},
    "deberta_v2": {"vocab_file": "spm.model"},
    "mbart": {"vocab_file": "sentencepiece.bpe.model"},
    "mbart50": {"vocab_file": "sentencepiece.bpe.model"},
    "nllb": {"vocab_file": "sentencepiece.bpe.model"},
    "pegasus": {"vocab_file": "spiece.model"},
    "barthez": {"vocab_file": "sentencepiece.bpe.model"},
    "fnet": {"vocab_file": "spiece.model"},
    "reformer": {"vocab_file": "spiece.model"},
    "rembert": {"vocab_file": "sentencepiece.model"},
    "xglm": {"vocab_file": "sentencepiece.bpe.model"},
    "funnel": {"vocab_file": "vocab.txt"},
    "splinter": {"vocab_file": "vocab.txt"},
    "qwen2": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "openai_gpt": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "deberta": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "clip": {"vocab_file": "vocab.json", "merges_file": "merges.txt"},
    "mpnet": {"vocab_file": "vocab.txt"},
}
# SentencePiece conventions converted by :func:`spm_tokenizer_json` (transformers' SpmConverter subclasses)
SPM_CONVENTIONS = (
    "pegasus",
    "barthez",
    "fnet",
    "reformer",
    "rembert",
    "xglm",
    "xlm_roberta",
    "camembert",
    "albert",
    "xlnet",
    "big_bird",
    "deberta_v2",
    "mbart",
    "mbart50",
    "nllb",
)


def _tokenizer_json(
    model: dict, normalizer=None, pre_tokenizer=None, post_processor=None, decoder=None
) -> dict:
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": decoder,
        "model": model,
    }


def template_processing(single: str, pair: str, special_tokens: list[tuple[str, int]]) -> dict:
    """A ``TemplateProcessing`` post-processor dict from transformers-style templates.

    >>> template_processing("[CLS]:0 $A:0 [SEP]:0", "$A $B:1", [("[CLS]", 101), ("[SEP]", 102)])["single"][1]
    {'Sequence': {'id': 'A', 'type_id': 0}}
    """

    def parse(template: str) -> list[dict]:
        out = []
        for piece in template.split():
            name, _, type_id = piece.rpartition(":") if ":" in piece else (piece, "", "0")
            if piece.startswith("$"):
                seq = name[1:] or "A"
                out.append({"Sequence": {"id": seq, "type_id": int(type_id)}})
            else:
                out.append({"SpecialToken": {"id": name, "type_id": int(type_id)}})
        return out

    return {
        "type": "TemplateProcessing",
        "single": parse(single),
        "pair": parse(pair),
        "special_tokens": {tok: {"id": tok, "ids": [i], "tokens": [tok]} for tok, i in special_tokens},
    }


def _read_lines_vocab(vocab_file: str | os.PathLike) -> dict[str, int]:
    """BERT's ``load_vocab``: one token per line, the line index is the id (a repeated token keeps the last)."""
    vocab: dict[str, int] = {}
    with open(vocab_file, encoding="utf-8") as reader:
        for index, token in enumerate(reader.readlines()):
            vocab[token.rstrip("\n")] = index
    if not vocab:
        raise ValueError(f"{vocab_file}: the WordPiece vocabulary file is empty")
    return vocab


def special_token_ids(
    vocab: dict[str, int], specials: list[str | None], added: dict[str, int] | None = None
) -> dict[str, int]:
    """Ids of special tokens as the slow tokenizer assigns them: the vocabulary id, else appended in order.

    ``specials`` lists the tokens in transformers' attribute order (bos, eos, unk, sep, pad, cls, mask);
    ``added`` the tokens already added beside the vocabulary (added_tokens.json, added_tokens_decoder).

    >>> special_token_ids({"a": 0}, ["<s>", "a", "</s>", "<s>"])
    {'<s>': 1, 'a': 0, '</s>': 2}
    >>> special_token_ids({"a": 0}, ["<s>", "</s>"], {"<x>": 1, "</s>": 2})
    {'<s>': 3, '</s>': 2}
    """
    added = {t: i for t, i in (added or {}).items() if t not in vocab}
    out: dict[str, int] = {}
    next_id = len(vocab) + len(added)
    for token in specials:
        if token is None or token == "" or token in out:
            continue
        if token in vocab:
            out[token] = vocab[token]
        elif token in added:
            out[token] = added[token]
        else:
            out[token] = next_id
            next_id += 1
    return out


def bert_tokenizer_json(
    vocab_file: str | os.PathLike,
    *,
    do_lower_case: bool = True,
    tokenize_chinese_chars: bool = True,
    strip_accents: bool | None = None,
    do_basic_tokenize: bool = True,
    unk_token: str = "[UNK]",
    sep_token: str = "[SEP]",
    pad_token: str = "[PAD]",
    cls_token: str = "[CLS]",
    mask_token: str = "[MASK]",
    bos_token: str | None = None,
    eos_token: str | None = None,
    mpnet: bool = False,
    cls_type_id: int = 0,
    added_token_ids: dict[str, int] | None = None,
    question_token: str | None = None,
    padding_side: str = "right",
) -> dict:
    """``BertConverter``: WordPiece over ``vocab.txt`` with the BERT normalizer and [CLS]/[SEP] template.

    ``mpnet`` gives ``MPNetConverter``'s pair template, with two separators between the sequences (its
    ``bos_token``/``eos_token`` count for the ids of special tokens missing from the vocabulary);
    ``cls_type_id=2`` gives ``FunnelConverter``'s; ``question_token`` ``SplinterConverter``'s pair template
    (``[CLS] A [QUESTION] . [SEP] B [SEP]``, the question after B when ``padding_side`` is "left").

    >>> bert_tokenizer_json("vocab.txt")["normalizer"]["lowercase"]  # doctest: +SKIP
    True
    """
    vocab = _read_lines_vocab(vocab_file)
    if (
        not do_basic_tokenize
    ):  # the slow tokenizer has no basic tokenizer then; the converter falls back to False
        tokenize_chinese_chars = strip_accents = do_lower_case = False

    specials = [bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token]
    ids = special_token_ids(vocab, specials, added_token_ids)
    model = {
        "type": "WordPiece",
        "unk_token": str(unk_token),
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "vocab": vocab,
    }
    normalizer = {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": tokenize_chinese_chars,
        "strip_accents": strip_accents,
        "lowercase": do_lower_case,
    }
    cls, sep = str(cls_token), str(sep_token)
    middle = f"{sep}:0 {sep}:0" if mpnet else f"{sep}:0"
    single = f"{cls}:{cls_type_id} $A:0 {sep}:0"
    pair = f"{cls}:{cls_type_id} $A:0 {middle} $B:1 {sep}:1"
    template_tokens = [(cls, ids[cls]), (sep, ids[sep])]
    if question_token is not None:
        question = str(question_token)
        if padding_side == "right":
            pair = f"{cls}:0 $A:0 {question} . {sep}:0 $B:1 {sep}:1"
        else:
            pair = f"{cls}:0 $A:0 {sep}:0 $B:1 {question} . {sep}:1"
        unk_id = ids[str(unk_token)]  # the slow class looks both up in the vocabulary only
        template_tokens += [(question, vocab.get(question, unk_id)), (".", vocab.get(".", unk_id))]
    post = template_processing(single, pair, template_tokens)
    decoder = {"type": "WordPiece", "prefix": "##", "cleanup": True}
    return _tokenizer_json(model, normalizer, {"type": "BertPreTokenizer"}, post, decoder)


def _merge_lines(text: str, style: str) -> list[str]:
    """The merge lines of ``merges.txt`` as each slow tokenizer reads them.

    GPT-2 drops the first (#version) and last line; Qwen2 skips a first "#version" line and blank lines; CLIP
    drops the first line of the stripped text and keeps at most 48894 merges.

    >>> _merge_lines("#version: 0.2\\na b\\n\\nc d\\n", "qwen2")
    ['a b', 'c d']
    """
    if style == "qwen2":
        lines = [line.strip() for line in text.split("\n")]
        return [
            line for i, line in enumerate(lines) if line and not (i == 0 and line.startswith("#version:"))
        ]
    if style == "clip":
        return text.strip().split("\n")[1 : 49152 - 256 - 2 + 1]
    return text.split("\n")[1:-1]


def _read_bpe_files(
    vocab_file: str | os.PathLike, merges_file: str | os.PathLike, style: str = "gpt2"
) -> tuple[dict, list]:
    """A slow tokenizer's reading of ``vocab.json`` and ``merges.txt`` (see :func:`_merge_lines`)."""
    with open(vocab_file, encoding="utf-8") as f:
        try:
            vocab = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{vocab_file}: not a valid JSON vocabulary ({e})") from None
    if not isinstance(vocab, dict):
        raise ValueError(
            f"{vocab_file}: expected a JSON object mapping token -> id, got {type(vocab).__name__}"
        )
    with open(merges_file, encoding="utf-8") as f:
        lines = _merge_lines(f.read(), style)
    ranks: dict[tuple[str, ...], int] = {}
    for rank, line in enumerate(lines):
        merge = tuple(line.split())
        if len(merge) != 2:
            raise ValueError(f"{merges_file}: line {rank + 2} is not a merge of two tokens: {line!r}")
        ranks.setdefault(merge, rank)
    return vocab, [list(m) for m in ranks]


def _bpe_model(vocab: dict, merges: list, **options: Any) -> dict:
    model = {
        "type": "BPE",
        "dropout": None,
        "unk_token": None,
        "continuing_subword_prefix": "",
        "end_of_word_suffix": "",
        "fuse_unk": False,
        "byte_fallback": False,
        "ignore_merges": False,
    }
    model.update(options)
    model["vocab"] = vocab
    model["merges"] = merges
    return model


def _byte_level(add_prefix_space: bool, trim_offsets: bool = True) -> dict:
    return {
        "type": "ByteLevel",
        "add_prefix_space": add_prefix_space,
        "trim_offsets": trim_offsets,
        "use_regex": True,
    }


def gpt2_tokenizer_json(
    vocab_file: str | os.PathLike,
    merges_file: str | os.PathLike,
    *,
    add_prefix_space: bool = False,
    add_bos_token: bool = False,
    bos_token: str = "<|endoftext|>",
) -> dict:
    """``GPT2Converter``: byte-level BPE over ``vocab.json`` + ``merges.txt``.

    >>> gpt2_tokenizer_json("vocab.json", "merges.txt")["pre_tokenizer"]["type"]  # doctest: +SKIP
    'ByteLevel'
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file)
    if add_bos_token:
        bos = str(bos_token)
        bos_id = special_token_ids(vocab, [bos])[bos]
        post = template_processing(f"{bos}:0 $A:0", f"{bos}:0 $A:0 $B:1", [(bos, bos_id)])
    else:
        post = _byte_level(True, trim_offsets=False)
    return _tokenizer_json(
        _bpe_model(vocab, merges), None, _byte_level(add_prefix_space), post, _byte_level(True)
    )


def roberta_tokenizer_json(
    vocab_file: str | os.PathLike,
    merges_file: str | os.PathLike,
    *,
    add_prefix_space: bool = False,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
    unk_token: str = "<unk>",
    sep_token: str = "</s>",
    pad_token: str = "<pad>",
    cls_token: str = "<s>",
    mask_token: str = "<mask>",
) -> dict:
    """``RobertaConverter`` (RoBERTa, BART, Longformer, ...): byte-level BPE with ``<s> A </s></s> B </s>``.

    >>> roberta_tokenizer_json("vocab.json", "merges.txt")["post_processor"]["type"]  # doctest: +SKIP
    'RobertaProcessing'
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file)
    specials = [bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token]
    ids = special_token_ids(vocab, [None if t is None else str(t) for t in specials])
    post = {
        "type": "RobertaProcessing",
        "sep": [str(sep_token), ids[str(sep_token)]],
        "cls": [str(cls_token), ids[str(cls_token)]],
        "trim_offsets": True,
        "add_prefix_space": add_prefix_space,
    }
    return _tokenizer_json(
        _bpe_model(vocab, merges), None, _byte_level(add_prefix_space), post, _byte_level(True)
    )


def qwen2_tokenizer_json(
    vocab_file: str | os.PathLike, merges_file: str | os.PathLike, *, add_prefix_space: bool = False
) -> dict:
    """``Qwen2Converter``: NFC, Qwen's split regex then byte-level BPE, no special-token template.

    >>> qwen2_tokenizer_json("vocab.json", "merges.txt")["normalizer"]  # doctest: +SKIP
    {'type': 'NFC'}
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file, "qwen2")
    pattern = (
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"""
        r"""\s+(?!\S)|\s+"""
    )
    split = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}
    byte_level = {**_byte_level(add_prefix_space), "use_regex": False}
    pre = {"type": "Sequence", "pretokenizers": [split, byte_level]}
    model = _bpe_model(vocab, merges)
    return _tokenizer_json(
        model, {"type": "NFC"}, pre, _byte_level(True, trim_offsets=False), _byte_level(True)
    )


def clip_tokenizer_json(
    vocab_file: str | os.PathLike,
    merges_file: str | os.PathLike,
    *,
    unk_token: str = "<|endoftext|>",
    bos_token: str = "<|startoftext|>",
    eos_token: str = "<|endoftext|>",
    pad_token: str = "<|endoftext|>",
) -> dict:
    """``CLIPConverter``: NFC, whitespace runs to one space, lowercase; byte-level BPE with "</w>" word ends.

    >>> clip_tokenizer_json("vocab.json", "merges.txt")["model"]["end_of_word_suffix"]  # doctest: +SKIP
    '</w>'
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file, "clip")
    normalizer = {
        "type": "Sequence",
        "normalizers": [{"type": "NFC"}, _replace(r"\s+", " ", regex=True), {"type": "Lowercase"}],
    }
    pattern = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
    split = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Removed", "invert": True}
    pre = {"type": "Sequence", "pretokenizers": [split, _byte_level(False)]}
    ids = special_token_ids(vocab, [bos_token, eos_token, unk_token, None, pad_token])
    post = {
        "type": "RobertaProcessing",
        "sep": [eos_token, ids[eos_token]],
        "cls": [bos_token, ids[bos_token]],
        "trim_offsets": False,
        "add_prefix_space": False,
    }
    model = _bpe_model(vocab, merges, end_of_word_suffix="</w>", unk_token=unk_token)
    return _tokenizer_json(model, normalizer, pre, post, _byte_level(True))


def openai_gpt_tokenizer_json(
    vocab_file: str | os.PathLike, merges_file: str | os.PathLike, *, unk_token: str = "<unk>"
) -> dict:
    """``OpenAIGPTConverter``: lowercasing BERT normalizer and pre-tokenizer, BPE with "</w>" word ends.

    >>> openai_gpt_tokenizer_json("vocab.json", "merges.txt")["decoder"]["type"]  # doctest: +SKIP
    'BPEDecoder'
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file)
    model = _bpe_model(
        vocab, merges, unk_token=str(unk_token), end_of_word_suffix="</w>", continuing_subword_prefix=None
    )
    normalizer = {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": True,
        "strip_accents": None,
        "lowercase": True,
    }
    decoder = {"type": "BPEDecoder", "suffix": "</w>"}
    out = _tokenizer_json(model, normalizer, {"type": "BertPreTokenizer"}, None, decoder)
    if str(unk_token) in vocab:  # the converter adds the unknown token as a special token
        out["added_tokens"] = [
            {
                "id": vocab[str(unk_token)],
                "content": str(unk_token),
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        ]
    return out


def deberta_tokenizer_json(
    vocab_file: str | os.PathLike,
    merges_file: str | os.PathLike,
    *,
    add_prefix_space: bool = False,
    added_token_ids: dict[str, int] | None = None,
    **tokens: str,
) -> dict:
    """``DebertaConverter`` (DeBERTa v1): byte-level BPE with the ``[CLS] A [SEP] B [SEP]`` template.

    ``tokens`` are the slow class's special tokens (``bos_token`` ... ``mask_token``).

    >>> deberta_tokenizer_json("vocab.json", "merges.txt")["post_processor"]["type"]  # doctest: +SKIP
    'TemplateProcessing'
    """
    vocab, merges = _read_bpe_files(vocab_file, merges_file)
    defaults = dict(bos_token="[CLS]", eos_token="[SEP]", unk_token="[UNK]", sep_token="[SEP]",
                    pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")  # fmt: skip
    specials = [str(tokens.get(k, v)) for k, v in defaults.items()]
    ids = special_token_ids(vocab, specials, added_token_ids)
    post = template_processing(
        "[CLS]:0 $A:0 [SEP]:0",
        "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        [(n, ids.get(n, vocab.get(n, ids[specials[2]]))) for n in ("[CLS]", "[SEP]")],
    )
    return _tokenizer_json(
        _bpe_model(vocab, merges), None, _byte_level(add_prefix_space), post, _byte_level(True)
    )


def generate_merges(vocab: dict[str, int], vocab_scores: list[tuple[str, float]] | None) -> list[list[str]]:
    """Merges implied by a SentencePiece BPE vocabulary, ordered as transformers' ``generate_merges``.

    Every piece that splits into two in-vocabulary pieces yields a merge; merges are ranked by the merged
    piece's score (highest first), then by the lengths of the two halves.

    >>> generate_merges({"a": 0, "b": 1, "ab": 2}, [("a", 0.0), ("b", 0.0), ("ab", -1.0)])
    [['a', 'b']]
    """
    reverse = vocab_scores is not None
    scores = dict(vocab_scores) if reverse else vocab
    merges = []
    for merge, piece_score in scores.items():
        local = []
        for index in range(1, len(merge)):
            left, right = merge[:index], merge[index:]
            if left in vocab and right in vocab:
                local.append((left, right, piece_score))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda val: (val[2], len(val[0]), len(val[1])), reverse=reverse)
    return [[left, right] for left, right, _ in merges]


def _spm_model(
    proto: SentencePieceModel,
    vocab_scores: list[tuple[str, float]],
    unk_id: int,
    byte_fallback: bool,
    merge_vocab: dict[str, int] | None = None,
):
    """``SpmConverter.tokenizer``: a Unigram or BPE model dict plus the control/user-defined added tokens."""
    model_type = proto.trainer_spec.model_type
    if model_type == ModelType.UNIGRAM:
        model = {
            "type": "Unigram",
            "unk_id": unk_id,
            "vocab": [[p, s] for p, s in vocab_scores],
            "byte_fallback": byte_fallback,
        }
    elif model_type == ModelType.BPE:
        sp_vocab = merge_vocab or {p.piece: i for i, p in enumerate(proto.pieces)}
        merges = generate_merges(sp_vocab, vocab_scores)
        bpe_vocab = {word: i for i, (word, _) in enumerate(vocab_scores)}
        options = {"continuing_subword_prefix": None, "end_of_word_suffix": None}
        options.update(unk_token=proto.trainer_spec.unk_piece, fuse_unk=True, byte_fallback=byte_fallback)
        model = _bpe_model(bpe_vocab, merges, **options)
    else:
        name = ModelType(model_type).name if model_type in ModelType._value2member_map_ else str(model_type)
        raise ValueError(
            f"SentencePiece model type {name} is not supported; only UNIGRAM and BPE models can be converted"
        )
    ids = {
        piece: i for i, (piece, _) in enumerate(vocab_scores)
    }  # the model's ids (a repeated piece: the last)
    added: dict[int, dict] = {}
    # a piece the vocabulary lost (Pegasus drops "<s>") is appended after the model's vocabulary (BPE's holds
    # each piece once; Unigram's counts repeats)
    next_id = len(model["vocab"])
    for p in proto.pieces:
        if p.type in (PieceType.CONTROL, PieceType.USER_DEFINED):
            if p.piece not in ids:
                ids[p.piece], next_id = next_id, next_id + 1
            added.setdefault(
                ids[p.piece],
                {
                    "id": ids[p.piece],
                    "content": p.piece,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": False,
                    "special": p.type == PieceType.CONTROL,
                },
            )
    return model, [added[i] for i in sorted(added)]


def _replace(pattern: str, content: str, regex: bool = False) -> dict:
    return {"type": "Replace", "pattern": {"Regex" if regex else "String": pattern}, "content": content}


def _prepend_scheme(add_prefix_space: bool | None, legacy: bool) -> str:
    if not add_prefix_space:
        return "never"
    return "always" if legacy else "first"


def _metaspace(prepend_scheme: str, split: bool = True) -> dict:
    return {
        "type": "Metaspace",
        "replacement": SPIECE_UNDERLINE,
        "prepend_scheme": prepend_scheme,
        "split": split,
    }


def _spm_normalizer(proto: SentencePieceModel) -> dict:
    """``SpmConverter.normalizer``: the precompiled charsmap (if any), strip right, collapse space runs."""
    normalizers = [
        {"type": "Strip", "strip_left": False, "strip_right": True},
        _replace(" {2,}", SPIECE_UNDERLINE, regex=True),
    ]
    charsmap = proto.normalizer_spec.precompiled_charsmap
    if charsmap:
        charsmap_b64 = base64.b64encode(charsmap).decode("ascii")
        normalizers.insert(0, {"type": "Precompiled", "precompiled_charsmap": charsmap_b64})
    return {"type": "Sequence", "normalizers": normalizers}


def llama_tokenizer_json(
    vocab_file: str | os.PathLike, *, legacy: bool | None = True, add_prefix_space: bool | None = True
) -> dict:
    """``LlamaConverter``: SentencePiece BPE with byte fallback; the prefix space per ``legacy``.

    With ``legacy`` (the default) a normalizer prepends "▁" and replaces spaces; otherwise a Metaspace
    pre-tokenizer adds the prefix to the first piece only. The bos/eos template is set by the
    tokenizer class (:func:`bos_eos_template`), not here.

    >>> llama_tokenizer_json("tokenizer.model")["model"]["byte_fallback"]  # doctest: +SKIP
    True
    """
    legacy = True if legacy is None else legacy
    proto = SentencePieceModel.from_file(vocab_file)
    vocab_scores = [(p.piece, 0.0 if i < 3 else p.score) for i, p in enumerate(proto.pieces)]
    model, added = _spm_model(proto, vocab_scores, unk_id=0, byte_fallback=True)
    normalizer = pre_tokenizer = None
    if legacy:
        sequence = [{"type": "Prepend", "prepend": SPIECE_UNDERLINE}] if add_prefix_space else []
        normalizer = {"type": "Sequence", "normalizers": sequence + [_replace(" ", SPIECE_UNDERLINE)]}
    else:
        pre_tokenizer = _metaspace(_prepend_scheme(add_prefix_space, legacy), split=False)
    decoders = [_replace(SPIECE_UNDERLINE, " "), {"type": "ByteFallback"}, {"type": "Fuse"}]
    if add_prefix_space:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    out = _tokenizer_json(model, normalizer, pre_tokenizer, None, {"type": "Sequence", "decoders": decoders})
    out["added_tokens"] = added
    return out


def gemma_tokenizer_json(
    vocab_file: str | os.PathLike,
    *,
    pad_token: str = "<pad>",
    eos_token: str = "<eos>",
    bos_token: str = "<bos>",
) -> dict:
    """``GemmaConverter``: SentencePiece BPE with byte fallback, spaces as "▁", split after each space.

    The first three pieces become pad, eos and bos; a missing tab piece takes "<0x09>"'s place.

    >>> gemma_tokenizer_json("tokenizer.model")["pre_tokenizer"]["behavior"]  # doctest: +SKIP
    'MergedWithPrevious'
    """
    proto = SentencePieceModel.from_file(vocab_file)
    vocab_scores = [(str(pad_token), 0.0), (str(eos_token), 0.0), (str(bos_token), 0.0)]
    vocab_scores += [(p.piece, p.score) for p in proto.pieces[3:]]
    if not any(piece == "\t" for piece, _ in vocab_scores):
        tab = next((i for i, (piece, _) in enumerate(vocab_scores) if piece == "<0x09>"), None)
        if tab is not None:
            vocab_scores[tab] = ("\t", 0.0)
    sp_vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    if "\t" not in sp_vocab:
        sp_vocab["\t"] = sp_vocab.get("<0x09>")  # type: ignore[assignment]
    model, added = _spm_model(proto, vocab_scores, unk_id=3, byte_fallback=True, merge_vocab=sp_vocab)
    for token in added:
        token["special"] = token["special"] or token["content"] in ("<start_of_turn>", "<end_of_turn>")
    normalizer = _replace(" ", SPIECE_UNDERLINE)
    pre = {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False}
    decoder = {
        "type": "Sequence",
        "decoders": [_replace(SPIECE_UNDERLINE, " "), {"type": "ByteFallback"}, {"type": "Fuse"}],
    }
    out = _tokenizer_json(model, normalizer, pre, None, decoder)
    out["added_tokens"] = added
    return out


def t5_tokenizer_json(
    vocab_file: str | os.PathLike,
    *,
    extra_ids: int = 100,
    legacy: bool | None = True,
    add_prefix_space: bool | None = True,
) -> dict:
    """``T5Converter``: SentencePiece Unigram, ``<extra_id_N>`` appended (N descending), ``</s>`` appended.

    >>> t5_tokenizer_json("spiece.model")["model"]["vocab"][-1][0]  # doctest: +SKIP
    '<extra_id_0>'
    """
    legacy = True if legacy is None else legacy
    proto = SentencePieceModel.from_file(vocab_file)
    vocab_scores = [(p.piece, p.score) for p in proto.pieces]
    vocab_scores += [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
    model, added = _spm_model(proto, vocab_scores, proto.trainer_spec.unk_id, byte_fallback=False)
    ids = {p: i for i, (p, _) in enumerate(vocab_scores)}
    eos_id = ids.get("</s>", proto.trainer_spec.unk_id)
    post = template_processing("$A </s>", "$A </s> $B </s>", [("</s>", eos_id)])
    metaspace = _metaspace(_prepend_scheme(add_prefix_space, legacy))
    out = _tokenizer_json(model, _spm_normalizer(proto), metaspace, post, dict(metaspace))
    out["added_tokens"] = added
    return out


def _keeps_score(piece: str) -> bool:
    """transformers' ``check_number_comma``: Albert/XLNet keep the score of all pieces but "<digit>,"-ended ones."""
    return len(piece) < 2 or piece[-1] != "," or not piece[-2].isdigit()


def _pegasus_vocab(
    pieces: list[tuple[str, float]], unk_id: int, options: dict[str, Any]
) -> tuple[list[tuple[str, float]], int]:
    """``PegasusConverter``: pad, eos, the two masks, ``<unk_2>`` ... ``<unk_{offset - 1}>``, then the pieces."""
    offset = int(options.get("offset", 103))
    sent, mask = options.get("mask_token_sent", "<mask_1>"), options.get("mask_token", "<mask_2>")
    head = [(str(options.get("pad_token", "<pad>")), 0.0), (str(options.get("eos_token", "</s>")), 0.0)]
    if sent is not None:
        head.append((str(sent), 0.0))
        if mask is not None and 3 < offset:  # the slow class gives the mask id 3 then
            head.append((str(mask), 0.0))
    head += [(f"<unk_{i}>", -100.0) for i in range(2, offset)]
    return head + pieces[2:], unk_id + offset


def _spm_vocab(
    convention: str, proto: SentencePieceModel, options: dict[str, Any]
) -> tuple[list[tuple[str, float]], int]:
    """The vocabulary (piece, score) and unk id of each ``SpmConverter`` subclass."""
    pieces = [(p.piece, p.score) for p in proto.pieces]
    if convention == "pegasus":
        return _pegasus_vocab(pieces, proto.trainer_spec.unk_id, options)
    fairseq = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    if convention == "xlm_roberta":
        return fairseq + pieces[3:] + [("<mask>", 0.0)], 3
    if convention in ("mbart", "mbart50"):
        codes = MBART_CODES if convention == "mbart" else MBART50_CODES
        return fairseq + pieces[3:] + [(c, 0.0) for c in codes] + [("<mask>", 0.0)], 3
    if convention == "nllb":
        return fairseq + pieces[3:], 3
    if convention == "camembert":
        head = [
            ("<s>NOTUSED", 0.0),
            ("<pad>", 0.0),
            ("</s>NOTUSED", 0.0),
            ("<unk>", 0.0),
            ("<unk>NOTUSED", -100.0),
        ]
        return head + pieces[1:] + [("<mask>", 0.0)], 3
    if convention in ("albert", "xlnet", "fnet"):
        return [(p, s if _keeps_score(p) else s - 100) for p, s in pieces], proto.trainer_spec.unk_id
    if convention == "xglm":
        return fairseq + pieces[3:] + [(f"<madeupword{i}>", 0.0) for i in range(7)], 3
    if convention == "barthez":
        return pieces, 3
    return pieces, proto.trainer_spec.unk_id


def _spm_class_normalizer(convention: str, proto: SentencePieceModel, options: dict[str, Any]) -> dict:
    """The normalizer of the Albert, XLNet, FNet, RemBert and DeBERTa-v2 converters, else SpmConverter's."""
    charsmap = proto.normalizer_spec.precompiled_charsmap
    precompiled = (
        [{"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")}]
        if charsmap
        else []
    )
    lowercase = [{"type": "Lowercase"}] if options.get("do_lower_case") else []
    accents = [] if options.get("keep_accents") else [{"type": "NFKD"}, {"type": "StripAccents"}]
    if convention in ("albert", "xlnet", "fnet"):
        steps = [_replace("``", '"'), _replace("''", '"')]
        steps += accents + lowercase + precompiled + [_replace(" {2,}", " ", regex=True)]
    elif convention == "rembert":
        steps = [_replace("``", '"'), _replace("''", '"'), _replace(" {2,}", " ", regex=True)]
        steps += accents + lowercase + precompiled
    elif convention == "deberta_v2":
        strip = {"type": "Strip", "strip_left": True, "strip_right": True}
        steps = lowercase + [strip] + precompiled + [_replace(" {2,}", " ", regex=True)]
    else:
        return _spm_normalizer(proto)
    return {"type": "Sequence", "normalizers": steps}


# convention -> (single template, pair template, the two special tokens it names)
_SPM_TEMPLATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pegasus": ("$A", "$A $B", ()),  # the eos template is built by spm_tokenizer_json
    "xlm_roberta": ("<s> $A </s>", "<s> $A </s> </s> $B </s>", ("<s>", "</s>")),
    "camembert": ("<s> $A </s>", "<s> $A </s> </s> $B </s>", ("<s>", "</s>")),
    "albert": ("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", ("[CLS]", "[SEP]")),
    "big_bird": ("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", ("[CLS]", "[SEP]")),
    "deberta_v2": ("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", ("[CLS]", "[SEP]")),
    "xlnet": ("$A:0 <sep>:0 <cls>:2", "$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2", ("<sep>", "<cls>")),
    "fnet": ("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", ("[CLS]", "[SEP]")),
    "rembert": ("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", ("[CLS]", "[SEP]")),
    "barthez": ("<s> $A </s>", "<s> $A </s> </s> $B </s>", ("<s>", "</s>")),
    "xglm": ("</s> $A", "</s> $A </s> </s> $B", ("<s>", "</s>")),
    "reformer": ("", "", ()),  # no post-processor
    "mbart": ("$A </s> en_XX", "$A $B </s> en_XX", ("en_XX", "</s>")),
    "mbart50": ("en_XX $A </s>", "en_XX $A $B </s>", ("en_XX", "</s>")),
    "nllb": ("eng_Latn $A </s>", "eng_Latn $A $B </s>", ("eng_Latn", "</s>")),
}
_LANGUAGE_CLASSES = {"mbart": "MBartTokenizer", "mbart50": "MBart50Tokenizer", "nllb": "NllbTokenizer"}
_SPECIAL_ATTRIBUTES = tuple(a for a in SPECIAL_TOKENS_ATTRIBUTES if a != "additional_special_tokens")


def spm_tokenizer_json(convention: str, vocab_file: str | os.PathLike, **options: Any) -> dict:
    """An ``SpmConverter`` subclass (XLM-R, Camembert, Albert, XLNet, BigBird, DeBERTa-v2, mBART, mBART-50,
    NLLB) on a ``.model`` file.

    ``options`` are the slow tokenizer's settings: its special tokens (``bos_token`` ...,
    ``additional_special_tokens``), ``do_lower_case``, ``keep_accents``, ``split_by_punct``. The prefix space
    is always added ("always"): these slow classes have no ``add_prefix_space``.

    >>> spm_tokenizer_json("albert", "spiece.model")["post_processor"]["type"]  # doctest: +SKIP
    'TemplateProcessing'
    """
    if convention not in _SPM_TEMPLATES:
        raise ValueError(
            f"unknown SentencePiece convention {convention!r}; expected one of {sorted(_SPM_TEMPLATES)}"
        )
    proto = SentencePieceModel.from_file(vocab_file)
    vocab_scores, unk_id = _spm_vocab(convention, proto, options)
    model, added = _spm_model(proto, vocab_scores, unk_id, byte_fallback=False)
    # the slow tokenizer's ids of its special tokens: the vocabulary's, else appended in attribute order (slow
    # Camembert's vocabulary ends before "<mask>", and counts a repeated piece once)
    slow_vocab = vocab_scores[:-1] if convention == "camembert" else vocab_scores
    vocab = {piece: i for i, (piece, _) in enumerate(slow_vocab)}
    additional = options.get("additional_special_tokens")
    if convention in _LANGUAGE_CLASSES:  # the slow class completes them with its language codes
        additional = with_language_codes(LANGUAGE_CODE_CLASSES[_LANGUAGE_CLASSES[convention]], additional)
    specials = [options.get(k) for k in _SPECIAL_ATTRIBUTES] + list(additional or [])
    specials = [None if t is None else str(t) for t in specials]
    ids = special_token_ids(vocab, specials, options.get("added_token_ids"))
    single, pair, names = _SPM_TEMPLATES[convention]
    post = template_processing(single, pair, [(n, ids.get(n, vocab.get(n, unk_id))) for n in names])
    metaspace = _metaspace("always")
    pre_tokenizer: dict = metaspace
    if convention == "pegasus":  # "$A </s>" with the slow class's eos (id 1)
        eos = str(options.get("eos_token", "</s>"))
        post = template_processing(f"$A {eos}", f"$A $B {eos}", [(eos, 1)])
        pre_tokenizer = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]}
    if convention == "deberta_v2":
        punct = [{"type": "Punctuation", "behavior": "Isolated"}] if options.get("split_by_punct") else []
        pre_tokenizer = {"type": "Sequence", "pretokenizers": punct + [metaspace]}
    normalizer = _spm_class_normalizer(convention, proto, options)
    out = _tokenizer_json(model, normalizer, pre_tokenizer, post if single else None, dict(metaspace))
    out["added_tokens"] = added
    return out


def bos_eos_template(
    bos: tuple[str, int] | None, eos: tuple[str, int] | None, add_bos: bool, add_eos: bool
) -> dict:
    """The post-processor Llama/Gemma-style tokenizer classes install: ``<s> A [</s>]`` and ``<s> A <s> B``.

    >>> bos_eos_template(("<s>", 1), ("</s>", 2), True, False)["pair"][2]
    {'SpecialToken': {'id': '<s>', 'type_id': 1}}
    """
    if add_bos and bos is None:
        raise ValueError("add_bos_token = True but bos_token = None")
    if add_eos and eos is None:
        raise ValueError("add_eos_token = True but eos_token = None")
    b = f"{bos[0]}:0 " if add_bos else ""
    e = f" {eos[0]}:0" if add_eos else ""
    single = f"{b}$A:0{e}"
    pair = (
        f"{single}{(' ' + bos[0] + ':1') if add_bos else ''} $B:1{(' ' + eos[0] + ':1') if add_eos else ''}"
    )
    specials = ([bos] if add_bos else []) + ([eos] if add_eos else [])
    return template_processing(single, pair, specials)


def convert_legacy(convention: str, files: dict[str, str | os.PathLike], options: dict[str, Any]) -> dict:
    """Dispatch to the builder of ``convention`` with the tokenizer_config ``options`` it understands.

    >>> convert_legacy("bert", {"vocab_file": "vocab.txt"}, {"do_lower_case": False})  # doctest: +SKIP
    """
    opts = {k: v for k, v in options.items() if v is not None or k in ("strip_accents", "mask_token_sent")}
    text = {k: str(v) for k, v in opts.items() if k.endswith("_token") and v is not None}
    if convention in ("bert", "mpnet", "funnel", "splinter"):
        keys = ("do_lower_case", "tokenize_chinese_chars", "strip_accents", "do_basic_tokenize")
        kwargs = {k: opts[k] for k in keys if k in opts}
        names = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        names += ("bos_token", "eos_token") if convention != "bert" else ()
        kwargs.update({k: text[k] for k in names if k in text})
        mpnet, cls_type_id = convention == "mpnet", 2 if convention == "funnel" else 0
        kwargs["added_token_ids"] = options.get("added_token_ids")
        if convention == "splinter":
            kwargs["question_token"] = text.get("question_token", "[QUESTION]")
            kwargs["padding_side"] = opts.get("padding_side", "right")
        return bert_tokenizer_json(files["vocab_file"], mpnet=mpnet, cls_type_id=cls_type_id, **kwargs)
    if convention == "openai_gpt":
        return openai_gpt_tokenizer_json(
            files["vocab_file"], files["merges_file"], **{k: text[k] for k in ("unk_token",) if k in text}
        )
    if convention == "deberta":
        kwargs = {k: text[k] for k in _SPECIAL_ATTRIBUTES if k in text}
        kwargs.update({k: opts[k] for k in ("add_prefix_space", "added_token_ids") if k in opts})
        return deberta_tokenizer_json(files["vocab_file"], files["merges_file"], **kwargs)
    if convention == "qwen2":
        kwargs = {k: opts[k] for k in ("add_prefix_space",) if k in opts}
        return qwen2_tokenizer_json(files["vocab_file"], files["merges_file"], **kwargs)
    if convention == "clip":
        names = ("unk_token", "bos_token", "eos_token", "pad_token")
        return clip_tokenizer_json(
            files["vocab_file"], files["merges_file"], **{k: text[k] for k in names if k in text}
        )
    if convention == "gpt2":
        kwargs = {k: opts[k] for k in ("add_prefix_space", "add_bos_token") if k in opts}
        kwargs.update({k: text[k] for k in ("bos_token",) if k in text})
        return gpt2_tokenizer_json(files["vocab_file"], files["merges_file"], **kwargs)
    if convention == "roberta":
        kwargs = {k: opts[k] for k in ("add_prefix_space",) if k in opts}
        names = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        kwargs.update({k: text[k] for k in names if k in text})
        return roberta_tokenizer_json(files["vocab_file"], files["merges_file"], **kwargs)
    if convention == "llama":
        kwargs = {k: opts[k] for k in ("legacy", "add_prefix_space") if k in opts}
        return llama_tokenizer_json(files["vocab_file"], **kwargs)
    if convention == "gemma":
        names = ("pad_token", "eos_token", "bos_token")
        return gemma_tokenizer_json(files["vocab_file"], **{k: text[k] for k in names if k in text})
    if convention == "t5":
        kwargs = {k: opts[k] for k in ("extra_ids", "legacy", "add_prefix_space") if k in opts}
        return t5_tokenizer_json(files["vocab_file"], **kwargs)
    if convention in SPM_CONVENTIONS:
        keys = ("do_lower_case", "keep_accents", "split_by_punct", "additional_special_tokens", "offset")
        keys += ("mask_token_sent", "added_token_ids")
        kwargs = {k: opts[k] for k in keys if k in opts}
        kwargs.update({k: text[k] for k in _SPECIAL_ATTRIBUTES if k in text})
        return spm_tokenizer_json(convention, files["vocab_file"], **kwargs)
    raise ValueError(
        f"unknown legacy tokenizer convention {convention!r}; expected one of {sorted(VOCAB_FILES)}"
    )
