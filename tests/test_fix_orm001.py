"""The ORM001 fix: the queries a loop runs per item, run once per chunk of 1,000 distinct items.

Golden text from the fix plan ormlens's own analysis reports; the rewritten code parses, and
re-analysed it has no ORM001 left to batch. Then the code before and after the fix runs against
SQLite (Flask-SQLAlchemy, every statement counted at the cursor): same results, and the SELECTs
go from one per item and query to exactly one per query and chunk of distinct items. Expected
numbers are computed from the seeded rows, never pasted from a run.
"""

from __future__ import annotations

import ast
import importlib
import math
import random
import shutil
import sys
from collections.abc import Callable, Iterator
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

from sqlalchemy import event, insert  # noqa: E402

from ormlens.config import Settings  # noqa: E402
from ormlens.engine import check_files  # noqa: E402
from ormlens.fixes import orm005_or_zero  # noqa: E402
from ormlens.fixes.base import Fix, SourceText, UnfixableError, apply_edits  # noqa: E402
from ormlens.fixes.orm001_batch import build  # noqa: E402
from ormlens.fixes.plans import BatchQueryPlan  # noqa: E402

pytestmark = [
    # SQLite has no native DECIMAL; every amount seeded has two decimals, so values read back are exact.
    pytest.mark.filterwarnings("ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal"),
    # `Model.query.get()` is legacy in SQLAlchemy 2: the code before the fix uses it on purpose.
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning"),
]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CHUNK = Settings().chunk_size
UNORDERED = "row order within a group may differ: the query has no order_by"


# --- analysis and fix ------------------------------------------------------------------------------


def findings_of(directory: Path, name: str, settings: Settings = Settings()) -> list:
    report = check_files(sorted(directory.glob("*.py")), settings, directory)
    assert report.errors == []
    return [f for f in report.findings if Path(f.path).name == name]


def batch_plans(findings: list) -> list[BatchQueryPlan]:
    """The distinct `batch_query` fix plans of the ORM001 findings (one per loop)."""
    found: list[BatchQueryPlan] = []
    for finding in findings:
        plan = finding.fix
        if finding.code == "ORM001" and isinstance(plan, BatchQueryPlan) and plan not in found:
            found.append(plan)
    return found


def fix_file(directory: Path, name: str, settings: Settings = Settings()) -> tuple[str, list[Fix]]:
    """`name` with every ORM001 batch fix applied, and the fixes."""
    text = (directory / name).read_text(encoding="utf-8")
    source = SourceText(text)
    fixes = [build(source, plan, settings) for plan in batch_plans(findings_of(directory, name, settings))]
    return apply_edits(text, [edit for fix in fixes for edit in fix.edits]), fixes


# --- running the code ------------------------------------------------------------------------------


class Env:
    def __init__(self, db, modules: dict[str, ModuleType]):
        self.db = db
        self.modules = modules
        self.statements: list[tuple[str, object]] = []

    def on_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def selects(self) -> list[tuple[str, object]]:
        return [(s, p) for s, p in self.statements if s.lstrip().upper().startswith("SELECT")]

    def run(self, module: str, function: str, *args):
        """Call it in a fresh session (nothing in the identity map); (result, its SELECTs)."""
        self.db.session.remove()
        self.statements.clear()
        result = getattr(self.modules[module], function)(*args)
        selects = self.selects()
        assert len(selects) == len(self.statements)  # nothing but SELECTs
        return result, selects


@contextmanager
def flask_env(directory: Path, models: str, names: list[str]) -> Iterator[Env]:
    """Import `names` from `directory` (restoring sys.modules and sys.path after) and run them
    with `models.db` on an in-memory SQLite database."""
    saved = {name: sys.modules.pop(name, None) for name in names}
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    try:
        modules = {name: importlib.import_module(name) for name in names}
        for module in modules.values():
            assert Path(module.__file__).parent == directory
        db = modules[models].db
        app = flask.Flask(__name__)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db.init_app(app)
        with app.app_context():
            db.create_all()
            env = Env(db, modules)
            engine = db.engine
            event.listen(engine, "before_cursor_execute", env.on_execute)
            try:
                yield env
            finally:
                event.remove(engine, "before_cursor_execute", env.on_execute)
                db.session.remove()
                engine.dispose()
    finally:
        sys.path.remove(str(directory))
        for name in names:
            sys.modules.pop(name, None)
            if saved[name] is not None:
                sys.modules[name] = saved[name]


