"""What every output format reads: the run's findings and unreadable files, their positions in
characters, each finding's severity and fix. Columns are 1-based characters: `Span` holds UTF-8
byte offsets, so each is converted with the text of its line."""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ormlens.analysis.sources import ParseFailure, read_source
from ormlens.config import Settings
from ormlens.findings import Finding, Span
from ormlens.positions import byte_to_char_col, source_lines

if TYPE_CHECKING:
    from ormlens.fixes.base import Edit, Fix

# A finding of these severities fails the run (exit 1); `information` and `hint` are only shown.
FAILING_SEVERITIES = ("error", "warning")


class SourceLines:
    """Reads each file once (as Python decodes it: the text fixes are built on), for character
    columns, the lines `full` shows and the line a fingerprint hashes."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}

    def given(self, texts: dict[str, str]) -> None:
        """Texts the run checked instead of the files on disk (`--stdin-filename`)."""
        self._texts.update(texts)
        for path in texts:
            self._lines.pop(path, None)

    def text(self, path: str) -> str:
        if path not in self._texts:
            try:
                self._texts[path] = read_source(path)
            except ParseFailure:
                try:  # undecodable: still show what can be shown
                    self._texts[path] = Path(path).read_text(encoding="utf-8-sig", errors="replace")
                except OSError:
                    self._texts[path] = ""  # file gone since the analysis: fall back to byte columns
        return self._texts[path]

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = source_lines(self.text(path))
        return self._lines[path]

    def line(self, path: str, line: int) -> str:
        lines = self.lines(path)
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


def relative_to(path: str, root: Path) -> str | None:
    """`path` relative to `root`, with `/`; None when it is not under it."""
    absolute = Path(os.path.abspath(path))
    return absolute.relative_to(root).as_posix() if absolute.is_relative_to(root) else None


@dataclass(frozen=True)
class ReportedError:
    """A file the run could not check (engine.Report.errors: `path: message` or
    `path:line:col: syntax error: message`), taken apart for the structured formats."""

    text: str          # the whole line, as printed on stderr
    path: str | None
    row: int
    column: int        # 1-based
    message: str       # without the path and position

    def display(self) -> str:
        """`path:row:col: message`, the path as findings show theirs."""
        return f"{display_path(self.path)}:{self.row}:{self.column}: {self.message}" if self.path else self.text


_POSITION = re.compile(r"(?P<row>\d+):(?P<column>\d+): (?P<message>.*)", re.DOTALL)
_PATH = re.compile(r"(?P<path>.+?\.pyi?)(?::(?P<row>\d+):(?P<column>\d+))?: (?P<message>.*)", re.DOTALL)


def parse_error(text: str, paths: list[str]) -> ReportedError:
    """The error's file is the longest of `paths` (the run's files, as the engine names them)
    it starts with; else what looks like a Python file's path."""
    for path in sorted((p for p in paths if text.startswith(p + ":")), key=len, reverse=True):
        rest = text[len(path) + 1:]
        position = _POSITION.fullmatch(rest)
        if position:
            return ReportedError(text, path, max(int(position["row"]), 1), max(int(position["column"]), 1),
                                 position["message"])
        return ReportedError(text, path, 1, 1, rest.strip())
    match = _PATH.fullmatch(text)
    if match:
        return ReportedError(text, match["path"], max(int(match["row"] or 1), 1), max(int(match["column"] or 1), 1),
                             match["message"])
    return ReportedError(text, None, 1, 1, text)


@dataclass(frozen=True)
class FixView:
    """A finding's fix as the outputs show it: positions are 1-based rows and character columns of
    the file as it is on disk."""

    fix: Fix
    # (start {"row", "column"}, end {"row", "column"}, content) of each edit, in the file's order.
    edits: list[tuple[dict[str, int], dict[str, int], str]]

    @property
    def applicability(self) -> str:
        return "safe" if self.fix.safe else "unsafe"


