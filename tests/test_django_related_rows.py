"""Rows of a related manager, checked against Django itself (SQLite in memory, query counts):
- a reverse ForeignKey manager's rows have their parent set, through filter()/select_related()/
  order_by() clones (Django's known related objects): reading it runs no query, and ormlens says
  nothing (reduced from pretix sendmail/tasks.py, `event.waitinglistentries.filter(...)`);
- one row's to-many manager rows load nothing else: a ForeignKey read per row is one query per
  row, which ormlens reports as ORM002, and the select_related it advises makes it one query
  (reduced from pretix services/mail.py, `outgoing_mail.should_attach_invoices.all()`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("django")

from django_app import runtime  # noqa: E402

runtime.setup()

from django_app.models import Author, Book, Tag  # noqa: E402

from helpers import locate  # noqa: E402
from ormlens.config import Settings  # noqa: E402
from ormlens.engine import check_files  # noqa: E402
from ormlens.findings import Span  # noqa: E402
from ormlens.fixes.plans import DjangoEagerPlan  # noqa: E402

APP = Path(__file__).resolve().parent / "django_app"

CODE = '''\
from django_app.models import Author, Tag


def titles_and_authors(author_id):
    author = Author.objects.get(pk=author_id)
    rows = author.books.filter(price__gte=0).select_related("editor").order_by("title")
    return [(book.title, book.author.name) for book in rows]


def authors_of_tag(tag_id):
    tag = Tag.objects.get(pk=tag_id)
    return [book.author.name for book in tag.books.all()]


def authors_of_tag_selected(tag_id):
    tag = Tag.objects.get(pk=tag_id)
    return [book.author.name for book in tag.books.all().select_related("author")]
'''


@pytest.fixture(autouse=True)
def empty_database():
    yield
    Book.tags.through.objects.all().delete()
    Book.objects.all().delete()
    Author.objects.all().delete()
    Tag.objects.all().delete()


def seed(n: int) -> tuple[Author, Tag]:
    """One author with `n` priced books, each by its own other author too, all with one tag."""
    main = Author.objects.create(name="main")
    tag = Tag.objects.create(name="t")
    others = Author.objects.bulk_create([Author(name=f"a{i}") for i in range(n)])
    books = Book.objects.bulk_create([Book(title=f"b{i}", author=main, price=i) for i in range(n)] +
                                     [Book(title=f"c{i}", author=others[i], price=i) for i in range(n)])
    tag.books.set(books[n:])
    return main, tag


def load(text: str) -> dict:
    namespace: dict = {"__name__": "example"}
    exec(compile(text, "example.py", "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


def queries(function, *args) -> int:
    return len(runtime.counted(function, *args)[1])


def test_findings(tmp_path: Path) -> None:
    shutil.copytree(APP, tmp_path / "django_app", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "example.py"
    path.write_text(CODE)
    report = check_files([path], Settings(), tmp_path)
    assert [(f.code, tuple(f.span)) for f in report.findings] == [
        ("ORM002", locate(path, "book.author", occurrence=1)),
    ]
    finding = report.findings[0]
    assert '`.select_related("author")` on the queryset that loads them' in finding.message
    assert finding.fix == DjangoEagerPlan(Span(*locate(path, "tag.books.all()", 0)), "Book", "author", "select_related")


@pytest.mark.parametrize("n", [1, 10])
def test_what_django_runs(n: int) -> None:
    code = load(CODE)
    main, tag = seed(n)
    # The reverse manager's rows know their author: the get and the one SELECT, whatever n.
    assert queries(code["titles_and_authors"], main.pk) == 2
    # One tag's books: the get, the SELECT of the books, then one SELECT per book's author.
    assert queries(code["authors_of_tag"], tag.pk) == 2 + n
    assert queries(code["authors_of_tag_selected"], tag.pk) == 2


def test_the_fix_runs_one_query(tmp_path: Path) -> None:
    from ormlens.fixes.registry import fix_text

    shutil.copytree(APP, tmp_path / "django_app", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "example.py"
    path.write_text(CODE)
    report = check_files([path], Settings(), tmp_path)
    text, fixes = fix_text(CODE, report.findings, Settings(), unsafe=True)
    assert len(fixes) == 1
    assert text == CODE.replace(
        "return [book.author.name for book in tag.books.all()]",
        'return [book.author.name for book in tag.books.all().select_related("author")]')
    main, tag = seed(10)
    assert queries(load(text)["authors_of_tag"], tag.pk) == 2
