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
from ormlens.fixes.base import Fix, SourceText, UnfixableError, apply_edits
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
        return builder(source, finding.fix, settings)
    except (UnfixableError, cst.ParserSyntaxError) as exc:
        log.info("no %s fix for %s:%s: %s", finding.code, finding.path, finding.span.line, exc)
        return None
    except Exception:  # noqa: BLE001 - a fix bug loses that fix, never the diagnostics
        log.exception("building the %s fix for %s:%s failed", finding.code, finding.path, finding.span.line)
        return None


def _conflict(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Do two edits touch the same text? An insert conflicts with a replacement around it; inserts
    at the same place, or at a replacement's edge, do not."""
    (start, end), (other_start, other_end) = a, b
    if start == end or other_start == other_end:
        point, (low, high) = (start, b) if start == end else (other_start, a)
        return low < point < high
    return start < other_end and other_start < end


def fix_text(text: str, findings: list[Finding], settings: Settings, unsafe: bool = False) -> tuple[str, list[Fix]]:
    """Apply the (safe, or all with `unsafe`) fixes of `findings` whose edits do not overlap."""
    source = SourceText(text)
    chosen: list[Fix] = []
    taken: list[tuple[int, int]] = []
    for finding in findings:
        fix = fix_for(finding, source, settings)
        if fix is None or not (fix.safe or unsafe) or any(fix.edits == other.edits for other in chosen):
            continue
        ranges = [(edit.start, edit.end) for edit in fix.edits]
        if any(_conflict(a, b) for a in ranges for b in taken):
            continue  # overlaps a fix already chosen: the next round gets it
        chosen.append(fix)
        taken += ranges
    if not chosen:
        return text, []
    return apply_edits(text, [edit for fix in chosen for edit in fix.edits]), chosen
