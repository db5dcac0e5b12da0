"""ORM001: run the queries a `for` loop makes per item once per chunk of distinct items, before it.

    for uid in user_ids:
        sessions = Session.query.filter_by(user_id=uid).all()
->
    sessions_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Session.query.filter(Session.user_id.in_(chunk)).all():
            sessions_by_user_id[row.user_id].append(row)
    for uid in user_ids:
        sessions = sessions_by_user_id.get(uid, [])

Every query of the finding's plan (BatchQueryPlan.queries) is keyed by equality on the loop's item
(`filter_by(col=item)`, `filter(M.col == item)`, `.get(item)`); they share one chunk loop. Rows are
grouped by the key column: in lists for `all()`, iteration and `count()` (the lookup is
`index.get(item, [])`, `len(...)` for a count), one row per key for `first()`, `one_or_none()`,
`get()` (the first in query order: `index.setdefault(row.col, row)`). The rest of each query
stays as written, `order_by` included. Handled: `M.query...`, `session.query(M)...`,
`session.get(M, item)`, `session.scalars(select(M)...)` / `session.scalar(select(M)...)` and SQLModel's
`session.exec(select(M)...)`.

Unsafe (offered with `--unsafe` only): `all()`/iteration without `order_by` (rows of a group may
come in another order), `first()` without `order_by` (another row may be picked), `one_or_none()`
(an item with several rows no longer raises: the plan does not say the column is unique).

The rewrite is offered only where it keeps the loop's behaviour; otherwise `UnfixableError`:
terminals that raise or page per item (`one()`, `*_or_404`, `paginate`, `scalar()`), per-item
`limit`/`offset`/`group_by`..., a query reading a name the loop body rebinds, a loop body that
writes through a session, yields or awaits, an iterable the body mutates, a target rebound in
the body. The iterable is read once into a list unless it is a name known to hold a collection
(a parameter annotated `list[...]`, `Sequence[...]`..., or a name assigned one display or
`list(...)`/`sorted(...)` call): a generator must not be read twice."""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

import libcst as cst

from ormlens.config import Settings
from ormlens.findings import Span
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, check_loop_batch, dotted, inside
from ormlens.fixes.plans import BatchQuery, BatchQueryPlan, DjangoBatchPlan

ROWS, ROW, COUNT = "rows", "row", "count"
# What each terminal returns per item, as a lookup in the grouped rows.
TERMINALS = {"all": ROWS, "__iter__": ROWS, "first": ROW, "one_or_none": ROW, "get": ROW, "count": COUNT}
REFUSED = {
    "one": "`one()` raises for an item without exactly one row",
    "scalar": "`scalar()` returns the first column of one row per item",
    "get_or_404": "`get_or_404()` aborts on an item without a row",
    "first_or_404": "`first_or_404()` aborts on an item without a row",
    "one_or_404": "`one_or_404()` aborts on an item without a row",
    "paginate": "`paginate()` pages per item",
}
# Query-building methods a batched query may keep as written (a per-item limit, offset,
# distinct, grouping or lock does not carry over to one query for many items).
KEPT_METHODS = frozenset({"filter", "filter_by", "where", "order_by", "options", "join", "outerjoin",
                          "execution_options", "populate_existing", "enable_eagerloads", "autoflush",
                          "params"})
JOINS = frozenset({"join", "outerjoin"})
# Methods that change the collection they are called on.
MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "pop", "popitem", "remove", "discard",
                      "clear", "setdefault", "sort", "reverse", "appendleft", "extendleft", "popleft",
                      "rotate", "put", "put_nowait", "send", "__setitem__", "__delitem__"})
# Session methods that write or change what later queries see.
SESSION_WRITES = frozenset({"add", "add_all", "delete", "merge", "flush", "commit", "rollback", "execute",
                            "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings", "expire",
                            "expire_all", "refresh", "expunge", "expunge_all", "begin", "begin_nested",
                            "close", "invalidate", "connection"})
