"""Settings: `[tool.ormlens]` in pyproject.toml, overridden by command-line flags or client settings.
One Settings object flows everywhere; unknown or ill-typed keys are reported, never fatal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CODE_PATTERN = re.compile(r"^ORM\d{3}$")
DEFAULT_CHUNK_SIZE = 1000
SEVERITIES = ("error", "warning", "information", "hint")
RUN_MODES = ("onType", "onSave")
# The longest wait after a change before checking that the server accepts (setting debounceMs).
MAX_DEBOUNCE_MS = 2000


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] | None = None  # None: every rule
    ignore: frozenset[str] = frozenset()
    chunk_size: int = DEFAULT_CHUNK_SIZE
    # Extra names of helper functions that split an iterable into chunks.
    chunk_functions: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    # Skip what .gitignore files exclude when walking folders (as ruff's `respect-gitignore`).
    respect_gitignore: bool = True
    # Editor-only: severity per rule code (default "warning"), when to analyse, how long to wait
    # after a keystroke, and the size above which a file is skipped.
    severity: tuple[tuple[str, str], ...] = ()
    run: str = "onType"
    debounce_ms: int = 0
    max_file_size: int = 2_000_000

    def severity_of(self, code: str) -> str:
        return dict(self.severity).get(code, "warning")

    def enabled(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select


@dataclass
class LoadedSettings:
    settings: Settings
    source: Path | None = None
    warnings: list[str] = field(default_factory=list)


def parse_codes(value: str | list[str]) -> frozenset[str]:
    """`"ORM001, ORM002"` or `["ORM001"]` -> codes. Raises ValueError naming a bad code."""
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = {str(item).strip().upper() for item in items if str(item).strip()}
    bad = sorted(code for code in codes if not CODE_PATTERN.match(code))
    if bad:
        raise ValueError(f"not a rule code: {', '.join(bad)}")
    return frozenset(codes)


def settings_from_mapping(table: dict, base: Settings = Settings()) -> tuple[Settings, list[str]]:
    """Apply a `[tool.ormlens]`-shaped mapping (also used for editor settings). Bad keys are
    named in the returned warnings and skipped; the good ones still apply."""
    warnings: list[str] = []
    changes: dict = {}
    for key, value in table.items():
        # chunk-size (pyproject), chunk_size, chunkSize (editor settings) are one key.
        norm = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", key).replace("-", "_").lower()
        try:
            if norm in ("select", "ignore"):
                if not isinstance(value, (str, list)):
                    raise ValueError("expected a list of rule codes")
                changes[norm] = parse_codes(value)
            elif norm == "chunk_size":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError("expected a positive integer")
                changes[norm] = value
            elif norm == "chunk_functions":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("expected a list of function names")
                changes[norm] = frozenset(value)
            elif norm == "exclude":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("expected a list of glob patterns")
                changes[norm] = tuple(value)
            elif norm == "respect_gitignore":
                if not isinstance(value, bool):
                    raise ValueError("expected true or false")
                changes[norm] = value
            elif norm == "severity":
                if not isinstance(value, dict):
                    raise ValueError('expected a table of rule code to "error", "warning", "information" or "hint"')
                bad = [f"{k}={v!r}" for k, v in value.items()
                       if not CODE_PATTERN.match(str(k).upper()) or v not in SEVERITIES]
                if bad:
                    raise ValueError(f"bad entries {', '.join(bad)}")
                changes[norm] = tuple(sorted((str(k).upper(), v) for k, v in value.items()))
            elif norm == "run":
                if value not in RUN_MODES:
                    raise ValueError(f"expected one of {', '.join(RUN_MODES)}")
                changes[norm] = value
            elif norm in ("debounce_ms", "max_file_size"):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError("expected a non-negative integer")
                if norm == "debounce_ms" and value > MAX_DEBOUNCE_MS:
                    # A huge wait would look like a server that stopped answering.
                    warnings.append(f"setting '{key}' = {value} is over {MAX_DEBOUNCE_MS} ms: {MAX_DEBOUNCE_MS} used")
                    value = MAX_DEBOUNCE_MS
                changes[norm] = value
            else:
                warnings.append(f"unknown setting '{key}' ignored")
        except ValueError as exc:
            warnings.append(f"setting '{key}' ignored: {exc}")
    return replace(base, **changes), warnings


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    for directory in [start, *start.parents] if start.is_dir() else start.parents:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(start: Path) -> LoadedSettings:
    """Read `[tool.ormlens]` from the nearest pyproject.toml at or above `start`."""
    pyproject = find_pyproject(start)
    if pyproject is None:
        return LoadedSettings(Settings())
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(Settings(), pyproject, [f"{pyproject}: cannot read: {exc}"])
    table = data.get("tool", {}).get("ormlens", {})
    if not isinstance(table, dict):
        return LoadedSettings(Settings(), pyproject, [f"{pyproject}: [tool.ormlens] is not a table"])
    settings, warnings = settings_from_mapping(table)
    return LoadedSettings(settings, pyproject, [f"{pyproject}: {w}" for w in warnings])
