"""The interpreter: the one pass from a module's `ast` to its ModuleFacts (facts.py).

It walks the tree once, in execution order, computing an abstract Value for each expression
(`flow.Value`: rows of which model, a query, bounded or not, which loops it changes with) and
recording the facts rules read. It knows Python: bindings, loops, calls, comprehensions, branches,
bounds, guards. What a library's calls, attributes and values mean it asks the ORM plugins
(orm/__init__.py)."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ormlens.analysis import guards as branch
from ormlens.analysis import queries, units
from ormlens.analysis.astutil import and_parts, eq_compares, guarded_attributes, inside, is_none, last_name, unquote
from ormlens.analysis.declarations import ClassDecl, ImportRef, ModuleDecl, read_class
from ormlens.analysis.dependencies import facts_node
from ormlens.analysis.facts import (
    CallSite, DeferredBody, FunctionFacts, FunctionRef, InCall, LoopScope, ModuleFacts, NullableSum, QueryCall,
    RelationshipRead, Scan, summarize_returns)
from ormlens.analysis.flow import (
    UNKNOWN, Kind, QueryInfo, Size, Value, eager_below, merge_deps, unknown)
from ormlens.analysis.models import ModelInfo, annotation_is_optional, collection_item
from ormlens.analysis.orm import PLUGINS
from ormlens.findings import Span
from ormlens.positions import shared_lines

if TYPE_CHECKING:
    from ormlens.analysis.project import ProjectIndex


# Text without which a function body can hold no finding of its own: every rule reads a loop, a
# comprehension, `map`/`filter`, an IN list or an await (a lazy load under an AsyncSession); a
# body without any is walked only when a caller asks for its summary (returns, queries).
MAY_REPORT = re.compile(r"\b(?:for|while|async|await|in_|not_in|notin_)\b|__in\b|(?<![.\w])(?:map|filter)\b")

def build_facts(decl: ModuleDecl, project: ProjectIndex, previous: ModuleFacts | None = None) -> ModuleFacts:
    """The facts of a module; `previous`: its facts before an edit, whose units may be taken back."""
    return FactsBuilder(decl, project, previous=previous).run()




def returns_always(decl: ModuleDecl, qualname: str) -> bool:
    """A module-level function or method whose body cannot end without a `return` (or raise):
    one that can returns None on that path."""
    node, _ = decl.function_node(qualname)
    return node is not None and bool(node.body) and isinstance(node.body[-1], (ast.Return, ast.Raise))


def walk_deferred(facts: ModuleFacts, qualname: str, deferred: DeferredBody, project: ProjectIndex) -> None:
    """Walk a body the module's pass left (ModuleFacts.function), into that module's facts."""
    builder = FactsBuilder(facts.decl, project, facts)
    if deferred.cls is not None:
        builder.push_frame("class", None, deferred.cls[1].name, deferred.cls)
    if project.keep_units:
        facts.settle(qualname, builder.record_unit(
            qualname, deferred.node, facts.texts.get(qualname), lambda: builder.exec_FunctionDef(deferred.node)))
    else:
        builder.exec_FunctionDef(deferred.node)


def function_alone(decl: ModuleDecl, qualname: str, project: ProjectIndex) -> FunctionFacts | None:
    """The facts of one module-level function or method from a walk of it alone (its module's
    pass is running: an import cycle, or a function defined further down)."""
    node, cls = decl.function_node(qualname)
    if node is None:
        return None
    builder = FactsBuilder(decl, project)
    builder.defers = False
    if cls is not None:
        builder.push_frame("class", None, cls.name, (decl.path, cls))
    builder.exec_FunctionDef(node)
    return builder.facts.functions.get(qualname)


# --- scopes ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class Frame:
    kind: str                                  # "module" | "function" | "class" | "comprehension"
    parent: Frame | None
    function: FunctionFacts | None
    qualname: str
    env: dict[str, Value] = field(default_factory=dict)
    loops: list[LoopScope] = field(default_factory=list)
    # Blocks being executed that end in return/raise ("return") or break ("break"), with the
    # loop depth they were entered at: what they contain runs at most once per that loop.
    # Also "once" (an `if` that lets one item of loop depth-1 in: see guarded_loop) and "memo"
    # (the miss branch of a cache read-through: it runs once per key, not once per call or item).
    exits: list[tuple[str, int]] = field(default_factory=list)
    cls: tuple[str, ClassDecl] | None = None
    # The function's parameters (guards.Parameters), and the tests on them the code being walked is under.
    parameters: branch.Parameters | None = None
    guards: tuple[branch.Guard, ...] = ()


CHUNKER_NAME = re.compile(r"(?i)(chunk|batch)")
SESSION_NAME_HINTS = ("session", "db_session", "dbsession", "sess")


def looks_like_session(name: str) -> bool:
    lowered = name.lower()
    return lowered in SESSION_NAME_HINTS or lowered.endswith("_session")


def _divides_by_a_size(node: ast.expr) -> bool:
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


def _counts_pages(node: ast.expr) -> bool:
    """`pagination.pages + 1`, `total_pages`, `num_pages`: the number of pages of a result."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        node = node.left
    name = last_name(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
    return name in ("pages", "num_pages", "total_pages", "page_count", "n_pages")


def _is_constant_scalar(value: Value) -> bool:
    return value.kind is Kind.SCALAR and value.size is Size.BOUNDED and not value.deps


def _is_int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _calls_in(node: ast.AST):
    """The calls in an expression that run when it is evaluated (not in a lambda or a nested scope)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Call):
            yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                pending.append(child)


def _unconditional_calls(body: list[ast.stmt]):
    """The calls in the statements of a block that always run (through `try:` and `with:`
    bodies; not under `if`, loops or handlers)."""
    for stmt in body:
        if isinstance(stmt, ast.Try):
            yield from _unconditional_calls(stmt.body)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            yield from _unconditional_calls(stmt.body)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)) and stmt.value is not None:
            yield from _calls_in(stmt.value)


_HANDLERS: dict[tuple[type, str, type], object] = {}


def _handler(cls: type, prefix: str, node_type: type):
    """`cls.eval_Name` for ast.Name, looked up once per node type."""
    key = (cls, prefix, node_type)
    if key not in _HANDLERS:
        _HANDLERS[key] = getattr(cls, prefix + node_type.__name__, None)
    return _HANDLERS[key]


# --- the builder ----------------------------------------------------------------------------------


class FactsBuilder:
    def __init__(self, decl: ModuleDecl, project: ProjectIndex, deferred_of: ModuleFacts | None = None,
                 previous: ModuleFacts | None = None):
        """`deferred_of`: the facts of the module's pass, to walk one of its deferred bodies for
        (what it adds to the lists is dropped: such a body can report nothing)."""
        self.decl = decl
        self.project = project
        if deferred_of is not None:
            self.facts = ModuleFacts(decl, functions=deferred_of.functions, deferred=deferred_of.deferred,
                                     module_env=deferred_of.module_env, plugin_data=deferred_of.plugin_data,
                                     ids=deferred_of.ids, walk_deferred=walk_deferred)
        else:  # ids go on from the previous pass's: a unit taken back keeps its loops' ids
            self.facts = ModuleFacts(decl, ids=itertools.count(next(previous.ids) if previous else 1),
                                     walk_deferred=walk_deferred)
        self.previous = previous
        self._in_unit = False
        self.values: dict[int, Value] = {}
        self.frame = Frame("module", None, None, "", env=self.facts.module_env)
        self._ids = self.facts.ids
        self.defers = deferred_of is None  # leaves bodies that cannot report to their callers
        self._lines = shared_lines(decl.source)
        self._encoded: dict[int, bytes] = {}
        self._scanned_loops: set[int] = set()
        # Calls that take the next item in a draining `while` loop: id(call) -> (loop, collection).
        self._drains: dict[int, tuple[LoopScope, Value]] = {}
        # The body of each `for` loop by loop id (see loaded_before).
        self._loop_bodies: dict[int, list[ast.stmt]] = {}
        self.assignment: ast.Assign | None = None
        # Values of parameters with no annotation (what a caller passes: a list, a queryset...).
        self.untyped_parameters: dict[int, Value] = {}  # by id; the values kept so ids stay theirs
        # Lazy query objects (the values variables hold) already evaluated: their result cache is filled.
        self.evaluated_querysets: dict[int, Value] = {}
        self._arms: tuple[tuple[int, int], ...] = ()  # the `if` arms being walked (QueryCall.arms)
        # Per `for` loop: the target name whose items an equality guard can single out, the value
        # bound to it (so a rebinding is seen), and whether the items are distinct (see guarded_loop).
        self._item_guards: dict[int, tuple[str, Value, bool]] = {}
        # Names assigned a cache read (`x = cache.get(k)`): the value bound and the reads (see cache_miss).
        self._cache_reads: dict[str, tuple[Value, list[tuple[str, str, str]]]] = {}
        self.chunk_names = queries.DEFAULT_CHUNK_FUNCTIONS | project.settings.chunk_functions
        self.plugin_data = self.facts.plugin_data

    def run(self) -> ModuleFacts:
        project = self.project
        saved = project.own_reads
        if project.keep_units:
            body = self.decl.tree.body
            facts = self.facts
            facts.texts, facts.skeleton = units.function_texts(body, self._lines)
            facts.reusable, facts.maybe = units.reusable(self.previous, facts.texts, facts.skeleton)
            if self.previous is not None:
                facts.previous, self.previous.previous = self.previous, None  # a chain of one, not of every pass
                facts.alone_faces = dict(self.previous.alone_faces)  # those made again replace theirs
            project.passes[self.decl.path] = facts
            project.own_reads = (self.decl.path, facts.module_own)
            try:  # a unit's walk taps its own reads (record_unit): these are the rest
                with project.dependencies.tap(facts_node(self.decl.path)) as facts.module_reads:
                    # Its own declarations: when they change (a new parse), no unit is taken back
                    # (units hold nodes of the parse they were walked on).
                    project.dependencies.read(self.decl.path)
                    self.exec_block(body)
            finally:
                project.own_reads = saved
                project.passes.pop(self.decl.path, None)
            for name, unit in facts.reusable.items():  # deferred, not asked for yet: still valid
                facts.units.setdefault(name, unit)
        else:
            self.exec_block(self.decl.tree.body)
        return self.facts


    # --- helpers ---------------------------------------------------------------------------------

    def segment(self, node: ast.AST) -> str:
        """The source text of a node (single-line: sliced by byte offsets; else unparsed)."""
        line = getattr(node, "lineno", None)
        if line is not None and node.end_lineno == line and 0 < line <= len(self._lines):
            data = self._encoded.get(line)
            if data is None:
                data = self._encoded[line] = self._lines[line - 1].encode("utf-8", "surrogatepass")
            return data[node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        try:
            return ast.unparse(node)
        except Exception:  # noqa: BLE001 - a label is never worth a crash
            return "…"

    def short(self, node: ast.AST, limit: int = 60) -> str:
        text = " ".join(self.segment(node).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def effective_loops(self) -> tuple[LoopScope, ...]:
        frame = self.frame
        cut: set[int] = set()
        for kind, depth in frame.exits:
            if kind in ("return", "memo"):
                cut.update(range(depth))
            else:  # "break", "once"
                cut.add(depth - 1)
        return tuple(loop for i, loop in enumerate(frame.loops) if i not in cut)

    def in_repeating_loop(self) -> bool:
        return any(loop.repeats for loop in self.effective_loops())

    def lookup(self, name: str) -> Value:
        frame: Frame | None = self.frame
        first = True
        while frame is not None:
            # Class bodies are not enclosing scopes for the functions defined in them.
            if (first or frame.kind != "class") and name in frame.env:
                return frame.env[name]
            if frame.kind == "module":
                break
            first = first and frame.kind == "comprehension"
            frame = frame.parent
        return self.project.resolve_global(self.decl, name)

    def assign_name(self, name: str, value: Value) -> None:
        self.frame.env[name] = value

    def rebind(self, name: str, value: Value) -> None:
        """Update a name where it is bound (an enclosing scope for a comprehension)."""
        frame: Frame | None = self.frame
        while frame is not None:
            if name in frame.env:
                frame.env[name] = value
                return
            if frame.kind != "comprehension":
                break
            frame = frame.parent
        self.frame.env[name] = value

    def new_loop(self, kind: str, span: Span, iter_node: ast.expr, it: Value) -> LoopScope:
        size = it.size
        if it.kind in (Kind.ROWS, Kind.QUERY, Kind.RESULT, Kind.PAGE) and size is Size.UNKNOWN:
            size = Size.UNBOUNDED
        rows_of = it.model.name if it.model is not None and it.kind in (
            Kind.ROWS, Kind.QUERY, Kind.PAGE) and not it.statement else None
        loop = LoopScope(next(self._ids), kind, span, self.short(iter_node), size, it.batched, it.deps, rows_of)
        self.facts.loops[loop.id] = loop
        return loop

    def push_frame(self, kind: str, function: FunctionFacts | None, qualname: str,
                   cls: tuple[str, ClassDecl] | None = None) -> Frame:
        parent = self.frame
        if kind == "comprehension":
            frame = Frame(kind, parent, parent.function, parent.qualname, loops=parent.loops,
                          exits=parent.exits, cls=parent.cls, parameters=parent.parameters,
                          guards=parent.guards)
        else:
            frame = Frame(kind, parent, function, qualname, cls=cls)
        self.frame = frame
        return frame

    def pop_frame(self) -> None:
        assert self.frame.parent is not None
        self.frame = self.frame.parent

    # --- recording -------------------------------------------------------------------------------

    def record_query(self, node: ast.AST, query: Value, terminal: str,
                     loops: tuple[LoopScope, ...] | None = None, evaluation: str | None = None,
                     **details) -> QueryCall:
        """A query runs at `node` (orm.api.Interpreter.record_query)."""
        info = query.query
        label = self.short(node)
        if len(self.segment(node)) > 60 and info is not None and info.start is not None:
            label = f"{self.short(info.start, 40)}….{terminal}()"
            # `session.exec(select(M)...)`: name the call as written, not a terminal it does not have.
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr != terminal:
                within = any(inside(info.start, arg) for arg in node.args)
                label = f"{self.short(node.func, 30)}({self.short(info.start, 40)}…)" if within else \
                    self.short(node)
            if evaluation is not None:  # list(qs), len(qs), qs[0], for x in qs
                label = evaluation.format(f"{self.short(info.start, 40)}…")
        if loops is None:
            loops = self.effective_loops()
        call = QueryCall(Span.of(node), label, query.model, terminal, loops,
                         self.frame.qualname or None, query.deps, info, **details)
        call.guards = self.frame.guards
        call.arms = self._arms
        call.write = query.write or (queries.WRITE_TERMINALS.get(terminal, "") if not query.statement else "")
        if call.write:
            call.batch_column = None  # a batch rewrite is for reads
        self.facts.query_calls.append(call)
        if self.frame.function is not None and not self.memoized():
            self.frame.function.query_calls.append(call)
        return call


    def record_call(self, node: ast.Call | ast.Attribute, callee: Value, named: ast.expr | None = None) -> None:
        """A call of a project function (or a read of a property, which runs one); `named`: the
        expression that names the function, when it is not the call's own (`map(load, ids)`)."""
        named = named if named is not None else node.func if isinstance(node, ast.Call) else node
        label = self.short(named, 1000)
        if len(label) > 60 and isinstance(named, ast.Attribute):
            label = f"….{named.attr}"
        site = CallSite(Span.of(node), label, callee.ref, self.effective_loops(), self.frame.qualname or None,
                        self.frame.guards, self.call_arguments(node, named), self._arms)
        self.facts.calls.append(site)
        if self.frame.function is not None and not self.memoized():
            self.frame.function.calls.append(site)

    def call_arguments(self, node: ast.Call | ast.Attribute, named: ast.expr) -> branch.CallArguments | None:
        """What a call passes, and how it binds `self` (by the value of what it is called on)."""
        if isinstance(node, ast.Attribute):
            return branch.NO_ARGUMENTS_ON_INSTANCE  # a property read
        if named is not node.func:
            return None  # `map(f, xs)`: what reaches f is not written here
        receiver = "plain"
        if isinstance(node.func, ast.Attribute):
            base = self.values.get(id(node.func.value), UNKNOWN)
            if base.kind in (Kind.INSTANCE, Kind.ROW) or base.project_methods:
                receiver = "instance"
            elif base.kind in (Kind.CLASS, Kind.MODEL_CLASS):
                receiver = "class"
            elif base.kind is not Kind.MODULE:
                return None
        return branch.call_arguments(node, receiver, self.frame.parameters)

    def under(self, guards: tuple[branch.Guard, ...], body: list[ast.stmt]) -> None:
        """Walk a block that runs only when `guards` hold."""
        frame = self.frame
        outer = frame.guards
        frame.guards = outer + guards
        try:
            self.exec_block(body)
        finally:
            frame.guards = outer

    def memoized(self) -> bool:
        """In the miss branch of a cache read-through: what runs here runs once per key until the
        cache is cleared, not on every call of the function (so not part of its summary)."""
        return any(kind == "memo" for kind, _ in self.frame.exits)

    # --- statements ------------------------------------------------------------------------------

    def exec_block(self, stmts: list[ast.stmt]) -> None:
        exit_kind = None
        for stmt in stmts:
            if isinstance(stmt, (ast.Return, ast.Raise)):
                exit_kind = "return"
                break
            if isinstance(stmt, ast.Break):
                exit_kind = "break"
                break
        frame = self.frame
        if exit_kind and frame.loops:
            frame.exits.append((exit_kind, len(frame.loops)))
            try:
                self.exec_statements(stmts)
            finally:
                frame.exits.pop()
        else:
            self.exec_statements(stmts)

    def exec_statements(self, stmts: list[ast.stmt]) -> None:
        frame = self.frame
        outer = frame.guards
        try:
            for stmt in stmts:
                self.exec(stmt)
                # `if not p: return`: the rest of the block runs only when p is true.
                if isinstance(stmt, ast.If) and frame.parameters is not None and \
                        branch.exits(stmt.body) != branch.exits(stmt.orelse):
                    when_true, when_false = branch.condition(stmt.test, frame.parameters)
                    frame.guards += when_false if branch.exits(stmt.body) else when_true
        finally:
            frame.guards = outer

    def exec(self, stmt: ast.stmt) -> None:
        handler = _handler(type(self), "exec_", type(stmt))
        if handler is not None:
            handler(self, stmt)
            return
        # Anything else: evaluate its expressions, run its blocks.
        for name, value in ast.iter_fields(stmt):
            if isinstance(value, ast.expr):
                self.eval(value)
            elif isinstance(value, list) and value:
                if isinstance(value[0], ast.stmt):
                    self.exec_block(value)
                elif isinstance(value[0], ast.expr):
                    for item in value:
                        self.eval(item)
                elif isinstance(value[0], (ast.ExceptHandler, ast.match_case)):
                    for item in value:
                        self.exec_block(item.body)
                elif isinstance(value[0], ast.withitem):
                    for item in value:
                        self.eval(item.context_expr)

    def exec_Expr(self, stmt: ast.Expr) -> None:
        self.eval(stmt.value)

    def exec_Return(self, stmt: ast.Return) -> None:
        value = self.eval(stmt.value) if stmt.value is not None else Value(kind=Kind.SCALAR)
        if self.frame.kind == "function" and self.frame.function is not None:
            if stmt.value is None or not self.literal_collection(stmt.value):
                self.frame.function.literal_returns = False
            self.frame.function.returns.append(value)

    def literal_collection(self, node: ast.expr) -> bool:
        """`["a", "b"]`, `("a",) + KEYS`, or a name no function binds whose value is a bounded
        collection (a module constant, here or imported)."""
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return not any(isinstance(e, ast.Starred) for e in node.elts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.literal_collection(node.left) and self.literal_collection(node.right)
        if not isinstance(node, ast.Name):
            return False
        frame: Frame | None = self.frame
        while frame is not None and frame.kind != "module":
            if node.id in frame.env:
                return False  # a local (or enclosing function's) name: it may have grown
            frame = frame.parent
        value = self.values.get(id(node), UNKNOWN)
        return value.kind is Kind.COLLECTION and value.size is Size.BOUNDED and not value.batched

    def exec_Assign(self, stmt: ast.Assign) -> None:
        # `rows = list(<queryset>)`: a statement a rewrite can replace whole (see the plugins' evaluate).
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.assignment = stmt
        value = self.eval(stmt.value)
        self.assignment = None
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            reads = self.cache_reads(stmt.value)
            if reads:
                value = value.but()  # its own identity: a later rebinding of the name is told apart
                self._cache_reads[stmt.targets[0].id] = (value, reads)
        for target in stmt.targets:
            self.bind(target, value)

    def exec_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            value = self.eval(stmt.value)
        else:
            value = self.annotation_value(stmt.annotation) or UNKNOWN
        if stmt.simple or stmt.value is not None:
            self.bind(stmt.target, value)

    def exec_AugAssign(self, stmt: ast.AugAssign) -> None:
        value = self.eval(stmt.value)
        if isinstance(stmt.target, ast.Name):
            old = self.lookup(stmt.target.id)
            if isinstance(stmt.op, ast.Add) and value.kind is Kind.ROWS and value.model is not None and \
                    old.kind in (Kind.COLLECTION, Kind.ROWS) and old.model in (None, value.model):
                # `rows += query.all()` (chunked loading): still rows of that model, no longer bounded.
                self.rebind(stmt.target.id, value.but(size=Size.UNBOUNDED, deps=old.deps | value.deps))
                return
            self.rebind(stmt.target.id, unknown(old.deps | value.deps))
        else:
            self.eval(stmt.target)
            self.taint_container(stmt.target, value.deps)

    def exec_Import(self, stmt: ast.Import) -> None:
        for alias in stmt.names:
            name = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else alias.name.split(".")[0]
            self.assign_name(name, self.project.resolve_import(self.decl, ImportRef(module, None)))

    def exec_ImportFrom(self, stmt: ast.ImportFrom) -> None:
        for alias in stmt.names:
            if alias.name != "*":
                ref = ImportRef(stmt.module or "", alias.name, stmt.level)
                self.assign_name(alias.asname or alias.name, self.project.resolve_import(self.decl, ref))

    def exec_If(self, stmt: ast.If) -> None:
        test = self.eval(stmt.test)
        self.evaluate(stmt.test, test, "bool", stmt.test)  # `if qs:` runs a queryset
        loops = self.frame.loops
        if loops and loops[-1].kind == "for" and loops[-1].id not in self._scanned_loops:
            if self.check_scan(loops[-1], stmt.test, loops[-1].span, "for"):
                self._scanned_loops.add(loops[-1].id)
        parameters = self.frame.parameters
        when_true, when_false = branch.condition(stmt.test, parameters) if parameters is not None else ((), ())
        entered = []
        guarded = self.guarded_loop(stmt.test)
        if guarded is not None:
            entered.append(("once", guarded + 1))
        if self.cache_miss(stmt.test, stmt.body):
            entered.append(("memo", len(loops)))
        self.frame.exits.extend(entered)
        arms = self._arms
        try:
            self._arms = arms + ((id(stmt), 0),)
            self.under(when_true, stmt.body)
        finally:
            del self.frame.exits[len(self.frame.exits) - len(entered):]
            self._arms = arms
        try:
            self._arms = arms + ((id(stmt), 1),)
            self.under(when_false, stmt.orelse)
        finally:
            self._arms = arms

    def guarded_loop(self, test: ast.expr) -> int | None:
        """The index (in this frame's loops) of a `for` loop whose body this `if` lets in for a
        bounded number of items: the test requires the loop's item to equal a value fixed for the
        loop (`k == "name"`, `k in ("a", "b")`, also in an `elif`). When the items are distinct
        (a mapping's keys, a set) that is at most once (or once per listed constant). When the
        facts know nothing of the iterable (not rows, not a list, not a parameter), the value must
        be a constant: it runs once per item equal to that constant, and nothing says items repeat."""
        loops = self.frame.loops
        for part in and_parts(test):
            if not (isinstance(part, ast.Compare) and len(part.ops) == 1):
                continue
            left, right = part.left, part.comparators[0]
            if isinstance(part.ops[0], ast.Eq):
                pairs = [(left, [right]), (right, [left])]
            elif isinstance(part.ops[0], ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                pairs = [(left, right.elts)]
            else:
                continue
            for item, others in pairs:
                if not isinstance(item, ast.Name) or not others:
                    continue
                for index in range(len(loops) - 1, -1, -1):
                    guard = self._item_guards.get(loops[index].id)
                    if guard is None or guard[0] != item.id or self.lookup(item.id) is not guard[1]:
                        continue
                    inner = {loop.id for loop in loops[index:]}
                    values = [self.values.get(id(other), UNKNOWN) for other in others]
                    if all(_is_constant_scalar(value) or (
                            guard[2] and isinstance(other, (ast.Name, ast.Attribute)) and not value.deps & inner)
                           for other, value in zip(others, values)):
                        return index
        return None

    def item_guard(self, loop: LoopScope, stmt: ast.For | ast.AsyncFor, it: Value) -> None:
        """Which loop target an equality guard can single out (see guarded_loop)."""
        target, node = stmt.target, stmt.iter
        pairs = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "items" and not node.args and not node.keywords
        if pairs and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[0], ast.Name):
            name = target.elts[0].id  # `for key, value in mapping.items()`: the keys are distinct
            distinct = True
        elif isinstance(target, ast.Name) and not pairs:
            name = target.id
            distinct = self.distinct_items(node, it)
            if not distinct and not (it.kind is Kind.UNKNOWN and it.size is Size.UNKNOWN):
                return  # a list, rows, a parameter...: the same item may come again
        else:
            return
        self._item_guards[loop.id] = (name, self.frame.env.get(name, UNKNOWN), distinct)

    def distinct_items(self, node: ast.expr, it: Value) -> bool:
        """Does iterating `node` give distinct items: a dict's or mapping's keys, a set?"""
        if isinstance(node, (ast.Dict, ast.Set, ast.DictComp, ast.SetComp)):
            return True
        if it.kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
            return True
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "keys" and not node.args:
                return True  # the Mapping protocol
            callee = self.values.get(id(node.func), UNKNOWN)
            return callee.kind is Kind.EXTERNAL and callee.name in (
                "builtins.set", "builtins.frozenset", "builtins.dict", "builtins.dict.fromkeys")
        return False

    def cache_reads(self, node: ast.expr) -> list[tuple[str, str, str]]:
        """`cache.get(key)`, `getattr(obj, "attr", None)`, or an `or` of them: each read as
        ("get", receiver, key) / ("attr", object, attribute name expression), by source text."""
        parts = node.values if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) else [node]
        reads = []
        for part in parts:
            if not isinstance(part, ast.Call) or part.keywords:
                return []
            func = part.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(part.args) <= 2:
                reads.append(("get", ast.dump(func.value), ast.dump(part.args[0])))
            elif isinstance(func, ast.Name) and len(part.args) == 3 and \
                    self.lookup(func.id).name == "builtins.getattr":
                reads.append(("attr", ast.dump(part.args[0]), ast.dump(part.args[1])))
            else:
                return []
        return reads

    def cache_miss(self, test: ast.expr, body: list[ast.stmt]) -> bool:
        """Is this `if` the miss branch of a cache read-through: it tests that a name assigned a
        cache read is empty (`x is None`, `not x`, `x == None`), and its block writes the value
        back where it was read (`cache.set(key, ...)`, `cache[key] = ...`, `setattr(obj, attr, ...)`,
        `obj.attr = ...`)? Then what the block runs, runs once per key, not once per call."""
        for part in and_parts(test):
            if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.Not):
                name = part.operand
            elif isinstance(part, ast.Compare) and len(part.ops) == 1 and \
                    isinstance(part.ops[0], (ast.Is, ast.Eq)) and is_none(part.comparators[0]):
                name = part.left
            else:
                continue
            if isinstance(name, ast.NamedExpr):
                name = name.target
            if not isinstance(name, ast.Name) or name.id not in self._cache_reads:
                continue
            value, reads = self._cache_reads[name.id]
            if self.lookup(name.id) is value and any(self.writes_back(read, body) for read in reads):
                return True
        return False

    def writes_back(self, read: tuple[str, str, str], body: list[ast.stmt]) -> bool:
        """Does a statement the block always runs (through `try:` / `with:`) write to `read`?"""
        kind, receiver, key = read
        for stmt in body:
            if isinstance(stmt, ast.Try):
                if self.writes_back(read, stmt.body) or self.writes_back(read, stmt.finalbody):
                    return True
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                if self.writes_back(read, stmt.body):
                    return True
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                func = call.func
                if kind == "get" and isinstance(func, ast.Attribute) and func.attr in ("set", "setdefault") and \
                        len(call.args) >= 2 and ast.dump(func.value) == receiver and ast.dump(call.args[0]) == key:
                    return True
                if kind == "attr" and isinstance(func, ast.Name) and len(call.args) == 3 and \
                        self.lookup(func.id).name == "builtins.setattr" and \
                        ast.dump(call.args[0]) == receiver and ast.dump(call.args[1]) == key:
                    return True
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if kind == "get" and isinstance(target, ast.Subscript) and \
                            ast.dump(target.value) == receiver and ast.dump(target.slice) == key:
                        return True
                    if kind == "attr" and isinstance(target, ast.Attribute) and \
                            ast.dump(target.value) == receiver and ast.dump(ast.Constant(target.attr)) == key:
                        return True
        return False

    def exec_While(self, stmt: ast.While) -> None:
        drain = self.find_drain(stmt)
        if drain is not None:
            self.exec_draining_while(stmt, *drain)
            return
        # Any other `while` loop's count is not decided by items of a collection (a retry, a
        # polling loop, pages): it is a scope (a `break` in it leaves it, not the enclosing
        # `for`), never a loop that repeats a query (see LoopScope.repeats).
        it = self.eval(stmt.test)
        loop = self.new_loop("while", Span.of(stmt.test), stmt.test, unknown(it.deps))
        self.frame.loops.append(loop)
        try:
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.exec_block(stmt.orelse)

    def exec_draining_while(self, stmt: ast.While, collection: ast.Name, takes: list[ast.Call]) -> None:
        """`while todo: x = todo.pop()`, `while (row := next(it, None)) is not None`: a loop over
        the items of `collection`, the calls in `takes` giving each item."""
        it = self.lookup(collection.id)
        worklist = self.grows(collection.id, stmt.body)
        if worklist:
            it = it.but(size=Size.UNBOUNDED)  # a work-list the loop adds to: as long as the data says
        span = Span(stmt.lineno, stmt.col_offset, stmt.test.end_lineno or stmt.test.lineno,
                    stmt.test.end_col_offset or 0)
        loop = self.new_loop("while", span, collection, it)
        loop.drains, loop.worklist = True, worklist
        for call in takes:
            self._drains[id(call)] = (loop, it)
        self.frame.loops.append(loop)
        try:
            self.eval(stmt.test)  # it runs on every turn
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.exec_block(stmt.orelse)

    def find_drain(self, stmt: ast.While) -> tuple[ast.Name, list[ast.Call]] | None:
        """The collection a `while` loop takes the next item of on every turn, and the calls that
        take it: in the test, or in a statement the body always runs (not under an `if`) when
        the test is about that collection (`while todo:`, `while len(queue) > 0:`) or `while True:`."""
        test = stmt.test
        forever = isinstance(test, ast.Constant) and bool(test.value)
        tested = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)}
        candidates = [(call, True) for call in _calls_in(test)]
        candidates += [(call, False) for call in _unconditional_calls(stmt.body)]
        found: ast.Name | None = None
        takes: list[ast.Call] = []
        for call, in_test in candidates:
            name = self.drained_name(call)
            if name is None or (found is not None and name.id != found.id):
                continue
            if in_test or forever or name.id in tested:
                found = found or name
                takes.append(call)
        return (found, takes) if found is not None else None

    def drained_name(self, call: ast.Call) -> ast.Name | None:
        """`next(it)`, `todo.pop()`, `queue.popleft()`, `heappop(heap)`, `result.fetchone()`: the
        name of the collection this call takes one item of (`d.pop(key)` takes no next item)."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and not call.keywords:
            if func.attr in queries.DRAIN_METHODS and (not call.args or (
                    len(call.args) == 1 and _is_int_literal(call.args[0]))):
                return func.value
            if func.attr in queries.RESULT_DRAIN_METHODS and not call.args and \
                    self.lookup(func.value.id).kind is Kind.RESULT:
                return func.value
        if call.args and isinstance(call.args[0], ast.Name) and isinstance(func, (ast.Name, ast.Attribute)):
            callee = self.static_value(func)
            if callee.kind is Kind.EXTERNAL and callee.name in queries.DRAIN_FUNCTIONS:
                return call.args[0]
        return None

    def grows(self, name: str, body: list[ast.stmt]) -> bool:
        """Does the loop body add items to `name` (`todo.append(x)`, `todo += children`)?"""
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                    return True
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                        func.value.id == name and func.attr in queries.GROW_METHODS:
                    return True
                if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == name and \
                        isinstance(func, (ast.Name, ast.Attribute)) and \
                        self.static_value(func).name in queries.GROW_FUNCTIONS:
                    return True
        return False

    def exec_For(self, stmt: ast.For | ast.AsyncFor) -> None:
        it = self.as_query(self.eval(stmt.iter))
        span = Span(stmt.lineno, stmt.col_offset, stmt.iter.end_lineno or stmt.iter.lineno,
                    stmt.iter.end_col_offset or 0)
        it = self.evaluate(stmt.iter, it, "__iter__", stmt.iter, header=span) or it
        loop = self.new_loop("for", span, stmt.iter, it)
        loop.statement, loop.iterable = Span.of(stmt), Span.of(stmt.iter)
        loop.asynchronous = isinstance(stmt, ast.AsyncFor)
        loop.target = stmt.target.id if isinstance(stmt.target, ast.Name) else None
        loop.reiterable = it.kind in (Kind.COLLECTION, Kind.ROWS) and not it.batched and not it.iterator
        self.frame.loops.append(loop)
        self._loop_bodies[loop.id] = stmt.body
        try:
            self.bind(stmt.target, self.element_of(it, loop))
            self.item_guard(loop, stmt, it)
            self.exec_block(stmt.body)
        finally:
            self.frame.loops.pop()
        self.exec_block(stmt.orelse)

    exec_AsyncFor = exec_For

    def exec_With(self, stmt: ast.With | ast.AsyncWith) -> None:
        for item in stmt.items:
            value = self.eval(item.context_expr)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, value if value.kind is Kind.SESSION else UNKNOWN)
        self.exec_block(stmt.body)

    exec_AsyncWith = exec_With

    def exec_FunctionDef(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in stmt.decorator_list:
            self.eval(decorator)
        args = stmt.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.eval(default)
        outer = self.frame
        # `@total.setter def total(...)`: the getter keeps the name (`total:setter`)
        qualname = units.qualname_of(f"{outer.qualname}.<locals>" if outer.kind == "function" else outer.qualname,
                                     stmt)
        ref = FunctionRef(self.decl.path, qualname)
        cached = any(queries.is_caching_decorator(last_name(d)) for d in stmt.decorator_list)
        function = FunctionFacts(ref, Span(stmt.lineno, stmt.col_offset, stmt.lineno, stmt.col_offset + 3),
                                 cached)
        cls = outer.cls if outer.kind == "class" else None
        if outer.kind != "class":
            self.assign_name(stmt.name, Value(kind=Kind.FUNCTION, ref=ref, name=qualname))
        if self.deferrable(stmt, outer):
            self.facts.deferred[qualname] = DeferredBody(stmt, cls)
            return
        if self.defers and not self._in_unit and self.top_level(outer):
            self.exec_unit(stmt, qualname, function, outer, cls)
            return
        self.facts.functions[qualname] = function
        self.walk_function(stmt, function, outer, cls)

    def exec_unit(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, function: FunctionFacts,
                  outer: Frame, cls: tuple[str, ClassDecl] | None) -> None:
        """A function at module level or in a top-level class (units.py): taken back from the
        module's previous pass, or walked with nothing carried over from the walks before it."""
        self._cache_reads = {}
        self.evaluated_querysets = {}
        unit = self.facts.take_back(qualname, self.project)
        if unit is not None:
            units.reuse(self.facts, unit)
            return

        def walk() -> None:
            self.facts.functions[qualname] = function
            self.walk_function(stmt, function, outer, cls)

        self._in_unit = True
        try:
            if self.project.keep_units:
                self.facts.settle(qualname, self.record_unit(qualname, stmt, self.facts.texts.get(qualname), walk))
            else:
                walk()
        finally:
            self._in_unit = False

    def record_unit(self, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef,
                    text: tuple[int, int, int] | None, walk: Callable[[], None]) -> units.FunctionUnit:
        """Run `walk` (of function `qualname`), recording what it adds and reads (units.py)."""
        marks = units.Marks(self.facts)
        project = self.project
        saved, own = project.own_reads, set()
        project.own_reads = (self.decl.path, own)
        try:
            with project.dependencies.tap(facts_node(self.decl.path)) as reads:
                walk()
        finally:
            project.own_reads = saved
        unit = marks.unit(self.facts, qualname, reads, own)
        function = self.facts.functions.get(qualname)
        if function is not None:
            unit.face = units.face(function, summarize_returns(function), node, text, self._lines)
        return unit

    def walk_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, function: FunctionFacts, outer: Frame,
                      cls: tuple[str, ClassDecl] | None) -> None:
        # Methods see the module (or enclosing function), not the class body.
        self.push_frame("function", function, function.ref.qualname, cls)
        if outer.kind == "class":
            self.frame.parent = outer.parent
        parameters = self.frame.parameters = branch.Parameters(stmt)
        try:
            self.bind_parameters(stmt, cls)
            self.project.body(self.decl, stmt)  # released after the module was read: put back
            self.exec_block(stmt.body)
        finally:
            self.frame = outer
            function.done = True
            function.signature = branch.signature(stmt, outer.kind == "class", parameters)

    @staticmethod
    def top_level(outer: Frame) -> bool:
        """Is a function defined in `outer` one at module level or in a top-level class?"""
        return outer.kind == "module" or (outer.kind == "class" and outer.parent is not None
                                          and outer.parent.kind == "module")

    exec_AsyncFunctionDef = exec_FunctionDef

    def deferrable(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, outer: Frame) -> bool:
        """A module-level function or a method of a top-level class whose text has nothing a
        finding needs (MAY_REPORT): the pass leaves its body to a caller that asks."""
        if not self.defers or not isinstance(stmt, ast.FunctionDef) or not self.top_level(outer):
            return False
        return not units.text_matches(self._lines, stmt, MAY_REPORT)

    def exec_ClassDef(self, stmt: ast.ClassDef) -> None:
        for node in [*stmt.bases, *(kw.value for kw in stmt.keywords), *stmt.decorator_list]:
            self.eval(node)
        outer = self.frame
        top_level = outer.kind == "module" and self.decl.classes.get(stmt.name) is not None
        cls = self.decl.classes[stmt.name] if top_level else read_class(stmt)
        qualname = f"{outer.qualname}.{stmt.name}" if outer.qualname else stmt.name
        self.push_frame("class", None, qualname, (self.decl.path, cls))
        try:
            self.exec_block(stmt.body)
        finally:
            self.frame = outer
        if top_level:
            value = self.project.class_value(self.decl, cls)
        else:
            value = Value(kind=Kind.CLASS, ref=(self.decl.path, cls), name=stmt.name, label=stmt.name)
        self.assign_name(stmt.name, value)

    def bind_parameters(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef,
                        cls: tuple[str, ClassDecl] | None) -> None:
        args = stmt.args
        positional = [*args.posonlyargs, *args.args]
        decorators = {last_name(d) for d in stmt.decorator_list}
        defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults))
        defaults.update((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
        for index, arg in enumerate([*positional, *args.kwonlyargs]):
            if index == 0 and cls is not None and "staticmethod" not in decorators and arg in positional:
                self.assign_name(arg.arg, self.self_value(cls, "classmethod" in decorators))
                continue
            given = self.plugin_parameter(stmt, index, arg) if cls is None else None
            if given is not None:
                self.assign_name(arg.arg, given)
                continue
            value = self.parameter_value(arg)
            if value.size is Size.UNBOUNDED and self.length_validated(arg.annotation, defaults.get(arg.arg)):
                value = value.but(size=Size.BOUNDED)  # FastAPI/pydantic reject longer lists
            self.assign_name(arg.arg, value)
        if args.vararg is not None:
            self.assign_name(args.vararg.arg, Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED,
                                                    label=args.vararg.arg))
        if args.kwarg is not None:
            self.assign_name(args.kwarg.arg, UNKNOWN)

    def length_validated(self, annotation: ast.expr | None, default: ast.expr | None) -> bool:
        """`xs: list[int] = Body(..., max_length=200)`, `Query(max_length=...)`, `Field(...)`,
        `Annotated[list[int], Field(max_length=200)]`, `conlist(int, max_length=200)`: the
        framework validates the length before the function runs."""
        declarations = [default] if default is not None else []
        annotation = unquote(annotation) if annotation is not None else None
        if isinstance(annotation, ast.Subscript) and last_name(annotation.value) == "Annotated" and \
                isinstance(annotation.slice, ast.Tuple):
            declarations += annotation.slice.elts[1:]
            annotation = annotation.slice.elts[0]
        if annotation is not None:
            declarations.append(annotation)
        for node in declarations:
            if not isinstance(node, ast.Call) or not any(
                    kw.arg in queries.LENGTH_LIMIT_KEYWORDS and not is_none(kw.value) for kw in node.keywords):
                continue
            callee = self.static_value(node.func)
            if callee.kind is Kind.EXTERNAL and callee.name in queries.VALIDATING_DECLARATIONS:
                return True
        return False

    def self_value(self, cls: tuple[str, ClassDecl], is_classmethod: bool) -> Value:
        path, decl = cls
        module = self.project.decl(path)
        class_value = self.project.class_value(module, decl) if module is not None and \
            module.classes.get(decl.name) is decl else Value(kind=Kind.CLASS, ref=cls, name=decl.name)
        if is_classmethod:
            return class_value
        if class_value.kind is Kind.CLASS:
            value = self.plugin_self(cls)
            if value is not None:
                return value
        if class_value.kind is Kind.MODEL_CLASS:
            return Value(kind=Kind.ROW, model=class_value.model, label="self")
        return Value(kind=Kind.INSTANCE, ref=cls, label="self")

    def parameter_value(self, arg: ast.arg) -> Value:
        if arg.annotation is not None:
            value = self.annotation_value(arg.annotation)
            if value is not None:
                return value.but(label=arg.arg)
        if looks_like_session(arg.arg):
            return Value(kind=Kind.SESSION, certain=False, label=arg.arg)
        # What a caller passes has no known bound.
        value = Value(size=Size.UNBOUNDED, label=arg.arg)
        self.untyped_parameters[id(value)] = value
        return value

    def annotation_value(self, node: ast.expr) -> Value | None:
        node = unquote(node)
        if annotation_is_optional(node):
            inner = node.slice if isinstance(node, ast.Subscript) else None
            if isinstance(node, ast.BinOp):
                inner = node.left if not (isinstance(node.left, ast.Constant) and node.left.value is None) \
                    else node.right
            if isinstance(inner, ast.Tuple):
                inner = next((e for e in inner.elts if not (isinstance(e, ast.Constant) and e.value is None)),
                             None)
            return self.annotation_value(inner) if inner is not None else None
        item = collection_item(node)
        if item is not None:
            head = last_name(node.value) if isinstance(node, ast.Subscript) else ""
            # tuple[X] / tuple[X, Y]: a fixed number of items (tuple[X, ...] is any number).
            if head in ("tuple", "Tuple") and not (isinstance(node.slice, ast.Tuple) and any(
                isinstance(e, ast.Constant) and e.value is Ellipsis for e in node.slice.elts
            )):
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
            element = self.annotation_value(item)
            once = head in ("Iterable", "Iterator", "Generator", "AsyncIterable", "AsyncIterator")
            member = self.static_value(unquote(item)) if isinstance(unquote(item), (ast.Name, ast.Attribute)) else UNKNOWN
            if member.kind is Kind.CLASS and isinstance(member.ref, tuple) and self.project.is_enum_class(*member.ref):
                # `statuses: tuple[JobStatus, ...]`: members of an enumeration, a closed set (as
                # `[Status[n] for n in names]`): its distinct values are at most the members.
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, iterator=once)
            if element is not None and element.kind is Kind.ROW:
                return Value(kind=Kind.ROWS, model=element.model, size=Size.UNBOUNDED, iterator=once)
            return Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, iterator=once)
        if isinstance(node, (ast.Name, ast.Attribute)):
            value = self.static_value(node)
            if value.kind is Kind.MODEL_CLASS:
                return Value(kind=Kind.ROW, model=value.model)
            if value.kind is Kind.CLASS and value.ref is not None:  # `repo: OrderRepository`
                return Value(kind=Kind.INSTANCE, ref=value.ref)
            if value.kind is Kind.EXTERNAL:  # a library's class: a session class
                for plugin in PLUGINS:
                    annotated = plugin.annotation(self, value)
                    if annotated is not None:
                        return annotated
        return None

    def static_value(self, node: ast.expr) -> Value:
        """Evaluate a name or attribute chain without recording anything (annotations)."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return self.project.attribute(self.static_value(node.value), node.attr)
        return UNKNOWN

    # --- binding ---------------------------------------------------------------------------------

    def bind(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    element = element.value
                    part = unknown(value.deps)
                elif index < len(items):
                    part = items[index]
                else:
                    part = unknown(value.deps)
                self.bind(element, part)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            self.eval(target.slice)
            # `index[key] = row` makes `index` a dict of rows.
            if isinstance(target.value, ast.Name) and value.kind is Kind.ROW and value.model is not None and \
                    container.kind in (Kind.COLLECTION, Kind.DICT_OF_ROWS):
                self.rebind(target.value.id, Value(
                    kind=Kind.DICT_OF_ROWS, size=Size.UNBOUNDED if self.in_repeating_loop() else container.size,
                    label=target.value.id, **_holding(container, value)))
            self.taint_container(target, value.deps)
        elif isinstance(target, ast.Attribute):
            self.eval(target.value)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, unknown(value.deps))

    def element_of(self, it: Value, loop: LoopScope) -> Value:
        """The value a loop target takes on each item of `it`."""
        deps = it.deps | {loop.id}
        if it.kind in (Kind.ROWS, Kind.QUERY, Kind.PAGE) or (it.kind is Kind.ROW and it.maybe_rows) \
                or (it.kind is Kind.RESULT and it.scalars):
            if it.model is not None and not it.statement:
                eager = it.query.eager if it.kind is Kind.QUERY and it.query is not None else it.eager
                return Value(kind=Kind.ROW, model=it.model, eager=eager, loop=loop.id, deps=deps,
                             **it.provenance())
            return unknown(deps)
        if it.batched:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps)
        if it.zipped is not None:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps,
                         items=tuple(self.element_of(iterable, loop) for iterable in it.zipped))
        if it.kind is Kind.ENUMERATE and it.inner is not None:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps,
                         items=(unknown(deps), self.element_of(it.inner, loop)))
        if it.kind is Kind.COLLECTION and it.inner is not None:
            inner = it.inner
            return inner.but(deps=inner.deps | deps, loop=loop.id if inner.kind is Kind.ROW else inner.loop)
        return unknown(deps)

    # --- expressions -----------------------------------------------------------------------------

    def eval(self, node: ast.expr) -> Value:
        handler = _handler(type(self), "eval_", type(node))
        value = handler(self, node) if handler is not None else self.eval_children(node)
        self.values[id(node)] = value
        return value

    def eval_children(self, node: ast.AST) -> Value:
        deps: frozenset[int] = frozenset()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                value = self.eval(child)
            elif isinstance(child, ast.keyword):
                value = self.eval(child.value)
            else:
                continue
            if value.deps:
                deps = deps | value.deps
        return unknown(deps)

    def eval_Constant(self, node: ast.Constant) -> Value:
        return _CONSTANT

    def eval_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if _is_constant_scalar(left) and _is_constant_scalar(right):
            return Value(kind=Kind.SCALAR, size=Size.BOUNDED)  # MAX_ATTEMPTS + 1
        return unknown(left.deps | right.deps)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.eval(node.operand)
        if isinstance(node.op, ast.Not) and self.evaluate(node.operand, operand, "bool", node.operand) is not None:
            return unknown(operand.deps)  # `not qs` runs a queryset
        if _is_constant_scalar(operand):
            return operand  # -6
        return unknown(operand.deps)

    def eval_Name(self, node: ast.Name) -> Value:
        if not isinstance(node.ctx, ast.Load):
            return UNKNOWN
        return self.lookup(node.id)

    def eval_NamedExpr(self, node: ast.NamedExpr) -> Value:
        value = self.eval(node.value)
        reads = self.cache_reads(node.value)
        if reads:  # `if (x := cache.get(k)) is None:` reads a cache, as `x = cache.get(k)` does
            value = value.but()
            self._cache_reads[node.target.id] = (value, reads)
        frame = self.frame
        while frame.kind == "comprehension" and frame.parent is not None:  # PEP 572: not the comprehension
            frame = frame.parent
        frame.env[node.target.id] = value
        return value

    def eval_Yield(self, node: ast.Yield | ast.YieldFrom) -> Value:
        # The walk reaches every `yield` of the function it is in: that makes it a generator.
        if self.frame.kind == "function" and self.frame.function is not None:
            self.frame.function.generator = True
        return self.eval_children(node)

    eval_YieldFrom = eval_Yield

    def eval_Await(self, node: ast.Await) -> Value:
        value = self.eval(node.value)
        if value.kind in (Kind.RESULT, Kind.ROWS, Kind.ROW) and isinstance(node.value, ast.Call) \
                and value.source == Span.of(node.value):
            # `await session.scalars(...)`: only an AsyncSession's methods are awaited.
            return value.but(asynchronous=True)
        return value

    def eval_List(self, node: ast.List | ast.Tuple | ast.Set) -> Value:
        elements = [self.eval(e) for e in node.elts]
        deps = merge_deps(elements)
        size = Size.UNKNOWN if any(isinstance(e, ast.Starred) for e in node.elts) else Size.BOUNDED
        models = {e.model for e in elements if e.kind is Kind.ROW}
        if elements and len(models) == 1 and all(e.kind is Kind.ROW for e in elements):
            return Value(kind=Kind.ROWS, model=models.pop(), size=size, deps=deps, eager=None)
        return Value(kind=Kind.COLLECTION, size=size, deps=deps)

    eval_Tuple = eval_List
    eval_Set = eval_List

    def eval_Dict(self, node: ast.Dict) -> Value:
        deps = self.eval_children(node).deps
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps)

    def eval_Lambda(self, node: ast.Lambda) -> Value:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.eval(default)
        outer = self.frame
        # A lambda's body runs when (and if) it is called, not here: its queries belong to no loop
        # and do not make the defining function one that runs a query.
        self.push_frame("function", None, outer.qualname, outer.cls)
        self.frame.kind = "lambda"
        try:
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                self.assign_name(arg.arg, UNKNOWN)
            self.eval(node.body)
        finally:
            self.frame = outer
        return UNKNOWN

    def eval_Attribute(self, node: ast.Attribute) -> Value:
        base = self.eval(node.value)
        return self.attribute(node, base, node.attr, isinstance(node.ctx, ast.Load))

    def attribute(self, node: ast.Attribute, base: Value, attr: str, load: bool = True) -> Value:
        kind = base.kind
        for plugin in PLUGINS:
            value = plugin.attribute(self, node, base, attr)
            if value is not None:
                return value
        if kind is Kind.ROW and base.model is not None:
            return self.row_attribute(node, base, attr, load)
        if base.capped and ((kind is Kind.QUERY and base.statement and attr in ("c", "columns")) or
                            (kind is Kind.COLUMN and base.model is None)):
            return Value(kind=Kind.COLUMN, capped=True, deps=base.deps)  # `sub.c.id` of a capped subquery
        if kind is Kind.PAGE and attr == "items":
            return base.but(kind=Kind.ROWS, size=Size.BOUNDED)
        if kind in (Kind.EXTERNAL, Kind.MODULE, Kind.ORM_NAMESPACE, Kind.MODEL_CLASS):
            value = self.project.attribute(base, attr)
            if value is not UNKNOWN:
                return value
        if kind in (Kind.INSTANCE, Kind.CLASS, Kind.MODEL_CLASS):
            method = self.member(node, base, attr, load)
            if method is not None:
                return method
        if looks_like_session(attr):
            return Value(kind=Kind.SESSION, certain=False, label=self.short(node), deps=base.deps)
        return unknown(base.deps)



    def row_attribute(self, node: ast.Attribute, base: Value, attr: str, load: bool) -> Value:
        model = base.model
        assert model is not None
        rel = self.project.relationship(model, attr)
        if rel is not None:
            target = self.project.find_model(rel.target, model.module_path, rel.app_label)
            if target is not None and model.current is not None:
                target = self.project.historical(target)  # reached from a historical model
            uselist = self.project.uselist(model, rel, target)
            for plugin in PLUGINS:  # a relationship the ORM answers without a query (a related manager)
                value = plugin.relationship(self, node, base, rel, target)
                if value is not None:
                    return value
            if load:
                self.facts.relationship_reads.append(RelationshipRead(
                    Span.of(node), self.short(node), model, rel, uselist, base.eager, base.loop,
                    self.effective_loops(), base.source,
                    uselist is False and self.one_parent(base, target), base.asynchronous, base.awaitable,
                    base.rel_path, base.through_many))
            if target is None:
                return unknown(base.deps)
            eager = eager_below(base.eager, attr)
            if rel.returns_query:
                # A dynamic relationship is a Query (iterating it runs it); a write-only one is run
                # only through the statements its .select() builds. `via`: reached from this model.
                return Value(kind=Kind.QUERY, model=target, deps=base.deps, via=model.name,
                             statement=rel.lazy == "write_only",
                             query=QueryInfo(target, eager=eager or frozenset(), start=node))
            # Rows reached from here remember their parent model (see one_parent).
            if uselist:
                return Value(kind=Kind.ROWS, model=target, size=Size.UNBOUNDED, eager=eager, deps=base.deps,
                             via=model.name, asynchronous=base.asynchronous)
            return Value(kind=Kind.ROW, model=target, eager=eager, loop=base.loop, deps=base.deps,
                         maybe_rows=uselist is None, via=model.name, asynchronous=base.asynchronous,
                         rel_path=base.rel_path + (attr,), through_many=base.through_many)
        attr = model.column_name(attr)
        column = model.columns.get(attr)
        if column is not None:
            nullable = column.nullable and attr not in base.not_null
            return Value(kind=Kind.COLUMN_VALUE, model=model, name=attr, deps=base.deps, nullable=nullable)
        if base.awaitable:
            return unknown(base.deps)  # awaitable_attrs has attributes only
        method = self.member(node, base, attr, load)
        return method if method is not None else unknown(base.deps)

    @staticmethod
    def one_parent(row: Value, target: ModelInfo | None) -> bool:
        """Do all rows of this loop share the many-to-one `target` row? A many-to-one load looks
        in the identity map first, so then it runs once, not per row: rows reached from that
        parent's collection (`for b in author.books: b.author`), or rows filtered by equality on
        the foreign key to it (`filter_by(user_id=uid)`, then `o.user`)."""
        if target is None or row.model is None:
            return False
        if not row.model.identity_map:
            # Only rows reached from the parent's collection know it (a reverse foreign key's manager).
            return row.via == target.name
        if row.via == target.name:
            return True
        return any(row.model.references(column, target) for column in row.fixed)

    def class_of(self, value: Value) -> tuple[str, ClassDecl] | None:
        """The project class behind an instance, a class, a model class or a row."""
        if value.kind in (Kind.INSTANCE, Kind.CLASS) or (value.kind is Kind.MODEL_BASE and value.ref):
            return value.ref
        if value.kind in (Kind.ROW, Kind.MODEL_CLASS) and value.model is not None:
            return self.project.class_of(value.model)
        return None

    def method_value(self, start: tuple[str, ClassDecl], attr: str) -> Value | None:
        """`attr` as a method of a project class (or a base class of it); properties are marked,
        since reading one runs its body."""
        pending = [start]
        for _ in range(8):
            if not pending:
                break
            path, cls = pending.pop(0)
            function = cls.methods.get(attr)
            if function is not None:
                decorators = {last_name(d) for d in function.decorator_list}
                return Value(kind=Kind.FUNCTION, ref=FunctionRef(path, f"{cls.name}.{attr}"), name=attr,
                             is_property=bool(decorators & queries.PROPERTY_DECORATORS))
            module = self.project.decl(path)
            if module is None:
                continue
            for base_node in cls.bases:
                parent = self.class_of(self.project.eval_static(module, base_node))
                if parent is not None:
                    pending.append(parent)
        return None

    def member(self, node: ast.Attribute, base: Value, attr: str, load: bool) -> Value | None:
        """A method (to be called) or a property (read now: its body runs) of a project class."""
        start = self.class_of(base)
        method = self.method_value(start, attr) if start is not None else None
        if method is None:
            return None
        if method.is_property:
            if load and base.kind in (Kind.INSTANCE, Kind.ROW):  # on the class it is the descriptor
                self.record_call(node, method)
                return Value(deps=base.deps, call_of=method.ref)  # it may return a query
            return unknown(base.deps)
        return method

    def eval_Subscript(self, node: ast.Subscript) -> Value:
        base = self.eval(node.value)
        index = self.eval(node.slice)
        deps = base.deps | index.deps
        for plugin in PLUGINS:
            value = plugin.subscript(self, node, base, deps)
            if value is not None:
                return value
        if isinstance(node.slice, ast.Slice):
            if self.constant_width(node.slice):
                if base.kind is Kind.ROWS:
                    return base.but(size=Size.BOUNDED, deps=deps)
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps)
            return base.but(deps=deps) if base.kind in (Kind.ROWS, Kind.COLLECTION) else unknown(deps)
        if base.kind is Kind.ROWS and base.model is not None:
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=deps, **base.provenance())
        if base.kind is Kind.DICT_OF_ROWS:
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=deps, **base.provenance())
        if base.kind is Kind.DICT_OF_LISTS:
            return Value(kind=Kind.ROWS, model=base.model, eager=base.eager, size=Size.UNBOUNDED, deps=deps,
                         **base.provenance())
        if base.kind is Kind.COLLECTION and base.inner is not None:
            return base.inner.but(deps=deps)
        return unknown(deps)

    def constant_width(self, part: ast.Slice) -> bool:
        lower, upper = part.lower, part.upper
        if upper is None or part.step is not None:
            return False
        if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) and lower is not None \
                and ast.dump(upper.left) == ast.dump(lower):
            return True  # xs[i:i + K]
        bounded = lambda n: self.values.get(id(n), UNKNOWN).size is Size.BOUNDED  # noqa: E731
        return (lower is None or bounded(lower)) and bounded(upper) and (
            lower is None or isinstance(lower, ast.Constant))

    # --- comprehensions --------------------------------------------------------------------------

    def eval_comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> Value:
        self.push_frame("comprehension", None, "")
        frame = self.frame
        own: list[LoopScope] = []
        first = UNKNOWN
        inner_deps: frozenset[int] = frozenset()
        try:
            for index, generator in enumerate(node.generators):
                it = self.as_query(self.eval(generator.iter))
                if index == 0:
                    first = it
                it = self.evaluate(generator.iter, it, "__iter__", generator.iter) or it
                loop = self.new_loop("comprehension", Span.of(generator.iter), generator.iter, it)
                loop.iterable = Span.of(generator.iter)
                loop.target = generator.target.id if isinstance(generator.target, ast.Name) else None
                loop.yields_target = len(node.generators) == 1 and len(generator.ifs) == 1 and \
                    isinstance(node, (ast.ListComp,)) and isinstance(node.elt, ast.Name) and node.elt.id == loop.target
                frame.loops.append(loop)
                own.append(loop)
                self.bind(generator.target, self.element_of(it, loop))
                for condition in generator.ifs:
                    inner_deps |= self.eval(condition).deps
                    self.check_scan(loop, condition, Span.of(node), "comprehension")
            if isinstance(node, ast.DictComp):
                self.eval(node.key)
                element = self.eval(node.value)
            else:
                element = self.eval(node.elt)
        finally:
            del frame.loops[len(frame.loops) - len(own):]
            self.pop_frame()
        own_ids = {loop.id for loop in own}
        deps = frozenset((first.deps | inner_deps | element.deps) - own_ids)
        size = first.size if first.kind is not Kind.UNKNOWN or first.size is not Size.UNKNOWN else Size.UNKNOWN
        if first.kind in (Kind.ROWS, Kind.QUERY, Kind.RESULT, Kind.PAGE) and size is Size.UNKNOWN:
            size = Size.UNBOUNDED
        if len(own) > 1:
            size = Size.UNBOUNDED if any(loop.size is Size.UNBOUNDED for loop in own) else size
        if isinstance(node, ast.DictComp):
            if element.kind is Kind.ROW and element.model is not None:
                return Value(kind=Kind.DICT_OF_ROWS, model=element.model, eager=element.eager, size=size,
                             deps=deps, **element.provenance())
            if element.kind is Kind.ROWS and element.model is not None:
                return Value(kind=Kind.DICT_OF_LISTS, model=element.model, eager=element.eager, size=size,
                             deps=deps, **element.provenance())
            return Value(kind=Kind.COLLECTION, size=size, deps=deps)
        if element.kind is Kind.ROW and element.model is not None:
            carried = element.provenance()
            carried["not_null"] = frozenset(self.guarded_columns(node) | element.not_null)
            return Value(kind=Kind.ROWS, model=element.model, eager=element.eager, size=size, deps=deps,
                         **carried)
        if self.is_enum_member(node.elt):
            # [Color(v) for v in xs]: its distinct values are members of the enumeration.
            size = Size.BOUNDED
        inner = element if element.kind is Kind.ROWS else None
        # [xs[i:i + K] for i in range(0, len(xs), K)] is a list of chunks: loops over it are batched.
        return Value(kind=Kind.COLLECTION, size=size, deps=deps, inner=inner,
                     batched=first.batched and len(own) == 1, iterator=isinstance(node, ast.GeneratorExp),
                     capped=first.capped and len(own) == 1)

    def is_enum_member(self, node: ast.expr) -> bool:
        """`Color[name]` / `Color(value)` where Color is a project enumeration."""
        if isinstance(node, ast.Subscript):
            cls = self.values.get(id(node.value), UNKNOWN)
        elif isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            cls = self.values.get(id(node.func), UNKNOWN)
        else:
            return False
        return cls.kind is Kind.CLASS and isinstance(cls.ref, tuple) and self.project.is_enum_class(*cls.ref)

    eval_ListComp = eval_comprehension
    eval_SetComp = eval_comprehension
    eval_GeneratorExp = eval_comprehension
    eval_DictComp = eval_comprehension

    @staticmethod
    def guarded_columns(node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> set[str]:
        """`[o for o in rows if o.total is not None]` / `if o.total`: columns the filter keeps set."""
        if len(node.generators) != 1 or not isinstance(node.elt, ast.Name):
            return set()
        return guarded_attributes(node.generators[0].ifs, node.elt.id)

    def check_scan(self, loop: LoopScope, condition: ast.expr, span: Span, kind: str) -> bool:
        """ORM003's fact: inside `loop` (a scan of a collection), an equality between the scanned
        item and the item of an enclosing loop that repeats."""
        loops = self.frame.loops
        position = next((i for i, candidate in enumerate(loops) if candidate is loop), None)
        if not position or loop.size is not Size.UNBOUNDED or not loop.rows_of:
            return False
        # Outer loops that repeat the scan: not those the scan's block leaves (return/break).
        repeating = {candidate.id for candidate in self.effective_loops()}
        outer = {candidate.id: candidate for candidate in loops[:position] if candidate.id in repeating}
        if loop.iter_deps & outer.keys():
            return False  # the collection is rebuilt per outer item: not the same scan repeated
        for compare in eq_compares(condition):
            left = self.values.get(id(compare.left), UNKNOWN)
            right = self.values.get(id(compare.comparators[0]), UNKNOWN)
            for inner, other in ((left, right), (right, left)):
                if loop.id not in inner.deps or loop.id in other.deps:
                    continue
                repeating = [outer[i] for i in other.deps if i in outer and outer[i].repeats]
                if repeating:
                    outer_loop = max(repeating, key=lambda candidate: candidate.id)
                    inner_node, outer_node = (compare.left, compare.comparators[0]) if inner is left \
                        else (compare.comparators[0], compare.left)
                    self.facts.scans.append(Scan(
                        span, self.short_span(span), loop.label, self.short(compare), outer_loop, kind,
                        loop.iterable, loop.target, Span.of(inner_node), Span.of(outer_node),
                        loop.yields_target))
                    return True
                    return True
        return False

    def short_span(self, span: Span) -> str:
        if span.line != span.end_line or not 0 < span.line <= len(self._lines):
            return ""
        data = self._lines[span.line - 1].encode("utf-8", "surrogatepass")
        text = data[span.col:span.end_col].decode("utf-8", "replace")
        return text if len(text) <= 60 else text[:59] + "…"

    # --- calls -----------------------------------------------------------------------------------

    def eval_Call(self, node: ast.Call) -> Value:
        drained = self._drains.get(id(node))
        if drained is not None:  # `todo.pop()` in the loop that drains `todo`: its next item
            self.eval_children(node)
            return self.element_of(drained[1], drained[0])
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.eval(func.value)
            callee = None
        else:
            base = None
            callee = self.eval(func)
            if callee.kind is Kind.EXTERNAL and callee.name == "builtins.filter" and len(node.args) == 2 \
                    and isinstance(node.args[0], ast.Lambda):
                return self.eval_filter_lambda(node)
            if callee.kind is Kind.EXTERNAL and callee.name in ("builtins.map", "builtins.filter") and \
                    len(node.args) == 2 and not node.keywords:
                return self.eval_map(node)
        args = [self.eval(arg) for arg in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords}
        deps = merge_deps([*args, *kwargs.values()] + ([base] if base is not None else []))
        if base is not None:
            result = self.call_method(node, base, func.attr, args, kwargs)
        else:
            result = self.call_value(node, callee, args, kwargs)
        if deps - result.deps:
            result = result.but(deps=result.deps | deps)
        if base is not None and base.write and result.kind is Kind.UNKNOWN and not result.write:
            # `insert(M).values(...).on_conflict_do_nothing()`: still that write statement.
            result = result.but(write=base.write, model=base.model)
        if base is not None and func.attr in queries.GROW_METHODS:
            # `rows.extend(f(e))` in a loop: `rows` now depends on the item (for the rest of the body).
            self.taint_container(func.value, merge_deps([*args, *kwargs.values()]))
            self.grow_container(func.value)
        return result

    def grow_container(self, target: ast.expr) -> None:
        """`ids = []`, then `ids.append(u.id)` once per item of a loop that repeats: `ids` is as
        long as that loop, no longer the bounded literal it started as."""
        loops = self.effective_loops()
        # The innermost loop decides, and only when it is known to be as long as the data (query
        # rows, a parameter): `for n in (1, 2)`, a registry of unknown size, `range(min(n, 500))`
        # leave the list as it was.
        if not isinstance(target, ast.Name) or not loops or not loops[-1].repeats or \
                loops[-1].size is not Size.UNBOUNDED:
            return
        container = self.lookup(target.id)
        if container.kind in (Kind.COLLECTION, Kind.ROWS) and container.size is Size.BOUNDED and \
                not container.batched:
            self.rebind(target.id, container.but(size=Size.UNBOUNDED))

    def taint_container(self, target: ast.expr, deps: frozenset[int]) -> None:
        """A container (`rows`, `index[key]`) changed by a value that depends on loop items:
        what is built from it later depends on those items too."""
        while isinstance(target, ast.Subscript):
            deps = deps | self.values.get(id(target.slice), UNKNOWN).deps
            target = target.value
        if not deps or not isinstance(target, ast.Name):
            return
        container = self.lookup(target.id)
        if container.kind not in _CONTAINER_KINDS or not deps - container.deps:
            return
        self.rebind(target.id, container.but(deps=container.deps | deps))

    def eval_filter_lambda(self, node: ast.Call) -> Value:
        """`filter(lambda s: s.key == k, rows)`: a scan, like a comprehension."""
        function, collection_node = node.args
        collection = self.eval(collection_node)
        self.push_frame("comprehension", None, "")
        loop = self.new_loop("filter", Span.of(node), collection_node, collection)
        self.frame.loops.append(loop)
        try:
            params = function.args.args
            if params:
                self.assign_name(params[0].arg, self.element_of(collection, loop))
            self.eval(function.body)
            self.check_scan(loop, function.body, Span.of(node), "filter")
        finally:
            self.frame.loops.pop()
            self.pop_frame()
        return collection.but(deps=collection.deps)

    def eval_map(self, node: ast.Call) -> Value:
        """`map(f, xs)` / `filter(f, xs)`: a loop over xs calling f on each item, whether f is a
        lambda, a project function (`map(load_user, ids)`) or a query's terminal (`map(User.query.get, ids)`)."""
        function, collection_node = node.args
        collection = self.eval(collection_node)
        terminal = None
        if isinstance(function, ast.Attribute) and function.attr in queries.QUERY_TERMINALS:
            base = self.eval(function.value)
            if base.kind is Kind.QUERY and not base.statement:
                terminal = base
        callee = UNKNOWN if terminal is not None or isinstance(function, ast.Lambda) else self.eval(function)
        if isinstance(function, ast.Lambda):  # defaults run once, when the lambda is made
            for default in [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]:
                self.eval(default)
        self.push_frame("comprehension", None, "")
        loop = self.new_loop("map", Span.of(node), collection_node, collection)
        loop.iterable = Span.of(collection_node)
        self.frame.loops.append(loop)
        element = UNKNOWN
        try:
            item = self.element_of(collection, loop)
            if isinstance(function, ast.Lambda):
                params = [*function.args.posonlyargs, *function.args.args]
                for index, arg in enumerate(params):
                    self.assign_name(arg.arg, item if index == 0 else UNKNOWN)
                if function.args.vararg is not None:  # `lambda *xs:` gets the item in xs
                    self.assign_name(function.args.vararg.arg, Value(kind=Kind.COLLECTION, size=Size.BOUNDED,
                                                                     deps=item.deps))
                element = self.eval(function.body)
                self.values[id(function)] = UNKNOWN
            elif terminal is not None:  # `map(User.query.get, ids)`: the terminal called with each item
                assert isinstance(function, ast.Attribute)
                element = self.call_method(node, terminal, function.attr, [item], {})
            elif callee.kind is Kind.FUNCTION and not callee.is_property:
                self.record_call(node, callee, named=function)
        finally:
            self.frame.loops.pop()
            self.pop_frame()
        if last_name(node.func) == "filter":
            return collection.but(deps=collection.deps, iterator=True)
        deps = collection.deps | frozenset(element.deps - {loop.id})
        if element.kind is Kind.ROW and element.model is not None:
            return Value(kind=Kind.ROWS, model=element.model, eager=element.eager, size=collection.size,
                         deps=deps, iterator=True, **element.provenance())
        return Value(kind=Kind.COLLECTION, size=collection.size, deps=deps, iterator=True)

    def as_query(self, value: Value) -> Value:
        """The result of a project function, used as a query here (`active(uid).all()`,
        `session.scalars(stmt_for(uid))`, `for x in active(uid)`): the unexecuted query the
        function returns, when it returns one; else the value as it is."""
        if value.call_of is None or value.kind is not Kind.UNKNOWN:
            return value
        ref = value.call_of
        own = self.facts.function(ref.qualname, self.project) if ref.path == self.decl.path else None
        query = self.project.returned_query(ref, own if own is not None and own.done else None)
        return query.but(deps=query.deps | value.deps) if query is not None else value

    def call_method(self, node: ast.Call, base: Value, method: str, args: list[Value],
                    kwargs: dict[str | None, Value]) -> Value:
        base = self.as_query(base)
        kind = base.kind
        # `.in_()` of a project's own class (a query DSL of its own, a predicate builder) is not SQL.
        if method in queries.IN_METHODS and len(node.args) == 1 and \
                kind not in (Kind.INSTANCE, Kind.CLASS, Kind.FUNCTION, Kind.MODULE):
            argument = args[0]
            # A list capped by a `.limit(n)` has the size its author chose (a batch): bounded here.
            size = Size.BOUNDED if argument.capped else argument.size
            self.facts.in_calls.append(InCall(Span.of(node), self.short(node), self.short(node.args[0]),
                                              size, argument.kind, method, Span.of(node.args[0])))
            return UNKNOWN
        for plugin in PLUGINS:
            value = plugin.method_call(self, node, base, method, args, kwargs)
            if value is not None:
                return value
        if kind is Kind.ROWS and method in ("all", "unique", "copy"):
            return base
        if kind is Kind.ROWS and method in ("first", "one", "one_or_none", "pop"):
            return base.but(kind=Kind.ROW)
        if kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
            return self.dict_method(node, base, method, args)
        if method in ("append", "add") and len(args) == 1:
            self.collect_rows(node, args[0])
            return UNKNOWN
        if kind is Kind.COLLECTION and method in ("values", "keys", "items"):
            if base.inner is not None and base.inner.kind is Kind.SCHEMA and method != "keys":
                # metadata.tables.values() / .items(): Tables (keyed by name).
                values = Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=base.inner)
                return values if method == "values" else Value(kind=Kind.ENUMERATE, size=base.size,
                                                                 deps=base.deps, inner=values)
            return Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps)
        if kind in (Kind.EXTERNAL, Kind.MODULE, Kind.MODEL_CLASS, Kind.CLASS, Kind.INSTANCE, Kind.ORM_NAMESPACE,
                    Kind.ROW):
            callee = self.attribute(node.func, base, method)
            return self.call_value(node, callee, args, kwargs)
        if kind is Kind.UNKNOWN and looks_like_session(method):
            return UNKNOWN
        return unknown(base.deps)

    def collect_rows(self, node: ast.Call, row: Value) -> None:
        """`rows.append(row)` / `index[key].append(row)`: the container now holds rows."""
        if row.kind is not Kind.ROW or row.model is None:
            return
        if row.eager is not None and row.loop is not None:
            # Relationships the loop read on this row before appending it are loaded on it.
            row = row.but(eager=row.eager | self.loaded_before(row.loop, row.model, node))
        target = node.func.value  # type: ignore[attr-defined]
        repeated = self.in_repeating_loop()
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            container = self.values.get(id(target.value), UNKNOWN)
            if container.kind is Kind.DICT_OF_LISTS:
                self.rebind(target.value.id, container.but(size=Size.UNBOUNDED if repeated else container.size,
                                                           **_holding(container, row)))
        elif isinstance(target, ast.Name):
            container = self.values.get(id(target), UNKNOWN)
            if container.kind in (Kind.COLLECTION, Kind.ROWS):
                self.rebind(target.id, Value(kind=Kind.ROWS, size=Size.UNBOUNDED if repeated else container.size,
                                             label=target.id, **_holding(container, row)))

    def loaded_before(self, loop_id: int, model: ModelInfo, node: ast.AST) -> frozenset[tuple[str, ...]]:
        """Relationships read on the item of `for` loop `loop_id` by what every turn that reaches
        `node` has run before it: the plain statements (no branch, no short-circuit, no nested
        scope) before it in the blocks that hold it, `with` headers, and a `try` body before its
        `else`. They are loaded on that item."""
        body = self._loop_bodies.get(loop_id)
        if not body:
            return frozenset()
        spans = [Span.of(part) for part in _run_before(body, node)]
        if not spans:
            return frozenset()
        covers = lambda read, s: (s.line, s.col) <= (read.line, read.col) and \
            (read.end_line, read.end_col) <= (s.end_line, s.end_col)  # noqa: E731
        return frozenset((read.relationship.name,) for read in self.facts.relationship_reads
                         if read.row_loop == loop_id and read.model is model and not read.rel_path and
                         any(covers(read.span, s) for s in spans))

    def dict_method(self, node: ast.Call, base: Value, method: str, args: list[Value]) -> Value:
        grouped = base.kind is Kind.DICT_OF_LISTS
        rows = Value(kind=Kind.ROWS, model=base.model, eager=base.eager, size=Size.UNBOUNDED, deps=base.deps,
                     **base.provenance())
        if method == "values":
            if grouped:
                return Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=rows)
            return rows.but(size=base.size if base.size is not Size.UNKNOWN else Size.UNBOUNDED)
        if method in ("get", "pop", "setdefault"):
            if grouped:
                return rows
            return Value(kind=Kind.ROW, model=base.model, eager=base.eager, deps=base.deps, **base.provenance())
        if method == "items":
            value = Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps, inner=rows) if grouped else rows
            return Value(kind=Kind.ENUMERATE, size=base.size, deps=base.deps, inner=value)
        if method == "keys":
            return Value(kind=Kind.COLLECTION, size=base.size, deps=base.deps)
        return unknown(base.deps)







    def call_value(self, node: ast.Call, callee: Value, args: list[Value], kwargs: dict[str | None, Value]) -> Value:
        kind = callee.kind
        first = args[0] if args else UNKNOWN
        if kind is Kind.EXTERNAL:
            full = callee.name
            short = full.rsplit(".", 1)[-1]
            if full.startswith("builtins."):
                return self.call_builtin(node, short, args)
            for plugin in PLUGINS:
                value = plugin.function_call(self, node, full, args)
                if value is not None:
                    return value
            if full in ("collections.defaultdict",) and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id == "list":
                return Value(kind=Kind.DICT_OF_LISTS, size=Size.BOUNDED)
            if self.is_chunker(short, len(node.args)):
                return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
            if full == "itertools.islice" and len(args) >= 2:
                stop = args[2] if len(args) >= 3 else args[1]
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED if _is_constant_scalar(stop) else first.size)
            if full in queries.RETRY_ITERATORS:
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
            return self.project.construct(callee, args, kwargs)
        if kind is Kind.SESSION_FACTORY:
            return Value(kind=Kind.SESSION, asynchronous=callee.asynchronous)
        if kind is Kind.FUNCTION:
            if self.is_chunker(callee.name.rsplit(".", 1)[-1], len(node.args)) or (
                    node.args and self.project.yields_chunks(callee.ref)):
                return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
            self.record_call(node, callee)
            returned = self.returned(callee.ref)
            return Value(call_of=callee.ref) if returned is UNKNOWN else returned
        if kind is Kind.CLASS:
            return Value(kind=Kind.INSTANCE, ref=callee.ref, label=callee.label)
        if kind is Kind.UNKNOWN and self.is_chunker(last_name(node.func), len(node.args)):
            return Value(kind=Kind.COLLECTION, size=first.size, batched=True)
        return UNKNOWN

    def is_chunker(self, name: str, arity: int) -> bool:
        """A helper that splits an iterable into chunks: by the settings' list, or by its name
        when it takes the iterable and a size (`chunk_list(xs, 500)`), since projects write their
        own. `pending_batches()` or `batch_status(b)` are not chunkers."""
        return name in self.chunk_names or (arity >= 2 and CHUNKER_NAME.search(name) is not None)

    def call_builtin(self, node: ast.Call, name: str, args: list[Value]) -> Value:
        first = args[0] if args else UNKNOWN
        if name in queries.SIZE_PRESERVING_CALLS and first.call_of is not None:
            first = self.as_query(first)  # list(active(uid)) runs it
        if name == "super" and self.frame.cls is not None:
            value = self.plugin_self(self.frame.cls)
            if value is not None:
                return value
        if name in ("len", "bool") and len(args) == 1 and self.evaluate(node, first, name, node.args[0]) is not None:
            return Value(kind=Kind.SCALAR, deps=first.deps)
        if name in queries.SIZE_PRESERVING_CALLS:
            if not args:
                return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
            rows = self.evaluate(node, first, "iter" if name in ("iter", "reversed") else "list", node.args[0])
            if rows is not None:
                return rows
            if first.kind is Kind.ROWS or (first.kind is Kind.ROW and first.maybe_rows):
                return first.but(kind=Kind.ROWS)
            if first.kind is Kind.RESULT and first.scalars:
                return first.but(kind=Kind.ROWS)
            if first.kind in (Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS):
                return Value(kind=Kind.COLLECTION, size=first.size, deps=first.deps)
            size = first.size
            if first.kind in (Kind.RESULT, Kind.PAGE) and size is Size.UNKNOWN:
                size = Size.UNBOUNDED
            # list()/sorted()/... give a list; iter()/reversed() an iterator.
            return Value(kind=Kind.COLLECTION, size=size, deps=first.deps, inner=first.inner, capped=first.capped,
                         batched=first.batched, zipped=first.zipped, iterator=name in ("iter", "reversed"))
        if name == "enumerate" and args:
            first = self.iterated(node.args[0], first)
            return Value(kind=Kind.ENUMERATE, size=first.size, deps=first.deps, inner=first)
        if name == "zip" and args:
            args = [self.iterated(arg_node, arg) for arg_node, arg in zip(node.args, args)]
            sizes = {a.size for a in args}
            size = Size.BOUNDED if Size.BOUNDED in sizes else (
                Size.UNBOUNDED if sizes == {Size.UNBOUNDED} else Size.UNKNOWN)
            return Value(kind=Kind.COLLECTION, size=size, deps=merge_deps(args), zipped=tuple(args), iterator=True)
        if name == "range":
            return self.range_value(node, args)
        if name == "sum" and node.args:
            self.check_sum(node)
            return UNKNOWN
        if name == "next" and args:
            if first.kind is Kind.ROWS and first.model is not None:
                return Value(kind=Kind.ROW, model=first.model, eager=first.eager, deps=first.deps)
            return unknown(first.deps)
        if name in ("filter", "map") and len(args) == 2:
            return Value(kind=Kind.COLLECTION, size=args[1].size, deps=merge_deps(args), iterator=True)
        if name == "dict" and not args:
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
        if name == "fromkeys" and args:  # dict.fromkeys(xs): the distinct items of xs
            return Value(kind=Kind.COLLECTION, size=first.size, deps=first.deps)
        return UNKNOWN

    def evaluate(self, node: ast.AST, value: Value, how: str, expression: ast.AST,
                 header: Span | None = None) -> Value | None:
        """Python evaluates `value` whole (orm.EVALUATIONS): what the ORM it belongs to says that
        runs and gives; None when it is no ORM's (a list, a row...)."""
        for plugin in PLUGINS:
            result = plugin.evaluate(self, node, value, how, expression, header)
            if result is not None:
                return result
        return None

    def plugin_parameter(self, function: ast.FunctionDef | ast.AsyncFunctionDef, index: int,
                         arg: ast.arg) -> Value | None:
        """What a library passes a module-level function's parameter, when a plugin knows."""
        for plugin in PLUGINS:
            value = plugin.parameter(self, function, index, arg)
            if value is not None:
                return value
        return None

    def plugin_self(self, cls: tuple[str, ClassDecl]) -> Value | None:
        """`self` / `super()` in a method of `cls`, when an ORM gives the class a meaning."""
        for plugin in PLUGINS:
            value = plugin.self_value(self, cls)
            if value is not None:
                return value
        return None

    def iterated(self, node: ast.expr, value: Value) -> Value:
        """`enumerate(x)` / `zip(x, y)`: iterating the wrapper iterates `x`, which runs a query
        (a queryset, a related manager a prefetch may answer, a Query) and yields its rows."""
        if isinstance(node, ast.Starred):
            return value
        value = self.as_query(value)
        return self.evaluate(node, value, "__iter__", node) or value

    def range_value(self, node: ast.Call, args: list[Value]) -> Value:
        if all(a.size is Size.BOUNDED and a.kind is Kind.SCALAR for a in args):
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)
        # range(0, len(xs), size) / range(0, total, batch_size): a loop over chunks or pages.
        if len(node.args) == 3 and self.is_batch_step(node.args[2]):
            return Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, deps=merge_deps(args),
                         batched=True)
        # range(ceil(len(xs) / K)), range(n // K + 1), range(1, pages + 1): counting chunks or pages.
        if node.args and (_divides_by_a_size(node.args[-1] if len(node.args) <= 2 else node.args[1])
                          or _counts_pages(node.args[-1] if len(node.args) <= 2 else node.args[1])):
            return Value(kind=Kind.COLLECTION, size=Size.UNBOUNDED, deps=merge_deps(args),
                         batched=True)
        if len(node.args) == 1 and isinstance(node.args[0], ast.Call) and last_name(node.args[0].func) == "len" \
                and node.args[0].args:
            sized = self.values.get(id(node.args[0].args[0]), UNKNOWN)
            return Value(kind=Kind.COLLECTION, size=sized.size, deps=merge_deps(args))
        return Value(kind=Kind.COLLECTION, size=Size.UNKNOWN, deps=merge_deps(args))

    def is_batch_step(self, step: ast.expr) -> bool:
        if isinstance(step, ast.Constant):
            return isinstance(step.value, int) and step.value >= 50  # a step of 2 is not a chunk
        if isinstance(step, ast.UnaryOp):
            return False
        return True  # a named size: BATCH_SIZE, chunk_size, self.page_size

    def check_sum(self, node: ast.Call) -> None:
        """ORM005's fact: sum() over a nullable column of rows, with no `or 0` / `is not None`."""
        generator = node.args[0]
        if not isinstance(generator, (ast.GeneratorExp, ast.ListComp)) or len(generator.generators) != 1:
            return
        element = self.values.get(id(generator.elt), UNKNOWN)
        if element.kind is not Kind.COLUMN_VALUE or not element.nullable or element.model is None:
            return
        elt, target = generator.elt, generator.generators[0].target
        if isinstance(elt, ast.Attribute) and isinstance(target, ast.Name) and \
                elt.attr in guarded_attributes(generator.generators[0].ifs, target.id):
            return  # `if p.amount` / `if p.amount is not None`
        self.facts.sums.append(NullableSum(Span.of(node), self.short(node), element.model, element.name,
                                           self.short(generator.elt), Span.of(generator.elt)))



    def loop_ids(self) -> frozenset[int]:
        return frozenset(loop.id for loop in self.frame.loops)




    def returned(self, ref: FunctionRef) -> Value:
        """What calling a project function gives, when it is a lazy query object or rows: what
        its `return`s give (a function of this module only once its body has been walked)."""
        if ref.path != self.decl.path:
            return self.project.returns(ref)
        function = self.facts.function(ref.qualname, self.project)
        return summarize_returns(function) if function is not None and function.done else UNKNOWN