# Annotations of a parameter that hold a collection (read twice, same items).
COLLECTION_TYPES = frozenset({"list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet",
                              "dict", "Dict", "Sequence", "MutableSequence", "AbstractSet", "MutableSet",
                              "Mapping", "MutableMapping", "Collection", "deque", "Deque", "OrderedDict",
                              "defaultdict", "Counter", "KeysView", "ValuesView"})
# Calls that build a new collection.
COLLECTION_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "dict"})
UNORDERED_ROWS = "row order within a group may differ: the query has no order_by"
UNORDERED_FIRST = "the row picked for an item may differ: the query has no order_by"
ONE_OR_NONE = "an item with several rows gets its first row instead of raising MultipleResultsFound"
_EMPTY = cst.Module([])


@dataclass
class _Batch:
    """One batched query: run per chunk, its rows grouped into `index`."""

    text: str      # the query over the chunk, ending in `.all()`
    grouping: str  # "list" (defaultdict(list) of rows) | "first" (dict: first row per key)
    column: str
    wanted: str    # the index's name before free_name
    # For a query written over several lines: the column its first line started at, and whether
    # its other lines may be shifted (not when a string literal spans lines).
    start_col: int | None = None
    shift: bool = False
    index: str = ""


@dataclass
class _Lookup:
    start: int
    end: int
    kind: str      # ROWS | ROW | COUNT
    batch: _Batch


def build(source: SourceText, plan: BatchQueryPlan, settings: Settings) -> Fix:
    target, queries = _check_plan(plan), plan.queries
    size = settings.chunk_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UnfixableError(f"chunk size {size!r}")
    loop, loop_line, parents, body = _batchable_loop(source, plan, target)
    if body.writes:
        raise UnfixableError(f"the loop writes through the session ({body.writes[0]}): rows read before it would "
                             "miss its changes")
    if body.suspends:
        raise UnfixableError(f"the loop body {body.suspends}: other code may change the rows between items")

    names = _Names(source)
    chunk = names.fresh("chunk")
    batches: dict[tuple[str, str, str], _Batch] = {}
    lookups: list[_Lookup] = []
    unsafe: list[str] = []
    for query in queries:
        lookup, reason = _query(source, query, loop, parents, body, target, chunk)
        key = (lookup.batch.text, lookup.batch.grouping, lookup.batch.column)
        lookup.batch = batches.setdefault(key, lookup.batch)
        lookups.append(lookup)
        if reason and reason not in unsafe:
            unsafe.append(reason)
    lookups.sort(key=lambda item: item.start)
    for before, after in zip(lookups, lookups[1:]):
        if after.start < before.end:
            raise UnfixableError("queries nested in one another")

    for batch in batches.values():
        batch.index = names.fresh(batch.wanted)
    column = lookups[0].batch.column if lookups else queries[0].column
    keys, materialised = _loop_keys(source, plan, loop, parents, body)
    keys_name = names.fresh(f"{column}_list") if materialised is not None else ""
    distinct = names.fresh(f"distinct_{_plural(column)}")
    start = names.fresh("start")
    row = names.fresh("row")

    indent = source.line_indent(loop_line)
    step = loop.body.indent if isinstance(loop.body, cst.IndentedBlock) and loop.body.indent is not None \
        else source.module.default_indent
    newline = source.module.default_newline
    lines = [f"{indent}{batch.index} = {'defaultdict(list)' if batch.grouping == 'list' else '{}'}"
             for batch in batches.values()]
    if materialised is not None:
        lines.append(f"{indent}{keys_name} = {materialised}")
        keys = keys_name
    lines += [f"{indent}{distinct} = list(dict.fromkeys({keys}))",
              f"{indent}for {start} in range(0, len({distinct}), {size}):",
              f"{indent}{step}{chunk} = {distinct}[{start}:{start} + {size}]"]
    for batch in batches.values():
        head = f"{indent}{step}for {row} in "
        lines.append(head + _placed(batch, len(head)) + ":")
        group = (f"{batch.index}[{row}.{batch.column}].append({row})" if batch.grouping == "list"
                 else f"{batch.index}.setdefault({row}.{batch.column}, {row})")
        lines.append(f"{indent}{step}{step}{group}")
    offset = source.offset(loop_line, 0)
    prelude = newline.join(lines) + newline

    edits = _prelude_edits(source, offset, prelude, any(batch.grouping == "list" for batch in batches.values()),
                           plan.iterable if materialised is not None else None, keys_name)
    for lookup in lookups:
        index = lookup.batch.index
        text = {ROWS: f"{index}.get({target}, [])", ROW: f"{index}.get({target})",
                COUNT: f"len({index}.get({target}, []))"}[lookup.kind]
        edits.append(Edit(lookup.start, lookup.end, text))

    count = len(queries)
    what = f"the {count} queries" if count > 1 else "the query"
    return Fix(f"Batch {what} in this loop (chunks of {size:,} ids)", edits, safe=not unsafe,
               why_unsafe="; ".join(unsafe), kind="batch_query")


