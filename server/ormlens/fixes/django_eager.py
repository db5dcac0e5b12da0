"""ORM002 (Django): load the relation with the rows the loop iterates.

    for b in Book.objects.filter(price__gt=1):          for b in Book.objects.filter(price__gt=1).select_related("author"):
        print(b.author.name)                        ->      print(b.author.name)

    Author.objects.prefetch_related("tags")         ->  Author.objects.prefetch_related("tags", "books")

A forward foreign key / one-to-one is joined in (`select_related`), a reverse foreign key or a
many-to-many is fetched in one more query for all rows (`prefetch_related`). The name merges into
a `select_related(...)` / `prefetch_related(...)` the queryset already has; a slice stays last
(`qs[:10]` -> `qs.select_related("author")[:10]`). Not offered after `values()`, `raw()`... (no
model rows), after a method that gives no queryset (`.get()`, `.first()`, a dict's `.get()`), or when a
bare `select_related()` already follows every non-null foreign key."""

from __future__ import annotations

import libcst as cst

from ormlens.config import Settings
from ormlens.fixes.base import Fix, SourceText, UnfixableError
from ormlens.fixes.django_chain import NOT_MODEL_ROWS, chain, method
from ormlens.fixes.orm002_eager import _add_option, _insert_after
from ormlens.fixes.plans import DjangoEagerPlan

LOADERS = ("select_related", "prefetch_related")
# Methods whose result is not a queryset at all (a row, a number, a dict's or list's item): a loader
# after them would be called on that (the plan is stale, or the chain is not a queryset).
NOT_QUERYSETS = frozenset({"get", "first", "last", "latest", "earliest", "create", "get_or_create",
                           "update_or_create", "in_bulk", "update", "delete", "bulk_create", "bulk_update",
                           "setdefault", "pop", "copy", "items", "keys"})


def build(source: SourceText, plan: DjangoEagerPlan, settings: Settings) -> Fix:
    loader, model, relation = plan.loader, plan.model, plan.relation
    if loader not in LOADERS or not relation.isidentifier():
        raise UnfixableError(f"unexpected fix plan {plan!r}")
    node = source.node_at(plan.query, cst.BaseExpression)
    while isinstance(node, cst.Subscript):  # `qs[:10]`: the loader goes before the slice
        node = node.value
    start, calls = chain(node)
    if not calls and not (plan.queryset and isinstance(node, (cst.Name, cst.Attribute))):
        raise UnfixableError("not a queryset chain")
    for call in calls:
        if method(call) in NOT_MODEL_ROWS:
            raise UnfixableError(f"`.{method(call)}()` in the queryset: no model rows to load `{relation}` on")
        if method(call) in NOT_QUERYSETS:
            raise UnfixableError(f"`.{method(call)}()` does not give a queryset to load `{relation}` on")
    existing = [call for call in calls if method(call) == loader]
    name = f'"{relation}"'
    if existing:
        merged = existing[-1]
        if not merged.args:
            raise UnfixableError(f"a bare `{loader}()` is already on the queryset")
        for arg in merged.args:
            if arg.star or arg.keyword is not None:
                raise UnfixableError(f"`{loader}()` with *args or keywords")
            if isinstance(arg.value, cst.SimpleString):
                if arg.value.evaluated_value == relation:
                    raise UnfixableError(f"`{relation}` is already loaded")
                if not arg.value.prefix:
                    name = arg.value.quote + relation + arg.value.quote  # the call's own quotes
        edit = _add_option(source, merged, name)
    else:
        edit = _insert_after(source, node, f".{loader}({name})")
    return Fix(f"Load {model}.{relation} with {loader}", [edit], kind="django_eager")

