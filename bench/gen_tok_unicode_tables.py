"""Generate ``src/pretrained/tokenizers/_unicode_tables.py`` by probing the reference ``tokenizers``.

The reference classifies characters with its own (older or newer) Unicode tables; Python's
``unicodedata`` and the ``regex`` module use other versions. Probing every code point through the
reference components gives the exact character sets our engine needs, stored as data.
Run: ``.venv/bin/python -m bench.gen_tok_unicode_tables`` (a few minutes).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import regex
from tokenizers import Regex
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

OUT = Path(__file__).resolve().parent.parent / "src/pretrained/tokenizers/_unicode_tables.py"
CHARS = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def ranges(chars: list[str]) -> str:
    """A regex class body (without brackets) for a set of chars."""
    codes = sorted(ord(c) for c in chars)
    parts = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        a, b = codes[i], codes[j]
        parts.append(_esc(a) if a == b else f"{_esc(a)}-{_esc(b)}" if b > a + 1 else _esc(a) + _esc(b))
        i = j + 1
    return "".join(parts)


def _esc(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def pieces(pre: P.PreTokenizer, c: str) -> int:
    return len(pre.pre_tokenize_str("a" + c + "a"))


def main() -> None:
    tables: dict[str, str] = {}
    bert_pre = P.BertPreTokenizer()
    tables["BERT_PUNCT"] = ranges([c for c in CHARS if not c.isspace() and pieces(bert_pre, c) == 3])
    clean = N.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
    )
    tables["BERT_REMOVE"] = ranges([c for c in CHARS if clean.normalize_str(c) == ""])
    strip = N.BertNormalizer(
        clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False
    )
    nfd = N.NFD()
    tables["BERT_MN"] = ranges(
        [c for c in CHARS if nfd.normalize_str(c) == c and strip.normalize_str(c) == ""]
    )
    accents = N.StripAccents()
    tables["MARKS"] = ranges([c for c in CHARS if accents.normalize_str(c) == ""])
    digits = P.Digits(individual_digits=True)
    tables["NUMERIC"] = ranges([c for c in CHARS if pieces(digits, c) == 3])
    ws = P.Whitespace()
    tables["RUST_WORD"] = ranges([c for c in CHARS if pieces(ws, c) == 1])
    scripts = P.UnicodeScripts()
    tables["SCRIPT_ANY"] = ranges(
        [c for c in CHARS if c != " " and pieces(scripts, c) == 1 and len(scripts.pre_tokenize_str("中" + c + "中")) == 1
         and len(scripts.pre_tokenize_str("\u0430" + c + "\u0430")) == 1]
    )  # fmt: skip
    onig_assigned = P.Split(Regex(r"[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}\p{Co}]"), "removed")
    py_assigned = regex.compile(r"\P{Cn}")
    tables["ONIG_UNASSIGNED"] = ranges(
        [c for c in CHARS if py_assigned.match(c) and onig_assigned.pre_tokenize_str(c) == [(c, (0, 1))]]
    )
    lower = N.Lowercase()
    lower_diff = {c: lower.normalize_str(c) for c in CHARS if lower.normalize_str(c) != c.lower()}
    forms = {}
    for form, norm in [("NFD", N.NFD()), ("NFKD", N.NFKD()), ("NFC", N.NFC()), ("NFKC", N.NFKC())]:
        forms[form] = {
            c: norm.normalize_str(c) for c in CHARS if norm.normalize_str(c) != unicodedata.normalize(form, c)
        }
    lines = ['"""Character sets and exceptions probed from the reference tokenizers (generated: do not edit).', "",
             "Regenerate with ``.venv/bin/python -m bench.gen_tok_unicode_tables``.", '"""', ""]  # fmt: skip
    for name, body in tables.items():
        lines.append(f'{name} = r"{body}"')
    lines.append(f"LOWER_EXCEPTIONS: dict[str, str] = {lower_diff!r}")
    lines.append(f"NORMALIZE_EXCEPTIONS: dict[str, dict[str, str]] = {forms!r}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
