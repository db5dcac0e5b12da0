"""ORM002 examples for loops other than `for`: `while` loops that consume rows, `map()`, nested
loops, and template helpers. A line marked `# expect:` must be reported with that code on that
exact expression; no other line may be. This file is analysed, never imported."""
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import joinedload, selectinload

app = Flask(__name__)
db = SQLAlchemy()


class LoopShop(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    products = db.relationship("LoopProduct", back_populates="shop")


class LoopSupplier(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class LoopProduct(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    shop_id = db.Column(db.Integer, db.ForeignKey("loop_shop.id"), nullable=False)
    supplier_id = db.Column(db.Integer, db.ForeignKey("loop_supplier.id"), nullable=False)
    shop = db.relationship("LoopShop", back_populates="products")
    supplier = db.relationship("LoopSupplier")


# --- must be reported ---------------------------------------------------------------------------


def pop_rows():
    shops = LoopShop.query.all()
    while shops:
        shop = shops.pop()
        print(shop.products)  # expect: ORM002 "shop.products"


def next_rows():
    it = iter(LoopShop.query.order_by(LoopShop.name).all())
    while (shop := next(it, None)) is not None:
        print(len(shop.products))  # expect: ORM002 "shop.products"


def map_rows():
    return list(map(lambda shop: len(shop.products), LoopShop.query.all()))  # expect: ORM002 "shop.products"


def nested_rows():
    for shop in LoopShop.query.options(selectinload(LoopShop.products)).all():
        for product in shop.products:
            print(product.supplier.name)  # expect: ORM002 "product.supplier"


@app.template_filter("supplier_names")
def supplier_names(shop_id):
    products = LoopProduct.query.filter_by(shop_id=shop_id).all()
    return ", ".join(p.supplier.name for p in products)  # expect: ORM002 "p.supplier"


@app.route("/shops")
def shops_page():
    shops = LoopShop.query.all()
    rows = [{"name": s.name, "count": len(s.products)} for s in shops]  # expect: ORM002 "s.products"
    return render_template("shops.html", rows=rows)


def enumerate_rows(session):
    for index, product in enumerate(LoopProduct.query.filter(LoopProduct.shop_id > 0)):
        print(index, product.supplier.name)  # expect: ORM002 "product.supplier"
    for index, (product, label) in enumerate(zip(LoopProduct.query.all(), iter(str, "x"))):
        print(index, label, product.shop.name)  # expect: ORM002 "product.shop"


# --- must not be reported ------------------------------------------------------------------------


def enumerate_eager_rows():
    products = LoopProduct.query.options(joinedload(LoopProduct.supplier), joinedload(LoopProduct.shop))
    for index, product in enumerate(products):
        print(index, product.supplier.name)
    for product, label in zip(products.all(), ["a", "b"]):  # zip stops at the shorter: two rows
        print(label, product.shop.name)


def pop_eager_rows():
    shops = LoopShop.query.options(selectinload(LoopShop.products)).all()
    while shops:
        shop = shops.pop()
        print(shop.products)


def nested_eager_rows():
    shops = LoopShop.query.options(selectinload(LoopShop.products).joinedload(LoopProduct.supplier)).all()
    for shop in shops:
        for product in shop.products:
            print(product.supplier.name, product.shop.name)


def polling_one_row(shop_id, stop):
    while not stop():
        shop = LoopShop.query.get(shop_id)
        print(shop.products)


def one_row_popped_from_a_literal(a: LoopShop, b: LoopShop):
    pending = [a, b]
    while pending:
        shop = pending.pop()
        print(shop.products)


def shops_with_products():
    return LoopShop.query.options(joinedload(LoopShop.products))


def rows_of_a_helper_query():
    for shop in shops_with_products():
        print(shop.products)


@app.template_filter("shop_label")
def shop_label(shop):
    return f"{shop.name} ({len(shop.products)})"


def sorted_by_supplier():
    # A `key=` function runs once per item: sorting rows by a relation reads it per row.
    products = LoopProduct.query.all()
    ordered = sorted(products, key=lambda p: p.supplier.name)  # expect: ORM002 "p.supplier"
    products.sort(key=lambda p: p.supplier.name)  # the rows keep what the key above loaded
    cheapest = min(products, key=lambda p: p.id)  # a column: nothing to load
    loaded = LoopProduct.query.options(joinedload(LoopProduct.shop)).all()
    return ordered, cheapest, max(loaded, key=lambda p: p.shop.id)
