"""The ORM001 batch fix and the ORM002 eager-load fix on SQLAlchemy 2.0, asyncio and SQLModel
shapes: golden text from the analysis's own fix data, then the code before and after runs against
SQLite with the same results and the exact number of SELECTs (asyncio: before the fix the lazy load
raises MissingGreenlet; after it, the rows come eager-loaded)."""

from __future__ import annotations

import asyncio
import math

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from ormlens.config import Settings
from ormlens.fixes.base import SourceText, UnfixableError
from ormlens.fixes.orm001_batch import build as build_batch

from test_fix_orm001 import batch_plans, findings_of, fix_file
from test_fix_orm002 import IMPORTS, MODELS, fixed, load, orm002, seed, write

CHUNK = Settings().chunk_size

pytestmark = [
    # The lazy load that fails with MissingGreenlet leaves aiosqlite's cursor coroutine unawaited.
    pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited:RuntimeWarning"),
]

# --- SQLAlchemy 2.0: session.scalars(select(...)) (ORM002's select_scalars shape is in test_fix_orm002)

BATCH_2_0 = '''
def run(session: Session):
    out = {}
    for aid in session.scalars(select(Author.id).order_by(Author.id)).all():
        out[aid] = [b.title for b in session.scalars(select(Book).where(Book.author_id == aid).order_by(Book.id)).all()]
    return out
'''

BATCH_2_0_FIXED = '''
def run(session: Session):
    out = {}
    books_by_author_id = defaultdict(list)
    author_id_list = list(session.scalars(select(Author.id).order_by(Author.id)).all())
    distinct_author_ids = list(dict.fromkeys(author_id_list))
    for start in range(0, len(distinct_author_ids), 1000):
        chunk = distinct_author_ids[start:start + 1000]
        for row in session.scalars(select(Book).where(Book.author_id.in_(chunk)).order_by(Book.id)).all():
            books_by_author_id[row.author_id].append(row)
    for aid in author_id_list:
        out[aid] = [b.title for b in books_by_author_id.get(aid, [])]
    return out
'''


def count_selects(engine, call):
    selects = 0

    def count(conn, cursor, statement, parameters, context, executemany):
        nonlocal selects
        selects += statement.lstrip().upper().startswith("SELECT")

    event.listen(engine, "before_cursor_execute", count)
    try:
        return call(), selects
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_batch_2_0_golden_text(tmp_path):
    write(tmp_path, IMPORTS + MODELS + BATCH_2_0)
    out, fixes = fix_file(tmp_path, "shape.py")
    assert out == "from collections import defaultdict\n\n" + IMPORTS + MODELS + BATCH_2_0_FIXED
    assert [fix.safe for fix in fixes] == [True]  # ordered by Book.id


@pytest.mark.parametrize("n", [0, 1, 10, 2_500])
def test_batch_2_0_same_result_fewer_selects(tmp_path, n):
    before = load(write(tmp_path, IMPORTS + MODELS + BATCH_2_0))
    text, _ = fix_file(tmp_path, "shape.py")
    after = load(write(tmp_path, text, "fixed.py"))
    results = []
    for module in (before, after):
        engine, books = seed(module, n)
        with Session(engine) as session:
            results.append(count_selects(engine, lambda: module.run(session)))
        engine.dispose()
    (result, selects), (fixed_result, fixed_selects) = results
    assert result == {i: titles for i, titles in books.items()}
    assert fixed_result == result
    assert selects == 1 + n
    assert fixed_selects == 1 + math.ceil(n / CHUNK)


# --- asyncio: AsyncSession ----------------------------------------------------------------------

ASYNC_IMPORTS = IMPORTS + "from sqlalchemy.ext.asyncio import AsyncSession\n"

EAGER_ASYNC = '''
async def run(session: AsyncSession):
    return [(a.name, sorted(b.title for b in a.books)) for a in await session.scalars(select(Author).order_by(Author.id))]
'''

BATCH_ASYNC = '''
async def run(session: AsyncSession, author_ids: list[int]):
    out = {}
    for aid in author_ids:
        out[aid] = [b.title for b in (await session.scalars(select(Book).where(Book.author_id == aid).order_by(Book.id))).all()]
    return out
'''


def test_eager_async_golden_text_and_message(tmp_path):
    path = write(tmp_path, ASYNC_IMPORTS + MODELS + EAGER_ASYNC)
    (finding,) = orm002(path)
    assert "raises MissingGreenlet under an AsyncSession" in finding.message
    out, fix = fixed(path.read_text(), finding.fix)
    assert out == (ASYNC_IMPORTS + "from sqlalchemy.orm import selectinload\n" + MODELS + EAGER_ASYNC).replace(
        "select(Author).order_by", "select(Author).options(selectinload(Author.books)).order_by")
    assert fix.safe
    assert orm002(write(tmp_path, out, "after.py")) == []


