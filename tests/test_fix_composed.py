"""Two fixes on one query, applied by one `ormlens check --fix` (engine.fix_files), never compose into
broken code (issue #15, "fixes that keep their word").

The fixes of one round are edits of the same text: an insert at the edge of another fix's rewrite
(`.select_related(...)` after the queryset a batch fix turned into `index.get(key, [])`) or at
the same place as another fix's insert (two Peewee joins writing into one `select()`) waits for the
next round, built from the code as it is then; fixes that only add (loaders) go first, so the rewrite
of the same query in the next round carries them. Each shape: what `fix_files` writes (unsafe fixes
too) parses, has none of the fixed findings left, and runs with the same result and fewer queries
(Django and SQLAlchemy on SQLite, Peewee on SQLite)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from ormlens.config import Settings
from ormlens.engine import check_files, fix_files
from ormlens.findings import Finding, Span
from ormlens.fixes.base import Edit, Fix
from ormlens.fixes.plans import DjangoEagerPlan
from ormlens.fixes import registry

CHUNK = Settings().chunk_size


def fix_project(path: Path) -> tuple[str, list[str], list[str]]:
    """(the text `--fix --unsafe-fixes` writes, the codes found before, the codes left after)."""
    root = path.parent
    before = check_files(sorted(root.rglob("*.py")), Settings(), root)
    assert before.errors == []
    [outcome] = fix_files([path], Settings(), root, unsafe=True)
    assert outcome.error is None
    compile(outcome.fixed, str(path), "exec")
    path.write_text(outcome.fixed, encoding="utf-8")
    after = check_files(sorted(root.rglob("*.py")), Settings(), root)
    path.write_text(outcome.original, encoding="utf-8")
    codes = lambda report: sorted(f.code for f in report.findings if Path(f.path) == path.resolve())  # noqa: E731
    return outcome.fixed, codes(before), codes(after)


# --- the rounds: which edits of two fixes conflict ------------------------------------------------


def test_an_insert_at_the_edge_of_another_fixs_rewrite_waits():
    text = "for b in Book.objects.filter(author_id=a.id):\n    pass\n"
    start, end = text.index("Book"), text.index(":\n")
    rewrite, loader = Edit(start, end, "books.get(a.id, [])"), Edit(end, end, '.select_related("editor")')
    assert registry._conflict(loader, rewrite, text) and registry._conflict(rewrite, loader, text)
    assert registry._conflict(Edit(start, start, "x"), rewrite, text)  # at its start too
    assert not registry._conflict(Edit(end + 1, end + 1, "y"), rewrite, text)


def test_two_inserts_at_one_place_wait_unless_they_are_whole_lines():
    text = "import a\nfor t in Tweet.select():\n    pass\n"
    inside = text.index("select(") + len("select(")
    assert registry._conflict(Edit(inside, inside, "Tweet, User"), Edit(inside, inside, "Tweet, Team"), text)
    line = text.index("for")
    assert not registry._conflict(Edit(line, line, "import b\n"), Edit(line, line, "import c\n"), text)
    assert not registry._conflict(Edit(line, line, "import b\n"), Edit(line, text.index(":"), "x"), text)
    same = Edit(inside, inside, "Tweet, User")
    assert not registry._conflict(same, same, text)


def test_fixes_that_only_add_go_first(monkeypatch, tmp_path):
    """Of a rewrite and a loader whose edits conflict, the loader is applied (found second)."""
    text = "for b in Book.objects.filter(author_id=a.id):\n    pass\n"
    start, end = text.index("Book"), text.index(":\n")
    rewrite = Fix("rewrite", [Edit(start, end, "books.get(a.id, [])")])
    loader = Fix("loader", [Edit(end, end, '.select_related("editor")')])
    built = {"ORM001": rewrite, "ORM002": loader}
    monkeypatch.setattr(registry, "fix_for", lambda finding, source, settings: built[finding.code])
    span = Span(1, 0, 1, 1)
    plan = DjangoEagerPlan(span, "Book", "editor", "select_related")
    findings = [Finding("ORM001", "", "x.py", span, ""), Finding("ORM002", "", "x.py", span, "", fix=plan)]
    out, chosen = registry.fix_text(text, findings, Settings())
    assert chosen == [loader]
    assert out == 'for b in Book.objects.filter(author_id=a.id).select_related("editor"):\n    pass\n'


# --- Django ---------------------------------------------------------------------------------------

DJANGO = '''\
from django_app.models import Author, Book


def per_author(authors):
    out = []
    for a in authors:
        for b in Book.objects.filter(author_id=a.id).order_by("id"):
            out.append((a.name, b.title, b.editor.name if b.editor else None))
    return out


def titles():
    ids = list(Author.objects.values_list("id", flat=True))
    out = []
    for b in Book.objects.filter(author_id__in=ids).order_by("id"):
        out.append((b.title, b.author.name))
    return out
'''


@pytest.fixture
def django_project(tmp_path):
    pytest.importorskip("django")
    from test_fix_django import APP
    shutil.copytree(APP, tmp_path / "django_app", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "example.py"
    path.write_text(DJANGO, encoding="utf-8")
    return path


def test_django_batch_and_loader_on_one_queryset(django_project):
    from django_app.models import Book
    from test_fix_django import load, run, seed

    fixed, before, after = fix_project(django_project)
    assert before == ["ORM001", "ORM002", "ORM002", "ORM004"]
    assert after == []
    # The loader went on the queryset first; the batch of the next round carries it.
    assert '.order_by("id").select_related("editor"):\n            books_by_author_id[' in fixed
    assert '.select_related("author"):' in fixed
    assert ".get(a.id, []).select_related" not in fixed  # what one round made of it before
    old, new = load(DJANGO), load(fixed)
    try:
        for n in (0, 1, 10, 1200):
            authors = seed(n)
            books = [(b.author_id, b.editor_id) for b in Book.objects.all()]
            chunks = math.ceil(n / CHUNK)
            a, b = run(old["per_author"], authors), run(new["per_author"], authors)
            assert b.result == a.result
            assert (a.queries, b.queries) == (n + sum(1 for _, editor in books if editor), chunks)
            a, b = run(old["titles"]), run(new["titles"])
            assert b.result == a.result
            # (Django runs no query for an empty `__in` list)
            assert (a.queries, b.queries) == (1 + (1 if n else 0) + len(books), 1 + chunks)
    finally:
        seed(0)


# --- SQLAlchemy -----------------------------------------------------------------------------------

SA_MODELS = '''\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Publisher(Base):
    __tablename__ = "publisher"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books = relationship("Book", back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("publisher.id"))
    author = relationship("Author", back_populates="books")
    publisher = relationship("Publisher")
'''

SA_EXAMPLE = '''\
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Author, Book


def per_author_scalars(session: Session, author_ids: list[int]):
    out = []
    for aid in author_ids:
        books = session.scalars(select(Book).where(Book.author_id == aid).order_by(Book.id)).all()
        out.append([(b.title, b.publisher.name) for b in books])
    return out


def per_author_query(session: Session, author_ids: list[int]):
    out = []
    for aid in author_ids:
        for b in session.query(Book).filter(Book.author_id == aid).order_by(Book.id):
            out.append((b.title, b.publisher.name))
    return out


def chunked(session: Session, ids: list[int]):
    rows = session.query(Author).filter(Author.id.in_(ids)).order_by(Author.id).all()
    return [(a.name, [b.title for b in a.books]) for a in rows]


def two_loaders(session: Session):
    out = []
    for b in session.query(Book).order_by(Book.id).all():
        out.append((b.title, b.author.name, b.publisher.name))
    return out
'''


def sa_run(text: str, name: str, n: int, *args):
    """(result, SELECTs) of `name` in the module `text` on SQLite with `n` authors (author i has
    i % 4 books, each from one of max(1, n // 2) publishers)."""
    import sys
    import types

    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import Session

    models = types.ModuleType("models")
    saved = sys.modules.get("models")
    sys.modules["models"] = models  # (SQLAlchemy resolves the annotations in the module's namespace)
    try:
        exec(compile(SA_MODELS, "models.py", "exec"), models.__dict__)  # noqa: S102 - the test's own code
        ns: dict = {"__name__": "example"}
        exec(compile(text, "example.py", "exec"), ns)  # noqa: S102
    finally:
        if saved is None:
            del sys.modules["models"]
        else:
            sys.modules["models"] = saved
    engine = create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with Session(engine) as session:
        publishers = [models.Publisher(id=k + 1, name=f"pub {k}") for k in range(max(1, n // 2))]
        session.add_all(publishers)
        for i in range(n):
            session.add(models.Author(id=i + 1, name=f"author {i}"))
            for j in range(i % 4):
                session.add(models.Book(id=100 * (i + 1) + j, title=f"t{(i * 7 + j) % 5}", author_id=i + 1,
                                        publisher_id=(i + j) % len(publishers) + 1))
        session.commit()
    selects = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: selects.append(1)
                 if statement.lstrip().upper().startswith("SELECT") else None)
    with Session(engine) as session:
        result = ns[name](session, *args)
    return result, len(selects)


def test_sqlalchemy_batch_chunk_and_loaders_on_one_query(tmp_path):
    (tmp_path / "models.py").write_text(SA_MODELS, encoding="utf-8")
    path = tmp_path / "example.py"
    path.write_text(SA_EXAMPLE, encoding="utf-8")
    fixed, before, after = fix_project(path)
    assert "ORM001" in before and "ORM002" in before
    assert after == []
    # Two loaders of one query: one `.options(...)`, merged in the next round.
    assert ".options(joinedload(Book.author), joinedload(Book.publisher))" in fixed or \
        ".options(joinedload(Book.publisher), joinedload(Book.author))" in fixed
    for n in (0, 1, 9):
        ids = list(range(1, n + 1))
        for name, args in [("per_author_scalars", (ids,)), ("per_author_query", (ids,)), ("chunked", (ids,)),
                           ("two_loaders", ())]:
            old, sent_before = sa_run(SA_EXAMPLE, name, n, *args)
            new, sent_after = sa_run(fixed, name, n, *args)
            assert new == old, name
            assert sent_after <= sent_before, name
        # Batched and loaded: one query per chunk of authors, whatever their number.
        assert sa_run(fixed, "per_author_scalars", n, ids)[1] == math.ceil(n / CHUNK)
        assert sa_run(fixed, "two_loaders", n)[1] == 1


# --- Peewee: two joins into one select() ----------------------------------------------------------

PEEWEE = '''\
from peewee import CharField, ForeignKeyField, Model, SqliteDatabase

db = SqliteDatabase(None)


class User(Model):
    name = CharField()

    class Meta:
        database = db


class Team(Model):
    name = CharField()

    class Meta:
        database = db


class Tweet(Model):
    user = ForeignKeyField(User, backref="tweets")
    team = ForeignKeyField(Team, backref="tweets")
    body = CharField()

    class Meta:
        database = db


def run():
    return [(t.body, t.user.name, t.team.name) for t in Tweet.select().where(Tweet.body != "").order_by(Tweet.id)]
'''


def test_peewee_two_joins_into_one_select(tmp_path):
    """Both joins wrote into `select()` at once (`select(Tweet, UserTweet, Team)`: a NameError); now
    one is applied and the other, next round, is refused (select() names its models already)."""
    pytest.importorskip("peewee")
    path = tmp_path / "example.py"
    path.write_text(PEEWEE, encoding="utf-8")
    fixed, before, after = fix_project(path)
    assert before == ["ORM002", "ORM002"] and after == ["ORM002"]
    assert "UserTweet" not in fixed and fixed.count(".join(") == 1

    def execute(text: str):
        ns: dict = {"__name__": "example"}
        exec(compile(text, "example.py", "exec"), ns)  # noqa: S102
        ns["db"].init(":memory:")
        ns["db"].create_tables([ns["User"], ns["Team"], ns["Tweet"]])
        for i in range(4):
            user, team = ns["User"].create(name=f"u{i}"), ns["Team"].create(name=f"t{i}")
            ns["Tweet"].create(user=user, team=team, body=f"b{i}")
        try:
            return ns["run"]()
        finally:
            ns["db"].close()

    assert execute(fixed) == execute(PEEWEE)
