"""The text of the files a run reports on, read once each: from the disk, or the text given for a
path (standard input with `--stdin-filename`). For `--add-noqa`, `--report-unused-noqa` and the
baseline, which need the line a finding is on."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path


class FileTexts:
    def __init__(self, given: dict[str, str] | None = None) -> None:
        self._texts: dict[str, str] = dict(given or {})

    def text(self, path: str) -> str:
        if path not in self._texts:
            self._texts[path] = read_text(path)[0]
        return self._texts[path]

    def lines(self, path: str) -> list[str]:
        """Its lines without their endings (`str.splitlines`, as `ast` counts them)."""
        return self.text(path).splitlines()

    def line(self, path: str, number: int) -> str:
        lines = self.lines(path)
        return lines[number - 1] if 0 < number <= len(lines) else ""


def read_text(path: str) -> tuple[str, str]:
    """(text with its line endings kept, encoding): decoded as Python does (PEP 263 line, BOM);
    ("", "utf-8") when the file cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return "", "utf-8"
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        return raw.decode(encoding), encoding
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace"), "utf-8"
