"""TemplateProcessing: special tokens and type ids placed by a template like ``[CLS] $A [SEP] $B:1 [SEP]:1``.

>>> t = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
...                        special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
>>> t.num_special_tokens_to_add(is_pair=True)
3
"""

from __future__ import annotations

from typing import Any

from ._registry import TokenizerFileError
from .encoding import Encoding, padded_offsets
from .processors import PostProcessor

# a piece: ("Sequence", "A" | "B", type_id) or ("SpecialToken", token_id_string, type_id)
Piece = tuple[str, str, int]


def parse_piece(text: str) -> Piece:
    """``$A``, ``$B:1``, ``$1``, ``[CLS]``, ``[SEP]:1`` -> a piece."""
    parts = text.split(":")
    if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise ValueError(f"Cannot build Piece from string {text!r}; use $A, $B, $A:1 or TOKEN[:type_id]")
    type_id = int(parts[1]) if len(parts) == 2 else 0
    name = parts[0]
    if not name.startswith("$"):
        return ("SpecialToken", name, type_id)
    rest = name[1:]
    if rest in ("", "A", "a"):
        return ("Sequence", "A", type_id)
    if rest in ("B", "b"):
        return ("Sequence", "B", type_id)
    if rest.isdigit() and len(parts) == 1:
        return ("Sequence", "A", int(rest))
    raise ValueError(f"Cannot build Piece from string {text!r}; use $A, $B, $A:1 or TOKEN[:type_id]")


def parse_template(template: Any) -> list[Piece]:
    if template is None:
        return []
    if isinstance(template, str):
        template = template.split(" ")
    out: list[Piece] = []
    for item in template:
        if isinstance(item, str):
            out.append(parse_piece(item))
        elif isinstance(item, dict) and len(item) == 1:
            ((kind, body),) = item.items()
            if kind not in ("Sequence", "SpecialToken"):
                raise TokenizerFileError(
                    f"tokenizer.json: template piece {item!r} must be Sequence or SpecialToken"
                )
            out.append((kind, str(body["id"]), int(body.get("type_id", 0))))
        else:
            raise TokenizerFileError(f"tokenizer.json: cannot read template piece {item!r}")
    return out


