from __future__ import annotations

from ormlens.analysis.flow import eager_covers
from ormlens.analysis.orm import plugin_for
from ormlens.findings import Related
from ormlens.rules.base import Rule, RuleContext, loops_related, repetition


class NPlusOneLazyLoad(Rule):
    """
    ## What it does
    Finds a lazily loaded relationship read on each row of a loop over query results, when the
    query that loaded the rows did not eager-load it. On rows loaded through an `AsyncSession`
    every such read is reported, in a loop or not: there the lazy load raises `MissingGreenlet`.
    `await row.awaitable_attrs.rel` (AsyncAttrs) loads it, so it is reported only per row of a loop.
    Reads in the Django and Jinja2 templates a view renders (`{% for o in orders %}{{ o.customer }}`)
    are reported in the template, with the view's query as related information (docs/templates.md).

    ## Why is this bad?
    Reading a lazy relationship on a row runs a SELECT for that row. Over N rows that is N extra
    queries, hidden behind what looks like an attribute access.

    ## Example
    ```python
    users = session.query(User).all()
    for user in users:
        print(user.posts)
    ```

    ## Use instead
    Load the relationship with the rows, in one extra query for all of them:
    ```python
    users = session.query(User).options(selectinload(User.posts)).all()
    ```
    Use `joinedload` for a many-to-one relationship. A relationship declared with an eager
    `lazy=` ("selectin", "joined", "subquery", "immediate") or `lazy="raise"` is not reported,
    and neither are rows whose origin is unknown (a parameter, another function's result).
    Django: `select_related("rel")` / `prefetch_related("rel")` on the queryset. Peewee: select and
    join the related model (`Tweet.select(Tweet, User).join(User)`), or `prefetch()` for a backref
    (`User.select().prefetch(Tweet)`); the message says which.

    ## Fix safety
    Quick fix: add `.options(selectinload(Model.rel))` (`joinedload` for many-to-one) to the query
    the rows came from, merged into an existing `.options(...)`; for `select()` run by the session,
    inside the `select(...)`. Safe: results are the same; the related rows are loaded even when
    the loop does not reach them. Not offered when the query is built elsewhere (a variable).
    `joinedload` only for a relationship that holds one row, as its own declaration says:
    `uselist=False`, `Mapped[X]`, or a many-to-one by its foreign keys (`foreign_keys=` on either
    side, `primaryjoin` with `foreign()` or the key its columns hold, `remote_side=` for a
    self-referential one, else the inverse of its `back_populates` / `backref` side, else the one
    table of the two holding a key to the other). A joined load of a collection would raise
    `InvalidRequestError` under 2.0's `session.scalars(select(...)).all()` (it needs `.unique()`)
    and multiply the rows a `Query` fetches; when the direction cannot be told (keys both ways,
    a `primaryjoin` or `foreign_keys=` it cannot read) the loader is `selectinload`, right for both.
    Peewee: `Tweet.select()` becomes `Tweet.select(Tweet, User).join(User, JOIN.LEFT_OUTER)
    .switch(Tweet)` for a foreign key (an outer join keeps the rows whose key is NULL), and
    `.prefetch(Tweet)` ends the chain for a backref; not offered when `select(...)` names columns or
    the query already joins, groups or gives dicts. A read in a template is fixed in the view: the
    loader is added to the query that loaded the rows, or to the queryset expression the view passes
    (`{"orders": orders.select_related("customer")}`), with the lookup from the loop's rows.
    """

    code = "ORM002"
    name = "n-plus-one-lazy-load"

    def check(self, ctx: RuleContext):
        facts = ctx.facts
        seen: set[tuple] = set()
        for read in facts.relationship_reads:
            rel = read.relationship
            if not rel.loads_per_access or read.eager is None:
                continue
            if eager_covers(read.eager, rel.name):
                continue
            if read.one_parent:
                continue  # one parent row, maybe already in the identity map
            if read.exceptional:
                continue  # in an `except` handler: it runs when something failed, not per row
            loop = read.callee_loop or (facts.loops.get(read.row_loop) if read.row_loop is not None else None)
            per_row = loop is not None and loop.repeats and loop in read.loops
            # Rows of an AsyncSession cannot lazy-load at all: the first read raises, in a loop or not.
            # `await row.awaitable_attrs.rel` does load (one query), so it is an N+1 only per row.
            raises = read.asynchronous and not read.awaited
            if not (raises or per_row):
                continue
            key = (read.row_loop, read.model.name, rel.name) if read.row_loop is not None else (read.span,)
            if key in seen:
                continue  # the first read loads it; later reads on the same row are cached
            seen.add(key)
            advice = plugin_for(read.model.style).lazy_load_advice(read, loop)
            if advice is None:
                continue
            per_item, product, outer = repetition(read.loops, loop) if per_row else ("", "", None)
            related = loops_related(ctx.path, loop, outer) if per_row else []
            if advice.message is not None:  # the ORM words the whole finding (Django's related managers)
                message = advice.message(per_item, product)
            elif raises and not per_row:
                message = (f"`{read.label}` lazy-loads `{read.model.name}.{rel.name}`, which raises MissingGreenlet "
                           f"under an AsyncSession; eager-load it with {advice.option} on the query that loads "
                           "the rows")
            elif raises:
                message = (f"`{read.label}` lazy-loads `{read.model.name}.{rel.name}` {per_item}, which raises "
                           f"MissingGreenlet under an AsyncSession; eager-load it with {advice.option} on the query "
                           "that loads the rows")
            else:
                message = (f"`{read.label}` lazy-loads `{read.model.name}.{rel.name}` {per_item} "
                           f"({product} extra queries); eager-load it on the query that loads the rows: "
                           f"{advice.option}")
            related += [Related(path, span, message) for path, span, message in read.through]
            if read.source is not None:
                related.append(Related(read.source_path or ctx.path, read.source,
                                       "the query that loads the rows" if read.source_path is None else
                                       "the query of the rows the view passes to the template"))
            yield self.finding(ctx, read.span, message, related, advice.fix, fix_path=read.source_path,
                               model=read.model.name, relationship=rel.name, loader=advice.loader, **advice.data)
