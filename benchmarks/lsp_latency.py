"""How long does an editor wait for ormlens's diagnostics after a keystroke?

This measures one generated, self-contained file; benchmarks/workspace_latency.py measures the same
latency (and the first diagnostics, and a model edit's dependents) on a whole real project.

Starts the real server (`python -m ormlens server`, stdio) and drives it as an editor does: opens a
generated application module of 500, 2,000 and 10,000 lines (Flask-SQLAlchemy / SQLAlchemy 2.0
code, with its models in a separate `models.py` in a temporary directory), then sends one-character
incremental `didChange`s (insert a character at the end of a comment, then delete it, alternating,
so the findings never change) and times each from the moment it is written to the moment the
`publishDiagnostics` for exactly that version arrives. Next to the editor latency it prints the
floor, `ast.parse` of the same text, and the in-process analysis time (`engine.analyze` on a
ProjectIndex after `set_source` of a changed text, so nothing is cached), both medians of repeated
runs in this process, and their ratio.

    .venv/bin/python benchmarks/lsp_latency.py [--sizes 500,2000,10000] [--edits 30] [--profile 2000]

`--profile N` also prints the top 10 functions by tottime of one `analyze` of the N-line module.
Targets (not asserted): p95 <= 50 ms at 2,000 lines; analysis <= 3x ast.parse.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import cProfile
import gc
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pygls.lsp.client import LanguageClient

from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings
from ormlens.engine import analyze

SERVER = [sys.executable, "-m", "ormlens", "server"]
PUBLISH_TIMEOUT = 30.0        # seconds to wait for one publish before giving up on a size
WARMUP_EDITS = 2              # edits after the open that are not counted
LSP_BUDGET = 20.0             # seconds of edits per size, at most (fewer edits when slow)
INPROCESS_BUDGET = 4.0        # seconds of repeated parses / analyses per size, at most

# --- the generated project ------------------------------------------------------------------------

MODELS = '''\
"""Domain models of the shop backend: customers, orders, billing, catalogue, stock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

product_tags = db.Table(
    "product_tags",
    db.Column("product_id", db.Integer, db.ForeignKey("product.id"), primary_key=True),
    db.Column("tag_id", db.Integer, db.ForeignKey("tag.id"), primary_key=True),
)


class Customer(db.Model):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[Optional[str]] = mapped_column(String(32))
    credit_limit: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime]
    orders: Mapped[list["Order"]] = relationship(back_populates="customer")
    invoices: Mapped[list["Invoice"]] = relationship(back_populates="customer")
    addresses: Mapped[list["Address"]] = relationship(lazy="selectin")


class Address(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    customer_id = db.Column(db.Integer, db.ForeignKey("customer.id"), nullable=False)
    city = db.Column(db.String(80), nullable=False)
    postcode = db.Column(db.String(16))
    is_default = db.Column(db.Boolean, nullable=False, default=False)


class Order(db.Model):
    __tablename__ = "order"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    placed_at: Mapped[datetime]
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    customer: Mapped["Customer"] = relationship(back_populates="orders")
    items: Mapped[list["OrderItem"]] = relationship(back_populates="order")
    shipments = relationship("Shipment", backref="order")


class OrderItem(db.Model):
    __tablename__ = "order_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    order: Mapped["Order"] = relationship(back_populates="items")
    product: Mapped["Product"] = relationship()


class Product(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    sku = db.Column(db.String(32), unique=True, nullable=False)
    name = db.Column(db.String(200), nullable=False)
    price = db.Column(db.Numeric(12, 2), nullable=False)
    cost = db.Column(db.Numeric(12, 2))
    warehouse_id = db.Column(db.Integer, db.ForeignKey("warehouse.id"))
    reviews = db.relationship("Review", back_populates="product")
    tags = db.relationship("Tag", secondary=product_tags, lazy="selectin")


class Review(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.Integer, db.ForeignKey("product.id"), nullable=False)
    customer_id = db.Column(db.Integer, db.ForeignKey("customer.id"), nullable=False)
    rating = db.Column(db.Integer)
    helpful_votes = db.Column(db.Integer, nullable=False, default=0)
    body = db.Column(db.Text)
    product = db.relationship("Product", back_populates="reviews")


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), unique=True, nullable=False)


