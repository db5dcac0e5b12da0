"""A template, read (ir.py), as the Python function that does what rendering it does to the values
it is given: `{% for o in orders %}{{ o.customer.name }}{% endfor %}` is

    def template(orders):
        for o in orders:
            str(o.customer.name)

so the interpreter that reads views reads templates too (evaluate.py), with the same facts about
querysets, related managers, eager loading and model methods. The function is built as an `ast` tree
whose nodes carry the template's own positions; the templates it includes, extends or imports macros
from are inlined, their lines shifted by `LINE_BLOCK` per file (`position` tells them apart again).

What rendering does, in Python's terms: `{{ x }}` shows `str(x)` (a queryset is evaluated, a row's
`__str__` runs); a test (`{% if x %}`) is `bool(x)`; a filter that walks its value (`length`, `join`,
`first`, ...) evaluates it (`list(x)`); Django calls what a step finds callable (a queryset's `all`,
`count`..., and the model's methods: evaluate.py's builder calls those), Jinja2 calls what is written
as a call; `{% include %}`, `{% extends %}` / `{% block %}` and Jinja2 macros are inlined (a few
levels deep, never into a template already being inlined)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from ormlens.analysis.templates import ir
from ormlens.spans import Span

LINE_BLOCK = 1_000_000  # file k's line L is line k·LINE_BLOCK + L of the function
MAX_DEPTH = 6            # includes, parents and macro calls inlined into one another
UNKNOWN_NAME = "__ormlens_unknown__"  # bound to nothing: what the template gives is not known
# Django: steps that are a queryset's or a manager's methods (the template calls them).
QUERYSET_METHODS = frozenset({"all", "count", "exists", "first", "last", "none", "distinct", "reverse",
                              "iterator", "latest", "earliest", "select_related", "prefetch_related"})
# Filters that walk or measure their value: a queryset is evaluated (a related manager's query runs).
EVALUATING_FILTERS = frozenset({"length", "length_is", "join", "first", "last", "random", "slice", "dictsort",
                                "dictsortreversed", "unordered_list", "make_list", "list", "count", "sort",
                                "sum", "max", "min", "unique", "batch", "groupby", "reverse"})

# Loads a template by name for a template file: (path, read template) or None.
Loader = Callable[[str, str], "tuple[str, str, ir.Template] | None"]


@dataclass
class Translation:
    function: ast.FunctionDef
    module: ast.Module
    files: list[tuple[str, str]]          # (path, text) of file k
    names: set[str] = field(default_factory=set)  # the context names it reads


def position(line: int) -> tuple[int, int]:
    """(file index, the file's own line) of a line of the function."""
    return divmod(line, LINE_BLOCK)


class Translator:
    def __init__(self, path: str, text: str, template: ir.Template, loader: Loader, context: set[str]):
        self.loader = loader
        self.language = template.language
        self.context = context
        self.files: list[tuple[str, str]] = [(path, text)]
        self.template = template
        self.stack: list[str] = [path]
        self.macros: dict[str, tuple[int, ir.Macro]] = {}
        self.used: set[str] = set()
        # A template's names are scoped (a loop's target, a `with`'s names end with their block; the
        # view's `project` is back after `{% for project in ... %}`): each binding gets a Python name
        # of its own, `name__<n>`; a name no scope binds is the context's.
        self.scopes: list[dict[str, str]] = []
        self.bindings = 0

    def free_names(self) -> set[str]:
        """The names the template reads from its context (what is bound in it left out)."""
        self.document(0, self.template, {}, 0)
        return set(self.used)

    def translate(self) -> Translation:
        body = self.document(0, self.template, {}, 0)
        names = sorted(self.used & self.context)
        args = ast.arguments(posonlyargs=[], args=[ast.arg(name) for name in names], kwonlyargs=[],
                             kw_defaults=[], defaults=[])
        function = ast.FunctionDef(name="__template__", args=args, body=body or [self._pass(0, None)],
                                   decorator_list=[], returns=None)
        if "type_params" in ast.FunctionDef._fields:  # (3.12+)
            function.type_params = []
        self._place(function, 0, Span(1, 0, 1, 0))
        for arg in args.args:
            self._place(arg, 0, Span(1, 0, 1, 0))
        module = ast.Module(body=[function], type_ignores=[])
        return Translation(function, module, self.files, set(names))

    # --- documents: extends, blocks, macros ------------------------------------------------------

    def document(self, k: int, template: ir.Template, overrides: dict[str, tuple[int, ir.Block]],
                 depth: int) -> list[ast.stmt]:
        self.collect_macros(k, template.nodes, depth)
        parent = next((node for node in template.nodes if isinstance(node, ir.Extends)), None)
        if parent is not None and parent.name is not None and depth < MAX_DEPTH:
            blocks = dict(overrides)
            for node in self.walk_blocks(template.nodes):
                blocks.setdefault(node.name, (k, node))  # the child's own override wins
            loaded = self.load(parent.name, k)
            if loaded is not None:
                pk, parent_template = loaded
                try:
                    return self.document(pk, parent_template, blocks, depth + 1)
                finally:
                    self.stack.pop()
        return self.nodes(k, template.nodes, overrides, depth)

    def walk_blocks(self, nodes):
        for node in nodes:
            if isinstance(node, ir.Block):
                yield node
                yield from self.walk_blocks(node.body)
            else:
                for child in self.children(node):
                    yield from self.walk_blocks(child)

    @staticmethod
    def children(node) -> list[tuple]:
        if isinstance(node, ir.Loop):
            return [node.body, node.orelse]
        if isinstance(node, (ir.Bind, ir.Block)):
            return [node.body]
        return []

    def collect_macros(self, k: int, nodes, depth: int) -> None:
        for node in nodes:
            if isinstance(node, ir.Macro):
                self.macros.setdefault(node.name, (k, node))
            elif isinstance(node, ir.Import) and node.name is not None and depth < MAX_DEPTH:
                loaded = self.load(node.name, k)
                if loaded is None:
                    continue
                ik, imported = loaded
                self.stack.pop()
                found = {n.name: n for n in imported.nodes if isinstance(n, ir.Macro)}
                if node.alias:
                    for name, macro in found.items():
                        self.macros.setdefault(f"{node.alias}.{name}", (ik, macro))
                for name, bound in node.names:
                    if name in found:
                        self.macros.setdefault(bound, (ik, found[name]))
            else:
                for child in self.children(node):
                    self.collect_macros(k, child, depth)

    def load(self, name: str, k: int) -> tuple[int, ir.Template] | None:
        """Template `name` (included, extended, imported from file k), pushed on the stack."""
        found = self.loader(name, self.files[k][0])
        if found is None:
            return None
        path, text, template = found
        if path in self.stack or len(self.stack) > MAX_DEPTH or template.error is not None:
            return None
        self.stack.append(path)
        for index, (known, _) in enumerate(self.files):
            if known == path:
                return index, template
        self.files.append((path, text))
        return len(self.files) - 1, template

    # --- nodes -------------------------------------------------------------------------------------

    def nodes(self, k: int, nodes, overrides: dict, depth: int) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for node in nodes:
            out += self.node(k, node, overrides, depth)
        return out

    def node(self, k: int, node, overrides: dict, depth: int) -> list[ast.stmt]:
        if isinstance(node, ir.Output):
            return [self.statement(k, read, "str" if node.shown else "bool") for read in node.reads]
        if isinstance(node, ir.Loop):
            iterable = self.expression(k, node.iterable) if node.iterable is not None else \
                self._name(UNKNOWN_NAME, k, node.span)
            orelse = self.nodes(k, node.orelse, overrides, depth)
            self.scopes.append({})
            try:
                target = self.target(k, node.targets, node.span)
                body = self.nodes(k, node.body, overrides, depth) or [self._pass(k, node.span)]
            finally:
                self.scopes.pop()
            loop = ast.For(target=target, iter=iterable, body=body, orelse=orelse, type_comment=None)
            return [self._place(loop, k, node.span)]
        if isinstance(node, ir.Bind):
            return self.scoped(lambda: self.binds(k, node.names, None) + self.nodes(k, node.body, overrides, depth))
        if isinstance(node, ir.Block):
            chosen = overrides.get(node.name)
            if chosen is not None and chosen[1] is not node:
                bk, block = chosen
                return self.nodes(bk, block.body, overrides, depth)
            return self.nodes(k, node.body, overrides, depth)
        if isinstance(node, ir.Include):
            if node.name is None or depth >= MAX_DEPTH:
                return []
            loaded = self.load(node.name, k)
            if loaded is None:
                return []
            ik, included = loaded
            try:
                return self.scoped(lambda: self.binds(k, node.names, node.span) +
                                   self.document(ik, included, {}, depth + 1))
            finally:
                self.stack.pop()
        if isinstance(node, ir.MacroCall):
            key = f"{node.module}.{node.name}" if node.module else node.name
            macro = self.macros.get(key)
            reads = [self.statement(k, arg, "str") for arg in node.args if arg is not None]
            if macro is None or depth >= MAX_DEPTH:
                return reads
            mk, definition = macro
            # The macro's parameters bound to the arguments, then its body, inlined here.
            bound = tuple((param, arg) for param, arg in zip(definition.params, node.args))
            return self.scoped(lambda: self.binds(k, bound, node.span) +
                               self.nodes(mk, definition.body, overrides, depth + 1))
        return []  # Extends (read by document), Macro (inlined where called), Import (collect_macros)

    def scoped(self, translate: Callable[[], list[ast.stmt]]) -> list[ast.stmt]:
        self.scopes.append({})
        try:
            return translate()
        finally:
            self.scopes.pop()

    def binds(self, k: int, names, span: Span | None) -> list[ast.stmt]:
        """Assignments in the innermost scope (its values read before any of its names is bound)."""
        values = []
        for name, read in names:
            where = read.span if read is not None else span or Span(1, 0, 1, 0)
            values.append((name, where, self.expression(k, read) if read is not None else
                           self._name(UNKNOWN_NAME, k, where)))
        out = []
        for name, where, value in values:
            assign = ast.Assign(targets=[self._bound(name, k, where)], value=value, type_comment=None)
            out.append(self._place(assign, k, where))
        return out

    def _bound(self, name: str, k: int, span: Span) -> ast.Name:
        """A name bound in the innermost scope."""
        self.bindings += 1
        python = f"{name}__{self.bindings}"
        if self.scopes:
            self.scopes[-1][name] = python
        return self._place(ast.Name(id=python, ctx=ast.Store()), k, span)

    def _resolve(self, name: str) -> str:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        self.used.add(name)
        return name

    def statement(self, k: int, read: ir.Read, how: str) -> ast.stmt:
        """A read evaluated where it stands: shown (`str`) or tested (`bool`)."""
        value = self.expression(k, read)
        call = ast.Call(func=self._name(how, k, read.span), args=[value], keywords=[])
        return self._place(ast.Expr(value=self._place(call, k, read.span)), k, read.span)

    def target(self, k: int, names: tuple[str, ...], span: Span) -> ast.expr:
        if len(names) == 1:
            return self._bound(names[0], k, span)
        return self._place(ast.Tuple(elts=[self._bound(name, k, span) for name in names], ctx=ast.Store()), k, span)

    def expression(self, k: int, read: ir.Read) -> ast.expr:
        span = read.span
        first = self._resolve(read.names[0])
        node: ast.expr = self._name(first, k, self._part(span, read.names, 0))
        for i, step in enumerate(read.names[1:], 1):
            part = self._part(span, read.names, i)
            node = self._place(ast.Attribute(value=node, attr=step, ctx=ast.Load()), k, part)
            calls = i in read.called or (self.language == "django" and step in QUERYSET_METHODS)
            if calls:
                node = self._place(ast.Call(func=node, args=[], keywords=[]), k, part)
        for name in read.filters:
            if name in EVALUATING_FILTERS:
                node = self._place(ast.Call(func=self._name("list", k, span), args=[node], keywords=[]), k, span)
        return node

    @staticmethod
    def _part(span: Span, names: tuple[str, ...], i: int) -> Span:
        """The span of the path's first i+1 steps (`o.customer` of `o.customer.name`), when the path
        is written without spaces on one line; else the whole path's."""
        width = len(".".join(names[:i + 1]).encode())
        if span.line == span.end_line and span.col + width <= span.end_col:
            return Span(span.line, span.col, span.line, span.col + width)
        return span

    def _name(self, name: str, k: int, span: Span, ctx: ast.expr_context | None = None) -> ast.Name:
        return self._place(ast.Name(id=name, ctx=ctx or ast.Load()), k, span)

    def _pass(self, k: int, span: Span | None) -> ast.stmt:
        return self._place(ast.Pass(), k, span or Span(1, 0, 1, 0))

    @staticmethod
    def _place(node, k: int, span: Span):
        node.lineno = k * LINE_BLOCK + span.line
        node.col_offset = span.col
        node.end_lineno = k * LINE_BLOCK + span.end_line
        node.end_col_offset = span.end_col
        return node