def chunks(ids) -> int:
    return math.ceil(len(dict.fromkeys(ids)) / CHUNK)


# --- 1, 2. the seed example: golden text, re-analysis, idempotence ---------------------------------

ORIGINAL_FIXED = '''\
from collections import defaultdict

from models import Payment, Session


def get_user_analytics(user_ids: list[int]) -> dict[int, dict]:
    result = {}
    sessions_by_user_id = defaultdict(list)
    payments_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Session.query.filter(Session.user_id.in_(chunk)).all():
            sessions_by_user_id[row.user_id].append(row)
        for row in Payment.query.filter(Payment.user_id.in_(chunk)).all():
            payments_by_user_id[row.user_id].append(row)
    for uid in user_ids:
        sessions = sessions_by_user_id.get(uid, [])
        payments = payments_by_user_id.get(uid, [])
        result[uid] = {
            "session_count": len(sessions),
            "total_revenue": sum(p.amount for p in payments),
        }
    return result
'''


def test_original_golden_text_and_reanalysis(tmp_path: Path) -> None:
    text = (EXAMPLES / "original.py").read_text(encoding="utf-8")
    orm001 = [f for f in findings_of(EXAMPLES, "original.py") if f.code == "ORM001"]
    assert len(orm001) == 2  # one per query: both carry the one loop's plan
    plan = orm001[0].fix
    assert orm001[1].fix == plan
    assert [q.model for q in plan.queries] == ["Session", "Payment"]

    source = SourceText(text)
    fixes = [build(source, finding.fix, Settings()) for finding in orm001]
    assert fixes[0].edits == fixes[1].edits  # the same fix from either finding (fix_text keeps one)
    fix = fixes[0]
    assert fix.title == "Batch the 2 queries in this loop (chunks of 1,000 ids)"
    assert fix.kind == "batch_query"
    assert not fix.safe and fix.why_unsafe == UNORDERED
    assert fix.display_title == f"{fix.title} (unsafe: {UNORDERED})"
    out = apply_edits(text, fix.edits)
    assert out == ORIGINAL_FIXED

    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    (copy / "original.py").write_text(out, encoding="utf-8")
    assert [f.code for f in findings_of(copy, "original.py")] == ["ORM005"]  # the NULL sum is the next fix


