"""ORM plugins: what the interpreter (analysis/interpreter.py) asks when it meets a value, a call
or an attribute that Python alone does not explain.

The interpreter knows Python: bindings, loops, calls, comprehensions, branches, bounds. A plugin
knows one ORM: which calls build or run a query, what an attribute of a model class or of a row
is, what evaluating one of its values runs. Each hook gets the interpreter (`b`: it records
facts, evaluates nodes, resolves project functions) and answers a Value, or None when the value
or call is not its own; the first plugin to answer wins, in the registry's order. The hooks are
modelled on mypy's plugin hooks (get_method_hook, get_function_hook, get_attribute_hook).

Adding an ORM: a module here with these hooks, and one line in PLUGINS.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Protocol

from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.flow import Value
from ormlens.analysis.orm import django, sqlalchemy

if TYPE_CHECKING:
    from ormlens.analysis.interpreter import FactsBuilder


# How Python evaluates a value whole (see OrmPlugin.evaluate).
EVALUATIONS = ("__iter__", "list", "len", "bool", "index")


class OrmPlugin(Protocol):
    def method_call(self, b: FactsBuilder, node: ast.Call, base: Value, method: str, args: list[Value],
                    kwargs: dict[str | None, Value]) -> Value | None:
        """`base.method(*args, **kwargs)` where `base` is one of this ORM's values (a query, a
        session, a result, a loader option...)."""

    def function_call(self, b: FactsBuilder, node: ast.Call, name: str, args: list[Value]) -> Value | None:
        """A call of the library function or class `name` (its dotted name: `sqlalchemy.select`)."""

    def attribute(self, b: FactsBuilder, node: ast.Attribute, base: Value, attr: str) -> Value | None:
        """`base.attr` read, for anything but a row's relationship or column (see `relationship`):
        a manager or a query of a model class, a schema object."""

    def relationship(self, b: FactsBuilder, node: ast.Attribute, row: Value, rel: object,
                     target: object) -> Value | None:
        """A relationship read on a row that this ORM answers without running anything (a
        related manager); None: the interpreter records the read (a lazy load unless eager)."""

    def evaluate(self, b: FactsBuilder, node: ast.AST, value: Value, how: str, expression: ast.AST,
                 header: object = None) -> Value | None:
        """Python evaluates `value` whole (`how`, one of EVALUATIONS: iterating, `list()`,
        `len()`, truth, indexing): when that runs a query, record it and give what it yields."""

    def subscript(self, b: FactsBuilder, node: ast.Subscript, base: Value, deps: frozenset[int]) -> Value | None:
        """`base[...]` read."""

    def self_value(self, b: FactsBuilder, cls: tuple[str, ClassDecl]) -> Value | None:
        """`self` (or `super()`) in a method of project class `cls`, when this ORM gives it a meaning."""


PLUGINS: tuple[OrmPlugin, ...] = (
    django,  # type: ignore[assignment]  # modules implementing the hooks
    sqlalchemy,  # type: ignore[assignment]
)
