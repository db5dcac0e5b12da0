"""Which files are one-off code: data migrations, management commands, scripts and tests, run once,
by hand or only in CI. Their findings are real but rarely worth a developer's time, so `ormlens
check` counts them without showing them (`--include one-off` shows them) and the editor shows them
at `one-off-severity` (information). Decided by the `one-off` patterns (gitignore style, relative to
the configuration's folder, as `exclude`) and, wherever it sits, by what an Alembic revision script
holds (the folder of `script_location` can have any name)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from ormlens.config import Settings
from ormlens.discovery import excluded
from ormlens.findings import Finding

# An Alembic revision script names the revision it follows at module level (`down_revision = "ab12"`,
# `down_revision: Union[str, None] = None`) and defines upgrade().
_ALEMBIC_REVISION = re.compile(r"^down_revision\s*[:=]", re.MULTILINE)
_UPGRADE = re.compile(r"^def upgrade\(", re.MULTILINE)


@functools.lru_cache(maxsize=4096)
def _matches(path: str, base: str, patterns: tuple[str, ...]) -> bool:
    """The same matching as `exclude`, once per file: the editor asks on every publish, and
    matching resolves the path on disk."""
    return excluded(Path(path), Path(base), patterns)


def is_alembic_revision(source: str) -> bool:
    return bool(_ALEMBIC_REVISION.search(source) and _UPGRADE.search(source))


def is_one_off(path: str | Path, base: Path, settings: Settings, source: str | None = None) -> bool:
    """Is this file one-off code? `source`: its text when the caller has it (else it is read)."""
    if _matches(str(path), str(base), settings.one_off):
        return True
    if not settings.one_off:
        return False  # `one-off = []`: nothing is one-off, Alembic revisions neither
    if source is None:
        try:
            source = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return is_alembic_revision(source)


def split_one_off(findings: Iterable[Finding], base: Path, settings: Settings) -> tuple[list[Finding], list[Finding]]:
    """(findings in code that runs in production, findings in one-off code), each file decided once."""
    verdicts: dict[str, bool] = {}
    kept: list[Finding] = []
    one_off: list[Finding] = []
    for finding in findings:
        if finding.path not in verdicts:
            verdicts[finding.path] = is_one_off(finding.path, base, settings)
        (one_off if verdicts[finding.path] else kept).append(finding)
    return kept, one_off