def _special_tokens(spec: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    items = spec.values() if isinstance(spec, dict) else (spec or [])
    for item in items:
        if isinstance(item, tuple | list) and len(item) == 2:
            a, b = item
            content, tid = (a, b) if isinstance(a, str) else (b, a)
            out[content] = {"id": content, "ids": [int(tid)], "tokens": [content]}
        elif isinstance(item, dict):
            if len(item["ids"]) != len(item["tokens"]):
                raise ValueError(f"special token {item['id']!r}: ids and tokens must have the same length")
            out[item["id"]] = {"id": item["id"], "ids": list(item["ids"]), "tokens": list(item["tokens"])}
        else:
            raise ValueError(
                f"cannot read special token {item!r}; use (content, id) or a dict with id/ids/tokens"
            )
    return out


class TemplateProcessing(PostProcessor):
    """Place the sequences and special tokens as the templates say (mirrors the reference)."""

    type_name = "TemplateProcessing"

    def __init__(self, single: Any = None, pair: Any = None, special_tokens: Any = None) -> None:
        self.single = parse_template(single if single is not None else "$0")
        self.pair = parse_template(pair if pair is not None else "$A:0 $B:1")
        self.special_tokens = _special_tokens(special_tokens)
        missing = sorted(
            {
                p[1]
                for p in self.single + self.pair
                if p[0] == "SpecialToken" and p[1] not in self.special_tokens
            }
        )
        if missing:
            raise ValueError(
                f"TemplateProcessing: missing SpecialToken(s) with id(s) {', '.join(missing)}; "
                "list them in special_tokens"
            )

    def added_tokens(self, is_pair: bool) -> int:
        template = self.pair if is_pair else self.single
        return sum(len(self.special_tokens[p[1]]["ids"]) for p in template if p[0] == "SpecialToken")

    def process(
        self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True
    ) -> Encoding:
        if pair is None and add_special_tokens and not encoding.overflowing and not encoding.sequence_ranges:
            wrap = self._single_wrap()
            if wrap is not None:
                return _wrap_single(encoding, *wrap)
        encs = [encoding] if pair is None else [encoding, pair]
        if any(e.overflowing or e.sequence_ranges for e in encs):
            return super().process(encoding, pair, add_special_tokens)
        # fast path, same result as the generic merge when nothing overflows
        out = Encoding()
        ids, type_ids, tokens, words, offsets = out.ids, out.type_ids, out.tokens, out.word_ids, out.offsets
        special, attention, ranges = out.special_tokens_mask, out.attention_mask, out.sequence_ranges
        for kind, name, type_id in self.pair if pair is not None else self.single:
            if kind == "Sequence":
                i = 0 if name == "A" else 1
                e = encs[i]
                n = len(e.ids)
                ranges[i] = (len(ids), len(ids) + n)
                ids += e.ids
                type_ids += [type_id] * n
                tokens += e.tokens
                words += e.word_ids
                offsets += e.offsets
                special += e.special_tokens_mask
                attention += e.attention_mask
            elif add_special_tokens:
                tok = self.special_tokens[name]
                n = len(tok["ids"])
                ids += tok["ids"]
                type_ids += [type_id] * n
                tokens += tok["tokens"]
                words += [None] * n
                offsets += [(0, 0)] * n
                special += [1] * n
                attention += [1] * n
        return out

    def _single_wrap(
        self,
    ) -> tuple[list[int], list[str], list[int], int, list[int], list[str], list[int]] | None:
        """The single template as (ids, tokens, type ids) before $A, $A's type id, and the same after;
        None when it does not hold $A exactly once."""
        key = (self.single, self.special_tokens)
        cached = self.__dict__.get("_wrap")
        if cached is not None and cached[0][0] is key[0] and cached[0][1] is key[1]:
            return cached[1]
        seqs = [i for i, p in enumerate(self.single) if p[0] == "Sequence"]
        wrap = None
        if len(seqs) == 1 and self.single[seqs[0]][1] == "A":
            at = seqs[0]
            sides = []
            for pieces in (self.single[:at], self.single[at + 1 :]):
                ids: list[int] = []
                tokens: list[str] = []
                type_ids: list[int] = []
                for _, name, type_id in pieces:
                    tok = self.special_tokens[name]
                    ids += tok["ids"]
                    tokens += tok["tokens"]
                    type_ids += [type_id] * len(tok["ids"])
                sides.append((ids, tokens, type_ids))
            (a, b, c), (d, e, f) = sides
            wrap = (a, b, c, self.single[at][2], d, e, f)
        self._wrap = (key, wrap)
        return wrap

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if len(encodings) not in (
            1,
            2,
        ):  # a processor before it in a Sequence made more (the reference panics)
            raise ValueError(
                f"TemplateProcessing takes one or two encodings, got {len(encodings)}: in a processors Sequence, "
                "put the TemplateProcessing before the processors that add special tokens"
            )
        template = self.pair if len(encodings) == 2 else self.single
        out: list[Encoding] = []
        used: set[int] = set()
        for kind, name, type_id in template:
            if kind == "Sequence":
                i = 0 if name == "A" else 1
                enc = encodings[i]
                enc.type_ids = [type_id] * len(enc.ids)
                enc.set_sequence_id(i)
                out.append(enc.copy() if i in used else enc)
                used.add(i)
            elif add_special_tokens:
                tok = self.special_tokens[name]
                n = len(tok["ids"])
                out.append(
                    Encoding(
                        list(tok["ids"]),
                        [type_id] * n,
                        list(tok["tokens"]),
                        [None] * n,
                        [(0, 0)] * n,
                        [1] * n,
                    )
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        def pieces(t: list[Piece]) -> list[dict[str, Any]]:
            return [{kind: {"id": name, "type_id": tid}} for kind, name, tid in t]

        return {
            "type": self.type_name,
            "single": pieces(self.single),
            "pair": pieces(self.pair),
            "special_tokens": {k: dict(v) for k, v in self.special_tokens.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateProcessing:
        return cls(data.get("single"), data.get("pair"), data.get("special_tokens", {}))


def _wrap_single(
    e: Encoding,
    pre_ids: list[int],
    pre_tokens: list[str],
    pre_types: list[int],
    type_id: int,
    post_ids: list[int],
    post_tokens: list[str],
    post_types: list[int],
) -> Encoding:
    """``pre + e + post`` for a single sequence: what the template loop builds, in one go."""
    n, a, b = len(e.ids), len(pre_ids), len(post_ids)
    return Encoding(
        pre_ids + e.ids + post_ids,
        pre_types + [type_id] * n + post_types,
        pre_tokens + e.tokens + post_tokens,
        [None] * a + e.word_ids + [None] * b,
        padded_offsets(e._offsets, a, b),
        [1] * a + e.special_tokens_mask + [1] * b,
        [1] * a + e.attention_mask + [1] * b,
        [],
        {0: (a, a + n)},
    )