def test_fixed_original_compiles_and_has_nothing_left_to_batch(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    out, fixes = fix_file(copy, "original.py")
    assert len(fixes) == 1
    compile(ast.parse(out), "original.py", "exec")
    (copy / "original.py").write_text(out, encoding="utf-8")
    assert batch_plans(findings_of(copy, "original.py")) == []
    again, fixes = fix_file(copy, "original.py")
    assert (again, fixes) == (out, [])


def test_chunk_size_setting(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    settings = Settings(chunk_size=500)
    out, (fix,) = fix_file(copy, "original.py", settings)
    assert fix.title == "Batch the 2 queries in this loop (chunks of 500 ids)"
    assert out == ORIGINAL_FIXED.replace("1000", "500")
    (copy / "original.py").write_text(out, encoding="utf-8")
    assert batch_plans(findings_of(copy, "original.py", settings)) == []


# --- 3. the seed example, run ----------------------------------------------------------------------

N_USERS = 2_600
NULL_AND_REAL = 7  # a real payment and a NULL one
NULL_ONLY = 9  # its only payment is NULL
NULL_FAR = 1_504  # a real one and a NULL one, in the second chunk of 1,000
NULL_USERS = (NULL_AND_REAL, NULL_ONLY, NULL_FAR)


@dataclass
class Seed:
    sessions: dict[int, int] = field(default_factory=dict)  # user id -> number of sessions
    payments: dict[int, list[Decimal | None]] = field(default_factory=dict)  # user id -> amounts

    def expected(self, user_ids) -> dict[int, dict]:
        """What the function means: one entry per id, NULL amounts counted as 0."""
        return {uid: {"session_count": self.sessions.get(uid, 0),
                      "total_revenue": sum((a or 0) for a in self.payments.get(uid, []))}
                for uid in user_ids}


def planned_rows(uid: int) -> tuple[int, list[Decimal | None]]:
    """0-4 sessions, 0-2 payments; every 10th user has no rows; a NULL amount for NULL_USERS."""
    if uid % 10 == 0:
        return 0, []
    amounts: list[Decimal | None] = [Decimal(uid) + Decimal("0.25") * (j + 1) for j in range(uid % 3)]
    if uid in NULL_USERS:
        amounts.append(None)
    return (3 * uid) % 5, amounts


def seed_examples(env: Env) -> Seed:
    models = env.modules["models"]
    seed = Seed()
    users, sessions, payments = [], [], []
    start = datetime(2024, 1, 1)
    for uid in range(1, N_USERS + 1):
        users.append({"id": uid, "email": f"user{uid}@example.com"})
        n_sessions, amounts = planned_rows(uid)
        sessions += [{"user_id": uid, "started_at": start + timedelta(minutes=len(sessions))}
                     for _ in range(n_sessions)]
        payments += [{"user_id": uid, "amount": amount} for amount in amounts]
        if n_sessions:
            seed.sessions[uid] = n_sessions
        if amounts:
            seed.payments[uid] = amounts
    for model, rows in ((models.User, users), (models.Session, sessions), (models.Payment, payments)):
        env.db.session.execute(insert(model), rows)
    env.db.session.commit()
    count = lambda model: env.db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    assert count(models.Session) == sum(seed.sessions.values())
    assert count(models.Payment) == sum(len(a) for a in seed.payments.values())
    assert all(None in seed.payments[uid] for uid in NULL_USERS) and NULL_ONLY % 3 == 0
    return seed


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, Seed]]:
    """examples/ in a temporary directory, with `original_fixed.py`: original.py with its ORM001
    fix and its ORM005 fix (both built from ormlens's findings), applied together."""
    directory = tmp_path_factory.mktemp("examples")
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, directory / path.name)
    text = (directory / "original.py").read_text(encoding="utf-8")
    source = SourceText(text)
    findings = findings_of(directory, "original.py")
    (batch,) = batch_plans(findings)
    (or_zero,) = [f for f in findings if f.code == "ORM005"]
    edits = build(source, batch, Settings()).edits + orm005_or_zero.build(source, or_zero.fix, Settings()).edits
    fixed = apply_edits(text, edits)
    assert fixed == ORIGINAL_FIXED.replace("sum(p.amount for", "sum((p.amount or 0) for")
    (directory / "original_fixed.py").write_text(fixed, encoding="utf-8")
    with flask_env(directory, "models", ["models", "original", "intended", "original_fixed"]) as env:
        yield env, seed_examples(env)


def assert_same_as_intended(env: Env, seed: Seed, ids: list[int]) -> list[tuple[str, object]]:
    fixed, after = env.run("original_fixed", "get_user_analytics", ids)
    intended, before = env.run("intended", "get_user_analytics", ids)
    assert fixed == intended == seed.expected(ids)
    assert list(fixed) == list(intended)  # same keys, same order
    assert len(before) == 2 * len(ids)
    assert len(after) == 2 * chunks(ids)
    assert all(len(params) <= CHUNK for _, params in after)
    return after


@pytest.mark.parametrize("n", [0, 1, 10, 2_500])
def test_selects_per_chunk_instead_of_per_id(examples, n: int) -> None:
    env, seed = examples
    ids = list(range(1, n + 1))
    after = assert_same_as_intended(env, seed, ids)
    assert len(after) == 2 * math.ceil(n / CHUNK)
    if n:
        assert max(len(params) for _, params in after) == min(n, CHUNK)


def test_original_before_the_fix_two_selects_per_id(examples) -> None:
    # original.py itself (it cannot sum a NULL amount: ids without the NULL users)
    env, seed = examples
    ids = [uid for uid in range(1, 2_501) if uid not in NULL_USERS]
    original, before = env.run("original", "get_user_analytics", ids)
    fixed, after = env.run("original_fixed", "get_user_analytics", ids)
    assert original == fixed == seed.expected(ids)
    assert (len(before), len(after)) == (2 * len(ids), 2 * 3)


