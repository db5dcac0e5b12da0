"""The ORM003 (group once) and ORM004 (query in chunks of distinct values) fixes.

Fix data comes from ormlens's own analysis, never written by hand. Each rewrite is checked as
golden text, then the code before and after runs against SQLite: the same result, and the number
of SELECTs the rewrite promises. On the seed, all five fixes of `batched_but_quadratic.py`
applied together give `intended.py`'s results with 2 SELECTs per 1,000 distinct ids."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ormlens.config import Settings
from ormlens.engine import check_files
from ormlens.fixes import orm003_group, orm004_chunk
from ormlens.fixes.base import Edit, SourceText, UnfixableError, apply_edits
from ormlens.fixes.plans import ChunkInPlan, GroupOncePlan
from ormlens.fixes.registry import BUILDERS

from test_seed_runtime import (  # noqa: F401 - `env` is the seed's fixture, used by name
    NULL_AND_REAL, NULL_ONLY, SQLITE_VARIABLE_LIMIT, Env, assert_limit_still_on, env, lower_variable_limit)

pytestmark = pytest.mark.filterwarnings("ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED = EXAMPLES / "batched_but_quadratic.py"
UNORDERED = "row order across chunks may differ: the query has no order_by"


def fix_all(path: Path, root: Path, settings: Settings = Settings()) -> tuple[str, list]:
    """Every fix the findings for `path` offer, built on one text and applied in one pass."""
    report = check_files(sorted(root.glob("*.py")), settings, root)
    assert report.errors == []
    source = SourceText(path.read_bytes().decode("utf-8"))  # (line endings as they are)
    found = [f for f in report.findings if Path(f.path) == path.resolve()]
    fixes = [(f, BUILDERS[type(f.fix)](source, f.fix, settings)) for f in found]
    return apply_edits(source.text, [edit for _, fix in fixes for edit in fix.edits]), fixes


def codes_after(text: str, root: Path, name: str = "fixed.py") -> list[tuple[str, int]]:
    path = root / name
    path.write_text(text, encoding="utf-8")
    report = check_files(sorted(root.glob("*.py")), Settings(), root)
    assert report.errors == []
    return [(f.code, f.span.line) for f in report.findings if Path(f.path) == path.resolve()]


# --- the seed: all fixes of batched_but_quadratic.py at once -------------------------------------

SEED_FIXED = '''\
from collections import defaultdict

from models import Payment, Session


def get_user_analytics(user_ids: list[int]) -> dict[int, dict]:
    distinct_user_ids = list(dict.fromkeys(user_ids))
    sessions = []
    for start in range(0, len(distinct_user_ids), 1000):
        sessions += Session.query.filter(Session.user_id.in_(distinct_user_ids[start:start + 1000])).all()
    distinct_user_ids = list(dict.fromkeys(user_ids))
    payments = []
    for start in range(0, len(distinct_user_ids), 1000):
        payments += Payment.query.filter(Payment.user_id.in_(distinct_user_ids[start:start + 1000])).all()
    sessions_by_user = {s.id: s for s in sessions}
    payments_by_user = {p.id: p for p in payments}
    result = {}
    sessions_by_user_id = defaultdict(list)
    for s in sessions_by_user.values():
        sessions_by_user_id[s.user_id].append(s)
    payments_by_user_id = defaultdict(list)
    for p in payments_by_user.values():
        payments_by_user_id[p.user_id].append(p)
    for uid in user_ids:
        user_sessions = list(sessions_by_user_id.get(uid, ()))
        user_payments = list(payments_by_user_id.get(uid, ()))
        result[uid] = {
            "session_count": len(user_sessions),
            "total_revenue": sum((p.amount or 0) for p in user_payments),
        }
    return result
'''


@pytest.fixture(scope="module")
def seed_fixed() -> tuple[str, list]:
    return fix_all(SEED, EXAMPLES)


def test_seed_golden(seed_fixed):
    text, fixes = seed_fixed
    assert [(f.code, f.span.line) for f, _ in fixes] == [
        ("ORM004", 5), ("ORM004", 6), ("ORM003", 11), ("ORM003", 12), ("ORM005", 15)]
    assert text == SEED_FIXED
    compile(text, "fixed.py", "exec")
    by_kind = {fix.kind: fix for _, fix in fixes}
    assert by_kind["chunk_in"].title == "Query in chunks of 1,000 distinct values"
    assert (by_kind["chunk_in"].safe, by_kind["chunk_in"].why_unsafe) == (False, UNORDERED)
    assert by_kind["group_once"].safe
    assert by_kind["group_once"].title == "Group `payments_by_user.values()` once by `p.user_id` before the loop"


def test_seed_fixed_is_clean_and_idempotent(seed_fixed, tmp_path):
    (tmp_path / "models.py").write_text((EXAMPLES / "models.py").read_text())
    assert codes_after(seed_fixed[0], tmp_path) == []  # no ORM003/4/5, and nothing new either
    again, fixes = fix_all(tmp_path / "fixed.py", tmp_path)
    assert (again, fixes) == (seed_fixed[0], [])


def test_each_seed_fix_alone_compiles_and_is_gone_after(tmp_path):
    (tmp_path / "models.py").write_text((EXAMPLES / "models.py").read_text())
    report = check_files(sorted(EXAMPLES.glob("*.py")), Settings(), EXAMPLES)
    source = SourceText(SEED.read_text())
    found = [f for f in report.findings if Path(f.path) == SEED.resolve()]
    for finding in found:
        text = apply_edits(source.text, BUILDERS[type(finding.fix)](source, finding.fix, Settings()).edits)
        compile(text, "fixed.py", "exec")
        left = Counter(code for code, _ in codes_after(text, tmp_path))
        before = Counter(f.code for f in found)
        assert left[finding.code] == before[finding.code] - 1
        # (others stay, except that after the ORM004 fix alone the scan of its `x = []; x += ...`
        # rows is no longer seen as a scan of rows: the analysis does not follow `+=`)
        assert all(left[code] <= before[code] for code in left)


def load_fixed(env: Env, text: str) -> types.ModuleType:
    """The fixed seed as a module, importing the fixture's one `models` (so the one `db`)."""
    module = types.ModuleType("batched_fixed")
    module.__file__ = str(EXAMPLES / "batched_fixed.py")
    exec(compile(text, module.__file__, "exec"), module.__dict__)  # noqa: S102 - the code under test
    assert module.Session is env.models.Session and module.Payment is env.models.Payment
    return module


