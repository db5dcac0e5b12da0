"""Findings' spans (1-based lines, 0-based UTF-8 byte columns) of offsets into a template's text,
for both template readers. Lines end where Python's parser ends them (\\r\\n, \\r, \\n: as
ormlens.positions.source_lines), which is also where Jinja2 counts its line numbers."""

from __future__ import annotations

import re
from bisect import bisect_right

from ormlens.spans import Span

_NEWLINE = re.compile(r"\r\n|\r|\n")


_CHUNK = 1024


class TextSpans:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]
        self._ascii = text.isascii()
        self._chunk_bytes: list[int] = []
        if not self._ascii:
            # The UTF-8 length of the text before each chunk of _CHUNK characters: a byte offset
            # costs one short slice, however long the line (a minified template is one line).
            total = 0
            for chunk_start in range(0, len(text) + 1, _CHUNK):
                self._chunk_bytes.append(total)
                total += len(text[chunk_start:chunk_start + _CHUNK].encode("utf-8", "surrogatepass"))

    def _bytes_before(self, offset: int) -> int:
        chunk = offset // _CHUNK
        return self._chunk_bytes[chunk] + len(self.text[chunk * _CHUNK:offset].encode("utf-8", "surrogatepass"))

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, UTF-8 byte column) of a character offset."""
        index = bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        if self._ascii:
            return index + 1, offset - start
        return index + 1, self._bytes_before(offset) - self._bytes_before(start)

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        if line < len(self.starts) and end >= self.starts[line]:  # ends on a later line
            end_line, end_col = self.position(end)
            return Span(line, col, end_line, end_col)
        width = end - start if self._ascii else len(self.text[start:end].encode("utf-8", "surrogatepass"))
        return Span(line, col, line, col + width)

    def line(self, number: int) -> str:
        """The text of a 1-based line, without its line break."""
        index = number - 1
        if not 0 <= index < len(self.starts):
            return ""
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[index]:end].rstrip("\r\n")

    def line_span(self, number: int, start: int, end: int) -> Span:
        """The span of characters [start, end) of a 1-based line."""
        line_start = self.starts[number - 1] if 0 < number <= len(self.starts) else 0
        return self.span(line_start + start, line_start + end)
