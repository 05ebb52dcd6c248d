"""Read a SentencePiece ``*.model`` file (a protobuf ``ModelProto``) without protobuf or sentencepiece.

The file is a serialized ``sentencepiece.ModelProto`` message. We decode the protobuf wire format
directly (varints, fixed32 floats, length-delimited strings and sub-messages) and keep only the fields
that tokenization needs: the pieces, the trainer spec and the normalizer spec. Unknown fields are skipped,
so files written by newer SentencePiece versions still load.

>>> model = SentencePieceModel.from_file("tokenizer.model")  # doctest: +SKIP
>>> model.trainer_spec.model_type, len(model.pieces)  # doctest: +SKIP
(2, 32000)
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

log = logging.getLogger(__name__)

__all__ = [
    "PieceType",
    "ModelType",
    "SentencePiece",
    "TrainerSpec",
    "NormalizerSpec",
    "SentencePieceModel",
]


class PieceType(IntEnum):
    """``ModelProto.SentencePiece.Type``."""

    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


class ModelType(IntEnum):
    """``TrainerSpec.ModelType``."""

    UNIGRAM = 1
    BPE = 2
    WORD = 3
    CHAR = 4


# field number -> (attribute name, wire kind); "[]" suffix marks a repeated field.
# Field numbers are those of sentencepiece_model.proto.
_PIECE_FIELDS: dict[int, tuple[str, str]] = {
    1: ("piece", "string"),
    2: ("score", "float"),
    3: ("type", "int32"),
}

_TRAINER_FIELDS: dict[int, tuple[str, str]] = {
    1: ("input", "string[]"),
    7: ("input_format", "string"),
    2: ("model_prefix", "string"),
    3: ("model_type", "int32"),
    4: ("vocab_size", "int32"),
    5: ("accept_language", "string[]"),
    6: ("self_test_sample_size", "int32"),
    10: ("character_coverage", "float"),
    11: ("input_sentence_size", "uint64"),
    19: ("shuffle_input_sentence", "bool"),
    12: ("mining_sentence_size", "int32"),
    13: ("training_sentence_size", "int32"),
    14: ("seed_sentencepiece_size", "int32"),
    15: ("shrinking_factor", "float"),
    18: ("max_sentence_length", "int32"),
    16: ("num_threads", "int32"),
    17: ("num_sub_iterations", "int32"),
    20: ("max_sentencepiece_length", "int32"),
    21: ("split_by_unicode_script", "bool"),
    23: ("split_by_number", "bool"),
    22: ("split_by_whitespace", "bool"),
    24: ("treat_whitespace_as_suffix", "bool"),
    26: ("allow_whitespace_only_pieces", "bool"),
    25: ("split_digits", "bool"),
    53: ("pretokenization_delimiter", "string"),
    30: ("control_symbols", "string[]"),
    31: ("user_defined_symbols", "string[]"),
    36: ("required_chars", "string"),
    35: ("byte_fallback", "bool"),
    32: ("vocabulary_output_piece_score", "bool"),
    33: ("hard_vocab_limit", "bool"),
    34: ("use_all_vocab", "bool"),
    40: ("unk_id", "int32"),
    41: ("bos_id", "int32"),
    42: ("eos_id", "int32"),
    43: ("pad_id", "int32"),
    45: ("unk_piece", "string"),
    46: ("bos_piece", "string"),
    47: ("eos_piece", "string"),
    48: ("pad_piece", "string"),
    44: ("unk_surface", "string"),
    49: ("train_extremely_large_corpus", "bool"),
    50: ("enable_differential_privacy", "bool"),
    51: ("differential_privacy_noise_level", "float"),
    52: ("differential_privacy_clipping_threshold", "uint64"),
    54: ("seed_sentencepieces_file", "string"),
    55: ("auto_character_coverage", "bool"),
}

_NORMALIZER_FIELDS: dict[int, tuple[str, str]] = {
    1: ("name", "string"),
    2: ("precompiled_charsmap", "bytes"),
    3: ("add_dummy_prefix", "bool"),
    4: ("remove_extra_whitespaces", "bool"),
    5: ("escape_whitespaces", "bool"),
    6: ("normalization_rule_tsv", "string"),
}


@dataclass
class SentencePiece:
    """One vocabulary entry: the piece text, its score (log probability or merge rank) and its type."""

    piece: str = ""
    score: float = 0.0
    type: int = PieceType.NORMAL


@dataclass
class TrainerSpec:
    """The ``TrainerSpec`` message; defaults are those of sentencepiece_model.proto."""

    input: list[str] = field(default_factory=list)
    input_format: str = ""
    model_prefix: str = ""
    model_type: int = ModelType.UNIGRAM
    vocab_size: int = 8000
    accept_language: list[str] = field(default_factory=list)
    self_test_sample_size: int = 0
    character_coverage: float = struct.unpack("<f", struct.pack("<f", 0.9995))[0]
    input_sentence_size: int = 0
    shuffle_input_sentence: bool = True
    mining_sentence_size: int = 0
    training_sentence_size: int = 0
    seed_sentencepiece_size: int = 1000000
    shrinking_factor: float = 0.75
    max_sentence_length: int = 4192
    num_threads: int = 16
    num_sub_iterations: int = 2
    max_sentencepiece_length: int = 16
    split_by_unicode_script: bool = True
    split_by_number: bool = True
    split_by_whitespace: bool = True
    treat_whitespace_as_suffix: bool = False
    allow_whitespace_only_pieces: bool = False
    split_digits: bool = False
    pretokenization_delimiter: str = ""
    control_symbols: list[str] = field(default_factory=list)
    user_defined_symbols: list[str] = field(default_factory=list)
    required_chars: str = ""
    byte_fallback: bool = False
    vocabulary_output_piece_score: bool = True
    hard_vocab_limit: bool = True
    use_all_vocab: bool = False
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    unk_piece: str = "<unk>"
    bos_piece: str = "<s>"
    eos_piece: str = "</s>"
    pad_piece: str = "<pad>"
    unk_surface: str = " \u2047 "
    train_extremely_large_corpus: bool = False
    enable_differential_privacy: bool = False
    differential_privacy_noise_level: float = 0.0
    differential_privacy_clipping_threshold: int = 0
    seed_sentencepieces_file: str = ""
    auto_character_coverage: bool = False


@dataclass
class NormalizerSpec:
    """The ``NormalizerSpec`` message (also used for the denormalizer)."""

    name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True
    normalization_rule_tsv: str = ""


class _Reader:
    """Cursor over protobuf wire-format bytes; every read is bounds-checked."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.pos = 0
        self.where = where

    def error(self, what: str) -> ValueError:
        return ValueError(
            f"{self.where}: not a valid SentencePiece model ({what} at byte {self.pos}); "
            "the file is truncated or is not a sentencepiece .model file"
        )

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise self.error("varint runs past the end")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift >= 70:
                raise self.error("varint longer than 10 bytes")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.error(f"field of {n} bytes runs past the end")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def fields(self):
        """Yield (field_number, wire_type, raw) with raw an int (varint/fixed) or bytes (length-delimited)."""
        while self.pos < len(self.data):
            key = self.varint()
            number, wire = key >> 3, key & 7
            if number == 0:
                raise self.error("field number 0")
            if wire == 0:
                yield number, wire, self.varint()
            elif wire == 1:
                yield number, wire, self.take(8)
            elif wire == 2:
                yield number, wire, self.take(self.varint())
            elif wire == 5:
                yield number, wire, self.take(4)
            else:
                raise self.error(f"unsupported wire type {wire}")


