from __future__ import annotations

from ormlens.analysis.flow import Kind, Size
from ormlens.analysis.orm import owner_of
from ormlens.rules.base import Rule, RuleContext

LIMITS = ("PostgreSQL: 65,535 bind parameters per statement; SQLite: 32,766, 999 before 3.32; "
          "SQL Server: 2,100; Oracle: 1,000 items per IN list; asyncpg: 32,767; psycopg2 inlines "
          "the values, so there it is a huge statement instead")


class UnchunkedIn(Rule):
    """
    ## What it does
    Finds `.in_(xs)` (also `not_in`) where `xs` has no bound: a parameter, a query result, or
    something built from one.

    ## Why is this bad?
    Each item becomes one bind parameter. Past the database's limit the statement fails:
    PostgreSQL allows 65,535 bind parameters per statement (its wire protocol counts them in 16
    bits), SQLite 32,766 (999 before 3.32; the compiled-in default, which some builds raise),
    SQL Server 2,100, Oracle 1,000 items per IN list, asyncpg 32,767. psycopg2 inlines the values, so there the cost is a huge statement instead.
    It works in tests and fails on the first big customer.

    ## Example
    ```python
    sessions = Session.query.filter(Session.user_id.in_(user_ids)).all()
    ```

    ## Use instead
    Query in chunks of distinct values:
    ```python
    distinct_ids = list(dict.fromkeys(user_ids))
    sessions = []
    for start in range(0, len(distinct_ids), 1000):
        chunk = distinct_ids[start:start + 1000]
        sessions += Session.query.filter(Session.user_id.in_(chunk)).all()
    ```
    Not reported: a literal, a slice of constant width, a chunk from a chunking loop, a subquery
    or `select()`; a page (`.limit(n)`, `xs[:n]`), a list whose length the code checks first
    (`if len(xs) > MAX: raise`), one row's collection (`team.members`). A parameter is as long
    as what the project's callers pass it: reported when one passes a list that grows with the
    data (a query's rows, a request's input), not when every caller passes a bounded one or what
    they pass cannot be sized; with no caller in the project, when annotated as a list of any
    length (`ids: list[int]`, an entry point).

    ## Fix safety
    Quick fix, for `rows = <query>.filter(M.col.in_(xs)).all()`: run the query once per chunk of
    `chunk-size` distinct values (`dict.fromkeys` keeps their order) and concatenate. Unsafe: the
    same rows, but their order across chunks can differ (each chunk is sorted by its `order_by`,
    the whole list is not). Not offered for `not_in`, `limit`, `distinct`, grouping, joins or
    aggregates, or a query inside a larger expression.
    """

    code = "ORM004"
    name = "unchunked-in"

    def check(self, ctx: RuleContext):
        running = {span: query for query in ctx.facts.query_calls if query.query
                   for span in query.query.in_filters}
        for call in ctx.facts.in_calls:
            if call.size is not Size.UNBOUNDED or call.kind is Kind.QUERY:
                continue
            fix = None
            query = running.get(call.span)
            if query is not None and not query.loops:  # the quick fix, in the terms of the query's ORM
                chunk_plan = getattr(owner_of(query), "chunk_plan", None)
                fix = chunk_plan(call, query) if chunk_plan is not None else None
            message = (f"`{call.label}` binds one parameter per item of `{call.argument}`, which has no "
                       f"bound: past the database's limit it fails ({LIMITS}); query in chunks of "
                       f"{ctx.settings.chunk_size:,} distinct values")
            yield self.finding(ctx, call.span, message, fix=fix, argument=call.argument)
