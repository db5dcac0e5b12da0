"""A source range as `ast` gives it (what findings, facts and fix plans locate code with)."""

from __future__ import annotations

import ast
from dataclasses import dataclass


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