def _batchable_loop(source: SourceText, plan: BatchQueryPlan | DjangoBatchPlan,
                    target: str) -> tuple[cst.For, int, dict, _Facts]:
    """The `for` loop of the plan, when a batch can go before it (both ORMs' batch fixes): a
    plain `for` over one name that starts its line, outside a class body, whose target the body
    does not rebind. (loop, its line, the module's parent map, what its body does)."""
    loop = source.node_at(plan.loop, cst.For)
    if loop.asynchronous is not None:
        raise UnfixableError("an `async for` loop")
    if not isinstance(loop.target, cst.Name) or loop.target.value != target:
        raise UnfixableError("the loop target is not the one name of the plan")
    loop_line = plan.loop.line
    if source.lines[loop_line - 1][:source.char_col(loop_line, plan.loop.col)].strip():
        raise UnfixableError("the loop does not start its line")
    parents = source.parents
    if isinstance(_scope(loop, parents), cst.ClassDef):
        # names bound in a class body are class attributes, unseen by comprehensions in it
        raise UnfixableError("a loop in a class body")
    body = _Facts.of(loop.body)
    if target in body.bound:
        raise UnfixableError(f"`{target}` is reassigned in the loop")
    return loop, loop_line, parents, body


def _loop_keys(source: SourceText, plan: BatchQueryPlan | DjangoBatchPlan, loop: cst.For, parents: dict,
               body: _Facts) -> tuple[str, str | None]:
    """The keys the batch reads (the loop's iterable, as `_keys` decides), read from the source."""
    iterable_text = source.segment(plan.iterable)
    try:  # (not node_at: `ast` counts a generator expression's parentheses, libcst does not)
        iterable = _bare(cst.parse_expression(f"({iterable_text})"))
    except cst.ParserSyntaxError as exc:
        raise UnfixableError(f"cannot read the iterable: {exc}") from None
    return _keys(source, loop, parents, iterable, iterable_text, plan.reiterable, body)


def _prelude_edits(source: SourceText, offset: int, prelude: str, grouped: bool, iterable: Span | None,
                   keys_name: str) -> list[Edit]:
    """The edits that put the batch before the loop: `defaultdict`'s import when rows are grouped
    in lists (joined to the prelude when the loop follows the imports), the prelude, and the loop's
    iterable replaced by the list it was read into (`iterable`, when it was a one-pass iterator)."""
    newline = source.module.default_newline
    edits: list[Edit] = []
    if grouped:
        imported = source.ensure_import("collections", "defaultdict")
        if imported is not None:
            imported = Edit(imported.start, imported.end, re.sub(r"\r?\n", newline, imported.text))
            if "defaultdict" in _Names.used(source.module):
                raise UnfixableError("`defaultdict` names something else in this module")
            if imported.start == offset:  # the loop follows the imports: one insertion, imports first
                prelude = imported.text + prelude
            else:
                edits.append(imported)
    edits.append(Edit(offset, offset, prelude))
    if iterable is not None:
        edits.append(source.replace(iterable, keys_name))
    return edits


# --- the plan ----------------------------------------------------------------------------------


def _check_plan(plan: BatchQueryPlan) -> str:
    """The loop's target, when every query keys on a column that is a name."""
    return check_loop_batch(plan, lambda query: query.column.isidentifier())


