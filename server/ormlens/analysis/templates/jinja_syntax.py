"""Jinja2 templates read into ir.py's terms by Jinja2's own parser (the template is read exactly as
Jinja2 reads it, never run). Jinja2's nodes carry a line number only: a read's columns are where its
path's text is on that line (the k-th occurrence for the k-th read of the same path there; the
whole line when the text is not found, as for a path written across lines)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import jinja2
from jinja2 import nodes as jn

from ormlens.analysis.templates import ir
from ormlens.analysis.templates.sequence import Sequence
from ormlens.analysis.templates.text_spans import TextSpans

_EXTENSIONS = ["jinja2.ext.i18n", "jinja2.ext.loopcontrols", "jinja2.ext.do", "jinja2.ext.debug"]
# Functions Jinja2 (and its i18n extension) provides, called by name: not values of a view.
_GLOBAL_FUNCTIONS = frozenset({
    "range", "lipsum", "dict", "cycler", "joiner", "namespace", "gettext", "ngettext", "pgettext",
    "npgettext", "_"})
# A name a tag binds, not a read of it: `{% for o in`, `{% set o =`, `{% with o =`, `as o`, `f(o=1)`.
_BOUND_BEFORE = re.compile(r"\b(?:for|set|with|as|import|macro|block|call)\s+$")
_NOT_BOUND_AFTER = r"(?!\s*=(?!=)|\s+in\b)"
_environment: jinja2.Environment | None = None


def parse(text: str) -> ir.Template:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(extensions=_EXTENSIONS)
    unknown: set[str] = set()
    while True:
        try:
            tree = _environment.parse(text)
            break
        except jinja2.TemplateSyntaxError as error:
            # A project's extension tag (`{% csi ... %}`): read as a comment of the same length, its
            # body as the template's own (what the tag does with its arguments is not known).
            found = _UNKNOWN_TAG.search(error.message or "")
            if found is None or found.group(1) in unknown or len(unknown) >= MAX_UNKNOWN_TAGS:
                return ir.Template("jinja2", error=f"line {error.lineno}: {error.message}")
            unknown.add(found.group(1))
            text = _commented(text, found.group(1))
        except RecursionError:
            return ir.Template("jinja2", error="nested too deeply to read")
    try:
        return ir.Template("jinja2", _Reader(text, tree).read(tree.body))
    except RecursionError:
        return ir.Template("jinja2", error="nested too deeply to read")


_UNKNOWN_TAG = re.compile(r"unknown tag '(\w+)'")
MAX_UNKNOWN_TAGS = 8


def _commented(text: str, tag: str) -> str:
    """`{% tag ... %}` and `{% endtag %}` turned into comments of the same length (positions kept)."""
    pattern = re.compile(r"\{%(-?)(\s*(?:end)?" + re.escape(tag) + r"\b.*?)(-?)%\}", re.DOTALL)
    return pattern.sub(lambda m: "{#" + m.group(1) + m.group(2).replace("#}", "  ") + m.group(3) + "#}", text)


def _statements_in(body: list[jn.Node]) -> Iterator[jn.Node]:
    """Every statement, at any depth (macros and imports are statements: expressions, most of
    a template's nodes, are not walked)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in node.fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend(child for child in reversed(value) if isinstance(child, jn.Stmt))


@dataclass
class _Path:
    """A path being read (`o.items.all()`), before its span is found."""

    names: list[str]
    steps: list[str]          # per name: "attr" (`.x`, the first name too) or "item" (`["x"]`)
    lineno: int
    called: set[int] = field(default_factory=set)
    empty_calls: set[int] = field(default_factory=set)  # steps called as `()`: in the text
    filters: list[str] = field(default_factory=list)
    open: bool = True         # can go on (`.x` after it is a step, not the end of the path)


class _Reader:
    def __init__(self, text: str, tree: jn.Template) -> None:
        self.spans = TextSpans(text)
        self.occurrences: dict[tuple[int, str], Iterator[re.Match]] = {}
        self._line = (0, "")  # the last line searched: (number, text)
        self.loop_depth = 0
        self.macros: dict[str, tuple[str, ...]] = {}
        self.imported_names: set[str] = set()
        self.modules: set[str] = set()
        for node in _statements_in(tree.body):
            if isinstance(node, jn.Macro):
                self.macros[node.name] = tuple(arg.name for arg in node.args)
            elif isinstance(node, jn.Import):
                self.modules.add(node.target)
            elif isinstance(node, jn.FromImport):
                self.imported_names.update(name if isinstance(name, str) else name[1] for name in node.names)

    def read(self, body: list[jn.Node]) -> tuple[ir.Node, ...]:
        sequence = Sequence()
        self.statements(body, sequence)
        return sequence.folded()

    # -- statements --------------------------------------------------------------------------------

    def statements(self, body: list[jn.Node], sequence: Sequence) -> None:
        for node in body:
            self.statement(node, sequence)

    def statement(self, node: jn.Node, sequence: Sequence) -> None:
        if isinstance(node, jn.Output):
            for expression in node.nodes:
                if not isinstance(expression, jn.TemplateData):
                    self.expression_nodes(expression, sequence, shown=True)
        elif isinstance(node, jn.For):
            self.loop(node, sequence)
        elif isinstance(node, jn.If):
            self.expression_nodes(node.test, sequence)
            self.statements(node.body, sequence)
            for branch in node.elif_:
                self.expression_nodes(branch.test, sequence)
                self.statements(branch.body, sequence)
            self.statements(node.else_, sequence)
        elif isinstance(node, jn.With):
            names = []
            for target, value in zip(node.targets, node.values):
                names.extend(self.bound(target, value, sequence))
            sequence.nodes.append(ir.Bind(tuple(names), self.read(node.body)))
        elif isinstance(node, jn.Assign):
            sequence.bind_rest(tuple(self.bound(node.target, node.node, sequence)))
        elif isinstance(node, jn.AssignBlock):
            if node.filter is not None:
                self.expression_nodes(node.filter, sequence)
            self.statements(node.body, sequence)
            if isinstance(node.target, jn.Name):
                sequence.bind_rest(((node.target.name, None),))
        elif isinstance(node, jn.Include):
            sequence.nodes.append(ir.Include(self.template_name(node.template, sequence),
                                             self.tag_span(node.lineno, "include"), only=not node.with_context))
        elif isinstance(node, jn.Extends):
            sequence.nodes.append(ir.Extends(self.template_name(node.template, sequence),
                                             self.tag_span(node.lineno, "extends")))
        elif isinstance(node, jn.Block):
            sequence.nodes.append(ir.Block(node.name, self.read(node.body)))
        elif isinstance(node, jn.Macro):
            span = self.tag_span(node.lineno, "macro")
            sequence.nodes.append(ir.Macro(node.name, tuple(arg.name for arg in node.args), self.read(node.body), span))
        elif isinstance(node, jn.CallBlock):
            self.expression_nodes(node.call, sequence)
            self.statements(node.body, sequence)
        elif isinstance(node, jn.Import):
            sequence.nodes.append(ir.Import(self.template_name(node.template, sequence), alias=node.target))
        elif isinstance(node, jn.FromImport):
            names = tuple((name, name) if isinstance(name, str) else (name[0], name[1]) for name in node.names)
            sequence.nodes.append(ir.Import(self.template_name(node.template, sequence), names=names))
        elif isinstance(node, jn.ExprStmt):
            self.expression_nodes(node.node, sequence)
        elif isinstance(node, jn.FilterBlock):
            self.expression_nodes(node.filter, sequence)
            self.statements(node.body, sequence)
        elif isinstance(node, (jn.Scope, jn.OverlayScope, jn.ScopedEvalContextModifier)):
            if isinstance(node, jn.OverlayScope):
                self.expression_nodes(node.context, sequence)
            self.statements(node.body, sequence)
        # Break, Continue, EvalContextModifier: nothing read

    def loop(self, node: jn.For, sequence: Sequence) -> None:
        """`{% for a, b in x.items if a.ok %}`: `loop` inside is Jinja2's, not a read."""
        targets = tuple(name.name for name in node.target.find_all(jn.Name)) if not isinstance(node.target, jn.Name) \
            else (node.target.name,)
        reads: list[_Path] = []
        calls: list[ir.MacroCall] = []
        iterable = None
        path = self.value(node.iter, reads)
        if path is None or not path.names:
            reads = []
            self.collect(node.iter, reads, calls)
        sequence.output(self.finished(reads))
        sequence.nodes.extend(calls)
        if path is not None and path.names:
            iterable = self.finished([path])[0]
        span = self.tag_span(node.lineno, "for")
        self.loop_depth += 1
        try:
            body = Sequence()
            if node.test is not None:
                self.expression_nodes(node.test, body)
            self.statements(node.body, body)
            orelse = self.read(node.else_)
        finally:
            self.loop_depth -= 1
        sequence.nodes.append(ir.Loop(targets, iterable, span, body.folded(), orelse))

    def bound(self, target: jn.Node, value: jn.Node, sequence: Sequence) -> list[tuple[str, ir.Read | None]]:
        """`{% set x = a.b %}` / `{% with x = a.b %}`: x bound to the read of a.b (None when the
        value is not a path: its reads are read where it stands)."""
        if isinstance(target, jn.Name):
            side: list[_Path] = []
            path = self.value(value, side)
            if path is not None and path.names:
                reads = self.finished([path] + side)
                sequence.output(reads[1:])
                return [(target.name, reads[0])]
            self.expression_nodes(value, sequence)
            return [(target.name, None)]
        if isinstance(target, jn.Tuple) and isinstance(value, jn.Tuple) and len(target.items) == len(value.items):
            return [pair for item, item_value in zip(target.items, value.items)
                    for pair in self.bound(item, item_value, sequence)]
        self.expression_nodes(value, sequence)  # `{% set ns.x = ... %}`, unpacking a value
        return [(name.name, None) for name in target.find_all(jn.Name)]

    def template_name(self, template: jn.Node, sequence: Sequence) -> str | None:
        if isinstance(template, jn.Const) and isinstance(template.value, str):
            return template.value
        if not isinstance(template, (jn.Const, jn.List, jn.Tuple)):
            self.expression_nodes(template, sequence)
        return None

    # -- expressions -------------------------------------------------------------------------------

    def expression_nodes(self, expression: jn.Node, sequence: Sequence, shown: bool = False) -> None:
        """An expression's reads as an Output (`shown`: a `{{ ... }}`'s), then the macros it calls."""
        reads: list[_Path] = []
        calls: list[ir.MacroCall] = []
        self.collect(expression, reads, calls)
        sequence.output(self.finished(reads), shown)
        sequence.nodes.extend(calls)

    def collect(self, node: jn.Node, reads: list[_Path], calls: list[ir.MacroCall]) -> None:
        """The reads of an expression, in the order of its text (as far as the tree keeps it)."""
        if isinstance(node, jn.Call) and self.macro_call(node, reads, calls):
            return
        side: list[_Path] = []
        path = self.value(node, side)
        if path is not None and path.names:
            reads.append(path)
            reads.extend(side)
            return
        for child in node.iter_child_nodes():
            self.collect(child, reads, calls)

    def value(self, node: jn.Node, side: list[_Path]) -> _Path | None:
        """The path `node` is (`o.items.all()`, `o["k"]|length`), None when it is not one; the reads
        in its arguments (filters', a call's) go to `side`."""
        if isinstance(node, jn.Name):
            if node.name == "loop" and self.loop_depth or node.ctx != "load":
                return None
            return _Path([node.name], ["attr"], node.lineno)
        if isinstance(node, (jn.Getattr, jn.Getitem)):
            if isinstance(node, jn.Getattr):
                name, step = node.attr, "attr"
            elif isinstance(node.arg, jn.Const) and isinstance(node.arg.value, str):
                name, step = node.arg.value, "item"
            else:
                return None
            path = self.value(node.node, side)
            if path is None or not path.open:
                return None
            path.names.append(name)
            path.steps.append(step)
            return path
        if isinstance(node, jn.Call):
            if isinstance(node.node, jn.Name) and node.node.name in _GLOBAL_FUNCTIONS:
                return None
            path = self.value(node.node, side)
            if path is None or not path.open:
                return None
            path.called.add(len(path.names) - 1)
            if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
                path.open = False  # `o.items.filter(x=1)`: the path ends at the callee
                for child in list(node.args) + list(node.kwargs) + [node.dyn_args, node.dyn_kwargs]:
                    if child is not None:
                        self.collect(child, side, [])
            else:
                path.empty_calls.add(len(path.names) - 1)
            return path
        if isinstance(node, (jn.Filter, jn.Test)):
            if node.node is None:  # `{% filter upper %}`: no value of its own
                return None
            path = self.value(node.node, side)
            if path is None:
                return None
            path.filters.append(node.name)
            path.open = False
            for child in list(node.args) + list(node.kwargs) + [node.dyn_args, node.dyn_kwargs]:
                if child is not None:
                    self.collect(child, side, [])
            return path
        return None

    def macro_call(self, node: jn.Call, reads: list[_Path], calls: list[ir.MacroCall]) -> bool:
        """`render(o.customer)` of a macro defined here or imported (`forms.input(o)` of an
        `{% import ... as forms %}`). Arguments that are not paths are None and their reads are
        reads where the call stands; keyword arguments of a macro defined here take their
        parameter's place."""
        callee = node.node
        if isinstance(callee, jn.Name) and (callee.name in self.macros or callee.name in self.imported_names):
            name, module, names = callee.name, None, [callee.name]
        elif isinstance(callee, jn.Getattr) and isinstance(callee.node, jn.Name) and callee.node.name in self.modules:
            name, module, names = callee.attr, callee.node.name, [callee.node.name, callee.attr]
        else:
            return False
        span = self.path_span(_Path(names, ["attr"] * len(names), callee.lineno), called=True)
        params = self.macros.get(name, ()) if module is None else ()
        arguments: list[ir.Read | None] = []
        for argument in node.args:
            arguments.append(self.argument(argument, reads, calls))
        for keyword in node.kwargs:
            if keyword.key in params[len(node.args):]:
                index = params.index(keyword.key)
                arguments.extend([None] * (index + 1 - len(arguments)))
                arguments[index] = self.argument(keyword.value, reads, calls)
            else:
                self.collect(keyword.value, reads, calls)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.collect(extra, reads, calls)
        calls.append(ir.MacroCall(name, tuple(arguments), span, module))
        return True

    def argument(self, node: jn.Node, reads: list[_Path], calls: list[ir.MacroCall]) -> ir.Read | None:
        side: list[_Path] = []
        path = self.value(node, side)
        if path is None or not path.names:
            self.collect(node, reads, calls)
            return None
        reads.extend(side)
        return self.finished([path])[0]

    # -- spans -------------------------------------------------------------------------------------

    def finished(self, paths: list[_Path]) -> list[ir.Read]:
        return [ir.Read(tuple(path.names), self.path_span(path), tuple(path.filters), frozenset(path.called))
                for path in paths]

    def path_span(self, path: _Path, called: bool = False):
        """The k-th occurrence of the path's text on its line, for the k-th path read there, leaving
        out the names a tag binds (`{% for o in`, `{% set o =`, `as o`, `o=` of a keyword)."""
        pattern = [r"(?<![\w.])" + re.escape(path.names[0])]
        for index, (name, step) in enumerate(zip(path.names, path.steps)):
            if index:
                pattern.append(rf"\s*\.\s*{re.escape(name)}" if step == "attr" else
                               rf"""\s*\[\s*(?:"{re.escape(name)}"|'{re.escape(name)}')\s*\]""")
            if index in path.empty_calls:
                pattern.append(r"\s*\(\s*\)")
        if called:
            pattern.append(r"(?=\s*\()")
        elif path.steps[-1] == "attr" and len(path.names) - 1 not in path.empty_calls:
            pattern.append(r"(?!\w|\s*\.\s*[^\W\d])")  # `o` is not the start of `o.total`
        if len(path.names) == 1 and not called:
            pattern.append(_NOT_BOUND_AFTER)
        return self.nth_match("".join(pattern), path.lineno, len(path.names) == 1 and not called)

    def tag_span(self, lineno: int, keyword: str):
        """The `{% keyword ... %}` tag on its line (to the line's end when the tag goes on)."""
        return self.nth_match(rf"\{{%[-+]?\s*{keyword}\b(?:.*?[-+]?%\}}|.*)", lineno)

    def nth_match(self, pattern: str, lineno: int, unbound: bool = False):
        """The next occurrence of `pattern` on line `lineno` not given yet (each line and pattern
        searched once, however many reads: a minified template is one long line); `unbound`: not
        one a tag's keyword binds (`{% for o`, `as o`)."""
        key = (lineno, pattern)
        matches = self.occurrences.get(key)
        if matches is None:
            if self._line[0] != lineno:
                self._line = (lineno, self.spans.line(lineno))
            line = self._line[1]
            matches = re.finditer(pattern, line)
            if unbound:
                matches = (match for match in matches 
                           if not _BOUND_BEFORE.search(line, max(0, match.start() - 16), match.start()))
            self.occurrences[key] = matches
        match = next(matches, None)
        if match is None:
            return self.spans.line_span(lineno, 0, len(self.spans.line(lineno)))
        return self.spans.line_span(lineno, match.start(), match.end())
