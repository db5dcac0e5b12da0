from __future__ import annotations

from dataclasses import replace

from ormlens.analysis.flow import Kind, Size
from ormlens.analysis.orm import owner_of
from ormlens.rules.base import Rule, RuleContext

# The longest message: one line in a list of findings, the label and the argument shortened to fit.
MAX_MESSAGE = 200


def message(label: str, argument: str, limit: str | None, chunk: int) -> str:
    """`limit`: the database's, as database.Dialect.limit says it; None: not known (the limits are
    in this rule's documentation)."""
    tail = f"{limit}: query in chunks of {chunk:,}" if limit else \
        f"past the database's limit it fails: query in chunks of {chunk:,} (limits: `ormlens rule ORM004`)"

    def text(label: str, argument: str) -> str:
        return f"`{label}` binds one parameter per item of `{argument}`, which grows with the data; {tail}"

    room = MAX_MESSAGE - len(text("", ""))
    if len(label) + len(argument) > room:
        argument = shorten(argument, max(12, room // 3))
        label = shorten(label, max(12, room - len(argument)))
    return text(label, argument)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class UnchunkedIn(Rule):
    """
    ## What it does
    Finds `.in_(xs)` (also `not_in`) where `xs` has no bound: a parameter, a query result, or
    something built from one.

    ## Why is this bad?
    Each item becomes one bind parameter. Past the database's limit the statement fails:

    | database | limit | chunks of at most |
    | --- | --- | --- |
    | PostgreSQL | 65,535 bind parameters per statement (its wire protocol counts them in 16 bits) | 60,000 |
    | PostgreSQL through asyncpg | 32,767 per statement | 30,000 |
    | SQLite | 32,766 per statement; 999 before 3.32 (the compiled-in default, which some builds raise) | 900 |
    | MySQL, MariaDB | 65,535 placeholders per prepared statement | 60,000 |
    | Oracle | 1,000 items per IN list | 1,000 |
    | SQL Server | 2,100 parameters per statement | 2,000 |

    Drivers that inline the values (psycopg2, Django's PostgreSQL cursors, MySQL's usual drivers)
    send one huge statement instead, which the server parses and plans whole (MySQL refuses it past
    `max_allowed_packet`). It works in tests and fails, or crawls, on the first big customer.

    The message states the limit of the database the project runs on and a chunk size that fits
    it: the `chunk-size` setting (1,000), at most the last column. The database is the `database`
    setting (`postgresql`, `sqlite`, `mysql`, `mariadb`, `oracle`, `mssql`), else read from the
    project's text, never imported: Django's `DATABASES` (an `ENGINE`, a `dj_database_url` or
    `env.db()` URL), SQLAlchemy URLs (`create_engine(...)`, `URL.create(...)`,
    `SQLALCHEMY_DATABASE_URI`, `DATABASE_URL`, the default of `os.environ.get(...)`), `.env`,
    `.env.example`, `.env.sample` and alembic.ini at the project root. What tests, examples, docs
    and project templates name does not count (`tests/`, `test_settings.py`, `class TestingConfig`:
    projects often test on SQLite and run on another database); development settings (`local.py`,
    `class DevelopmentConfig`) count only when nothing else names one, an environment default or a
    URL built in a function only when no setting is written out; of several databases still, the
    one with the smallest chunks (they fit the others too). Without one, the message is generic.

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
            database = ctx.database
            chunk = database.chunk(ctx.settings.chunk_size) if database else ctx.settings.chunk_size
            if fix is not None and chunk != ctx.settings.chunk_size:
                fix = replace(fix, chunk_size=chunk)  # the fix writes the chunks the message advises
            message_text = message(call.label, call.argument, database and database.dialect.limit, chunk)
            # One line of at most MAX_MESSAGE characters, the database's limit in it: all of it is the summary.
            yield self.finding(ctx, call.span, message_text, fix=fix, said=message_text, argument=call.argument)
