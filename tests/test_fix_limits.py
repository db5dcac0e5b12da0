"""ORM004 proven on real limits: the unchunked `.in_()` of the seed fails, ormlens's own fix passes.

`examples/batched_but_quadratic.py` binds every id of `user_ids` in one `.in_()`. The fixed
module is what ormlens writes: every finding ormlens reports on the file, fixed with
`ormlens.engine.fix_files(..., unsafe=True)` (what `--fix --unsafe-fixes` writes). Both run against a real database:

* SQLite, its variable limit lowered to 32,766 with `sqlite3.Connection.setlimit`: the unfixed code
  with 40,000 distinct ids raises "too many SQL variables";
* PostgreSQL through psycopg 3, a throwaway server (`pg_cluster.py`): psycopg 3 binds on the
  server (SQLAlchemy's `postgresql+psycopg` renders the `IN` as one placeholder per value, and the
  server receives them as `$1 ... $n`), so 70,000 ids are 70,000 bind parameters, past the wire
  protocol's 65,535 (the Bind message counts them in an Int16). libpq enforces that limit as it
  sends the statement: "number of parameters must be between 0 and 65535";

and on both the fixed code returns the right result (computed from the seeded rows, never pasted
from a run) with one Session and one Payment SELECT per chunk of 1,000 distinct ids.
"""

from __future__ import annotations

import importlib
import math
import random
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

flask = pytest.importorskip("flask")
sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("flask_sqlalchemy")
psycopg = pytest.importorskip("psycopg")

from sqlalchemy import event, func, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from ormlens.config import Settings  # noqa: E402
from ormlens.engine import check_files, fix_files  # noqa: E402
from pg_cluster import postgres_url  # noqa: E402,F401 - the fixture