class TextPositions:
    """Character offsets of a text (what `Edit`s hold) as 1-based rows and columns."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", text)]

    def location(self, offset: int) -> dict[str, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        return {"column": offset - self._starts[index] + 1, "row": index + 1}


@dataclass
class Run:
    """One `ormlens check` run as the outputs see it."""

    findings: list[Finding]        # those shown, in the engine's order
    errors: list[ReportedError]
    settings: Settings
    root: Path
    unsafe_fixes: bool = False     # --unsafe-fixes: an unsafe fix is one `--fix` would apply
    files_checked: int = 0
    one_off_hidden: int = 0        # findings in one-off code, counted but not shown
    quiet: bool = False
    fixed: list | None = None      # engine.FixOutcome of each file when --fix ran, else None
    baseline_hidden: int = 0       # findings the baseline holds, not shown
    baseline: Path | None = None   # that baseline file
    sources: SourceLines = field(default_factory=SourceLines)
    _fixes: dict[int, FixView | None] = field(default_factory=dict)
    _texts: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)
        self.errors = sorted(self.errors, key=lambda e: (os.path.abspath(e.path or ""), e.row, e.column, e.text))

    def severity(self, finding: Finding) -> str:
        return self.settings.severity_of(finding.code)

    def failing(self) -> bool:
        """Does the run fail (exit 1)? A file not checked, or a finding at error or warning."""
        return bool(self.errors) or any(self.severity(f) in FAILING_SEVERITIES for f in self.findings)

    def fix(self, finding: Finding) -> FixView | None:
        """The fix the finding offers on the file as it is now, built from its fix plan by
        fixes.registry.fix_for (as the language server does: no second analysis), or None."""
        key = id(finding)
        if key not in self._fixes:
            self._fixes[key] = self._build_fix(finding) if finding.fix is not None else None
        return self._fixes[key]

    def applicable(self, fix: FixView | None) -> bool:
        """Would `--fix` (with the same --unsafe-fixes) apply it?"""
        return fix is not None and (fix.fix.safe or self.unsafe_fixes)

    def _build_fix(self, finding: Finding) -> FixView | None:
        from ormlens.fixes.base import SourceText  # libcst: only when an output shows fixes
        from ormlens.fixes.registry import fix_for

        path = finding.fix_path or finding.path  # (a template's finding is fixed in its view)
        if path not in self._texts:
            self._texts[path] = SourceText(self.sources.text(path))
        source = self._texts[path]
        built = fix_for(finding, source, self.settings)
        if built is None or not built.edits:
            return None
        positions = TextPositions(source.text)
        return FixView(built, [(positions.location(edit.start), positions.location(edit.end), edit.text)
                               for edit in _in_order(built.edits)])

    def fingerprint(self, path: str, code: str, line: int, seen: dict, base: Path | None = None) -> str:
        """A hash of line_fingerprint's parts, the file named relative to `base` (by default the root)."""
        name = relative_to(path, base or self.root) or os.path.abspath(path)
        parts = line_fingerprint(self.sources, name, path, code, line, seen)
        return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:16]

    def span_location(self, path: str, span: Span) -> tuple[dict[str, int], dict[str, int]]:
        return (self.sources.location(path, span.line, span.col),
                self.sources.location(path, span.end_line, span.end_col))


def line_fingerprint(sources: SourceLines, name: str, path: str, code: str, line: int,
                     seen: dict) -> tuple[str, str, str, int]:
    """What identifies a finding across edits (the GitLab and SARIF fingerprints, baselines): the
    file's `name`, the rule, the text of the finding's line, stripped (a line inserted above does
    not change it), and its occurrence among those with the same three (`seen` counts them, in
    the order the findings are given: by position)."""
    key = (name, code, sources.line(path, line).strip())
    occurrence = seen[key] = seen.get(key, -1) + 1
    return (*key, occurrence)


def _in_order(edits: list[Edit]) -> list[Edit]:
    return sorted(dict.fromkeys(edits), key=lambda edit: (edit.start, edit.end))


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"
