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

from ormlens.analysis import guards as branch
from ormlens.analysis import orm as hooks
from ormlens.analysis import queries, units
from ormlens.analysis.templates import renders
from ormlens.analysis.astutil import inside, is_none, last_name, parameter_defaults, unquote
from ormlens.analysis.callbacks import FrameworkRows
from ormlens.analysis.calls import Calls
from ormlens.analysis.contexts import CallContexts
from ormlens.analysis.declarations import ClassDecl, ModuleDecl, read_class
from ormlens.analysis.dependencies import facts_node
from ormlens.analysis.expressions import Expressions
from ormlens.analysis.facts import CallSite, DeferredBody, FunctionFacts, FunctionRef, LoopScope, ModuleFacts, QueryCall
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value
from ormlens.analysis.models import annotation_is_optional, collection_item
from ormlens.analysis.orm.api import Index
from ormlens.analysis.returns import summarize_returns
from ormlens.analysis.shapes import looks_like_session
from ormlens.analysis.statements import Statements
from ormlens.findings import Span
from ormlens.positions import shared_lines

# Text without which a function body can hold no finding of its own: every rule reads a loop, a
# comprehension, `map`/`filter`, an IN list or an await (a lazy load under an AsyncSession), or
# builds a query whose rows it may pass to a function that loops over them (contexts.py); a body
# without any is walked only when a caller asks for its summary (returns, queries).
MAY_REPORT = re.compile(r"\b(?:for|while|async|await|in_|not_in|notin_|objects|query|select|scalars)\b|__in\b|"
                        r"(?<![.\w])(?:map|filter)\b|" + renders.WORDS)


def build_facts(decl: ModuleDecl, project: Index, previous: ModuleFacts | None = None) -> ModuleFacts:
    """The facts of a module; `previous`: its facts before an edit, whose units may be taken back."""
    return FactsBuilder(decl, project, previous=previous).run()


def returns_always(decl: ModuleDecl, qualname: str) -> bool:
    """A module-level function or method whose body cannot end without a `return` (or raise):
    one that can returns None on that path."""
    node, _ = decl.function_node(qualname)
    return node is not None and bool(node.body) and isinstance(node.body[-1], (ast.Return, ast.Raise))


def walk_deferred(facts: ModuleFacts, qualname: str, deferred: DeferredBody, project: Index) -> None:
    """Walk a body the module's pass left (ModuleFacts.function), into that module's facts; or
    take back its unit when what it read is as it was (units.py)."""
    unit = units.take_back(facts, qualname, project)
    if unit is not None:
        facts.functions.update(unit.functions)
        return
    builder = FactsBuilder(facts.decl, project, facts)
    if deferred.cls is not None:
        builder.push_frame("class", None, deferred.cls[1].name, deferred.cls)
    if project.keep_units:
        units.settle(facts, qualname, builder.record_unit(
            qualname, deferred.node, facts.texts.get(qualname), lambda: builder.exec_FunctionDef(deferred.node)))
    else:
        builder.exec_FunctionDef(deferred.node)


def function_alone(decl: ModuleDecl, qualname: str, project: Index) -> FunctionFacts | None:
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


def function_arguments(decl: ModuleDecl, qualname: str, project: Index) -> dict:
    """Of every call in a module-level function or method: the size of each argument it passes,
    by the argument's place in the text (callers.argument_sizes), from a walk of it alone."""
    node, cls = decl.function_node(qualname)
    if node is None:
        return {}
    builder = FactsBuilder(decl, project)
    builder.defers = False
    builder.argument_sizes = {}
    if cls is not None:
        builder.push_frame("class", None, cls.name, (decl.path, cls))
    try:
        builder.exec_FunctionDef(node)
    except RecursionError:
        return {}
    return builder.argument_sizes


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
    # Attributes (`self.leases`) this function set to an empty literal, untouched since (statements.py).
    emptied: set[str] = field(default_factory=set)


# --- the builder ----------------------------------------------------------------------------------


