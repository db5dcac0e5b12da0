"""Classes a framework calls once per row (frameworks/): their row methods are walked with the row
parameter bound to a row of the model, inside a loop that stands for the framework's, and their
declared reads are evaluated on that row, so the rules see them as they see a `for` loop's body."""

from __future__ import annotations

import ast

from ormlens.analysis import frameworks
from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.facts import LoopScope
from ormlens.analysis.flow import Kind, Size, Value
from ormlens.analysis.frameworks.api import RowCallbacks

ROW_NAME = "<row>"  # the name the declared reads are evaluated on (no Python name can clash)


class FrameworkRows:
    """Mixed into the interpreter (FactsBuilder)."""

    def row_callbacks(self, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
        """What a framework calls `cls` once per row for (asked once per class and pass)."""
        known = self.plugin_data.setdefault("frameworks.rows", {})
        key = id(cls[1])
        if key not in known:
            known[key] = frameworks.per_row_class(self, cls) if self.defers else None  # the module's own pass
        return known[key]

    def framework_loop(self, callbacks: RowCallbacks) -> tuple[LoopScope, Value]:
        """A loop standing for the framework's over the rows, and the row it binds."""
        model = callbacks.model
        loop = LoopScope(next(self._ids), "framework", callbacks.span, callbacks.label, Size.UNBOUNDED, False,
                         frozenset(), rows_of=model.name if model is not None else None, path=callbacks.path)
        self.facts.loops[loop.id] = loop
        if model is None:  # an object of a model not known: what it runs counts, not what it reads
            return loop, Value(deps=frozenset({loop.id}), label="row")
        row = Value(kind=Kind.ROW, model=callbacks.model, eager=callbacks.eager, loop=loop.id,
                    deps=frozenset({loop.id}), label="row")
        return loop, row

    def row_parameter_of(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef,
                         cls: tuple[str, ClassDecl]) -> tuple[str, int] | None:
        """(the row parameter's name, its index) when the framework calls `stmt` with a row."""
        callbacks = self.plugin_data.get("frameworks.rows", {}).get(id(cls[1]))
        index = callbacks.methods.get(stmt.name) if callbacks is not None else None
        positional = [*stmt.args.posonlyargs, *stmt.args.args]
        if index is None or index >= len(positional):
            return None
        return positional[index].arg, index

    def enter_row_method(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, cls: tuple[str, ClassDecl]) -> None:
        """In a row method's frame: bind its row parameter and enter the framework's loop."""
        found = self.row_parameter_of(stmt, cls)
        if found is None:
            return
        callbacks = self.plugin_data["frameworks.rows"][id(cls[1])]
        loop, row = self.framework_loop(callbacks)
        self.assign_name(found[0], row.but(label=found[0]))
        self.frame.loops.append(loop)

    def enter_row_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """In a function a framework calls once per row (attached to a class at run time): bind its
        row parameter and enter the framework's loop."""
        callbacks = frameworks.per_row_function(self, self.decl.path, stmt) if self.defers else None
        index = callbacks.methods.get(stmt.name) if callbacks is not None else None
        positional = [*stmt.args.posonlyargs, *stmt.args.args]
        if index is None or index >= len(positional):
            return
        loop, row = self.framework_loop(callbacks)
        self.assign_name(positional[index].arg, row.but(label=positional[index].arg))
        self.frame.loops.append(loop)

    def holds_row_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Does `stmt` define a function a framework calls once per row (so its body is walked)?"""
        return frameworks.holds_per_row_function(self, self.decl.path, stmt)

    def declared_row_reads(self, callbacks: RowCallbacks, qualname: str) -> None:
        """Evaluate each read the class declares (`source="author.name"`, a nested serializer) on a
        row, at the declaration, inside the framework's loop."""
        for rows in (callbacks, *callbacks.more):
            if not rows.reads:
                continue
            outer = self.frame
            self.push_frame("function", None, qualname)
            try:
                loop, row = self.framework_loop(rows)
                self.frame.loops.append(loop)
                self.assign_name(ROW_NAME, row)
                for read in rows.reads:
                    self.eval(synthetic_read(read.path, read.many, self.first_line(read.node), read.call))
            finally:
                self.frame = outer

    def first_line(self, node: ast.expr) -> ast.expr:
        """A declaration over several lines, placed on its first (what names a finding there)."""
        if node.end_lineno == node.lineno or not 0 < node.lineno <= len(self._lines):
            return node
        line = self._lines[node.lineno - 1]
        place = ast.Name(id="", ctx=ast.Load())
        place.lineno = place.end_lineno = node.lineno
        place.col_offset = node.col_offset
        place.end_col_offset = len(line.rstrip().encode("utf-8", "surrogatepass"))
        return place


def synthetic_read(path: tuple[str, ...], many: bool, at: ast.expr, call: bool = False) -> ast.expr:
    """`<row>.a.b` (`<row>.a.b()` for a method called, `list(<row>.a.b.all())` for a collection
    listed whole), every node placed at the declaration `at` (where a finding goes, and what it is
    named by)."""
    node: ast.expr = ast.Name(id=ROW_NAME, ctx=ast.Load())
    for part in path:
        node = ast.Attribute(value=node, attr=part, ctx=ast.Load())
    if call:
        node = ast.Call(func=node, args=[], keywords=[])
    if many:
        node = ast.Call(func=ast.Name(id="list", ctx=ast.Load()), args=[
            ast.Call(func=ast.Attribute(value=node, attr="all", ctx=ast.Load()), args=[], keywords=[])], keywords=[])
    for child in ast.walk(node):
        ast.copy_location(child, at)
        child.end_lineno, child.end_col_offset = at.end_lineno, at.end_col_offset
    return node