# --- one query ---------------------------------------------------------------------------------


def _query(source: SourceText, query: BatchQuery, loop: cst.For, parents: dict, body: _Facts, target: str,
           chunk: str) -> tuple[_Lookup, str]:
    """The lookup replacing one query in the loop, its batch, and why it is unsafe ("" if safe)."""
    terminal, column, model = query.terminal, query.column, query.model
    if terminal in REFUSED:
        raise UnfixableError(REFUSED[terminal])
    if terminal not in TERMINALS:
        raise UnfixableError(f"terminal `{terminal}` not handled")
    node = source.node_at(query.span, cst.BaseExpression)
    if not inside(node, loop.body, parents):
        raise UnfixableError("the query is not in the loop body")
    if _Names.count(node, target) != 1:
        raise UnfixableError(f"the query uses `{target}` other than as its key")
    replaced: cst.CSTNode = node
    calls: list[cst.Call] = []
    kind = TERMINALS[terminal]
    method = terminal
    func = node.func if isinstance(node, cst.Call) else None
    block = _block_indent(source, node, parents)
    all_of = lambda query: cst.Call(cst.Attribute(_bare(query), cst.Name("all")))  # noqa: E731
    if terminal == "__iter__":
        if not _iterated(node, parents):
            raise UnfixableError("a query object used other than in a `for`")
        new, calls = _keyed(node, "query", column, target, chunk)
        text = _render(source, all_of(new), block)
    elif isinstance(func, cst.Attribute) and func.attr.value in ("scalars", "scalar", "exec") and \
            terminal in ("all", "first"):
        # 2.0 style: session.scalars(select(M).where(M.col == item)).all() / session.scalar(...);
        # SQLModel's session.exec(select(M)...) gives the same ScalarResult as scalars().
        statement = _only_positional(node, func.attr.value)
        if func.attr.value in ("scalars", "exec"):
            replaced, method = _result_use(node, parents)
            kind = TERMINALS[method]
        else:
            method = "scalar"
        new, calls = _keyed(statement, "select", column, target, chunk)
        runner = "exec" if func.attr.value == "exec" else "scalars"
        scalars = node.with_changes(func=func.with_changes(attr=cst.Name(runner)),
                                    args=[node.args[0].with_changes(value=new)])
        text = _render(source, all_of(scalars), block)
    elif terminal == "get":
        text = _get(node, column, target, chunk, lambda part: _render(source, _bare(part), block))
    else:
        if not isinstance(func, cst.Attribute) or func.attr.value != terminal or node.args:
            raise UnfixableError(f"not a `.{terminal}()` call")
        new, calls = _keyed(func.value, "query", column, target, chunk)
        top = node.with_changes(func=func.with_changes(value=new, attr=cst.Name("all")), lpar=(), rpar=())
        text = _render(source, top, block)
        if method == "count" and any(c.func.attr.value in JOINS or c.func.attr.value == "options" for c in calls):
            # count() counts the SQL rows; the rows loaded (once per entity) differ with a join.
            raise UnfixableError("`count()` of a query with a join or loader options")

    used = _Names.used(node) - {target}
    moving = sorted(used & body.bound) or sorted(name for name in used if name in body.mutated)
    if moving:
        raise UnfixableError(f"the query reads `{moving[0]}`, which the loop changes")
    if any(attr in body.assigned_attrs for attr in _Names.attributes(node) | {column}):
        raise UnfixableError("the loop assigns an attribute the query filters on")

    ordered = query.ordered or any(c.func.attr.value == "order_by" for c in calls)
    reason = ""
    if kind == ROWS and not ordered:
        reason = UNORDERED_ROWS
    elif method in ("first", "scalar") and not ordered:
        reason = UNORDERED_FIRST
    elif method == "one_or_none":
        reason = ONE_OR_NONE
    snake = _snake(model)
    wanted = (f"{_plural(snake)}_by_{column}" if kind != ROW else
              f"first_{snake}_by_{column}" if method in ("first", "scalar") else f"{snake}_by_{column}")
    start, end = _offsets(source, replaced)
    batch = _Batch(text, "first" if kind == ROW else "list", column, wanted)
    if "\n" in text or "\r" in text:
        batch.start_col = source.position(node).start.column
        batch.shift = not _multiline_string(node)
    return _Lookup(start, end, kind, batch), reason


