from __future__ import annotations

from ormlens.fixes.plans import OrZeroPlan
from ormlens.rules.base import Rule, RuleContext


class NullableSum(Rule):
    """
    ## What it does
    Finds Python `sum()` over a column that can be NULL, with no `or 0` and no `is not None`
    filter.

    ## Why is this bad?
    A NULL comes back as `None`, and `Decimal + None` raises `TypeError`: the report crashes the
    day one row has no amount. A column is nullable as SQLAlchemy decides it: `Column(...)`
    unless `nullable=False` or `primary_key=True`; `Mapped[Optional[X]]` / `Mapped[X | None]`;
    an explicit `nullable=` wins.

    ## Example
    ```python
    total = sum(p.amount for p in payments)
    ```

    ## Use instead
    ```python
    total = sum((p.amount or 0) for p in payments)
    ```
    or filter the NULLs out: `sum(p.amount for p in payments if p.amount is not None)`.

    ## Fix safety
    Quick fix: `sum((p.amount or 0) for p in payments)`. Safe: NULL counts as zero, which is
    what a total means, and every non-NULL value is unchanged.
    """

    code = "ORM005"
    name = "nullable-sum"

    def check(self, ctx: RuleContext):
        for total in ctx.facts.sums:
            column = f"{total.model.name}.{total.column}"
            message = (f"`{total.label}` adds `{column}`, which is nullable: one NULL raises TypeError "
                       f"(`Decimal + None`); use `({total.element} or 0)` or skip `None` values")
            yield self.finding(ctx, total.span, message, model=total.model.name, column=total.column,
                               fix=OrZeroPlan(total.element_span))
