"""Post-processors: add special tokens, set type ids, merge pairs (mirrors ``tokenizers.processors``).

>>> p = BertProcessing(("[SEP]", 102), ("[CLS]", 101))
>>> p.num_special_tokens_to_add(is_pair=True)
3
"""

from __future__ import annotations

from typing import Any

from ._registry import TokenizerFileError, build
from .encoding import Encoding


class PostProcessor:
    """Base class: subclasses implement ``process_encodings`` and ``added_tokens``."""

    type_name = ""

    def added_tokens(self, is_pair: bool) -> int:
        return 0

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return self.added_tokens(is_pair)

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        raise NotImplementedError

    def process(
        self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True
    ) -> Encoding:
        encodings = [encoding] if pair is None else [encoding, pair]
        for i, enc in enumerate(encodings):
            enc.set_sequence_id(i)
            for o in enc.overflowing:
                o.set_sequence_id(i)
            enc.type_ids = [i] * len(enc.ids)
        out = self.process_encodings(encodings, add_special_tokens)
        if len(out) == 1 and not out[0].overflowing:
            return out[0]  # what merging a single encoding gives
        return Encoding.merge(out, growing_offsets=False)

    @staticmethod
    def default_process(
        encoding: Encoding, pair: Encoding | None, add_special_tokens: bool = True
    ) -> Encoding:
        """What the reference does without a post-processor."""
        if pair is None:
            return encoding
        encoding.set_sequence_id(0)
        pair.set_sequence_id(1)
        encoding.merge_with(pair, False)
        return encoding

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


def _special(ids: list[int], tokens: list[str], type_id: int) -> Encoding:
    n = len(ids)
    return Encoding(list(ids), [type_id] * n, list(tokens), [None] * n, [(0, 0)] * n, [1] * n, [1] * n)


def _wrap(
    enc: Encoding,
    before: tuple[str, int] | None,
    after: tuple[str, int],
    special_tid: int,
    inner_tid: int | None,
    seq: int,
) -> Encoding:
    """``before + enc + after`` (Bert/Roberta); ``inner_tid`` None keeps the sequence's own type ids."""
    pre = [before] if before else []
    n, k = len(enc.ids), len(pre)
    out = Encoding(
        [t[1] for t in pre] + enc.ids + [after[1]],
        [special_tid] * k + (enc.type_ids if inner_tid is None else [inner_tid] * n) + [special_tid],
        [t[0] for t in pre] + enc.tokens + [after[0]],
        [None] * k + enc.word_ids + [None],
        [(0, 0)] * k + enc.offsets + [(0, 0)],
        [1] * k + [0] * n + [1],
        [1] * (n + k + 1),
        [],
        {seq: (k, k + n)},
    )
    out.overflowing = [_wrap(o, before, after, special_tid, inner_tid, seq) for o in enc.overflowing]
    return out


class BertProcessing(PostProcessor):
    """``[CLS] A [SEP]`` and ``[CLS] A [SEP] B [SEP]`` (B's type id 1)."""

    type_name = "BertProcessing"

    def __init__(self, sep: tuple[str, int], cls: tuple[str, int]) -> None:
        self.sep = (sep[0], int(sep[1]))
        self.cls = (cls[0], int(cls[1]))

    def added_tokens(self, is_pair: bool) -> int:
        return 3 if is_pair else 2

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if not add_special_tokens:
            return encodings
        # every encoding after the first is wrapped as the pair (a Sequence can pass on more than two)
        out = [_wrap(encodings[0], self.cls, self.sep, 0, None, 0)]
        out += [_wrap(enc, None, self.sep, 1, None, 1) for enc in encodings[1:]]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "sep": list(self.sep), "cls": list(self.cls)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BertProcessing:
        return cls(tuple(data["sep"]), tuple(data["cls"]))  # type: ignore[arg-type]


