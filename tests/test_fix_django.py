"""The Django fixes (django_batch, django_eager, django_chunk, and or_zero on Django rows), proven by
running the code before and after against Django on in-memory SQLite (tests/django_app).

Each shape: the exact rewritten text (golden), then both versions run on seeded data of 0, 1, 10
and 2,500 items: the same result, and the number of queries Django runs (counted with
`CaptureQueriesContext`) goes from one per item to one per chunk of 1,000 distinct keys. Expected
counts are computed from the data seeded, never pasted from a run.

The fix plan of each shape is written from the source text with `locate` (the contract's form) and
`engine_fixed()` checks that ormlens's own analysis reports exactly that plan and that `fix_files`
(what `--fix --unsafe-fixes` writes) gives the golden text. Shapes the analysis does not report (a
sliced loop: bounded) and refusals go through the fix registry with the plan as written."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

pytest.importorskip("django")

from django_app import runtime  # noqa: E402

runtime.setup()

from django.db import connection  # noqa: E402
from django_app.models import Author, Book, Tag  # noqa: E402

from helpers import locate  # noqa: E402
from ormlens.config import Settings  # noqa: E402
from ormlens.engine import check_files, fix_files  # noqa: E402
from ormlens.findings import Finding, Span  # noqa: E402
from ormlens.fixes.base import SourceText, UnfixableError  # noqa: E402
from ormlens.fixes.django_batch import build as build_batch  # noqa: E402
from ormlens.fixes.plans import (  # noqa: E402
    DjangoBatchPlan, DjangoBatchQuery, DjangoChunkPlan, DjangoEagerPlan, FixPlan, OrZeroPlan)
from ormlens.fixes.registry import BUILDERS, fix_text  # noqa: E402

APP = Path(__file__).resolve().parent / "django_app"
CHUNK = Settings().chunk_size
# What the analysis runs with: the test app names SQLite (runtime.py), whose chunks ORM004 fits to 900
# (tests/test_database_detection.py); the goldens here are about each rewrite's shape, at the default size.
ANALYSIS = Settings(database="postgresql")
SIZES = (0, 1, 10, 2500)
CODES = {"django_batch": "ORM001", "django_eager": "ORM002", "django_chunk": "ORM004", "or_zero": "ORM005"}


# --- the code, its fix, running it -------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    """`text` as example.py beside a copy of the test app (the project the analysis sees)."""
    shutil.copytree(APP, tmp_path / "django_app", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "example.py"
    path.write_text(text, encoding="utf-8")
    return path


def fixed(path: Path, plans: list[FixPlan]) -> tuple[str, list]:
    """The text with the fixes of `plans` applied (unsafe ones too), as `fix_text` applies them."""
    findings = [Finding(CODES[plan.kind], "", str(path), getattr(plan, "loop", None) or getattr(plan, "query", None)
                        or plan.element, "", fix=plan) for plan in plans]
    text, fixes = fix_text(path.read_text(encoding="utf-8"), findings, Settings(), unsafe=True)
    assert len(fixes) == len(plans)
    return text, fixes


def engine_fixed(path: Path, plans: list[FixPlan]) -> str:
    """What ormlens itself writes (`fix_files`, unsafe fixes too), after checking that the analysis
    reports exactly the fix plans `plans` for the file."""
    report = check_files(sorted(path.parent.rglob("*.py")), ANALYSIS, path.parent)
    assert report.errors == []
    reported = []
    for finding in report.findings:
        fix = finding.fix
        if Path(finding.path) == path.resolve() and fix and fix not in reported:
            assert finding.code == CODES[fix.kind]
            reported.append(fix)
    assert sorted(reported, key=repr) == sorted(plans, key=repr)
    [outcome] = fix_files([path], ANALYSIS, path.parent, unsafe=True)
    assert outcome.error is None
    # re-analysed, the fixed code has none of the fixed problems left
    path.write_text(outcome.fixed, encoding="utf-8")
    report = check_files(sorted(path.parent.rglob("*.py")), ANALYSIS, path.parent)
    path.write_text(outcome.original, encoding="utf-8")
    left = {f.code for f in report.findings if Path(f.path) == path.resolve()}
    assert not left & {CODES[plan.kind] for plan in plans}
    return outcome.fixed


def load(text: str) -> dict:
    namespace: dict = {"__name__": "example"}
    exec(compile(text, "example.py", "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


def seed(n: int) -> list[Author]:
    """`n` authors; author i has i % 4 books (none for some), with prices (some NULL) and titles
    not in id order; every other book has an editor; tags on some books."""
    Book.tags.through.objects.all().delete()
    Book.objects.all().delete()
    Author.objects.all().delete()
    Tag.objects.all().delete()
    Author.objects.bulk_create([Author(name=f"author {i}") for i in range(n)])
    authors = list(Author.objects.order_by("id"))
    Book.objects.bulk_create([
        Book(title=f"title {(i * 7 + j * 3) % 11} of {i}", author=a, editor=authors[(i + 1) % n] if j % 2 else None,
             price=None if (i + j) % 5 == 0 else (i * 7 + j) % 10)
        for i, a in enumerate(authors) for j in range(i % 4)])
    tags = Tag.objects.bulk_create([Tag(name=f"tag {k}") for k in range(3)])
    tags = list(Tag.objects.order_by("id"))
    through = Book.tags.through
    through.objects.bulk_create([through(book_id=b.id, tag_id=tags[b.id % 3].id)
                                 for b in Book.objects.order_by("id") if tags and b.id % 2])
    return authors


def chunks(keys) -> int:
    return math.ceil(len(dict.fromkeys(keys)) / CHUNK)


@dataclass
class Run:
    result: object
    queries: int


def run(function: Callable, *args) -> Run:
    result, queries = runtime.counted(function, *args)
    return Run(result, len(queries))


@pytest.fixture(autouse=True)
def empty_database():
    yield
    seed(0)


# --- ORM001 django_batch -----------------------------------------------------------------------

BATCH_ROWS = '''\
from django_app.models import Author, Book


def books_per_author(authors):
    out = {}
    for a in authors:
        books = list(Book.objects.filter(author_id=a.id).order_by("title", "id"))
        n = Book.objects.filter(author_id=a.id, price__gt=5).count()
        out[a.name] = ([b.title for b in books], n)
    return out
'''

BATCH_ROWS_FIXED = '''\
from collections import defaultdict

from django_app.models import Author, Book


def books_per_author(authors):
    out = {}
    books_by_author_id = defaultdict(list)
    books_by_author_id_2 = defaultdict(list)
    a_list = list(authors)
    distinct_author_ids = list(dict.fromkeys(a.id for a in a_list))
    for start in range(0, len(distinct_author_ids), 1000):
        chunk = distinct_author_ids[start:start + 1000]
        for row in Book.objects.filter(author_id__in=chunk).order_by("title", "id"):
            books_by_author_id[row.author_id].append(row)
        for row in Book.objects.filter(author_id__in=chunk, price__gt=5):
            books_by_author_id_2[row.author_id].append(row)
    for a in a_list:
        books = list(books_by_author_id.get(a.id, []))
        n = len(books_by_author_id_2.get(a.id, []))
        out[a.name] = ([b.title for b in books], n)
    return out
'''


def batch_data(path: Path, loop: str, iterable: str, target: str, queries: list[dict],
               reiterable=False) -> DjangoBatchPlan:
    text = path.read_text(encoding="utf-8")
    start = locate(path, loop)
    # the `for` statement: from its line to the end of its block (the next line indented as it or less)
    lines = text.splitlines()
    indent = len(lines[start[0] - 1]) - len(lines[start[0] - 1].lstrip())
    end = start[0]
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    return DjangoBatchPlan(Span(start[0], start[1], end, len(lines[end - 1].encode())),
                           Span(*locate(path, iterable, text[:text.index(loop)].count(iterable))), target, reiterable,
                           tuple(DjangoBatchQuery(Span(*locate(path, q.pop("text"))), **q) for q in queries))


def query(text: str, lookup: str, key: str, terminal: str, ordered: bool, model="Book", **extra) -> dict:
    """A DjangoBatchQuery's fields, `text` the query's source text (batch_data locates it)."""
    return {"text": text, "model": model, "manager": f"{model}.objects", "lookup": lookup, "key": key,
            "terminal": terminal, "ordered": ordered, **extra}


def rows_data(path: Path) -> list[DjangoBatchPlan]:
    return [batch_data(path, "for a in authors:", "authors", "a", [
        query('Book.objects.filter(author_id=a.id).order_by("title", "id")', "author_id", "a.id", "iterate", True),
        query("Book.objects.filter(author_id=a.id, price__gt=5).count()", "author_id", "a.id", "count", False)])]


def test_batch_rows_and_count_golden(tmp_path):
    path = write(tmp_path, BATCH_ROWS)
    text, fixes = fixed(path, rows_data(path))
    assert text == BATCH_ROWS_FIXED
    assert engine_fixed(path, rows_data(path)) == BATCH_ROWS_FIXED
    assert [(f.title, f.safe, f.kind) for f in fixes] == [
        ("Batch the 2 queries in this loop (chunks of 1,000 keys)", True, "django_batch")]


@pytest.mark.parametrize("n", SIZES)
def test_batch_rows_and_count_run(n):
    authors = seed(n)
    items = authors + authors[: n // 2]  # repeated items: keys are made distinct
    before, after = run(load(BATCH_ROWS)["books_per_author"], items), run(load(BATCH_ROWS_FIXED)["books_per_author"], items)
    assert after.result == before.result
    assert before.result == {a.name: ([b.title for b in sorted(a.books.all(), key=lambda b: (b.title, b.id))],
                                      sum(1 for b in a.books.all() if b.price is not None and b.price > 5))
                             for a in authors}
    assert before.queries == 2 * len(items)
    assert after.queries == 2 * chunks(a.id for a in items)


BATCH_INSTANCE = '''\
from django_app.models import Author, Book


def authors_with_books():
    out = []
    for a in Author.objects.all():
        if Book.objects.filter(author=a).exists():
            out.append(a.name)
    return out
'''

BATCH_INSTANCE_FIXED = '''\
from collections import defaultdict

from django_app.models import Author, Book


def authors_with_books():
    out = []
    books_by_author_id = defaultdict(list)
    a_list = list(Author.objects.all())
    distinct_author_ids = list(dict.fromkeys(a.pk for a in a_list))
    for start in range(0, len(distinct_author_ids), 1000):
        chunk = distinct_author_ids[start:start + 1000]
        for row in Book.objects.filter(author__in=chunk):
            books_by_author_id[row.author_id].append(row)
    for a in a_list:
        if bool(books_by_author_id.get(a.pk)):
            out.append(a.name)
    return out
'''


def instance_data(path: Path) -> list[DjangoBatchPlan]:
    return [batch_data(path, "for a in Author.objects.all():", "Author.objects.all()", "a", [
        query("Book.objects.filter(author=a).exists()", "author", "a", "exists", False, key_is_instance=True)],
        reiterable=True)]


def test_batch_instance_key_golden(tmp_path):
    path = write(tmp_path, BATCH_INSTANCE)
    text, fixes = fixed(path, instance_data(path))
    assert text == BATCH_INSTANCE_FIXED
    assert engine_fixed(path, instance_data(path)) == BATCH_INSTANCE_FIXED
    assert [(f.title, f.safe) for f in fixes] == [("Batch the query in this loop (chunks of 1,000 keys)", True)]


def test_batch_bare_relation_without_instance_or_attribute_is_refused(tmp_path):
    path = write(tmp_path, BATCH_INSTANCE)
    data = instance_data(path)[0]
    data = replace(data, queries=(replace(data.queries[0], key_is_instance=False),))
    with pytest.raises(UnfixableError, match="which attribute of the rows `author=` compares is not known"):
        build_batch(SourceText(BATCH_INSTANCE), data, Settings())


@pytest.mark.parametrize("n", SIZES)
def test_batch_instance_key_run(n):
    authors = seed(n)
    before = run(load(BATCH_INSTANCE)["authors_with_books"])
    after = run(load(BATCH_INSTANCE_FIXED)["authors_with_books"])
    assert after.result == before.result == [a.name for a in authors if a.books.exists()]
    assert before.queries == 1 + n
    assert after.queries == 1 + chunks(a.id for a in authors)


BATCH_FIRST_LAST = '''\
from django_app.models import Book


def cheapest_and_latest(author_ids: list[int]):
    out = []
    for aid in author_ids:
        cheapest = Book.objects.filter(author_id=aid, price__isnull=False).order_by("price", "id").first()
        latest = Book.objects.filter(author_id=aid).order_by("id").last()
        out.append((aid, cheapest, latest))
    return out
'''

BATCH_FIRST_LAST_FIXED = '''\
from django_app.models import Book


def cheapest_and_latest(author_ids: list[int]):
    out = []
    first_book_by_author_id = {}
    last_book_by_author_id = {}
    distinct_author_ids = list(dict.fromkeys(author_ids))
    for start in range(0, len(distinct_author_ids), 1000):
        chunk = distinct_author_ids[start:start + 1000]
        for row in Book.objects.filter(author_id__in=chunk, price__isnull=False).order_by("price", "id"):
            first_book_by_author_id.setdefault(row.author_id, row)
        for row in Book.objects.filter(author_id__in=chunk).order_by("id"):
            last_book_by_author_id[row.author_id] = row
    for aid in author_ids:
        cheapest = first_book_by_author_id.get(aid)
        latest = last_book_by_author_id.get(aid)
        out.append((aid, cheapest, latest))
    return out
'''


def first_last_data(path: Path) -> list[DjangoBatchPlan]:
    return [batch_data(path, "for aid in author_ids:", "author_ids", "aid", [
        query('Book.objects.filter(author_id=aid, price__isnull=False).order_by("price", "id").first()',
              "author_id", "aid", "first", True),
        query('Book.objects.filter(author_id=aid).order_by("id").last()', "author_id", "aid", "last", True)],
        reiterable=True)]


def test_batch_first_last_golden(tmp_path):
    path = write(tmp_path, BATCH_FIRST_LAST)
    text, fixes = fixed(path, first_last_data(path))
    assert text == BATCH_FIRST_LAST_FIXED
    assert engine_fixed(path, first_last_data(path)) == BATCH_FIRST_LAST_FIXED
    assert [(f.title, f.safe) for f in fixes] == [("Batch the 2 queries in this loop (chunks of 1,000 keys)", True)]


@pytest.mark.parametrize("n", SIZES)
def test_batch_first_last_run(n):
    authors = seed(n)
    ids = [a.id for a in authors] + [10**9]  # and an id without rows
    before = run(load(BATCH_FIRST_LAST)["cheapest_and_latest"], ids)
    after = run(load(BATCH_FIRST_LAST_FIXED)["cheapest_and_latest"], ids)
    assert after.result == before.result
    priced = {a.id: sorted((b for b in a.books.all() if b.price is not None), key=lambda b: (b.price, b.id))
              for a in authors}
    assert [(aid, c.id if c else None, l.id if l else None) for aid, c, l in before.result] == [
        (aid, priced[aid][0].id if priced.get(aid) else None,
         max((b.id for b in Book.objects.filter(author_id=aid)), default=None)) for aid in ids]
    assert before.queries == 2 * len(ids)
    assert after.queries == 2 * chunks(ids)


BATCH_GET = '''\
from django_app.models import Book


def titles(book_ids: list[int]):
    out = []
    for i in book_ids:
        out.append(Book.objects.get(pk=i).title)
    return out
'''

BATCH_GET_FIXED = '''\
from django_app.models import Book


def titles(book_ids: list[int]):
    out = []
    book_by_pk = {}
    distinct_book_pks = list(dict.fromkeys(book_ids))
    for start in range(0, len(distinct_book_pks), 1000):
        chunk = distinct_book_pks[start:start + 1000]
        book_by_pk.update(Book.objects.in_bulk(chunk))
    for i in book_ids:
        out.append(book_by_pk.get(i).title)
    return out
'''

GET_RAISES = "`get()` raised DoesNotExist (or MultipleObjectsReturned) where the batch gives None (or the first row)"


def get_data(path: Path) -> list[DjangoBatchPlan]:
    return [batch_data(path, "for i in book_ids:", "book_ids", "i", [
        query("Book.objects.get(pk=i)", "pk", "i", "get", True)], reiterable=True)]


def test_batch_get_by_pk_golden(tmp_path):
    path = write(tmp_path, BATCH_GET)
    text, fixes = fixed(path, get_data(path))
    assert text == BATCH_GET_FIXED
    assert engine_fixed(path, get_data(path)) == BATCH_GET_FIXED
    assert [(f.title, f.safe, f.why_unsafe) for f in fixes] == [
        ("Batch the query in this loop (chunks of 1,000 keys)", False, GET_RAISES)]


@pytest.mark.parametrize("n", SIZES)
def test_batch_get_by_pk_run(n):
    seed(n)
    ids = list(Book.objects.order_by("-id").values_list("id", flat=True))
    ids += ids[:3]
    before = run(load(BATCH_GET)["titles"], ids)
    after = run(load(BATCH_GET_FIXED)["titles"], ids)
    assert after.result == before.result == [Book.objects.get(pk=i).title for i in ids]
    assert before.queries == len(ids)
    # in_bulk splits each chunk by the backend's parameter limit (999 on SQLite)
    limit = connection.features.max_query_params or CHUNK
    distinct = list(dict.fromkeys(ids))
    assert after.queries == sum(math.ceil(len(distinct[s:s + CHUNK]) / limit) for s in range(0, len(distinct), CHUNK))


def test_batch_get_is_unsafe_because_a_missing_row_no_longer_raises():
    seed(1)
    with pytest.raises(Book.DoesNotExist):
        load(BATCH_GET)["titles"]([10**9])
    with pytest.raises(AttributeError):  # None.title: the lookup gives None
        load(BATCH_GET_FIXED)["titles"]([10**9])


# --- ORM002 django_eager -----------------------------------------------------------------------

EAGER = '''\
from django_app.models import Author, Book


def authors_of_priced_books():
    out = []
    for b in Book.objects.filter(price__gt=1).order_by("id"):
        out.append((b.title, b.author.name))
    return out


def titles_per_author():
    out = []
    for a in Author.objects.order_by("id"):
        out.append((a.name, sorted(b.title for b in a.books.all())))
    return out


def editors():
    out = []
    for b in Book.objects.select_related('author').order_by("id"):
        out.append((b.author.name, b.editor.name if b.editor else None))
    return out
'''

EAGER_FIXED = EAGER.replace(
    'Book.objects.filter(price__gt=1).order_by("id"):',
    'Book.objects.filter(price__gt=1).order_by("id").select_related("author"):').replace(
    'Author.objects.order_by("id"):', 'Author.objects.order_by("id").prefetch_related("books"):').replace(
    "select_related('author')", "select_related('author', 'editor')")


def eager_data(path: Path) -> list[DjangoEagerPlan]:
    return [
        DjangoEagerPlan(Span(*locate(path, 'Book.objects.filter(price__gt=1).order_by("id")')),
                        "Book", "author", "select_related"),
        DjangoEagerPlan(Span(*locate(path, 'Author.objects.order_by("id")')), "Author", "books", "prefetch_related"),
        DjangoEagerPlan(Span(*locate(path, """Book.objects.select_related('author').order_by("id")""")),
                        "Book", "editor", "select_related")]


def test_eager_golden(tmp_path):
    path = write(tmp_path, EAGER)
    text, fixes = fixed(path, eager_data(path))
    assert EAGER_FIXED.count("_related(") == EAGER.count("_related(") + 2  # (the replaces above all applied)
    assert text == EAGER_FIXED
    assert engine_fixed(path, eager_data(path)) == EAGER_FIXED
    assert [(f.title, f.safe, f.kind) for f in fixes] == [
        ("Load Book.author with select_related", True, "django_eager"),
        ("Load Author.books with prefetch_related", True, "django_eager"),
        ("Load Book.editor with select_related", True, "django_eager")]


def test_eager_goes_before_a_slice(tmp_path):
    # (not reported by the analysis: a slice bounds the loop; the fix still places the loader right)
    text = EAGER.replace('Author.objects.order_by("id"):', 'Author.objects.order_by("id")[:10]:')
    path = write(tmp_path, text)
    data = replace(eager_data(path)[1], query=Span(*locate(path, 'Author.objects.order_by("id")[:10]')))
    fixed_text, _ = fixed(path, [data])
    assert fixed_text == text.replace('order_by("id")[:10]', 'order_by("id").prefetch_related("books")[:10]')


def test_eager_refuses_what_it_cannot_merge(tmp_path):
    path = write(tmp_path, EAGER)
    data = eager_data(path)[2]
    path.write_text(EAGER.replace("select_related('author')", "select_related()"), encoding="utf-8")
    data = replace(data, query=Span(*locate(path, 'Book.objects.select_related().order_by("id")')))
    with pytest.raises(UnfixableError, match="a bare `select_related\\(\\)` is already on the queryset"):
        fixes_of(path, data)
    path.write_text(EAGER, encoding="utf-8")
    data = replace(data, relation="author",
                   query=Span(*locate(path, """Book.objects.select_related('author').order_by("id")""")))
    with pytest.raises(UnfixableError, match="`author` is already loaded"):
        fixes_of(path, data)


def fixes_of(path: Path, plan: FixPlan):
    return BUILDERS[type(plan)](SourceText(path.read_text(encoding="utf-8")), plan, Settings())


@pytest.mark.parametrize("n", SIZES)
def test_eager_run(n):
    seed(n)
    books = list(Book.objects.order_by("id"))
    before, after = load(EAGER), load(EAGER_FIXED)
    for name, queries_before, queries_after in [
            ("authors_of_priced_books", 1 + sum(1 for b in books if b.price is not None and b.price > 1), 1),
            ("titles_per_author", 1 + n, 2 if n else 1),  # the prefetch runs only when there are rows
            ("editors", 1 + sum(1 for b in books if b.editor_id is not None), 1)]:
        old, new = run(before[name]), run(after[name])
        assert new.result == old.result, name
        assert (old.queries, new.queries) == (queries_before, queries_after), name
    assert run(before["titles_per_author"]).result == [
        (a.name, sorted(b.title for b in books if b.author_id == a.id)) for a in Author.objects.order_by("id")]


# --- ORM002 through a call: a helper or a method reads the relation of each row passed --------

THROUGH_CALLS = '''\
from django_app.models import Book


def describe(book):
    return (book.title, book.author.name)


def described():
    return [describe(b) for b in Book.objects.order_by("id")]


def labels():
    return [b.label() for b in Book.objects.filter(price__gt=1).order_by("id")]
'''

THROUGH_CALLS_FIXED = THROUGH_CALLS.replace(
    'Book.objects.order_by("id")]', 'Book.objects.order_by("id").select_related("author")]').replace(
    'Book.objects.filter(price__gt=1).order_by("id")]',
    'Book.objects.filter(price__gt=1).order_by("id").select_related("author")]')


def test_eager_through_calls_golden(tmp_path):
    path = write(tmp_path, THROUGH_CALLS)
    plans = [DjangoEagerPlan(Span(*locate(path, 'Book.objects.order_by("id")')), "Book", "author", "select_related"),
             DjangoEagerPlan(Span(*locate(path, 'Book.objects.filter(price__gt=1).order_by("id")')),
                             "Book", "author", "select_related")]
    assert engine_fixed(path, plans) == THROUGH_CALLS_FIXED
    report = check_files([path], Settings(), path.parent)
    assert [(f.code, f.span.line, f.message.split(" lazy-loads")[0]) for f in report.findings] == [
        ("ORM002", 9, "`describe(b) → book.author`"), ("ORM002", 13, "`b.label() → self.author`")]
    # each names the read inside the callee
    assert [(r.path.endswith(name), r.span.line, r.message) for f, name, in zip(report.findings, (
        "example.py", "models.py")) for r in f.related if r.message.startswith("the read")] == [
        (True, 5, "the read in `describe`"), (True, 21, "the read in `Book.label`")]


@pytest.mark.parametrize("n", SIZES)
def test_eager_through_calls_run(n):
    seed(n)
    books = list(Book.objects.order_by("id"))
    before, after = load(THROUGH_CALLS), load(THROUGH_CALLS_FIXED)
    for name, queries_before in [("described", 1 + len(books)),
                                 ("labels", 1 + sum(1 for b in books if b.price is not None and b.price > 1))]:
        old, new = run(before[name]), run(after[name])
        assert new.result == old.result, name
        assert (old.queries, new.queries) == (queries_before, 1), name


# --- ORM004 django_chunk -----------------------------------------------------------------------

CHUNKED = '''\
from django_app.models import Book


def books_of(author_ids: list[int]):
    books = list(Book.objects.filter(author_id__in=author_ids, price__isnull=False).order_by("id"))
    return books


def titles_of(author_ids: list[int]):
    out = []
    # every title
    for b in Book.objects.filter(author_id__in=author_ids).only("title"):
        if b.title.startswith("title 1"):
            continue
        out.append(b.title)
    return out
'''

CHUNKED_FIXED = '''\
from django_app.models import Book


def books_of(author_ids: list[int]):
    distinct_author_ids = list(dict.fromkeys(author_ids))
    books = []
    for start in range(0, len(distinct_author_ids), 1000):
        books += list(Book.objects.filter(author_id__in=distinct_author_ids[start:start + 1000], price__isnull=False).order_by("id"))
    return books


def titles_of(author_ids: list[int]):
    out = []
    # every title
    distinct_author_ids = list(dict.fromkeys(author_ids))
    for start in range(0, len(distinct_author_ids), 1000):
        for b in Book.objects.filter(author_id__in=distinct_author_ids[start:start + 1000]).only("title"):
            if b.title.startswith("title 1"):
                continue
            out.append(b.title)
    return out
'''


def chunk_data(path: Path) -> list[DjangoChunkPlan]:
    out = []
    for statement, query, terminal in [
            ('books = list(Book.objects.filter(author_id__in=author_ids, price__isnull=False).order_by("id"))',
             'Book.objects.filter(author_id__in=author_ids, price__isnull=False).order_by("id")', "list"),
            ("for b in Book.objects.filter(author_id__in=author_ids).only(\"title\")",
             "Book.objects.filter(author_id__in=author_ids).only(\"title\")", "iterate")]:
        out.append(DjangoChunkPlan(Span(*locate(path, statement)), Span(*locate(path, query)),
                                   Span(*locate(path, "author_id__in=author_ids", 0 if terminal == "list" else 1)),
                                   "author_id__in", "author_ids", terminal))
    return out


def test_chunk_golden(tmp_path):
    path = write(tmp_path, CHUNKED)
    text, fixes = fixed(path, chunk_data(path))
    assert text == CHUNKED_FIXED
    assert engine_fixed(path, chunk_data(path)) == CHUNKED_FIXED
    assert [(f.title, f.safe, f.why_unsafe) for f in fixes] == [
        ("Query in chunks of 1,000 distinct values", False,
         "rows are sorted within each chunk, not across chunks: the order_by no longer holds for all rows"),
        ("Query in chunks of 1,000 distinct values", False,
         "row order across chunks may differ: the queryset has no order_by")]


def test_chunk_refuses_a_loop_with_break(tmp_path):
    path = write(tmp_path, CHUNKED.replace("continue", "break"))
    with pytest.raises(UnfixableError, match="`break` in the loop would stop only the chunk"):
        fixes_of(path, chunk_data(path)[1])


@pytest.mark.parametrize("n", SIZES)
def test_chunk_run(n):
    authors = seed(n)
    ids = [a.id for a in authors] + [a.id for a in authors[: n // 3]]  # repeated values: fetched once
    before, after = load(CHUNKED), load(CHUNKED_FIXED)
    old, new = run(before["books_of"], ids), run(after["books_of"], ids)
    # rows come chunk after chunk; chunks of ids in id order keep the id order here
    assert new.result == old.result == list(Book.objects.filter(price__isnull=False).order_by("id"))
    assert (old.queries, new.queries) == (1 if ids else 0, chunks(ids))  # (Django runs no `IN ()`)
    old, new = run(before["titles_of"], ids), run(after["titles_of"], ids)
    assert sorted(new.result) == sorted(old.result) == sorted(
        b.title for b in Book.objects.all() if not b.title.startswith("title 1"))
    assert (old.queries, new.queries) == (1 if ids else 0, chunks(ids))  # (Django runs no `IN ()`)


# --- ORM005 or_zero on Django rows -------------------------------------------------------------

NULL_SUM = '''\
from django_app.models import Book


def total():
    return sum(b.price for b in Book.objects.all())
'''


def test_or_zero_on_django_rows(tmp_path):
    path = write(tmp_path, NULL_SUM)
    text = engine_fixed(path, [OrZeroPlan(Span(*locate(path, "b.price", 0)))])
    assert text == NULL_SUM.replace("sum(b.price for", "sum((b.price or 0) for")
    seed(10)
    assert Book.objects.filter(price__isnull=True).exists()
    with pytest.raises(TypeError):  # int + None
        load(NULL_SUM)["total"]()
    assert load(text)["total"]() == sum(p for p in Book.objects.values_list("price", flat=True) if p is not None)


# --- what the batch fix refuses or marks unsafe --------------------------------------------------


@pytest.mark.parametrize("change, error, why", [
    ("        out.append((aid, cheapest, latest))\n",
     "        out.append((aid, cheapest, latest))\n        cheapest.save()\n", "the loop writes rows \\(`.save\\(\\)`\\)"),
    ('Book.objects.filter(author_id=aid).order_by("id").last()',
     'Book.objects.exclude(author_id=aid).order_by("id").last()', "`author_id=` in `.exclude\\(\\)`"),
    ('.order_by("id").last()', '.order_by("id").distinct().last()', "`.distinct\\(\\)` in the queryset"),
    ("    for aid in author_ids:\n", "    for aid in author_ids:\n        yield aid\n", "the loop body yields"),
], ids=["save", "exclude", "distinct", "yield"])
def test_batch_refused(tmp_path, change, error, why):
    text = BATCH_FIRST_LAST.replace(change, error)
    assert text != BATCH_FIRST_LAST
    path = write(tmp_path, text)
    last = 'Book.objects.filter(author_id=aid).order_by("id").last()'
    last = next(q for q in (last, last.replace("filter", "exclude"), last.replace(".last", ".distinct().last"))
                if q in text)
    data = batch_data(path, "for aid in author_ids:", "author_ids", "aid", [
        query('Book.objects.filter(author_id=aid, price__isnull=False).order_by("price", "id").first()',
              "author_id", "aid", "first", True),
        query(last, "author_id", "aid", "last", True)], reiterable=True)
    with pytest.raises(UnfixableError, match=why):
        build_batch(SourceText(text), data, Settings())


def test_batch_unsafe_reasons(tmp_path):
    text = BATCH_ROWS.replace('.order_by("title", "id")', "").replace(
        "        books = list(", "        if not a.name:\n            continue\n        books = list(")
    path = write(tmp_path, text)
    data = batch_data(path, "for a in authors:", "authors", "a", [
        query("Book.objects.filter(author_id=a.id)", "author_id", "a.id", "iterate", False),
        query("Book.objects.filter(author_id=a.id, price__gt=5).count()", "author_id", "a.id", "count", False)])
    fix = build_batch(SourceText(text), data, Settings())
    assert not fix.safe
    assert fix.why_unsafe == ("row order within a group may differ: the query has no order_by; "
                              "`a.id` is now read for every item, also ones the loop skips before the query")
