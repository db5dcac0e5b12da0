"""Incremental analysis with early cutoff (analysis/dependencies.py): an edit recomputes the edited
module and what read it, nothing else, and gives the same findings as a fresh index."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings
from ormlens.engine import analyze

SETTINGS = Settings()

MODELS = '''from typing import Optional

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Order(Base):
    __tablename__ = "order"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Optional[int]]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer] = relationship()
'''

SERVICES = '''from sqlalchemy import select

from shop.models import Customer


def customer_of(session, customer_id):
    return session.get(Customer, customer_id)
'''

VIEWS = '''from sqlalchemy import select

from shop.models import Order
from shop.services import customer_of


def order_page(session):
    orders = session.scalars(select(Order)).all()
    names = [customer_of(session, o.customer_id).name for o in orders]
    total = sum(o.amount for o in orders)
    return names, total
'''

REPORTS = '''from sqlalchemy import select

from shop.models import Order


def revenue(session):
    orders = session.scalars(select(Order)).all()
    return sum(o.amount for o in orders)
'''

UNRELATED = '''def greeting(name):
    return "hello " + name
'''


def make_project(tmp_path: Path) -> dict[str, str]:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    files = {"models": MODELS, "services": SERVICES, "views": VIEWS, "reports": REPORTS, "unrelated": UNRELATED}
    paths = {}
    for name, text in files.items():
        (package / f"{name}.py").write_text(text)
        paths[name] = str((package / f"{name}.py").resolve())
    return paths


def codes(project: ProjectIndex, path: str) -> list[tuple[str, int]]:
    findings, error = analyze(project, path, SETTINGS)
    assert error is None
    return sorted((f.code, f.span.line) for f in findings)


def analyse_all(project: ProjectIndex, paths: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    return {name: codes(project, path) for name, path in paths.items()}


def built(project: ProjectIndex, paths: dict[str, str]) -> dict[str, int]:
    return {name: project.dependencies.facts_built[path] for name, path in paths.items()}


def test_the_project_reports_what_it_should(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    assert analyse_all(project, paths) == {
        "models": [], "services": [], "unrelated": [],
        "views": [("ORM001", 9), ("ORM005", 10)],
        "reports": [("ORM005", 8)],
    }


def test_a_body_edit_recomputes_that_module_alone(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    before = built(project, paths)
    assert set(before.values()) == {1}
    project.set_source(paths["views"], VIEWS.replace("return names, total", "return total, names"))
    after = analyse_all(project, paths)
    assert built(project, paths) == {**before, "views": 2}
    assert after["views"] == [("ORM001", 9), ("ORM005", 10)]


@pytest.mark.parametrize("keep_units", [False, True])
def test_an_edit_of_a_called_function_recomputes_its_callers_only(tmp_path: Path, keep_units: bool):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = keep_units  # the editor's index: an edit inside a body keeps the declarations
    analyse_all(project, paths)
    before = built(project, paths)
    # customer_of no longer runs a query: the view's ORM001 goes, the reports are not recomputed.
    project.set_source(paths["services"], SERVICES.replace("return session.get(Customer, customer_id)",
                                                           "return customer_id"))
    after = analyse_all(project, paths)
    assert built(project, paths) == {**before, "services": 2, "views": 2}
    assert after["views"] == [("ORM005", 10)]


def test_a_nullability_change_in_models_reaches_every_module_that_uses_the_model(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    before = built(project, paths)
    project.set_source(paths["models"], MODELS.replace("amount: Mapped[Optional[int]]", "amount: Mapped[int]"))
    after = analyse_all(project, paths)
    assert after["views"] == [("ORM001", 9)] and after["reports"] == []
    assert built(project, paths) == {**before, "models": 2, "services": 2, "views": 2, "reports": 2}
    # And back.
    project.set_source(paths["models"], None)
    assert analyse_all(project, paths)["reports"] == [("ORM005", 8)]


def test_the_same_text_again_drops_nothing(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    before = built(project, paths)
    project.set_source(paths["models"], MODELS)  # a buffer opened unchanged; a fix that changed nothing
    project.set_source(paths["models"], None)
    analyse_all(project, paths)
    assert built(project, paths) == before


def test_editing_a_module_without_models_keeps_the_list_of_models(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    models = project.all_models()
    project.set_source(paths["unrelated"], UNRELATED + "\n\nclass Helper:\n    pass\n")
    assert project.all_models() is models
    project.set_source(paths["unrelated"], UNRELATED + "\n\nfrom shop.models import Base\n\n\n"
                       "class Invoice(Base):\n    __tablename__ = 'invoice'\n")
    assert sorted(m.name for m in project.all_models()) == ["Customer", "Invoice", "Order"]


def test_the_server_asks_which_open_modules_to_analyse_again(tmp_path: Path):
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    others = [paths["reports"], paths["unrelated"], paths["services"]]
    project.set_source(paths["views"], VIEWS + "\n# edited\n")
    codes(project, paths["views"])
    assert project.dependents(paths["views"], others) == []
    assert project.reads(paths["views"]) == {paths["views"], paths["models"], paths["services"]}
    project.set_source(paths["models"], MODELS + "\n# edited\n")
    codes(project, paths["models"])
    assert project.dependents(paths["models"], others) == [paths["reports"], paths["services"]]


EDITS = [
    ("models", "amount: Mapped[Optional[int]]", "amount: Mapped[int]"),
    ("models", "customer: Mapped[Customer] = relationship()", "customer: Mapped[Customer] = relationship(lazy='raise')"),
    ("models", "    name: Mapped[str]\n", "    name: Mapped[str]\n    nickname: Mapped[Optional[str]]\n"),
    ("services", "return session.get(Customer, customer_id)", "return customer_id"),
    ("services", "def customer_of", "def customer_for"),
    ("views", "names = [", "names = list(["),
    ("views", "total = sum(o.amount for o in orders)", "total = sum(o.amount or 0 for o in orders)"),
    ("views", "from shop.services import customer_of", "from shop.services import customer_of as found"),
    ("reports", "return sum(o.amount for o in orders)", "return [o.customer.name for o in orders]"),
    ("reports", "def revenue(session):", "def revenue(session):\n    x = (\n"),  # does not parse
    ("unrelated", "return", "return 1 +"),
]


@pytest.mark.parametrize("keep_units", [False, True])
def test_random_edits_give_what_a_fresh_index_gives(tmp_path: Path, keep_units: bool):
    """Also when the edited modules' facts are taken back function by function (units.py)."""
    paths = make_project(tmp_path)
    texts = {name: Path(path).read_text() for name, path in paths.items()}
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = keep_units
    rng = random.Random(12)
    for step in range(60):
        name, old, new = rng.choice(EDITS)
        if rng.random() < 0.5:
            old, new = new, old
        if old in texts[name]:
            texts[name] = texts[name].replace(old, new, 1)
            project.set_source(paths[name], texts[name])
        fresh = ProjectIndex(tmp_path, SETTINGS)
        for other, path in paths.items():
            fresh.set_source(path, texts[other])
        for other in rng.sample(sorted(paths), len(paths)):  # the incremental index answers in any order
            assert analyze(project, paths[other], SETTINGS) == analyze(fresh, paths[other], SETTINGS), (step, other)


