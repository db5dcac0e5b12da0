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


from collections import OrderedDict


def source_lines(text: str) -> list[str]:
    """The lines Python's parser counts: only \\r\\n, \\r and \\n end a line (str.splitlines also
    splits on form feeds and U+2028, which would shift every line after them)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


_RECENT: OrderedDict[int, tuple[str, list[str]]] = OrderedDict()


def shared_lines(text: str) -> list[str]:
    """`source_lines(text)` of one of the few texts split last, not split again (the analysis of
    one module asks for them many times: a builder per function walked on demand). Not to be
    changed by the caller."""
    found = _RECENT.get(id(text))
    if found is not None and found[0] is text:
        _RECENT.move_to_end(id(text))
        return found[1]
    lines = source_lines(text)
    _RECENT[id(text)] = (text, lines)
    if len(_RECENT) > 64:
        _RECENT.popitem(last=False)
    return lines
