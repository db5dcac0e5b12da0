"""Open documents as the LSP specification keeps them.

The server owns its documents instead of using pygls's model, which differs from the
specification (it splits lines at form feeds, U+2028 and NEL as `str.splitlines` does, wraps a
column past a line's end onto the next line and splits a CRLF): a stale finding would stay on the
wrong line. Here a line ends only at `\\n`, `\\r\\n` or `\\r`; a character past a line's length
means the line's end (before its line break); a line past the last means the end of the text.

Documents are found by a normalised URI (one spelling per document, however the client
percent-encodes it) and file paths come from URIs through `uri_to_path` alone."""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from lsprotocol import types as lsp

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# `/c:/...` or `/C%3A/...` once unquoted: a Windows drive letter.
DRIVE = re.compile(r"^/[A-Za-z]:")


def normalise_uri(uri: str) -> str:
    """The key a document is kept under: `file:///c%3A/a%20b.py`, `file:///C:/a b.py` and
    `file:///c:/a%20b.py` are one document. Percent-escapes are decoded then encoded one way,
    the scheme and a drive letter lower-cased; other schemes (`untitled:`) keep their text."""
    try:
        parts = urlsplit(uri)
    except ValueError:  # a malformed URI is still a name: keep it as it is
        return uri
    scheme = parts.scheme.lower()
    path = unquote(parts.path)
    if scheme == "file" and DRIVE.match(path):
        path = path[0] + path[1].lower() + path[2:]
    rebuilt = f"{scheme}:" + (f"//{unquote(parts.netloc).lower()}" if parts.netloc or scheme == "file" else "")
    rebuilt += quote(path, safe="/:@!$&'()*+,;=~")
    if parts.query:
        rebuilt += "?" + parts.query
    if parts.fragment:
        rebuilt += "#" + parts.fragment
    return rebuilt


def uri_to_path(uri: str) -> str | None:
    """The file system path of a `file:` URI (None for any other scheme): escapes decoded, a
    drive letter lower-cased (`c:/...`), a host kept as a UNC path (`//host/share/...`)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path)
    netloc = unquote(parts.netloc)
    if netloc and netloc.lower() != "localhost":
        path = f"//{netloc}{path}"
    elif DRIVE.match(path):
        path = path[1].lower() + path[2:]
    if os.name == "nt":
        path = path.replace("/", "\\")
    return path or None


def units(text: str, encoding: str) -> int:
    """The length of `text` in the negotiated position encoding's units."""
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _chars_within(text: str, limit: int, encoding: str) -> int:
    """How many characters of `text` fit in `limit` units: a position inside a character's
    units (half a surrogate pair, a byte inside a UTF-8 sequence) falls before that character."""
    if encoding == lsp.PositionEncodingKind.Utf32:
        return min(limit, len(text))
    if units(text, encoding) <= limit:
        return len(text)
    count = 0
    for index, char in enumerate(text):
        count += units(char, encoding)
        if count > limit:
            return index
    return len(text)


@dataclass
class Document:
    uri: str  # as the client spelled it when opening: diagnostics go back under this spelling
    text: str
    version: int | None = None
    language: str | None = None  # the client's language id (`python`, `django-html`, ...)
    _starts: list[int] | None = field(default=None, repr=False)

    @property
    def line_starts(self) -> list[int]:
        """Offsets where each line starts (a text ending in a line break has an empty last line)."""
        if self._starts is None:
            self._starts = [0] + [match.end() for match in LINE_BREAK.finditer(self.text)]
        return self._starts

    def line(self, number: int) -> str:
        """The text of line `number` (0-based) without its line break; "" past the end."""
        starts = self.line_starts
        if not 0 <= number < len(starts):
            return ""
        end = starts[number + 1] if number + 1 < len(starts) else len(self.text)
        return self.text[starts[number]:end].rstrip("\r\n")

    def offset(self, position: lsp.Position, encoding: str) -> int:
        """The character offset of an LSP position, clamped as the specification says."""
        starts = self.line_starts
        if position.line >= len(starts):
            return len(self.text)
        start = starts[position.line]
        return start + _chars_within(self.line(position.line), position.character, encoding)

    def position(self, offset: int, encoding: str) -> lsp.Position:
        """The LSP position of a character offset (the inverse of `offset`)."""
        offset = max(0, min(offset, len(self.text)))
        number = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[number]
        return lsp.Position(line=number, character=units(self.text[start:offset], encoding))

    def apply(self, change: lsp.TextDocumentContentChangeEvent, encoding: str) -> None:
        """One content change: a whole new text, or a range replaced (each change of a
        didChange applies to the text the one before it left)."""
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            start = self.offset(change.range.start, encoding)
            end = max(start, self.offset(change.range.end, encoding))
            self.text = self.text[:start] + change.text + self.text[end:]
        else:
            self.text = change.text
        self._starts = None