class Invoice(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    customer_id = db.Column(db.Integer, db.ForeignKey("customer.id"), nullable=False)
    number = db.Column(db.String(20), unique=True, nullable=False)
    issued_at = db.Column(db.DateTime, nullable=False)
    total = db.Column(db.Numeric(12, 2), nullable=False)
    tax = db.Column(db.Numeric(12, 2))
    customer = db.relationship("Customer", back_populates="invoices")
    payments = db.relationship("Payment", back_populates="invoice")


class Payment(db.Model):
    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    amount: Mapped[Optional[Decimal]] = mapped_column(Numeric(12, 2))
    fee: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    received_at: Mapped[Optional[datetime]]
    invoice: Mapped["Invoice"] = relationship(back_populates="payments")


class Shipment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.Integer, db.ForeignKey("order.id"), nullable=False)
    carrier = db.Column(db.String(40), nullable=False)
    cost = db.Column(db.Numeric(10, 2))
    weight_kg = db.Column(db.Numeric(8, 3), nullable=False)


class Warehouse(db.Model):
    __tablename__ = "warehouse"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    city: Mapped[str]
    stock_levels: Mapped[list["StockLevel"]] = relationship(back_populates="warehouse")


class StockLevel(db.Model):
    __tablename__ = "stock_level"
    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    on_hand: Mapped[int]
    reserved: Mapped[Optional[int]]
    warehouse: Mapped["Warehouse"] = relationship(back_populates="stock_levels")
    product: Mapped["Product"] = relationship()
'''

HEADER = '''\
"""{title}"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from flask import Blueprint, abort, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Address,
    Customer,
    Invoice,
    Order,
    OrderItem,
    Payment,
    Product,
    Review,
    Shipment,
    StockLevel,
    Tag,
    Warehouse,
    db,
)

log = logging.getLogger(__name__)
bp = Blueprint("{blueprint}", __name__)

PAGE_SIZE = 50
CHUNK = 500
ALLOWED_FIELDS = frozenset({{"status", "carrier", "city", "postcode", "rating", "body", "code"}})
'''


@dataclass(frozen=True)
class Pair:
    """A one-to-many pair of models: what the templates are written over."""

    parent: str
    child: str
    fk: str          # on the child
    coll: str        # the parent's lazy collection of children
    back: str        # the child's lazy reference to its parent
    nullable: str    # a nullable numeric column of the child
    solid: str       # a NOT NULL numeric column of the child
    plabel: str      # a display column of the parent
    clabel: str      # a display column of the child
    p: str           # snake name of the parent
    c: str           # snake name of the child (plural)


PAIRS = [
    Pair("Customer", "Order", "customer_id", "orders", "customer", "discount", "total", "email", "status",
         "customer", "orders"),
    Pair("Order", "OrderItem", "order_id", "items", "order", "discount", "quantity", "status", "product_id",
         "order", "items"),
    Pair("Invoice", "Payment", "invoice_id", "payments", "invoice", "amount", "fee", "number", "received_at",
         "invoice", "payments"),
    Pair("Order", "Shipment", "order_id", "shipments", "order", "cost", "weight_kg", "status", "carrier",
         "order", "shipments"),
    Pair("Product", "Review", "product_id", "reviews", "product", "rating", "helpful_votes", "sku", "body",
         "product", "reviews"),
    Pair("Warehouse", "StockLevel", "warehouse_id", "stock_levels", "warehouse", "reserved", "on_hand", "code",
         "product_id", "warehouse", "stock_levels"),
    Pair("Customer", "Invoice", "customer_id", "invoices", "customer", "tax", "total", "email", "number",
         "customer", "invoices"),
]

QUALIFIERS = ["", "_for_export", "_by_region", "_for_dashboard", "_nightly", "_legacy", "_v2", "_admin",
              "_for_report", "_batch", "_recent", "_for_api", "_internal", "_audit", "_summary", "_page"]
SECTIONS = ["customers", "orders", "billing", "fulfilment", "catalogue", "stock", "reporting", "admin",
            "exports", "notifications", "reconciliation", "analytics", "support tools", "housekeeping"]


class Names:
    """Unique, varied function and class names."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self, *stems: str) -> str:
        stem = self.rng.choice(stems)
        for qualifier in [*self.rng.sample(QUALIFIERS, 4), *(f"_{n}" for n in range(2, 10_000))]:
            if stem + qualifier not in self.used:
                self.used.add(stem + qualifier)
                return stem + qualifier
        raise AssertionError("out of names")


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


