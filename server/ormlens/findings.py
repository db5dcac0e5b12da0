"""What a rule reports. Plain data: the CLI formats it, the server converts it, fixes read it."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (plans import Span from here)
    from ormlens.fixes.plans import FixPlan

DOCS_BASE_URL = "https://github.com/ormlens/ormlens/blob/main/docs/rules"


@dataclass(frozen=True, order=True)
class Span:
    """A source range as `ast` gives it: 1-based lines, 0-based UTF-8 byte columns."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: ast.AST) -> Span:
        return cls(node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)

    @classmethod
    def between(cls, start: ast.AST, end: ast.AST) -> Span:
        return cls(start.lineno, start.col_offset, end.end_lineno or end.lineno, end.end_col_offset or 0)

    def __iter__(self):
        """`list(span)`: the JSON form carried in findings' data, `Span(*items)` reads it back."""
        return iter((self.line, self.col, self.end_line, self.end_col))


@dataclass(frozen=True)
class Related:
    """A second place that explains a finding: the loop that repeats it, the query inside a helper."""

    path: str
    span: Span
    message: str


@dataclass
class Finding:
    code: str
    name: str
    path: str
    span: Span
    message: str
    related: list[Related] = field(default_factory=list)
    # What the finding found, for clients (the diagnostic's data); plain JSON-able data, never AST nodes.
    data: dict[str, Any] = field(default_factory=dict)
    # What its quick fix needs (fixes/plans.py), None when it offers none.
    fix: FixPlan | None = None

    @property
    def url(self) -> str:
        return f"{DOCS_BASE_URL}/{self.code}.md"

    def sort_key(self) -> tuple:
        return (self.path, self.span, self.code)
