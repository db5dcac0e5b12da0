"""Which parse trees the project index keeps whole.

A parse tree costs about 1 KB per source line, and four fifths of it are function bodies. Other
modules only need a module's declarations (imports, assignments, classes, function signatures);
the bodies are read by the module's own facts pass and by a few per-function questions
(`yields_chunks`). So the index keeps the bodies of a bounded number of recently used modules
and releases the others', re-parsing the module's text to put them back when they are needed.

A release replaces each body list in place: the module, class and function nodes stay the same
objects, so what holds them (ClassDecl in Values, `decl.functions`, caches by name) stays valid.
"""

from __future__ import annotations

import ast
import gc
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ormlens.analysis.sources import same_code
from ormlens.positions import shared_lines

if TYPE_CHECKING:
    from ormlens.analysis.declarations import ModuleDecl

Function = ast.FunctionDef | ast.AsyncFunctionDef


class BodyReleased(RuntimeError):
    """A released body was walked: the caller should have asked the index for the whole tree."""


class ReleasedBody(list):
    """Stands in for a released function body. It keeps a bare node of the type of the body's
    last statement, which is all `returns_always` reads (`body[-1]`); anything else (walking it,
    other indexes, its length) raises rather than silently seeing an empty body."""

    def __getitem__(self, index):
        if index == -1:
            return list.__getitem__(self, -1)
        raise BodyReleased("function body released; ProjectIndex.whole() restores it")

    def __iter__(self):
        raise BodyReleased("function body released; ProjectIndex.whole() restores it")

    def __len__(self):
        raise BodyReleased("function body released; ProjectIndex.whole() restores it")

    def __bool__(self):
        return True  # a function body is never empty


def declared_functions(body: list[ast.stmt]) -> list[Function]:
    """The functions a module declares outside any function body (module level, in classes, in
    `if`/`try`/`with` blocks), in source order. The same text gives the same list, which is how
    re-parsed bodies find their function."""
    found: list[Function] = []
    pending = [iter(body)]
    while pending:
        stmt = next(pending[-1], None)
        if stmt is None:
            pending.pop()
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(stmt)
            continue
        blocks = [getattr(stmt, "body", None)]
        blocks += [handler.body for handler in getattr(stmt, "handlers", ())]
        blocks += [case.body for case in getattr(stmt, "cases", ())]
        blocks += [getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)]
        for block in reversed(blocks):  # a stack: the first block on top
            if isinstance(block, list) and block:
                pending.append(iter(block))
    return found


def release_bodies(tree: ast.Module) -> None:
    for function in declared_functions(tree.body):
        if not isinstance(function.body, ReleasedBody):
            function.body = ReleasedBody([type(function.body[-1])()])


def is_released(function: Function) -> bool:
    return isinstance(function.body, ReleasedBody)


def whole_tree(tree: ast.Module) -> bool:
    """No function body of `tree` is released."""
    return not any(is_released(function) for function in declared_functions(tree.body))


def _parse(source: str, path: str) -> ast.Module:
    collecting = gc.isenabled()
    gc.disable()  # as in ProjectIndex.decl: a parse allocates a whole tree
    try:
        return ast.parse(source, filename=path)
    finally:
        if collecting:
            gc.enable()


def restore_bodies(tree: ast.Module, source: str, path: str) -> None:
    """Put back the released bodies of a tree from a new parse of the same text."""
    fresh = _parse(source, path)
    held, parsed = declared_functions(tree.body), declared_functions(fresh.body)
    if len(held) != len(parsed):
        raise RuntimeError(f"{path}: re-parse found {len(parsed)} functions, not {len(held)}")
    for function, again in zip(held, parsed):
        if is_released(function):
            function.body = again.body


def restore_body(function: Function, lines: list[str], path: str) -> bool:
    """Put back the body of one released function from a parse of its own lines (source_lines),
    at their places: blank lines before it keep the line numbers, and an indented one goes under
    an `if 1:` on the line above its first (a line of its enclosing block's header or body), so
    columns stay too. False when that parse does not give the same function back."""
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    text = lines[first - 1:function.end_lineno]
    indented = text[0][:1] in (" ", "\t")
    if indented and first < 2:
        return False
    header = ["if 1:"] if indented else []
    try:
        fresh = _parse("\n" * (first - 1 - len(header)) + "\n".join([*header, *text]), path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    nodes = fresh.body[0].body if indented and fresh.body and isinstance(fresh.body[0], ast.If) else fresh.body
    again = nodes[0] if len(nodes) == 1 else None
    if type(again) is not type(function) or again.name != function.name or again.lineno != function.lineno \
            or again.col_offset != function.col_offset or again.end_lineno != function.end_lineno:
        return False
    function.body = again.body
    return True


def edit_bodies(before: ModuleDecl, after: ModuleDecl) -> bool | None:
    """Give `before` (the module's declarations other modules hold) the function bodies of
    `after`, a text with the same outline (sources.outline); whether the code of one changed (not
    only its comments). None: the functions do not line up (then the caller drops `before`)."""
    old, new = declared_functions(before.tree.body), declared_functions(after.tree.body)
    if len(old) != len(new) or before.bodies != after.bodies:
        return None
    old_lines, new_lines = shared_lines(before.source), shared_lines(after.source)
    edited = False
    for function, again, lines in zip(old, new, before.bodies):
        if lines is None:
            continue
        changed = [line for line in range(lines[0], lines[1] + 1) if old_lines[line - 1] != new_lines[line - 1]]
        if not changed:
            continue
        if is_released(function) and not restore_body(function, old_lines, before.path):
            return None
        if is_released(again) and not restore_body(again, new_lines, after.path):
            return None
        edited = edited or not same_code(function.body, again.body, changed[0], changed[-1])
        function.body, function.end_col_offset = again.body, again.end_col_offset
    before.source = after.source
    return edited


class WholeTrees:
    """The modules whose trees are whole, least recently used first, with their line counts;
    past `budget` lines, the least recently used ones are released (never a pinned one)."""

    def __init__(self, budget: int):
        self.budget = budget
        self._lines: OrderedDict[str, int] = OrderedDict()
        self._total = 0

    def __contains__(self, path: str) -> bool:
        return path in self._lines

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> int:
        return self._total

    def paths(self) -> list[str]:
        return list(self._lines)

    def first(self, paths: list[str]) -> list[str]:
        """`paths` once each: the whole ones first, the most recently used first."""
        wanted = dict.fromkeys(paths)
        whole = [path for path in reversed(self._lines) if path in wanted]
        return whole + [path for path in wanted if path not in self._lines]

    def use(self, path: str, lines: int, add: bool = False) -> None:
        """`path` holds `lines` lines of bodies (`add`: `lines` more) and was just used."""
        held = self._lines.pop(path, 0)
        now = held + lines if add else max(held, lines)
        self._lines[path] = now
        self._total += now - held

    def forget(self, path: str) -> None:
        """`path` is released, or its tree is gone."""
        self._total -= self._lines.pop(path, 0)

    def over_budget(self, pinned: Iterable[str]) -> list[str]:
        """The least recently used modules to release to get back within the budget."""
        keep = set(pinned)
        out: list[str] = []
        total = self._total
        for path, lines in self._lines.items():
            if total <= self.budget:
                break
            if path not in keep:
                out.append(path)
                total -= lines
        return out
