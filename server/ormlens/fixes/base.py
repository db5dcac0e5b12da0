"""What every fix is: edits on the original text, built with libcst from a finding's fix plan.

A fix never re-analyses: the finding's `fix` (plans.py) says where things are (spans in the same
1-based line / UTF-8 byte column form as findings) and what they are. libcst finds the nodes at
those spans and renders replacement code, so formatting and comments around them survive."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ormlens.findings import Span
from ormlens.fixes.plans import BatchQueryPlan, DjangoBatchPlan
from ormlens.positions import byte_to_char_col, source_lines


@dataclass(frozen=True, order=True)
class Edit:
    """Replace characters [start, end) of the source with `text` (offsets in characters)."""

    start: int
    end: int
    text: str


@dataclass
class Fix:
    title: str
    edits: list[Edit]
    safe: bool = True
    why_unsafe: str = ""  # shown in the title of an unsafe fix
    kind: str = ""
    code: str = ""  # the rule of the finding it fixes (registry.fix_for sets it): what `--show-fixes` counts

    @property
    def display_title(self) -> str:
        return self.title if self.safe else f"{self.title} (unsafe: {self.why_unsafe})"


class UnfixableError(Exception):
    """The code is not in the shape this fix handles: offer no fix (the diagnostic stays)."""


class SourceText:
    """The text being fixed, its libcst tree with positions, and offset conversions."""

    def __init__(self, text: str):
        self.text = text
        self.lines = source_lines(text)
        # Where each line starts in `text`, whatever its line endings (\r\n counts two).
        self._line_starts = [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", text)]
        self._module: cst.Module | None = None
        self._positions = None
        # Built once per text, for every fix of every finding in it (`full`/JSON build them all).
        self._by_range: dict[tuple[int, int, int, int], list[cst.CSTNode]] | None = None
        self._parents: dict[cst.CSTNode, cst.CSTNode] | None = None

    # --- offsets -------------------------------------------------------------------------------

    def offset(self, line: int, char_col: int) -> int:
        return self._line_starts[line - 1] + char_col

    def char_col(self, line: int, byte_col: int) -> int:
        return byte_to_char_col(self.lines[line - 1], byte_col)

    def range_of(self, span: Span) -> tuple[int, int]:
        """Character offsets [start, end) of a span given in findings' form."""
        return (self.offset(span.line, self.char_col(span.line, span.col)),
                self.offset(span.end_line, self.char_col(span.end_line, span.end_col)))

    def segment(self, span: Span) -> str:
        start, end = self.range_of(span)
        return self.text[start:end]

    def line_indent(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip())]

    # --- the tree ------------------------------------------------------------------------------

    @property
    def module(self) -> cst.Module:
        if self._module is None:
            wrapper = MetadataWrapper(cst.parse_module(self.text), unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
            self._module = wrapper.module
        return self._module

    def position(self, node: cst.CSTNode) -> CodeRange:
        self.module  # noqa: B018 - resolves positions
        return self._positions[node]

    def node_at(self, span: Span, kind: type | tuple[type, ...] = cst.CSTNode) -> cst.CSTNode:
        """The outermost node of `kind` whose range is exactly the span."""
        want = (span.line, self.char_col(span.line, span.col), span.end_line,
                self.char_col(span.end_line, span.end_col))
        if self._by_range is None:
            self.module  # noqa: B018
            self._by_range = {}
            for node, where in self._positions.items():  # (outermost first)
                key = (where.start.line, where.start.column, where.end.line, where.end.column)
                self._by_range.setdefault(key, []).append(node)
        for node in self._by_range.get(want, ()):
            if isinstance(node, kind):
                return node
        raise UnfixableError(f"no {kind} at {span}")

    @property
    def parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        """Each node of the module -> its parent (parent_map, once per text)."""
        if self._parents is None:
            self._parents = parent_map(self.module)
        return self._parents

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def replace(self, span: Span, text: str) -> Edit:
        start, end = self.range_of(span)
        return Edit(start, end, text)

    # --- names and imports ---------------------------------------------------------------------

    def free_name(self, wanted: str, taken: set[str] = frozenset()) -> str:
        """`wanted`, or `wanted_2`... so that a new variable shadows nothing in the module."""
        used = set(taken) | _names_in(self.text)
        name, n = wanted, 2
        while name in used:
            name, n = f"{wanted}_{n}", n + 1
        return name

    def ensure_import(self, module: str, name: str) -> Edit | None:
        """`from module import name` in the top-level import block, unless already imported: a
        standard-library import goes before the first third-party or project import (as isort
        groups them), anything else after the last import."""
        imports = []
        for statement in self.module.body:
            if isinstance(statement, cst.SimpleStatementLine) and any(
                    isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body):
                for small in statement.body:
                    if isinstance(small, cst.ImportFrom) and dotted(small.module) == module and \
                            not isinstance(small.names, cst.ImportStar) and \
                            any(dotted(alias.name) == name and alias.asname is None for alias in small.names):
                        return None
                imports.append(statement)
            elif imports or not _is_docstring(statement):
                if imports:
                    break
        newline = match.group(0) if (match := re.search(r"\r\n|\r|\n", self.text)) else "\n"
        line = f"from {module} import {name}{newline}"
        if not imports:
            return Edit(0, 0, line + newline)
        if module.split(".")[0] in sys.stdlib_module_names:
            later = next((statement for statement in imports
                          if _import_root(statement) not in sys.stdlib_module_names | {"__future__"}), None)
            if later is not None:
                offset = self._line_starts[self.position(later).start.line - 1]
                first = later is imports[0] or _import_root(imports[imports.index(later) - 1]) == "__future__"
                return Edit(offset, offset, line + (newline if first else ""))
        end = self.position(imports[-1]).end
        offset = self._line_starts[end.line] if end.line < len(self._line_starts) else len(self.text)
        return Edit(offset, offset, line)


def check_loop_batch(plan: BatchQueryPlan | DjangoBatchPlan, query_ok) -> str:
    """What both ORMs' ORM001 fixes need of their plan: a target that is one name, and queries,
    each also accepted by `query_ok`. The target."""
    if plan.target is None or not plan.target.isidentifier() or not plan.queries:
        raise UnfixableError(f"unexpected fix plan {plan!r}")
    for query in plan.queries:
        if not query_ok(query):
            raise UnfixableError(f"unexpected query in the plan {query!r}")
    return plan.target


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply edits that do not overlap (identical ones once), from the end backwards. Inserts at
    one offset land in the order given."""
    out = text
    last_start = None
    for edit in reversed(sorted(dict.fromkeys(edits), key=lambda edit: (edit.start, edit.end))):
        if last_start is not None and edit.end > last_start:
            raise ValueError("overlapping edits")
        out = out[:edit.start] + edit.text + out[edit.end:]
        last_start = edit.start
    return out


def _import_root(statement: cst.SimpleStatementLine) -> str:
    """The top-level package an import statement imports from ("" for a relative import)."""
    small = statement.body[0]
    if isinstance(small, cst.ImportFrom):
        return "" if small.relative else dotted(small.module).split(".")[0]
    if isinstance(small, cst.Import):
        return dotted(small.names[0].name).split(".")[0]
    return ""


def dotted(node: cst.BaseExpression | None) -> str:
    """`a.b.c` -> "a.b.c"; "" for anything that is not a dotted name."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr.value}" if inner else ""
    return ""


def walk(node: cst.CSTNode):
    """Every node under `node` (itself included), in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node of the tree under `root` -> its parent."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[child] = node
            stack.append(child)
    return parents


def inside(node: cst.CSTNode | None, container: cst.CSTNode, parents: dict) -> bool:
    """Is `node` `container` or somewhere under it?"""
    while node is not None:
        if node is container:
            return True
        node = parents.get(node)
    return False


def _is_docstring(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and \
        isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.SimpleString)


def _names_in(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def binds_at_top_level(module: cst.Module, name: str) -> bool:
    """Does the module bind `name` at top level (a def, a class, an import, an assignment)? Adding
    an import of that name would then change what the module's own code calls; a fix naming a
    model by it needs the module to have it."""
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            return True
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(bound, cst.Name) and bound.value == name:
                        return True
            elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                    return True
    return False
