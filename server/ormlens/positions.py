"""Column conversions. `ast` counts UTF-8 bytes; people count characters; LSP counts UTF-16 units."""

from __future__ import annotations


def byte_to_char_col(line_text: str, byte_col: int) -> int:
    """Character offset of a UTF-8 byte offset within one line."""
    return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def char_to_utf16_col(line_text: str, char_col: int) -> int:
    prefix = line_text[:char_col]
    return len(prefix.encode("utf-16-le")) // 2


def byte_to_utf16_col(line_text: str, byte_col: int) -> int:
    return char_to_utf16_col(line_text, byte_to_char_col(line_text, byte_col))


def source_lines(text: str) -> list[str]:
    """The lines Python's parser counts: only \\r\\n, \\r and \\n end a line (str.splitlines also
    splits on form feeds and U+2028, which would shift every line after them)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
