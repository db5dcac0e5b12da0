"""Settings: `[tool.ormlens]` in pyproject.toml (or an `ormlens.toml`), overridden by command-line
flags or client settings. One Settings object flows everywhere; unknown or ill-typed keys are
reported and skipped. An unknown rule code is an error for `ormlens check` (as in ruff) and a
warning in the editor (LoadedSettings.errors). Also where a project's root and its configuration
file are."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CODE_PATTERN = re.compile(r"^ORM\d{3}$")
# The codes of the rule registry (rules/__init__.py: it imports this module, so it cannot be read
# from here; tests/test_adoption.py keeps the two equal). `select` and friends take these or a
# prefix of them (`ORM`, `ORM00`), as ruff does.
RULE_CODES = ("ORM001", "ORM002", "ORM003", "ORM004", "ORM005")
DEFAULT_CHUNK_SIZE = 1000
SEVERITIES = ("error", "warning", "information", "hint")
RUN_MODES = ("onType", "onSave")
# `ormlens check --output-format` (output/): ruff's names; `text` is the old name of `concise`.
OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit")
OUTPUT_FORMAT_ALIASES = {"text": "concise"}
# The values of the `database` setting (analysis/database.py: DIALECTS).
DATABASES = ("postgresql", "sqlite", "mysql", "mariadb", "oracle", "mssql")
# A directory holding one of these is a project root (the nearest one above a file is its root).
ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "manage.py", ".git")
# A configuration file of its own: the same keys as `[tool.ormlens]`, at the top level (as ruff.toml).
CONFIG_FILE = "ormlens.toml"
# Code run once or by hand (issue #15): its findings are real but rarely worth fixing, so `ormlens
# check` counts them without showing them (`--include one-off` shows them) and the editor shows them
# at `one-off-severity`. Patterns as `exclude`'s (gitignore style, relative to the configuration's
# folder). Alembic revision scripts are one-off wherever they are (one_off.py reads them).
DEFAULT_ONE_OFF = (
    "**/migrations/", "**/*_migrations/", "**/alembic/",  # Django, Alembic and Flask-Migrate migrations
    "**/management/commands/",  # Django management commands
    "**/scripts/", "manage.py", "setup.py", "noxfile.py", "fabfile.py",
    "**/tests/", "**/test/", "test_*.py", "*_test.py", "*_tests.py", "conftest.py",
)
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
    # More import roots (`src` as in ruff): absolute once read from a configuration file (relative
    # to it); a relative one (editor settings) is relative to the project root.
    src: tuple[str, ...] = ()
    # Where `ormlens check` keeps its cache (cache.py); None: `.ormlens_cache` in the project root.
    # Absolute once read from a configuration file (relative to it).
    cache_dir: str | None = None
    # Skip what .gitignore files exclude when walking folders (as ruff's `respect-gitignore`).
    respect_gitignore: bool = True
    # Severity per rule code (default "warning"): the editor's diagnostic severity, the level in
    # `ormlens check`'s outputs, and whether a finding fails the run (error, warning) or not.
    severity: tuple[tuple[str, str], ...] = ()
    # `ormlens check`'s output format (one of OUTPUT_FORMATS); None: full on a terminal, else concise.
    output_format: str | None = None
    # Editor-only: when to analyse, how long to wait after a keystroke, and the size above which a
    # file is skipped.
    run: str = "onType"
    debounce_ms: int = 0
    max_file_size: int = 2_000_000
    one_off: tuple[str, ...] = DEFAULT_ONE_OFF
    one_off_severity: str = "information"
    # The database the project runs on (one of DATABASES); None: read from the
    # project (settings modules, engine URLs, .env files). ORM004 states its limit and fits its chunks to it.
    database: str | None = None
    # Rules off in some files, as ruff's `per-file-ignores`: (folder, gitignore-style pattern, codes);
    # the folder is the configuration file's (absolute), "" for the project root (editor settings).
    per_file_ignores: tuple[tuple[str, str, frozenset[str]], ...] = ()
    # Apply `exclude` to files named on the command line too (pre-commit names every staged file).
    force_exclude: bool = False

    def analysis_key(self) -> str:
        """The settings that change what the analysis finds (not where or how it is shown)."""
        return repr((self.select and sorted(self.select), sorted(self.ignore), self.chunk_size,
                     sorted(self.chunk_functions), self.src, self.database,
                     [(folder, pattern, sorted(codes)) for folder, pattern, codes in self.per_file_ignores]))

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
    # Every problem, one line each (the editor logs them all and goes on) ...
    warnings: list[str] = field(default_factory=list)
    # ... and those that stop `ormlens check` (exit 2): unknown rule codes.
    errors: list[str] = field(default_factory=list)
    # The keys the file set (normalised: `chunk_size`), for `ormlens config`.
    keys: tuple[str, ...] = ()


class UnknownCode(ValueError):
    """A rule code (or prefix) that names no rule."""


def parse_codes(value: str | list[str]) -> frozenset[str]:
    """`"ORM001, ORM002"`, `["ORM00"]` or `"ORM"` -> the codes named, a prefix standing for every
    code it begins (as in ruff). Raises UnknownCode naming what names no rule."""
    items = value.split(",") if isinstance(value, str) else list(value)
    given = [str(item).strip().upper() for item in items if str(item).strip()]
    codes = {code for item in given for code in RULE_CODES if code.startswith(item)}
    bad = sorted({item for item in given if not any(code.startswith(item) for code in RULE_CODES)})
    if bad:
        raise UnknownCode(f"not a rule code: {', '.join(bad)} (the codes are {', '.join(RULE_CODES)}, "
                          "or a prefix of them such as ORM)")
    return frozenset(codes)


def normalise_key(key: str) -> str:
    """chunk-size (pyproject), chunk_size, chunkSize (editor settings) are one key: `chunk_size`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", key).replace("-", "_").lower()


