"""The builder of each fix kind, the fix a finding offers, and a file's fixes applied together."""

from __future__ import annotations

import logging
from collections.abc import Callable

import libcst as cst

from ormlens.config import Settings
from ormlens.findings import Finding
from ormlens.fixes import (
    django_batch, django_chunk, django_eager, orm001_batch, orm002_eager, orm003_group, orm004_chunk, orm005_or_zero,
    peewee_load)
from ormlens.fixes.base import Edit, Fix, SourceText, UnfixableError, apply_edits
from ormlens.fixes.plans import (
    BatchQueryPlan, ChunkInPlan, DjangoBatchPlan, DjangoChunkPlan, DjangoEagerPlan, EagerLoadPlan, FixPlan,
    GroupOncePlan, OrZeroPlan, PeeweeLoadPlan)

log = logging.getLogger("ormlens.fixes")

# The builder of each kind of plan: build(source, plan, settings) -> Fix, or UnfixableError.
BUILDERS: dict[type[FixPlan], Callable[..., Fix]] = {
    BatchQueryPlan: orm001_batch.build,
    EagerLoadPlan: orm002_eager.build,
    GroupOncePlan: orm003_group.build,
    ChunkInPlan: orm004_chunk.build,
    OrZeroPlan: orm005_or_zero.build,
    DjangoBatchPlan: django_batch.build,
    DjangoEagerPlan: django_eager.build,
    DjangoChunkPlan: django_chunk.build,
    PeeweeLoadPlan: peewee_load.build,
}


def fix_for(finding: Finding, source: SourceText, settings: Settings) -> Fix | None:
    """The fix a finding offers, or None (not fixable here, or the code is not in a shape the
    rewrite handles: then the diagnostic stays and no fix is offered)."""
    builder = BUILDERS.get(type(finding.fix))
    if builder is None:
        return None
    try:
        fix = builder(source, finding.fix, settings)
    except (UnfixableError, cst.ParserSyntaxError) as exc:
        log.info("no %s fix for %s:%s: %s", finding.code, finding.path, finding.span.line, exc)
        return None
    except Exception:  # noqa: BLE001 - a fix bug loses that fix, never the diagnostics
        log.exception("building the %s fix for %s:%s failed", finding.code, finding.path, finding.span.line)
        return None
    if fix is not None:
        fix.code = finding.code
    return fix


def _conflict(a: Edit, b: Edit, text: str) -> bool:
    """Do two edits of different fixes touch the same text? Two replacements that overlap; an insert
    inside a replacement, at one of its edges (it would attach to the code the other one rewrites:
    `.select_related(...)` after a queryset another fix turned into a list lookup) or at the same
    place as another insert (two fixes writing into one `select()`). Whole lines inserted at a line
    start (an import) attach to nothing; the same edit twice is applied once."""
    if a == b:
        return False
    if a.start == a.end and b.start == b.end:
        return a.start == b.start and not (_whole_lines(a, text) and _whole_lines(b, text))
    if a.start == a.end or b.start == b.end:
        insert, other = (a, b) if a.start == a.end else (b, a)
        if other.start < insert.start < other.end:
            return True
        return insert.start in (other.start, other.end) and not _whole_lines(insert, text)
    return a.start < b.end and b.start < a.end


def _whole_lines(insert: Edit, text: str) -> bool:
    return (insert.start == 0 or text[insert.start - 1] in "\r\n") and insert.text.endswith(("\n", "\r"))


def _rewrites(fix: Fix) -> bool:
    """Does the fix replace code (rather than only add to it)?"""
    return any(edit.start != edit.end for edit in fix.edits)


def fix_text(text: str, findings: list[Finding], settings: Settings, unsafe: bool = False) -> tuple[str, list[Fix]]:
    """Apply the (safe, or all with `unsafe`) fixes of `findings` whose edits do not conflict; the
    others are left for the next round (engine.fix_file), built from the code as it is then. Fixes
    that only add to the code (a loader on a query) go first: a rewrite of the same query in the next
    round (a batch, a chunk loop) then carries what they added, where the other order would leave
    them nothing to add to."""
    source = SourceText(text)
    built = [fix for fix in (fix_for(finding, source, settings) for finding in findings)
             if fix is not None and (fix.safe or unsafe)]
    chosen: list[Fix] = []
    taken: list[Edit] = []
    for fix in sorted(built, key=_rewrites):  # (stable: in the findings' order otherwise)
        if any(fix.edits == other.edits for other in chosen):
            continue
        if any(_conflict(edit, other, text) for edit in fix.edits for other in taken):
            continue  # touches a fix already chosen: the next round gets it
        chosen.append(fix)
        taken += fix.edits
    if not chosen:
        return text, []
    return apply_edits(text, [edit for fix in chosen for edit in fix.edits]), chosen