@pytest.mark.parametrize("uid", NULL_USERS)
def test_null_amounts_counted_as_zero(examples, uid: int) -> None:
    env, seed = examples
    ids = [1, 2, uid, 3]
    with pytest.raises(TypeError, match="NoneType"):
        env.run("original", "get_user_analytics", ids)  # why the ORM005 fix is applied too
    assert_same_as_intended(env, seed, ids)
    real = [a for a in seed.payments[uid] if a is not None]
    assert env.run("original_fixed", "get_user_analytics", ids)[0][uid]["total_revenue"] == sum(real)


@pytest.mark.parametrize("ids", [
    pytest.param([], id="empty"),
    pytest.param([10, 20, 30, 2_600], id="no-rows"),
    pytest.param([999_999, 5, 1_000_000, -1], id="unknown"),
    pytest.param([1, 2, 1, 3, 1, NULL_ONLY, NULL_ONLY], id="repeated-in-a-chunk"),
    pytest.param(list(range(1, 1_001)) + [1], id="repeated-across-chunks"),
    pytest.param(list(range(1, 1_002)) + [1, 1_001, NULL_FAR], id="1001-distinct-repeated"),
    pytest.param(list(range(2_600, 0, -1)) + list(range(1, 2_601, 7)), id="reversed-then-repeats"),
])
def test_same_results_as_intended(examples, ids: list[int]) -> None:
    env, seed = examples
    assert_same_as_intended(env, seed, ids)


def test_repeated_id_across_chunks_is_fetched_once(examples) -> None:
    # The review's fix chunks the raw list and double counts an id repeated in another chunk.
    env, seed = examples
    ids = list(range(1, CHUNK + 1)) + [1]
    result, selects = env.run("original_fixed", "get_user_analytics", ids)
    assert len(selects) == 2  # 1,000 distinct ids: one chunk
    assert result[1] == {"session_count": seed.sessions[1], "total_revenue": sum(seed.payments[1])}
    assert seed.sessions[1] > 0 and sum(seed.payments[1]) > 0


def test_forty_thousand_ids(examples) -> None:
    env, seed = examples
    ids = list(range(1, 40_001))  # 2,600 with rows (some with none), 37,400 unknown
    result, selects = env.run("original_fixed", "get_user_analytics", ids)
    assert len(selects) == 2 * 40
    assert max(len(params) for _, params in selects) == CHUNK
    assert result == seed.expected(ids)
    sample = sorted(random.Random(1).sample(ids, 40) + [1, NULL_AND_REAL, NULL_ONLY, NULL_FAR, 40_000])
    intended, _ = env.run("intended", "get_user_analytics", sample)
    assert {uid: result[uid] for uid in sample} == intended


# --- 4. more shapes: golden text, re-analysis, run before and after --------------------------------

SHOP = '''\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False)
'''
N_SHOP_USERS = 40


def shop_orders(uid: int) -> int:
    return 0 if uid % 5 == 0 else uid % 4 + 1


@dataclass
class Shape:
    before: str
    after: str
    title: str
    # (function, argument from the ids, SELECTs before the fix for those ids)
    calls: list[tuple[str, Callable, Callable[[list[int]], int]]]
    after_selects: int = 1  # per chunk of distinct ids


def per_item(ids: list[int]) -> int:
    return len(ids)


def get_before(ids: list[int]) -> int:
    """`User.query.get(uid)` then `db.session.get(User, uid)`: a user already loaded comes from
    the session's identity map (no SELECT); an unknown id is looked up by both, every time."""
    loaded: set[int] = set()
    selects = 0
    for uid in ids:
        if 1 <= uid <= N_SHOP_USERS:
            selects += uid not in loaded
            loaded.add(uid)
        else:
            selects += 2
    return selects


ONE_BATCH = "Batch the query in this loop (chunks of 1,000 ids)"

