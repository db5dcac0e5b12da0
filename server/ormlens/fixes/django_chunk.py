"""ORM004 (Django): run an unchunked `field__in=values` queryset once per chunk of distinct values.

    books = list(Book.objects.filter(author_id__in=ids))
->
    distinct_ids = list(dict.fromkeys(ids))
    books = []
    for start in range(0, len(distinct_ids), 1000):
        books += list(Book.objects.filter(author_id__in=distinct_ids[start:start + 1000]))

    for b in Book.objects.filter(author_id__in=ids):
        use(b)
->
    distinct_ids = list(dict.fromkeys(ids))
    for start in range(0, len(distinct_ids), 1000):
        for b in Book.objects.filter(author_id__in=distinct_ids[start:start + 1000]):
            use(b)

The values are made distinct first (`dict.fromkeys` keeps their order): a value repeated in two
chunks would fetch its rows twice. A row matches one value of its own field, so the chunks
together return the rows of the one query, each once. Only offered when every method of the
queryset is row-wise (filter, exclude, order_by, select_related, prefetch_related, only, defer,
values...; not distinct, slices, annotate...), the `__in` is a `filter()` keyword (an `exclude()`
per chunk would let through what other chunks exclude), and, for the loop, its body has no
`break` and the loop no `else` (they would act per chunk). Always unsafe: the rows come chunk
after chunk, so an order_by holds within each chunk only."""

from __future__ import annotations

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, dotted
from ormlens.fixes.django_chain import FILTERS, ROW_WISE, chain, method
from ormlens.fixes.orm001_batch import _Names
from ormlens.fixes.orm004_chunk import BUILTINS_USED, _bound_names, _names_used
from ormlens.fixes.plans import DjangoChunkPlan

# Row-wise methods that are fine when chunking but not when merging several queries in one.
CHUNKABLE = ROW_WISE | {"values", "values_list"}
TERMINALS = ("iterate", "list")


def build(source: SourceText, plan: DjangoChunkPlan, settings: Settings) -> Fix:
    size = plan.chunk_size or settings.chunk_size  # (the size ORM004's message advises)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise UnfixableError(f"chunk size {size!r}")
    lookup, values, terminal = plan.lookup, plan.values, plan.terminal
    if not lookup.endswith("__in") or not lookup.isidentifier() or terminal not in TERMINALS:
        raise UnfixableError(f"unexpected fix plan {plan!r}")
    query = source.node_at(plan.query, cst.Call)
    start_node, calls = chain(query)
    if not dotted(start_node):
        raise UnfixableError("the queryset does not start from a manager name")
    for call in calls:
        if method(call) not in CHUNKABLE:
            raise UnfixableError(f"`.{method(call)}()` in the queryset: run per chunk it can give other rows")
    found = [(call, arg) for call in calls for arg in call.args
             if arg.keyword is not None and arg.keyword.value == lookup and source.code(arg.value).strip() == values]
    if len(found) != 1 or method(found[0][0]) not in FILTERS:
        raise UnfixableError(f"no single `{lookup}={values}` in the queryset")
    if method(found[0][0]) != "filter":
        raise UnfixableError("an `exclude()` per chunk lets through what other chunks exclude")
    argument = found[0][1].value
    shadowed = [b for b in BUILTINS_USED if b in _bound_names(source.text)]
    if shadowed:
        raise UnfixableError(f"`{shadowed[0]}` is not the builtin in this module")

    parents = source.parents
    names = _Names(source)
    distinct = names.fresh(f"distinct_{argument.value.lstrip('_') if isinstance(argument, cst.Name) else 'values'}")
    start = names.fresh("start")
    chunked = query.deep_replace(argument, cst.parse_expression(f"{distinct}[{start}:{start} + {size}]"))
    read_once = cst.parse_statement(f"{distinct} = list(dict.fromkeys({source.code(argument).strip()}))")
    chunks = cst.parse_expression(f"range(0, len({distinct}), {size})")

    if terminal == "list":
        line, small = _assignment(source, query, parents)
        target = small.target if isinstance(small, cst.AnnAssign) else small.targets[0].target
        if target.value in _names_used(query, skip=argument):
            raise UnfixableError(f"the queryset reads `{target.value}`, which the rewrite empties first")
        empty = small.with_changes(value=cst.List([]))
        add = cst.AugAssign(target, cst.AddAssign(), small.value.deep_replace(query, chunked))
        old = line
        new = [read_once.with_changes(leading_lines=line.leading_lines), line.with_changes(body=[empty], leading_lines=()),
               cst.For(cst.Name(start), chunks, cst.IndentedBlock([cst.SimpleStatementLine([add])]))]
    else:
        loop = parents.get(query)
        if not isinstance(loop, cst.For) or loop.iter is not query:
            raise UnfixableError("the queryset is not what the `for` iterates")
        if loop.asynchronous is not None or loop.orelse is not None:
            raise UnfixableError("an `async for` or a `for ... else`")
        if _breaks(loop.body):
            raise UnfixableError("`break` in the loop would stop only the chunk")
        if source.position(loop).start.line != plan.statement.line:
            raise UnfixableError("the statement is not the loop")
        old = loop
        new = [read_once.with_changes(leading_lines=loop.leading_lines),
               cst.For(cst.Name(start), chunks,
                       cst.IndentedBlock([loop.with_changes(iter=chunked, leading_lines=())]))]
    edit = _replacement(source, old, new)
    ordered = any(method(call) == "order_by" for call in calls)
    why = ("rows are sorted within each chunk, not across chunks: the order_by no longer holds for all rows"
           if ordered else "row order across chunks may differ: the queryset has no order_by")
    return Fix(f"Query in chunks of {size:,} distinct values", [edit], safe=False, why_unsafe=why,
               kind="django_chunk")