def selects_per_distinct(ids: list[int]) -> int:
    return 2 * math.ceil(len(set(ids)) / 1000)


SEED_IDS = {
    "empty": [],
    "one": [1],
    "nulls_unknown_repeats": [3, 1, 2, 10, 20, 5, 999, 1, 42, 60, NULL_AND_REAL, 4, NULL_ONLY, 9, 500, 3, 60],
    "every_user": list(range(1, 63)),
    # 2,500 distinct ids (most unknown), ids with rows repeated within one chunk and in later chunks
    "2500_repeated_across_chunks": [1, 2, 1, *range(1, 2501), 1, NULL_AND_REAL, 1500, 2, 2500],
}


@pytest.mark.parametrize("case", SEED_IDS)
def test_seed_fixed_runs_like_intended(env: Env, seed_fixed, case):
    seed = env.seed()
    fixed = load_fixed(env, seed_fixed[0])
    ids = SEED_IDS[case]
    env.reset()
    result = fixed.get_user_analytics(ids)
    selects = env.selects()
    assert len(selects) == len(env.statements) == selects_per_distinct(ids)
    assert max((len(params) for _, params in selects), default=0) <= 1000
    intended = env.intended.get_user_analytics(ids)
    assert result == intended == seed.expected(ids)
    assert list(result) == list(intended)  # same keys, same order
    if case == "2500_repeated_across_chunks":
        assert len(selects) == 2 * 3 and seed.sessions[1] and seed.payments[1]


@pytest.mark.parametrize("case", SEED_IDS)
def test_seed_original_runs_two_selects_in_all(env: Env, seed_fixed, case):
    # the contrast: one statement per model whatever the number of ids (NULL users left out: the
    # original raises on them, ORM005)
    env.seed()
    fixed = load_fixed(env, seed_fixed[0])
    ids = [uid for uid in SEED_IDS[case] if uid not in (NULL_AND_REAL, NULL_ONLY)]
    env.reset()
    original = env.batched_but_quadratic.get_user_analytics(ids)
    assert len(env.selects()) == 2
    assert fixed.get_user_analytics(ids) == original