def _convert(raw: int | bytes, wire: int, kind: str, reader: _Reader) -> Any:
    """Turn one raw wire value into a Python value of the declared kind."""
    expected = {"string": 2, "bytes": 2, "float": 5}.get(kind, 0)
    if wire != expected:
        raise reader.error(f"wire type {wire} where a {kind} was expected")
    if kind == "string":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise reader.error(f"string is not valid UTF-8 ({e})") from None
    if kind == "bytes":
        return bytes(raw)
    if kind == "float":
        return struct.unpack("<f", raw)[0]
    if kind == "bool":
        return raw != 0
    if kind == "uint64":
        return raw & 0xFFFFFFFFFFFFFFFF
    value = raw & 0xFFFFFFFF  # int32 / enum: a negative value is a 10-byte varint, keep the low 32 bits
    return value - (1 << 32) if value >= 1 << 31 else value


def _parse_message(data: bytes, spec: dict[int, tuple[str, str]], target: Any, where: str) -> Any:
    reader = _Reader(data, where)
    for number, wire, raw in reader.fields():
        entry = spec.get(number)
        if entry is None:
            continue  # unknown field: newer proto version, ignore like protobuf does
        name, kind = entry
        if kind.endswith("[]"):
            getattr(target, name).append(_convert(raw, wire, kind[:-2], reader))
        else:
            setattr(target, name, _convert(raw, wire, kind, reader))
    return target