class FactsBuilder(Statements, Expressions, Calls, CallContexts, FrameworkRows):
    def __init__(self, decl: ModuleDecl, project: Index, deferred_of: ModuleFacts | None = None,
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
        # Every parameter's value as bound, by id: (the value, its name, the function's qualname).
        self.parameter_values: dict[int, tuple[Value, str, str]] = {}
        # Lazy query objects (the values variables hold) already evaluated: their result cache is filled.
        self.evaluated_querysets: dict[int, Value] = {}
        self.filled_at: dict[int, tuple] = {}  # by the same ids: where (path_mark), if on every path after
        self._arms: tuple[tuple[int, int], ...] = ()  # the `if` arms being walked (QueryCall.arms)
        self._branching = 0  # conditional expressions, short-circuit operands, handlers being walked
        self._handling = 0   # `except` handlers being walked (QueryCall.exceptional)
        # Of those paths, how many are chosen by something other than the walked row's own state
        # (see only_row_state).
        self._unsure = 0
        # The dependencies of the rows a walk in a caller's context binds (contexts.walk_in_context).
        self.row_state_deps: frozenset = frozenset()
        # Per `for` loop: the target name whose items an equality guard can single out, the value
        # bound to it (so a rebinding is seen), and whether the items are distinct (see guarded_loop).
        # (And whether the same item may come again: then only a dispatch singles it out.)
        self._item_guards: dict[int, tuple[str, Value, bool, bool]] = {}
        # The `if`/`elif` arms of dispatches on an item (see statements.dispatch_chain), by id.
        # The arms of dispatch chains (statements.dispatch_chain): nodes, not ids (a released body's
        # ids come again).
        self._dispatch: set[ast.If] = set()
        # Calls that choose the database, schema or session what follows runs on from loop items
        # (a tenant's schema, a session bound to the item's engine): by id, those loops (see route);
        # and the loops whose item chose it for the code being walked.
        self._routing: dict[int, frozenset[int]] = {}
        self._routed: set[int] = set()
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
        data = self.line_bytes(line) if line is not None and node.end_lineno == line else None
        if data is not None:
            return data[node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        try:
            return ast.unparse(node)
        except Exception:  # noqa: BLE001 - a label is never worth a crash
            return "…"

    def line_bytes(self, line: int) -> bytes | None:
        """Line `line` of the text walked, encoded (None: no such line)."""
        if not 0 < line <= len(self._lines):
            return None
        data = self._encoded.get(line)
        if data is None:
            data = self._encoded[line] = self._lines[line - 1].encode("utf-8", "surrogatepass")
        return data

    def short(self, node: ast.AST, limit: int = 60) -> str:
        text = " ".join(self.segment(node).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def effective_loops(self) -> tuple[LoopScope, ...]:
        frame = self.frame
        cut: set[int] = set()
        for kind, depth in frame.exits:
            if kind in ("return", "memo", "local memo"):
                cut.update(range(depth))
            else:  # "break", "once"
                cut.add(depth - 1)
        # (A framework's loop around a method it calls per row: a `return` ends one call, not its loop.)
        # A loop whose item chose the database (one schema per tenant) repeats nothing one query
        # could do for all items.
        return tuple(loop for i, loop in enumerate(frame.loops) if (i not in cut or loop.kind == "framework")
                     and loop.id not in self._routed)

    def path_mark(self) -> tuple:
        """Where the walk is: the function's frame, its loops, the `if` arms, and whether in a
        branch that may not run (a short-circuit operand, a handler, a conditional expression)."""
        return (id(self.frame), tuple(loop.id for loop in self.frame.loops), self._arms,
                bool(self._branching) or self.in_lambda())

    def dominates(self, mark: tuple) -> bool:
        """Did what ran at `mark` run on every path that reaches here (in this function, in these
        loops' turn, not in a branch of its own)?"""
        frame, loops, arms, branching = mark
        here = self.path_mark()
        return not branching and frame == here[0] and loops == here[1][:len(loops)] and arms == here[2][:len(arms)]

    def route(self, node: ast.AST, deps: frozenset[int]) -> None:
        """`node` (a call) chooses the database, schema or session that what follows it (in its
        `with` block, or the rest of the loop's body) runs on, from the items of these loops."""
        loops = deps & self.loop_ids()
        if loops:
            self._routing[id(node)] = loops

    def routed_by(self, node: ast.expr) -> None:
        """After a statement whose value is `node`: a routing call routes the rest of its loops' turn."""
        self._routed.update(self._routing.get(id(node), ()))

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
        if isinstance(iter_node, ast.Call):
            callee = self.values.get(id(iter_node.func))
            loop.partitioned = callee is not None and callee.kind is Kind.EXTERNAL and callee.name == queries.GROUPBY
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
        call.exceptional = self._handling > 0
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
                        self.frame.guards, self.call_arguments(node, named), self._arms, self._handling > 0)
        self.facts.calls.append(site)
        if self.frame.function is not None and not self.memoized():
            self.frame.function.calls.append(site)

    def call_arguments(self, node: ast.Call | ast.Attribute, named: ast.expr) -> branch.CallArguments | None:
        """What a call passes, and how it binds `self` (by the value of what it is called on)."""
        if not isinstance(node, ast.Call):
            return branch.NO_ARGUMENTS_ON_INSTANCE  # a property read, `f"{row}"` (its __str__)
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
        expiring = any(queries.is_expiring_cache(d) for d in stmt.decorator_list)
        cached = not expiring and any(queries.is_caching_decorator(last_name(d)) for d in stmt.decorator_list)
        function = FunctionFacts(ref, Span(stmt.lineno, stmt.col_offset, stmt.lineno, stmt.col_offset + 3),
                                 cached, expiring_cache=expiring)
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
        self.evaluated_querysets, self.filled_at = {}, {}
        unit = units.take_back(self.facts, qualname, self.project)
        if unit is not None:
            units.reuse(self.facts, unit)
            return

        def walk() -> None:
            self.facts.functions[qualname] = function
            self.walk_function(stmt, function, outer, cls)

        self._in_unit = True
        try:
            if self.project.keep_units:
                units.settle(self.facts, qualname, self.record_unit(qualname, stmt, self.facts.texts.get(qualname), walk))
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
        contexts_before = self.context_reads
        try:
            with project.dependencies.tap(facts_node(self.decl.path)) as reads:
                walk()
        finally:
            project.own_reads = saved
        unit = marks.unit(self.facts, qualname, reads, own)
        unit.contextual = self.context_reads != contexts_before
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
        # Its body's paths are its own: an `if` around the definition is not one of them.
        arms, branching, self._arms, self._branching = self._arms, self._branching, (), 0
        unsure, self._unsure = self._unsure, 0
        try:
            self.bind_parameters(stmt, cls)
            if cls is not None:
                self.enter_row_method(stmt, cls)  # a framework calls it once per row
            else:
                self.enter_row_function(stmt)  # one a class gets at run time
            self.project.body(self.decl, stmt)  # released after the module was read: put back
            self.exec_block(stmt.body)
            if stmt.decorator_list:  # Pyramid: `@view_config(renderer="x.jinja2")` renders what it returns
                renderer = renders.renderer_of(self, stmt)
                if renderer is not None:
                    renders.record_returned_dict(self, stmt, renderer)
        finally:
            self.frame = outer
            self._arms, self._branching, self._unsure = arms, branching, unsure
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
        if outer.kind == "class" and outer.cls is not None and self.row_parameter_of(stmt, outer.cls):
            return False  # a framework calls it per row
        if self.holds_row_function(stmt):
            return False  # it defines one a framework calls per row
        return not units.text_matches(self._lines, stmt, MAY_REPORT)

    def exec_ClassDef(self, stmt: ast.ClassDef) -> None:
        for node in [*stmt.bases, *(kw.value for kw in stmt.keywords), *stmt.decorator_list]:
            self.eval(node)
        outer = self.frame
        top_level = outer.kind == "module" and self.decl.classes.get(stmt.name) is not None
        cls = self.decl.classes[stmt.name] if top_level else read_class(stmt)
        qualname = f"{outer.qualname}.{stmt.name}" if outer.qualname else stmt.name
        callbacks = self.row_callbacks((self.decl.path, cls)) if top_level else None
        self.push_frame("class", None, qualname, (self.decl.path, cls))
        try:
            self.exec_block(stmt.body)
        finally:
            self.frame = outer
        if callbacks is not None:
            self.declared_row_reads(callbacks, qualname)
        if top_level and "View" in self.decl.source:
            renders.record_class_view(self, (self.decl.path, cls), stmt)  # a generic view renders a template
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
        given_rows, self.bound_arguments = self.bound_arguments or {}, None  # (contexts.py: this walk only)
        defaults = parameter_defaults(stmt)
        for index, arg in enumerate([*positional, *args.kwonlyargs]):
            if arg.arg in given_rows:
                self.assign_name(arg.arg, given_rows[arg.arg])
                continue
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
            if self.frame.qualname:
                self.parameter_values[id(value)] = (value, arg.arg, self.frame.qualname)
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
                annotated = hooks.ask(hooks.ANNOTATION, self, value)
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