_NO_PROVENANCE = Value().provenance()


def _holding(container: Value, row: Value) -> dict[str, Any]:
    """What a container holds once `row` is added (`rows.append(row)`, `index[key] = row`): the
    row's model, loading and provenance, kept only where rows it already holds (of the same model)
    agree: rows from two places are only as loaded, and as known, as both."""
    held = dict(model=row.model, eager=row.eager, **row.provenance())
    if container.kind not in (Kind.ROWS, Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS) or container.model is None:
        return held
    if container.model is not row.model:
        return dict(model=row.model, eager=None, **_NO_PROVENANCE)  # mixed models: loading unknown
    before = container.provenance()
    for name, value in before.items():
        if held[name] != value:
            held[name] = _NO_PROVENANCE[name]
    held["eager"] = None if container.eager is None or row.eager is None else container.eager & row.eager
    return held




# A literal's value: the same for every literal (values are never changed in place).
_CONSTANT = Value(kind=Kind.SCALAR, size=Size.BOUNDED)

# Expressions that may skip part of a statement (what loaded_before does not count on).
_BRANCHING = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

# Values a mutation (`append`, `d[k] = v`) can make depend on a loop item: never a session or a query.
_CONTAINER_KINDS = frozenset({Kind.COLLECTION, Kind.ROWS, Kind.DICT_OF_ROWS, Kind.DICT_OF_LISTS, Kind.UNKNOWN})






