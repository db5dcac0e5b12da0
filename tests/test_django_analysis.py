"""Django analysis across a small project of several apps in tmp_path: models read from class
bodies (abstract bases in another module, "app.Model" strings, reverse accessors, custom
managers), querysets followed through variables and helpers. Every test asserts the exact
findings (code, line, message) of the file under test; positions come from the source text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ormlens.config import Settings
from ormlens.engine import check_files
from ormlens.findings import Span
from ormlens.fixes.plans import DjangoBatchPlan, DjangoBatchQuery, DjangoChunkPlan, DjangoEagerPlan, OrZeroPlan

from helpers import locate

CORE = """
    from django.db import models


    class Stamped(models.Model):
        created = models.DateTimeField(auto_now_add=True)
        reviewer = models.ForeignKey("people.Person", null=True, on_delete=models.SET_NULL,
                                     related_name="reviewed_%(class)s")

        class Meta:
            abstract = True
"""

PEOPLE = """
    from django.db import models


    class Person(models.Model):
        name = models.CharField(max_length=80)


    class Tag(models.Model):
        label = models.CharField(max_length=20)
"""

# A second `Tag` in another app: "Tag" alone is ambiguous, "people.Tag" is not.
LEGACY = """
    from django.db import models


    class Tag(models.Model):
        code = models.CharField(max_length=20)
"""

CATALOG = """
    from django.db import models

    from core.models import Stamped


    class BookQuerySet(models.QuerySet):
        def with_authors(self):
            return self.select_related("author")

        def cheap(self):
            return self.filter(price__lt=10)


    class Author(Stamped):
        name = models.CharField(max_length=80)
        profile = models.OneToOneField("people.Person", null=True, on_delete=models.SET_NULL)


    class Book(Stamped):
        title = models.CharField(max_length=120)
        author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
        price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
        pages = models.IntegerField()
        tags = models.ManyToManyField("people.Tag")
        old_tags = models.ManyToManyField("Tag", related_name="+")

        objects = BookQuerySet.as_manager()
"""

SERVICES = """
    from catalog.models import Book


    def books_with_authors():
        return Book.objects.select_related("author").order_by("title")


    def all_books():
        return Book.objects.all()


    def count_books(author_id):
        return Book.objects.filter(author_id=author_id).count()
"""


def write_project(root: Path, views: str) -> Path:
    files = {
        "core/__init__.py": "", "core/models.py": CORE,
        "people/__init__.py": "", "people/models.py": PEOPLE,
        "legacy/__init__.py": "", "legacy/models.py": LEGACY,
        "catalog/__init__.py": "", "catalog/models.py": CATALOG, "catalog/services.py": SERVICES,
        "catalog/views.py": views,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root / "catalog/views.py"


def findings(root: Path, views: str):
    target = write_project(root, views)
    report = check_files(sorted(root.rglob("*.py")), Settings(), root)
    assert report.errors == []
    others = [f for f in report.findings if Path(f.path) != target.resolve()]
    assert others == []  # models and helpers run no query in a loop
    return target, sorted((f for f in report.findings), key=lambda f: (f.span.line, f.span.col))


def line_of(path: Path, snippet: str) -> int:
    return locate(path, snippet)[0]


def test_lazy_loads_across_apps(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Author, Book
        from catalog.services import all_books, books_with_authors


        def page():
            for book in Book.objects.filter(pages__gt=100):
                print(book.author.name, book.author_id, book.pk)
                print(book.author.profile)
                print(book.reviewer)
                print([t.label for t in book.tags.all()])
            for book in books_with_authors():
                print(book.author.name)
            for book in all_books():
                print(book.author.name)
            for book in Book.objects.with_authors():
                print(book.author.name)
            for author in Author.objects.prefetch_related("books__tags"):
                for book in author.books.all():
                    print(list(book.tags.all()), book.author)
            for person_id in [1, 2]:
                print(Book.objects.filter(author__profile_id=person_id).count())
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM002", line_of(target, "book.author.name, book.author_id")),
        ("ORM002", line_of(target, "book.author.profile")),
        ("ORM002", line_of(target, "book.reviewer")),
        ("ORM002", line_of(target, "book.tags.all()")),
        ("ORM002", line_of(target, "print(book.author.name)\n    for book in Book")),
    ]
    author, profile, reviewer, tags, helper = found
    assert (author.span.line, author.span.col, author.span.end_line, author.span.end_col) == \
        locate(target, "book.author")
    assert author.message == (
        "`book.author` lazy-loads `Book.author` with a query once per item of "
        "`Book.objects.filter(pages__gt=100)` (N extra queries); load it with the rows: "
        "`.select_related(\"author\")` on the queryset that loads them")
    query = locate(target, "Book.objects.filter(pages__gt=100)")
    assert author.fix == DjangoEagerPlan(Span(*query), "Book", "author", "select_related")
    # A path: the rewrite would be select_related("author__profile") on the loop's queryset.
    assert "`.select_related(\"author__profile\")`" in profile.message
    assert profile.fix is None
    # A ForeignKey declared on an abstract base in another module, to "people.Person".
    assert reviewer.data["relationship"] == "reviewer"
    assert tags.message.startswith("`book.tags.all()` evaluates `Book.tags` with a query once per item")
    assert tags.data["loader"] == "prefetch_related"
    # A helper's queryset: reported (no rewrite: it is built elsewhere).
    assert helper.span.line == line_of(target, "print(book.author.name)\n    for book in Book")
    assert helper.fix is None


def test_reverse_accessors(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from people.models import Person, Tag


        def page():
            for person in Person.objects.all():
                print(list(person.reviewed_book.all()))
                print(person.author)
            for tag in Tag.objects.all():
                print(tag.book_set.count())
    """)
    assert [(f.code, f.span.line, f.data.get("relationship")) for f in found] == [
        ("ORM002", line_of(target, "person.reviewed_book"), "reviewed_book"),
        ("ORM002", line_of(target, "person.author"), "author"),
        ("ORM001", line_of(target, "tag.book_set.count()"), None),
    ]
    assert found[2].message == (
        "`tag.book_set.count()` runs once per item of `Tag.objects.all()` (1 query per item, N "
        "round-trips); count them in the query that loads the rows instead: "
        "`.annotate(n=Count(\"book\"))`")