def _keyed(chain: cst.BaseExpression, origin: str, column: str, target: str,
           chunk: str) -> tuple[cst.BaseExpression, list[cst.Call]]:
    """The chain with its equality on the item turned into `<M.col>.in_(<chunk>)`, and its calls."""
    calls: list[cst.Call] = []
    node = chain
    model: cst.BaseExpression | None = None
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if origin == "query" and method == "query":
                model = _entity(node)
                break
            if origin == "select" and method == "select" and dotted(node.func.value):
                model = _entity(node)
                break
            if method not in KEPT_METHODS:
                raise UnfixableError(f"`.{method}()` in the query does not carry over to a batched query")
            calls.append(node)
            node = node.func.value
        elif origin == "select" and isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and \
                node.func.value == "select":
            model = _entity(node)
            break
        elif origin == "query" and isinstance(node, cst.Attribute) and node.attr.value == "query" and \
                dotted(node.value):
            model = node.value  # Flask-SQLAlchemy `Model.query`
            break
        else:
            raise UnfixableError("the query does not start with `M.query`, `session.query(M)` or `select(M)`")
    calls.reverse()

    found: list[tuple[cst.Call, cst.Call]] = []
    joined = False
    in_call = lambda column_node: cst.Call(  # noqa: E731
        cst.Attribute(column_node, cst.Name("in_")), [cst.Arg(cst.Name(chunk))])
    for call in calls:
        method = call.func.attr.value
        joined = joined or method in JOINS
        if method == "filter_by":
            for i, arg in enumerate(call.args):
                if arg.keyword is not None and arg.keyword.value == column and _is_name(arg.value, target):
                    if joined:
                        raise UnfixableError("`filter_by()` after a join filters the joined entity")
                    condition = in_call(cst.Attribute(_bare(model), cst.Name(column)))
                    rest = [a for j, a in enumerate(call.args) if j != i]
                    if not rest:
                        new = call.with_changes(func=call.func.with_changes(attr=cst.Name("filter")),
                                                args=[cst.Arg(condition)])
                    else:
                        if i == len(call.args) - 1:
                            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                        new = cst.Call(cst.Attribute(call.with_changes(args=rest), cst.Name("filter")),
                                       [cst.Arg(condition)])
                    found.append((call, new))
        elif method in ("filter", "where"):
            for i, arg in enumerate(call.args):
                value = arg.value
                if arg.keyword is not None or arg.star or not isinstance(value, cst.Comparison) or \
                        len(value.comparisons) != 1 or not isinstance(value.comparisons[0].operator, cst.Equal):
                    continue
                left, right = value.left, value.comparisons[0].comparator
                side = right if _is_name(left, target) else left if _is_name(right, target) else None
                if side is not None and isinstance(side, cst.Attribute) and side.attr.value == column and \
                        dotted(side.value):
                    args = list(call.args)
                    args[i] = arg.with_changes(value=in_call(side))
                    found.append((call, call.with_changes(args=args)))
    if len(found) != 1:
        raise UnfixableError(f"no single `{column} == {target}` in the query")
    old, new = found[0]
    return (new if chain is old else chain.deep_replace(old, new)), calls


