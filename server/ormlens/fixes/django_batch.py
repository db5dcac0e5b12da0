"""ORM001 (Django): run the querysets a `for` loop runs per item once per chunk of distinct keys,
before the loop.

    for a in authors:
        books = list(Book.objects.filter(author_id=a.id).order_by("title"))
        n = Book.objects.filter(author_id=a.id, price__gt=5).count()
->
    books_by_author_id = defaultdict(list)
    books_by_author_id_2 = defaultdict(list)
    distinct_author_ids = list(dict.fromkeys(a.id for a in authors))
    for start in range(0, len(distinct_author_ids), 1000):
        chunk = distinct_author_ids[start:start + 1000]
        for row in Book.objects.filter(author_id__in=chunk).order_by("title"):
            books_by_author_id[row.author_id].append(row)
        for row in Book.objects.filter(author_id__in=chunk, price__gt=5):
            books_by_author_id_2[row.author_id].append(row)
    for a in authors:
        books = list(books_by_author_id.get(a.id, []))
        n = len(books_by_author_id_2.get(a.id, []))

Each query of the finding's plan (DjangoBatchPlan.queries) filters by `<lookup>=<key>`, the key
being the loop item or an attribute of it. The batch filters by `<lookup>__in=chunk`, keeps the
other filters and methods as written, and groups the rows by the attribute that holds the key:
`author_id` for the lookups `author_id`, `author__id` (and `author` when the key is a model
instance, then looked up by its `.pk`), `pk` / `id` for those, or the query's `attribute` from the
plan. Per item:
`.get(key, [])` for rows (iteration, `list()`, `.all()`), `len(...)` for `count()`, `bool(...)` for
`exists()`, the first row in query order for `first()` / `get()`, the last for `last()`.
`get(pk=key)` alone becomes `in_bulk(chunk)`.

Unsafe (offered with `--unsafe` only): rows or `first()` / `last()` without an `order_by` (rows
of a group, or the row picked, may differ), `get()` (it raised DoesNotExist /
MultipleObjectsReturned where the lookup gives None / the first row), a queryset used other than
by iterating it (it becomes a list), a key read for items the loop skips before the query.
Refused: other query methods (slices, distinct, annotate, values...), an `exclude()` on the key,
a loop body that saves, creates, updates or deletes rows, yields or awaits, a key or query
reading names the loop changes (the loop's own checks are those of the SQLAlchemy batch fix)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, check_loop_batch, inside, walk
from ormlens.fixes.django_chain import FILTERS, chain, method, row_wise_chain
# The loop checks, names and placement are those of the SQLAlchemy batch fix.
from ormlens.fixes.orm001_batch import (
    _bare, _Batch, _batchable_loop, _block_indent, _code, _Facts, _iterated, _loop_keys, _multiline_string,
    _Names, _offsets, _placed, _plural, _prelude_edits, _render, _snake, UNORDERED_FIRST, UNORDERED_ROWS)
from ormlens.fixes.plans import DjangoBatchPlan, DjangoBatchQuery

TERMINALS = ("iterate", "first", "last", "get", "count", "exists")
GROUPINGS = {"iterate": "list", "count": "list", "exists": "list", "first": "first", "last": "last", "get": "first"}
# What a per-item lookup in the grouped rows reads like, per terminal.
LOOKUPS = {"iterate": "{index}.get({key}, [])", "count": "len({index}.get({key}, []))",
           "exists": "bool({index}.get({key}))", "first": "{index}.get({key})", "last": "{index}.get({key})",
           "get": "{index}.get({key})"}
# Calls a loop body makes that change rows (a batch read before the loop would miss them).
WRITES = frozenset({"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
                    "refresh_from_db"})
# What consumes a queryset the same way as a list.
CONSUMERS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "len", "enumerate", "dict"})
GET_RAISES = "`get()` raised DoesNotExist (or MultipleObjectsReturned) where the batch gives None (or the first row)"
A_LIST = "the queryset becomes a list: queryset methods called on it fail"


@dataclass
class _Query:
    start: int
    end: int
    terminal: str
    key: str        # the key as the lookup reads it (`a.id`, `a.pk`)
    batch: _Batch
    reasons: list[str] = field(default_factory=list)


def build(source: SourceText, plan: DjangoBatchPlan, settings: Settings) -> Fix:
    size = settings.chunk_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UnfixableError(f"chunk size {size!r}")
    target, queries = _check_plan(plan), plan.queries
    loop, loop_line, parents, body = _batchable_loop(source, plan, target)
    if body.suspends:
        raise UnfixableError(f"the loop body {body.suspends}: other code may change the rows between items")
    writes = _writes(loop.body)
    if writes:
        raise UnfixableError(f"the loop writes rows ({writes}): rows read before it would miss its changes")

    names = _Names(source)
    chunk, start, row = names.fresh("chunk"), names.fresh("start"), names.fresh("row")
    found = [_query(source, query, loop, parents, body, target, chunk) for query in queries]
    found.sort(key=lambda item: item.start)
    for before, after in zip(found, found[1:]):
        if after.start < before.end:
            raise UnfixableError("queries nested in one another")
    # One batch per distinct query; one chunk loop per key.
    batches: dict[tuple, _Batch] = {}
    by_key: dict[str, list[_Batch]] = {}
    for query in found:
        batch = query.batch
        query.batch = batches.setdefault((batch.text, batch.grouping, batch.column, query.key), batch)
        if query.batch is batch:
            by_key.setdefault(query.key, []).append(batch)
            batch.index = names.fresh(batch.wanted)

    keys, materialised = _loop_keys(source, plan, loop, parents, body)

    indent = source.line_indent(loop_line)
    step = loop.body.indent if isinstance(loop.body, cst.IndentedBlock) and loop.body.indent is not None \
        else source.module.default_indent
    newline = source.module.default_newline
    lines = [f"{indent}{batch.index} = {'defaultdict(list)' if batch.grouping == 'list' else '{}'}"
             for batch in batches.values()]
    keys_name = ""
    if materialised is not None:
        keys_name = names.fresh(f"{target}_list")
        lines.append(f"{indent}{keys_name} = {materialised}")
        keys = keys_name
    for key, group in by_key.items():
        first = group[0]
        stem = first.column if first.column not in ("pk", "id") else f"{_snake(first.wanted.split('_by_')[0])}_{first.column}"
        distinct = names.fresh(f"distinct_{_plural(stem)}")
        each = keys if key == target else f"{key} for {target} in {keys}"
        lines += [f"{indent}{distinct} = list(dict.fromkeys({each}))",
                  f"{indent}for {start} in range(0, len({distinct}), {size}):",
                  f"{indent}{step}{chunk} = {distinct}[{start}:{start} + {size}]"]
        for batch in group:
            if batch.grouping == "bulk":
                head = f"{indent}{step}{batch.index}.update("
                lines.append(head + _placed(batch, len(head)) + ")")
                continue
            head = f"{indent}{step}for {row} in "
            lines.append(head + _placed(batch, len(head)) + ":")
            attribute = f"{row}.{batch.column}"
            lines.append(f"{indent}{step}{step}" + {
                "list": f"{batch.index}[{attribute}].append({row})",
                "first": f"{batch.index}.setdefault({attribute}, {row})",
                "last": f"{batch.index}[{attribute}] = {row}"}[batch.grouping])
    offset = source.offset(loop_line, 0)
    prelude = newline.join(lines) + newline

    edits = _prelude_edits(source, offset, prelude, any(batch.grouping == "list" for batch in batches.values()),
                           plan.iterable if materialised is not None else None, keys_name)
    unsafe: list[str] = []
    for query in found:
        edits.append(Edit(query.start, query.end, LOOKUPS[query.terminal].format(index=query.batch.index,
                                                                                 key=query.key)))
        unsafe += [reason for reason in query.reasons if reason not in unsafe]

    count = len(queries)
    what = f"the {count} queries" if count > 1 else "the query"
    return Fix(f"Batch {what} in this loop (chunks of {size:,} keys)", edits, safe=not unsafe,
               why_unsafe="; ".join(unsafe), kind="django_batch")


# --- the plan ----------------------------------------------------------------------------------


def _check_plan(plan: DjangoBatchPlan) -> str:
    """The loop's target, when every query has a terminal handled here and a lookup that is a name."""
    return check_loop_batch(plan, lambda query: query.terminal in TERMINALS and query.lookup.isidentifier())