def test_seed_fixed_passes_where_the_original_fails_past_the_limit(env: Env, seed_fixed):
    seed = env.seed()
    fixed = load_fixed(env, seed_fixed[0])
    raw = lower_variable_limit(env)
    ids = list(range(1, 40_001))
    env.reset()
    with pytest.raises(OperationalError, match="too many SQL variables"):
        env.batched_but_quadratic.get_user_analytics(ids)
    assert len(env.statements) == 1 and len(env.statements[0][1]) == len(ids) > SQLITE_VARIABLE_LIMIT
    env.db.session.rollback()
    env.reset()
    result = fixed.get_user_analytics(ids)
    assert len(env.selects()) == selects_per_distinct(ids) == 80
    assert max(len(params) for _, params in env.selects()) == 1000
    assert result == seed.expected(ids)  # (intended.py would take 80,000 SELECTs)
    assert_limit_still_on(env, raw)


# --- synthetic modules -----------------------------------------------------------------------------

HEADER = '''\
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]

'''

CHUNK_BEFORE = HEADER + '''
def visits_of(session: Session, user_ids: list[int]) -> list[Visit]:
    visits = session.query(Visit).filter(Visit.user_id.in_(user_ids)).all()
    return visits


def visits_by_statement(session: Session, user_ids: list[int]):
    rows: list[Visit] = session.scalars(
        select(Visit).where(Visit.id > 0, Visit.user_id.in_(user_ids))  # positive ids
    ).all()
    return rows
'''

CHUNK_AFTER = HEADER + '''
def visits_of(session: Session, user_ids: list[int]) -> list[Visit]:
    distinct_user_ids = list(dict.fromkeys(user_ids))
    visits = []
    for start in range(0, len(distinct_user_ids), 1000):
        visits += session.query(Visit).filter(Visit.user_id.in_(distinct_user_ids[start:start + 1000])).all()
    return visits


def visits_by_statement(session: Session, user_ids: list[int]):
    distinct_user_ids = list(dict.fromkeys(user_ids))
    rows: list[Visit] = []
    for start in range(0, len(distinct_user_ids), 1000):
        rows += session.scalars(
            select(Visit).where(Visit.id > 0, Visit.user_id.in_(distinct_user_ids[start:start + 1000]))  # positive ids
        ).all()
    return rows
'''

GROUP_BEFORE = HEADER + '''
def visits_per_user(visits: list[Visit], user_ids: list[int]) -> dict[int, list[Visit]]:
    result = {}
    for uid in user_ids:
        mine = [v for v in visits if v.user_id == uid]
        result[uid] = mine
    return result


def lists_per_user(visits: list[Visit], user_ids: list[int]) -> list[list[Visit]]:
    out = []
    for uid in user_ids:
        out.append([v for v in visits if uid == v.user_id])
    return out
'''

GROUP_AFTER = '''\
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
''' + HEADER.split("\n", 2)[2] + '''
def visits_per_user(visits: list[Visit], user_ids: list[int]) -> dict[int, list[Visit]]:
    result = {}
    visits_by_user_id = defaultdict(list)
    for v in visits:
        visits_by_user_id[v.user_id].append(v)
    for uid in user_ids:
        mine = list(visits_by_user_id.get(uid, ()))
        result[uid] = mine
    return result


def lists_per_user(visits: list[Visit], user_ids: list[int]) -> list[list[Visit]]:
    out = []
    visits_by_user_id = defaultdict(list)
    for v in visits:
        visits_by_user_id[v.user_id].append(v)
    for uid in user_ids:
        out.append(list(visits_by_user_id.get(uid, ())))
    return out
'''


def write(root: Path, text: str, name: str = "shape.py") -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def findings(path: Path, code: str) -> list:
    report = check_files([path], Settings(), path.parent)
    assert report.errors == []
    return [f for f in report.findings if f.code == code]


def test_chunk_golden(tmp_path):
    path = write(tmp_path, CHUNK_BEFORE)
    text, fixes = fix_all(path, tmp_path)
    assert [(f.code, fix.kind, fix.safe) for f, fix in fixes] == [("ORM004", "chunk_in", False)] * 2
    assert text == CHUNK_AFTER
    assert codes_after(text, tmp_path, "shape.py") == []


def test_chunk_size_from_settings(tmp_path):
    path = write(tmp_path, CHUNK_BEFORE)
    text, fixes = fix_all(path, tmp_path, Settings(chunk_size=250))
    assert text == CHUNK_AFTER.replace("1000", "250")
    assert {fix.title for _, fix in fixes} == {"Query in chunks of 250 distinct values"}