# Each template: (weight, expected codes, function(pair, names, rng) -> source).
def t_route_list(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"list_{p.c}", f"{p.c}_page", f"get_{p.p}_{p.c}")
    order = rng.choice(["id.desc()", "id", f"{p.fk}"])
    return f'''
@bp.route("/{p.p}s/<int:{p.p}_id>/{name}")
def {name}({p.p}_id: int):
    page = request.args.get("page", 1, type=int)
    stmt = (
        select({p.child})
        .where({p.child}.{p.fk} == {p.p}_id)
        .order_by({p.child}.{order})
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = db.session.scalars(stmt).all()
    return jsonify([{{"id": row.id, "{p.clabel}": str(row.{p.clabel})}} for row in rows])
'''


def t_grouped_chunked(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"group_{p.c}_by_{p.p}", f"{p.c}_by_{p.p}", f"load_{p.c}_grouped")
    return f'''
def {name}({p.p}_ids: list[int]) -> dict[int, list[{p.child}]]:
    """{p.child} rows per {p.p}, fetched in chunks of distinct ids."""
    grouped: dict[int, list[{p.child}]] = defaultdict(list)
    distinct = list(dict.fromkeys({p.p}_ids))
    for start in range(0, len(distinct), 1000):
        chunk = distinct[start:start + 1000]
        for row in {p.child}.query.filter({p.child}.{p.fk}.in_(chunk)).all():
            grouped[row.{p.fk}].append(row)
    return grouped
'''


def t_eager_loop(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.p}_{p.c}_counts", f"summarise_{p.p}s", f"{p.p}_overview")
    loader = rng.choice(["selectinload", "joinedload"])
    unique = ".unique()" if loader == "joinedload" else ""
    return f'''
def {name}(session: Session, limit: int = 100) -> list[dict]:
    stmt = select({p.parent}).options({loader}({p.parent}.{p.coll})).limit(limit)
    out = []
    for parent in session.scalars(stmt){unique}:
        children = parent.{p.coll}
        out.append({{
            "id": parent.id,
            "label": parent.{p.plabel},
            "count": len(children),
            "first": children[0].id if children else None,
        }})
    return out
'''


def t_joined_back(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.c}_with_{p.p}", f"annotate_{p.c}", f"{p.c}_labels")
    return f'''
def {name}(since: datetime | None = None) -> list[tuple[int, str]]:
    query = {p.child}.query.options(joinedload({p.child}.{p.back}))
    if since is not None:
        query = query.filter({p.child}.id > 0)
    labels = []
    for row in query.all():
        # the {p.p} came with the row: no query per row
        labels.append((row.id, row.{p.back}.{p.plabel}))
    return labels
'''


def t_safe_sum(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"total_{p.solid}", f"{p.c}_totals", f"sum_{p.c}")
    return f'''
def {name}(rows: list[{p.child}]) -> tuple[Decimal, Decimal]:
    base = sum(row.{p.solid} for row in rows)
    extra = sum((row.{p.nullable} or 0) for row in rows)
    known = sum(row.{p.nullable} for row in rows if row.{p.nullable} is not None)
    log.debug("%s rows, base %s, known %s", len(rows), base, known)
    return base, extra
'''


def t_aggregate(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.nullable}_per_{p.p}", f"{p.p}_{p.nullable}_totals", f"aggregate_{p.c}")
    days = rng.choice([7, 30, 90, 365])
    return f'''
def {name}(session: Session) -> dict[int, Decimal]:
    """Sum in the database: NULLs are skipped there, and one round-trip does it all."""
    cutoff = datetime.utcnow() - timedelta(days={days})
    stmt = (
        select({p.child}.{p.fk}, func.coalesce(func.sum({p.child}.{p.nullable}), 0))
        .where({p.child}.id > 0)
        .group_by({p.child}.{p.fk})
    )
    totals = {{key: total for key, total in session.execute(stmt)}}
    log.info("aggregated %d groups since %s", len(totals), cutoff)
    return totals
'''


PURE = [
    '''
def {name}(values: list[str], width: int = {width}) -> str:
    cleaned = [v.strip() for v in values if v and not v.isspace()]
    lines = []
    for value in cleaned:
        if len(value) > width:
            value = value[: width - 1] + "~"
        lines.append(value.ljust(width))
    return "\\n".join(lines)
''',
    '''
def {name}(raw: dict) -> tuple[datetime, datetime]:
    """Parse ?from=&to= (ISO dates); default to the last {width} days."""
    end = datetime.fromisoformat(raw["to"]) if raw.get("to") else datetime.utcnow()
    start = datetime.fromisoformat(raw["from"]) if raw.get("from") else end - timedelta(days={width})
    if start > end:
        start, end = end, start
    return start, end
''',
    '''
def {name}(amount: Decimal | None, currency: str = "EUR") -> str:
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{{abs(amount):.2f}}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{{sign}}{{','.join(groups)}}.{{cents}} {{currency}}"
''',
    '''
def {name}(rows: list[dict], key: str) -> dict[str, list[dict]]:
    buckets: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        buckets[str(row.get(key, ""))].append(row)
    return {{k: sorted(v, key=lambda r: r.get("id", 0)) for k, v in buckets.items() if len(v) <= {width}}}
''',
]


