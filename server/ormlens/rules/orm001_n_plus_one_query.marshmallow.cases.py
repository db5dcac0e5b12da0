"""ORM001 examples, marshmallow: a schema dumped with `many=True` (or nested with `many=True`, or in
a `fields.List`, in a schema that is dumped) calls its `fields.Method` methods and its `pre_dump` /
`post_dump` hooks once per object, so a query in one runs once per object of the list, whatever
the objects are. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from flask_marshmallow import Marshmallow
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields, post_dump, pre_dump
from marshmallow_oneofschema import OneOfSchema
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

ma = Marshmallow()
db = SQLAlchemy()
session = Session()


class Base(DeclarativeBase):
    pass


class MmShop(Base):
    __tablename__ = "mm_shop"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class MmOrder(Base):
    __tablename__ = "mm_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("mm_shop.id"))
    total: Mapped[int]


def count_orders(shop_id):
    return session.scalar(select(func.count(MmOrder.id)).where(MmOrder.shop_id == shop_id))


# --- must be reported: dumped object by object ----------------------------------------------------


class ShopSchema(Schema):
    name = fields.String()
    orders = fields.Method("get_orders")

    def get_orders(self, shop):
        return session.scalar(select(func.count(MmOrder.id)).where(MmOrder.shop_id == shop.id))  # expect: ORM001 "session.scalar(select(func.count(MmOrder.id)).where(MmOrder.shop_id == shop.id))"


def list_shops(shops):
    return ShopSchema(many=True).dump(shops)


class OrderSchema(Schema):
    total = fields.Integer()
    shop = fields.Method(serialize="shop_name")

    def shop_name(self, order):
        return session.get(MmShop, order.shop_id).name  # expect: ORM001 "session.get(MmShop, order.shop_id)"


order_schema = OrderSchema()


def list_orders(orders):
    return {"orders": order_schema.dump(orders, many=True)}


class ShopCountSchema(Schema):
    name = fields.String()
    count = fields.Method("get_count")

    def get_count(self, shop):
        return count_orders(shop.id)  # expect: ORM001 "count_orders(shop.id)"


class ShopLineSchema(Schema):
    name = fields.String()

    @pre_dump
    def add_count(self, shop, **kwargs):
        shop.count = count_orders(shop.id)  # expect: ORM001 "count_orders(shop.id)"
        return shop

    @post_dump(pass_original=True)
    def add_orders(self, data, shop, **kwargs):
        data["last"] = session.scalars(select(MmOrder).where(MmOrder.shop_id == shop.id).limit(1)).first()  # expect: ORM001 "session.scalars(select(MmOrder).where(MmOrder.shop_id == shop.id).limit(1))"
        return data


class MarketSchema(Schema):
    name = fields.String()
    shops = fields.Nested(ShopCountSchema, many=True)  # each shop of one market
    lines = fields.List(fields.Nested(ShopLineSchema))


def show_market(market):
    return MarketSchema().dump(market)


class TaggedShopSchema(ma.Schema):  # Flask-Marshmallow's `ma.Schema`
    tag = fields.Method("get_tag")

    def get_tag(self, shop):
        return session.scalars(select(MmShop.name).where(MmShop.id == shop.id)).one()  # expect: ORM001 "session.scalars(select(MmShop.name).where(MmShop.id == shop.id))"


def tagged_shops(shops):
    return TaggedShopSchema(many=True).jsonify(shops)


class BaseItemSchema(Schema):
    label = fields.Method("get_label")

    def get_label(self, item):
        return session.get(MmShop, item["shop_id"]).name  # expect: ORM001 "session.get(MmShop, item[\"shop_id\"])"


class ShopItemSchema(BaseItemSchema):  # inherits the Method field and its method
    kind = fields.Constant("shop")


class OrderItemSchema(Schema):
    total = fields.Integer()


class ItemSchema(OneOfSchema):  # each item is dumped with one of its type schemas
    type_schemas = {"shop": ShopItemSchema, "order": OrderItemSchema}


class SearchResultSchema(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(ItemSchema))


def search(result):
    return SearchResultSchema().dump(result)


# --- must not be reported --------------------------------------------------------------------------


class ShopDetailSchema(Schema):  # dumped once, for one shop
    orders = fields.Method("get_orders")

    def get_orders(self, shop):
        return count_orders(shop.id)


def show_shop(shop):
    return ShopDetailSchema().dump(shop)


def shops_maybe(shops, many):
    return ShopDetailSchema(many=many).dump(shops)  # `many` not known: not taken to be a list


def two_shops(first, second):
    return ShopDetailSchema(many=True).dump([first, second])  # two objects written out


def first_shops():
    return ShopDetailSchema(many=True).dump(session.scalars(select(MmShop).limit(20)).all())  # 20 at most


def shops_page():
    page = db.paginate(select(MmShop), per_page=20)
    return ShopDetailSchema(many=True).dump(page.items)  # one page: as a loop over it, not reported


class PlainShopSchema(Schema):  # its method runs no query
    title = fields.Method("get_title")

    def get_title(self, shop):
        return shop.name.title()


def plain_shops(shops):
    return PlainShopSchema(many=True).dump(shops)


class ShopInputSchema(Schema):  # only loaded: a Method field's method runs on dump
    name = fields.String()
    orders = fields.Method("get_orders")

    def get_orders(self, shop):
        return count_orders(shop.id)


def load_shops(payload):
    return ShopInputSchema(many=True).load(payload)


class ShopSummarySchema(Schema):  # the dumps leave its Method field out
    name = fields.String()
    orders = fields.Method("get_orders")
    orders_again = fields.Method("get_orders_again")

    class Meta:
        exclude = ("orders_again",)

    def get_orders(self, shop):
        return count_orders(shop.id)

    def get_orders_again(self, shop):
        return count_orders(shop.id)


def summaries(shops):
    return ShopSummarySchema(many=True, only=("name",)).dump(shops)


def summaries_again(shops):
    return ShopSummarySchema(many=True, exclude=("orders",)).dump(shops)


class ShopViewSchema(Schema):  # its `__init__` turns a view name into `only`: what is dumped is not known
    name = fields.String()
    orders = fields.Method("get_orders")
    views = {"public": ["name"]}

    def __init__(self, view=None, **kwargs):
        if view:
            kwargs["only"] = self.views[view]
        super().__init__(**kwargs)

    def get_orders(self, shop):
        return count_orders(shop.id)


def public_shops(shops):
    return ShopViewSchema(view="public", many=True).dump(shops)


class ShopPageSchema(Schema):  # a hook called once with the whole list
    name = fields.String()

    @post_dump(pass_many=True)
    def wrap(self, data, many, **kwargs):
        return {"items": data, "total": session.scalar(select(func.count(MmShop.id)))}


def shop_page(shops):
    return ShopPageSchema(many=True).dump(shops)


class UnusedShopSchema(Schema):  # nothing dumps it
    orders = fields.Method("get_orders")

    def get_orders(self, shop):
        return count_orders(shop.id)


class OneShopSchema(Schema):  # nested without many in a schema dumped once
    orders = fields.Method("get_orders")

    def get_orders(self, shop):
        return count_orders(shop.id)


class OrderPageSchema(Schema):
    shop = fields.Nested(OneShopSchema)


def order_page(order):
    return OrderPageSchema().dump(order)