def test_closures_at_once_equal_one_by_one():
    from ormlens.analysis.dependencies import Dependencies

    rng = random.Random(3)
    for _ in range(50):
        graph = Dependencies()
        nodes = [f"m{i}" for i in range(12)] + ["<all models>"]
        for _ in range(rng.randrange(30)):
            reader, read = rng.choice(nodes), rng.choice(nodes)
            with graph.computing(reader):
                graph.read(read)
        asked = rng.sample(nodes, 6)
        for stop in (None, "<all models>"):
            assert {node: set(found) for node, found in graph.closures(asked, stop).items()} == \
                {node: graph.reads(node, stop) for node in asked}


# --- through the server -------------------------------------------------------------------------

from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import LanguageClient  # noqa: E402

from test_lsp import change, client, mark, open_file, published, start  # noqa: E402,F401 - the fixture too


async def test_a_nullability_change_republishes_the_open_modules_that_use_the_model(client: LanguageClient,
                                                                                   tmp_path: Path):
    paths = make_project(tmp_path)
    await start(client, tmp_path)
    uris = {name: open_file(client, Path(paths[name])) for name in ("models", "reports", "unrelated")}
    assert [d.code for d in await published(client, uris["reports"], 1)] == ["ORM005"]
    await published(client, uris["unrelated"], 1)
    await published(client, uris["models"], 1)
    before = mark(client)
    line = MODELS.splitlines().index("    amount: Mapped[Optional[int]]")
    change(client, uris["models"], 2, "    amount: Mapped[int]", (line, 0), (line, len("    amount: Mapped[Optional[int]]")))
    assert await published(client, uris["reports"], 1, after=before) == []  # re-published, ORM005 gone
    await published(client, uris["models"], 2, after=before)
    await asyncio.sleep(0.5)
    assert not any(p.uri == uris["unrelated"] for p in client.published_log[before:])  # it read nothing of it