def t_pure(p: Pair, n: Names, rng: random.Random) -> str:
    index = rng.randrange(len(PURE))
    stems = [["format_column", "wrap_labels", "pad_values"], ["parse_date_range", "period_from_args"],
             ["format_money", "money_label"], ["bucket_rows", "group_dicts"]][index]
    return PURE[index].format(name=n(*stems), width=rng.choice([12, 24, 30, 40, 80]))


def t_repository(p: Pair, n: Names, rng: random.Random) -> str:
    cls = camel(n(f"{p.child}_repository", f"{p.child}_store", f"{p.child}_gateway"))
    return f'''
class {cls}:
    """Data access for {p.child} rows."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, row_id: int) -> {p.child} | None:
        return self.session.get({p.child}, row_id)

    def for_{p.p}(self, {p.p}_id: int) -> list[{p.child}]:
        stmt = select({p.child}).where({p.child}.{p.fk} == {p.p}_id).order_by({p.child}.id)
        return list(self.session.scalars(stmt))

    def add(self, row: {p.child}) -> {p.child}:
        self.session.add(row)
        self.session.flush()
        return row
'''


def t_bounded_loop(p: Pair, n: Names, rng: random.Random) -> str:
    name = n("status_counts", "order_status_breakdown", "count_by_status")
    statuses = rng.sample(["pending", "paid", "shipped", "cancelled", "refunded", "on_hold"], 4)
    return f'''
def {name}() -> dict[str, int]:
    counts = {{}}
    for status in {tuple(statuses)!r}:
        counts[status] = Order.query.filter_by(status=status).count()
    return counts
'''


def t_single_fetch(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.child.lower()}_detail", f"show_{p.child.lower()}", f"get_{p.child.lower()}")
    return f'''
def {name}(row_id: int) -> dict:
    row = db.session.get({p.child}, row_id)
    if row is None:
        abort(404)
    parent = row.{p.back}
    return {{"id": row.id, "{p.p}": parent.id, "label": parent.{p.plabel}, "value": str(row.{p.clabel})}}
'''


def t_create(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"create_{p.child.lower()}", f"add_{p.child.lower()}", f"new_{p.child.lower()}")
    return f'''
def {name}(payload: dict) -> {p.child}:
    fields = {{key: value for key, value in payload.items() if key in ALLOWED_FIELDS}}
    row = {p.child}(**fields)
    db.session.add(row)
    db.session.commit()
    log.info("created {p.child} %s", row.id)
    return row
'''


def t_group_once(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.p}_{p.c}_index", f"index_{p.c}", f"{p.c}_lookup")
    return f'''
def {name}(session: Session) -> list[tuple[{p.parent}, int]]:
    children = session.scalars(select({p.child})).all()
    by_parent: dict[int, list[{p.child}]] = defaultdict(list)
    for child in children:
        by_parent[child.{p.fk}].append(child)
    parents = session.scalars(select({p.parent})).all()
    return [(parent, len(by_parent.get(parent.id, []))) for parent in parents]
'''


def t_addresses(p: Pair, n: Names, rng: random.Random) -> str:
    name = n("default_addresses", "customer_cities", "shipping_labels")
    return f'''
def {name}() -> dict[int, str]:
    cities = {{}}
    for customer in Customer.query.filter(Customer.region.isnot(None)).all():
        # addresses are lazy="selectin": loaded with the customers
        default = next((a for a in customer.addresses if a.is_default), None)
        cities[customer.id] = default.city if default else ""
    return cities
'''


def t_orm001(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"count_{p.c}_per_{p.p}", f"{p.c}_per_{p.p}", f"{p.p}_{p.c}_sizes")
    if rng.random() < 0.5:
        return f'''
def {name}({p.p}_ids: list[int]) -> dict[int, int]:
    result = {{}}
    for {p.p}_id in {p.p}_ids:
        rows = {p.child}.query.filter_by({p.fk}={p.p}_id).all()
        result[{p.p}_id] = len(rows)
    return result
'''
    return f'''
def {name}(session: Session, {p.p}_ids: list[int]) -> dict[int, {p.child} | None]:
    return {{
        pid: session.scalars(select({p.child}).where({p.child}.{p.fk} == pid).limit(1)).first()
        for pid in {p.p}_ids
    }}
'''


