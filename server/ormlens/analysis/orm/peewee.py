"""Peewee: `Model.select()` queries (lazy until iterated, listed, counted or `.get()`), the
model's own shortcuts that run one (`get`, `get_by_id`, `create`...), write statements run by
`.execute()`, and what loads a relation with the rows: selecting the related model and joining it
(`Tweet.select(Tweet, User).join(User)`), or `prefetch()`. A foreign key's accessor (`tweet.user`)
and a backref (`user.tweets`) read on a row that did not load them run a query each.

The third ORM, added as api.OrmPlugin describes: this module, peewee_models.py, the rules' cases
(`*.peewee.cases.py`) and one line in orm/__init__.py."""

from __future__ import annotations

import ast
from dataclasses import replace

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import UNKNOWN, Kind, QueryInfo, Size, Value, merge_deps, unknown
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm import peewee_models
from ormlens.analysis.orm.api import Index, Interpreter, LazyLoadAdvice
from ormlens.analysis.orm.peewee_models import STYLE
from ormlens.findings import Span
from ormlens.fixes.plans import PeeweeLoadPlan

# Model class methods that run a query now, and what they give.
MODEL_TERMINALS = {"get": "row", "get_or_none": "row", "get_by_id": "row", "get_or_create": "pair"}
# Model class methods that write a row now, and the statement they run.
MODEL_WRITES = {"create": "insert", "delete_by_id": "delete", "set_by_id": "update"}
# Model class methods that build a write statement (run by `.execute()`).
WRITE_STATEMENTS = {"insert": "insert", "insert_many": "insert", "insert_from": "insert", "replace": "insert",
                    "replace_many": "insert", "update": "update", "delete": "delete"}
# Query methods that give another query, unexecuted.
BUILDERS = frozenset({
    "where", "filter", "orwhere", "order_by", "order_by_extend", "limit", "offset", "paginate", "group_by",
    "having", "distinct", "join", "join_from", "left_outer_join", "switch", "objects", "dicts", "tuples",
    "namedtuples", "naive", "for_update", "select", "select_extend", "from_", "alias", "with_cte", "prefetch",
    "returning", "on_conflict", "on_conflict_ignore", "on_conflict_replace", "lateral", "window",
})
# Query methods that run it, and what they give.
TERMINALS = {"get": "row", "get_or_none": "row", "first": "row", "peek": "row", "scalar": "scalar",
             "count": "scalar", "exists": "scalar", "execute": "rows", "iterator": "rows"}
TUPLE_RESULTS = frozenset({"dicts", "tuples", "namedtuples", "objects"})
# The kinds of values whose methods it answers, what it evaluates, the packages whose functions it knows.
METHOD_KINDS = frozenset({Kind.MODEL_CLASS, Kind.QUERY})
EVALUATE_KINDS = SUBSCRIPT_KINDS = frozenset({Kind.QUERY})
PACKAGES = frozenset({"peewee"})
EVALUATION_RESULTS = {"__iter__": "rows", "list": "rows", "iter": "rows", "len": "scalar", "bool": "scalar"}


def _ours(value: Value) -> bool:
    return value.query is not None and value.query.orm == STYLE


def _model(value: Value) -> ModelInfo | None:
    return value.model if value.model is not None and value.model.style == STYLE else None


# --- the hooks (api.OrmPlugin) ---------------------------------------------------------------------


def method_call(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value],
                kwargs: dict[str | None, Value]) -> Value | None:
    if base.kind is Kind.MODEL_CLASS and _model(base) is not None:
        return _model_method(b, node, base.model, method, [*args, *kwargs.values()])
    if base.kind is Kind.QUERY and _ours(base):
        return _query_method(b, node, base, method, args)
    return None


def function_call(b: Interpreter, node: ast.Call, name: str, args: list[Value]) -> Value | None:
    if name == "peewee.prefetch" and args and args[0].kind is Kind.QUERY and _ours(args[0]):
        # prefetch(query, *subqueries): one query each, now; the rows hold the related rows.
        query = _prefetched(args[0], args[1:])
        return _run(b, node, query.but(deps=query.deps | merge_deps(args)), "__iter__", "rows")
    return None


def evaluate(b: Interpreter, node: ast.AST, value: Value, how: str, expression: ast.AST,
             header: Span | None = None) -> Value | None:
    if value.kind is not Kind.QUERY or not _ours(value) or value.statement:
        return None
    gives = EVALUATION_RESULTS.get(how)
    return _run(b, node, value, how, gives) if gives is not None else None