def settings_from_mapping(table: dict, base: Settings = Settings()) -> tuple[Settings, list[str]]:
    """Apply a `[tool.ormlens]`-shaped mapping (also used for editor settings). Bad keys are
    named in the returned warnings and skipped; the good ones still apply."""
    settings, warnings, _ = settings_and_errors(table, base)
    return settings, warnings


def settings_and_errors(table: dict, base: Settings = Settings()) -> tuple[Settings, list[str], list[str]]:
    """As settings_from_mapping, and which of the warnings are unknown rule codes (fatal to the CLI)."""
    warnings: list[str] = []
    errors: list[str] = []
    changes: dict = {}
    extend_one_off: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    extend_select: frozenset[str] = frozenset()
    for key, value in table.items():
        norm = normalise_key(key)
        try:
            if norm in ("select", "ignore", "extend_select"):
                if not isinstance(value, (str, list)):
                    raise ValueError("expected a list of rule codes")
                if norm == "extend_select":
                    extend_select = parse_codes(value)
                else:
                    changes[norm] = parse_codes(value)
            elif norm == "per_file_ignores":
                changes[norm] = _per_file_ignores(value)
            elif norm == "chunk_size":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError("expected a positive integer")
                changes[norm] = value
            elif norm == "chunk_functions":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("expected a list of function names")
                changes[norm] = frozenset(value)
            elif norm in ("exclude", "one_off", "extend_one_off", "extend_exclude"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError("expected a list of glob patterns")
                if norm == "extend_one_off":  # on top of `one-off` wherever that is set
                    extend_one_off = tuple(value)
                elif norm == "extend_exclude":  # on top of `exclude`, as ruff's
                    extend_exclude = tuple(value)
                else:
                    changes[norm] = tuple(value)
            elif norm == "one_off_severity":
                if value not in SEVERITIES:
                    raise ValueError(f"expected one of {', '.join(SEVERITIES)}")
                changes[norm] = value
            elif norm == "src":
                if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                    raise ValueError("expected a list of directories")
                changes[norm] = tuple(value)
            elif norm == "cache_dir":
                if not isinstance(value, str) or not value:
                    raise ValueError("expected a directory")
                changes[norm] = value
            elif norm in ("respect_gitignore", "force_exclude"):
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
            elif norm == "output_format":
                if value not in (*OUTPUT_FORMATS, *OUTPUT_FORMAT_ALIASES):
                    raise ValueError(f"expected one of {', '.join(OUTPUT_FORMATS)}")
                changes[norm] = OUTPUT_FORMAT_ALIASES.get(value, value)
            elif norm == "database":
                if value not in DATABASES:
                    raise ValueError(f"expected one of {', '.join(DATABASES)}")
                changes[norm] = value
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
            if isinstance(exc, UnknownCode):
                errors.append(f"setting '{key}': {exc}")
    if extend_one_off:
        changes["one_off"] = (*changes.get("one_off", base.one_off), *extend_one_off)
    if extend_exclude:
        changes["exclude"] = (*changes.get("exclude", base.exclude), *extend_exclude)
    select = changes.get("select", base.select)
    if extend_select and select is not None:  # None is every rule already
        changes["select"] = select | extend_select
    return replace(base, **changes), warnings, errors


def _per_file_ignores(value: object) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """`{"glob" = ["ORM001"], ...}` -> entries relative to the project root (load_config anchors
    them to the configuration file's folder)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (str, list))
                                              for k, v in value.items()):
        raise ValueError("expected a table of glob pattern to a list of rule codes")
    return tuple(("", pattern, parse_codes(codes)) for pattern, codes in value.items())


def _upwards(start: Path) -> list[Path]:
    """`start` (or a file's directory) and its ancestors, nearest first."""
    start = start.resolve()
    return [start, *start.parents] if start.is_dir() else list(start.parents)


def find_root(start: Path) -> Path | None:
    """The project root of a file or folder: the nearest directory at or above it that holds
    pyproject.toml, setup.py, setup.cfg, manage.py or .git; None when there is none."""
    return next((d for d in _upwards(start) if any((d / m).exists() for m in ROOT_MARKERS)), None)


def find_config(start: Path) -> Path | None:
    """The configuration of a file or folder, as ruff finds its own: the nearest `ormlens.toml`,
    or `pyproject.toml` with a `[tool.ormlens]` table (`ormlens.toml` first in one directory)."""
    for directory in _upwards(start):
        if (directory / CONFIG_FILE).is_file():
            return directory / CONFIG_FILE
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def _has_table(pyproject: Path) -> bool:
    try:
        stat = pyproject.stat()
    except OSError:
        return False
    return _file_has_table(str(pyproject), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _file_has_table(path: str, mtime_ns: int, size: int) -> bool:
    """(Keyed by modification time and size too: a file changed meanwhile is read again.)"""
    pyproject = Path(path)
    try:
        raw = pyproject.read_bytes()
    except OSError:
        return False
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return b"[tool.ormlens" in raw  # broken, but meant for ormlens: load_config says what is wrong
    tool = data.get("tool")
    return isinstance(tool, dict) and "ormlens" in tool


def load_settings(start: Path) -> LoadedSettings:
    """The settings of the nearest configuration file at or above `start` (find_config)."""
    config = find_config(start)
    return load_config(config) if config is not None else LoadedSettings(Settings())


def load_config(path: Path) -> LoadedSettings:
    """Read a configuration file: `[tool.ormlens]` of a `pyproject.toml`, the top level of any
    other file (`ormlens.toml`). `src` entries become absolute, relative to the file's folder."""
    path = path.resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(Settings(), path, [f"{path}: cannot read: {exc}"])
    table = data.get("tool", {}).get("ormlens", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        return LoadedSettings(Settings(), path, [f"{path}: [tool.ormlens] is not a table"])
    settings, warnings, errors = settings_and_errors(table)
    # The keys it set (a key skipped with a warning leaves the default in place).
    keys = tuple(normalise_key(key) for key in table if not any(f"'{key}' ignored" in w for w in warnings))
    if settings.per_file_ignores:
        settings = replace(settings, per_file_ignores=tuple(
            (str(path.parent), pattern, codes) for _, pattern, codes in settings.per_file_ignores))
    if settings.src:
        settings = replace(settings, src=tuple(str((path.parent / s).resolve()) for s in settings.src))
    if settings.cache_dir:
        settings = replace(settings, cache_dir=str((path.parent / settings.cache_dir).resolve()))
    return LoadedSettings(settings, path, [f"{path}: {w}" for w in warnings], [f"{path}: {e}" for e in errors], keys)
