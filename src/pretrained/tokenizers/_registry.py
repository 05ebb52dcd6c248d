"""Building components from their tokenizer.json dicts: one registry per kind, errors that say what to do."""

from __future__ import annotations

from typing import Any

import regex

from ._unicode_tables import ONIG_UNASSIGNED


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


def compile_pattern(kind: str, text: str) -> Any:
    """Compile a String (literal) or Regex (Oniguruma syntax, as the reference uses) pattern."""
    if kind == "string":
        return regex.compile(regex.escape(text))
    return OnigRegex(text)


class LazyRegex:
    """A regex compiled on first use, so importing the package stays fast.

    >>> LazyRegex(r"a+").findall("caab")
    ['aa']
    """

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = regex.compile(*self._args)
        return getattr(self._compiled, name)


class OnigRegex:
    """An Oniguruma pattern run by the ``regex`` module with Oniguruma's semantics.

    ``^``/``$`` match at line breaks (Ruby syntax); ``\\w`` is Oniguruma's word class. Chars that the
    ``regex`` module knows but the reference's Oniguruma tables leave unassigned match no property
    class there: when a text has any, a second compiled form that honours this is used.
    """

    __slots__ = ("pattern", "plain", "_exact")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.plain = self._compile(exact=False)  # compiled now: a bad pattern fails at load time
        self._exact: Any = None if _PROPERTY.search(pattern) else False

    def _compile(self, exact: bool) -> regex.Pattern:
        try:
            return regex.compile(onig_to_python(self.pattern, exact=exact), regex.V0 | regex.MULTILINE)
        except regex.error as e:
            raise TokenizerFileError(f"tokenizer.json: invalid regex {self.pattern!r}: {e}") from e

    def _for(self, text: str) -> regex.Pattern:
        if self._exact is not False and not text.isascii() and _UNASSIGNED.search(text):
            if self._exact is None:
                self._exact = self._compile(exact=True)
            return self._exact
        return self.plain

    def finditer(self, text: str) -> Any:
        return self._for(text).finditer(text)

    def sub(self, repl: Any, text: str) -> str:
        return self._for(text).sub(repl, text)

    def search(self, text: str) -> Any:
        return self._for(text).search(text)


_PROPERTY = regex.compile(r"\\[pPwWdD]|\[:")
_INLINE_FLAGS = regex.compile(r"\(\?[imx]*(?:-[imx]*)?[:)]")
_REWRITE = regex.compile(r"\\[pPwWdDZhHbB]|\[:|\^|\(\?[imx]*(?:-[imx]*)?[:)]")
_UNASSIGNED = LazyRegex(f"[{ONIG_UNASSIGNED}]")
_JOINERS = "\u200c\u200d"
# Oniguruma's \\w never matches the joiners U+200C/U+200D, and outside a class it also matches the
# Latin-1 digits ² ³ ¹ ¼ ½ ¾
_W_EXTRA = "\xb2\xb3\xb9\xbc-\xbe"