@pytest.mark.parametrize("budget", [ProjectIndex.WHOLE_TREE_LINES, 0])
def test_an_edit_inside_a_comment_recomputes_no_module_that_read_it(tmp_path: Path, monkeypatch, budget):
    """Also when the edited module's function bodies were released (budget 0): its old tree is
    made whole to be compared."""
    monkeypatch.setattr(ProjectIndex, "WHOLE_TREE_LINES", budget)
    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    before = built(project, paths)
    commented = SERVICES.replace("    return session.get(Customer, customer_id)",
                                 "    return session.get(Customer, customer_id)  # one row")
    project.set_source(paths["services"], commented)
    assert analyse_all(project, paths)["views"] == [("ORM001", 9), ("ORM005", 10)]
    assert built(project, paths) == {**before, "services": 2}
    # A change of the code on that line is not one.
    project.set_source(paths["services"], commented.replace("return session.get(Customer, customer_id)",
                                                            "return customer_id"))
    assert analyse_all(project, paths)["views"] == [("ORM005", 10)]
    assert built(project, paths) == {**before, "services": 3, "views": 2}


def test_same_tree_compares_positions_and_code_not_comments():
    import ast as ast_module

    from ormlens.analysis.sources import same_tree

    base = "import os\n\n\ndef f(x):\n    return x + 1  # add\n\n\nclass C:\n    y = 2\n"
    for text, same in [(base.replace("# add", "# add one"), True), (base.replace("x + 1", "x + 2"), False),
                       (base.replace("x + 1", "x  + 1"), False),  # a column moved
                       (base.replace("y = 2", "y = 2  # two"), True), (base + "\n", False),
                       (base.replace("import os", "import sys"), False)]:
        assert same_tree(ast_module.parse(base), ast_module.parse(text), base, text) is same, text


# --- function by function (units.py): the editor's index --------------------------------------------

UNITS = '''from sqlalchemy import select

from shop.models import Customer, Order


def customer_of(session, customer_id):
    return session.get(Customer, customer_id)


def names(session, ids):
    return [customer_of(session, i).name for i in ids]


class Report:
    def totals(self, session):
        orders = session.scalars(select(Order)).all()
        return sum(o.amount for o in orders)

    def lines(self, session):
        return [o.id for o in session.scalars(select(Order)).all()]
'''


def units_project(tmp_path: Path) -> tuple[ProjectIndex, str]:
    paths = make_project(tmp_path)
    path = str((tmp_path / "shop" / "units.py").resolve())
    Path(path).write_text(UNITS)
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = True
    for other in paths.values():
        codes(project, other)
    return project, path


def test_a_body_edit_walks_that_function_alone(tmp_path: Path):
    project, path = units_project(tmp_path)
    assert codes(project, path) == [("ORM001", 11), ("ORM005", 17)]
    before = dict(project.facts(path).units)
    assert set(before) == {"customer_of", "names", "Report.totals", "Report.lines"}
    project.set_source(path, UNITS.replace("return sum(o.amount for o in orders)",
                                           "return sum(o.amount or 0 for o in orders)"))
    assert codes(project, path) == [("ORM001", 11)]
    after = project.facts(path).units
    assert [name for name in before if after[name] is not before[name]] == ["Report.totals"]
    assert project.dependencies.facts_built[path] == 2


def test_an_edit_of_a_function_walks_again_the_functions_that_read_it(tmp_path: Path):
    project, path = units_project(tmp_path)
    codes(project, path)
    before = dict(project.facts(path).units)
    assert before["names"].own == {"customer_of"}
    project.set_source(path, UNITS.replace("return session.get(Customer, customer_id)", "return customer_id"))
    assert codes(project, path) == [("ORM005", 17)]  # names() no longer runs a query per id
    after = project.facts(path).units
    assert sorted(name for name in before if after[name] is not before[name]) == ["customer_of", "names"]