def _attribute(query: DjangoBatchQuery) -> str:
    """The attribute of the rows that holds the key the lookup compares."""
    lookup = query.lookup
    if query.attribute:
        attribute = query.attribute
    elif lookup in ("pk", "id") or lookup.endswith("_id") and "__" not in lookup:
        attribute = lookup
    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*__(id|pk)", lookup) and "__" not in lookup[:-4]:
        attribute = f"{lookup[:-4]}_id"  # author__id: the foreign key's own column
    elif "__" not in lookup and query.key_is_instance:
        attribute = f"{lookup}_id"  # author=a with a an instance
    else:
        raise UnfixableError(f"which attribute of the rows `{lookup}=` compares is not known")
    if not attribute.isidentifier():
        raise UnfixableError(f"attribute {attribute!r}")
    return attribute


# --- one query ---------------------------------------------------------------------------------


def _query(source: SourceText, query: DjangoBatchQuery, loop: cst.For, parents: dict, body: _Facts, target: str,
           chunk: str) -> _Query:
    terminal, lookup, key_text = query.terminal, query.lookup, query.key.strip()
    attribute = _attribute(query)
    node = source.node_at(query.span, cst.BaseExpression)
    if not inside(node, loop.body, parents):
        raise UnfixableError("the query is not in the loop body")
    reasons: list[str] = []
    if terminal == "iterate":
        queryset = node
        if not _consumed(node, parents):
            reasons.append(A_LIST)
    else:
        func = node.func if isinstance(node, cst.Call) else None
        if not isinstance(func, cst.Attribute) or func.attr.value != terminal or \
                (node.args and terminal != "get"):
            raise UnfixableError(f"not a `.{terminal}()` call")
        queryset = func.value
    calls = row_wise_chain(queryset, query.manager, source.code) if terminal != "get" or \
        chain(queryset)[1] else []
    if terminal == "get":
        if source.code(queryset).strip() != query.manager and not calls:
            raise UnfixableError(f"the queryset does not start with `{query.manager}`")
        holders = [*calls, node]
    else:
        holders = calls

    matches = [(call, arg) for call in holders for arg in call.args
               if arg.keyword is not None and arg.keyword.value == lookup and source.code(arg.value).strip() == key_text]
    if len(matches) != 1:
        raise UnfixableError(f"no single `{lookup}={key_text}` in the query")
    holder, arg = matches[0]
    if holder is not node and method(holder) not in ("filter",):
        raise UnfixableError(f"`{lookup}=` in `.{method(holder)}()`")
    if any(a.star for call in holders for a in call.args):
        raise UnfixableError("`*args` / `**kwargs` in the query")
    key_names = _Names.used(arg.value)
    if key_names != {target}:
        raise UnfixableError(f"the key `{key_text}` reads other than `{target}`")
    if _Names.count(node, target) != _Names.count(arg.value, target):
        raise UnfixableError(f"the query uses `{target}` other than in its key")
    used = _Names.used(node) - {target}
    moving = sorted(used & body.bound) or sorted(name for name in used if name in body.mutated)
    if moving:
        raise UnfixableError(f"the query reads `{moving[0]}`, which the loop changes")
    if any(name in body.assigned_attrs for name in _Names.attributes(node) | {attribute}):
        raise UnfixableError("the loop assigns an attribute the query reads")

    # The batched queryset: `<lookup>=<key>` -> `<lookup>__in=chunk`; `.get(...)` -> `.filter(...)`.
    in_chunk = arg.with_changes(keyword=cst.Name(f"{lookup}__in"), value=cst.Name(chunk))
    new_holder = holder.with_changes(args=[in_chunk if a is arg else a for a in holder.args])
    grouping = GROUPINGS[terminal]
    if terminal == "get":
        reasons.append(GET_RAISES)
        others = [a for call in holders for a in call.args if a is not arg and method(call) in FILTERS | {"get"}]
        only_key = holder is node and not others and not node.args[1:] and lookup in ("pk", "id")
        if only_key:
            grouping = "bulk"  # {pk: row} of the chunk, as get(pk=...) looks rows up
            batched = cst.Call(cst.Attribute(_bare(queryset), cst.Name("in_bulk")), [cst.Arg(cst.Name(chunk))])
        elif holder is node:
            batched = new_holder.with_changes(func=node.func.with_changes(attr=cst.Name("filter")), lpar=(), rpar=())
        else:
            batched = queryset.deep_replace(holder, new_holder)
    else:
        batched = new_holder if queryset is holder else queryset.deep_replace(holder, new_holder)
    ordered = query.ordered or any(method(call) == "order_by" for call in calls)
    if not ordered:
        if terminal == "iterate":
            reasons.append(UNORDERED_ROWS)
        elif terminal in ("first", "last"):
            reasons.append(UNORDERED_FIRST)
    if key_text != target and not _always_reached(node, loop, parents):
        reasons.append(f"`{key_text}` is now read for every item, also ones the loop skips before the query")

    text = _render(source, _bare(batched), _block_indent(source, node, parents))
    snake = _snake(query.model)
    wanted = {"list": f"{_plural(snake)}_by_{attribute}", "first": f"first_{snake}_by_{attribute}",
              "last": f"last_{snake}_by_{attribute}", "bulk": f"{snake}_by_{attribute}"}[grouping]
    if terminal == "get":
        wanted = f"{snake}_by_{attribute}"
    batch = _Batch(text, grouping, attribute, wanted)
    if "\n" in text or "\r" in text:
        batch.start_col = source.position(node).start.column
        batch.shift = not _multiline_string(node)
    key = f"{key_text}.pk" if query.key_is_instance else key_text
    start, end = _offsets(source, node)
    return _Query(start, end, terminal, key, batch, reasons)


