"""ORM005: `sum(p.amount for p in rows)` -> `sum((p.amount or 0) for p in rows)`."""

from __future__ import annotations

from ormlens.config import Settings
from ormlens.fixes.base import Fix, SourceText


def build(source: SourceText, fix: dict, settings: Settings) -> Fix:
    element = source.segment(fix["element"])
    return Fix(f"Count NULL as 0: `({element} or 0)`", [source.replace(fix["element"], f"({element} or 0)")],
               kind="or_zero")