def _run_before(body: list[ast.stmt], node: ast.AST) -> list[ast.AST]:
    """What every path from the start of `body` to `node` runs to its end (see loaded_before)."""
    index = next((i for i, stmt in enumerate(body) if inside(node, stmt)), None)
    if index is None:
        return []
    out = [part for stmt in body[:index] for part in _completed(stmt)]
    stmt = body[index]
    if isinstance(stmt, (ast.With, ast.AsyncWith)) and any(inside(node, inner) for inner in stmt.body):
        out += [part for item in stmt.items for part in _plain_parts(item.context_expr)]
        out += _run_before(stmt.body, node)
    elif isinstance(stmt, ast.If):
        out += _plain_parts(stmt.test)
        out += _run_before(stmt.body, node) + _run_before(stmt.orelse, node)  # (node is in one of them)
    elif isinstance(stmt, ast.Try):
        if any(inside(node, inner) for inner in stmt.orelse):  # `else`: the whole body ran
            out += [part for inner in stmt.body for part in _completed(inner)]
            out += _run_before(stmt.orelse, node)
        else:
            out += _run_before(stmt.body, node)
    return out


def _completed(stmt: ast.stmt) -> list[ast.AST]:
    """What a statement that ran to its end surely ran (for `_run_before`)."""
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
        return _plain_parts(stmt)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [part for item in stmt.items for part in _plain_parts(item.context_expr)] + \
            [part for inner in stmt.body for part in _completed(inner)]
    if isinstance(stmt, ast.If):
        return _plain_parts(stmt.test)
    return []


def _plain_parts(node: ast.AST) -> list[ast.AST]:
    return [] if any(isinstance(n, _BRANCHING) for n in ast.walk(node)) else [node]