def test_a_change_of_what_a_function_read_elsewhere_walks_it_again(tmp_path: Path):
    project, path = units_project(tmp_path)
    services = str((tmp_path / "shop" / "services.py").resolve())
    remote = UNITS.replace("from shop.models import", "from shop.services import customer_of as remote\nfrom shop.models import")
    remote += "\n\ndef remote_names(session, ids):\n    return [remote(session, i) for i in ids]\n"
    project.set_source(path, remote)
    assert codes(project, path) == [("ORM001", 12), ("ORM001", 25), ("ORM005", 18)]  # remote(): ORM001
    before = dict(project.facts(path).units)
    project.set_source(path, remote.replace("return sum(", "return  sum("))  # an edit of the module...
    project.set_source(services, SERVICES.replace("return session.get(Customer, customer_id)", "return customer_id"))
    # ...and of the body of a function it calls elsewhere: remote() runs no query now
    assert codes(project, path) == [("ORM001", 12), ("ORM005", 18)]
    after = project.facts(path).units
    assert sorted(name for name in before if after[name] is not before[name]) == ["Report.totals", "remote_names"]
    # A change of the declarations of a module it imports: its names may mean something else.
    project.set_source(path, remote)
    project.set_source(str((tmp_path / "shop" / "models.py").resolve()),
                       MODELS.replace("amount: Mapped[Optional[int]]", "amount: Mapped[int]"))
    assert ("ORM005", 18) not in codes(project, path)  # amount is NOT NULL now
    again = project.facts(path).units
    assert not any(again[name] is after[name] for name in after)


def test_module_level_code_edited_walks_every_function_again(tmp_path: Path):
    project, path = units_project(tmp_path)
    codes(project, path)
    before = dict(project.facts(path).units)
    project.set_source(path, UNITS.replace("from sqlalchemy import select", "from sqlalchemy import select as select"))
    codes(project, path)
    after = project.facts(path).units
    assert not any(after[name] is before[name] for name in before)


def test_settings_that_change_the_facts_drop_them(tmp_path: Path):
    from dataclasses import replace

    paths = make_project(tmp_path)
    project = ProjectIndex(tmp_path, SETTINGS)
    analyse_all(project, paths)
    before = built(project, paths)
    project.set_settings(replace(SETTINGS, select=frozenset({"ORM001"})))  # which rules run: the facts stay
    analyse_all(project, paths)
    assert built(project, paths) == before
    project.set_settings(replace(SETTINGS, chunk_functions=frozenset({"in_batches"})))
    analyse_all(project, paths)
    assert built(project, paths) == {name: count + 1 for name, count in before.items()}


def test_a_comment_typed_in_a_body_recomputes_nothing(tmp_path: Path):
    """The editor's index: an edit inside function bodies that leaves their trees as they were
    (positions included) keeps the module's facts too."""
    project, path = units_project(tmp_path)
    found = codes(project, path)
    built_before = project.dependencies.facts_built[path]
    commented = UNITS.replace("        orders = session.scalars(select(Order)).all()",
                              "        orders = session.scalars(select(Order)).all()  # every order")
    project.set_source(path, commented)
    assert codes(project, path) == found
    assert project.dependencies.facts_built[path] == built_before
    project.set_source(path, commented.replace("# every order", "# all orders, for sure"))
    assert codes(project, path) == found and project.dependencies.facts_built[path] == built_before
    project.set_source(path, commented.replace("return sum(o.amount for o in orders)",
                                               "return sum(o.amount or 0 for o in orders)"))
    assert codes(project, path) == [("ORM001", 11)]  # code: the facts are made again
    assert project.dependencies.facts_built[path] == built_before + 1


def test_same_code_compares_the_changed_lines_and_positions():
    import ast as ast_module

    from ormlens.analysis.sources import same_code

    base = "def f(a):\n    x = a + 1  # one\n    if x:\n        return [y for y in a]\n    return x\n"

    def same(text: str, first: int, last: int) -> bool:
        return same_code(ast_module.parse(base).body[0].body, ast_module.parse(text).body[0].body, first, last)

    assert same(base.replace("# one", "# two"), 2, 2)
    assert not same(base.replace("a + 1", "a + 2"), 2, 2)
    assert not same(base.replace("a + 1", "a  + 1"), 2, 2)           # a position moved
    assert not same(base.replace("for y in a", "for y in x"), 4, 4)  # deep in a nested node
    assert same(base.replace("for y in a]", "for y in a]  # z"), 4, 4)


