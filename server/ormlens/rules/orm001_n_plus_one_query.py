from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ormlens.analysis.orm import owner_of
from ormlens.findings import Related, Span
from ormlens.fixes.plans import FixPlan
from ormlens.rules.base import Rule, RuleContext, loops_related, repetition

if TYPE_CHECKING:
    from ormlens.analysis.facts import LoopScope


class NPlusOneQuery(Rule):
    """
    ## What it does
    Finds an ORM query that runs once per item of a loop: a `for` loop, a comprehension,
    `map()`/`filter()`, or a `while` loop that takes the next item of a collection on each turn
    (`todo.pop()`, `queue.popleft()`, `next(it)`, `result.fetchone()`). The query runs directly,
    through a function (in this module or another) that runs one, at any depth, or on a query a
    helper returns (`active(uid).all()`). In nested loops it is reported once, with N·M.

    A query a function runs only under a test on one of its parameters (`if size:`,
    `if p is None:`, `if not p: return`) does not count at a call whose literal argument (or
    omitted argument's default) switches it off: `get_picture(pic)` with `size=None` is not reported.

    ## Why is this bad?
    Each iteration pays a database round-trip. A loop over 1,000 ids with two queries in it makes
    2,000 round-trips where two would do: the page is slow in production even though it was fast
    on a development database with ten rows.

    ## Example
    ```python
    for uid in user_ids:
        sessions = Session.query.filter_by(user_id=uid).all()
        payments = Payment.query.filter_by(user_id=uid).all()
    ```

    ## Use instead
    Fetch the rows for all items at once, in chunks that stay under the database's parameter
    limit, group them by key, and look them up in the loop:
    ```python
    sessions_by_user = defaultdict(list)
    distinct_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_ids), 1000):
        chunk = distinct_ids[start:start + 1000]
        for s in Session.query.filter(Session.user_id.in_(chunk)).all():
            sessions_by_user[s.user_id].append(s)
    for uid in user_ids:
        sessions = sessions_by_user.get(uid, [])
    ```
    A write per item (`session.execute(insert(M)...)`, `update(M).where(...)`, `delete(M)...`, a
    Query's or QuerySet's `.update()` / `.delete()`, or a function that only writes) is reported
    with write advice: one `insert(M).values([...])` or executemany, one
    `update(M).where(M.id.in_(...))` / `delete(...)`, Django `filter(pk__in=...).update(...)` or
    `bulk_update`. (`session.add()` in a loop is not a round-trip per item and is not reported.)

    Loops over a literal collection (also one a project helper returns: `return ["a", "b"]`),
    `range(<constant>)`, and loops over chunks (`range(0, len(xs), K)`, `itertools.batched`) are
    not reported, nor are `while` loops that retry, poll or page (they take no item of a
    collection). Nor is a query that runs for one item only (`if key == "name":` in a loop over a
    mapping's keys or a set), or on a cache miss whose branch writes the value back
    (`v = cache.get(k)`, `if v is None: ...; cache.set(k, v)`): it runs once per key. Nor: a
    dispatch on the item (an `if/elif` chain or `match` over distinct constants), a query only in
    an `except` handler, a loop over a queryset a truth test already evaluated (`if qs:` then
    `for x in qs:`: its result cache), a loop whose item chooses the database (a tenant's schema
    or connection: nothing to batch), and loops over enumerations or `choices` (also a parameter
    every caller fills with a literal or an enumeration class).

    ## Fix safety
    Quick fix, when every repeated query filters on the loop's item by equality (`filter_by(col=x)`,
    `filter(M.col == x)`, `get(x)`, `session.get(M, x)`): all of them move before the loop into one
    chunk loop over the distinct items (`dict.fromkeys` keeps their order; a generator is read once),
    rows are grouped by the key column, and each query becomes a lookup: `.get(x, [])` for
    `all()`, `len(...)` for `count()`, the first row per key for `first()`/`get`. Other filters
    and `order_by` are kept. Unsafe when a query has no `order_by` (row order within a group, or
    which row `first()` picks, may differ) and for `one_or_none()` (it no longer raises on several
    rows). Not offered for `one()`, `*_or_404`, `paginate`, `limit`/`offset`/`distinct`, a loop
    that writes through the session or changes what it iterates, a key that is not a column, or a
    write per item.
    """

    code = "ORM001"
    name = "n-plus-one-query"

    def check(self, ctx: RuleContext):
        facts = ctx.facts
        repeated = []
        for query in facts.query_calls:
            if query.exceptional:
                continue  # in an `except` handler: it runs when something failed, not per item
            loop = _innermost_repeating(query.loops)
            if loop is not None:
                repeated.append((query, loop, None))
        for call in facts.calls:
            loop = _innermost_repeating(call.loops)
            if loop is None or call.exceptional:
                continue
            trace = ctx.project.query_trace(call.callee, call.arguments)
            if trace is not None:
                repeated.append((call, loop, trace))
        per_loop = _most_per_turn(repeated)
        batches, batched = _batches(repeated)
        for site, loop, trace in repeated:
            count = per_loop[loop.id]
            fix = None
            # In nested loops it runs N·M times: say so, naming the outermost repeating loop.
            per_item, product, outer = repetition(site.loops, loop)
            if outer:
                how_many = f"{count} queries per item, {count}·{product} round-trips" if count > 1 else \
                    f"{product} queries"
            else:
                how_many = f"{count} queries per item, {count}·N round-trips" if count > 1 else \
                    "1 query per item, N round-trips"
            related = loops_related(ctx.path, loop, outer)
            said = ""  # (the message's first part: up to its first `; `, unless said here)
            if trace is None:
                uses_item = loop.id in site.deps or any(l.id in site.deps for l in site.loops)
                if site.write:  # one write per item: one bulk statement, not a batch read
                    advice = (f"it writes: {_write_advice(site)}" if uses_item else
                              "it does not depend on the item: run it once, outside the loop")
                else:
                    advice = (_batch_advice(site, loop) if uses_item else
                              "it does not depend on the item: run it once before the loop")
                message = f"`{site.label}` runs {per_item} ({how_many}); {advice}"
                origin = site.query.origin if site.query is not None else None
                if origin is not None and (origin[0] != ctx.path or origin[1].line != site.span.line):
                    # A project function returned it unrun (a property, a helper): where it is built.
                    related.append(Related(origin[0], origin[1], "the query is built here"))
                data = {"terminal": site.terminal, "model": site.model.name if site.model else None}
                if site.write:
                    data["write"] = site.write
                elif id(site) in batched and loop.id in batches:
                    fix = batches[loop.id]
            else:
                where = f"{Path(trace.path).name}:{trace.query.span.line}"
                via = " → ".join(f"`{name.rsplit('.', 1)[-1]}()`" for name in trace.chain)
                advice = (f"it only writes: {_write_advice(trace.query)}" if trace.writes_only else
                          "fetch what it needs for all items before the loop and pass it in")
                cold = " on a cold cache (its cache expires, so once per distinct item)" if trace.expiring else ""
                said = f"`{site.label}()` runs a query {per_item}{cold} ({how_many})"
                message = f"{said}: {via} runs `{trace.query.label}` ({where}); {advice}"
                related.append(Related(trace.path, trace.query.span, f"the query `{trace.query.label}`"))
                start = trace.query.query.start if trace.query.query is not None else None
                if start is not None and getattr(start, "lineno", trace.query.span.line) != trace.query.span.line:
                    # Built in a variable, run later (`codes = qs.values_list(...)`, then `map(str, codes)`).
                    related.append(Related(trace.path, Span.of(start), "the query is built here"))
                data = {"via": trace.chain, "query_path": trace.path, "query_line": trace.query.span.line}
            yield self.finding(ctx, site.span, message, related, fix, said=said, loop_line=loop.span.line, **data)


