"""ORM002 (Peewee): load the relation with the rows the loop iterates.

    for t in Tweet.select().where(...):   ->  for t in Tweet.select(Tweet, User).join(User, JOIN.LEFT_OUTER)
        print(t.user.name)                        .switch(Tweet).where(...):

    for u in User.select():               ->  for u in User.select().prefetch(Tweet):
        print([t.body for t in u.tweets])

A foreign key's row is selected and joined in: a LEFT OUTER join, so rows whose key is NULL (or
points nowhere) stay, and `.switch()` back to the query's model so the joins written after it
still start from there. A backref's rows come with `.prefetch()` (one more query for all rows),
last in the chain: it runs the query. Not offered when `select(...)` already names columns, the
query joins, groups, aggregates or gives dicts/tuples, or the related model's class is not a name
of the module."""

from __future__ import annotations

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, binds_at_top_level
from ormlens.fixes.django_chain import chain, method
from ormlens.fixes.orm002_eager import _insert_after, _offsets
from ormlens.fixes.plans import PeeweeLoadPlan

LOADERS = ("join", "prefetch")
# Query methods after which the rows are not one model row each, or the query already runs or joins.
REFUSED = frozenset({"join", "join_from", "left_outer_join", "switch", "group_by", "having", "distinct", "dicts",
                     "tuples", "namedtuples", "objects", "union", "union_all", "intersect", "except_", "prefetch",
                     "iterator", "execute", "count", "exists", "get", "first", "scalar", "window", "select_extend"})


def build(source: SourceText, plan: PeeweeLoadPlan, settings: Settings) -> Fix:
    if plan.loader not in LOADERS or not plan.relation.isidentifier() or not plan.target.isidentifier():
        raise UnfixableError(f"unexpected fix plan {plan!r}")
    node = source.node_at(plan.query, cst.BaseExpression)
    start, calls = chain(node)
    if not calls or method(calls[0]) != "select":
        raise UnfixableError("not a `Model.select()` chain")
    for call in calls[1:]:
        if method(call) in REFUSED:
            raise UnfixableError(f"`.{method(call)}()` in the query")
    if not binds_at_top_level(source.module, plan.target):
        raise UnfixableError(f"`{plan.target}` is not a name of this module")
    if plan.loader == "prefetch":
        return Fix(f"Load {plan.model}.{plan.relation} with prefetch()",
                   [_insert_after(source, node, f".prefetch({plan.target})")], kind="peewee_load")
    select = calls[0]
    if select.args:
        raise UnfixableError("`select(...)` names what it selects already")
    model = source.code(start).strip()
    end = _offsets(source, select)[1] - 1  # before the `)` of `select()`
    if source.text[end] != ")":
        raise UnfixableError("cannot find the end of select()")
    edits = [Edit(end, end, f"{model}, {plan.target}"),
             _insert_after(source, select, f".join({plan.target}, JOIN.LEFT_OUTER).switch({model})")]
    imported = source.ensure_import("peewee", "JOIN")
    if imported is not None:
        if binds_at_top_level(source.module, "JOIN"):
            raise UnfixableError("`JOIN` names something else in this module")
        edits.append(imported)
    return Fix(f"Load {plan.model}.{plan.relation} with a join", edits, kind="peewee_load")
