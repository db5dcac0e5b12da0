"""Template N+1s (#17), run: a Django app and a Flask-SQLAlchemy app with Jinja2 templates are
written into a project, their views rendered on SQLite with the queries counted; `ormlens check`
must report the N+1 in the template at the read, `ormlens check --fix` must edit the view, and the
fixed view must render the same HTML with the queries the loader it added implies (1 + N -> 1 for
a join, 1 + N -> 2 for a prefetch / select-in load).

Each render runs in a subprocess of its own: Django can be configured once per process (other
test modules configure it for their own app), and a fresh process re-imports the rewritten view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("django")
pytest.importorskip("flask_sqlalchemy")

SERVER = Path(__file__).resolve().parent.parent / "server"

# 5 authors (vendors) with 2 books (invoices) each.
AUTHORS = 5
BOOKS_PER_AUTHOR = 2


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def ormlens(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SERVER)}
    return subprocess.run([sys.executable, "-m", "ormlens", "check", "--no-cache", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def render(root: Path, runner: str, module: Path, view: str) -> dict:
    """Run `runner` (written into `root`) on the view `view` of the file `module`: {html, queries}."""
    run = subprocess.run([sys.executable, runner, str(module), view], cwd=root, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def position(path: Path, snippet: str) -> tuple[dict, dict]:
    """The 1-based (row, column) where `snippet` starts and ends in `path` (one occurrence, one line),
    computed from the text: what the JSON output must report for a read of `snippet`."""
    hits = [(row, line.index(snippet)) for row, line in enumerate(path.read_text().splitlines(), 1)
            if snippet in line]
    assert len(hits) == 1, hits
    row, index = hits[0]
    return {"row": row, "column": index + 1}, {"row": row, "column": index + 1 + len(snippet)}


def findings(root: Path, view: Path) -> list[dict]:
    run = ormlens(root, "--output-format", "json", str(view))
    assert run.returncode == 1, run.stdout + run.stderr
    return [{"code": f["code"], "filename": f["filename"], "location": f["location"],
             "end_location": f["end_location"], "fix_file": f["fix"]["filename"]}
            for f in json.loads(run.stdout)]


def expected(code: str, template: Path, snippet: str, view: Path) -> dict:
    start, end = position(template, snippet)
    return {"code": code, "filename": str(template), "location": start, "end_location": end,
            "fix_file": str(view)}


def fix(root: Path, view: Path, errors: int, rewrites: dict[str, str]) -> None:
    """`ormlens check --fix` on the view fixes `errors` findings, and the view's new text is its old
    text with each line `old` (found once) replaced by `new`, nothing else; the fixed view checks clean."""
    expected_text = view.read_text()
    for old, new in rewrites.items():
        assert expected_text.count(old + "\n") == 1, old
        expected_text = expected_text.replace(old + "\n", new + "\n")
    run = ormlens(root, "--fix", str(view))
    assert (run.returncode, run.stdout) == (0, f"All checks passed!\nFixed {errors} errors.\n"), run.stderr
    assert view.read_text() == expected_text
    recheck = ormlens(root, str(view))
    assert (recheck.returncode, recheck.stdout) == (0, "All checks passed!\n"), recheck.stdout


# --- Django ---------------------------------------------------------------------------------------

DJANGO_MODELS = '''\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Book(models.Model):
    title = models.CharField(max_length=80)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
'''

DJANGO_VIEWS = '''\
from django.shortcuts import render

from shop.models import Author, Book


def book_list(request):
    return render(request, "shop/books.html", {"books": Book.objects.order_by("id")})


def author_list(request):
    authors = Author.objects.order_by("id")
    return render(request, "shop/authors.html", {"authors": authors})
'''

DJANGO_BOOKS = '''\
<ul>
{% for book in books %}
  <li>{{ book.title }} by {{ book.author.name }}</li>
{% endfor %}
</ul>
'''

DJANGO_AUTHORS = '''\
<ul>
{% for author in authors %}
  <li>{{ author.name }}:{% for book in author.books.all %} {{ book.title }}{% endfor %}</li>
{% endfor %}
</ul>
'''

# Configures Django for the app `shop` (in-memory SQLite, the app's templates), creates its tables,
# seeds the rows, loads the view module from its file and renders one view, counting the queries.
DJANGO_RUNNER = f'''\
import importlib.util
import json
import sys

import django
from django.conf import settings

settings.configure(
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},
    INSTALLED_APPS=["shop"],
    TEMPLATES=[{{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True}}],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.apps import apps
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

with connection.schema_editor() as editor:
    for model in apps.get_app_config("shop").get_models():
        editor.create_model(model)
from shop.models import Author, Book

for a in range({AUTHORS}):
    author = Author.objects.create(name=f"author {{a}}")
    for b in range({BOOKS_PER_AUTHOR}):
        Book.objects.create(title=f"book {{a}}.{{b}}", author=author)

spec = importlib.util.spec_from_file_location("views_under_test", sys.argv[1])
views = importlib.util.module_from_spec(spec)
spec.loader.exec_module(views)
with CaptureQueriesContext(connection) as captured:
    response = getattr(views, sys.argv[2])(RequestFactory().get("/"))
print(json.dumps({{"html": response.content.decode(), "queries": [q["sql"] for q in captured.captured_queries]}}))
'''


@pytest.fixture
def django_project(tmp_path: Path) -> Path:
    write(tmp_path, {"pyproject.toml": "[project]\nname = \"shop\"\n", "shop/__init__.py": "",
                     "shop/models.py": DJANGO_MODELS, "shop/views.py": DJANGO_VIEWS,
                     "shop/templates/shop/books.html": DJANGO_BOOKS,
                     "shop/templates/shop/authors.html": DJANGO_AUTHORS, "render_django.py": DJANGO_RUNNER})
    return tmp_path


def test_django_template_n_plus_one_is_reported_fixed_in_the_view_and_the_fix_runs(django_project: Path) -> None:
    root = django_project
    view, templates = root / "shop" / "views.py", root / "shop" / "templates" / "shop"
    assert findings(root, view) == [
        expected("ORM002", templates / "authors.html", "author.books.all", view),
        expected("ORM002", templates / "books.html", "book.author", view),
    ]

    books_before = render(root, "render_django.py", view, "book_list")
    authors_before = render(root, "render_django.py", view, "author_list")
    # 1 + N: the books, then each book's author (Django caches no author across rows).
    assert len(books_before["queries"]) == 1 + AUTHORS * BOOKS_PER_AUTHOR
    assert len(authors_before["queries"]) == 1 + AUTHORS
    assert "<li>book 4.1 by author 4</li>" in books_before["html"]
    assert "<li>author 4: book 4.0 book 4.1</li>" in authors_before["html"]

    fix(root, view, 2, {
        '    return render(request, "shop/books.html", {"books": Book.objects.order_by("id")})':
        '    return render(request, "shop/books.html", {"books": Book.objects.order_by("id").select_related("author")})',
        '    return render(request, "shop/authors.html", {"authors": authors})':
        '    return render(request, "shop/authors.html", {"authors": authors.prefetch_related("books")})',
    })

    books_after = render(root, "render_django.py", view, "book_list")
    authors_after = render(root, "render_django.py", view, "author_list")
    assert books_after["html"] == books_before["html"]
    assert authors_after["html"] == authors_before["html"]
    # select_related: one query joining the authors; prefetch_related: the authors, then their books.
    assert len(books_after["queries"]) == 1 and "INNER JOIN" in books_after["queries"][0]
    assert len(authors_after["queries"]) == 2 and " IN (" in authors_after["queries"][1]


# --- Flask-SQLAlchemy + Jinja2 --------------------------------------------------------------------

FLASK_APP = '''\
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db.init_app(app)


class Vendor(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    invoices: Mapped[list["Invoice"]] = relationship(back_populates="vendor")


class Invoice(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    total: Mapped[int]
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    vendor: Mapped[Vendor] = relationship(back_populates="invoices")


@app.route("/invoices")
def invoices():
    return render_template("invoices.html", invoices=db.session.scalars(db.select(Invoice).order_by(Invoice.id)).all())


@app.route("/vendors")
def vendors():
    rows = db.session.scalars(db.select(Vendor).order_by(Vendor.id)).all()
    return render_template("vendors.html", vendors=rows)
'''

FLASK_INVOICES = '''\
<ul>
{% for i in invoices %}
  <li>{{ i.total }}: {{ i.vendor.name }}</li>
{% endfor %}
</ul>
'''

FLASK_VENDORS = '''\
<ul>
{% for vendor in vendors %}
  <li>{{ vendor.name }}:{% for invoice in vendor.invoices %} {{ invoice.total }}{% endfor %}</li>
{% endfor %}
</ul>
'''

# Loads the app module from its file, creates and seeds its tables in an app context of their own
# (so the request's session starts with an empty identity map), then GETs one route, counting the
# statements the engine runs.
FLASK_RUNNER = f'''\
import importlib.util
import json
import sys

from sqlalchemy import event

spec = importlib.util.spec_from_file_location("app_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module  # (Flask finds the templates folder next to the module it names)
spec.loader.exec_module(module)
app, db = module.app, module.db
with app.app_context():
    db.create_all()
    for v in range({AUTHORS}):
        vendor = module.Vendor(name=f"vendor {{v}}")
        db.session.add(vendor)
        for i in range({BOOKS_PER_AUTHOR}):
            db.session.add(module.Invoice(total=100 * v + i, vendor=vendor))
    db.session.commit()
    engine = db.engine
statements = []
event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
response = app.test_client().get("/" + sys.argv[2])
assert response.status_code == 200, response.status_code
print(json.dumps({{"html": response.get_data(as_text=True), "queries": statements}}))
'''


@pytest.fixture
def flask_project(tmp_path: Path) -> Path:
    write(tmp_path, {"pyproject.toml": "[project]\nname = \"billing\"\n", "billing/app.py": FLASK_APP,
                     "billing/templates/invoices.html": FLASK_INVOICES,
                     "billing/templates/vendors.html": FLASK_VENDORS, "render_flask.py": FLASK_RUNNER})
    return tmp_path


def test_jinja_template_n_plus_one_is_reported_fixed_in_the_view_and_the_fix_runs(flask_project: Path) -> None:
    root = flask_project
    view, templates = root / "billing" / "app.py", root / "billing" / "templates"
    assert findings(root, view) == [
        expected("ORM002", templates / "invoices.html", "i.vendor", view),
        expected("ORM002", templates / "vendors.html", "vendor.invoices", view),
    ]

    invoices_before = render(root, "render_flask.py", view, "invoices")
    vendors_before = render(root, "render_flask.py", view, "vendors")
    # 1 + N: the invoices, then each vendor once (the session's identity map serves a vendor's
    # second invoice); the vendors, then each vendor's invoices.
    assert len(invoices_before["queries"]) == 1 + AUTHORS
    assert len(vendors_before["queries"]) == 1 + AUTHORS
    assert "<li>401: vendor 4</li>" in invoices_before["html"]
    assert "<li>vendor 4: 400 401</li>" in vendors_before["html"]

    fix(root, view, 2, {
        '    return render_template("invoices.html", invoices=db.session.scalars('
        'db.select(Invoice).order_by(Invoice.id)).all())':
        '    return render_template("invoices.html", invoices=db.session.scalars('
        'db.select(Invoice).options(joinedload(Invoice.vendor)).order_by(Invoice.id)).all())',
        '    rows = db.session.scalars(db.select(Vendor).order_by(Vendor.id)).all()':
        '    rows = db.session.scalars(db.select(Vendor).options(selectinload(Vendor.invoices)).order_by(Vendor.id)).all()',
        'from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship':
        'from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n'
        'from sqlalchemy.orm import joinedload\nfrom sqlalchemy.orm import selectinload',
    })

    invoices_after = render(root, "render_flask.py", view, "invoices")
    vendors_after = render(root, "render_flask.py", view, "vendors")
    assert invoices_after["html"] == invoices_before["html"]
    assert vendors_after["html"] == vendors_before["html"]
    # joinedload: one statement joining the vendors; selectinload: the vendors, then their invoices.
    assert len(invoices_after["queries"]) == 1 and "JOIN vendor" in invoices_after["queries"][0]
    assert len(vendors_after["queries"]) == 2 and " IN (" in vendors_after["queries"][1]