def test_queries_per_item(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Author, Book
        from catalog.services import count_books


        def page(author_ids: list[int]):
            for author in Author.objects.all():
                books = list(Book.objects.filter(author_id=author.id).order_by("title"))
                print(books, count_books(author.id))
            for aid in author_ids:
                Book.objects.create(title="x", author_id=aid, pages=1)
                print(Book.objects.cheap().filter(author_id=aid).exists())
            cheap = Book.objects.cheap()
            for aid in author_ids:
                print(list(cheap), cheap.filter(author_id=aid)[:10])
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM001", line_of(target, "books = list(")),
        ("ORM001", line_of(target, "count_books(author.id)")),
        ("ORM001", line_of(target, "Book.objects.cheap().filter")),
    ]
    listed, helper, custom = found
    assert listed.message == (
        "`list(Book.objects…)` runs once per item of "
        "`Author.objects.all()` (2 queries per item, 2·N round-trips); load the rows for all items "
        "before the loop with `Book.objects.filter(author_id__in=...)` in chunks and look them up by key")
    loop = locate(target, "for author in Author.objects.all():")
    assert listed.fix == DjangoBatchPlan(
        Span(loop[0], loop[1], line_of(target, "print(books, count_books"), listed.fix.loop.end_col),
        Span(*locate(target, "Author.objects.all()")), "author", True,
        (DjangoBatchQuery(Span(*locate(target, 'Book.objects.filter(author_id=author.id).order_by("title")')),
                          "Book", "Book.objects", "author_id", "author.id", "iterate", True),))
    assert "`count_books()` → " not in helper.message and "services.py" in helper.message
    assert custom.fix is None  # through a custom queryset method: not rewritten


def test_unchunked_in_and_nullable_sum(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Author, Book


        def page(author_ids: list[int]):
            books = list(Book.objects.filter(author_id__in=author_ids))
            total = sum(b.price for b in books)
            pages = sum(b.pages for b in books)
            named = list(Book.objects.filter(author__in=Author.objects.filter(name="x")))
            priced = sum(b.price for b in Book.objects.filter(price__isnull=False))
            return total, pages, named, priced
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM004", line_of(target, "books = list(")),
        ("ORM005", line_of(target, "total = sum")),
    ]
    chunk, total = found
    statement = locate(target, "books = list(Book.objects.filter(author_id__in=author_ids))")
    assert chunk.fix == DjangoChunkPlan(
        Span(*statement), Span(*locate(target, "Book.objects.filter(author_id__in=author_ids)")),
        Span(*locate(target, "author_id__in=author_ids")), "author_id__in", "author_ids", "list")
    assert chunk.message.startswith("`author_id__in=author_ids` binds one parameter per item of `author_ids`")
    assert total.message.startswith("`sum(b.price for b in books)` adds `Book.price`, which is nullable")
    element = locate(target, "b.price for b in books")
    assert total.fix == OrZeroPlan(Span(element[0], element[1], element[0], element[1] + len("b.price")))


def test_model_index(tmp_path: Path) -> None:
    from ormlens.analysis.project import ProjectIndex

    write_project(tmp_path, "")
    project = ProjectIndex(tmp_path, Settings())
    project.load([str(p.resolve()) for p in sorted(tmp_path.rglob("*.py"))])
    models = {(m.name, Path(m.module_path).parent.name): m for m in project.all_models()}
    assert sorted(models) == [("Author", "catalog"), ("Book", "catalog"), ("Person", "people"),
                              ("Tag", "legacy"), ("Tag", "people")]  # not the abstract Stamped
    book = models["Book", "catalog"]
    assert book.primary_key == "id"
    assert {name: c.nullable for name, c in book.columns.items()} == {
        "created": False, "reviewer_id": True, "id": False, "title": False, "author_id": False,
        "price": True, "pages": False}
    assert project.find_model("Tag", book.module_path, "people") is models["Tag", "people"]
    assert project.find_model("Tag", book.module_path) is None  # ambiguous: refused
    assert list(book.managers) == ["objects"]
    author = models["Author", "catalog"]
    assert project.relationship(author, "books").django == "many"
    assert project.relationship(author, "book_set") is None  # related_name replaces it
    person = models["Person", "people"]
    assert project.relationship(person, "author").django == "one"       # reverse one-to-one
    assert project.relationship(person, "reviewed_book") is not None   # %(class)s
    assert project.relationship(models["Tag", "legacy"], "book_set") is None  # related_name="+"


def test_per_row_counts_are_told_to_annotate(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Author, Book


        def page(author_ids: list[int]):
            for author in Author.objects.all():
                print(Book.objects.filter(author=author).count())
                print(Book.objects.filter(author_id=author.id, pages__gt=100).count())
            for aid in author_ids:
                print(Book.objects.filter(author_id=aid).count())
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM001", line_of(target, "filter(author=author)")),
        ("ORM001", line_of(target, "pages__gt=100")),
        ("ORM001", line_of(target, "filter(author_id=aid)")),
    ]
    plain, filtered, by_id = (f.message.split("; ", 1)[1] for f in found)
    # The loop's rows are the authors the foreign key points to: count in the loop's query.
    assert plain == 'count them in the query that loads the rows instead: `.annotate(n=Count("books"))`'
    # Another condition would need Count(..., filter=Q(...)); ids are not rows to annotate.
    batch = ("load the rows for all items before the loop with `Book.objects.filter(author_id__in=...)` in "
             "chunks and look them up by key")
    assert filtered == batch and by_id == batch


def test_prefetch_advice_over_an_iterator_asks_for_a_chunk_size(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Author, Book


        def page():
            for author in Author.objects.iterator():
                print(list(author.books.all()))
            for book in Book.objects.iterator():
                print(book.author.name)
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM002", line_of(target, "author.books.all()")), ("ORM002", line_of(target, "book.author.name"))]
    prefetch, select = (f.message.split("; ", 1)[1] for f in found)
    # Django 5 raises on prefetch_related() + iterator() without a chunk size; select_related is fine.
    assert prefetch == ('load it with the rows: `.prefetch_related("books")` on the queryset that loads them, '
                        "and give `.iterator()` a `chunk_size` (prefetching needs one)")
    assert select == 'load it with the rows: `.select_related("author")` on the queryset that loads them'


def test_a_loop_with_django_and_sqlalchemy_queries_gets_no_batch_rewrite(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir(exist_ok=True)
    (tmp_path / "legacy_sa.py").write_text(textwrap.dedent("""
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Ledger(Base):
            __tablename__ = "ledger"
            id: Mapped[int] = mapped_column(primary_key=True)
            author_id: Mapped[int]
    """))
    target, found = findings(tmp_path, """
        from sqlalchemy.orm import Session

        from catalog.models import Book
        from legacy_sa import Ledger


        def page(session: Session, author_ids: list[int]):
            for aid in author_ids:
                print(list(Book.objects.filter(author_id=aid)))
                print(session.query(Ledger).filter_by(author_id=aid).all())
    """)
    assert [(f.code, f.span.line) for f in found] == [
        ("ORM001", line_of(target, "Book.objects")), ("ORM001", line_of(target, "session.query"))]
    # One rewrite cannot batch queries of two ORMs: neither finding carries one.
    assert all(f.fix is None for f in found)


def test_a_lazy_load_in_an_async_for_raises_in_django(tmp_path: Path) -> None:
    target, found = findings(tmp_path, """
        from catalog.models import Book


        async def page():
            async for book in Book.objects.all():
                print(book.author.name)
    """)
    assert [(f.code, f.span.line) for f in found] == [("ORM002", line_of(target, "book.author.name"))]
    assert found[0].message == (
        "`book.author` lazy-loads `Book.author` once per item of `Book.objects.all()`, which raises "
        'SynchronousOnlyOperation in async code; load it with the rows: `.select_related("author")` on the '
        "queryset that loads them")
