"""The framework plugin protocol: which project classes a web framework calls once per row, and
with which rows (RowCallbacks). The interpreter asks `per_row_class` for each class it walks; when a
plugin answers, the methods it names are walked with their row parameter bound to a row of the
model, inside a loop that stands for the framework's (FrameworkLoop), and the declared reads (a
field's `source="a.b"`, a nested serializer) are evaluated on that row."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Protocol

from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm.api import Interpreter
from ormlens.findings import Span


@dataclass(frozen=True)
class DeclaredRead:
    """A read the framework makes on each row, declared in the class body: the attribute path
    from the row (`("author", "name")`), whether the last step is a collection it lists (a nested
    serializer with many=True) or a method it calls, and the node it is declared at (where a
    finding goes)."""

    path: tuple[str, ...]
    many: bool
    node: ast.AST  # an expression, or the `source=` keyword that names the read
    call: bool = False  # the last step is a method the framework calls (`__str__`, a model method)


@dataclass(frozen=True)
class RowCallbacks:
    """A class the framework calls once per row of `model`: its methods that take the row (by
    name: the index of the row parameter, `self` being 0), its declared reads, the paths the rows'
    query loads (None: not known, then nothing is reported), and the loop to name: `label` (the
    framework's words), at `span` in module `path` (a view's `serializer_class = ...`)."""

    model: ModelInfo | None  # None: rows of a model not known statically (queries count, reads do not)
    eager: frozenset[tuple[str, ...]] | None
    methods: dict[str, int]
    reads: tuple[DeclaredRead, ...]
    label: str
    path: str
    span: Span
    notes: tuple[str, ...] = field(default=())
    # Further rows the class's declarations are evaluated on, each with its own model and loop (a
    # form's choice fields): only their `reads` count (the methods are the first's).
    more: tuple[RowCallbacks, ...] = field(default=())


class FrameworkPlugin(Protocol):
    NAME: str

    def per_row_class(self, b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
        """The rows this framework calls `cls` once each for; None when it does not."""

    # Optional: `per_row_function(b, path, stmt)`, the rows a function (not a method: one a class
    # gets at run time) is called once each for, and `holds_per_row_function(b, path, stmt)`,
    # whether a function defines such a function (then its body is walked in the module's pass).

    def affected_by(self, decl) -> bool:
        """Does this module hold what the plugin derives for other modules (then a change of it,
        or its first reading, drops what every module derived from the list of all models)?"""

    def forget(self, index) -> None:
        """Drop what it derived from declarations (a module changed)."""
