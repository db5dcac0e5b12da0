"""The seed example, run: what ormlens reports on `examples/` is real behaviour, not a style opinion.

Each example's `get_user_analytics` is imported and executed against an in-memory SQLite database
seeded by the test, with every statement counted at the cursor:

* ORM001 -- the per-id loop really runs 2 SELECTs per id;
* ORM005 -- a NULL `Payment.amount` really makes `sum(p.amount ...)` raise `TypeError`;
* ORM004 -- an unchunked `.in_(user_ids)` really fails past the driver's bind-parameter limit,
  while the review's 1,000-id chunks stay under it;
* ORM003 -- the quadratic scan is slow, not wrong: same results as `intended.py`;
* the review's own fix double counts an id repeated in two different chunks of 1,000.

Expected numbers are computed from the seeded rows, never pasted from a run.
"""

from __future__ import annotations

import importlib
import math
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

flask = pytest.importorskip("flask")
sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("flask_sqlalchemy")

from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

# SQLite has no native DECIMAL: SQLAlchemy warns when it converts `Numeric` through floats.
# Every amount seeded here has two decimals, so the values read back are exact.
pytestmark = pytest.mark.filterwarnings("ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FUNCTION_FILES = ("original", "batched_but_quadratic", "reviewed_fix", "intended")
MODULE_NAMES = ("models", *FUNCTION_FILES)

N_USERS = 60
NULL_AND_REAL = 7  # has a real payment and a NULL one
NULL_ONLY = 9  # its only payment is NULL
CHUNK = 1000  # reviewed_fix.BATCH_SIZE
SQLITE_VARIABLE_LIMIT = 32766  # SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32


# --- seeded data -----------------------------------------------------------------------------------


@dataclass
class Seed:
    """What was inserted, kept on the Python side to compute the expected results."""

    users: list[int] = field(default_factory=list)
    sessions: dict[int, int] = field(default_factory=dict)  # user id -> number of sessions
    payments: dict[int, list[Decimal | None]] = field(default_factory=dict)  # user id -> amounts

    def expected(self, user_ids: list[int]) -> dict[int, dict]:
        """What the function means (the README's contract): one entry per id, NULL counted as 0."""
        return {
            uid: {
                "session_count": self.sessions.get(uid, 0),
                "total_revenue": sum((a or 0) for a in self.payments.get(uid, [])),
            }
            for uid in user_ids
        }


def planned_rows(uid: int) -> tuple[int, list[Decimal]]:
    """A varied, deterministic shape: 0-4 sessions, 0-2 payments; every 10th user has no rows."""
    if uid % 10 == 0:
        return 0, []
    n_sessions = (3 * uid) % 5
    amounts = [Decimal(uid) + Decimal("0.25") * (j + 1) for j in range(uid % 3)]
    return n_sessions, amounts


# --- the environment ------------------------------------------------------------------------------


class Env:
    def __init__(self, app, modules: dict[str, ModuleType]):
        self.app = app
        self.modules = modules
        self.models = modules["models"]
        self.db = self.models.db
        self.statements: list[tuple[str, object]] = []

    def __getattr__(self, name: str) -> ModuleType:
        try:
            return self.modules[name]
        except KeyError:
            raise AttributeError(name) from None

    # statement counting
    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def reset(self) -> None:
        self.statements.clear()

    def selects(self) -> list[tuple[str, object]]:
        return [(s, p) for s, p in self.statements if s.lstrip().upper().startswith("SELECT")]

    # data
    def seed(self, n_users: int = N_USERS, with_nulls: bool = True) -> Seed:
        m, db = self.models, self.db
        seed = Seed()
        start = datetime(2024, 1, 1)
        minute = 0
        for uid in range(1, n_users + 1):
            db.session.add(m.User(id=uid, email=f"user{uid}@example.com"))
            seed.users.append(uid)
            n_sessions, amounts = planned_rows(uid)
            if with_nulls and uid in (NULL_AND_REAL, NULL_ONLY):
                amounts = [*amounts, None]
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
        # the database holds exactly what the Seed says
        assert db.session.scalar(select(sa.func.count()).select_from(m.Session)) == sum(seed.sessions.values())
        assert db.session.scalar(select(sa.func.count()).select_from(m.Payment)) == sum(
            len(a) for a in seed.payments.values())
        nulls = db.session.scalar(select(sa.func.count()).select_from(m.Payment).where(m.Payment.amount.is_(None)))
        assert nulls == (2 if with_nulls and n_users >= NULL_ONLY else 0)
        self.reset()
        return seed


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    saved = {name: sys.modules.pop(name, None) for name in MODULE_NAMES}
    monkeypatch.syspath_prepend(str(EXAMPLES))
    try:
        modules = {name: importlib.import_module(name) for name in MODULE_NAMES}
        models = modules["models"]
        for name in FUNCTION_FILES:  # every example uses the one `models` module, so the one `db`
            assert modules[name].Session is models.Session
            assert modules[name].Payment is models.Payment
            assert Path(modules[name].__file__).parent == EXAMPLES

        app = flask.Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        models.db.init_app(app)
        with app.app_context():
            engine = models.db.engine
            # in-memory SQLite: one shared connection, so a limit set on it applies to every query
            assert isinstance(engine.pool, StaticPool)
            models.db.create_all()
            e = Env(app, modules)
            event.listen(engine, "before_cursor_execute", e.on_execute)
            try:
                yield e
            finally:
                event.remove(engine, "before_cursor_execute", e.on_execute)
                models.db.session.remove()
                engine.dispose()
    finally:
        for name in MODULE_NAMES:
            sys.modules.pop(name, None)
            if saved[name] is not None:
                sys.modules[name] = saved[name]


def test_fixture_imports_examples_and_cleans_up(env: Env) -> None:
    assert sys.modules["models"] is env.models
    assert {f"{n}.py" for n in MODULE_NAMES} <= {p.name for p in EXAMPLES.glob("*.py")}


def test_examples_are_not_left_in_sys_modules() -> None:
    # runs after the test above (same module, file order): the fixture's teardown removed them
    assert not any(name in sys.modules and (getattr(sys.modules[name], "__file__", None) or "").startswith(
        str(EXAMPLES)) for name in MODULE_NAMES)
    assert str(EXAMPLES) not in sys.path


# --- ORM001: two queries per id -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["intended", "original"])
@pytest.mark.parametrize("n", [0, 1, 10, 50])
def test_orm001_two_selects_per_id(env: Env, name: str, n: int) -> None:
    seed = env.seed(with_nulls=False)  # original.py cannot survive a NULL (ORM005, below)
    ids = list(range(1, n + 1))
    env.reset()
    result = getattr(env, name).get_user_analytics(ids)
    assert len(env.selects()) == 2 * n
    assert len(env.statements) == 2 * n  # nothing but those SELECTs
    assert result == seed.expected(ids)


@pytest.mark.parametrize("n", [1, 10, 50])
def test_orm001_contrast_chunked_fix_runs_two_selects_in_all(env: Env, n: int) -> None:
    seed = env.seed()
    ids = list(range(1, n + 1))
    env.reset()
    assert env.reviewed_fix.get_user_analytics(ids) == seed.expected(ids)
    assert len(env.selects()) == 2


# --- ORM005: sum over a nullable column -----------------------------------------------------------


@pytest.mark.parametrize("uid", [NULL_AND_REAL, NULL_ONLY])
@pytest.mark.parametrize("name", ["original", "batched_but_quadratic"])
def test_orm005_null_amount_raises_type_error(env: Env, name: str, uid: int) -> None:
    seed = env.seed()
    assert None in seed.payments[uid]
    with pytest.raises(TypeError, match="NoneType"):
        getattr(env, name).get_user_analytics([1, 2, uid, 3])


@pytest.mark.parametrize("name", ["original", "batched_but_quadratic"])
def test_orm005_control_same_code_works_without_the_null_users(env: Env, name: str) -> None:
    seed = env.seed()
    ids = [u for u in seed.users if u not in (NULL_AND_REAL, NULL_ONLY)]
    assert all(None not in seed.payments.get(u, []) for u in ids)
    assert getattr(env, name).get_user_analytics(ids) == seed.expected(ids)


@pytest.mark.parametrize("name", ["intended", "reviewed_fix"])
def test_orm005_null_amount_counted_as_zero(env: Env, name: str) -> None:
    seed = env.seed()
    ids = [1, 2, NULL_AND_REAL, NULL_ONLY, 3]
    result = getattr(env, name).get_user_analytics(ids)
    assert result == seed.expected(ids)
    real = [a for a in seed.payments[NULL_AND_REAL] if a is not None]
    assert real and result[NULL_AND_REAL]["total_revenue"] == sum(real)
    assert result[NULL_ONLY] == {"session_count": seed.sessions.get(NULL_ONLY, 0), "total_revenue": 0}


# --- ORM004: unchunked IN -------------------------------------------------------------------------


def lower_variable_limit(env: Env) -> sqlite3.Connection:
    raw = env.db.session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQLITE_VARIABLE_LIMIT)
    assert raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == SQLITE_VARIABLE_LIMIT
    return raw