def subscript(b: Interpreter, node: ast.Subscript, base: Value, deps: frozenset[int]) -> Value | None:
    if base.kind is not Kind.QUERY or not _ours(base) or base.statement or not isinstance(node.ctx, ast.Load):
        return None
    if isinstance(node.slice, ast.Slice):  # query[:10]: a LIMIT, still lazy
        bounded = b.constant_width(node.slice)
        return base.but(deps=deps, size=Size.BOUNDED if bounded else base.size,
                        query=replace(base.query, limited=base.query.limited or bounded))
    return _run(b, node, base.but(deps=deps), "index", "row")  # query[0]: runs it for one row


def declared_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    return peewee_models.build_model(index, decl, cls)


# --- queries ----------------------------------------------------------------------------------------


def _model_method(b: Interpreter, node: ast.Call, model: ModelInfo, method: str, args: list[Value]) -> Value | None:
    if method == "select":
        return Value(kind=Kind.QUERY, model=model, deps=merge_deps(args), query=QueryInfo(
            model, start=node, orm=STYLE, plugin_state=(_selected(model, args), (), model)))
    if method in MODEL_TERMINALS:
        query = Value(kind=Kind.QUERY, model=model, deps=merge_deps(args),
                      query=QueryInfo(model, start=node, orm=STYLE, plugin_state=(frozenset(), (), model)))
        return _run(b, node, query, method, MODEL_TERMINALS[method])
    if method in MODEL_WRITES:
        b.record_query(node, Value(kind=Kind.QUERY, model=model, deps=merge_deps(args), write=MODEL_WRITES[method]),
                       method)
        return Value(kind=Kind.ROW, model=model) if method == "create" else unknown(merge_deps(args))
    if method in WRITE_STATEMENTS:
        return Value(kind=Kind.QUERY, model=model, statement=True, write=WRITE_STATEMENTS[method],
                     deps=merge_deps(args), query=QueryInfo(model, start=node, orm=STYLE))
    return None  # the project's own classmethods, fields...: the interpreter's


def _query_method(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value]) -> Value | None:
    info = base.query
    if base.statement:  # a write statement: `.execute()` runs it
        if method == "execute":
            b.record_query(node, base, "execute")
            return unknown(base.deps)
        return base if method in BUILDERS else None
    if method in TERMINALS:
        return _run(b, node, base, method, TERMINALS[method])
    if method not in BUILDERS:
        return None
    if method == "join" and node.args:
        info = _joined(info, b.values.get(id(node.args[0]), UNKNOWN))
    elif method == "switch":
        target = b.values.get(id(node.args[0]), UNKNOWN) if node.args else UNKNOWN
        info = _switched(info, target)
    elif method in ("select", "select_extend"):
        selected, path, context = info.plugin_state
        chosen = _selected(info.model, args)
        info = replace(info, plugin_state=(chosen if method == "select" else selected | chosen, path, context))
    elif method == "prefetch":
        return _prefetched(base, args)
    elif method in ("limit", "paginate") and args and args[0].size is Size.BOUNDED:
        info = replace(info, limited=True)
        base = base.but(capped=True)  # ids read from its rows are as many as the author chose: a batch
    elif method == "order_by":
        info = replace(info, ordered=True)
    return base.but(query=info, tuples=base.tuples or method in TUPLE_RESULTS)


def _run(b: Interpreter, node: ast.AST, query: Value, terminal: str, gives: str) -> Value:
    """The query runs at `node`: record it, and give its rows, a row or a scalar."""
    b.record_query(node, query, terminal)
    info = query.query
    model = query.model
    if model is None or query.tuples or gives == "scalar":
        return Value(kind=Kind.COLLECTION if gives == "rows" else Kind.SCALAR, deps=query.deps,
                     size=Size.BOUNDED if gives != "rows" or info.limited else Size.UNBOUNDED)
    common = dict(model=model, eager=info.eager, deps=query.deps, source=Span.of(node))
    if gives == "rows":
        return Value(kind=Kind.ROWS, size=Size.BOUNDED if info.limited else Size.UNBOUNDED, capped=query.capped,
                     **common)
    if gives == "pair":  # get_or_create: (row, created)
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=query.deps,
                     items=(Value(kind=Kind.ROW, **common), Value(kind=Kind.SCALAR)))
    return Value(kind=Kind.ROW, **common)