def _consumed(node: cst.CSTNode, parents: dict) -> bool:
    """Is the queryset only iterated: `for`, a comprehension, or the one argument of list(), len()...?"""
    if _iterated(node, parents):
        return True
    arg = parents.get(node)
    call = parents.get(arg)
    return isinstance(arg, cst.Arg) and arg.keyword is None and not arg.star and isinstance(call, cst.Call) and \
        isinstance(call.func, cst.Name) and call.func.value in CONSUMERS and call.args[0] is arg


def _always_reached(node: cst.CSTNode, loop: cst.For, parents: dict) -> bool:
    """Does every item reach `node`: in a statement of the loop's own block with no `continue`,
    `break`, `return` or `raise` before it, and not under a condition or a nested loop?"""
    child, ancestor = node, parents.get(node)
    while ancestor is not None and ancestor is not loop.body:
        if _conditional(child, ancestor):
            return False
        child, ancestor = ancestor, parents.get(ancestor)
    if ancestor is None or not isinstance(loop.body, cst.IndentedBlock):
        return False
    for before in loop.body.body:
        if before is child:
            return True
        if any(isinstance(n, (cst.Continue, cst.Break, cst.Return, cst.Raise)) for n in walk(before)):
            return False
    return False


def _conditional(child: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
    """Is `child` evaluated only under a condition (or a number of times) within `ancestor`?"""
    if isinstance(ancestor, (cst.If, cst.IfExp, cst.While)):
        return child is not ancestor.test
    if isinstance(ancestor, cst.BooleanOperation):
        return child is ancestor.right
    if isinstance(ancestor, cst.For):
        return child is not ancestor.iter
    if isinstance(ancestor, (cst.Try, cst.TryStar)):
        return child is not ancestor.body
    if isinstance(ancestor, cst.Match):
        return child is not ancestor.subject
    return isinstance(ancestor, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Lambda,
                                 cst.FunctionDef, cst.ClassDef))


def _writes(block: cst.CSTNode) -> str:
    """The first call in the block that writes rows (`x.save()`, `M.objects.create(...)`,
    `qs.update(...)`, `qs.delete()`), or ""."""
    stack = [block]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
            name = current.func.attr.value
            receiver = current.func.value
            if name in WRITES or name == "update" and (chain(receiver)[1] or "objects" in _code(receiver)):
                return f"`.{name}()`"
        stack.extend(current.children)
    return ""