def _assignment(source: SourceText, query: cst.Call, parents: dict) -> tuple[cst.SimpleStatementLine, cst.CSTNode]:
    """The line `name = list(<query>)` (or `name: T = list(<query>)`), alone on its line."""
    call = parents.get(parents.get(query))  # query -> Arg -> Call
    small = parents.get(call)
    line = parents.get(small)
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value == "list"
            and len(call.args) == 1 and call.args[0].value is query and not call.args[0].star
            and call.args[0].keyword is None):
        raise UnfixableError("the queryset is not the one argument of `list()`")
    if not (isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is call and
            isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        raise UnfixableError("not `name = list(<queryset>)` alone on its line")
    target = small.target if isinstance(small, cst.AnnAssign) else \
        small.targets[0].target if len(small.targets) == 1 else None
    if not isinstance(target, cst.Name):
        raise UnfixableError("not assigned to one name")
    return line, small


def _breaks(body: cst.CSTNode) -> bool:
    """A `break` of this loop (not of a loop or function nested in it)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Break):
            return True
        if isinstance(node, (cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(c for c in node.children if isinstance(c, cst.Else))  # `for ... else: break`
            continue
        stack.extend(node.children)
    return False


class _Swap(cst.CSTTransformer):
    def __init__(self, old: cst.CSTNode, new: list[cst.CSTNode]):
        self.old, self.new = old, new

    def on_leave(self, original_node, updated_node):
        return cst.FlattenSentinel(self.new) if original_node is self.old else updated_node


def _replacement(source: SourceText, old: cst.CSTNode, new: list[cst.CSTNode]) -> Edit:
    """The edit that turns the statement `old` into the statements `new`, found by rendering the
    module with the swap: libcst indents the new statements (and a loop body moved one level in)
    as the block they are in; the text around them stays byte for byte."""
    code = source.module.visit(_Swap(old, new)).code
    where = source.position(old)
    start = source.offset(where.start.line, 0)
    end = source.offset(where.end.line, where.end.column)
    tail = len(source.text) - end
    if code[:start] != source.text[:start] or code[len(code) - tail:] != source.text[end:]:
        raise UnfixableError("cannot place the rewrite")
    return Edit(start, end, code[start:len(code) - tail])

