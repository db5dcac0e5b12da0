"""Templates through `ormlens check`: a generic view's default template name, a template named on
the command line (checked through the views that render it), names a parent template binds in a
loop (scoped as Django scopes them), Pyramid's `renderer=`, and the JSON fix naming the view."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ormlens.cli import main

MODELS = '''\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=40)


class Product(models.Model):
    name = models.CharField(max_length=40)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)


class Item(models.Model):
    order = models.ForeignKey(Order, related_name="items", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
'''

VIEWS = '''\
from django.shortcuts import render
from django.views.generic import ListView

from .models import Customer, Order


class OrderList(ListView):
    model = Order


def order_page(request, pk):
    order = Order.objects.get(pk=pk)
    return render(request, "shop/order.html", {"order": order, "customers": Customer.objects.all()})


def python_loop():
    for order in Order.objects.all():
        print(order.customer)
'''


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch) -> Path:
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'site'\n",
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/views.py": VIEWS,
        # ListView's default template: `<app>/<model>_list.html`, `object_list` and `order_list`.
        "shop/templates/shop/order_list.html":
            "<ul>\n{% for order in order_list %}<li>{{ order.customer.name }}</li>{% endfor %}\n</ul>\n",
        # The parent loops with a name of its own (`order`, Customer rows): in the child's block
        # `order` is the view's again (Django scopes a loop's target to the loop).
        "shop/templates/shop/base.html":
            "{% for order in customers %}{{ order.name }}{% endfor %}\n{% block content %}{% endblock %}\n",
        "shop/templates/shop/order.html":
            '{% extends "shop/base.html" %}\n{% block content %}\n'
            "{% for item in order.items.all %}{{ item.product.name }}{% endfor %}\n{% endblock %}\n",
    })
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", "--no-cache", "--output-format", "concise", *args])
    return code, capsys.readouterr().out


def test_a_views_module_reports_its_templates(shop: Path, capsys):
    code, out = run(capsys, "shop/views.py")
    assert code == 1
    assert out.splitlines() == [
        "shop/templates/shop/order.html:3:37: ORM002 `item.product` lazy-loads `Item.product` with a query "
        "once per item of `order.items.all` (N extra queries)",
        "shop/templates/shop/order_list.html:2:37: ORM002 `order.customer` lazy-loads `Order.customer` with a "
        "query once per item of `order_list` (N extra queries)",
        "shop/views.py:18:15: ORM002 `order.customer` lazy-loads `Order.customer` with a query once per item of "
        "`Order.objects.all()` (N extra queries)",
        "Found 3 errors.",
    ]


def test_a_template_named_on_the_command_line(shop: Path, capsys):
    # Through the views that render it; the views' own findings are not this run's.
    code, out = run(capsys, "shop/templates/shop/order_list.html")
    assert code == 1
    assert out.splitlines() == [
        "shop/templates/shop/order_list.html:2:37: ORM002 `order.customer` lazy-loads `Order.customer` with a "
        "query once per item of `order_list` (N extra queries)",
        "Found 1 error.",
    ]
    views = (shop / "shop/views.py").read_text()
    assert main(["check", "--no-cache", "--fix", "shop/templates/shop/order_list.html"]) == 1
    assert (shop / "shop/views.py").read_text() == views  # a view found for a template is not edited


def test_noqa_in_a_template(shop: Path, capsys):
    path = shop / "shop/templates/shop/order_list.html"
    path.write_text(path.read_text().replace("</li>", "</li>{# noqa: ORM002 #}"))
    code, out = run(capsys, "shop/templates/shop/order_list.html")
    assert (code, out.splitlines()) == (0, ["All checks passed!"])


def test_json_names_the_view_the_fix_edits(shop: Path, capsys):
    main(["check", "--no-cache", "--output-format", "json", "shop/templates/shop/order.html"])
    found = json.loads(capsys.readouterr().out)
    assert [(f["code"], os.path.relpath(f["filename"]), f["location"]) for f in found] == [
        ("ORM002", "shop/templates/shop/order.html", {"row": 3, "column": 37})]
    related = [(os.path.relpath(r["filename"]), r["location"]["row"], r["message"]) for r in found[0]["related"]]
    assert related == [
        ("shop/templates/shop/order.html", 3, "the loop that repeats it: `order.items.all`"),
        ("shop/templates/shop/order.html", 3, "the query that loads the rows"),
        ("shop/views.py", 13, "the view that renders it: render(...) in order_page"),
    ]
    assert found[0]["fix"] is None  # (the items' rows come from a related manager in the template)


PYRAMID = '''\
from pyramid.view import view_config
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Pet(Base):
    __tablename__ = "pet"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    owner: Mapped[Owner] = relationship()


@view_config(route_name="pets", renderer="templates/pets.jinja2")
def pets(request, session: Session):
    return {"pets": session.scalars(select(Pet)).all()}
'''


def test_pyramid_renderer_and_its_fix(tmp_path: Path, monkeypatch, capsys):
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'zoo'\n", "zoo/__init__.py": "", "zoo/views.py": PYRAMID,
                     "zoo/templates/pets.jinja2": "{% for pet in pets %}\n  {{ pet.owner.name }}\n{% endfor %}\n"})
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "zoo")
    assert out.splitlines() == [
        "zoo/templates/pets.jinja2:2:6: ORM002 `pet.owner` lazy-loads `Pet.owner` once per item of `pets` "
        "(N extra queries)",
        "Found 1 error.",
    ]
    assert main(["check", "--no-cache", "--fix", "zoo"]) == 0
    assert '    return {"pets": session.scalars(select(Pet).options(joinedload(Pet.owner))).all()}\n' in \
        (tmp_path / "zoo/views.py").read_text()


HELPER_VIEWS = '''\
from flask import render_template

from .models import Owner


def render(template_name, extra_vars=None):
    """The project's own render helper."""
    return render_template(template_name, **(extra_vars or {}))


