"""Building components from their tokenizer.json dicts: one registry per kind, errors that say what to do."""

from __future__ import annotations

from typing import Any

import regex


class TokenizerFileError(ValueError):
    """A tokenizer.json that cannot be used as written (malformed, unknown component, bad vocab)."""


def build(kind: str, registry: dict[str, type], data: Any) -> Any:
    """Instantiate a component of ``kind`` ("normalizer", ...) from its JSON dict, or None for null."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TokenizerFileError(
            f"tokenizer.json: {kind} must be an object or null, got {type(data).__name__}"
        )
    type_name = data.get("type")
    if type_name is None and kind == "model":
        type_name = _guess_model_type(data)
    cls = registry.get(type_name)  # type: ignore[arg-type]
    if cls is None:
        raise TokenizerFileError(
            f"tokenizer.json: unknown {kind} type {type_name!r}; supported {kind} types: "
            f"{', '.join(sorted(registry))}. Use a file written by a tokenizers version with one of these, "
            f"or remove the {kind} from the file."
        )
    try:
        return cls.from_dict(data)
    except TokenizerFileError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise TokenizerFileError(
            f"tokenizer.json: cannot build {kind} {type_name!r} from {_short(data)}: {e}. "
            "Check the fields of this component against the tokenizers documentation."
        ) from e


def _guess_model_type(data: dict) -> str | None:
    # the reference accepts an untagged model and infers its type from the fields present
    if "merges" in data:
        return "BPE"
    if "max_input_chars_per_word" in data or "continuing_subword_prefix" in data:
        return "WordPiece"
    if isinstance(data.get("vocab"), list):
        return "Unigram"
    if "vocab" in data:
        return "WordLevel"
    return None


def _short(data: Any, n: int = 200) -> str:
    s = repr({k: v for k, v in data.items() if k not in ("vocab", "merges", "precompiled_charsmap")})
    return s if len(s) <= n else s[:n] + "...}"


def pattern_from_dict(data: Any, where: str) -> tuple[str, str]:
    """``{"String": s}`` or ``{"Regex": r}`` -> ("string"|"regex", text)."""
    if isinstance(data, str):
        return ("string", data)
    if isinstance(data, dict) and len(data) == 1:
        ((k, v),) = data.items()
        if k in ("String", "Regex") and isinstance(v, str):
            return (k.lower(), v)
    raise TokenizerFileError(
        f"tokenizer.json: {where} pattern must be {{'String': ...}} or {{'Regex': ...}}, got {data!r}"
    )


def pattern_to_dict(kind: str, text: str) -> dict[str, str]:
    return {"String" if kind == "string" else "Regex": text}


def compile_pattern(kind: str, text: str) -> regex.Pattern:
    """Compile a String (literal) or Regex (Oniguruma syntax) pattern."""
    if kind == "string":
        return regex.compile(regex.escape(text))
    try:
        return regex.compile(text, regex.V0)
    except regex.error as e:
        raise TokenizerFileError(f"tokenizer.json: invalid regex {text!r}: {e}") from e


class Regex:
    """A regex pattern for Split / Replace (mirrors ``tokenizers.Regex``).

    >>> Regex(r"\\s+").pattern
    '\\\\s+'
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        compile_pattern("regex", pattern)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"