def test_group_golden(tmp_path):
    path = write(tmp_path, GROUP_BEFORE)
    text, fixes = fix_all(path, tmp_path)
    assert [(f.code, fix.kind, fix.safe) for f, fix in fixes] == [("ORM003", "group_once", True)] * 2
    assert text == GROUP_AFTER
    assert codes_after(text, tmp_path, "shape.py") == []


def test_crlf_files(tmp_path):
    for name, before, after in (("chunk.py", CHUNK_BEFORE, CHUNK_AFTER), ("group.py", GROUP_BEFORE, GROUP_AFTER)):
        path = tmp_path / name
        path.write_bytes(before.replace("\n", "\r\n").encode())
        text, fixes = fix_all(path, tmp_path)
        assert len(fixes) == 2
        assert text.replace("\r\n", "\n") == after
        compile(text, name, "exec")
    # the rewritten lines keep the file's line endings (the import line is SourceText.ensure_import's)
    assert "= defaultdict(list)\r\n    for v in visits:\r\n" in text


def load(path: Path, text: str) -> types.ModuleType:
    path.write_text(text, encoding="utf-8")
    name = f"synthetic_{path.stem}_{abs(hash(text))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclass-like machinery of the ORM looks the module up)
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


class Db:
    """One module's models in an in-memory SQLite database, SELECTs counted at the cursor."""

    def __init__(self, module: types.ModuleType, n_users: int):
        self.module = module
        self.engine = create_engine("sqlite://")
        module.Base.metadata.create_all(self.engine)
        # users 1..n_users+5: 0-3 visits each (every 4th has none), inserted interleaved by user
        rows = [{"user_id": uid} for round_ in range(3) for uid in range(1, n_users + 6) if uid % 4 > round_]
        with Session(self.engine) as session:
            if rows:
                session.execute(insert(module.Visit), rows)
            session.commit()
        self.statements: list[tuple[str, object]] = []
        event.listen(self.engine, "before_cursor_execute", self.count)

    def count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))