def t_orm001_helper(p: Pair, n: Names, rng: random.Random) -> str:
    helper = "_" + n(f"{p.c}_of_{p.p}", f"fetch_{p.c}", f"{p.p}_{p.c}")
    name = n(f"{p.p}_report", f"{p.c}_report", f"report_{p.p}s")
    return f'''
def {helper}({p.p}_id: int) -> list[{p.child}]:
    return db.session.scalars(select({p.child}).where({p.child}.{p.fk} == {p.p}_id)).all()


def {name}(parents: list[{p.parent}]) -> list[tuple[str, int]]:
    report = []
    for parent in parents:
        children = {helper}(parent.id)
        report.append((parent.{p.plabel}, len(children)))
    return report
'''


def t_orm002(p: Pair, n: Names, rng: random.Random) -> str:
    if rng.random() < 0.5:
        name = n(f"dump_{p.p}_{p.c}", f"{p.p}_{p.c}_lines", f"export_{p.c}")
        return f'''
def {name}() -> list[str]:
    lines = []
    for parent in {p.parent}.query.filter({p.parent}.id > 0).all():
        for child in parent.{p.coll}:
            lines.append(f"{{parent.id}};{{child.id}}")
    return lines
'''
    name = n(f"{p.c}_with_{p.p}_labels", f"label_{p.c}", f"{p.c}_csv")
    return f'''
def {name}(session: Session) -> list[tuple[int, str]]:
    rows = session.scalars(select({p.child}).order_by({p.child}.id)).all()
    return [(row.id, row.{p.back}.{p.plabel}) for row in rows]
'''


def t_orm003(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"match_{p.c}", f"{p.c}_for_each_{p.p}", f"pair_{p.p}_{p.c}")
    return f'''
def {name}(session: Session, {p.p}_ids: list[int]) -> dict[int, list[{p.child}]]:
    children = session.scalars(select({p.child})).all()
    out = {{}}
    for pid in {p.p}_ids:
        out[pid] = [c for c in children if c.{p.fk} == pid]
    return out
'''


def t_orm004(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.c}_for_{p.p}s", f"bulk_{p.c}", f"load_{p.c}")
    if rng.random() < 0.5:
        return f'''
def {name}({p.p}_ids: list[int]) -> list[{p.child}]:
    return {p.child}.query.filter({p.child}.{p.fk}.in_({p.p}_ids)).order_by({p.child}.id).all()
'''
    return f'''
def {name}(session: Session) -> list[{p.child}]:
    parents = session.scalars(select({p.parent}).where({p.parent}.id > 0)).all()
    ids = [parent.id for parent in parents]
    return session.scalars(select({p.child}).where({p.child}.{p.fk}.in_(ids))).all()
'''


def t_orm005(p: Pair, n: Names, rng: random.Random) -> str:
    name = n(f"{p.nullable}_total", f"sum_{p.nullable}", f"{p.c}_{p.nullable}")
    if rng.random() < 0.5:
        return f'''
def {name}(rows: list[{p.child}]) -> Decimal:
    return sum(row.{p.nullable} for row in rows)
'''
    return f'''
def {name}({p.p}_id: int) -> Decimal:
    rows = {p.child}.query.filter_by({p.fk}={p.p}_id).all()
    total = sum(r.{p.nullable} for r in rows)
    log.debug("{p.p} %s: %s", {p.p}_id, total)
    return total
'''


TEMPLATES = [  # (weight, codes it should produce, template)
    (10, (), t_route_list), (8, (), t_grouped_chunked), (8, (), t_eager_loop), (6, (), t_joined_back),
    (6, (), t_safe_sum), (6, (), t_aggregate), (12, (), t_pure), (5, (), t_repository),
    (2, (), t_bounded_loop), (6, (), t_single_fetch), (5, (), t_create), (5, (), t_group_once),
    (2, (), t_addresses),
    (2, ("ORM001",), t_orm001), (2, ("ORM001",), t_orm001_helper), (2, ("ORM002",), t_orm002),
    (1, ("ORM003",), t_orm003), (2, ("ORM004",), t_orm004), (2, ("ORM005",), t_orm005),
]


@dataclass
class Module:
    text: str
    lines: int
    edit_line: int          # 0-based line of the comment edited
    edit_column: int        # where the character goes (end of that comment)
    expected: Counter = field(default_factory=Counter)


