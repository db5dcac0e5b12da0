"""The ORM002 fix: eager-load the relationship on the query that loads the rows.

Golden text for each shape, from the fix data ormlens's own analysis reports; then the code before
and after the fix runs against SQLite: same result, and the SELECTs go from one per row to the
exact number the loader issues."""

from __future__ import annotations

import importlib.util
import itertools
import math
import random
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from ormlens.config import Settings
from ormlens.engine import check_files
from ormlens.findings import Span
from ormlens.fixes.base import SourceText, UnfixableError, apply_edits
from ormlens.fixes.orm002_eager import build
from ormlens.fixes.plans import EagerLoadPlan

from helpers import locate

IMPORTS = """\
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, load_only, mapped_column, relationship
"""

MODELS = '''

class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")

'''

SELECTIN = "from sqlalchemy.orm import selectinload\n"
JOINED = "from sqlalchemy.orm import joinedload\n"

# name: (function before, function after, the import the fix adds, what the function reads)
SHAPES = {
    "query_all": ('''
def run(session: Session):
    authors = session.query(Author).order_by(Author.id).all()
    out = []
    for a in authors:
        out.append((a.name, sorted(b.title for b in a.books)))  # one SELECT per author
    return out
''', '''
def run(session: Session):
    authors = session.query(Author).options(selectinload(Author.books)).order_by(Author.id).all()
    out = []
    for a in authors:
        out.append((a.name, sorted(b.title for b in a.books)))  # one SELECT per author
    return out
''', SELECTIN, "books"),
    "query_iterated": ('''
def run(session: Session):
    out = []
    for book in session.query(Book).filter(Book.id > 10):
        out.append((book.title, book.author.name))
    return out
''', '''
def run(session: Session):
    out = []
    for book in session.query(Book).options(joinedload(Book.author)).filter(Book.id > 10):
        out.append((book.title, book.author.name))
    return out
''', JOINED, "author"),
    "options_merged": ('''
def run(session: Session):
    rows = (
        session.query(Author)  # names only
        .options(load_only(Author.name))
        .order_by(Author.id)
        .all()
    )
    return [(a.name, sorted(b.title for b in a.books)) for a in rows]
''', '''
def run(session: Session):
    rows = (
        session.query(Author)  # names only
        .options(load_only(Author.name), selectinload(Author.books))
        .order_by(Author.id)
        .all()
    )
    return [(a.name, sorted(b.title for b in a.books)) for a in rows]
''', SELECTIN, "books"),
    "select_scalars": ('''
def run(session: Session):
    out = []
    for a in session.scalars(select(Author).where(Author.id > 0).order_by(Author.id)):
        out.append((a.name, sorted(b.title for b in a.books)))
    return out
''', '''
def run(session: Session):
    out = []
    for a in session.scalars(select(Author).options(selectinload(Author.books)).where(Author.id > 0).order_by(Author.id)):
        out.append((a.name, sorted(b.title for b in a.books)))
    return out
''', SELECTIN, "books"),
}

# The span the brief gives for a loop over the query itself; see test_engine_gives_a_fix_plan_*.
ITERATED_QUERY = "session.query(Book).filter(Book.id > 10)"


def module_text(function: str, added_import: str = "") -> str:
    return IMPORTS + added_import + MODELS + function


def write(root: Path, text: str, name: str = "shape.py") -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def orm002(path: Path) -> list:
    report = check_files([path], Settings(), path.parent)
    assert report.errors == []
    return [f for f in report.findings if f.code == "ORM002"]


def fix_plan(path: Path, shape: str) -> EagerLoadPlan:
    """The finding's fix plan, as the analysis reports it (by hand only where it reports none)."""
    (finding,) = orm002(path)
    if shape == "query_iterated" and finding.fix is None:
        return EagerLoadPlan(Span(*locate(path, ITERATED_QUERY)), finding.data["model"], finding.data["relationship"],
                             finding.data["loader"])
    return finding.fix


def fixed(text: str, plan: EagerLoadPlan):
    source = SourceText(text)
    fix = build(source, plan, Settings())
    return apply_edits(text, fix.edits), fix