# SQLite has no native DECIMAL: SQLAlchemy warns when it converts `Numeric` through floats.
# Every amount seeded here has two decimals, so the values read back are exact.
pytestmark = pytest.mark.filterwarnings("ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
UNFIXED = "batched_but_quadratic"
FIXED = "batched_but_quadratic_fixed"
MODULE_NAMES = ("models", UNFIXED, FIXED)

CHUNK = Settings().chunk_size  # what the fix chunks by
SQLITE_VARIABLE_LIMIT = 32_766  # SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32
PG_PARAMETER_LIMIT = 65_535  # the Bind message counts parameters in an Int16
PG_LIMIT_ERROR = f"number of parameters must be between 0 and {PG_PARAMETER_LIMIT}"
N_USERS = 300  # users with rows; every other id is unknown
NULL_AMOUNT_USERS = (7, 9, 151)  # a payment still NULL (refund in flight)


# --- the fixed module: what ormlens writes ---------------------------------------------------------


def apply_ormlens_fixes(path: Path, root: Path) -> str:
    """What `ormlens check --fix --unsafe-fixes` writes for `path` (the engine's own fix loop)."""
    [outcome] = fix_files([path], Settings(), root, unsafe=True)
    assert outcome.error is None and outcome.applied, outcome
    outcome.write()  # in place, as --fix does
    return outcome.fixed


@pytest.fixture(scope="module")
def modules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models.py and the unfixed module, copied from examples/ (byte for byte)."""
    directory = tmp_path_factory.mktemp("fix_limits")
    for name in ("models", UNFIXED):
        shutil.copy(EXAMPLES / f"{name}.py", directory / f"{name}.py")
    return directory


@pytest.fixture(scope="module")
def fixed_source(modules_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module ormlens fixed, written next to the copied models.py as `batched_but_quadratic_fixed`."""
    # the findings ormlens reports on the seed itself
    seed_files = [EXAMPLES / "models.py", EXAMPLES / f"{UNFIXED}.py"]
    on_seed = check_files(seed_files, Settings(), EXAMPLES).findings
    assert {f.code for f in on_seed if Path(f.path).name == f"{UNFIXED}.py"} >= {"ORM004", "ORM003", "ORM005"}

    # fixed in a directory of its own, under its own name, alone with models.py as in examples/
    fixing = tmp_path_factory.mktemp("fixing") / f"{UNFIXED}.py"
    shutil.copy(EXAMPLES / "models.py", fixing.parent / "models.py")
    shutil.copy(EXAMPLES / f"{UNFIXED}.py", fixing)
    on_copy = check_files(sorted(fixing.parent.glob("*.py")), Settings(), fixing.parent).findings
    assert [(f.code, f.span) for f in on_copy] == [(f.code, f.span) for f in on_seed]  # analysed as the seed

    fixed = apply_ormlens_fixes(fixing, fixing.parent)
    assert ".in_(user_ids)" not in fixed, (
        "ormlens did not fix the unchunked .in_(user_ids) (is the ORM004 fix kind registered in "
        f"ormlens.fixes.BUILDERS?):\n{fixed}")
    left = check_files(sorted(fixing.parent.glob("*.py")), Settings(), fixing.parent).findings
    assert [f for f in left if f.code == "ORM004"] == [], "the fixed module still has an unchunked IN"
    (modules_dir / f"{FIXED}.py").write_text(fixed, encoding="utf-8")
    return fixed


# --- seeded data ------------------------------------------------------------------------------------


@dataclass
class Seed:
    sessions: dict[int, int] = field(default_factory=dict)  # user id -> number of sessions
    payments: dict[int, list[Decimal | None]] = field(default_factory=dict)  # user id -> amounts

    def expected(self, user_ids: list[int]) -> dict[int, dict]:
        """The function's contract: one entry per id, in first-seen order, a NULL amount counted as 0."""
        return {
            uid: {
                "session_count": self.sessions.get(uid, 0),
                "total_revenue": sum((a or 0) for a in self.payments.get(uid, [])),
            }
            for uid in user_ids
        }


def planned_rows(uid: int) -> tuple[int, list[Decimal | None]]:
    """0-4 sessions, 0-2 payments, every 10th user none; a few users have a NULL amount too."""
    if uid % 10 == 0:
        return 0, []
    amounts: list[Decimal | None] = [Decimal(uid) + Decimal("0.25") * (j + 1) for j in range(uid % 3)]
    if uid in NULL_AMOUNT_USERS:
        amounts.append(None)
    return (3 * uid) % 5, amounts


def many_ids(n_distinct: int) -> tuple[list[int], int]:
    """`n_distinct` distinct ids, shuffled, every seeded user among them and most unknown, then three
    repeats that fall in other chunks than their first occurrence. Returns (ids, distinct count)."""
    distinct = list(range(1, n_distinct + 1))
    random.Random(n_distinct).shuffle(distinct)
    ids = [*distinct, distinct[0], distinct[CHUNK + 1], 7]
    assert len(set(ids)) == n_distinct and len(ids) > n_distinct
    return ids, n_distinct


# --- the environment ------------------------------------------------------------------------------


class Env:
    def __init__(self, modules: dict[str, ModuleType]):
        self.modules = modules
        self.models = modules["models"]
        self.db = self.models.db
        self.unfixed = modules[UNFIXED]
        self.statements: list[tuple[str, object, type]] = []  # (SQL, parameters, cursor class)

    @property
    def fixed(self) -> ModuleType:
        return self.modules[FIXED]  # imported when the `fixed_source` fixture wrote it

    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters, type(cursor)))

    def reset(self) -> None:
        self.statements.clear()

    def selects(self) -> list[tuple[str, object, type]]:
        return [s for s in self.statements if s[0].lstrip().upper().startswith("SELECT")]

    def seed(self) -> Seed:
        m, db = self.models, self.db
        seed = Seed()
        start = datetime(2024, 1, 1)
        minute = 0
        for uid in range(1, N_USERS + 1):
            db.session.add(m.User(id=uid, email=f"user{uid}@example.com"))
        db.session.flush()
        for uid in range(1, N_USERS + 1):
            n_sessions, amounts = planned_rows(uid)
            for _ in range(n_sessions):
                minute += 1
                db.session.add(m.Session(user_id=uid, started_at=start + timedelta(minutes=minute)))
            for amount in amounts:
                db.session.add(m.Payment(user_id=uid, amount=amount))
            if n_sessions:
                seed.sessions[uid] = n_sessions
            if amounts:
                seed.payments[uid] = amounts
        db.session.commit()
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(m.User) == N_USERS
        assert count(m.Session) == sum(seed.sessions.values())
        assert count(m.Payment) == sum(len(a) for a in seed.payments.values())
        assert db.session.scalar(select(func.count()).select_from(m.Payment).where(m.Payment.amount.is_(None))) \
            == len(NULL_AMOUNT_USERS)
        self.reset()
        return seed