def generate(target_lines: int, seed: int) -> Module:
    rng = random.Random(seed)
    names = Names(rng)
    chunks = [HEADER.format(title=f"Shop backend services ({target_lines}-line benchmark module).",
                            blueprint=f"shop{target_lines}")]
    count = chunks[0].count("\n")
    expected: Counter = Counter()
    edit_line = edit_column = -1
    weights = [w for w, _, _ in TEMPLATES]
    section = 0
    buggy = [entry for entry in TEMPLATES if entry[1]]
    forced = [(target_lines * (k + 1) // (len(buggy) + 1), entry) for k, entry in enumerate(rng.sample(buggy, len(buggy)))]
    while count < target_lines:
        if section == 0 or rng.random() < 0.04 or (edit_line < 0 and count >= target_lines // 2):
            title = SECTIONS[section % len(SECTIONS)]
            header = f"\n\n# --- {title} " + "-" * (96 - len(title) - 7) + "\n"
            if edit_line < 0 and count >= target_lines // 2:
                # The edited comment sits mid-module; its end is where the character goes.
                header = f"\n\n# --- {title}: keep in step with the API docs " + "-" * 20 + "\n"
                edit_line = count + 2
                edit_column = len(header.rstrip("\n").splitlines()[-1])
            chunks.append(header)
            count += header.count("\n")
            section += 1
        if forced and count >= forced[0][0]:  # each bug pattern at least once, spread out
            _, codes, template = forced.pop(0)[1]
        else:
            _, codes, template = rng.choices(TEMPLATES, weights)[0]
        source = "\n" + template(rng.choice(PAIRS), names, rng)
        chunks.append(source)
        count += source.count("\n")
        expected.update(codes)
    text = "".join(chunks)
    assert text.splitlines()[edit_line].startswith("# --- "), text.splitlines()[edit_line]
    return Module(text, text.count("\n"), edit_line, edit_column, expected)


def edited(module: Module, inserted: bool) -> str:
    lines = module.text.split("\n")
    if inserted:
        line = lines[module.edit_line]
        lines[module.edit_line] = line[:module.edit_column] + "x" + line[module.edit_column:]
    return "\n".join(lines)


# --- in-process measurements ----------------------------------------------------------------------

def median_parse_ms(text: str) -> float:
    times = []
    deadline = time.perf_counter() + INPROCESS_BUDGET / 2
    while len(times) < 5 or (len(times) < 40 and time.perf_counter() < deadline):
        gc.disable()  # as ProjectIndex.decl parses: the floor is the parse and nothing else
        start = time.perf_counter()
        ast.parse(text)
        times.append(time.perf_counter() - start)
        gc.enable()
    return statistics.median(times) * 1000


def median_analysis_ms(root: Path, path: Path, module: Module) -> tuple[float, Counter]:
    project = ProjectIndex(root, Settings())
    settings = Settings()
    times = []
    codes: Counter = Counter()
    deadline = time.perf_counter() + INPROCESS_BUDGET
    while len(times) < 5 or (len(times) < 30 and time.perf_counter() < deadline):
        project.set_source(str(path), edited(module, inserted=len(times) % 2 == 1))  # never cached
        start = time.perf_counter()
        findings, error = analyze(project, str(path), settings)
        times.append(time.perf_counter() - start)
        if error:
            raise RuntimeError(error)
        codes = Counter(f.code for f in findings)
    return statistics.median(times) * 1000, codes


def profile_analysis(root: Path, path: Path, module: Module, top: int = 10) -> str:
    project = ProjectIndex(root, Settings())
    project.set_source(str(path), edited(module, inserted=True))
    analyze(project, str(path), Settings())  # warm: models.py parsed, imports done
    project.set_source(str(path), module.text)
    profiler = cProfile.Profile()
    profiler.enable()
    analyze(project, str(path), Settings())
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- the editor -----------------------------------------------------------------------------------

class Editor:
    """One server process, driven over stdio with pygls's client."""

    def __init__(self, root: Path):
        self.root = root
        self.client = LanguageClient("ormlens-latency-bench", "1")
        self.waiting: dict[tuple[str, int], asyncio.Future] = {}
        self.stderr: list[str] = []
        self.stray = 0  # publishes for versions nobody waits for
        self.messages: list[str] = []  # warnings and errors the server logged or showed

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: lsp.PublishDiagnosticsParams) -> None:
            now = time.perf_counter()
            future = self.waiting.pop((params.uri, params.version), None)
            if future is None or future.done():
                if params.version is not None or params.diagnostics:  # not the clearing on close
                    self.stray += 1
                return
            future.set_result((now, params.diagnostics))

        @self.client.feature(lsp.WINDOW_LOG_MESSAGE)
        def logged(params: lsp.LogMessageParams) -> None:
            if params.type in (lsp.MessageType.Error, lsp.MessageType.Warning):
                self.messages.append(params.message)

        @self.client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def shown(params: lsp.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def start(self) -> None:
        await self.client.start_io(*SERVER, cwd=str(self.root))
        process = getattr(self.client, "_server", None)
        if process is not None and process.stderr is not None:
            self.drain = asyncio.ensure_future(self._drain(process.stderr))
        capabilities = lsp.ClientCapabilities(
            text_document=lsp.TextDocumentClientCapabilities(
                synchronization=lsp.TextDocumentSyncClientCapabilities(did_save=True),
                publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True)),
            general=lsp.GeneralClientCapabilities(position_encodings=[lsp.PositionEncodingKind.Utf16]))
        result = await asyncio.wait_for(self.client.initialize_async(lsp.InitializeParams(
            capabilities=capabilities, process_id=None, root_uri=uris.from_fs_path(str(self.root)))), 30)
        sync = result.capabilities.text_document_sync
        kind = sync.change if isinstance(sync, lsp.TextDocumentSyncOptions) else sync
        if kind != lsp.TextDocumentSyncKind.Incremental:
            raise RuntimeError(f"server does not take incremental changes (sync {kind})")
        self.client.initialized(lsp.InitializedParams())

    async def _drain(self, stream) -> None:
        while line := await stream.readline():
            self.stderr = [*self.stderr[-20:], line.decode(errors="replace").rstrip()]

    def expect(self, uri: str, version: int) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[(uri, version)] = future
        return future

    async def wait(self, future: asyncio.Future, what: str):
        try:
            return await asyncio.wait_for(future, PUBLISH_TIMEOUT)
        except asyncio.TimeoutError:
            tail = "\n    ".join(self.stderr[-5:])
            raise RuntimeError(f"no publishDiagnostics for {what} within {PUBLISH_TIMEOUT:.0f} s"
                               + (f"; server stderr:\n    {tail}" if tail else "")) from None

    async def open(self, uri: str, text: str) -> tuple[float, int]:
        future = self.expect(uri, 1)
        start = time.perf_counter()
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        when, diagnostics = await self.wait(future, f"{uri} version 1")
        return (when - start) * 1000, len(diagnostics)

    async def keystroke(self, uri: str, version: int, line: int, column: int, insert: bool) -> tuple[float, int]:
        if insert:
            change = lsp.TextDocumentContentChangePartial(
                range=lsp.Range(lsp.Position(line, column), lsp.Position(line, column)), text="x")
        else:
            change = lsp.TextDocumentContentChangePartial(
                range=lsp.Range(lsp.Position(line, column), lsp.Position(line, column + 1)), text="")
        future = self.expect(uri, version)
        start = time.perf_counter()
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change]))
        when, diagnostics = await self.wait(future, f"version {version}")
        return (when - start) * 1000, len(diagnostics)

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            lsp.TextDocumentIdentifier(uri=uri)))

    async def stop(self) -> None:
        process = getattr(self.client, "_server", None)
        try:
            if process is not None and process.returncode is None:
                await asyncio.wait_for(self.client.shutdown_async(None), 5)
                self.client.exit(None)
                await asyncio.wait_for(process.wait(), 5)
        except Exception:  # noqa: BLE001 - whatever went wrong, the process must not outlive us
            pass
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            try:
                await asyncio.wait_for(self.client.stop(), 5)
            except Exception:  # noqa: BLE001
                pass


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p95 of 30 samples is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass
class Row:
    lines: int
    findings: int
    by_code: Counter
    expected: Counter
    parse_ms: float
    analysis_ms: float
    open_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    problem: str = ""