# --- golden text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_golden(tmp_path, shape):
    before, after, added_import, _ = SHAPES[shape]
    path = write(tmp_path, module_text(before))
    plan = fix_plan(path, shape)
    assert isinstance(plan, EagerLoadPlan)
    out, fix = fixed(path.read_text(), plan)
    assert out == module_text(after, added_import)
    loader = added_import.split()[-1]
    model = "Book" if shape == "query_iterated" else "Author"
    assert fix.title == f"Eager-load {model}.{SHAPES[shape][3]} with {loader}"
    assert fix.safe and fix.kind == "eager_load"
    # Re-analysis: the read is eager-loaded now.
    assert orm002(write(tmp_path, out, "after.py")) == []


def test_engine_gives_a_fix_plan_for_a_query_iterated_directly(tmp_path):
    path = write(tmp_path, module_text(SHAPES["query_iterated"][0]))
    (finding,) = orm002(path)
    assert finding.fix.query == Span(*locate(path, ITERATED_QUERY))


def golden_case(tmp_path, function: str, imports: str = IMPORTS) -> tuple[str, str]:
    text = imports + MODELS + function
    path = write(tmp_path, text)
    (finding,) = orm002(path)
    out, _ = fixed(text, finding.fix)
    assert orm002(write(tmp_path, out, "after.py")) == []
    return text, out


def test_execute_then_scalars(tmp_path):
    text, out = golden_case(tmp_path, '''
def run(session: Session):
    return [len(a.books) for a in session.execute(select(Author)).scalars().all()]
''')
    assert out == text.replace("select(Author)", "select(Author).options(selectinload(Author.books))") \
        .replace(IMPORTS, IMPORTS + SELECTIN)


def test_loader_already_imported_in_a_parenthesized_import(tmp_path):
    imports = ("from sqlalchemy import ForeignKey, select\n"
               "from sqlalchemy.orm import (\n"
               "    DeclarativeBase,\n    Mapped,\n    Session,\n    mapped_column,\n"
               "    relationship,\n    selectinload,\n)\n")
    text, out = golden_case(tmp_path, '''
def run(session: Session):
    return [len(a.books) for a in session.query(Author).all()]
''', imports)
    assert out == text.replace("session.query(Author).all()",
                               "session.query(Author).options(selectinload(Author.books)).all()")


def test_options_one_per_line_with_a_trailing_comma(tmp_path):
    text, out = golden_case(tmp_path, '''
def run(session: Session):
    stmt = select(Author).options(
        load_only(Author.name),
    )
    return [len(a.books) for a in session.scalars(
        select(Author).options(
            load_only(Author.name),  # keep
        )
    )]
''')
    assert out == (IMPORTS + SELECTIN + MODELS + '''
def run(session: Session):
    stmt = select(Author).options(
        load_only(Author.name),
    )
    return [len(a.books) for a in session.scalars(
        select(Author).options(
            load_only(Author.name),  # keep
            selectinload(Author.books),
        )
    )]
''')


def test_dotted_model_and_flask_model_query(tmp_path):
    """`models.Author` stays as written; Flask-SQLAlchemy's `Model.query` starts the chain."""
    (tmp_path / "models.py").write_text(IMPORTS + MODELS, encoding="utf-8")
    text = ("import models\nfrom models import Author\nfrom sqlalchemy.orm import Session\n\n\n"
            "def run(session: Session):\n"
            "    for a in session.query(models.Author).all():\n        print(a.books)\n"
            "    for a in Author.query.filter(Author.id > 1).all():\n        print(a.books)\n")
    path = write(tmp_path, text)
    findings = orm002(path)
    assert len(findings) == 2
    source = SourceText(text)
    edits = [edit for finding in findings for edit in build(source, finding.fix, Settings()).edits]
    out = apply_edits(text, edits)
    assert out == ("import models\nfrom models import Author\nfrom sqlalchemy.orm import Session\n"
                   "from sqlalchemy.orm import selectinload\n\n\n"
                   "def run(session: Session):\n"
                   "    for a in session.query(models.Author).options(selectinload(models.Author.books)).all():\n"
                   "        print(a.books)\n"
                   "    for a in Author.query.options(selectinload(Author.books)).filter(Author.id > 1).all():\n"
                   "        print(a.books)\n")
    assert orm002(write(tmp_path, out, "after.py")) == []