def trim_byte_level_offsets(enc: Encoding, add_prefix_space: bool) -> None:
    """Drop the spaces (``Ġ``) a byte-level token starts or ends with from its offsets."""
    offsets = enc.offsets
    for i, token in enumerate(enc.tokens):
        lead = len(token) - len(token.lstrip(_SPACES))
        trail = len(token) - len(token.rstrip(_SPACES))
        if not lead and not trail:
            continue
        a, b = offsets[i]
        if lead:
            if (i == 0 or a == 0) and add_prefix_space and lead == 1:
                lead = 0
            a = min(a + lead, b)
        if trail and b >= trail:
            b = max(b - trail, a)
        offsets[i] = (a, b)
    for o in enc.overflowing:
        trim_byte_level_offsets(o, add_prefix_space)


_SPACES = "\u0120\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class RobertaProcessing(PostProcessor):
    """``<s> A </s>`` and ``<s> A </s></s> B </s>`` (all type ids 0), trimming byte-level offsets."""

    type_name = "RobertaProcessing"

    def __init__(
        self,
        sep: tuple[str, int],
        cls: tuple[str, int],
        trim_offsets: bool = True,
        add_prefix_space: bool = True,
    ) -> None:
        self.sep = (sep[0], int(sep[1]))
        self.cls = (cls[0], int(cls[1]))
        self.trim_offsets = trim_offsets
        self.add_prefix_space = add_prefix_space

    def added_tokens(self, is_pair: bool) -> int:
        return 4 if is_pair else 2

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if self.trim_offsets:
            for enc in encodings:
                trim_byte_level_offsets(enc, self.add_prefix_space)
        for enc in encodings:  # RoBERTa: every type id is 0
            enc.type_ids = [0] * len(enc.ids)
        if not add_special_tokens:
            return encodings
        out = [_wrap(encodings[0], self.cls, self.sep, 0, 0, 0)]
        out += [_wrap(enc, self.sep, self.sep, 0, 0, 1) for enc in encodings[1:]]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "sep": list(self.sep),
            "cls": list(self.cls),
            "trim_offsets": self.trim_offsets,
            "add_prefix_space": self.add_prefix_space,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RobertaProcessing:
        return cls(
            tuple(data["sep"]),  # type: ignore[arg-type]
            tuple(data["cls"]),  # type: ignore[arg-type]
            data.get("trim_offsets", True),
            data.get("add_prefix_space", True),
        )


class ByteLevel(PostProcessor):
    """Only trims byte-level offsets (no special tokens)."""

    type_name = "ByteLevel"

    def __init__(
        self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True
    ) -> None:
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.use_regex = use_regex

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if self.trim_offsets:
            for enc in encodings:
                trim_byte_level_offsets(enc, self.add_prefix_space)
        for i, enc in enumerate(encodings):
            enc.set_sequence_id(i)
        return encodings

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": self.trim_offsets,
            "use_regex": self.use_regex,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ByteLevel:
        return cls(
            data.get("add_prefix_space", True), data.get("trim_offsets", True), data.get("use_regex", True)
        )


class Sequence(PostProcessor):
    """Chain post-processors."""

    type_name = "Sequence"

    def __init__(self, processors: list[PostProcessor]) -> None:
        self.processors = list(processors)

    def added_tokens(self, is_pair: bool) -> int:
        return sum(p.added_tokens(is_pair) for p in self.processors)

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        for p in self.processors:
            encodings = p.process_encodings(encodings, add_special_tokens)
        return encodings

    def __getitem__(self, i: int) -> PostProcessor:
        return self.processors[i]

    def __len__(self) -> int:
        return len(self.processors)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "processors": [p.to_dict() for p in self.processors]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sequence:
        return cls([from_dict(d) for d in data["processors"]])


from .template import TemplateProcessing  # noqa: E402

PROCESSORS: dict[str, Any] = {
    "TemplateProcessing": TemplateProcessing,
    "BertProcessing": BertProcessing,
    "RobertaProcessing": RobertaProcessing,
    "ByteLevel": ByteLevel,
    "Sequence": Sequence,
}


def from_dict(data: dict[str, Any] | None) -> PostProcessor | None:
    """Build a post-processor from its tokenizer.json dict (None stays None)."""
    return build("post_processor", PROCESSORS, data)


__all__ = ["BertProcessing", "ByteLevel", "PostProcessor", "RobertaProcessing", "Sequence", "TemplateProcessing",
           "TokenizerFileError", "from_dict"]  # fmt: skip
