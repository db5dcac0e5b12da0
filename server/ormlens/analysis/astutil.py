"""Small readings of `ast` nodes shared by the facts pass and the ModelIndex."""

from __future__ import annotations

import ast
import functools


def last_name(node: ast.AST | None) -> str:
    """`a.b.c` -> "c", `f` -> "f", `f(x)` -> "f"; else ""."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return last_name(node.func)
    return ""


def parameter_defaults(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> dict[str, ast.expr]:
    """Each parameter with a default, by name: the positional ones, then the keyword-only ones."""
    args = function.args
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    defaults = dict(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    defaults.update((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
    return defaults


def is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def unquote(node: ast.expr) -> ast.expr:
    """A string annotation (`"Optional[Decimal]"`) as the expression it spells; else unchanged."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _spelled(node.value) or node
    return node


@functools.lru_cache(maxsize=4096)
def _spelled(text: str) -> ast.expr | None:
    """The expression a string annotation spells (parsed once per text: the same annotation is
    read on every analysis of every module using it; the node is shared, never changed)."""
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return None


def and_parts(condition: ast.expr) -> list[ast.expr]:
    """`a and b and c` -> [a, b, c]; anything else -> [it]."""
    if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And):
        return list(condition.values)
    return [condition]


def guarded_attributes(conditions: list[ast.expr], name: str) -> set[str]:
    """Attributes of `name` that Python conditions keep set: `if x.a`, `if x.a is not None`,
    `if x.a != None` (as in `[x for x in xs if x.a is not None]`)."""
    found = set()
    for condition in conditions:
        for part in and_parts(condition):
            if isinstance(part, ast.Compare) and len(part.ops) == 1 and \
                    isinstance(part.ops[0], (ast.IsNot, ast.NotEq)) and is_none(part.comparators[0]):
                part = part.left
            if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and part.value.id == name:
                found.add(part.attr)
    return found


def inside(node: ast.AST, outer: ast.AST) -> bool:
    """Is `node` within `outer`'s span?"""
    return (outer.lineno, outer.col_offset) <= (node.lineno, node.col_offset) and \
        (node.end_lineno, node.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)


def eq_compares(test: ast.expr):
    """The `a == b` parts of a condition (through `and`)."""
    for part in and_parts(test):
        if isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.Eq):
            yield part