def test_the_readers_of_an_edited_function_that_gives_what_it_gave_are_taken_back(tmp_path: Path):
    """Function-level early cutoff: `names` reads `customer_of`; an edit of customer_of that
    leaves what it returns as it was (its face) walks customer_of alone."""
    project, path = units_project(tmp_path)
    assert codes(project, path) == [("ORM001", 11), ("ORM005", 17)]
    before = dict(project.facts(path).units)
    project.set_source(path, UNITS.replace("session.get(Customer, customer_id)", "session.get(Customer, int(customer_id))"))
    assert codes(project, path) == [("ORM001", 11), ("ORM005", 17)]
    after = project.facts(path).units
    assert [name for name in before if after[name] is not before[name]] == ["customer_of"]
    assert "names" in project.facts(path).stable


def test_an_edit_of_a_signature_walks_every_function_again_and_answers_as_a_fresh_index(tmp_path: Path):
    """A def line is part of the declarations: the outline changes, a new parse replaces the
    module's declarations, what read them is dropped, so no function is taken back (they would
    hold nodes of the old parse)."""
    project, path = units_project(tmp_path)
    codes(project, path)
    before = dict(project.facts(path).units)
    edited = UNITS.replace("def names(session, ids):", "def names(session, ids=()):")
    project.set_source(path, edited)
    found = analyze(project, path, SETTINGS)
    after = project.facts(path).units
    assert not any(after[name] is before[name] for name in before)
    fresh = ProjectIndex(tmp_path, SETTINGS)
    fresh.set_source(path, edited)
    assert found == analyze(fresh, path, SETTINGS)
    assert sorted((f.code, f.span.line) for f in found[0]) == [("ORM001", 11), ("ORM005", 17)]


# --- framework uses across modules: a DRF view feeds a serializer in another module -------------

DRF_MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=10)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""

DRF_SERIALIZERS = """\
from rest_framework import serializers

from shop.models import Book


class BookSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.name")

    class Meta:
        model = Book
        fields = ["author_name"]
"""

DRF_VIEWS = """\
from rest_framework import generics

from shop.models import Book
from shop.serializers import BookSerializer


class BookList(generics.ListAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
"""


@pytest.mark.parametrize("keep_units", [False, True])
def test_a_view_in_another_module_feeds_the_serializer_and_its_edit_is_seen(tmp_path: Path, keep_units: bool):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    paths = {}
    for name, text in (("models", DRF_MODELS), ("serializers", DRF_SERIALIZERS)):
        (shop / f"{name}.py").write_text(text)
        paths[name] = str((shop / f"{name}.py").resolve())
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = keep_units
    project.load(list(paths.values()))
    assert codes(project, paths["serializers"]) == []  # no listing view known: silent
    (shop / "views.py").write_text(DRF_VIEWS)
    paths["views"] = str((shop / "views.py").resolve())
    project.load_more([paths["views"]])  # the server reads the rest of the project after a first answer
    assert codes(project, paths["serializers"]) == [("ORM002", 7)]
    project.set_source(paths["views"], DRF_VIEWS.replace("Book.objects.all()", 'Book.objects.select_related("author")'))
    assert codes(project, paths["serializers"]) == []
    project.set_source(paths["views"], DRF_VIEWS)
    assert codes(project, paths["serializers"]) == [("ORM002", 7)]


CALLS_MODULE = """\
from shop.models import Book


def label(book):
    return book.author.name


def labels():
    return [label(b) for b in Book.objects.all()]
"""


def test_an_edit_of_a_callee_that_keeps_its_face_re_walks_the_callers_that_read_it_in_context(tmp_path: Path):
    """What a call lifts from its callee (contexts.py) depends on the callee's body, not only on
    what it returns: the editor must not take the caller's unit back when the callee is edited."""
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "models.py").write_text(DRF_MODELS)
    (shop / "calls.py").write_text(CALLS_MODULE)
    path = str((shop / "calls.py").resolve())
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = True
    assert codes(project, path) == [("ORM002", 9)]
    project.set_source(path, CALLS_MODULE.replace("return book.author.name", "return book.id"))
    assert codes(project, path) == []
    project.set_source(path, CALLS_MODULE)
    assert codes(project, path) == [("ORM002", 9)]


DRF_VIEWS_GET_QUERYSET = """\
from rest_framework import generics

from shop.models import Book
from shop.serializers import BookSerializer


class BookList(generics.ListAPIView):
    serializer_class = BookSerializer

    def get_queryset(self):
        return Book.objects.all()
"""


