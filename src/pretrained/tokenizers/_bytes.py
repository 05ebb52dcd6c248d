"""GPT-2's byte <-> printable-char table, shared by the ByteLevel pre-tokenizer, decoder and BPE trainer."""

from __future__ import annotations


def _bytes_to_unicode() -> dict[int, str]:
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    )
    table = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_TO_CHAR: dict[int, str] = _bytes_to_unicode()
CHAR_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_CHAR.items()}
# str.translate table for ASCII text (one byte per char)
ASCII_TO_BYTE_CHAR: dict[int, str] = {b: BYTE_TO_CHAR[b] for b in range(128)}