def _get(node: cst.BaseExpression, column: str, target: str, chunk: str, code) -> str:
    """`M.query.get(item)`, `session.query(M).get(item)`, `session.get(M, item)` -> a query over the chunk."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or node.func.attr.value != "get" \
            or any(arg.keyword is not None or arg.star for arg in node.args):
        raise UnfixableError("not a `.get(...)` call with positional arguments")
    receiver, args = node.func.value, node.args
    if len(args) == 2 and dotted(args[0].value) and _is_name(args[1].value, target):
        model = code(args[0].value)
        query = f"{code(receiver)}.query({model})"
    elif len(args) == 1 and _is_name(args[0].value, target):
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "query" and dotted(receiver.value):
            model = code(receiver.value)
        elif isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) and \
                receiver.func.attr.value == "query":
            model = code(_entity(receiver))
        else:
            raise UnfixableError("`.get()` on something other than `M.query` or `session.query(M)`")
        query = code(receiver)
    else:
        raise UnfixableError("`.get()` not keyed by the item alone")
    return f"{query}.filter({model}.{column}.in_({chunk})).all()"


def _result_use(node: cst.Call, parents: dict) -> tuple[cst.CSTNode, str]:
    """What `session.scalars(...)` is used for: (the expression to replace, the terminal)."""
    parent = parents.get(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        call = parents.get(parent)
        if isinstance(call, cst.Call) and call.func is parent and not call.args and \
                parent.attr.value in ("all", "first", "one_or_none"):
            return call, parent.attr.value
        raise UnfixableError(f"`.scalars(...).{parent.attr.value}` not handled")
    if _iterated(node, parents):
        return node, "all"
    raise UnfixableError("the result of `scalars()` is not read with all(), first(), one_or_none() or a for")


def _entity(call: cst.Call) -> cst.BaseExpression:
    entity = _only_positional(call, "query")
    if not dotted(entity):
        raise UnfixableError("the query's entity is not a model name")
    return entity


def _only_positional(call: cst.Call, what: str) -> cst.BaseExpression:
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        raise UnfixableError(f"`{what}()` with other than one positional argument")
    return call.args[0].value


# --- the loop's iterable -----------------------------------------------------------------------


def _keys(source: SourceText, loop: cst.For, parents: dict, iterable: cst.BaseExpression, text: str,
          reiterable: bool, body: _Facts) -> tuple[str, str | None]:
    """(what to read the keys from, the expression to read the iterable once into a list or None
    when the loop's own iterable is read twice)."""
    if _code(_bare(iterable)) in body.mutated or (
            isinstance(iterable, cst.Name) and iterable.value in body.mutated):
        raise UnfixableError(f"the loop changes `{text}` while iterating it")
    if reiterable and isinstance(iterable, cst.Name) and _holds_collection(source, loop, parents, iterable.value):
        return text, None
    if _new_collection(iterable):
        return text, text
    if body.exits:
        raise UnfixableError(f"the loop may stop early and `{text}` may be an iterator: reading it all first "
                             "would consume items the loop leaves")
    if any(name in body.mutated or name in body.bound for name in _Names.used(iterable)):
        raise UnfixableError(f"the loop changes what `{text}` iterates")
    if isinstance(iterable, cst.GeneratorExp):
        return text, f"list({_code(_bare(iterable))})"
    return text, f"list({text})"


def _holds_collection(source: SourceText, loop: cst.For, parents: dict, name: str) -> bool:
    """Is `name` a parameter annotated as a collection, or bound once, before the loop, to a new
    collection, and never rebound in its scope? (`reiterable` in the plan also says True for a
    name holding a generator expression or `map(...)`.)"""
    scope = _scope(loop, parents)
    if not isinstance(scope, (cst.FunctionDef, cst.Module)):
        return False
    bindings = [value for bound, value in _Facts.of(scope.body if isinstance(scope, cst.FunctionDef)
                                                     else scope).bindings if bound == name]
    if isinstance(scope, cst.FunctionDef):
        params = scope.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for param in every:
            if param.name.value == name:
                return not bindings and param.annotation is not None and \
                    _collection_annotation(param.annotation.annotation)
        if any(isinstance(p, cst.Param) and p.name.value == name for p in (params.star_arg, params.star_kwarg)):
            return not bindings  # *args is a tuple, **kwargs a dict
    if len(bindings) != 1 or bindings[0] is None:
        return False
    value = bindings[0]
    return _new_collection(value) and source.position(value).start.line < source.position(loop).start.line


def _collection_annotation(annotation: cst.BaseExpression) -> bool:
    if isinstance(annotation, cst.SimpleString):
        try:
            annotation = cst.parse_expression(annotation.evaluated_value)
        except Exception:  # noqa: BLE001 - not an expression: not known
            return False
    if isinstance(annotation, cst.Subscript):
        annotation = annotation.value
    name = dotted(annotation)
    return bool(name) and name.rsplit(".", 1)[-1] in COLLECTION_TYPES


def _new_collection(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.List, cst.Set, cst.Dict, cst.Tuple, cst.ListComp, cst.SetComp, cst.DictComp)):
        return True
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in COLLECTION_CALLS