def _selected(model: ModelInfo | None, args: list[Value]) -> frozenset[str]:
    """The other models whose fields a `select(...)` names: rows of a join to them are loaded."""
    return frozenset(arg.model.name for arg in args if arg.model is not None and arg.model is not model
                     and arg.kind in (Kind.MODEL_CLASS, Kind.COLUMN))


def _joined(info: QueryInfo, target: Value) -> QueryInfo:
    """`.join(M)` from the join context: through a foreign key to M the rows get M's row loaded
    when the query selects M; through a backref (M's rows per row) nothing is loaded."""
    selected, path, context = info.plugin_state
    model = target.model if target.kind is Kind.MODEL_CLASS else None
    forward = next((rel for rel in context.relationships.values() if model is not None and rel.target == model.name),
                   None) if context is not None else None
    if forward is None:
        return replace(info, plugin_state=(selected, path + ("?",), model))
    step = path + (forward.name,)
    eager = info.eager | {step} if model.name in selected and "?" not in path else info.eager
    return replace(info, eager=frozenset(eager), plugin_state=(selected, step, model))


def _switched(info: QueryInfo, target: Value) -> QueryInfo:
    """`.switch(M)` / `.switch()`: joins continue from M (the query's model when none is named)."""
    selected, _, _ = info.plugin_state
    if target is UNKNOWN or (target.kind is Kind.MODEL_CLASS and target.model is info.model):
        return replace(info, plugin_state=(selected, (), info.model))
    return replace(info, plugin_state=(selected, ("?",), target.model))


def _prefetched(query: Value, subqueries: list[Value]) -> Value:
    """`prefetch(query, Tweet.select(), ...)` / `query.prefetch(Tweet)`: each subquery's rows are
    loaded into the relation that links them to a model loaded before them (a foreign key
    either way)."""
    info = query.query
    loaded: list[tuple[tuple[str, ...], ModelInfo]] = [((), query.model)] if query.model is not None else []
    eager = set(info.eager)
    for sub in subqueries:
        model = sub.model
        found = None
        for path, known in loaded:
            if model is None:
                break
            rel = next((r for r in known.relationships.values() if r.target == model.name), None) or \
                next((r for target, r in model.extra_backrefs if target == known.name), None)
            if rel is not None:
                found = (path + (rel.name,), model)
                break
        if found is None:
            eager.add(("*",))  # a subquery we cannot place may load anything
            continue
        eager.add(found[0])
        loaded.append(found)
    return query.but(query=replace(info, eager=frozenset(eager)))


# --- what the rules advise (api.OrmPlugin) ----------------------------------------------------


def write_advice(query) -> str:
    """ORM001: one statement for all items instead of one write per item."""
    model = query.model.name if query.model else "M"
    key = f"{model}.{query.model.primary_key}" if query.model else "M.id"
    if query.write == "insert":
        return f"insert the rows of all items with one `{model}.insert_many(rows).execute()`"
    if query.write == "update":
        return f"update them all with one `{model}.update(...).where({key}.in_(...)).execute()` (in chunks)"
    return f"delete them all with one `{model}.delete().where({key}.in_(...)).execute()` (in chunks)"


def batch_advice(query, loop) -> str | None:
    return None  # the generic advice: load them all before the loop, look them up by key


def lazy_load_advice(read, loop) -> LazyLoadAdvice | None:
    """ORM002: a foreign key's row is loaded by selecting its model and joining it; a backref's
    rows by `prefetch()`."""
    rel = read.relationship
    model = read.model.name
    # The quick fix edits the query the loop iterates, when the rows come from it directly.
    fixable = read.source is not None and not read.rel_path and loop is not None and read.source == loop.iterable

    def plan(loader: str) -> PeeweeLoadPlan | None:
        return PeeweeLoadPlan(read.source, model, rel.name, rel.target, loader) if fixable else None

    if read.uselist is False and read.rel_path:  # `t.user.team`: one more join on the query that loads `t`
        return LazyLoadAdvice("join", f"`{rel.target}` selected too, and `.join({rel.target})` after the join "
                                      f"to `{model}`", None)
    if read.uselist is False:
        return LazyLoadAdvice("join", f"`{model}.select({model}, {rel.target}).join({rel.target})`", plan("join"))
    return LazyLoadAdvice("prefetch", f"`.prefetch({rel.target})` (or `prefetch(query, {rel.target}.select())`)",
                          plan("prefetch"))