def page(template_name, **context):
    return render(template_name, context)


def owners():
    return render("owners.html", {"owners": Owner.query.all()})


def owners_again():
    return page("owners.html", owners=Owner.query.all())
'''

HELPER_MODELS = '''\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Owner(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    pets = db.relationship("Pet", back_populates="owner")


class Pet(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.ForeignKey("owner.id"))
    owner = db.relationship("Owner", back_populates="pets")
'''


OWNERS_TEMPLATE = "{% for owner in owners %}{{ owner.pets|length }}{% endfor %}\n"


def helper_app(root: Path, monkeypatch, files: dict[str, str]) -> None:
    """A Flask-SQLAlchemy app whose views render through the project's own `render()` helper."""
    write(root, {"pyproject.toml": "[project]\nname = 'app'\n", "app/__init__.py": "",
                 "app/models.py": HELPER_MODELS, "app/views.py": HELPER_VIEWS, **files})
    monkeypatch.chdir(root)


def test_a_projects_own_render_helper(tmp_path: Path, monkeypatch, capsys):
    # `render(name, extra_vars)` passes its parameters to Flask's render_template: its calls render.
    helper_app(tmp_path, monkeypatch, {"app/templates/owners.html": OWNERS_TEMPLATE})
    code, out = run(capsys, "app")
    assert out.splitlines() == [
        "app/templates/owners.html:1:29: ORM002 `owner.pets` lazy-loads `Owner.pets` once per item of `owners` "
        "(N extra queries)",
        "Found 1 error.",
    ]


def test_the_cache_sees_a_template_change(tmp_path: Path, monkeypatch, capsys):
    # A view's cached findings include its templates': an edit of the template is a change of them.
    helper_app(tmp_path, monkeypatch, {"app/templates/owners.html": OWNERS_TEMPLATE})
    template = tmp_path / "app/templates/owners.html"
    check = lambda: (main(["check", "--output-format", "concise", "app"]), capsys.readouterr().out)  # noqa: E731
    assert check()[0] == 1
    template.write_text("{% for owner in owners %}{{ owner.id }}{% endfor %}\n")
    assert check() == (0, "All checks passed!\n")
    template.write_text("{% for owner in owners %}\n{{ owner.pets }}{% endfor %}\n")
    assert check()[1].splitlines()[0].startswith("app/templates/owners.html:2:4: ORM002 `owner.pets`")
    assert (tmp_path / ".ormlens_cache").is_dir()


def test_template_folders_the_settings_name(tmp_path: Path, monkeypatch, capsys):
    # `TEMPLATES[...]["DIRS"]` naming a folder not called `templates`: its templates are found.
    helper_app(tmp_path, monkeypatch, {
        "app/settings.py": 'TEMPLATES = [{"DIRS": [BASE_DIR / "frontend" / "pages"]}]\n',
        "frontend/pages/owners.html": OWNERS_TEMPLATE})
    code, out = run(capsys, "app")
    assert out.splitlines()[0].startswith("frontend/pages/owners.html:1:29: ORM002 `owner.pets`")


def test_a_read_two_relations_deep_is_fixed_with_its_lookup(shop: Path, capsys):
    models = shop / "shop/models.py"
    models.write_text(models.read_text().replace(
        "    name = models.CharField(max_length=40)\n\n\nclass Product",
        "    name = models.CharField(max_length=40)\n    city = models.ForeignKey(\"City\", on_delete=models.CASCADE)\n"
        "\n\nclass City(models.Model):\n    name = models.CharField(max_length=40)\n\n\nclass Product", 1))
    (shop / "shop/templates/shop/customers.html").write_text(
        "{% for order in orders %}{{ order.customer.city.name }}{% endfor %}\n")
    (shop / "shop/views.py").write_text(
        "from django.shortcuts import render\n\nfrom .models import Order\n\n\n"
        "def orders(request):\n"
        '    return render(request, "shop/customers.html", {"orders": Order.objects.all()})\n')
    code, out = run(capsys, "shop/views.py")
    assert out.splitlines() == [
        "shop/templates/shop/customers.html:1:29: ORM002 `order.customer` lazy-loads `Order.customer` with a "
        "query once per item of `orders` (N extra queries)",
        "shop/templates/shop/customers.html:1:29: ORM002 `order.customer.city` lazy-loads `Customer.city` with a "
        "query once per item of `orders` (N extra queries)",
        "Found 2 errors.",
    ]
    assert main(["check", "--no-cache", "--fix", "shop/views.py"]) == 0
    assert '{"orders": Order.objects.all().select_related("customer", "customer__city")}' in \
        (shop / "shop/views.py").read_text()


def test_a_test_does_not_render_what_it_tests(shop: Path, capsys):
    # `{% if order.customer %}` tests the row; `{{ order.customer }}` renders it: its `__str__` runs.
    models = shop / "shop/models.py"
    models.write_text(models.read_text().replace(
        "class Customer(models.Model):\n    name = models.CharField(max_length=40)\n",
        "class Customer(models.Model):\n    name = models.CharField(max_length=40)\n"
        "    region = models.ForeignKey(\"Product\", on_delete=models.CASCADE)\n\n"
        "    def __str__(self):\n        return self.region.name\n", 1))
    template = shop / "shop/templates/shop/order_list.html"
    template.write_text("{% for order in order_list %}{% if order.customer %}yes{% endif %}{% endfor %}\n")
    code, out = run(capsys, "shop/templates/shop/order_list.html")
    assert out.splitlines() == [
        "shop/templates/shop/order_list.html:1:36: ORM002 `order.customer` lazy-loads `Order.customer` with a "
        "query once per item of `order_list` (N extra queries)",
        "Found 1 error.",
    ]
    template.write_text("{% for order in order_list %}{{ order.customer }}{% endfor %}\n")
    code, out = run(capsys, "shop/templates/shop/order_list.html")
    assert [line.split(" lazy-loads ")[0] for line in out.splitlines()[:-1]] == [
        "shop/templates/shop/order_list.html:1:33: ORM002 `order.customer`",
        "shop/templates/shop/order_list.html:1:33: ORM002 `order.customer → self.region`",
    ]


def test_add_noqa_writes_a_template_comment(shop: Path, capsys):
    # In a template a `# noqa` would be shown on the page: `{# noqa: CODE #}` is a template comment.
    assert main(["check", "--no-cache", "--add-noqa", "shop/templates/shop/order_list.html"]) == 0
    assert (shop / "shop/templates/shop/order_list.html").read_text().splitlines()[1] == \
        "{% for order in order_list %}<li>{{ order.customer.name }}</li>{% endfor %}{# noqa: ORM002 #}"
    capsys.readouterr()
    assert run(capsys, "shop/templates/shop/order_list.html") == (0, "All checks passed!\n")


def test_an_edit_of_a_template_does_not_walk_its_views_again(shop: Path):
    # (What the editor does on a keystroke in a template: its evaluation is made again, the view's
    # walk is kept.)
    from ormlens.analysis.project import ProjectIndex
    from ormlens.config import Settings
    from ormlens.engine import analyze

    project = ProjectIndex(shop, Settings())
    project.keep_units = True
    project.load([str(path) for path in shop.rglob("*.py")])
    views = str((shop / "shop/views.py").resolve())
    template = str((shop / "shop/templates/shop/order_list.html").resolve())
    codes = lambda: sorted((f.path == template, f.code) for f in analyze(project, views, Settings())[0])  # noqa: E731
    assert codes() == [(False, "ORM002"), (False, "ORM002"), (True, "ORM002")]
    walks = project.dependencies.facts_built[views]
    project.set_source(template, "{% for order in order_list %}{{ order.id }}{% endfor %}\n")
    assert codes() == [(False, "ORM002"), (False, "ORM002")]
    # Not a module's text: nothing rescans it for names (that made modules' facts read it, and be
    # walked again on the next keystroke), nothing parses it as Python.
    assert template not in project.text_changes and not project.is_loaded(template)
    assert project.dependencies.facts_built[views] == walks
    project.set_source(template, "{% for order in order_list %}{{ order.customer }}{% endfor %}\n")
    assert codes() == [(False, "ORM002"), (False, "ORM002"), (True, "ORM002")]
    assert project.dependencies.facts_built[views] == walks