def assert_limit_still_on(env: Env, raw: sqlite3.Connection) -> None:
    assert env.db.session.connection().connection.driver_connection is raw
    assert raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) == SQLITE_VARIABLE_LIMIT


def test_orm004_control_the_limit_is_in_effect(env: Env) -> None:
    env.seed()
    raw = lower_variable_limit(env)
    Session = env.models.Session
    ids = list(range(1, 40_001))
    # at the limit: fine
    env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids[:SQLITE_VARIABLE_LIMIT]))).all()
    # one past it, and 40,000: refused by SQLite
    for n in (SQLITE_VARIABLE_LIMIT + 1, len(ids)):
        with pytest.raises(OperationalError, match="too many SQL variables"):
            env.db.session.execute(select(Session.id).where(Session.user_id.in_(ids[:n]))).all()
        env.db.session.rollback()
    assert_limit_still_on(env, raw)


def test_orm004_unchunked_in_fails_past_the_limit(env: Env) -> None:
    env.seed()
    raw = lower_variable_limit(env)
    ids = list(range(1, 40_001))
    env.reset()
    with pytest.raises(OperationalError, match="too many SQL variables"):
        env.batched_but_quadratic.get_user_analytics(ids)
    # it failed on its first statement, the one carrying all 40,000 ids
    assert len(env.statements) == 1
    assert len(env.statements[0][1]) == len(ids)
    env.db.session.rollback()
    assert_limit_still_on(env, raw)