# --- not fixable ---------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [
    # The rows came from a query built elsewhere: the span is `q.all()` / `session.scalars(stmt)`.
    '''
def run(session: Session):
    q = session.query(Author)
    for a in q.all():
        print(a.books)
''', '''
def run(session: Session):
    stmt = select(Author)
    for a in session.scalars(stmt):
        print(a.books)
'''])
def test_query_not_in_the_span_is_unfixable(tmp_path, function):
    path = write(tmp_path, module_text(function))
    (finding,) = orm002(path)
    with pytest.raises(UnfixableError):
        build(SourceText(path.read_text()), finding.fix, Settings())


def test_a_name_span_is_unfixable(tmp_path):
    text = module_text('''
def run(session: Session, authors):
    for a in authors:
        print(a.books)
''')
    path = write(tmp_path, text)
    plan = EagerLoadPlan(Span(*locate(path, "authors", 1)), "Author", "books", "selectinload")
    with pytest.raises(UnfixableError):
        build(SourceText(text), plan, Settings())


def test_loader_name_taken_by_something_else_is_unfixable(tmp_path):
    text = module_text('''
def selectinload(x):
    return x


def run(session: Session):
    return [a.books for a in session.query(Author).all()]
''')
    path = write(tmp_path, text)
    (finding,) = orm002(path)
    with pytest.raises(UnfixableError):
        build(SourceText(text), finding.fix, Settings())


# --- before and after, on a database -------------------------------------------------------------

_modules = itertools.count()


def load(path: Path):
    name = f"_orm002_fixture_{next(_modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the declarative annotations are resolved in the module
    spec.loader.exec_module(module)
    return module


def seed(module, n: int) -> tuple[object, dict[int, list[str]]]:
    """An in-memory database with `n` authors of 0-3 books each: the engine and the books per author id."""
    engine = create_engine("sqlite://")
    module.Base.metadata.create_all(engine)
    rng = random.Random(n)
    books: dict[int, list[str]] = {}
    with Session(engine) as session:
        for i in range(1, n + 1):
            author = module.Author(id=i, name=f"author {i}")
            titles = [f"book {i}.{j}" for j in range(rng.randint(0, 3))]
            author.books = [module.Book(title=title) for title in titles]
            books[i] = titles
            session.add(author)
        session.commit()
    return engine, books


def run_counting(module, n: int) -> tuple[list, int, dict[int, list[str]]]:
    engine, books = seed(module, n)
    selects = 0

    def count(conn, cursor, statement, parameters, context, executemany):
        nonlocal selects
        if statement.lstrip().upper().startswith("SELECT"):
            selects += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            result = module.run(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return result, selects, books


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    """Each shape's module before and after the fix, imported."""
    out = {}
    for shape, (before, *_rest) in SHAPES.items():
        root = tmp_path_factory.mktemp(shape)
        path = write(root, module_text(before))
        text, _ = fixed(path.read_text(), fix_plan(path, shape))
        out[shape] = (load(path), load(write(root, text, "fixed.py")))
    return out


@pytest.mark.parametrize("n", [0, 1, 10, 2_500])
@pytest.mark.parametrize("shape", SHAPES)
def test_same_result_fewer_selects(modules, shape, n):
    before, after = modules[shape]
    result, selects, books = run_counting(before, n)
    fixed_result, fixed_selects, _ = run_counting(after, n)

    if shape == "query_iterated":
        by_book = [(title, f"author {i}") for i, titles in books.items() for title in titles]
        expected = by_book[10:]  # ids are given in insertion order: Book.id > 10
        # Book.author is many-to-one: one lazy SELECT per distinct author, the rest from the identity map.
        lazy = 1 + len({name for _, name in expected})
        eager = 1  # joinedload: the same SELECT
    else:
        expected = [(f"author {i}", sorted(titles)) for i, titles in books.items()]
        lazy = 1 + n  # one SELECT per author, with books or not
        eager = 1 + math.ceil(n / 500)  # selectinload: IN (...) of at most 500 ids per SELECT

    assert result == expected
    assert fixed_result == result
    assert selects == lazy
    assert fixed_selects == eager