def _most_per_turn(repeated) -> dict[int, int]:
    """Per loop, how many of its queries one turn can run: queries in different arms of one `if`
    (`if a: ... elif b: ... else: ...`) never run in the same turn, so that `if` adds the most of
    any one arm, not the sum."""
    by_loop: dict[int, list[tuple]] = {}
    for site, loop, _ in repeated:
        by_loop.setdefault(loop.id, []).append(site.arms)
    return {loop_id: _count_arms(paths) for loop_id, paths in by_loop.items()}


def _count_arms(paths: list[tuple], depth: int = 0) -> int:
    """Sites directly here, plus for each `if` met next, its busiest arm."""
    here = sum(1 for path in paths if len(path) == depth)
    by_if: dict[int, dict[int, list[tuple]]] = {}
    for path in paths:
        if len(path) > depth:
            if_id, arm = path[depth]
            by_if.setdefault(if_id, {}).setdefault(arm, []).append(path)
    return here + sum(max(_count_arms(group, depth + 1) for group in arms.values()) for arms in by_if.values())


def _batches(repeated) -> tuple[dict[int, FixPlan], set[int]]:
    """Per `for` loop, what a batch rewrite needs: the loop, and every query in it keyed by
    equality on the loop's item (they share one chunk loop), as the ORM of each query says
    (`batch_query`); and the queries that are part of one (by id)."""
    # Per loop: the plan class of its first query, the loop, its queries.
    batches: dict[int, tuple[type, LoopScope, list]] = {}
    mixed: set[int] = set()  # queries of two ORMs in one loop: no single rewrite
    batched: set[int] = set()
    for site, loop, trace in repeated:
        if trace is not None or site.write or loop.statement is None:
            continue  # writes get no batch-read rewrite; a call's queries are elsewhere
        batch_query = getattr(owner_of(site), "batch_query", None)
        part = batch_query(site, loop) if batch_query is not None else None
        if part is None:
            continue
        plan, query = part
        kind, _, queries = batches.setdefault(loop.id, (plan, loop, []))
        if kind is not plan:
            mixed.add(loop.id)
            continue
        queries.append(query)
        batched.add(id(site))
    plans = {loop_id: plan(loop.statement, loop.iterable, loop.target, loop.reiterable, tuple(queries))
             for loop_id, (plan, loop, queries) in batches.items() if loop_id not in mixed}
    return plans, batched


def _innermost_repeating(loops):
    return next((loop for loop in reversed(loops) if loop.repeats), None)


def _write_advice(query) -> str:
    """One statement for all items instead of one INSERT/UPDATE/DELETE per item, in the terms of
    the ORM the query belongs to."""
    return owner_of(query).write_advice(query)


def _batch_advice(query, loop) -> str:
    info = query.query
    model = query.model.name if query.model else None
    keyed = [column for column, _ in info.equalities] if info is not None else []
    if loop.worklist:  # the items are not known before the loop: batch per round instead
        column = f"`{model}.{keyed[0]}.in_(...)`" if model and keyed else "one query"
        return (f"the loop adds to `{loop.label}`: take all pending items at once and load them with "
                f"{column} per round")
    return owner_of(query).batch_advice(query, loop) or \
        "load the rows for all items before the loop and look them up by key"
    if model and keyed:
        return (f"load the rows for all items before the loop with `{model}.{keyed[0]}.in_(...)` in chunks "
                "and look them up by key")
    return "load the rows for all items before the loop and look them up by key"