def ids_for(n: int) -> list[int]:
    """n ids: unknown ones, ids without rows, repeats (also 1,000 places apart)."""
    base = [uid if uid % 7 else uid + 100_000 for uid in range(1, n + 1)]  # every 7th unknown
    return base + base[: n // 3] if n > 1 else base


@pytest.fixture(scope="module")
def chunk_modules(tmp_path_factory) -> tuple[types.ModuleType, types.ModuleType]:
    root = tmp_path_factory.mktemp("chunk")
    return load(root / "before.py", CHUNK_BEFORE), load(root / "after.py", CHUNK_AFTER)


@pytest.mark.parametrize("function", ["visits_of", "visits_by_statement"])
@pytest.mark.parametrize("n", [0, 1, 10, 2500])
def test_chunk_runs_like_before(chunk_modules, function: str, n: int):
    results = {}
    for label, module in zip(("before", "after"), chunk_modules):
        db = Db(module, n)
        ids = ids_for(n)
        with Session(db.engine) as session:
            db.statements.clear()
            rows = getattr(module, function)(session, ids)
            results[label] = ([(row.id, row.user_id) for row in rows], len(db.statements),
                              max((len(params) for _, params in db.statements), default=0))
    before, after = results["before"], results["after"]
    assert sorted(after[0]) == sorted(before[0])  # the same rows (their order may differ)
    assert len(set(after[0])) == len(after[0])  # each once, ids repeated across chunks or not
    assert before[1] == 1
    assert after[1] == math.ceil(len(set(ids_for(n))) / 1000)  # 0 for no ids
    assert after[2] <= 1000 + 1  # the chunk (and `Visit.id > 0`)
    if n == 2500:
        assert after[1] == 3 and len(before[0]) > 1000


@pytest.fixture(scope="module")
def group_modules(tmp_path_factory) -> tuple[types.ModuleType, types.ModuleType]:
    root = tmp_path_factory.mktemp("group")
    return load(root / "before.py", GROUP_BEFORE), load(root / "after.py", GROUP_AFTER)


@pytest.mark.parametrize("n", [0, 1, 10, 2500])
def test_group_runs_like_before(group_modules, n: int):
    ids = ids_for(n)
    outcomes = []
    for module in group_modules:
        db = Db(module, 40)  # 40 users with visits, so the 2,500-id scan stays quick
        with Session(db.engine) as session:
            visits = session.query(module.Visit).all()
            visits.reverse()  # an order that is not the id order: groups must keep it
            db.statements.clear()
            per_user = module.visits_per_user(visits, ids)
            lists = module.lists_per_user(visits, ids)
            assert db.statements == []  # (only loaded attributes are read)
            outcomes.append(({uid: [v.id for v in vs] for uid, vs in per_user.items()},
                             [[v.id for v in vs] for vs in lists], lists))
    (before_map, before_lists, _), (after_map, after_lists, lists) = outcomes
    assert after_map == before_map and list(after_map) == list(before_map)
    assert after_lists == before_lists
    assert len({id(vs) for vs in lists}) == len(lists)  # a new list each time, like the comprehension
    if n >= 10:
        assert any(len(vs) > 1 for vs in before_lists) and any(not vs for vs in before_lists)


# --- shapes that are not rewritten ----------------------------------------------------------------

GROUP_LOOP = HEADER + '''
def shuffle(rows):
    rows.reverse()


def visits_per_user(visits: list[Visit], user_ids: list[int]):
    result = {}
    for uid in user_ids:
        result[uid] = [v for v in visits if v.user_id == uid]
        {change}
    return result
'''

CHANGED = "the loop may change `visits`"
KEY = "could change the key|which the key reads"
# the line added to the loop: what the builder says
MUTATIONS = {
    "method": ("visits.append(Visit(user_id=uid))", CHANGED),
    "sort": ("visits.sort(key=lambda v: v.id)", CHANGED),
    "rebound": ("visits = sorted(visits, key=lambda v: -v.id)", CHANGED),
    "augmented": ("visits += [Visit(user_id=uid)]", CHANGED),
    "item_assigned": ("visits[0] = Visit(user_id=uid)", CHANGED),
    "deleted": ("del visits[0]", CHANGED),
    "passed_on": ("shuffle(visits)", CHANGED),
    "aliased": ("alias = visits", CHANGED),
    "key_assigned": ("for v in result[uid]: v.user_id = uid + 1", KEY),
    "setattr": ("setattr(visits[0], 'user_id', uid)", KEY),
}


@pytest.mark.parametrize("change", MUTATIONS)
def test_collection_changed_in_the_loop_offers_no_group_fix(tmp_path, change):
    line, reason = MUTATIONS[change]
    path = write(tmp_path, GROUP_LOOP.replace("{change}", line))
    [finding] = findings(path, "ORM003")
    assert isinstance(finding.fix, GroupOncePlan)  # the analysis offers it: the builder refuses
    with pytest.raises(UnfixableError, match=reason):
        orm003_group.build(SourceText(path.read_text()), finding.fix, Settings())


def test_read_only_uses_in_the_loop_keep_the_group_fix(tmp_path):
    change = "print(len(visits), visits[0].id if visits else None, uid in visits)"
    path = write(tmp_path, GROUP_LOOP.replace("{change}", change))
    [finding] = findings(path, "ORM003")
    assert orm003_group.build(SourceText(path.read_text()), finding.fix, Settings()).safe


NOT_GROUPED = {
    # a generator is read once: the scan sees rows for the first id only, an index for every id
    "generator": '''
def loop(session: Session, user_ids: list[int]):
    visits = (v for v in session.query(Visit).all())
    out = []
    for uid in user_ids:
        out.append([v for v in visits if v.user_id == uid])
    return out
''',
    # more than the equality in the condition
    "extra_condition": '''
def loop(visits: list[Visit], user_ids: list[int]):
    out = []
    for uid in user_ids:
        out.append([v for v in visits if v.user_id == uid and v.id > 3])
    return out
''',
    # the scan runs when the generator is read, maybe after the loop changed `visits`
    "deferred": '''
def loop(visits: list[Visit], user_ids: list[int]):
    out = []
    for uid in user_ids:
        out.append(len([v for v in visits if v.user_id == uid]) for _ in range(2))
    return out
''',
    # the compared value is computed: the rewrite would call it once instead of once per row
    "computed_outer_value": '''
def loop(visits: list[Visit], user_ids: list[int], key):
    out = []
    for uid in user_ids:
        out.append([v for v in visits if v.user_id == key(uid)])
    return out
''',
}


@pytest.mark.parametrize("shape", NOT_GROUPED)
def test_shapes_offering_no_group_fix(tmp_path, shape):
    path = write(tmp_path, HEADER + NOT_GROUPED[shape])
    [finding] = findings(path, "ORM003")
    assert isinstance(finding.fix, GroupOncePlan)
    with pytest.raises(UnfixableError):
        orm003_group.build(SourceText(path.read_text()), finding.fix, Settings())


def test_item_name_in_use_gets_a_fresh_loop_variable(tmp_path):
    path = write(tmp_path, HEADER + '''
def loop(visits: list[Visit], user_ids: list[int]):
    v = "kept"
    out = []
    for uid in user_ids:
        out.append([v for v in visits if v.user_id == uid])
    return out, v
''')
    text, _ = fix_all(path, tmp_path)
    assert '''\
    visits_by_user_id = defaultdict(list)
    for v_2 in visits:
        visits_by_user_id[v_2.user_id].append(v_2)
    for uid in user_ids:
        out.append(list(visits_by_user_id.get(uid, ())))
    return out, v
''' in text
    module = load(tmp_path / "after.py", text)
    rows = [module.Visit(id=i, user_id=i % 2) for i in range(4)]
    assert module.loop(rows, [1, 0, 5]) == ([[rows[1], rows[3]], [rows[0], rows[2]], []], "kept")


def test_two_scans_of_one_collection_by_one_key_share_one_index(tmp_path):
    path = write(tmp_path, HEADER + '''
def loop(visits: list[Visit], user_ids: list[int]):
    out = []
    for uid in user_ids:
        out.append(([v for v in visits if v.user_id == uid], [w for w in visits if uid == w.user_id]))
    return out
''')
    text, fixes = fix_all(path, tmp_path)
    assert len(fixes) == 2
    assert text.count("defaultdict(list)") == 1
    assert "out.append((list(visits_by_user_id.get(uid, ())), list(visits_by_user_id.get(uid, ()))))" in text


CHUNK_NOT_REWRITTEN = {
    "inside_an_expression": "count = len(session.query(Visit).filter(Visit.user_id.in_(user_ids)).all())",
    "returned": "return session.query(Visit).filter(Visit.user_id.in_(user_ids)).all()",
    "limited": "rows = session.query(Visit).filter(Visit.user_id.in_(user_ids)).limit(10).all()",
    "distinct": "rows = session.query(Visit).filter(Visit.user_id.in_(user_ids)).distinct().all()",
    "two_statements_on_a_line": "a = 1; rows = session.query(Visit).filter(Visit.user_id.in_(user_ids)).all()",
    "reads_its_own_target": "rows = session.query(Visit).filter(Visit.user_id.in_(user_ids), Visit.id > rows).all()",
}


@pytest.mark.parametrize("shape", CHUNK_NOT_REWRITTEN)
def test_shapes_offering_no_chunk_fix(tmp_path, shape):
    path = write(tmp_path, HEADER + f'''
def run(session: Session, user_ids: list[int], rows=0):
    {CHUNK_NOT_REWRITTEN[shape]}
''')
    [finding] = findings(path, "ORM004")
    assert isinstance(finding.fix, ChunkInPlan)  # the analysis offers it: the builder refuses
    with pytest.raises(UnfixableError):
        orm004_chunk.build(SourceText(path.read_text()), finding.fix, Settings())


def test_ordered_query_is_unsafe_too(tmp_path):
    path = write(tmp_path, HEADER + '''
def run(session: Session, user_ids: list[int]):
    rows = session.query(Visit).filter(Visit.user_id.in_(user_ids)).order_by(Visit.id).all()
    return rows
''')
    [finding] = findings(path, "ORM004")
    assert finding.fix.ordered is True
    fix = orm004_chunk.build(SourceText(path.read_text()), finding.fix, Settings())
    assert not fix.safe and "not across chunks" in fix.why_unsafe


# --- apply_edits: inserts at one offset ------------------------------------------------------------


def test_inserts_at_one_offset_all_land_in_the_order_given():
    a, b, c = Edit(1, 1, "A"), Edit(1, 1, "B"), Edit(1, 2, "c")
    for edits in itertools.permutations([a, b, c]):
        order = "".join(e.text for e in edits if e.start == e.end)
        assert apply_edits("xyz", list(edits)) == f"x{order}cz"
    assert apply_edits("xyz", [a, b, a]) == "xAByz"  # identical edits once