async def run(sizes: list[int], edits: int, profile: int | None) -> int:
    gc.set_threshold(100_000, 50, 100)  # as `ormlens` (and so the server) sets it
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ormlens-latency-") as tmp:
        root = Path(tmp).resolve()
        (root / "models.py").write_text(MODELS)
        modules = {}
        for size in sizes:
            module = generate(size, seed=size)
            path = root / f"services_{size}.py"
            path.write_text(module.text)
            modules[size] = (module, path)
            parse_ms = median_parse_ms(module.text)
            analysis_ms, codes = median_analysis_ms(root, path, module)
            rows.append(Row(module.lines, sum(codes.values()), codes, module.expected, parse_ms, analysis_ms))

        editor = Editor(root)
        try:
            await editor.start()
            for row, size in zip(rows, sizes):
                module, path = modules[size]
                uri = uris.from_fs_path(str(path))
                try:
                    row.open_ms, published = await editor.open(uri, module.text)
                except RuntimeError as exc:
                    row.problem = str(exc)
                    break
                # Fewer edits when each one is slow, so the whole run stays around a minute.
                count = max(6, min(edits, int(LSP_BUDGET * 1000 / max(row.open_ms, 1))))
                version = 1
                for index in range(WARMUP_EDITS + count):
                    version += 1
                    try:
                        ms, found = await editor.keystroke(uri, version, module.edit_line, module.edit_column,
                                                           insert=index % 2 == 0)
                    except RuntimeError as exc:
                        row.problem = str(exc)
                        break
                    if found != published:
                        row.problem = f"version {version} published {found} diagnostics, the open {published}"
                    if index >= WARMUP_EDITS:
                        row.latencies.append(ms)
                editor.close(uri)
                if row.problem.startswith("no publishDiagnostics"):
                    break  # the server is stuck: the later sizes would time out too
                if published != row.findings and not row.problem:
                    row.problem = f"the server published {published} diagnostics, analyze found {row.findings}"
        finally:
            await editor.stop()

        print(f"ormlens LSP latency: one-character didChange -> publishDiagnostics of that version "
              f"(server: {' '.join(SERVER[1:])}; {WARMUP_EDITS} warm-up edits not counted)")
        print(f"{'lines':>6} {'findings':>9} {'ast.parse ms':>13} {'analysis ms':>12} {'ratio':>6} "
              f"{'lsp p50 ms':>11} {'p95 ms':>7} {'max ms':>7} {'edits':>6} {'open ms':>8}")
        for row in rows:
            if row.latencies:
                lsp_cols = (f"{statistics.median(row.latencies):>11.1f} {percentile(row.latencies, 95):>7.1f} "
                            f"{max(row.latencies):>7.1f} {len(row.latencies):>6}")
            else:
                lsp_cols = f"{'-':>11} {'-':>7} {'-':>7} {0:>6}"
            print(f"{row.lines:>6} {row.findings:>9} {row.parse_ms:>13.2f} {row.analysis_ms:>12.1f} "
                  f"{row.analysis_ms / row.parse_ms:>5.1f}x {lsp_cols} {row.open_ms:>8.1f}")
        print()
        for row in rows:
            found = " ".join(f"{c}:{n}" for c, n in sorted(row.by_code.items())) or "none"
            meant = " ".join(f"{c}:{n}" for c, n in sorted(row.expected.items())) or "none"
            print(f"{row.lines:>6} lines: findings {found}  (generated to produce {meant})")
        problems = [(row.lines, row.problem) for row in rows if row.problem]
        for lines, problem in problems:
            print(f"PROBLEM at {lines} lines: {problem}")
        if editor.stray:
            print(f"note: {editor.stray} publishDiagnostics for versions not waited for")
        for message in editor.messages[:5]:
            print(f"server said: {message}")
        by_size = {row.lines: row for row in rows}
        near_2000 = min(by_size, key=lambda n: abs(n - 2000))
        if near_2000 and by_size[near_2000].latencies:
            p95 = percentile(by_size[near_2000].latencies, 95)
            print(f"target p95 <= 50 ms at ~2,000 lines: {p95:.1f} ms ({'met' if p95 <= 50 else 'NOT met'})")
        worst = max(rows, key=lambda r: r.analysis_ms / r.parse_ms)
        print(f"target analysis <= 3x ast.parse: worst {worst.analysis_ms / worst.parse_ms:.1f}x at {worst.lines} lines "
              f"({'met' if worst.analysis_ms <= 3 * worst.parse_ms else 'NOT met'})")
        if profile is not None:
            size = min(modules, key=lambda s: abs(s - profile))
            module, path = modules[size]
            print(f"\ncProfile of one analyze() of the {module.lines}-line module, top 10 by tottime:")
            print(profile_analysis(root, path, module))
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000,10000", help="module sizes in lines (comma-separated)")
    parser.add_argument("--edits", type=int, default=30, help="counted edits per size (fewer when slow)")
    parser.add_argument("--profile", type=int, metavar="LINES", help="cProfile analyze() on that module too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    status = asyncio.run(run(sizes, args.edits, args.profile))
    print(f"total {time.perf_counter() - started:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