def onig_to_python(pattern: str, exact: bool = False) -> str:
    r"""Rewrite property escapes (``\w``, ``\p{..}``, ``\d`` ...), ``^`` and ``\Z`` to Oniguruma's meaning.

    With ``exact``, chars the reference's Oniguruma leaves unassigned match no property escape.
    """
    if not _REWRITE.search(pattern) and "&&" not in pattern and pattern.count("[") < 2:
        return pattern
    una = ONIG_UNASSIGNED if exact else ""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            j = _escape_end(pattern, i)
            esc, e = pattern[i:j], pattern[i + 1]
            if e == "Z":  # end, or before a last newline (Python's \\Z is the very end)
                out.append("(?=\\n?\\Z)")
            elif e in "hH":  # Ruby's hex digit (Python's \\h is a horizontal space)
                out.append("[0-9a-fA-F]" if e == "h" else "[^0-9a-fA-F]")
            elif e in "bB":  # boundaries of Oniguruma's \\w
                w = f"(?:(?![{una}{_JOINERS}])[\\w{_W_EXTRA}])"
                b = f"(?<={w})(?!{w})|(?<!{w})(?={w})" if e == "b" else f"(?<={w})(?={w})|(?<!{w})(?!{w})"
                out.append(f"(?:{b})")
            elif e == "w":
                out.append(f"(?:(?![{una}{_JOINERS}])[\\w{_W_EXTRA}])")
            elif e == "W":
                out.append(f"(?:[{una}{_JOINERS}]|[^\\w{_W_EXTRA}])")
            elif exact and e in "pd":
                out.append(f"(?:(?![{una}]){esc})")
            elif exact and e in "PD":
                out.append(f"(?:[{una}]|{esc})")
            else:
                out.append(esc)
            i = j
        elif c == "[":
            j = _class_end(pattern, i)
            # Oniguruma's [:digit:] is every decimal digit (Python's is ASCII only)
            cls = pattern[i : j + 1].replace("[:digit:]", "\\p{Nd}").replace("[:^digit:]", "\\P{Nd}")
            nested = _nested_class(cls, exact)
            if nested is not None:
                if not nested.startswith("["):  # an expression (negated nested classes, &&)
                    out.append(nested)
                    i = j + 1
                    continue
                cls = nested
            body = cls[1:-1]
            excluded = (_JOINERS if "\\w" in body else "") + (una if _PROPERTY.search(body) else "")
            if excluded and _PROPERTY.search(body):
                negated = body.startswith("^")  # inside a class \\w has no Latin-1 digits
                out.append(f"(?:[{excluded}]|{cls})" if negated else f"(?:(?![{excluded}]){cls})")
            else:
                out.append(cls)
            i = j + 1
        elif c == "(" and (flags := _INLINE_FLAGS.match(pattern, i)) is not None:
            out.append(flags.group().replace("m", "s"))  # Ruby's (?m) lets "." match newlines: Python's (?s)
            i = flags.end()
        elif c == "^":  # a line start, but not the end after a last newline (as Python's MULTILINE ^ is)
            out.append("(?:\\A|(?<=\\n)(?!\\Z))")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _nested_class(cls: str, exact: bool) -> str | None:
    """An Oniguruma class with classes inside it or ``&&`` (which Python's ``regex`` V0 reads otherwise):
    one flat class when the inner classes only add chars, else an expression matching one char.
    None for a plain class."""
    body = cls[1:-1]
    negated = body.startswith("^")
    body = body[1:] if negated else body
    parts: list[tuple[str, list[str]]] = []  # split at top-level &&: (flat chars, inner classes)
    flat, inner, i = "", [], 0
    while i < len(body):
        if body[i] == "\\":
            j = _escape_end(body, i)
        elif body.startswith("[:", i) and body.find(":]", i) > 0:  # POSIX bracket: part of the flat chars
            j = body.find(":]", i) + 2
        elif body[i] == "[":
            j = _class_end(body, i) + 1
            inner.append(body[i:j])
            i = j
            continue
        elif body.startswith("&&", i):
            parts.append((flat, inner))
            flat, inner, i = "", [], i + 2
            continue
        else:
            j = i + 1
        flat += body[i:j]
        i = j
    parts.append((flat, inner))
    if len(parts) == 1 and not inner:
        return None
    unions = []
    for flat, inner in parts:
        rest = []
        for c in inner:  # an inner class that only lists chars joins the flat ones
            if c.startswith("[^") or "&&" in c or "[" in c[1:].replace("[:", ""):
                rest.append(onig_to_python(c, exact))
            else:
                flat += "\\]" + c[2:-1] if c.startswith("[]") else c[1:-1]
        if len(parts) == 1 and not rest:
            return f"[{'^' if negated else ''}{flat}]"
        alts = ([onig_to_python(f"[{flat}]", exact)] if flat else []) + rest
        unions.append(f"(?:{'|'.join(alts)})" if alts else "(?!)")
    one = "".join(f"(?={u})" for u in unions[:-1]) + unions[-1]
    return f"(?:(?!{one})(?s:.))" if negated else f"(?:{one})"


def _escape_end(pattern: str, i: int) -> int:
    """End of the escape starting at ``i`` (``\\p{...}`` spans its braces)."""
    if i + 2 < len(pattern) and pattern[i + 1] in "pP" and pattern[i + 2] == "{":
        close = pattern.find("}", i + 2)
        return close + 1 if close >= 0 else len(pattern)
    return i + 2


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the character class opened at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    depth = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(pattern) - 1


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