SHAPES = {
    "first": Shape('''\
from shop import Order


def latest_orders(user_ids: list[int]) -> dict:
    latest = {}
    for uid in user_ids:
        latest[uid] = Order.query.filter_by(user_id=uid).order_by(Order.id.desc()).first()
    return latest
''', '''\
from shop import Order


def latest_orders(user_ids: list[int]) -> dict:
    latest = {}
    first_order_by_user_id = {}
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Order.query.filter(Order.user_id.in_(chunk)).order_by(Order.id.desc()).all():
            first_order_by_user_id.setdefault(row.user_id, row)
    for uid in user_ids:
        latest[uid] = first_order_by_user_id.get(uid)
    return latest
''', ONE_BATCH, [("latest_orders", list, per_item)]),
    "get": Shape('''\
from shop import User, db


def users(user_ids: list[int]) -> list:
    found = []
    for uid in user_ids:
        found.append((User.query.get(uid), db.session.get(User, uid)))
    return found
''', '''\
from shop import User, db


def users(user_ids: list[int]) -> list:
    found = []
    user_by_id = {}
    user_by_id_2 = {}
    distinct_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_ids), 1000):
        chunk = distinct_ids[start:start + 1000]
        for row in User.query.filter(User.id.in_(chunk)).all():
            user_by_id.setdefault(row.id, row)
        for row in db.session.query(User).filter(User.id.in_(chunk)).all():
            user_by_id_2.setdefault(row.id, row)
    for uid in user_ids:
        found.append((user_by_id.get(uid), user_by_id_2.get(uid)))
    return found
''', "Batch the 2 queries in this loop (chunks of 1,000 ids)", [("users", list, get_before)], after_selects=2),
    "count": Shape('''\
from shop import Order, db


def order_counts(user_ids: list[int]) -> dict:
    counts = {}
    for uid in user_ids:
        counts[uid] = db.session.query(Order).filter(Order.user_id == uid).count()
    return counts
''', '''\
from collections import defaultdict

from shop import Order, db


def order_counts(user_ids: list[int]) -> dict:
    counts = {}
    orders_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in db.session.query(Order).filter(Order.user_id.in_(chunk)).all():
            orders_by_user_id[row.user_id].append(row)
    for uid in user_ids:
        counts[uid] = len(orders_by_user_id.get(uid, []))
    return counts
''', ONE_BATCH, [("order_counts", list, per_item)]),
    "filter_and_order_kept": Shape('''\
from shop import Order


def new_orders(user_ids: list[int]) -> dict:
    found = {}
    for uid in user_ids:
        # newest first
        found[uid] = Order.query.filter_by(user_id=uid, status="new").order_by(Order.id.desc()).all()
    return found
''', '''\
from collections import defaultdict

from shop import Order


def new_orders(user_ids: list[int]) -> dict:
    found = {}
    orders_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Order.query.filter_by(status="new").filter(Order.user_id.in_(chunk)).order_by(Order.id.desc()).all():
            orders_by_user_id[row.user_id].append(row)
    for uid in user_ids:
        # newest first
        found[uid] = orders_by_user_id.get(uid, [])
    return found
''', ONE_BATCH, [("new_orders", list, per_item)]),
    "generator": Shape('''\
from shop import Order


def order_ids(user_ids) -> list:
    out = []
    for uid in user_ids:
        out.append([o.id for o in Order.query.filter_by(user_id=uid).order_by(Order.id)])
    return out


def orders_of(users: list[dict]) -> list:
    out = []
    for uid in (u["id"] for u in users):
        out.append(Order.query.filter(Order.user_id == uid).order_by(Order.id).all())
    return out
''', '''\
from collections import defaultdict

from shop import Order


def order_ids(user_ids) -> list:
    out = []
    orders_by_user_id = defaultdict(list)
    user_id_list = list(user_ids)
    distinct_user_ids = list(dict.fromkeys(user_id_list))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Order.query.filter(Order.user_id.in_(chunk)).order_by(Order.id).all():
            orders_by_user_id[row.user_id].append(row)
    for uid in user_id_list:
        out.append([o.id for o in orders_by_user_id.get(uid, [])])
    return out


def orders_of(users: list[dict]) -> list:
    out = []
    orders_by_user_id = defaultdict(list)
    user_id_list = list(u["id"] for u in users)
    distinct_user_ids = list(dict.fromkeys(user_id_list))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in Order.query.filter(Order.user_id.in_(chunk)).order_by(Order.id).all():
            orders_by_user_id[row.user_id].append(row)
    for uid in user_id_list:
        out.append(orders_by_user_id.get(uid, []))
    return out
''', ONE_BATCH, [("order_ids", lambda ids: (uid for uid in ids), per_item),
                 ("order_ids", lambda ids: iter(ids), per_item),
                 ("orders_of", lambda ids: [{"id": uid} for uid in ids], per_item)]),
    "select_scalars": Shape('''\
from sqlalchemy import select

from shop import Order, db


def statuses(user_ids: list[int]) -> dict:
    out = {}
    for uid in user_ids:
        rows = db.session.scalars(select(Order).where(Order.user_id == uid).order_by(Order.id)).all()
        out[uid] = [row.status for row in rows]
    return out
''', '''\
from collections import defaultdict

from sqlalchemy import select

from shop import Order, db


def statuses(user_ids: list[int]) -> dict:
    out = {}
    orders_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row_2 in db.session.scalars(select(Order).where(Order.user_id.in_(chunk)).order_by(Order.id)).all():
            orders_by_user_id[row_2.user_id].append(row_2)
    for uid in user_ids:
        rows = orders_by_user_id.get(uid, [])
        out[uid] = [row.status for row in rows]
    return out
''', ONE_BATCH, [("statuses", list, per_item)]),
    "multiline_chain": Shape('''\
from shop import Order


def paid(user_ids: list[int]) -> dict:
    out = {}
    for uid in user_ids:
        out[uid] = (
            Order.query
            .filter(Order.status == "paid")  # settled only
            .filter(Order.user_id == uid)
            .order_by(Order.id)
            .all()
        )
    return out
''', '''\
from collections import defaultdict

from shop import Order


def paid(user_ids: list[int]) -> dict:
    out = {}
    orders_by_user_id = defaultdict(list)
    distinct_user_ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(distinct_user_ids), 1000):
        chunk = distinct_user_ids[start:start + 1000]
        for row in (Order.query
                    .filter(Order.status == "paid")  # settled only
                    .filter(Order.user_id.in_(chunk))
                    .order_by(Order.id)
                    .all()):
            orders_by_user_id[row.user_id].append(row)
    for uid in user_ids:
        out[uid] = (
            orders_by_user_id.get(uid, [])
        )
    return out
''', ONE_BATCH, [("paid", list, per_item)]),
}

