"""Findings as text (`path:line:col: CODE message`, ruff's concise format) or as JSON in the
shape of ruff's `--output-format json`. Columns are 1-based characters: `Span` holds UTF-8
byte offsets, so each is converted with the text of its line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ormlens.findings import Finding, Span
from ormlens.positions import byte_to_char_col, source_lines


class SourceLines:
    """Reads each file once, to convert byte columns to character columns."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def line(self, path: str, line: int) -> str:
        if path not in self._cache:
            try:
                # utf-8-sig: `ast` offsets do not count a byte-order mark.
                text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                text = ""  # file gone since the analysis: fall back to byte columns
            self._cache[path] = source_lines(text)
        lines = self._cache[path]
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def location(self, path: str, line: int, byte_col: int) -> dict[str, int]:
        """`{"column", "row"}`, both 1-based, column in characters."""
        text = self.line(path, line)
        column = byte_to_char_col(text, byte_col) if text else byte_col
        return {"column": column + 1, "row": line}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (os.path.abspath(f.path), f.span.line, f.span.col, f.code))


def display_path(path: str) -> str:
    """Relative to the current directory when under it, else absolute (as ruff prints)."""
    absolute = Path(os.path.abspath(path))
    cwd = Path.cwd()
    return absolute.relative_to(cwd).as_posix() if absolute.is_relative_to(cwd) else str(absolute)


def format_text(findings: list[Finding], sources: SourceLines | None = None) -> list[str]:
    """One line per finding, sorted by path, line, column."""
    sources = sources or SourceLines()
    lines = []
    for finding in sort_findings(findings):
        start = sources.location(finding.path, finding.span.line, finding.span.col)
        where = f"{display_path(finding.path)}:{start['row']}:{start['column']}"
        lines.append(f"{where}: {finding.code} {finding.message}")
    return lines


def summary(count: int) -> str:
    """Ruff's closing line."""
    if count == 0:
        return "All checks passed!"
    return f"Found {count} error{'s' if count != 1 else ''}."


def one_off_summary(count: int) -> str:
    """What the default output leaves out (one_off.py), and how to see it."""
    return (f"{count} finding{'s' if count != 1 else ''} in one-off code (migrations, management commands, "
            "scripts, tests) not shown: --include one-off")


def _locations(path: str, span: Span, sources: SourceLines) -> dict[str, dict[str, int]]:
    return {
        "end_location": sources.location(path, span.end_line, span.end_col),
        "location": sources.location(path, span.line, span.col),
    }


def finding_to_json(finding: Finding, sources: SourceLines) -> dict:
    # `related` is ours; the rest is ruff's shape (format_json sorts keys, as ruff's are).
    related = [
        {"filename": os.path.abspath(r.path), **_locations(r.path, r.span, sources), "message": r.message}
        for r in finding.related
    ]
    return {
        "cell": None,
        "code": finding.code,
        "filename": os.path.abspath(finding.path),
        "fix": None,
        **_locations(finding.path, finding.span, sources),
        "message": finding.message,
        "noqa_row": finding.span.line,
        "related": related,
        "url": finding.url,
    }


def format_json(findings: list[Finding], sources: SourceLines | None = None) -> str:
    sources = sources or SourceLines()
    objects = [finding_to_json(f, sources) for f in sort_findings(findings)]
    return json.dumps(objects, indent=2, ensure_ascii=False, sort_keys=True)
