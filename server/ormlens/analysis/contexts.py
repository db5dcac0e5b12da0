"""Rows that cross a call: the lazy relationship reads a project function makes on the rows its
caller passes it.

`for o in orders: o.label()` where `Order.label` reads `self.customer`, or `total(orders)` where
`total` loops over its parameter reading `o.customer`: the read is in the callee, but which rows it
reads from, and what their query eager-loaded, are known only at the call. So at a call that passes
rows of a known query (a row of a loop over them, the rows themselves, or the query), the callee is
walked again with its parameters bound to what the call passes, and each relationship read it makes
on those rows is recorded at the call, naming the read inside (RelationshipRead.through). A walk per
distinct context per module pass (memoized), two calls deep, never into a function already being
walked."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from ormlens.analysis.astutil import last_name
from ormlens.analysis.facts import FunctionRef, LoopScope, RelationshipRead
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value, merge_deps
from ormlens.analysis.returns import one_query, summarize_returns
from ormlens.findings import Span

# How many calls deep a context is followed (a caller's call is depth 1).
MAX_DEPTH = 2


@dataclass(frozen=True, eq=False)
class ReadThrough:
    """A read the callee makes on a parameter's rows: per row of the caller's loop (`loop` None:
    the parameter is one row of it) or per row of a loop in the callee over the parameter."""

    parameter: str
    read: RelationshipRead
    path: str                  # the callee's module
    loop: LoopScope | None     # the callee's loop over the parameter's rows


class CallContexts:
    """Mixed into the interpreter (FactsBuilder)."""

    context_depth = 0
    context_stack: tuple[FunctionRef, ...] = ()
    context_reads = 0  # calls whose callee was read in the caller's context (units.FunctionUnit.contextual)
    bound_arguments: dict[str, Value] | None = None  # what the walk of a callee binds its parameters to

    def rows_through_call(self, node: ast.Call | ast.Attribute, callee: Value, receiver: Value | None,
                          args: list[Value], kwargs: dict) -> None:
        """Record at `node` the lazy reads `callee` makes on the rows this call passes it."""
        ref = callee.ref
        if not isinstance(ref, FunctionRef) or self.context_depth >= MAX_DEPTH or ref in self.context_stack:
            return
        decl = self.project.decl(ref.path)
        if decl is None:
            return
        function, cls = decl.function_node(ref.qualname)
        if function is None:
            return
        if isinstance(node, ast.Call):  # what follows a *spread lands on unknown positions
            starred = next((i for i, arg in enumerate(node.args) if isinstance(arg, ast.Starred)), None)
            args = args[:starred] if starred is not None else args
        bound = bind_rows(function, cls is not None, receiver, args, kwargs)
        if not bound:
            return
        # What is lifted depends on the callee's body: an edit of it must re-walk this caller
        # (the editor's units take a caller back only when what it read is unchanged).
        self.project.read_function(ref)
        self.context_reads += 1
        key = (ref, tuple(sorted((name, context_key(value)) for name, value in bound.items())))
        memo = self.plugin_data.setdefault("contexts.reads", {})
        reads = memo.get(key)
        if reads is None:
            memo[key] = ()  # (a recursion through another path sees nothing)
            reads = memo[key] = self.walk_in_context(decl, function, cls, ref, bound)
        for through in reads:
            self.lift(node, callee, bound[through.parameter], through)

    def returned_in_context(self, callee: Value, receiver: Value, node: ast.Call | None = None,
                            own_queries: bool = True) -> Value:
        """What a classmethod of a base class or mixin gives when called on a model
        (`Order.all(db)` with `def all(cls, db): return db.query(cls).all()` in the base): its
        `return`s with `cls` bound to the model; UNKNOWN when that is not rows of it. When its own
        walk ran no query (`cls.query.get(oid)` means nothing on the mixin itself) but this one
        does, the query is recorded at the call `node` (ORM001 then sees it per item)."""
        ref = callee.ref
        if not isinstance(ref, FunctionRef) or self.context_depth >= MAX_DEPTH or ref in self.context_stack:
            return UNKNOWN
        decl = self.project.decl(ref.path)
        function, cls = decl.function_node(ref.qualname) if decl is not None else (None, None)
        if function is None or cls is None or \
                "classmethod" not in {last_name(d) for d in function.decorator_list}:
            return UNKNOWN
        positional = [*function.args.posonlyargs, *function.args.args]
        if not positional:
            return UNKNOWN
        self.project.read_function(ref)  # (as rows_through_call)
        self.context_reads += 1
        memo = self.plugin_data.setdefault("contexts.returns", {})
        key = (ref, id(receiver.model))
        if key not in memo:
            memo[key] = (UNKNOWN, ())  # (a recursion through another path sees nothing)
            walker = self.context_walker(decl, cls, ref, {positional[0].arg: receiver})
            try:
                walker.exec_FunctionDef(function)
            except RecursionError:
                return UNKNOWN
            facts = walker.facts.functions.get(ref.qualname)
            returned = summarize_returns(facts) if facts is not None and facts.done else UNKNOWN
            if returned is UNKNOWN and facts is not None and facts.done and not facts.generator and \
                    isinstance(function.body[-1], (ast.Return, ast.Raise)):
                returned = one_query(facts.returns) or UNKNOWN  # (a query of the model: as returned_query)
            ran = tuple(q for q in walker.facts.query_calls if q.function == ref.qualname and not q.guards)
            memo[key] = (returned, ran)
        returned, ran = memo[key]
        if node is not None and ran and not own_queries:
            query = ran[0]
            self.facts.query_calls.append(replace(
                query, span=Span.of(node), label=self.short(node, 60), loops=self.effective_loops(),
                function=self.frame.qualname or None,
                deps=query.deps | merge_deps(self.values.get(id(arg), UNKNOWN)
                                             for arg in [*node.args, *(kw.value for kw in node.keywords)]),
                batch_column=None, statement=None, expression=None, shape=None, django_key=None,
                count_name=None))
        return returned

    def returned_for_models(self, callee: Value, args: list[Value], kwargs: dict) -> Value:
        """What a project function gives when called with model classes or queries
        (`session_query(Order)` with `def session_query(model): return db.session.query(model)`;
        `filtered(query, args)` returning `query.filter(...)`): its `return`s with those parameters
        bound to what the call passes; UNKNOWN when that is not a query or rows."""
        ref = callee.ref
        if not isinstance(ref, FunctionRef) or self.context_depth >= MAX_DEPTH or ref in self.context_stack:
            return UNKNOWN
        decl = self.project.decl(ref.path)
        function, cls = decl.function_node(ref.qualname) if decl is not None else (None, None)
        if function is None or cls is not None or function.args.vararg is not None:
            return UNKNOWN
        names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
        passed = [*zip(names, args), *((name, value) for name, value in kwargs.items() if name in names)]
        bound = {name: value for name, value in ((name, self.as_query(value)) for name, value in passed)
                 if gives_a_query(value)}
        if not bound:
            return UNKNOWN
        self.project.read_function(ref)  # (as rows_through_call)
        self.context_reads += 1
        memo = self.plugin_data.setdefault("contexts.models", {})
        key = (ref, tuple(sorted((name, context_key(value)) for name, value in bound.items())))
        if key not in memo:
            memo[key] = UNKNOWN  # (a recursion through another path sees nothing)
            walker = self.context_walker(decl, None, ref, bound)
            try:
                walker.exec_FunctionDef(function)
            except RecursionError:
                return UNKNOWN
            facts = walker.facts.functions.get(ref.qualname)
            returned = UNKNOWN
            if facts is not None and facts.done:
                returned = summarize_returns(facts)
                if returned.kind is Kind.UNKNOWN and not facts.generator:
                    returned = one_query(facts.returns) or UNKNOWN
            memo[key] = returned if returned.kind in (Kind.QUERY, Kind.ROWS, Kind.ROW) or returned.keyed else UNKNOWN
        return memo[key]

    def context_walker(self, decl, cls, ref: FunctionRef, bound: dict[str, Value]):
        """An interpreter for one function of `decl` with its parameters `bound`, one call deeper."""
        walker = type(self)(decl, self.project)
        walker.defers = False
        walker._ids = self._ids  # loop ids stay unique across the walks
        walker.context_depth = self.context_depth + 1
        walker.context_stack = (*self.context_stack, ref)
        walker.bound_arguments = bound
        if cls is not None:
            walker.push_frame("class", None, cls.name, (decl.path, cls))
        return walker

    def walk_in_context(self, decl, function: ast.FunctionDef | ast.AsyncFunctionDef, cls, ref: FunctionRef,
                        bound: dict[str, Value]) -> tuple[ReadThrough, ...]:
        """Walk `function` with its parameters bound to tagged copies of `bound`, and keep the
        relationship reads it makes on them."""
        tags: dict[int, str] = {}
        tagged: dict[str, Value] = {}
        for name, value in bound.items():
            tag = next(self._ids)
            tags[tag] = name
            # A row: its loop is the tag. Rows or a query: the tag is a dependency of theirs, so a
            # loop over them has it among its iter_deps.
            # (A row's values depend on the tag too: tests of them are tests of its own state.)
            tagged[name] = value.but(loop=tag, deps=value.deps | {tag}) if value.kind is Kind.ROW \
                else value.but(deps=value.deps | {tag})
        walker = self.context_walker(decl, cls, ref, tagged)
        walker.row_state_deps = frozenset().union(*(v.deps for v in tagged.values() if v.kind is Kind.ROW))
        try:
            walker.exec_FunctionDef(function)
        except RecursionError:
            return ()
        found = []
        for read in walker.facts.relationship_reads:
            if read.conditional and not read.row_state:
                continue  # whether it runs depends on what the callee tests: not known here
            if read.row_loop in tags:
                found.append(ReadThrough(tags[read.row_loop], read, decl.path, None))
                continue
            loop = walker.facts.loops.get(read.row_loop) if read.row_loop is not None else None
            if loop is not None and loop.repeats and loop in read.loops:
                parameter = next((tags[t] for t in loop.iter_deps if t in tags), None)
                if parameter is not None:
                    found.append(ReadThrough(parameter, read, decl.path, replace(loop, path=decl.path)))
        return tuple(found)

    def lift(self, node: ast.Call | ast.Attribute, callee: Value, passed: Value, through: ReadThrough) -> None:
        read = through.read
        label = f"{self.short(node, 40)} → {read.label}"
        source = passed.source if passed.source is not None and read.source is passed.source else None
        loops = self.effective_loops()
        if through.loop is not None:
            loops = (*loops, through.loop)
        self.facts.relationship_reads.append(replace(
            read, span=Span.of(node), label=label, row_loop=passed.loop if through.loop is None else through.loop.id,
            loops=loops, source=source, callee_loop=through.loop, conditional=self.conditional(),
            row_state=self.only_row_state(), exceptional=read.exceptional or self._handling > 0,
            through=((through.path, read.span, f"the read in `{callee.ref.qualname}`"), *read.through)))


def gives_a_query(value: Value) -> bool:
    """A model class or an SQLAlchemy query (not a Django queryset: `returns` follows those)."""
    if value.kind is Kind.MODEL_CLASS:
        return value.model is not None
    return value.kind is Kind.QUERY and value.model is not None and value.query is not None and \
        not value.query.django and not value.statement


def context_key(value: Value) -> tuple:
    query = value.query
    return (value.kind, id(value.model), value.eager, value.size, value.fixed,
            (query.eager, query.limited, tuple(column for column, _ in query.equalities)) if query is not None else None)


def passes_rows(value: Value | None) -> bool:
    """Rows of a known query: a row of a loop over them, the rows, or the (unbounded) query."""
    if value is None or value.model is None:
        return False
    if value.kind is Kind.ROW:
        return value.eager is not None and value.loop is not None
    if value.kind is Kind.ROWS:
        return value.eager is not None and value.size is not Size.BOUNDED
    if value.kind is Kind.QUERY:
        return value.query is not None and not value.statement and not value.tuples and not value.query.limited
    return False


def bind_rows(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool, receiver: Value | None,
              args: list[Value], kwargs: dict) -> dict[str, Value]:
    """The callee's parameters that this call gives rows (by name)."""
    decorators = {last_name(d) for d in function.decorator_list}
    positional = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    bound: dict[str, Value] = {}
    if method and "staticmethod" not in decorators:
        if not positional:
            return {}
        if "classmethod" not in decorators and passes_rows(receiver):
            bound[positional[0]] = receiver
        positional = positional[1:]
    for name, value in zip(positional, args):
        if passes_rows(value):
            bound[name] = value
    keyword_only = {a.arg for a in function.args.kwonlyargs}
    for name, value in kwargs.items():
        if name is not None and (name in positional or name in keyword_only) and passes_rows(value):
            bound[name] = value
    return bound