SHAPE_IDS = {
    "empty": [],
    "mixed": [3, 1, 2, 3, 99, 5, 1, 10, 7],  # repeats, an unknown id, users without orders
    "two-chunks": list(range(1, 1_201)) + [1, 1_200, 2],  # 1,200 distinct: two chunks, repeats in both
}


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_golden_text_and_reanalysis(tmp_path: Path, shape: str) -> None:
    spec = SHAPES[shape]
    (tmp_path / "shop.py").write_text(SHOP, encoding="utf-8")
    (tmp_path / "shape.py").write_text(spec.before, encoding="utf-8")
    out, fixes = fix_file(tmp_path, "shape.py")
    assert out == spec.after
    assert [fix.title for fix in fixes] == [spec.title] * len(fixes)
    assert all(fix.safe and fix.why_unsafe == "" for fix in fixes)  # every query here is ordered or keyed by id
    compile(ast.parse(out), "shape.py", "exec")
    (tmp_path / "shape.py").write_text(out, encoding="utf-8")
    assert [f for f in findings_of(tmp_path, "shape.py") if f.code == "ORM001"] == []


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    directory = tmp_path_factory.mktemp("shop")
    (directory / "shop.py").write_text(SHOP, encoding="utf-8")
    names = ["shop"]
    for shape, spec in SHAPES.items():
        (directory / f"shape_{shape}.py").write_text(spec.before, encoding="utf-8")
        names.append(f"shape_{shape}")
    for shape in SHAPES:  # built from the analysis of the whole directory
        out, _ = fix_file(directory, f"shape_{shape}.py")
        assert out == SHAPES[shape].after
        (directory / f"shape_{shape}_fixed.py").write_text(out, encoding="utf-8")
        names.append(f"shape_{shape}_fixed")
    with flask_env(directory, "shop", names) as env:
        shop_module = env.modules["shop"]
        env.db.session.execute(insert(shop_module.User),
                               [{"id": uid, "name": f"u{uid}"} for uid in range(1, N_SHOP_USERS + 1)])
        # round-robin, so that a user's orders are not consecutive ids
        orders = [{"user_id": uid, "status": ("new", "paid")[(uid + n) % 2]}
                  for n in range(4) for uid in range(1, N_SHOP_USERS + 1) if n < shop_orders(uid)]
        env.db.session.execute(insert(shop_module.Order), orders)
        env.db.session.commit()
        yield env


