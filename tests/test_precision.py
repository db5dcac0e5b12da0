"""Precision, adversarially: realistic Flask / SQLAlchemy code (views, services, repositories, CLI
scripts, migrations, jobs) checked as a small project in tmp_path.

Every test asserts the EXACT sorted list of (code, line) reported for the file under test. A line
that must be reported carries `# want: ORM00x` (several codes: `# want: ORM001, ORM002`); every
other line must stay silent. Most snippets are negative: code that looks like an ORM performance
bug, or uses ORM-ish names, but is not one. Where the analyser disagrees with what the rule
definitions say, the test stays and is marked `xfail(strict=True)` with the reason.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from ormlens.config import Settings
from ormlens.engine import check_files

# --- the project the snippets import from -----------------------------------------------------

FLASK_MODELS = '''
import enum
from decimal import Decimal

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.ext.hybrid import hybrid_property

db = SQLAlchemy()


class OrderStatus(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"


class Team(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), nullable=False)
    team_id = db.Column(db.Integer, db.ForeignKey("team.id"))
    team = db.relationship("Team", backref="members")
    orders = db.relationship("Order", back_populates="user")
    addresses = db.relationship("Address", lazy="selectin")
    profile = db.relationship("Profile", uselist=False, lazy="raise")
    notes = db.relationship("Note", lazy="dynamic")

    @property
    def display_name(self):
        return self.email.split("@")[0]

    @property
    def open_order_count(self):
        return Order.query.filter_by(user_id=self.id, status="new").count()

    @hybrid_property
    def is_staff(self):
        return self.email.endswith("@corp.example")

    def latest_order(self):
        return Order.query.filter_by(user_id=self.id).order_by(Order.id.desc()).first()

    @classmethod
    def by_email(cls, email):
        return cls.query.filter_by(email=email).first()


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False)
    total = db.Column(db.Numeric(10, 2))                      # nullable
    shipping = db.Column(db.Numeric(10, 2), nullable=False)
    user = db.relationship("User", back_populates="orders")
    items = db.relationship("OrderItem")


class OrderItem(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("order.id"), nullable=False)
    product_id = db.Column(db.Integer, db.ForeignKey("product.id"), nullable=False)
    quantity = db.Column(db.Integer, nullable=False)
    product = db.relationship("Product")


class Product(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    price = db.Column(db.Numeric(10, 2), nullable=False)


class Address(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)


class Profile(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
'''

SA2_MODELS = '''
from decimal import Decimal
from typing import Optional

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    title: Mapped[str]
    price: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 2))
    author: Mapped["Author"] = relationship(back_populates="books")
    reviews: Mapped[list["Review"]] = relationship()


class Review(Base):
    __tablename__ = "review"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id"))
    stars: Mapped[int]
'''

WANT = re.compile(r"#\s*want:\s*(?P<codes>ORM\d{3}(?:\s*,\s*ORM\d{3})*)")


def _text(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def expected(source: str) -> list[tuple[str, int]]:
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = WANT.search(line)
        if match:
            out += [(code.strip(), number) for code in match.group("codes").split(",")]
    return sorted(out)


def reported(tmp_path: Path, source: str, models: str | None = FLASK_MODELS,
             extra: dict[str, str] | None = None, name: str = "app.py") -> list[tuple[str, int]]:
    """Write the project (models.py, extra modules, the file under test), check it as the CLI
    does, and return the (code, line) pairs reported for the file under test."""
    files = dict(extra or {})
    if models is not None:
        files["models.py"] = models
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_text(text), encoding="utf-8")
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    report = check_files([target], Settings(), root=tmp_path)
    assert report.errors == []
    return sorted((f.code, f.span.line) for f in report.findings if Path(f.path) == target.resolve())


def check(tmp_path: Path, source: str, **kwargs) -> None:
    text = _text(source)
    assert reported(tmp_path, text, **kwargs) == expected(text)


# === negative: views, pages, search ===========================================================


def test_paginated_view_with_eager_loading_properties_and_hybrids(tmp_path):
    check(tmp_path, """
        from flask import Blueprint, render_template, request
        from sqlalchemy.orm import selectinload

        from models import User

        bp = Blueprint("users", __name__)


        @bp.route("/users")
        def user_list():
            page = request.args.get("page", 1, type=int)
            pagination = (
                User.query.options(selectinload(User.orders))
                .order_by(User.email)
                .paginate(page=page, per_page=25)
            )
            rows = []
            for user in pagination.items:
                rows.append({
                    "name": user.display_name,
                    "staff": user.is_staff,
                    "orders": len(user.orders),
                    "addresses": len(user.addresses),
                })
            return render_template("users.html", rows=rows, pagination=pagination)
    """)


def test_search_view_with_a_string_named_query(tmp_path):
    check(tmp_path, """
        from flask import jsonify, request

        from models import Product


        def search():
            query = request.args.get("q", "").strip()
            terms = [t.lower() for t in query.split() if t]
            results = Product.query.filter(Product.name.ilike(f"%{query}%")).limit(20).all()
            payload = []
            for product in results:
                hits = [t for t in terms if t in product.name.lower()]
                payload.append({"id": product.id, "name": product.name, "hits": hits})
            return jsonify(query=query, results=payload)
    """)


def test_first_after_the_loop_and_query_before_it(tmp_path):
    check(tmp_path, """
        from models import Order, User


        def dashboard(user_ids):
            recent = Order.query.filter(Order.status == "new").order_by(Order.id.desc()).all()
            seen = set()
            for uid in user_ids:
                seen.add(uid)
            else:
                newest = Order.query.order_by(Order.id.desc()).first()
            owner = User.query.filter(User.id == 1).one_or_none()
            return recent, seen, newest, owner
    """)


def test_early_return_and_raise_inside_the_loop(tmp_path):
    check(tmp_path, """
        from werkzeug.exceptions import NotFound

        from models import Order, User


        def first_order_of(users: list[User], email: str):
            for user in users:
                if user.email == email:
                    return Order.query.filter_by(user_id=user.id).first()
            return None


        def ensure_all_known(emails):
            for email in emails:
                if "@" not in email:
                    raise NotFound(User.query.filter_by(email=email).first())
    """)


# === negative: bounded loops ===================================================================


def test_loops_over_literals_module_constants_and_literal_dicts(tmp_path):
    check(tmp_path, """
        from models import Order, User

        STATUSES = ("new", "paid", "shipped")
        OPEN = frozenset({"new", "paid"})
        LABELS = {"new": "New", "paid": "Paid"}
        ADMINS = ["root@example.com", "ops@example.com"]


        def status_counts():
            counts = {label: Order.query.filter_by(status=key).count() for key, label in LABELS.items()}
            for status in STATUSES:
                counts[status] = Order.query.filter_by(status=status).count()
            for i in range(len(STATUSES)):
                counts[i] = Order.query.filter_by(status=STATUSES[i]).count()
            for status in OPEN:
                counts[status] = Order.query.filter_by(status=status).count()
            for role, email in zip(("owner", "admin"), ADMINS):
                counts[role] = User.query.filter_by(email=email).first()
            for model in (Order, User):
                counts[model.__name__] = model.query.count()
            return counts
    """)


def test_loop_over_an_enum_class(tmp_path):
    check(tmp_path, """
        from models import Order, OrderStatus


        def status_counts():
            return {s.value: Order.query.filter_by(status=s.value).count() for s in OrderStatus}
    """)


def test_retry_loop_over_range_of_a_constant_plus_one(tmp_path):
    check(tmp_path, """
        import time

        from sqlalchemy.exc import OperationalError

        from models import User, db

        MAX_ATTEMPTS = 3


        def load_user(uid):
            user = None
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    user = db.session.get(User, uid)
                except OperationalError:
                    db.session.rollback()
                    time.sleep(attempt)
            return user
    """)


def test_last_seven_days_with_negative_range_literals(tmp_path):
    check(tmp_path, """
        from datetime import date, timedelta

        from sqlalchemy import func

        from models import Order, db


        def orders_per_day():
            today = date.today()
            chart = [Order.query.filter(func.date(db.literal_column("created_at")) == today + timedelta(days=d)).count()
                     for d in range(-6, 1)]
            for days_ago in range(6, -1, -1):
                chart.append(Order.query.filter(Order.id > days_ago).count())
            return chart
    """)


def test_islice_with_a_constant_is_bounded(tmp_path):
    check(tmp_path, """
        from itertools import islice

        from models import User


        def preview(user_ids):
            head = [User.query.get(uid) for uid in islice(user_ids, 10)]
            sliced = [User.query.get(uid) for uid in user_ids[:10]]
            return head, sliced
    """)


def test_retry_loop_with_break_over_a_configured_count(tmp_path):
    check(tmp_path, """
        from flask import current_app
        from sqlalchemy.exc import OperationalError

        from models import User, db


        def load_user(uid):
            user = None
            for attempt in range(current_app.config["DB_RETRIES"]):
                try:
                    user = db.session.get(User, uid)
                    break
                except OperationalError:
                    db.session.rollback()
            return user
    """)


def test_tenacity_retrying_loop(tmp_path):
    check(tmp_path, """
        from tenacity import Retrying, stop_after_attempt, wait_fixed

        from models import User, db


        def load_user(uid):
            for attempt in Retrying(stop=stop_after_attempt(3), wait=wait_fixed(0.5), reraise=True):
                with attempt:
                    user = db.session.get(User, uid)
            return user
    """)


# === negative: batches and pages ===============================================================


def test_chunked_loaders_written_three_ways(tmp_path):
    check(tmp_path, """
        from collections import defaultdict
        from itertools import batched

        from models import Order

        CHUNK = 500


        def orders_by_user(user_ids):
            grouped = defaultdict(list)
            for start in range(0, len(user_ids), CHUNK):
                for o in Order.query.filter(Order.user_id.in_(user_ids[start:start + CHUNK])).all():
                    grouped[o.user_id].append(o)
            for chunk in batched(user_ids, CHUNK):
                for o in Order.query.filter(Order.user_id.in_(chunk)).all():
                    grouped[o.user_id].append(o)
            offset = 0
            while True:
                batch = user_ids[offset:offset + CHUNK]
                if not batch:
                    break
                for o in Order.query.filter(Order.user_id.in_(batch)).all():
                    grouped[o.user_id].append(o)
                offset += CHUNK
            return grouped
    """)


def test_chunk_loop_counted_by_chunk_number(tmp_path):
    check(tmp_path, """
        import math

        from models import Order

        CHUNK = 500


        def orders_for(user_ids):
            out = []
            for i in range(math.ceil(len(user_ids) / CHUNK)):
                chunk = user_ids[i * CHUNK:(i + 1) * CHUNK]
                out += Order.query.filter(Order.user_id.in_(chunk)).all()
            return out
    """)


def test_keyset_pagination_job_with_while(tmp_path):
    check(tmp_path, """
        from sqlalchemy import select

        from models import Order, db

        PAGE = 1000


        def archive_paid_orders():
            last_id = 0
            while True:
                batch = db.session.scalars(
                    select(Order).where(Order.id > last_id, Order.status == "paid").order_by(Order.id).limit(PAGE)
                ).all()
                if not batch:
                    break
                for order in batch:
                    order.status = "archived"
                db.session.commit()
                last_id = batch[-1].id
    """)


def test_export_by_page_number(tmp_path):
    check(tmp_path, """
        import csv

        from models import Order


        def export(path):
            first = Order.query.order_by(Order.id).paginate(page=1, per_page=500, error_out=False)
            with open(path, "w", newline="") as fh:
                writer = csv.writer(fh)
                for number in range(1, first.pages + 1):
                    page = Order.query.order_by(Order.id).paginate(page=number, per_page=500, error_out=False)
                    for order in page.items:
                        writer.writerow([order.id, order.status, order.total])
    """)


def test_polling_worker_with_while(tmp_path):
    check(tmp_path, """
        import time

        from models import Order, db


        def worker(stop_event):
            while not stop_event.is_set():
                job = Order.query.filter_by(status="new").order_by(Order.id).with_for_update(skip_locked=True).first()
                if job is None:
                    time.sleep(1)
                    continue
                job.status = "paid"
                db.session.commit()
    """)


# === negative: writes, jobs, other libraries ===================================================


def test_session_writes_in_loops(tmp_path):
    check(tmp_path, """
        from models import Order, User, db


        def import_users(rows, cached: list[User]):
            for row in rows:
                user = User(email=row["email"])
                db.session.add(user)
                db.session.flush()
                db.session.add(Order(user_id=user.id, status="new", shipping=0))
            for obj in cached:
                db.session.merge(obj, load=False)
            for obj in cached:
                db.session.expunge(obj)
            db.session.add_all(cached)
            db.session.bulk_save_objects([User(email=r["email"]) for r in rows])
            for stale in cached:
                db.session.delete(stale)
            db.session.commit()
    """)


def test_jobs_are_enqueued_not_run(tmp_path):
    check(tmp_path, """
        from concurrent.futures import ThreadPoolExecutor

        from celery import shared_task
        from redis import Redis
        from rq import Queue

        from models import User


        @shared_task
        def send_receipt(uid):
            user = User.query.get(uid)
            return user.email


        def send_all(user_ids):
            queue = Queue(connection=Redis())
            for uid in user_ids:
                send_receipt.delay(uid)
                send_receipt.apply_async(args=[uid], countdown=5)
                queue.enqueue(send_receipt, uid)
            with ThreadPoolExecutor() as pool:
                futures = [pool.submit(send_receipt, uid) for uid in user_ids]
            return futures


        def send_all_now(user_ids):
            for uid in user_ids:
                send_receipt(uid)  # want: ORM001
    """)


def test_http_redis_cache_and_dicts_in_loops(tmp_path):
    check(tmp_path, """
        import requests
        from flask import session
        from flask_caching import Cache
        from redis import Redis

        cache = Cache()
        redis = Redis()


        def enrich(user_ids, urls, lookup: dict):
            http = requests.Session()
            out = []
            for uid in user_ids:
                out.append(redis.get(f"user:{uid}"))
                out.append(cache.get(f"user:{uid}"))
                out.append(lookup.get(uid))
                out.append(session.get("cart", {}).get(str(uid)))
            for url in urls:
                out.append(http.get(url, timeout=5).json())
            return out


        def fetch_all(session: requests.Session, urls):
            return [session.get(url).json() for url in urls]
    """, models=None)


def test_pandas_query_and_get(tmp_path):
    check(tmp_path, """
        import pandas as pd


        def slices(df: pd.DataFrame, expressions, columns):
            frames = [df.query(expr) for expr in expressions]
            for col in columns:
                frames.append(df.get(col))
                frames.append(df.query(f"{col} > 0").sum())
            return sum(len(f) for f in frames)
    """, models=None)


def test_django_code_is_read_as_django(tmp_path):
    # Django models are read as Django (not as SQLAlchemy): each bug is reported once, in
    # Django's terms.
    check(tmp_path, """
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=80)


        class Invoice(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
            total = models.DecimalField(max_digits=10, decimal_places=2, null=True)


        def report(customer_ids: list[int]):
            counts = {cid: Invoice.objects.filter(customer_id=cid).count() for cid in customer_ids}  # want: ORM001
            for invoice in Invoice.objects.all():
                print(invoice.customer.name)  # want: ORM002
            invoices = list(Invoice.objects.filter(customer_id__in=customer_ids))  # want: ORM004
            total = sum(i.total for i in invoices)  # want: ORM005
            for c in Customer.objects.all():
                print([i for i in invoices if i.customer_id == c.id])  # want: ORM003
            return counts, total
    """, models=None, name="billing/views.py")


def test_project_class_named_session_is_not_an_orm_session(tmp_path):
    check(tmp_path, """
        from auth import Session


        def preferences(session: Session, keys):
            return {key: session.get(key) for key in keys}


        def audit(token, prefixes):
            store = Session(token)
            found = []
            for prefix in prefixes:
                found += store.query(prefix)
                found.append(store.get(prefix))
            return found
    """, extra={"auth.py": """
        class Session:
            def __init__(self, token):
                self.token = token
                self._data = {}

            def get(self, key, default=None):
                return self._data.get(key, default)

            def query(self, prefix):
                return [k for k in self._data if k.startswith(prefix)]
    """})


def test_a_model_named_session(tmp_path):
    check(tmp_path, """
        from itertools import batched

        from sqlalchemy.orm import Session as DbSession

        from models import User, db


        class Session(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
            duration = db.Column(db.Integer)


        def sessions_by_user(user_ids):
            out = []
            for chunk in batched(user_ids, 1000):
                out += Session.query.filter(Session.user_id.in_(chunk)).all()
            return out


        def session_counts(db_session: DbSession, user_ids):
            return {uid: Session.query.filter_by(user_id=uid).count() for uid in user_ids}  # want: ORM001


        def total_time(user: User):
            return sum(s.duration for s in Session.query.filter_by(user_id=user.id))  # want: ORM005
    """)


def test_alembic_data_migration(tmp_path):
    check(tmp_path, """
        import sqlalchemy as sa
        from alembic import op

        from models import User

        revision = "a1b2c3"
        down_revision = "f0e1d2"


        def upgrade():
            op.add_column("user", sa.Column("slug", sa.String(120)))
            bind = op.get_bind()
            session = sa.orm.Session(bind=bind)
            for user in session.query(User).yield_per(500):
                user.email = user.email.lower()
            session.commit()
            for table in ("user", "order"):
                op.execute(sa.text(f"ANALYZE {table}"))


        def downgrade():
            op.drop_column("user", "slug")
    """)


def test_test_fixture_that_empties_every_table(tmp_path):
    check(tmp_path, """
        import pytest

        from models import db


        @pytest.fixture(autouse=True)
        def clean_db(app):
            yield
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
    """, name="tests/conftest.py")


def test_statements_built_in_a_loop_and_run_once(tmp_path):
    check(tmp_path, """
        from sqlalchemy import exists, select, union_all

        from models import Order, User, db


        def latest_three_each(user_ids):
            parts = [select(Order.id).where(Order.user_id == uid).order_by(Order.id.desc()).limit(3)
                     for uid in user_ids[:20]]
            return db.session.execute(union_all(*parts)).all()


        def users_with_orders(statuses):
            clauses = []
            for status in statuses:
                clauses.append(exists().where(Order.user_id == User.id, Order.status == status))
                clauses.append(select(Order.id).where(Order.status == status).exists())
            return db.session.scalars(select(User).where(*clauses)).all()
    """)


# === negative: caching =========================================================================


def test_memoized_helpers(tmp_path):
    # lru_cache keeps its entries: silent. A cache whose entries expire (`timeout=`) runs the
    # query once per distinct team on a cold cache: reported, saying so (issue #14).
    check(tmp_path, """
        import functools

        from flask_caching import Cache

        from models import Team

        cache = Cache()


        @functools.lru_cache(maxsize=512)
        def team_name(team_id):
            return Team.query.get(team_id).name


        @cache.memoize(timeout=300)
        def team_size(team_id):
            return Team.query.filter_by(id=team_id).count()


        def label_users(users):
            return [(team_name(u.team_id), team_size(u.team_id)) for u in users]  # want: ORM001
    """)


def test_ttl_cached_helper(tmp_path):
    check(tmp_path, """
        from cachetools.func import ttl_cache

        from models import Team


        @ttl_cache(maxsize=256, ttl=600)
        def team_name(team_id):
            return Team.query.get(team_id).name


        def label_users(users):
            return [team_name(u.team_id) for u in users]  # want: ORM001
    """)


# === ORM002 ====================================================================================


def test_sa2_eager_loading_through_execute_scalars_unique(tmp_path):
    check(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.orm import Session, joinedload, raiseload, selectinload

        from models import Author, Book


        def catalogue(session: Session):
            stmt = select(Author).options(selectinload(Author.books).selectinload(Book.reviews))
            out = []
            for author in session.execute(stmt).scalars().unique().all():
                for book in author.books:
                    out.append((author.name, book.title, len(book.reviews)))
            books = session.scalars(select(Book).options(joinedload(Book.author), raiseload("*"))).unique()
            for book in books:
                out.append((book.author.name, book.reviews))
            return out
    """, models=SA2_MODELS)


def test_eager_loaders_through_module_aliases(tmp_path):
    check(tmp_path, """
        import sqlalchemy as sa
        from sqlalchemy import orm

        from models import User, db


        def overview():
            out = []
            for u in User.query.options(sa.orm.selectinload(User.orders)).all():
                out.append(len(u.orders))
            for u in db.session.query(User).options(orm.joinedload(User.team)):
                out.append(u.team)
            for u in User.query.options(db.selectinload(User.orders)).all():
                out.append((u.orders, u.addresses, u.profile))
            return out
    """)


def test_yield_per_job_reads_an_unloaded_relationship(tmp_path):
    check(tmp_path, """
        from sqlalchemy.orm import joinedload

        from models import Order, db


        def archive():
            for order in db.session.query(Order).options(joinedload(Order.user)).yield_per(1000):
                order.status = "archived"
                print(order.user.email, order.total, order.user_id)
            for order in db.session.query(Order).yield_per(1000):
                print(order.id, order.user.email)  # want: ORM002
            db.session.commit()
    """)


def test_sa2_execute_scalars_without_eager_loading(tmp_path):
    check(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Book


        def reviews_per_book(session: Session):
            return {b.title: len(b.reviews) for b in session.execute(select(Book)).scalars()}  # want: ORM002
    """, models=SA2_MODELS)


def test_relationship_read_only_on_the_returned_row(tmp_path):
    check(tmp_path, """
        from models import User


        def orders_of(email):
            for user in User.query.all():
                if user.email == email:
                    return user.orders
            return []
    """)


def test_loader_options_from_a_module_constant(tmp_path):
    check(tmp_path, """
        from sqlalchemy.orm import joinedload, selectinload

        from models import User

        USER_LOADERS = (selectinload(User.orders), joinedload(User.team))


        def users_page():
            return [(u.team, len(u.orders)) for u in User.query.options(*USER_LOADERS).all()]
    """)


def test_load_object_loader_option(tmp_path):
    check(tmp_path, """
        from sqlalchemy.orm import Load

        from models import User


        def users_page():
            return [len(u.orders) for u in User.query.options(Load(User).selectinload(User.orders)).all()]
    """)


def test_many_to_one_to_the_single_parent_the_rows_were_filtered_by(tmp_path):
    check(tmp_path, """
        from models import Order


        def order_lines(uid):
            return [f"{o.id} {o.user.email}" for o in Order.query.filter_by(user_id=uid).all()]
    """)


# === ORM003 ====================================================================================


def test_report_builder_grouping_once(tmp_path):
    check(tmp_path, """
        from collections import defaultdict

        from models import Order, User


        def revenue_report():
            users = User.query.all()
            by_user = defaultdict(list)
            for o in Order.query.all():
                by_user[o.user_id].append(o)
            rows = []
            for u in users:
                mine = by_user.get(u.id, [])
                rows.append((u.email, len(mine), sum((o.total or 0) for o in mine)))
            return rows
    """)


def test_csv_import_matching_rows_by_scan(tmp_path):
    check(tmp_path, """
        import csv

        from models import User


        def match_rows(path):
            users = User.query.all()
            with open(path) as fh:
                for row in csv.DictReader(fh):
                    user = next((u for u in users if u.email == row["email"]), None)  # want: ORM003
                    print(row, user)
    """)


def test_scan_followed_by_return(tmp_path):
    check(tmp_path, """
        from models import Order, User


        def orders_of_current_user(current_email):
            orders = Order.query.all()
            for u in User.query.all():
                if u.email == current_email:
                    return [o for o in orders if o.user_id == u.id]
            return []
    """)


def test_scan_followed_by_break(tmp_path):
    check(tmp_path, """
        from models import Order, User


        def orders_of_current_user(current_email):
            orders = Order.query.all()
            mine = []
            for u in User.query.all():
                if u.email == current_email:
                    mine = [o for o in orders if o.user_id == u.id]
                    break
            return mine
    """)


def test_scan_per_enum_member(tmp_path):
    check(tmp_path, """
        from models import Order, OrderStatus


        def orders_by_status():
            orders = Order.query.all()
            return {s: [o for o in orders if o.status == s.value] for s in OrderStatus}
    """)


# === ORM004 ====================================================================================


def test_in_over_constants_enums_and_bounded_values(tmp_path):
    check(tmp_path, """
        import os

        from flask import request
        from sqlalchemy import select

        from models import Order, OrderStatus, User, db

        OPEN = ("new", "paid")
        MAX_IDS = 200


        def filtered(pair: tuple[int, int], user_ids):
            q = Order.query.filter(Order.status.in_(["new", "paid"]))
            q = q.filter(Order.status.in_(OPEN))
            q = q.filter(Order.status.in_({OrderStatus.NEW.value, OrderStatus.PAID.value}))
            q = q.filter(Order.status.in_([s.value for s in OrderStatus]))
            q = q.filter(Order.user_id.in_(pair))
            q = q.filter(Order.user_id.in_(user_ids[:MAX_IDS]))
            q = q.filter(Order.user_id.not_in(select(User.id).where(User.email.like("%@test"))))
            return q.all()


        def recent_buyers():
            recent = db.session.scalars(select(User.id).order_by(User.id.desc()).limit(100)).all()
            page = Order.query.paginate(page=1, per_page=50)
            return Order.query.filter(
                Order.user_id.in_(recent), Order.id.in_([o.id for o in page.items])
            ).all()


        def configured():
            admin_ids = [int(x) for x in os.environ.get("ADMIN_IDS", "").split(",") if x]
            wanted = request.args.getlist("status")
            return Order.query.filter(Order.user_id.in_(admin_ids), Order.status.in_(wanted)).all()
    """)


def test_bulk_lookup_endpoint(tmp_path):
    check(tmp_path, """
        from flask import jsonify

        from models import User


        def bulk_lookup(ids: list[int]):
            users = User.query.filter(User.id.in_(ids)).all()  # want: ORM004
            staff = User.query.filter(User.email.in_(("a@corp.example", "b@corp.example"))).all()
            return jsonify([u.email for u in users + staff])
    """)


def test_in_method_of_a_project_dsl(tmp_path):
    check(tmp_path, """
        from rules import Field


        def visible(records, allowed_countries):
            predicate = Field("country").in_(allowed_countries)
            return [r for r in records if predicate(r)]
    """, models=None, extra={"rules.py": """
        class Field:
            def __init__(self, name):
                self.name = name

            def in_(self, values):
                allowed = set(values)
                return lambda record: record.get(self.name) in allowed
    """})


# === ORM005 ====================================================================================


def test_safe_sums(tmp_path):
    check(tmp_path, """
        from decimal import Decimal

        from sqlalchemy import func

        from models import Order, OrderItem, db


        def totals(orders: list[Order], items: list[OrderItem]):
            return (
                sum((o.total or 0) for o in orders),
                sum(o.total or Decimal("0") for o in orders),
                sum(o.total for o in orders if o.total is not None and o.status == "paid"),
                sum(o.total if o.total is not None else 0 for o in orders),
                sum(o.shipping for o in orders),
                sum(i.quantity for i in items),
                sum(filter(None, (o.total for o in orders))),
                sum(len(o.items) for o in orders),
                db.session.query(func.sum(Order.total)).scalar(),
                db.session.query(func.coalesce(func.sum(Order.total), 0)).scalar(),
            )


        def paid_revenue():
            rows = Order.query.filter(Order.total.isnot(None)).all()
            return sum(o.total for o in rows)
    """)


def test_hybrid_property_and_own_sum_function(tmp_path):
    check(tmp_path, """
        from decimal import Decimal

        from sqlalchemy.ext.hybrid import hybrid_property

        from models import Order, db


        class Invoice(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            _total = db.Column("total", db.Numeric(10, 2))

            @hybrid_property
            def total(self):
                return self._total or Decimal(0)


        def sum(values):
            result = Decimal(0)
            for v in values:
                result += v or 0
            return result


        def revenue():
            a = __builtins__["sum"](i.total for i in Invoice.query.all())
            b = sum(o.total for o in Order.query.all())
            return a, b
    """)


def test_dashboard_sums(tmp_path):
    check(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Book


        def shelf_value(session: Session):
            books = session.scalars(select(Book).where(Book.title != "")).all()
            value = sum(b.price for b in books)  # want: ORM005
            safe = sum(b.price for b in books if b.price is not None)
            return value, safe
    """, models=SA2_MODELS)


def test_sum_after_a_comparison_filter_on_the_column(tmp_path):
    check(tmp_path, """
        from models import Order


        def big_order_revenue():
            big = Order.query.filter(Order.total >= 100).all()
            return sum(o.total for o in big)
    """)


def test_sum_after_isnot_none_inside_and(tmp_path):
    check(tmp_path, """
        from sqlalchemy import and_

        from models import Order


        def paid_revenue():
            paid = Order.query.filter(and_(Order.status == "paid", Order.total.isnot(None))).all()
            return sum(o.total for o in paid)
    """)


def test_sum_after_a_not_none_comprehension(tmp_path):
    check(tmp_path, """
        from models import Order


        def paid_revenue():
            priced = [o for o in Order.query.all() if o.total is not None]
            return sum(o.total for o in priced), len(priced)
    """)


def test_sum_over_a_coalesced_label(tmp_path):
    check(tmp_path, """
        from sqlalchemy import func

        from models import Order, db


        def revenue():
            rows = db.session.query(Order.id, func.coalesce(Order.total, 0).label("total")).all()
            return sum(r.total for r in rows)
    """)


# === positive: N+1 hidden in realistic code ===================================================


def test_template_helper_called_per_row(tmp_path):
    check(tmp_path, """
        from flask import Flask, render_template

        from models import Team, User

        app = Flask(__name__)


        @app.template_global()
        def team_name(team_id):
            team = Team.query.get(team_id)
            return team.name if team else "-"


        @app.route("/people")
        def people():
            users = User.query.order_by(User.email).all()
            labels = {u.id: team_name(u.team_id) for u in users}  # want: ORM001
            return render_template("people.html", users=users, labels=labels)
    """)


def test_service_object_and_service_module(tmp_path):
    check(tmp_path, """
        from models import db
        from services import orders as order_service
        from services.repository import OrderRepository


        def summary(user_ids):
            repo = OrderRepository(db.session)
            out = {}
            for uid in user_ids:
                out[uid] = (
                    repo.latest_for(uid),  # want: ORM001
                    order_service.count_open(uid),  # want: ORM001
                )
            return out
    """, extra={
        "services/__init__.py": "",
        "services/orders.py": """
            from models import Order


            def count_open(uid):
                return _count(uid, "new")


            def _count(uid, status):
                return Order.query.filter_by(user_id=uid, status=status).count()
        """,
        "services/repository.py": """
            from sqlalchemy import select

            from models import Order


            class OrderRepository:
                def __init__(self, session):
                    self.session = session

                def latest_for(self, uid):
                    stmt = select(Order).where(Order.user_id == uid).order_by(Order.id.desc()).limit(1)
                    return self.session.scalars(stmt).first()
        """,
    })


def test_flask_sqlalchemy_3_style(tmp_path):
    check(tmp_path, """
        from models import User, db


        def directory(emails):
            page = db.paginate(db.select(User).order_by(User.email), per_page=20)
            rows = [(u.email, len(u.orders)) for u in page.items]
            for email in emails:
                with db.session.begin_nested():
                    rows.append(db.session.execute(db.select(User).filter_by(email=email)).scalar_one())  # want: ORM001
            return rows
    """)


def test_cli_script_with_session_context_manager(tmp_path):
    check(tmp_path, """
        import sys

        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from models import Book


        def main(argv):
            engine = create_engine(argv[1])
            with Session(engine) as session:
                for author_id in argv[2:]:
                    first = session.scalars(select(Book).where(Book.author_id == author_id).limit(1)).first()  # want: ORM001
                    print(author_id, first.title if first else "-")
            return 0


        if __name__ == "__main__":
            sys.exit(main(sys.argv))
    """, models=SA2_MODELS)


def test_sessionmaker_and_scoped_session(tmp_path):
    check(tmp_path, """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import scoped_session, sessionmaker

        from models import User

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(bind=engine)
        db_session = scoped_session(SessionLocal)


        def load(ids):
            with SessionLocal() as s:
                return [s.get(User, i) for i in ids]  # want: ORM001


        def by_emails(emails):
            found = []
            for email in emails:
                found.append(db_session.query(User).filter(User.email == email).one_or_none())  # want: ORM001
            return found
    """)


def test_async_session_per_id(tmp_path):
    check(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

        from models import Author


        async def names(session: AsyncSession, ids: list[int]):
            out = []
            for author_id in ids:
                result = await session.execute(select(Author).where(Author.id == author_id))  # want: ORM001
                out.append(result.scalar_one().name)
            return out
    """, models=SA2_MODELS)


def test_recursive_category_walk(tmp_path):
    check(tmp_path, """
        from models import db


        class Category(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            parent_id = db.Column(db.Integer, db.ForeignKey("category.id"))
            name = db.Column(db.String(80), nullable=False)


        def walk(category, depth=0):
            print("  " * depth + category.name)
            for child in Category.query.filter_by(parent_id=category.id).order_by(Category.name):
                walk(child, depth + 1)  # want: ORM001
    """)


def test_form_list_of_ids_looked_up_one_by_one(tmp_path):
    check(tmp_path, """
        from flask import request

        from models import Product, db


        def add_to_cart():
            products = [Product.query.get(pid) for pid in request.form.getlist("product_id")]  # want: ORM001
            by_session = [db.session.get(Product, pid) for pid in request.form.getlist("alt_id")]  # want: ORM001
            return products + by_session
    """)


def test_dynamic_relationship_counted_per_user(tmp_path):
    check(tmp_path, """
        from models import Note, User


        def note_counts():
            users = User.query.all()
            builders = {u.id: u.notes.filter(Note.id > 10) for u in users}
            return {u.id: u.notes.count() for u in users}, builders  # want: ORM001
    """)


def test_non_ascii_text_on_the_reported_line(tmp_path):
    check(tmp_path, """
        from models import Order


        def bericht(user_ids):
            for uid in user_ids:
                print("Bestellungen für Nutzer – ✓", Order.query.filter_by(user_id=uid).count())  # want: ORM001
    """)


def test_model_classmethod_called_per_item(tmp_path):
    check(tmp_path, """
        from models import User


        def resolve(emails):
            return [User.by_email(e) for e in emails]  # want: ORM001
    """)


def test_model_method_called_per_row(tmp_path):
    check(tmp_path, """
        from models import User


        def latest_orders():
            return {u.id: u.latest_order() for u in User.query.all()}  # want: ORM001
    """)


def test_model_property_running_a_query_read_per_row(tmp_path):
    check(tmp_path, """
        from models import User


        def open_orders():
            return {u.email: u.open_order_count for u in User.query.all()}  # want: ORM001
    """)


def test_query_builder_helper_executed_per_item(tmp_path):
    check(tmp_path, """
        from models import Order


        def orders_of(uid):
            return Order.query.filter_by(user_id=uid)


        def counts(user_ids):
            return {uid: orders_of(uid).count() for uid in user_ids}  # want: ORM001
    """)


def test_helpers_named_after_a_batch_model(tmp_path):
    check(tmp_path, """
        from models import db


        class ImportBatch(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            status = db.Column(db.String(10), nullable=False)


        class ImportRow(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            batch_id = db.Column(db.Integer, db.ForeignKey("import_batch.id"), nullable=False)


        def batch_status(batch_id):
            return ImportBatch.query.get(batch_id).status


        def pending_batches():
            return ImportBatch.query.filter_by(status="pending").all()


        def run(batch_ids):
            statuses = [batch_status(b) for b in batch_ids]  # want: ORM001
            for batch in pending_batches():
                rows = ImportRow.query.filter_by(batch_id=batch.id).all()  # want: ORM001
                print(len(rows))
            return statuses
    """)


def test_tree_traversal_with_a_work_list(tmp_path):
    check(tmp_path, """
        from models import db


        class Category(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            parent_id = db.Column(db.Integer, db.ForeignKey("category.id"))


        def descendants(root_id):
            found, todo = [], [root_id]
            while todo:
                current = todo.pop()
                children = Category.query.filter_by(parent_id=current).all()  # want: ORM001
                found += children
                todo += [c.id for c in children]
            return found
    """)


def test_work_queue_job_with_retries_and_polling(tmp_path):
    check(tmp_path, """
        import time
        from collections import deque

        from models import Order, User, db

        MAX_ATTEMPTS = 3


        def notify_all(user_ids):
            queue = deque(user_ids)
            while queue:
                uid = queue.popleft()
                user = db.session.get(User, uid)  # want: ORM001
                attempts = 0
                while attempts < MAX_ATTEMPTS:
                    if send(user.email):
                        break
                    attempts += 1
                    time.sleep(2 ** attempts)


        def wait_until_paid(order_id):
            while True:
                order = db.session.get(Order, order_id)
                if order.status == "paid":
                    return order
                time.sleep(5)


        def drain_new_orders():
            pending = Order.query.filter_by(status="new").all()
            while pending:
                order = pending.pop()
                order.status = "paid"
                print(order.user.email)  # want: ORM002
            db.session.commit()


        def send(address):
            return bool(address)
    """)


def test_helper_returning_a_query_run_once_or_per_chunk(tmp_path):
    check(tmp_path, """
        from models import Order


        def paid_orders():
            return Order.query.filter_by(status="paid")


        def orders_of(ids):
            return Order.query.filter(Order.user_id.in_(ids))  # its one caller passes chunks of 500


        def report(user_ids):
            total = paid_orders().count()
            rows = []
            for start in range(0, len(user_ids), 500):
                rows += orders_of(user_ids[start:start + 500]).all()
            for uid in user_ids:
                rows.append(paid_orders().filter_by(user_id=uid).first())  # want: ORM001
            return total, rows
    """)


# === `# noqa` and line numbers ================================================================


def test_noqa_after_a_form_feed_page_break(tmp_path):
    source = (
        "from models import Order\n"
        "\x0c\n"
        "def orders_per_user(user_ids):\n"
        "    for uid in user_ids:\n"
        "        Order.query.filter_by(user_id=uid).all()  # noqa: ORM001\n"
    )
    assert reported(tmp_path, source) == []


def test_noqa_after_a_unicode_line_separator_in_a_docstring(tmp_path):
    source = (
        "from models import Order\n"
        "\n"
        "def orders_per_user(user_ids):\n"
        '    """Orders per user.\u2028One query each, on purpose (tiny table)."""\n'
        "    for uid in user_ids:\n"
        "        Order.query.filter_by(user_id=uid).all()  # noqa: ORM001\n"
    )
    assert reported(tmp_path, source) == []


def test_noqa_without_unusual_line_breaks(tmp_path):
    source = (
        "from models import Order\n"
        "\n"
        "def orders_per_user(user_ids):\n"
        "    for uid in user_ids:\n"
        "        Order.query.filter_by(user_id=uid).all()  # noqa: ORM001\n"
        "        Order.query.filter_by(user_id=uid).count()\n"
    )
    assert reported(tmp_path, source) == [("ORM001", 6)]


DJANGO_MODELS = '''
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)

    def latest_book(self):
        return self.books.order_by("-id").first()

    def shelf(self):
        return self.books.all()


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=80)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
'''


def test_django_lookalikes_and_cached_querysets(tmp_path):
    # Things that look like Django queries and are not, querysets Django answers from a cache,
    # and writes: silent. A model method that runs a query is reported through its chain.
    check(tmp_path, """
        from mongoengine import Document
        from models import Author, Book


        class Registry:
            objects = {}


        class Page(Document):
            pass


        def view(keys, forms, author_ids):
            for key in keys:
                Registry.objects.get(key)
                Page.objects.filter(key=key).first()
            for form in forms:
                print(form.instance.author)
            authors = Author.objects.all()
            for key in keys:
                for author in authors:
                    print(key, author.name)
            for author in Author.objects.all():
                author.name = author.name.title()
                author.save()
                author.refresh_from_db
                Book.objects.create(author=author, title="x")
                print(author.latest_book())  # want: ORM001
                print(author.shelf())
                print(list(author.shelf()))
            for book in Book.objects.all():
                print(book.author_id, book.pk)
            for aid in author_ids[:20]:
                print(Book.objects.filter(author_id=aid).count())
    """, models=DJANGO_MODELS)


# === bounded by a guard, a cache, or a literal helper (reduced from pretix and ckan) ==========


def test_form_save_branch_on_one_field_name(tmp_path):
    # pretix control/forms/item.py: a bulk-edit form's save() branches on one field name while
    # looping over the form's fields (a mapping): the branch, and its queries, run at most once.
    check(tmp_path, """
        from django import forms
        from models import Author, Book


        class BulkBookForm(forms.Form):
            def save(self, books, author_ids):
                for k in self.fields:
                    if k not in self.data.getlist("_bulk"):
                        continue
                    if k == "authors":
                        selected = list(Author.objects.filter(name__startswith=self.cleaned_data["authors"]))
                        for book in books:
                            book.authors.set(selected)
                    elif k in ("title", "price"):
                        Book.objects.filter(title__startswith="draft").update(**{k: self.cleaned_data[k]})
                    else:
                        print(Book.objects.filter(title=k).count())  # want: ORM001
                for key, value in self.cleaned_data.items():
                    if key == "author":
                        print(Author.objects.get(pk=value))
                for aid in author_ids:
                    if aid == 1:
                        print(Author.objects.get(pk=aid))  # want: ORM001
    """, models=DJANGO_MODELS)


def test_loop_over_a_helper_returning_fixed_config_keys(tmp_path):
    # ckan views/admin.py: `for item in _get_config_items(): delete_system_info(item)`, where the
    # helper returns a literal list: a fixed number of queries.
    check(tmp_path, """
        from settings import config_keys, default_keys, keys_of
        from store import delete_setting


        def _get_config_items():
            return [
                "site_title", "theme", "site_description",
            ]


        def reset():
            for item in _get_config_items():
                delete_setting(item)
            for item in config_keys():
                delete_setting(item)
            for item in default_keys():
                delete_setting(item)  # want: ORM001
            for item in keys_of("site"):
                delete_setting(item)  # want: ORM001
    """, extra={
        "settings.py": '''
            KEYS = ("site_title", "theme")


            def config_keys():
                return KEYS + ("site_logo",)


            def default_keys():
                keys = list(KEYS)
                keys.append("site_logo")
                return keys


            def keys_of(prefix):
                return [prefix + "_" + key for key in KEYS]
        ''',
        "store.py": '''
            from models import Setting


            def delete_setting(key):
                Setting.query.filter_by(key=key).delete()
        ''',
        "models.py": '''
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            class Setting(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                key = db.Column(db.String(80), nullable=False)
        ''',
    }, models=None)


def test_url_helper_with_a_cached_domain_lookup(tmp_path):
    # pretix multidomain/urlreverse.py: get_event_domain() reads the domain from an attribute or
    # the object's cache, queries only on a miss, and writes it back to both; a URL built per
    # event in a list costs a cache read, not a query.
    check(tmp_path, """
        from urls import author_url, author_url_uncached


        def listing(authors):
            rows = []
            for author in authors:
                rows.append({"url": author_url(author, fallback=True)})
                rows.append({"url": author_url_uncached(author)})  # want: ORM001
            return rows
    """, models=DJANGO_MODELS, extra={
        "urls.py": '''
            from django.core.cache import cache

            from models import Author, Book


            def get_author_domain(author, fallback=False):
                suffix = "_fallback" if fallback else ""
                domain = getattr(author, "_cached_domain" + suffix, None) or cache.get("domain" + suffix)
                if domain is None:
                    domain = None
                    if fallback:
                        books = Book.objects.filter(author=author)
                        found = [b for b in books if b.title]
                        if found:
                            domain = found[0].title
                    cache.set("domain" + suffix, domain or "none")
                    setattr(author, "_cached_domain" + suffix, domain or "none")
                elif domain == "none":
                    domain = None
                return domain


            def get_author_domain_uncached(author):
                domain = getattr(author, "_cached_domain", None)
                if domain is None:
                    domain = Book.objects.filter(author=author).first()
                    setattr(author, "_domain", domain)
                return domain


            def author_url(author, fallback=False):
                return "https://" + (get_author_domain(author, fallback) or "example.com") + "/"


            def author_url_uncached(author):
                return "https://" + str(get_author_domain_uncached(author)) + "/"
        ''',
    })
