"""Templates in the language server (issue #17): a Django template open in the editor shows the N+1s
of its loops, found through the view that renders it; the quick fix edits the view, and fixing the
view clears the template's diagnostics. Driven as an editor drives it (pytest-lsp, the real process)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import LanguageClient

import test_lsp
from test_lsp import DJANGO_MODELS, actions_at, apply_text_edits, change, edits_of, mark, open_file, published, start

client = test_lsp.client  # the server fixture (pytest-lsp), as in test_lsp.py

VIEWS = '''\
from django.shortcuts import render

from shop.models import Book


def book_list(request):
    books = Book.objects.filter(title__startswith="A")
    return render(request, "shop/books.html", {"books": books})
'''

TEMPLATE = '''\
<ul>
{% for book in books %}
  <li>{{ book.title }} by {{ book.author.name }}</li>
{% endfor %}
</ul>
'''


def shop(root: Path) -> tuple[Path, Path]:
    """A Django app: models, a view rendering `shop/books.html`, and that template. (view, template)"""
    (root / "pyproject.toml").write_text("")
    app = root / "shop"
    (app / "templates" / "shop").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(DJANGO_MODELS)
    (app / "views.py").write_text(VIEWS)
    (app / "templates" / "shop" / "books.html").write_text(TEMPLATE)
    return app / "views.py", app / "templates" / "shop" / "books.html"


def open_template(client: LanguageClient, path: Path, language: str = "django-html", version: int = 1) -> str:
    uri = uris.from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id=language, version=version, text=path.read_text())))
    return uri


def place(diagnostic: lsp.Diagnostic) -> tuple:
    r = diagnostic.range
    return (diagnostic.code, r.start.line, r.start.character, r.end.line, r.end.character)


async def test_template_diagnostic_and_its_quick_fix_in_the_view(client: LanguageClient, tmp_path: Path):
    view, template = shop(tmp_path)
    await start(client, tmp_path)
    view_uri = open_file(client, view)
    assert await published(client, view_uri, 1) == []  # the template's finding is not the view's
    template_uri = open_template(client, template)
    [diagnostic] = await published(client, template_uri, 1)
    # `book.author` on line 3 of the template (0-based 2), columns 29-40.
    assert place(diagnostic) == ("ORM002", 2, 29, 2, 40)
    assert diagnostic.message.startswith("`book.author` lazy-loads `Book.author` with a query once per item of `books`")

    actions = await actions_at(client, template_uri, diagnostic)
    assert [a.title for a in actions] == ["Load Book.author with select_related", "Disable ORM002 for this line"]
    fix, noqa = actions
    assert fix.is_preferred and fix.kind == lsp.CodeActionKind.QuickFix
    # The fix edits the view, not the template.
    assert list(fix.edit.changes) == [view_uri]
    fixed = apply_text_edits(VIEWS, edits_of(fix.edit, view_uri))
    assert fixed == VIEWS.replace('{"books": books}', '{"books": books.select_related("author")}')
    # The noqa action: a template comment at the line's end.
    silenced = apply_text_edits(TEMPLATE, edits_of(noqa.edit, template_uri))
    assert silenced.splitlines()[2] == "  <li>{{ book.title }} by {{ book.author.name }}</li>{# noqa: ORM002 #}"

    before = mark(client)
    change(client, view_uri, 2, fixed)
    assert await published(client, view_uri, 2) == []
    assert await published(client, template_uri, after=before) == []  # fixed in the view: cleared here


async def test_template_edits_and_noqa(client: LanguageClient, tmp_path: Path):
    """Typing in the template re-checks it; its `{# noqa #}` comment suppresses the finding."""
    view, template = shop(tmp_path)
    await start(client, tmp_path)
    template_uri = open_template(client, template, language="htmldjango")
    [diagnostic] = await published(client, template_uri, 1)
    assert place(diagnostic) == ("ORM002", 2, 29, 2, 40)
    [_fix, noqa] = await actions_at(client, template_uri, diagnostic)
    silenced = apply_text_edits(TEMPLATE, edits_of(noqa.edit, template_uri))
    change(client, template_uri, 2, silenced)
    assert await published(client, template_uri, 2) == []
    change(client, template_uri, 3, TEMPLATE.replace("book.author.name", "book.author.name }} {{ book.title"))
    [moved] = await published(client, template_uri, 3)
    assert place(moved) == ("ORM002", 2, 29, 2, 40)


async def test_a_view_that_starts_rendering_an_open_template(client: LanguageClient, tmp_path: Path):
    """A template no view renders has no diagnostics; once an open view's edit renders it, its
    N+1 shows in the template (found again without reading the project anew), and stops with the edit undone."""
    view, template = shop(tmp_path)
    elsewhere = VIEWS.replace("shop/books.html", "shop/other.html")
    view.write_text(elsewhere)
    await start(client, tmp_path, pull=False)
    view_uri = open_file(client, view)
    assert await published(client, view_uri, 1) == []
    template_uri = open_template(client, template, language="jinja")
    assert await published(client, template_uri, 1) == []
    before = mark(client)
    change(client, view_uri, 2, VIEWS)
    shown = await published(client, template_uri, after=before, where=bool)
    assert [place(d) for d in shown] == [("ORM002", 2, 29, 2, 40)]
    before = mark(client)
    change(client, view_uri, 3, elsewhere)
    assert await published(client, template_uri, after=before) == []