# --- the loop body -----------------------------------------------------------------------------


class _Facts(cst.CSTVisitor):
    """What a loop body does that a batch rewrite must respect."""

    def __init__(self) -> None:
        self.bound: set[str] = set()           # names it (re)binds, in nested scopes too
        # Each binding: (name, the value of a plain `name = value` or None for any other kind).
        self.bindings: list[tuple[str, cst.BaseExpression | None]] = []
        self.mutated: set[str] = set()         # code of what it changes in place
        self.assigned_attrs: set[str] = set()  # `x.attr = ...`
        self.writes: list[str] = []            # session calls that write or change what is read
        self.suspends = ""                     # "yields" / "awaits"
        self.exits = False                     # break / return / raise: may stop before the end
        self._loops = 0
        self._scopes = 0

    @classmethod
    def of(cls, node: cst.CSTNode) -> _Facts:
        facts = cls()
        node.visit(facts)
        return facts

    def _bind(self, target: cst.CSTNode, value: cst.BaseExpression | None = None) -> None:
        if isinstance(target, cst.Name):
            self.bound.add(target.value)
            self.bindings.append((target.value, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)
        elif isinstance(target, cst.Attribute):
            self.assigned_attrs.add(target.attr.value)
        elif isinstance(target, cst.Subscript):
            self.mutated.add(_code(_bare(target.value)))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value if len(node.targets) == 1 else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)
        self.mutated.add(_code(_bare(node.target)))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)
        self._loops += 1

    def leave_For(self, node: cst.For) -> None:
        self._loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self._loops += 1

    def leave_While(self, node: cst.While) -> None:
        self._loops -= 1

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name)
        self._scopes += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._scopes -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name)
        self._scopes += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes -= 1

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)
        else:
            self._bind(cst.Name(dotted(node.name).split(".", 1)[0]))

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._bind(item.name)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind(node.rest)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "next" and node.args:
            self.mutated.add(_code(_bare(node.args[0].value)))  # advances the iterator
        if not isinstance(func, cst.Attribute):
            return
        method, receiver = func.attr.value, _code(_bare(func.value))
        if method in MUTATORS:
            self.mutated.add(receiver)
        last = receiver.rsplit(".", 1)[-1].lower()
        if method in SESSION_WRITES and ("session" in last or "conn" in last or last in ("db", "engine")):
            self.writes.append(f"`{receiver}.{method}()`")
        elif method in ("delete", "update") and "query" in receiver:
            self.writes.append(f"`.{method}()` of a query")

    def visit_Yield(self, node: cst.Yield) -> None:
        if not self._scopes:
            self.suspends = self.suspends or "yields"

    def visit_Await(self, node: cst.Await) -> None:
        if not self._scopes:
            self.suspends = self.suspends or "awaits"

    def visit_Break(self, node: cst.Break) -> None:
        if not self._loops and not self._scopes:
            self.exits = True

    def visit_Return(self, node: cst.Return) -> None:
        if not self._scopes:
            self.exits = True

    def visit_Raise(self, node: cst.Raise) -> None:
        if not self._scopes:
            self.exits = True


# --- names -------------------------------------------------------------------------------------


class _Names:
    """New names: free in the module, distinct from each other, not keywords or builtins."""

    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.taken: set[str] = set()

    def fresh(self, wanted: str) -> str:
        wanted = re.sub(r"\W", "_", wanted) or "keys"
        if keyword.iskeyword(wanted) or hasattr(builtins, wanted) or not wanted.isidentifier():
            wanted = f"{wanted}_"
        name = self.source.free_name(wanted, self.taken)
        self.taken.add(name)
        return name

    @staticmethod
    def used(node: cst.CSTNode) -> set[str]:
        collector = _NameCollector()
        node.visit(collector)
        return set(collector.names) - {"True", "False", "None"}

    @staticmethod
    def count(node: cst.CSTNode, name: str) -> int:
        collector = _NameCollector()
        node.visit(collector)
        return collector.names.count(name)

    @staticmethod
    def attributes(node: cst.CSTNode) -> set[str]:
        collector = _NameCollector()
        node.visit(collector)
        return collector.attributes


