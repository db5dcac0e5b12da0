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
    if first.kind is Kind.INSTANCE and isinstance(first.ref, tuple):
        # `return cls(session)`, `return OrderQuerySet(self.model)`: an instance of one project class.
        same = all(v.kind is Kind.INSTANCE and isinstance(v.ref, tuple) and v.ref[1] is first.ref[1]
                   for v in function.returns)
        return Value(kind=Kind.INSTANCE, ref=first.ref, label=first.label) if same else UNKNOWN
    if first.kind is Kind.QUERY and first.query is not None:
        style = first.query.orm
    elif first.is_rowlike:
        style = first.model.style
    else:
        return UNKNOWN
    summarize = getattr(orm.plugin_for(style), "summarize_returns", None)
    return summarize(function.returns) if summarize is not None else UNKNOWN


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