def plain(value):
    """Results with rows as (model, id): comparable across sessions."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if hasattr(value, "__table__"):
        return (type(value).__name__, value.id)
    return value


@pytest.mark.parametrize("ids", SHAPE_IDS, ids=list(SHAPE_IDS))
@pytest.mark.parametrize("shape", SHAPES)
def test_shape_runs_the_same_with_fewer_selects(shop: Env, shape: str, ids: str) -> None:
    spec = SHAPES[shape]
    user_ids = SHAPE_IDS[ids]
    for function, argument, before_count in spec.calls:
        before, before_selects = shop.run(f"shape_{shape}", function, argument(user_ids))
        after, after_selects = shop.run(f"shape_{shape}_fixed", function, argument(user_ids))
        assert plain(after) == plain(before)
        assert len(before_selects) == before_count(user_ids)
        assert len(after_selects) == spec.after_selects * chunks(user_ids)
    if ids == "mixed":  # the seeded rows have what the shapes are about
        orders = plain(shop.run("shape_filter_and_order_kept", "new_orders", user_ids)[0])
        assert orders[99] == orders[10] == [] and len({len(v) for v in orders.values()}) > 1


def test_shape_results_are_the_seeded_rows(shop: Env) -> None:
    # the fixed code's answers, checked against the seed itself (not only against the old code)
    ids = [1, 2, 3, 5, 99]
    counts, _ = shop.run("shape_count_fixed", "order_counts", ids)
    assert counts == {uid: shop_orders(uid) if uid <= N_SHOP_USERS else 0 for uid in ids}
    users, _ = shop.run("shape_get_fixed", "users", ids)
    assert plain(users) == [(("User", uid), ("User", uid)) if uid <= N_SHOP_USERS else (None, None) for uid in ids]


# --- what is offered unsafe, and what is not offered -----------------------------------------------


def one_loop(tmp_path: Path, body: str,
             head: str = "def run(user_ids: list[int]):\n    out = []\n") -> BatchQueryPlan:
    (tmp_path / "shop.py").write_text(SHOP, encoding="utf-8")
    text = "from shop import Order, User, db\n\n\n" + head + body
    (tmp_path / "case.py").write_text(text, encoding="utf-8")
    (plan,) = batch_plans(findings_of(tmp_path, "case.py"))
    return plan


def build_case(tmp_path: Path, body: str, **kwargs) -> Fix:
    plan = one_loop(tmp_path, body, **kwargs)
    return build(SourceText((tmp_path / "case.py").read_text(encoding="utf-8")), plan, Settings())


@pytest.mark.parametrize("query, why", [
    ("Order.query.filter_by(user_id=uid).all()", UNORDERED),
    ("Order.query.filter_by(user_id=uid).first()", "the row picked for an item may differ: the query has no order_by"),
    ("Order.query.filter_by(user_id=uid).one_or_none()",
     "an item with several rows gets its first row instead of raising MultipleResultsFound"),
    ("Order.query.filter_by(user_id=uid).order_by(Order.id).one_or_none()",
     "an item with several rows gets its first row instead of raising MultipleResultsFound"),
    ("Order.query.filter_by(user_id=uid).order_by(Order.id).all()", ""),
    ("Order.query.filter_by(user_id=uid).order_by(Order.id).first()", ""),
    ("Order.query.filter_by(user_id=uid).count()", ""),
    ("User.query.get(uid)", ""),
])
def test_safety(tmp_path: Path, query: str, why: str) -> None:
    fix = build_case(tmp_path, f"    for uid in user_ids:\n        out.append({query})\n    return out\n")
    assert (fix.safe, fix.why_unsafe) == (not why, why)


@pytest.mark.parametrize("body, reason", [
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).one())\n", "one()"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).first_or_404())\n",
     "first_or_404"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).paginate(page=1))\n",
     "paginate"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).scalar())\n", "scalar"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).limit(2).all())\n",
     r"\.limit\(\)"),
    ("    for uid in user_ids:\n        uid = int(uid)\n        out.append(Order.query.filter_by(user_id=uid).all())\n",
     "reassigned"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).all())\n"
     "        db.session.add(Order(user_id=uid, status='new'))\n", "writes through the session"),
    ("    for uid in user_ids:\n        out.append(Order.query.filter_by(user_id=uid).all())\n"
     "        user_ids.append(uid + 1)\n", "changes `user_ids`"),
    ("    newer_than = 0\n    for uid in user_ids:\n        newer_than += 1\n"
     "        out.append(Order.query.filter_by(user_id=uid).filter(Order.id > newer_than).all())\n",
     "reads `newer_than`"),
    ("    for uid in user_ids:\n        out.append(Order.query.join(User).filter_by(user_id=uid).all())\n",
     "after a join"),
    ("    for uid in user_ids:\n        out.append(db.session.query(Order).join(User).filter(Order.user_id == uid)"
     ".count())\n", "count"),
    ("    for uid in user_ids:\n        yield Order.query.filter_by(user_id=uid).all()\n", "yields"),
])
def test_no_fix_where_behaviour_would_change(tmp_path: Path, body: str, reason: str) -> None:
    with pytest.raises(UnfixableError, match=reason):
        build_case(tmp_path, body + "    return out\n")


def test_no_fix_reading_an_iterator_all_before_a_loop_that_may_stop(tmp_path: Path) -> None:
    # `user_ids` may be an iterator the caller reads on after the return: it must not be drained
    body = ("    for uid in user_ids:\n        found = Order.query.filter_by(user_id=uid).all()\n"
            "        if found:\n            return found\n    return []\n")
    with pytest.raises(UnfixableError, match="may stop early"):
        build_case(tmp_path, body, head="def run(user_ids):\n")
    # a list may be read twice: offered
    assert build_case(tmp_path, body, head="def run(user_ids: list[int]):\n").edits


def test_a_name_holding_a_generator_is_read_once(tmp_path: Path) -> None:
    # the plan calls it re-iterable; the fix reads it once into a list all the same
    body = ("    ids = (u.id for u in users)\n    for uid in ids:\n"
            "        out.append(Order.query.filter_by(user_id=uid).order_by(Order.id).all())\n    return out\n")
    fix = build_case(tmp_path, body, head="def run(users):\n    out = []\n")
    out = apply_edits((tmp_path / "case.py").read_text(encoding="utf-8"), fix.edits)
    assert "    id_list = list(ids)\n" not in out and "    user_id_list = list(ids)\n" in out
    assert "    for uid in user_id_list:\n" in out


def test_crlf_and_tabs(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SHOP, encoding="utf-8")
    lines = ["from shop import Order", "", "", "def run(user_ids: list[int]):", "\tout = {}",
             "\tfor uid in user_ids:", "\t\tout[uid] = Order.query.filter_by(user_id=uid).order_by(Order.id).all()",
             "\treturn out", ""]
    (tmp_path / "case.py").write_bytes("\r\n".join(lines).encode())
    (plan,) = batch_plans(findings_of(tmp_path, "case.py"))
    text = (tmp_path / "case.py").read_bytes().decode()
    out = apply_edits(text, build(SourceText(text), plan, Settings()).edits)
    assert out == "\r\n".join([
        "from collections import defaultdict", "", "from shop import Order", "", "", "def run(user_ids: list[int]):",
        "\tout = {}",
        "\torders_by_user_id = defaultdict(list)",
        "\tdistinct_user_ids = list(dict.fromkeys(user_ids))",
        "\tfor start in range(0, len(distinct_user_ids), 1000):",
        "\t\tchunk = distinct_user_ids[start:start + 1000]",
        "\t\tfor row in Order.query.filter(Order.user_id.in_(chunk)).order_by(Order.id).all():",
        "\t\t\torders_by_user_id[row.user_id].append(row)",
        "\tfor uid in user_ids:",
        "\t\tout[uid] = orders_by_user_id.get(uid, [])",
        "\treturn out", ""])
