"""The database a project runs on, read from its text (nothing is imported or run): what ORM004
states as the limit an IN list meets, and the chunk size it advises and its quick fix writes.

Where it is read:

* Django settings: a dict with an `"ENGINE"` (`DATABASES = {"default": {"ENGINE":
  "django.db.backends.postgresql"}}`, `DATABASES["default"]["ENGINE"] = ...`), a database URL
  given to `dj_database_url.config(default=...)` / `.parse(...)` or `env.db("DATABASE_URL",
  default=...)`;
* SQLAlchemy: the URL of `create_engine(...)`, `create_async_engine(...)`, `make_url(...)`,
  `URL.create("postgresql+psycopg2", ...)`; a name, attribute, key or keyword argument called
  `SQLALCHEMY_DATABASE_URI`, `DATABASE_URL`, `DB_URL`... (Flask's `app.config[...]`, a config class);
  `os.environ.get("DATABASE_URL", "<default>")`, `os.getenv(...)`, `env("X", default=...)`;
* `.env`, `.env.example`, `.env.sample` at the project root (`DATABASE_URL=...`), and alembic.ini's
  `sqlalchemy.url`.

A value is its string literal, the literal prefix of an f-string or a concatenation (the scheme is
what counts), a module-level name of the same module bound to one, or the default of an
environment lookup (`os.environ.get(k, "sqlite://")`, `x or "sqlite://"`: a fallback, weaker
evidence than a value written out). Only the modules whose text names `DATABASE`, `create_engine`,
`create_async_engine`, `make_url` or `URL.create` are parsed (again: the index may have released
their function bodies).

What tests, examples, docs and project templates name is not the project's database (`tests/`,
`test_settings.py`, `conftest.py`, `testserver.py`, `examples/`, `project_template/`, a `TestingConfig`
class, a `test_*` function): projects test on SQLite and run on another database. Of the others,
the best placed wins: the project's modules before its development settings (`local.py`, `dev/`, a
`DevelopmentConfig` class); then the most strongly said: a value at module or class level written
out, before one in a function (code that builds a URL for its own purpose) or an environment
default, before an environment default in a function. Among the equals, the strictest database
(the smallest chunk that fits): chunks that fit it fit the others too. The `database` setting wins
over all of it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

# The dependency node of the database (dependencies.py): what asked for it reads it.
DATABASE = "<database>"
# Modules whose text holds one of these are parsed for a database; the others cannot name one.
# (Substrings: 1 GB/s each, where a regular expression of them all scans at 60 MB/s.)
MENTIONS = ("DATABASES", "DATABASE_UR", "database_ur", "DB_UR", "db_ur", "SQLALCHEMY_URL", "sqlalchemy.url",
            "create_engine", "create_async_engine", "make_url", "URL.create")
# Files at the project root that may hold a database URL (`KEY=value` lines; alembic.ini: `sqlalchemy.url = ...`).
ROOT_FILES = (".env", ".env.example", ".env.sample", "alembic.ini")
# Names (variables, attributes, keys, keyword arguments, environment variables) that hold a database URL.
URL_NAME = re.compile(r"(?:^|_|\.)(?:DATABASE_UR[LI]|DB_UR[LI]|SQLALCHEMY_URL|SQLALCHEMY\.URL)$", re.IGNORECASE)

LITERAL, FALLBACK = 0, 1           # how strongly a value says it: written out, or an environment default
# Where it is said: the project; its development settings; not the project's own (tests, examples,
# docs, project templates: projects test on SQLite and run on another database).
MAIN, DEVELOPMENT, ELSEWHERE = 0, 1, 2
ELSEWHERE_PART = re.compile(r"^test|^conftest$|^ci$|[_-]tests?$|^(?:docs?|examples?|samples?|demos?|tutorials?"
                            r"|fixtures|benchmarks?|skeletons?|scaffold)$|templates?$|^\.")  # (.github, .ci)
DEVELOPMENT_PART = re.compile(r"^(?:dev|develop|development|local)$|^(?:dev|local)_|_(?:dev|local)$")
# A class or function of tests (`TestingConfig`, `test_engine`, `IntegrationTest`; not `latest`), of development.
TEST_NAME = re.compile(r"(?:^|_)[Tt]est|[a-z]Test")
DEVELOPMENT_NAME = re.compile(r"^(?:[Dd]ev(?:elopment)?|[Ll]ocal)(?:[A-Z_]|$)")


@dataclass(frozen=True)
class Dialect:
    key: str      # the value of the `database` setting that names it
    name: str
    limit: str    # the limit ORM004 states: "SQL Server allows 2,100 per statement"
    fit: int      # the largest chunk that fits it, with room for the statement's other parameters


DIALECTS = {
    "postgresql": Dialect("postgresql", "PostgreSQL", "PostgreSQL allows 65,535 per statement", 60_000),
    # psycopg2 (SQLAlchemy's default driver, Django's) and Django's psycopg 3 cursors inline the values.
    "postgresql+inline": Dialect("postgresql", "PostgreSQL",
                                 "PostgreSQL allows 65,535 per statement (psycopg inlines them)", 60_000),
    "postgresql+asyncpg": Dialect("postgresql", "PostgreSQL (asyncpg)", "asyncpg allows 32,767 per statement", 30_000),
    # 999 before SQLite 3.32 (still in Ubuntu 20.04, and the compiled-in default of some builds).
    "sqlite": Dialect("sqlite", "SQLite", "SQLite allows 32,766 per statement (999 before 3.32)", 900),
    "mysql": Dialect("mysql", "MySQL", "MySQL allows 65,535 per prepared statement (most drivers inline them)",
                     60_000),
    "mariadb": Dialect("mariadb", "MariaDB",
                       "MariaDB allows 65,535 per prepared statement (most drivers inline them)", 60_000),
    "oracle": Dialect("oracle", "Oracle", "Oracle allows 1,000 per IN list", 1_000),
    "mssql": Dialect("mssql", "SQL Server", "SQL Server allows 2,100 per statement", 2_000),
}


@dataclass(frozen=True)
class Database:
    dialect: Dialect
    source: str  # where it was read: "settings/production.py:12", ".env:3", "setting `database`"

    def chunk(self, size: int) -> int:
        """The chunk size to advise: the chunk-size setting, at most what fits this database."""
        return min(size, self.dialect.fit)


@dataclass(frozen=True)
class Found:
    key: str  # of DIALECTS
    place: int
    strength: int
    source: str


def from_setting(value: str) -> Database:
    return Database(DIALECTS[value], "setting `database`")


def dialect_of_url(url: str, django: bool = False) -> str | None:
    """The DIALECTS key of a database URL (`postgresql+psycopg2://...`, `postgres://...`,
    dj-database-url's schemes), or None when it names no database of the table."""
    match = re.match(r"\s*([A-Za-z][A-Za-z0-9+.\-]*)://", url)
    if match is None:
        return None
    name, _, driver = match.group(1).lower().partition("+")
    if name.startswith(("postgres", "pgsql", "postgis", "timescale")):
        if driver == "asyncpg":
            return "postgresql+asyncpg"
        # psycopg 3 and pg8000 bind on the server; psycopg2 (the default) inlines, as Django's cursors do.
        return "postgresql" if driver in ("psycopg", "pg8000", "psycopg_async") and not django \
            else "postgresql+inline"
    if name.startswith(("sqlite", "spatialite")):
        return "sqlite"
    if name.startswith("maria"):
        return "mariadb"
    if name.startswith("mysql"):
        return "mysql"
    if name.startswith("oracle"):
        return "oracle"
    if name.startswith(("mssql", "sqlserver")):
        return "mssql"
    return None


def dialect_of_engine(engine: str) -> str | None:
    """The DIALECTS key of a Django database backend (`django.db.backends.postgresql`, `mssql`,
    `sql_server.pyodbc`, `django.contrib.gis.db.backends.postgis`, `django_tenants.postgresql_backend`)."""
    engine = engine.lower()
    if "://" in engine or "." not in engine and engine not in ("mssql", "sql_server"):
        return None
    if "postg" in engine:
        return "postgresql+inline"
    if "sqlite" in engine or "spatialite" in engine:
        return "sqlite"
    if "mysql" in engine:
        return "mysql"
    if "oracle" in engine:
        return "oracle"
    if "mssql" in engine or "sql_server" in engine or "sqlserver" in engine:
        return "mssql"
    return None


def place_of_path(path: str, root: Path | None) -> int:
    """Where a module sits: tests, development (docs, examples, local settings) or the project."""
    file = Path(path)
    try:
        parts = file.relative_to(root).parts if root is not None else file.parts[-3:]
    except ValueError:
        parts = file.parts[-3:]
    names = [part.lower() for part in parts[:-1]] + [file.stem.lower()]
    if any(ELSEWHERE_PART.search(name) for name in names):
        return ELSEWHERE
    if any(DEVELOPMENT_PART.search(name) for name in names):
        return DEVELOPMENT
    return MAIN


def place_of_scope(name: str) -> int:
    """Where a class or function puts what it holds: `TestingConfig`, `test_x` (tests), `DevConfig`."""
    if TEST_NAME.search(name):
        return ELSEWHERE
    if DEVELOPMENT_NAME.search(name):
        return DEVELOPMENT
    return MAIN


# --- Python modules ------------------------------------------------------------------------------


def _name_of(node: ast.expr) -> str | None:
    """The name an assignment target or a key gives: `X`, `app.config.X`, `config["X"]`, `"X"`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return "?"


def _is_environment_name(node: ast.expr) -> bool:
    """`"DATABASE_URL"`: an upper-case literal, as environment variables are named."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and \
        re.fullmatch(r"[A-Z][A-Z0-9_]*", node.value) is not None


class _Module:
    def __init__(self, tree: ast.Module) -> None:
        # Module-level names bound once to a value: `DATABASE_URL = "..."`, then `create_engine(DATABASE_URL)`.
        self.names: dict[str, ast.expr] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                    isinstance(statement.targets[0], ast.Name):
                self.names[statement.targets[0].id] = statement.value
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
                self.names[statement.target.id] = statement.value

    def strings(self, node: ast.expr | None, strength: int = LITERAL, depth: int = 0) -> list[tuple[str, int]]:
        """The strings `node` may be (their known prefix), each with how strongly it is said."""
        if node is None or depth > 6:
            return []
        if isinstance(node, ast.Constant):
            return [(node.value, strength)] if isinstance(node.value, str) else []
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            return [(first.value, strength)] if isinstance(first, ast.Constant) and isinstance(first.value, str) else []
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            return self.strings(node.left, strength, depth + 1)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return [found for i, value in enumerate(node.values)
                    for found in self.strings(value, strength if i == 0 else FALLBACK, depth + 1)]
        if isinstance(node, ast.IfExp):
            return [*self.strings(node.body, FALLBACK, depth + 1), *self.strings(node.orelse, FALLBACK, depth + 1)]
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.strings(self.names[node.id], strength, depth + 1)
        if isinstance(node, ast.Call):
            return self.call_strings(node, strength, depth)
        return []

    def call_strings(self, node: ast.Call, strength: int, depth: int) -> list[tuple[str, int]]:
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
        if default is None and len(node.args) == 2 and _is_environment_name(node.args[0]):
            default = node.args[1]  # os.environ.get("DATABASE_URL", "sqlite://"), os.getenv(...)
        if default is not None:     # ... or env("X", default=...), dj_database_url.config(default=...)
            return self.strings(default, FALLBACK, depth + 1)
        if method == "format" and isinstance(func, ast.Attribute):
            return self.strings(func.value, strength, depth + 1)
        if method in ("parse", "make_url", "create") and node.args:  # dj_database_url.parse(url), URL.create(...)
            return self.strings(node.args[0], strength, depth + 1)
        return []


def scan_module(path: str, text: str, root: Path | None) -> list[Found]:
    """The databases a module names (none when it does not parse)."""
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    module = _Module(tree)
    relative = _relative(path, root)
    found: list[Found] = []

    def add(key: str | None, place: int, strength: int, node: ast.AST) -> None:
        if key is not None and place < ELSEWHERE:
            # A literal in a function is code building a URL for its purpose, not the project's setting.
            found.append(Found(key, place, strength + in_function, f"{relative}:{getattr(node, 'lineno', 0)}"))

    def urls(value: ast.expr | None, place: int, node: ast.AST, django: bool = False) -> None:
        for string, strength in module.strings(value):
            add(dialect_of_url(string, django), place, strength, node)

    def engines(value: ast.expr | None, place: int, node: ast.AST) -> None:
        for string, strength in module.strings(value):
            add(dialect_of_engine(string), place, strength, node)

    def settings(value: ast.expr, place: int) -> None:
        """A Django `DATABASES` value (or one of its entries): ENGINEs and database URLs inside."""
        for inner in ast.walk(value):
            if isinstance(inner, ast.Call):
                urls(inner, place, inner, django=True)

    start = place_of_path(path, root)
    pending: list[tuple[ast.AST, int, int]] = [(tree, start, 0)] if start < ELSEWHERE else []
    while pending:
        node, place, in_function = pending.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            place = max(place, place_of_scope(node.name))
            in_function = in_function or not isinstance(node, ast.ClassDef)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                name = _name_of(target)
                if name is None:
                    continue
                base = target
                while isinstance(base, ast.Subscript):
                    base = base.value
                if _name_of(base) == "DATABASES":  # DATABASES = {...}, DATABASES["default"] = ...
                    settings(node.value, place)
                if name == "ENGINE" and isinstance(target, ast.Subscript):
                    engines(node.value, place, node)
                elif URL_NAME.search(name):
                    urls(node.value, place, node)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
                if name == "ENGINE":
                    engines(value, place, value)
                elif name is not None and URL_NAME.search(name):
                    urls(value, place, value)
        elif isinstance(node, ast.Call):
            func = _dotted(node.func)
            last = func.rsplit(".", 1)[-1]
            if last in ("create_engine", "create_async_engine", "make_url"):
                urls(next((kw.value for kw in node.keywords if kw.arg == "url"),
                          node.args[0] if node.args else None), place, node)
            elif last == "create" and func.endswith("URL.create"):  # URL.create("postgresql+psycopg2", ...)
                for string, strength in module.strings(next(
                        (kw.value for kw in node.keywords if kw.arg == "drivername"),
                        node.args[0] if node.args else None)):
                    add(dialect_of_url(f"{string}://"), place, strength, node)
            elif "database_url" in func or last in ("db", "db_url"):  # dj_database_url.config(default=...), env.db(...)
                urls(node, place, node, django=True)
            elif node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                    and URL_NAME.search(node.args[0].value):
                if last in ("get", "getenv", "setdefault", "env", "config") or \
                        any(kw.arg == "default" for kw in node.keywords):
                    urls(node, place, node)  # os.environ.get("DATABASE_URL", "..."): its default, a fallback
                elif len(node.args) == 2:  # config.set_main_option("sqlalchemy.url", "...")
                    urls(node.args[1], place, node)
            for keyword in node.keywords:  # app.config.update(SQLALCHEMY_DATABASE_URI="...")
                if keyword.arg is not None and URL_NAME.search(keyword.arg):
                    urls(keyword.value, place, keyword.value)
        pending.extend((child, place, in_function) for child in ast.iter_child_nodes(node))
    return found


# --- files at the root ---------------------------------------------------------------------------

ASSIGNMENT_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(.*?)\s*$")


def scan_root_file(path: Path, text: str) -> list[Found]:
    """`DATABASE_URL=postgres://...` lines of a `.env`; `sqlalchemy.url = ...` of alembic.ini."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = ASSIGNMENT_LINE.match(line)
        if match is None or not URL_NAME.search(match.group(1)):
            continue
        key = dialect_of_url(match.group(2).strip("'\""))
        if key is not None:
            found.append(Found(key, MAIN, LITERAL, f"{path.name}:{number}"))
    return found


def root_files(root: Path | None) -> list[Path]:
    return [root / name for name in ROOT_FILES] if root is not None else []


# --- the choice ----------------------------------------------------------------------------------


def detect(root: Path | None, modules: dict[str, str], files: dict[Path, str]) -> Database | None:
    """The database of a project from the texts of its modules (those that do not mention one are
    skipped at once) and of its root files (ROOT_FILES that exist: path -> text)."""
    found: list[Found] = []
    for path, text in modules.items():
        found += found_in_module(path, text, root)
    for path, text in files.items():
        found += scan_root_file(path, text)
    return choose(found)


def found_in_module(path: str, text: str, root: Path | None) -> list[Found]:
    """The databases a module names: none, at once, when its text cannot name one or it is a test,
    an example, a template (ELSEWHERE)."""
    if not mentions(text) or place_of_path(path, root) == ELSEWHERE:
        return []
    return scan_module(path, text, root)


def found_in_root_files(root: Path | None) -> tuple[list[Found], list[Path]]:
    """The databases the files at the root name, and every file looked for (present or not)."""
    found: list[Found] = []
    files = root_files(root)
    for file in files:
        try:
            found += scan_root_file(file, file.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            pass
    return found, files


def choose(found: list[Found]) -> Database | None:
    """The best placed, then the most strongly said; among those, the strictest (the smallest fit)."""
    if not found:
        return None
    best = min((f.place, f.strength) for f in found)
    chosen = min((f for f in found if (f.place, f.strength) == best),
                 key=lambda f: (DIALECTS[f.key].fit, f.key, f.source))
    return Database(DIALECTS[chosen.key], chosen.source)


def said(found: list[Found]) -> set[tuple[str, int, int]]:
    """What `found` says, wherever in its module: an edit that keeps it changes no database."""
    return {(f.key, f.place, f.strength) for f in found}


def mentions(text: str | None) -> bool:
    """Can a module with this text name a database? (Its edits change the project's.)"""
    return text is not None and any(key in text for key in MENTIONS)


def _relative(path: str, root: Path | None) -> str:
    try:
        return Path(path).relative_to(root).as_posix() if root is not None else Path(path).name
    except ValueError:
        return Path(path).name
