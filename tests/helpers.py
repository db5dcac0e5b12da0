"""Helpers shared by the test modules."""

from __future__ import annotations

from pathlib import Path


def locate(path: Path, snippet: str, occurrence: int = 0) -> tuple[int, int, int, int]:
    """(line, col, end_line, end_col) of `snippet` in `path`: 1-based lines, UTF-8 byte columns,
    as `ast` and ormlens's findings count them. Computed from the text, never from the tool."""
    text = path.read_text(encoding="utf-8")
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(snippet, start + 1)

    def position(offset: int) -> tuple[int, int]:
        line_start = text.rfind("\n", 0, offset) + 1
        return text.count("\n", 0, offset) + 1, len(text[line_start:offset].encode("utf-8"))

    return (*position(start), *position(start + len(snippet)))