_FLOAT = struct.Struct("<f")


def _parse_piece(data: bytes) -> SentencePiece | None:
    """Fast path for the common encoding of a piece (fields 1-3, short varints); None means "use the general parser"."""
    pos, n = 0, len(data)
    piece, score, kind = "", 0.0, 1
    try:
        while pos < n:
            key = data[pos]
            if key == 0x0A:  # field 1, length-delimited: the piece text
                length = data[pos + 1]
                if length >= 0x80 or pos + 2 + length > n:
                    return None
                piece = data[pos + 2 : pos + 2 + length].decode("utf-8")
                pos += 2 + length
            elif key == 0x15:  # field 2, fixed32: the score
                if pos + 5 > n:
                    return None
                score = _FLOAT.unpack_from(data, pos + 1)[0]
                pos += 5
            elif key == 0x18 and data[pos + 1] < 0x80:  # field 3, one-byte varint: the type
                kind = data[pos + 1]
                pos += 2
            else:
                return None
    except (IndexError, UnicodeDecodeError):
        return None
    return SentencePiece(piece, score, kind)


@dataclass
class SentencePieceModel:
    """A parsed SentencePiece ``ModelProto``.

    >>> model = SentencePieceModel.from_file("spiece.model")  # doctest: +SKIP
    >>> model.pieces[0].piece, model.trainer_spec.unk_id  # doctest: +SKIP
    ('<pad>', 2)
    """

    pieces: list[SentencePiece] = field(default_factory=list)
    trainer_spec: TrainerSpec = field(default_factory=TrainerSpec)
    normalizer_spec: NormalizerSpec = field(default_factory=NormalizerSpec)
    denormalizer_spec: NormalizerSpec = field(default_factory=NormalizerSpec)

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "<bytes>") -> SentencePieceModel:
        """Parse a serialized ModelProto; ``where`` names the source in error messages."""
        model = cls()
        reader = _Reader(data, where)
        for number, wire, raw in reader.fields():
            if number in (1, 2, 3, 5) and wire != 2:
                raise reader.error(f"field {number} is not a sub-message")
            if number == 1:
                model.pieces.append(
                    _parse_piece(raw) or _parse_message(raw, _PIECE_FIELDS, SentencePiece(), where)
                )
            elif number == 2:
                _parse_message(raw, _TRAINER_FIELDS, model.trainer_spec, where)
            elif number == 3:
                _parse_message(raw, _NORMALIZER_FIELDS, model.normalizer_spec, where)
            elif number == 5:
                _parse_message(raw, _NORMALIZER_FIELDS, model.denormalizer_spec, where)
        if not model.pieces:
            raise ValueError(
                f"{where}: SentencePiece model has no pieces; is this a sentencepiece .model file?"
            )
        return model

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> SentencePieceModel:
        """Read and parse a ``*.model`` file."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_bytes(data, where=str(path))