@pytest.mark.parametrize("keep_units", [False, True])
def test_an_edit_inside_the_views_get_queryset_reaches_the_serializer(tmp_path: Path, keep_units: bool):
    """What a listing view loads is read from its get_queryset() body: an edit there, which changes
    no declaration, must still reach the serializer's findings (in the editor too)."""
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    paths = {}
    for name, text in (("models", DRF_MODELS), ("serializers", DRF_SERIALIZERS), ("views", DRF_VIEWS_GET_QUERYSET)):
        (shop / f"{name}.py").write_text(text)
        paths[name] = str((shop / f"{name}.py").resolve())
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = keep_units
    project.load(list(paths.values()))
    assert codes(project, paths["serializers"]) == [("ORM002", 7)]
    codes(project, paths["views"])
    project.set_source(paths["views"], DRF_VIEWS_GET_QUERYSET.replace(
        "Book.objects.all()", 'Book.objects.select_related("author")'))
    codes(project, paths["views"])
    assert codes(project, paths["serializers"]) == []


def test_the_list_of_models_does_not_depend_on_which_module_is_analysed_first(tmp_path: Path):
    # wagtail, found by benchmarks/incremental_equivalence.py: a models module whose text was set
    # (its declarations forgotten until read again) was left out of the list of all models when
    # another module asked for it first, so a reverse accessor declared on one of its models
    # (`self.task_states`) was unknown, in whichever index analysed that other module first.
    (tmp_path / "pyproject.toml").write_text("")
    models = '''from django.db import models


class Workflow(models.Model):
    name = models.CharField(max_length=10)

    def cancel(self):
        for state in self.task_states.filter(status="open"):
            state.save()


class TaskState(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="task_states")
    status = models.CharField(max_length=10)


def cancel_all():
    for workflow in Workflow.objects.all():
        workflow.cancel()
'''
    views = '''from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=10)


def note_tags():
    return [note.tags for note in Note.objects.all()]  # an unknown attribute: the list is asked for
'''
    (tmp_path / "models.py").write_text(models)
    (tmp_path / "views.py").write_text(views)
    paths = [str((tmp_path / name).resolve()) for name in ("views.py", "models.py")]
    results = []
    for order in (paths, paths[::-1]):
        project = ProjectIndex(tmp_path, SETTINGS)
        project.load(paths)
        project.set_source(paths[1], models + "\n# edited\n")
        found = {path: analyze(project, path, SETTINGS)[0] for path in order}
        results.append(sorted((f.code, f.span.line) for f in found[paths[1]]))
    assert results[0] == results[1] == [("ORM001", 19)]


@pytest.mark.parametrize("keep_units", [False, True])
def test_a_new_caller_decides_whether_a_parameter_is_bounded(tmp_path: Path, keep_units: bool):
    # `entries_of(session, ids)` is bounded while every caller writes its list out; an edit of
    # another module that passes it any list brings the ORM004 back, and taking it out removes it.
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "queries.py").write_text(
        "from sqlalchemy import select\n\nfrom shop.models import Order\n\n\n"
        "def orders_of(session, customer_ids: list[int]):\n"
        "    return session.scalars(select(Order).where(Order.customer_id.in_(customer_ids))).all()\n")
    # (`wanted: list[int]`, and no caller of `page`: a list of any length, from outside the project)
    callers = "from shop.queries import orders_of\n\n\ndef page(session, customer, wanted: list[int]):\n" \
              "    return orders_of(session, [customer.id])\n"
    (package / "pages.py").write_text(callers)
    paths = {name: str((package / f"{name}.py").resolve()) for name in ("models", "queries", "pages")}
    project = ProjectIndex(tmp_path, SETTINGS)
    project.keep_units = keep_units  # the editor's: an edit inside a body keeps the declarations
    project.load(list(paths.values()))
    assert codes(project, paths["queries"]) == []
    for edited in (callers.replace("[customer.id])", "[customer.id]), orders_of(session, wanted)"),  # a body
                   callers + "\n\ndef everyone(session, wanted: list[int]):\n    return orders_of(session, wanted)\n"):
        project.set_source(paths["pages"], edited)
        assert codes(project, paths["queries"]) == [("ORM004", 7)]
        project.set_source(paths["pages"], callers)
        assert codes(project, paths["queries"]) == []
