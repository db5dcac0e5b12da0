"""What calling a project function gives its callers (the value of its `return`s), as the ORM of
what it returns says: a lazy query object or rows it can follow across the call (Django's
querysets), or unknown."""

from __future__ import annotations

from ormlens.analysis import orm
from ormlens.analysis.facts import FunctionFacts
from ormlens.analysis.flow import UNKNOWN, Kind, QueryInfo, Size, Value


def summarize_returns(function: FunctionFacts) -> Value:
    """A function's value for its callers: a bounded collection when every `return` gives a
    literal; what the plugin owning its first returned value makes of all of them
    (`summarize_returns`: Django's querysets and rows, with what every path loads); else
    UNKNOWN (the SQLAlchemy analysis follows a returned query through summaries.returned_query)."""
    if function.generator or not function.returns:
        return UNKNOWN
    if function.literal_returns:
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED)  # a loop over its result is bounded
    first = function.returns[0]
    if first.keyed:
        return summarize_keyed(function.returns)
    if first.kind is Kind.INSTANCE and isinstance(first.ref, tuple):
        # `return cls(session)`, `return OrderQuerySet(self.model)`: an instance of one project class.
        same = all(v.kind is Kind.INSTANCE and isinstance(v.ref, tuple) and v.ref[1] is first.ref[1]
                   for v in function.returns)
        return Value(kind=Kind.INSTANCE, ref=first.ref, label=first.label) if same else UNKNOWN
    return summarize_rows(function.returns)


def summarize_rows(returns: list[Value]) -> Value:
    """What the plugin owning the first of these values makes of all of them: rows or a query."""
    first = returns[0]
    if first.kind is Kind.QUERY and first.query is not None:
        style = first.query.orm
    elif first.is_rowlike:
        style = first.model.style
    else:
        return UNKNOWN
    summarize = getattr(orm.plugin_for(style), "summarize_returns", None)
    return summarize(returns) if summarize is not None else UNKNOWN


def summarize_keyed(returns: list[Value]) -> Value:
    """A dict every `return` gives (`{"items": rows, "total": n}`): for each key they all hold rows
    or a query at, what those give together (as summarize_returns); UNKNOWN when none is left."""
    if not all(value.kind is Kind.COLLECTION and value.keyed for value in returns):
        return UNKNOWN
    keyed = []
    for key, _ in returns[0].keyed:
        held = [next((v for k, v in value.keyed if k == key), None) for value in returns]
        if any(v is None for v in held):
            continue
        summary = summarize_rows(held)  # type: ignore[arg-type]
        if summary.kind is Kind.UNKNOWN:
            summary = one_query(held) or UNKNOWN  # type: ignore[arg-type]
        if summary.kind is not Kind.UNKNOWN:
            keyed.append((key, summary))
    return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, keyed=tuple(keyed)) if keyed else UNKNOWN


def one_query(returns: list[Value]) -> Value | None:
    """The unexecuted query (a Query, a select(), not a Django queryset: `summarize_returns` follows
    those) that every `return` gives, of one model: its model, whether it is a statement, yields
    tuples, is limited or ordered, and what every return's loader options load (options the walk
    cannot read, `.options(*opts)`, already count as loading anything); None when they differ."""
    if not returns or not all(v.kind is Kind.QUERY and v.query is not None and not v.query.django for v in returns) \
            or len({(v.model, v.statement, v.tuples) for v in returns}) != 1:
        return None
    first = returns[0]
    info = QueryInfo(first.model, eager=frozenset.intersection(*(v.query.eager for v in returns)),
                     orm=first.query.orm, limited=all(v.query.limited for v in returns),
                     ordered=all(v.query.ordered for v in returns),
                     not_null=frozenset.intersection(*(v.query.not_null for v in returns)))
    return Value(kind=Kind.QUERY, model=first.model, query=info, statement=first.statement, tuples=first.tuples)

