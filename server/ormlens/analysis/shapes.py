"""What the interpreter reads from the shape of code and of values alone: helpers its parts
(interpreter.py, statements.py, expressions.py, calls.py) share."""

from __future__ import annotations

import ast
import re
from typing import Any

from ormlens.analysis.astutil import inside, last_name
from ormlens.analysis.flow import Kind, Size, Value

CHUNKER_NAME = re.compile(r"(?i)(chunk|batch)")


SESSION_NAME_HINTS = ("session", "db_session", "dbsession", "sess")


def looks_like_session(name: str) -> bool:
    lowered = name.lower()
    return lowered in SESSION_NAME_HINTS or lowered.endswith("_session")


def divides_by_a_size(node: ast.expr) -> bool:
    """`ceil(len(xs) / K)`, `n // K`, `(n + K - 1) // K`, `-(-n // K)`: a number of chunks."""
    while isinstance(node, (ast.Call, ast.UnaryOp, ast.BinOp)):
        if isinstance(node, ast.Call):
            if last_name(node.func) not in ("ceil", "int") or len(node.args) != 1:
                return False
            node = node.args[0]
        elif isinstance(node, ast.UnaryOp):
            node = node.operand
        elif isinstance(node.op, (ast.Div, ast.FloorDiv)):
            divisor = node.right
            return not (isinstance(divisor, ast.Constant) and isinstance(divisor.value, int) and divisor.value < 50)
        elif isinstance(node.op, (ast.Add, ast.Sub)):
            node = node.left
        else:
            return False
    return False


def counts_pages(node: ast.expr) -> bool:
    """`pagination.pages + 1`, `total_pages`, `num_pages`: the number of pages of a result."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        node = node.left
    name = last_name(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
    return name in ("pages", "num_pages", "total_pages", "page_count", "n_pages")


def is_constant_scalar(value: Value) -> bool:
    return value.kind is Kind.SCALAR and value.size is Size.BOUNDED and not value.deps


def is_int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def calls_in(node: ast.AST):
    """The calls in an expression that run when it is evaluated (not in a lambda or a nested scope)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Call):
            yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                pending.append(child)


def unconditional_calls(body: list[ast.stmt]):
    """The calls in the statements of a block that always run (through `try:` and `with:`
    bodies; not under `if`, loops or handlers)."""
    for stmt in body:
        if isinstance(stmt, ast.Try):
            yield from unconditional_calls(stmt.body)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from unconditional_calls(stmt.body)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)) and stmt.value is not None:
            yield from calls_in(stmt.value)


HANDLERS: dict[tuple[type, str, type], object] = {}


def node_handler(cls: type, prefix: str, node_type: type):
    """`cls.eval_Name` for ast.Name, looked up once per node type."""
    key = (cls, prefix, node_type)
    if key not in HANDLERS:
        HANDLERS[key] = getattr(cls, prefix + node_type.__name__, None)
    return HANDLERS[key]


NO_PROVENANCE = Value().provenance()


def holding(container: Value, row: Value) -> dict[str, Any]:
    """What a container holds once `row` is added (`rows.append(row)`, `index[key] = row`): the
    row's model, loading and provenance, kept only where rows it already holds (of the same model)
    agree: rows from two places are only as loaded, and as known, as both."""
    held = dict(model=row.model, eager=row.eager, **row.provenance())
    if container.kind not in (Kind.ROWS, Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS) or container.model is None:
        return held
    if container.model is not row.model:
        return dict(model=row.model, eager=None, **NO_PROVENANCE)  # mixed models: loading unknown
    before = container.provenance()
    for name, value in before.items():
        if held[name] != value:
            held[name] = NO_PROVENANCE[name]
    held["eager"] = None if container.eager is None or row.eager is None else container.eager & row.eager
    return held


# A literal's value: the same for every literal (values are never changed in place).
CONSTANT = Value(kind=Kind.SCALAR, size=Size.BOUNDED)


# Expressions that may skip part of a statement (what loaded_before does not count on).
BRANCHING = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# Values a mutation (`append`, `d[k] = v`) can make depend on a loop item: never a session or a query.
CONTAINER_KINDS = frozenset({Kind.COLLECTION, Kind.ROWS, Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS, Kind.UNKNOWN})


def run_before(body: list[ast.stmt], node: ast.AST) -> list[ast.AST]:
    """What every path from the start of `body` to `node` runs to its end (see loaded_before)."""
    index = next((i for i, stmt in enumerate(body) if inside(node, stmt)), None)
    if index is None:
        return []
    out = [part for stmt in body[:index] for part in completed(stmt)]
    stmt = body[index]
    if isinstance(stmt, (ast.With, ast.AsyncWith)) and any(inside(node, inner) for inner in stmt.body):
        out += [part for item in stmt.items for part in plain_parts(item.context_expr)]
        out += run_before(stmt.body, node)
    elif isinstance(stmt, ast.If):
        out += plain_parts(stmt.test)
        out += run_before(stmt.body, node) + run_before(stmt.orelse, node)  # (node is in one of them)
    elif isinstance(stmt, ast.Try):
        if any(inside(node, inner) for inner in stmt.orelse):  # `else`: the whole body ran
            out += [part for inner in stmt.body for part in completed(inner)]
            out += run_before(stmt.orelse, node)
        else:
            out += run_before(stmt.body, node)
    return out


def completed(stmt: ast.stmt) -> list[ast.AST]:
    """What a statement that ran to its end surely ran (for `run_before`)."""
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
        return plain_parts(stmt)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [part for item in stmt.items for part in plain_parts(item.context_expr)] + \
            [part for inner in stmt.body for part in completed(inner)]
    if isinstance(stmt, ast.If):
        return plain_parts(stmt.test)
    return []


def plain_parts(node: ast.AST) -> list[ast.AST]:
    return [] if any(isinstance(n, BRANCHING) for n in ast.walk(node)) else [node]

