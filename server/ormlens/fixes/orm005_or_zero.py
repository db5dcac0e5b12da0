"""ORM005: `sum(p.amount for p in rows)` -> `sum((p.amount or 0) for p in rows)`."""

from __future__ import annotations

from ormlens.config import Settings
from ormlens.fixes.base import Fix, SourceText
from ormlens.fixes.plans import OrZeroPlan


def build(source: SourceText, plan: OrZeroPlan, settings: Settings) -> Fix:
    element = source.segment(plan.element)
    return Fix(f"Count NULL as 0: `({element} or 0)`", [source.replace(plan.element, f"({element} or 0)")],
               kind="or_zero")