class _NameCollector(cst.CSTVisitor):
    """Names read in an expression (not attribute names, not keyword argument names)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.attributes: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.attributes.add(node.attr.value)
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        if node.keyword is not None:
            self.attributes.add(node.keyword.value)  # filter_by(col=...) names a column
        node.value.visit(self)
        return False


def _snake(name: str) -> str:
    name = name.rsplit(".", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower() or "row"


def _plural(word: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", word):
        return f"{word}es"
    if re.search(r"[^aeiou]y$", word):
        return f"{word[:-1]}ies"
    return f"{word}s"


# --- trees and text ----------------------------------------------------------------------------


def _code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def _bare(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=(), rpar=()) if getattr(node, "lpar", ()) else node


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _scope(node: cst.CSTNode, parents: dict) -> cst.CSTNode | None:
    """The function, class or module whose body `node` is in."""
    scope = parents.get(node)
    while scope is not None and not isinstance(scope, (cst.FunctionDef, cst.Module, cst.ClassDef, cst.Lambda)):
        scope = parents.get(scope)
    return scope


def _iterated(node: cst.CSTNode, parents: dict) -> bool:
    """Is `node` the iterable of a `for` statement or of a comprehension?"""
    parent = parents.get(node)
    return isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node


def _offsets(source: SourceText, node: cst.CSTNode) -> tuple[int, int]:
    where = source.position(node)  # without the node's own parentheses
    return (source.offset(where.start.line, where.start.column),
            source.offset(where.end.line, where.end.column))


def _block_indent(source: SourceText, node: cst.CSTNode, parents: dict) -> str:
    """The indentation of the block holding the statement `node` is in."""
    statement = node
    while statement is not None and not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        statement = parents.get(statement)
    return source.line_indent(source.position(statement).start.line) if statement is not None else ""


def _render(source: SourceText, node: cst.CSTNode, block: str) -> str:
    """The code of `node` as if written in a block indented by `block`: a line continued inside
    brackets keeps the indentation it had (libcst adds the block's indentation when rendering)."""
    newline = source.module.default_newline
    if not block:
        return cst.Module([], default_newline=newline).code_for_node(node)
    holder = cst.Module([cst.If(cst.Name("x"), cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(node)])],
                                                                 indent=block))], default_newline=newline)
    code, prefix = holder.code, f"if x:{newline}{block}"
    if not code.startswith(prefix) or not code.endswith(newline):
        raise UnfixableError("cannot render the query")
    return code[len(prefix):-len(newline)]


def _multiline_string(node: cst.CSTNode) -> bool:
    found = []

    class Strings(cst.CSTVisitor):
        def visit_SimpleString(self, string: cst.SimpleString) -> None:
            found.extend(c for c in string.value if c in "\r\n")

        def visit_FormattedString(self, string: cst.FormattedString) -> None:
            found.extend(c for c in _code(string) if c in "\r\n")

    node.visit(Strings())
    return bool(found)


def _placed(batch: _Batch, column: int) -> str:
    """The batched query as written after `for row in ` at `column`: one line as is; several in
    parentheses, the lines after the first shifted by as much as the first line moved."""
    if batch.start_col is None:
        return batch.text
    lines = re.split(r"(\r\n|\r|\n)", batch.text)
    delta = column + 1 - batch.start_col
    if batch.shift and delta:
        for i in range(2, len(lines), 2):
            line = lines[i]
            if not line.strip():
                continue
            if delta > 0:
                lines[i] = " " * delta + line
            else:
                lead = len(line) - len(line.lstrip(" "))
                lines[i] = line[min(lead, -delta):]
    return "(" + "".join(lines) + ")"
