"""Findings -> LSP types. Positions are converted here and nowhere else: findings count UTF-8
bytes (as `ast` does); the client counts UTF-16 code units unless it negotiated utf-8 or utf-32."""

from __future__ import annotations

from lsprotocol import types as lsp
from pygls import uris

from ormlens.analysis.syntax_versions import NewerSyntax
from ormlens.findings import Finding, Span
from ormlens.fixes.plans import to_json
from ormlens.lsp.documents import Document
from ormlens.positions import byte_to_char_col, byte_to_utf16_col
from ormlens.rules import REGISTRY

SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "information": lsp.DiagnosticSeverity.Information,
    "hint": lsp.DiagnosticSeverity.Hint,
}


def column(line_text: str, byte_col: int, encoding: str) -> int:
    if encoding == lsp.PositionEncodingKind.Utf8:
        return byte_col
    if encoding == lsp.PositionEncodingKind.Utf32:
        return byte_to_char_col(line_text, byte_col)
    return byte_to_utf16_col(line_text, byte_col)


def to_range(span: Span, lines: list[str], encoding: str) -> lsp.Range:
    def position(line: int, byte_col: int) -> lsp.Position:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return lsp.Position(line=max(line - 1, 0), character=column(text, byte_col, encoding))

    return lsp.Range(start=position(span.line, span.col), end=position(span.end_line, span.end_col))


def to_diagnostic(finding: Finding, lines: list[str], encoding: str, severity: str,
                  lines_of: callable, uri: str | None = None) -> lsp.Diagnostic:
    """`lines_of(path)` gives another file's lines, for related locations in other modules;
    `uri` is the document's own URI as the client spells it (for locations in the same file)."""
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=(uri if uri and item.path == finding.path else None)
                                  or uris.from_fs_path(item.path) or item.path,
                                  range=to_range(item.span, lines if item.path == finding.path
                                                 else lines_of(item.path), encoding)),
            message=item.message)
        for item in finding.related
    ]
    data = {"code": finding.code, "span": list(finding.span), **finding.data}
    if finding.fix is not None:
        data["fix"] = to_json(finding.fix)  # (the fix plan in JSON form, as clients have always had it)
    return lsp.Diagnostic(
        range=to_range(finding.span, lines, encoding),
        message=finding.message,
        severity=SEVERITY.get(severity, lsp.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=lsp.CodeDescription(href=finding.url),
        source="ormlens",
        related_information=related or None,
        data=data,
    )


def skipped_diagnostic(size: int, limit: int) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
        message=(f"ormlens: this file is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit "
                 "(setting ormlens.maxFileSize): not analysed"),
        severity=lsp.DiagnosticSeverity.Information,
        source="ormlens",
    )


def newer_syntax_diagnostic(text: str, newer: NewerSyntax, encoding: str) -> lsp.Diagnostic:
    """A module the running Python cannot parse because it is written for a newer one: one
    warning on the construct that needs the newer version (the module is not analysed)."""
    document = Document("", text)
    return lsp.Diagnostic(
        range=lsp.Range(start=document.position(newer.start, encoding), end=document.position(newer.end, encoding)),
        message=f"ormlens: this file {newer.message} (not analysed)",
        severity=lsp.DiagnosticSeverity.Warning,
        source="ormlens",
    )


def rule_hover(code: str) -> lsp.Hover | None:
    rule = REGISTRY.get(code)
    if rule is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=rule.documentation()))


def text_edits(text: str, edits, encoding: str) -> list[lsp.TextEdit]:
    """Fix edits (character offsets in `text`) -> LSP text edits."""
    document = Document("", text)
    return [lsp.TextEdit(range=lsp.Range(start=document.position(edit.start, encoding),
                                         end=document.position(edit.end, encoding)),
                         new_text=edit.text) for edit in sorted(set(edits))]
