from __future__ import annotations

from ormlens.fixes.plans import GroupOncePlan
from ormlens.rules.base import Rule, RuleContext, loop_related


class QuadraticGrouping(Rule):
    """
    ## What it does
    Finds a scan of a whole collection with an equality filter on the item of an enclosing loop:
    a comprehension, `filter(lambda ...)`, `next(...)` or an inner `for` with `if ...:`.

    ## Why is this bad?
    Every outer item walks every inner item: O(N·M). With 10,000 users and 100,000 sessions
    that is a billion comparisons, where grouping once costs 110,000 steps.

    ## Example
    ```python
    for uid in user_ids:
        user_sessions = [s for s in sessions if s.user_id == uid]
    ```

    ## Use instead
    Group once before the loop, then look the key up:
    ```python
    sessions_by_user = defaultdict(list)
    for s in sessions:
        sessions_by_user[s.user_id].append(s)
    for uid in user_ids:
        user_sessions = sessions_by_user.get(uid, [])
    ```
    Scans of literal collections, and loops over bounded collections, are not reported.

    ## Fix safety
    Quick fix: build a `defaultdict(list)` index keyed on the scanned item's attribute once, before
    the outer loop, and replace the scan with `list(index.get(key, ()))`. Safe: a new list each
    time, items in the order the scan gives. Not offered when the collection may change inside
    the loop, may not be read twice (a generator, a result), or the condition is more than one
    `==` between the item and the outer item.
    """

    code = "ORM003"
    name = "quadratic-grouping"

    def check(self, ctx: RuleContext):
        for scan in ctx.facts.scans:
            what = f"`{scan.label}`" if scan.label else "this scan"
            message = (f"{what} scans all of `{scan.collection}` once per item of `{scan.outer.label}` "
                       f"to match `{scan.key}` (O(N·M)); group it once before the loop with "
                       "`defaultdict(list)` and look the key up")
            fix = None
            if scan.yields_item and scan.outer.statement is not None:
                fix = GroupOncePlan(scan.span, scan.outer.statement, scan.collection_span, scan.item, scan.item_side,
                                    scan.outer_side)
            yield self.finding(ctx, scan.span, message, [loop_related(ctx.path, scan.outer)], fix,
                               key=scan.key, collection=scan.collection)
