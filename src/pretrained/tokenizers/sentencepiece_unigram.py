"""SentencePiece unigram models (``*.model`` / ``*.spm``) encoded and decoded exactly as ``sentencepiece`` does.

transformers' converter (:mod:`.legacy`) turns a ``.model`` into a ``tokenizer.json`` that differs from
SentencePiece on whitespace and control pieces; tokenizers whose reference is the sentencepiece library itself
(transformers' slow-only classes, such as Marian's) use this instead: SentencePiece's normalizer as engine
normalizers, its lattice (control/unknown/unused pieces never match text) on our :class:`~.models.Unigram`, and
its ``decode_pieces``. :class:`VocabModel` then gives the pieces the ids of a separate ``vocab.json``.

>>> spm = SentencePieceUnigram("source.spm")  # doctest: +SKIP
>>> [t[1] for t in spm.model._tokenize(spm.normalizer.normalize_str("Hello  world"))]  # doctest: +SKIP
['▁Hello', '▁world']
"""

from __future__ import annotations

import os
from typing import Any

from . import normalizers
from .legacy import SPIECE_UNDERLINE
from .models.base import Model, RawToken
from .models.unigram import Unigram
from .sentencepiece_model import ModelType, PieceType, SentencePieceModel

# piece types SentencePiece never puts in a segmentation of text
_UNMATCHED = (PieceType.CONTROL, PieceType.UNKNOWN, PieceType.UNUSED, PieceType.BYTE)


class SentencePieceUnigram:
    """One ``.spm`` file as SentencePiece encodes and decodes it: normalizer, unigram lattice, piece decoder.

    >>> spm = SentencePieceUnigram("source.spm")  # doctest: +SKIP
    >>> [t[1] for t in spm.model._tokenize(spm.normalizer.normalize_str("Hello  world"))]  # doctest: +SKIP
    ['▁Hello', '▁world']
    """

    def __init__(self, path: str | os.PathLike) -> None:
        proto = SentencePieceModel.from_file(path)
        spec, trainer = proto.normalizer_spec, proto.trainer_spec
        if trainer.model_type != ModelType.UNIGRAM:
            kind = {t.value: t.name for t in ModelType}.get(trainer.model_type, str(trainer.model_type))
            raise NotImplementedError(
                f"{path}: a {kind} SentencePiece model; only unigram models (what Marian checkpoints ship) "
                "are supported here"
            )
        if trainer.byte_fallback or trainer.treat_whitespace_as_suffix:
            raise NotImplementedError(
                f"{path}: byte_fallback / treat_whitespace_as_suffix SentencePiece models are not used by Marian "
                "checkpoints and are not supported"
            )
        self.path = str(path)
        self.types = {p.piece: p.type for p in proto.pieces}
        self.unk_piece = next((p.piece for p in proto.pieces if p.type == PieceType.UNKNOWN), None)
        self.unk_surface = trainer.unk_surface
        self.strip_bos_space = spec.add_dummy_prefix or spec.remove_extra_whitespaces
        self.strip_all_bos_spaces = spec.remove_extra_whitespaces
        self.normalizer = spm_normalizer(spec)
        self.model = spm_unigram(proto)

    def decode_pieces(self, pieces: list[str]) -> str:
        """``SentencePieceProcessor.decode_pieces``: control pieces vanish, ``▁`` is a space, no leading space."""
        text, at_bos, bos_ws_seen = "", True, False
        for piece in pieces:
            at_bos = at_bos and not bos_ws_seen and not text
            bos_ws_seen = False
            kind = self.types.get(piece, PieceType.UNKNOWN)
            if kind == PieceType.CONTROL:
                continue
            if kind == PieceType.UNKNOWN:
                text += self.unk_surface if piece == self.unk_piece else piece
                continue
            if at_bos and self.strip_bos_space and piece.startswith(SPIECE_UNDERLINE):
                piece = piece[1:]
                bos_ws_seen = not self.strip_all_bos_spaces
            text += piece.replace(SPIECE_UNDERLINE, " ")
        return text


def spm_normalizer(spec: Any) -> normalizers.Normalizer:
    """SentencePiece's own normalization as engine normalizers (unlike transformers' converter, exactly).

    The charsmap first (nmt_nfkc also turns ``▁`` into a space), then with ``remove_extra_whitespaces`` runs of
    spaces collapse and leading/trailing ones go, a ``▁`` is prepended and spaces become ``▁``.

    >>> from pretrained.tokenizers.sentencepiece_model import NormalizerSpec
    >>> spm_normalizer(NormalizerSpec()).normalize_str("  Hello   world ")
    '▁Hello▁world'
    """
    space = SPIECE_UNDERLINE if spec.escape_whitespaces else " "
    steps: list[normalizers.Normalizer] = []
    if spec.precompiled_charsmap:
        from .precompiled import Precompiled

        steps.append(Precompiled(spec.precompiled_charsmap))
    if spec.remove_extra_whitespaces:
        steps += [_regex(" {2,}", " "), _regex("^ ", "")]
    if spec.add_dummy_prefix:
        steps.append(normalizers.Prepend(space))
    if spec.escape_whitespaces:
        steps.append(normalizers.Replace(" ", SPIECE_UNDERLINE))
    if spec.remove_extra_whitespaces:
        steps.append(_regex(f"{space}+$", ""))
    return normalizers.Sequence(steps)


def _regex(pattern: str, content: str) -> normalizers.Normalizer:
    return normalizers.from_dict({"type": "Replace", "pattern": {"Regex": pattern}, "content": content})


def spm_unigram(proto: SentencePieceModel) -> Unigram:
    """The unigram lattice of SentencePiece: control, unknown and unused pieces never match text, the unknown
    penalty is counted from the normal pieces, user-defined pieces score like SentencePiece scores them."""
    normal = [p.score for p in proto.pieces if p.type == PieceType.NORMAL]
    top = max(normal, default=0.0)
    scores = [
        (p.piece, len(p.piece) * top - 0.1 if p.type == PieceType.USER_DEFINED else p.score)
        for p in proto.pieces
    ]
    model = Unigram(scores, unk_id=proto.trainer_spec.unk_id)
    for p in proto.pieces:
        if p.type in _UNMATCHED:
            model.vocab.pop(p.piece, None)
    model.min_score = min(normal, default=0.0)
    return model


class VocabModel(Model):
    """A SentencePiece model whose pieces take their ids from a ``vocab.json`` (unknown pieces -> ``unk_id``).

    >>> m = VocabModel(Unigram([("<unk>", 0.0), ("▁a", -1.0)], unk_id=0), {"▁a": 5, "<unk>": 1}, unk_id=1)
    >>> m._tokenize("▁a")
    [(5, '▁a', (0, 2))]
    """

    type_name = "MarianVocab"

    def __init__(self, spm: Unigram, vocab: dict[str, int], unk_id: int) -> None:
        self.spm = spm
        self.vocab = vocab
        self.vocab_r = {i: t for t, i in vocab.items()}
        self.unk_id = unk_id

    def _tokenize(self, sequence: str) -> list[RawToken]:
        vocab, unk = self.vocab, self.unk_id
        return [(vocab.get(value, unk), value, span) for _, value, span in self.spm._tokenize(sequence)]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError("a Marian tokenizer has no tokenizer.json; save it with save_pretrained")