@contextmanager
def environment(directory: Path, uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    saved = {name: sys.modules.pop(name, None) for name in MODULE_NAMES}
    monkeypatch.syspath_prepend(str(directory))
    try:
        present = [name for name in MODULE_NAMES if (directory / f"{name}.py").exists()]
        modules = {name: importlib.import_module(name) for name in present}
        models = modules["models"]
        for name in present[1:]:  # one `models` module, so one `db`
            assert modules[name].Session is models.Session and modules[name].Payment is models.Payment
            assert Path(modules[name].__file__).parent == directory
        app = flask.Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
        models.db.init_app(app)
        with app.app_context():
            engine = models.db.engine
            models.db.create_all()
            env = Env(modules)
            event.listen(engine, "before_cursor_execute", env.on_execute)
            try:
                yield env
            finally:
                event.remove(engine, "before_cursor_execute", env.on_execute)
                models.db.session.rollback()
                models.db.drop_all()  # the PostgreSQL database outlives this test
                models.db.session.remove()
                engine.dispose()
    finally:
        for name in MODULE_NAMES:
            sys.modules.pop(name, None)
            if saved[name] is not None:
                sys.modules[name] = saved[name]


@pytest.fixture
def sqlite_env(modules_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with environment(modules_dir, "sqlite://", monkeypatch) as env:
        # in-memory SQLite: one shared connection (StaticPool), so the limit holds for every query
        assert isinstance(env.db.engine.pool, sa.pool.StaticPool)
        raw = env.db.session.connection().connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQLITE_VARIABLE_LIMIT)
        assert raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == SQLITE_VARIABLE_LIMIT
        env.db.session.commit()
        yield env
        assert env.db.session.connection().connection.driver_connection is raw
        assert raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == SQLITE_VARIABLE_LIMIT


@pytest.fixture
def pg_env(modules_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:  # noqa: F811
    assert postgres_url.startswith("postgresql+psycopg://")
    with environment(modules_dir, postgres_url, monkeypatch) as env:
        raw = env.db.session.connection().connection.driver_connection
        assert isinstance(raw, psycopg.Connection)  # psycopg 3, not psycopg2
        # server-side binding: the cursors are not psycopg's ClientCursor (which would inline values)
        assert not issubclass(raw.cursor_factory, psycopg.ClientCursor)
        env.db.session.commit()
        yield env


def assert_fixed_run(env: Env, seed: Seed, ids: list[int], n_distinct: int, limit: int) -> None:
    env.reset()
    result = env.fixed.get_user_analytics(ids)
    selects = env.selects()
    assert len(env.statements) == len(selects)  # nothing but SELECTs
    # one Session and one Payment SELECT per chunk of 1,000 distinct ids
    assert len(selects) == 2 * math.ceil(n_distinct / CHUNK)
    assert max(len(params) for _, params, _ in selects) == CHUNK < limit
    assert sum(len(params) for _, params, _ in selects) == 2 * n_distinct  # each distinct id bound once per model
    assert result == seed.expected(ids)
    assert list(result) == list(dict.fromkeys(ids))  # same keys, first-seen order
    # the seeded rows really are in there: counts, revenue, and the NULL amounts counted as 0
    assert sum(r["session_count"] for r in result.values()) == sum(seed.sessions.values())
    assert result[NULL_AMOUNT_USERS[0]]["total_revenue"] == sum(
        a for a in seed.payments[NULL_AMOUNT_USERS[0]] if a is not None) > 0


# --- SQLite: 40,000 ids against a limit of 32,766 ---------------------------------------------------


def test_sqlite_control_the_lowered_limit_is_in_effect(sqlite_env: Env) -> None:
    Session = sqlite_env.models.Session
    ids = list(range(1, SQLITE_VARIABLE_LIMIT + 2))
    sqlite_env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids[:-1]))).all()
    with pytest.raises(OperationalError, match="too many SQL variables"):
        sqlite_env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids))).all()
    sqlite_env.db.session.rollback()