def run_async(module, n: int, tmp_path, *args):
    """Seed a SQLite file with `n` authors (the sync seed), then run `module.run` in an AsyncSession
    over aiosqlite: (result or the exception, SELECT count, books per author id)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    database = tmp_path / f"async-{n}.sqlite"
    database.unlink(missing_ok=True)
    memory, books = seed(module, n)
    with memory.connect() as source, create_engine(f"sqlite:///{database}").connect() as target:
        source.connection.driver_connection.backup(target.connection.driver_connection)
    memory.dispose()
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")

    async def call():
        async with AsyncSession(engine) as session:
            try:
                return await module.run(session, *args)
            except MissingGreenlet as exc:
                return exc
            except StatementError as exc:  # the lazy load's statement, failing with MissingGreenlet
                if isinstance(exc.orig, MissingGreenlet):
                    return exc.orig
                raise

    try:
        result, selects = count_selects(engine.sync_engine, lambda: asyncio.run(call()))
    finally:
        asyncio.run(engine.dispose())
    return result, selects, books


@pytest.mark.parametrize("n", [1, 10, 1_200])
def test_eager_async_raises_before_and_loads_after(tmp_path, n):
    path = write(tmp_path, ASYNC_IMPORTS + MODELS + EAGER_ASYNC)
    (finding,) = orm002(path)
    out, _ = fixed(path.read_text(), finding.fix)
    before, after = load(path), load(write(tmp_path, out, "fixed.py"))
    result, selects, _ = run_async(before, n, tmp_path)
    assert isinstance(result, MissingGreenlet)
    assert selects == 1  # the authors; the first lazy load raises instead of running
    fixed_result, fixed_selects, books = run_async(after, n, tmp_path)
    assert fixed_result == [(f"author {i}", sorted(titles)) for i, titles in books.items()]
    assert fixed_selects == 1 + math.ceil(n / 500)  # selectinload: IN (...) of at most 500 ids


def test_batch_async_is_refused(tmp_path):
    """The batch rewrite refuses a loop body that awaits (other coroutines may change the rows
    between items), so under an AsyncSession ORM001 is reported without a fix."""
    write(tmp_path, ASYNC_IMPORTS + MODELS + BATCH_ASYNC)
    findings = findings_of(tmp_path, "shape.py")
    assert [f.code for f in findings] == ["ORM001"]
    (plan,) = batch_plans(findings)
    with pytest.raises(UnfixableError, match="awaits"):
        build_batch(SourceText((tmp_path / "shape.py").read_text()), plan, Settings())


# --- SQLModel: session.exec(select(...)) ------------------------------------------------------------

SQLMODEL = '''from typing import Optional

from sqlmodel import Field, Relationship, Session, SQLModel, select


class Author(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    books: list["Book"] = Relationship(back_populates="author")


class Book(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    author_id: int = Field(foreign_key="author.id")
    author: Optional[Author] = Relationship(back_populates="books")

Base = SQLModel  # what the seed creates the tables from
'''

EAGER_SQLMODEL = '''

def run(session: Session):
    return [(a.name, sorted(b.title for b in a.books)) for a in session.exec(select(Author).order_by(Author.id))]
'''

BATCH_SQLMODEL = '''

def run(session: Session):
    out = {}
    for aid in session.exec(select(Author.id).order_by(Author.id)).all():
        out[aid] = [b.title for b in session.exec(select(Book).where(Book.author_id == aid).order_by(Book.id)).all()]
    return out
'''


def test_sqlmodel_golden_text(tmp_path):
    path = write(tmp_path, SQLMODEL + EAGER_SQLMODEL)
    (finding,) = orm002(path)
    out, _ = fixed(path.read_text(), finding.fix)
    assert out == (SQLMODEL + EAGER_SQLMODEL).replace(
        "SQLModel, select\n", "SQLModel, select\nfrom sqlalchemy.orm import selectinload\n").replace(
        "select(Author).order_by", "select(Author).options(selectinload(Author.books)).order_by")
    assert orm002(write(tmp_path, out, "after.py")) == []
    batch = tmp_path / "batch"
    batch.mkdir()
    write(batch, SQLMODEL + BATCH_SQLMODEL)
    text, fixes = fix_file(batch, "shape.py")
    assert [fix.safe for fix in fixes] == [True]
    assert "for row in session.exec(select(Book).where(Book.author_id.in_(chunk)).order_by(Book.id)).all():" in text
    assert "out[aid] = [b.title for b in books_by_author_id.get(aid, [])]" in text


@pytest.mark.parametrize("shape", ["eager", "batch"])
@pytest.mark.parametrize("n", [0, 10, 1_200])
def test_sqlmodel_same_result_fewer_selects(tmp_path, shape, n):
    from sqlmodel import SQLModel

    body = EAGER_SQLMODEL if shape == "eager" else BATCH_SQLMODEL
    path = write(tmp_path, SQLMODEL + body)
    if shape == "eager":
        (finding,) = orm002(path)
        text, _ = fixed(path.read_text(), finding.fix)
    else:
        text, _ = fix_file(tmp_path, "shape.py")
    runs = []
    for name, source in (("before.py", SQLMODEL + body), ("after.py", text)):
        # Each load declares the same classes and tables again in SQLModel's one default registry.
        SQLModel._sa_registry.dispose()
        SQLModel.metadata.clear()
        module = load(write(tmp_path, source, name))
        engine, books = seed(module, n)
        with module.Session(engine) as session:
            runs.append(count_selects(engine, lambda: module.run(session)))
        engine.dispose()
    (result, selects), (fixed_result, fixed_selects) = runs
    expected = [(f"author {i}", sorted(t)) for i, t in books.items()] if shape == "eager" else \
        {i: t for i, t in books.items()}
    assert result == expected
    assert fixed_result == result
    assert selects == 1 + n
    assert fixed_selects == 1 + math.ceil(n / (500 if shape == "eager" else CHUNK))