def test_orm004_chunked_fix_stays_under_the_limit(env: Env) -> None:
    seed = env.seed()
    raw = lower_variable_limit(env)
    ids = list(range(1, 40_001))
    env.reset()
    result = env.reviewed_fix.get_user_analytics(ids)
    selects = env.selects()
    assert len(selects) <= 2 * math.ceil(len(ids) / CHUNK)
    assert len(selects) == 2 * math.ceil(len(ids) / CHUNK)  # exactly: one Session, one Payment query per chunk
    assert max(len(params) for _, params in selects) == CHUNK
    assert result == seed.expected(ids)
    assert_limit_still_on(env, raw)


# --- ORM003: quadratic, but correct ---------------------------------------------------------------


def test_orm003_quadratic_scan_gives_the_intended_results(env: Env) -> None:
    seed = env.seed(with_nulls=False)
    ids = [3, 1, 2, 10, 20, 5, 999, 1, 42, 60, 4, 7, 9, 11, 12, 13, 500, 3]  # no rows, unknown, repeated
    assert any(seed.sessions.get(u) for u in ids) and any(seed.payments.get(u) for u in ids)
    assert any(u not in seed.sessions and u not in seed.payments for u in ids)
    env.reset()
    batched = env.batched_but_quadratic.get_user_analytics(ids)
    assert len(env.selects()) == 2
    intended = env.intended.get_user_analytics(ids)
    assert batched == intended == seed.expected(ids)
    assert list(batched) == list(intended)  # same keys, same order


def test_orm003_quadratic_scan_agrees_on_every_user_and_on_empty(env: Env) -> None:
    seed = env.seed(with_nulls=False)
    ids = list(seed.users) + [N_USERS + 1, N_USERS + 2]
    assert env.batched_but_quadratic.get_user_analytics(ids) == env.intended.get_user_analytics(ids)
    assert env.batched_but_quadratic.get_user_analytics([]) == env.intended.get_user_analytics([]) == {}


# --- the review's own fix: repeated id across two chunks ------------------------------------------


def test_reviewed_fix_double_counts_an_id_repeated_in_two_chunks(env: Env) -> None:
    seed = env.seed()
    ids = list(range(1, CHUNK + 1)) + [1]  # user 1 in chunk one and again in chunk two
    assert seed.sessions[1] > 0 and sum(seed.payments[1]) > 0

    env.reset()
    reviewed = env.reviewed_fix.get_user_analytics(ids)
    assert len(env.selects()) == 4  # two chunks
    intended = env.intended.get_user_analytics(ids)

    assert intended == seed.expected(ids)
    assert intended[1] == {"session_count": seed.sessions[1], "total_revenue": sum(seed.payments[1])}
    assert reviewed[1] == {"session_count": 2 * intended[1]["session_count"],
                           "total_revenue": 2 * intended[1]["total_revenue"]}
    # user 1 is the only difference
    assert {u for u in intended if reviewed[u] != intended[u]} == {1}
    assert reviewed.keys() == intended.keys()


def test_reviewed_fix_repeat_within_one_chunk_is_fine(env: Env) -> None:
    # control: the bug needs the repeat to land in a *different* chunk
    seed = env.seed()
    ids = [1, 2, 1, 3, 1]
    assert env.reviewed_fix.get_user_analytics(ids) == env.intended.get_user_analytics(ids) == seed.expected(ids)