def test_sqlite_unfixed_in_fails_past_the_limit(sqlite_env: Env) -> None:
    sqlite_env.seed()
    ids, n_distinct = many_ids(40_000)
    assert n_distinct > SQLITE_VARIABLE_LIMIT
    with pytest.raises(OperationalError, match="too many SQL variables"):
        sqlite_env.unfixed.get_user_analytics(ids)
    # its first statement, carrying every id, is the one refused
    assert len(sqlite_env.statements) == 1
    assert len(sqlite_env.statements[0][1]) == len(ids)
    sqlite_env.db.session.rollback()


def test_sqlite_fixed_passes(fixed_source: str, sqlite_env: Env) -> None:
    seed = sqlite_env.seed()
    ids, n_distinct = many_ids(40_000)
    assert_fixed_run(sqlite_env, seed, ids, n_distinct, SQLITE_VARIABLE_LIMIT)
    assert len(sqlite_env.selects()) == 80


# --- PostgreSQL through psycopg 3: 70,000 ids against the protocol's 65,535 ---------------------------


def test_pg_psycopg_binds_each_in_value_on_the_server(pg_env: Env) -> None:
    """The server's own view of the statement: `current_query()` returns the text it received, and
    with psycopg 3's server-side binding that text holds `$n` placeholders, one per IN value."""
    pg_env.seed()
    User = pg_env.models.User
    ids = list(range(10_001, 10_001 + CHUNK))  # unknown ids: a literal one would stand out in the text
    pg_env.reset()
    received = pg_env.db.session.execute(
        select(func.current_query()).select_from(User).where(User.id.in_([1, *ids]))).scalar_one()
    placeholders = [int(n) for n in re.findall(r"\$(\d+)", received)]
    assert placeholders == list(range(1, len(ids) + 2)), received[:300]
    assert not any(str(i) in received for i in ids)  # no value was inlined
    (statement, parameters, cursor_class), = pg_env.statements
    assert not issubclass(cursor_class, psycopg.ClientCursor)
    assert len(parameters) == len(ids) + 1


def test_pg_control_the_limit_is_65535_parameters(pg_env: Env) -> None:
    Session = pg_env.models.Session
    ids = list(range(1, PG_PARAMETER_LIMIT + 2))
    pg_env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids[:-1]))).all()
    with pytest.raises(OperationalError, match=PG_LIMIT_ERROR):
        pg_env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids))).all()
    pg_env.db.session.rollback()


def test_pg_unfixed_in_fails_past_the_limit(pg_env: Env) -> None:
    pg_env.seed()
    ids, n_distinct = many_ids(70_000)
    assert n_distinct > PG_PARAMETER_LIMIT
    with pytest.raises(OperationalError, match=PG_LIMIT_ERROR) as raised:
        pg_env.unfixed.get_user_analytics(ids)
    assert isinstance(raised.value.orig, psycopg.OperationalError)
    # its first statement: 70,003 bind parameters, one placeholder each, on a server-binding cursor
    (statement, parameters, cursor_class), = pg_env.statements
    assert len(parameters) == len(ids)
    assert statement.count("%(") == len(ids)
    assert not issubclass(cursor_class, psycopg.ClientCursor)
    pg_env.db.session.rollback()


def test_pg_fixed_passes(fixed_source: str, pg_env: Env) -> None:
    seed = pg_env.seed()
    ids, n_distinct = many_ids(70_000)
    assert_fixed_run(pg_env, seed, ids, n_distinct, PG_PARAMETER_LIMIT)
    assert len(pg_env.selects()) == 140
