"""ORM001 examples. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
import functools
from itertools import batched

import requests
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

db = SQLAlchemy()

STATUSES = ("new", "paid")


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    notes = db.relationship("Note", lazy="dynamic")


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False)


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)


# --- must be reported -------------------------------------------------------------------------


def orders_per_user(user_ids):
    for uid in user_ids:
        orders = Order.query.filter_by(user_id=uid).all()  # expect: ORM001 "Order.query.filter_by(user_id=uid).all()"
        print(orders)


def first_order(users: list[User]):
    return [Order.query.filter_by(user_id=u.id).first() for u in users]  # expect: ORM001 "Order.query.filter_by(user_id=u.id).first()"


def counts(session: Session, user_ids: list[int]):
    for uid in user_ids:
        session.query(Order).filter(Order.user_id == uid).count()  # expect: ORM001 "session.query(Order).filter(Order.user_id == uid).count()"


def each_by_id(ids):
    return {i: User.query.get(i) for i in ids}  # expect: ORM001 "User.query.get(i)"


def iterate_query_per_item(users: list[User]):
    for u in users:
        for order in Order.query.filter_by(user_id=u.id):  # expect: ORM001 "Order.query.filter_by(user_id=u.id)"
            print(order.status)


def query_that_ignores_the_item(user_ids):
    for uid in user_ids:
        print(uid, User.query.filter_by(name="admin").count())  # expect: ORM001 "User.query.filter_by(name=\"admin\").count()"


def dynamic_relationship(session: Session):
    for user in session.query(User).all():
        print(user.notes.count())  # expect: ORM001 "user.notes.count()"


def orders_of(uid):
    return Order.query.filter_by(user_id=uid).all()


def orders_through(uid):
    return orders_of(uid)


def through_helpers(user_ids):
    for uid in user_ids:
        orders_through(uid)  # expect: ORM001 "orders_through(uid)"


class OrderService:
    def __init__(self, session: Session):
        self.session = session

    def orders_for(self, uid):
        return self.session.query(Order).filter_by(user_id=uid).all()

    def all_orders(self, user_ids):
        return [self.orders_for(uid) for uid in user_ids]  # expect: ORM001 "self.orders_for(uid)"


def nested_loops(groups):
    for group in groups:
        for uid in group:
            Order.query.filter_by(user_id=uid).first()  # expect: ORM001 "Order.query.filter_by(user_id=uid).first()"


# --- must not be reported ---------------------------------------------------------------------


def literal_loops():
    for name in ("alice", "bob"):
        User.query.filter_by(name=name).first()
    for i in range(10):
        User.query.get(i)
    for status in STATUSES:
        Order.query.filter_by(status=status).count()


def chunked_loop(user_ids):
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start:start + 1000]
        Order.query.filter(Order.user_id.in_(chunk)).all()


def batched_loop(user_ids):
    for chunk in batched(user_ids, 500):
        Order.query.filter(Order.user_id.in_(chunk)).all()


def add_in_loop(session: Session, names):
    for name in names:
        session.add(User(name=name))
    session.commit()


def http_in_loop(urls):
    http = requests.Session()
    for url in urls:
        http.get(url)


def dict_get_in_loop(ids, cache: dict):
    for i in ids:
        cache.get(i)


def dataframe_query(df, expressions):
    for expression in expressions:
        df.query(expression)


def unknown_receivers(items, thing, session):
    for item in items:
        thing.query(item)
        session.get(item)
        session.query(item)


def query_before_loop():
    orders = Order.query.filter_by(status="new").all()
    for order in orders:
        print(order.status)


def returns_on_first_match(users: list[User]):
    for u in users:
        if u.name == "x":
            return Order.query.filter_by(user_id=u.id).first()
    return None


def breaks_after_query(users: list[User]):
    found = None
    for u in users:
        if u.name:
            found = Order.query.filter_by(user_id=u.id).first()
            break
    return found


def defined_not_called(user_ids, callbacks):
    for uid in user_ids:
        def later(uid=uid):
            return Order.query.filter_by(user_id=uid).all()
        callbacks.append(later)


@functools.lru_cache(maxsize=None)
def cached_user(uid):
    return User.query.get(uid)


def uses_cached(ids):
    for i in ids:
        cached_user(i)


class FlaskCache:
    def memoize(self, timeout=None):
        return lambda function: function


cache = FlaskCache()


@cache.memoize(timeout=120)
def orders_of(uid):
    return Order.query.filter_by(user_id=uid).all()


def uses_an_expiring_cache(user_ids):
    # Its entries expire: on a cold cache, one query per distinct user.
    return [orders_of(uid) for uid in user_ids]  # expect: ORM001 "orders_of(uid)"


def helper_without_query(ids):
    def fmt(i):
        return str(i)
    for i in ids:
        fmt(i)


def own_chunk_helper(user_ids, chunk_list):
    for chunk in chunk_list(user_ids, 1000):
        Order.query.filter(Order.user_id.in_(chunk)).all()


def paged_by_offset(total: int, batch_size: int):
    for offset in range(0, total, batch_size):
        Order.query.order_by(Order.id).offset(offset).limit(batch_size).all()


def small_step_is_not_a_chunk(user_ids):
    for i in range(0, len(user_ids), 2):
        Order.query.filter_by(user_id=user_ids[i]).first()  # expect: ORM001 "Order.query.filter_by(user_id=user_ids[i]).first()"


def precomputed_chunks(user_ids):
    chunks = [user_ids[i:i + 500] for i in range(0, len(user_ids), 500)]
    for chunk in chunks:
        Order.query.filter(Order.user_id.in_(chunk)).all()


def exists_clause_is_not_run(session: Session, user_ids):
    for uid in user_ids:
        clause = session.query(Order).filter(Order.user_id == uid).exists()
        print(clause)


def distinct_literal(a, b):
    for uid in dict.fromkeys((a, b)):
        Order.query.filter_by(user_id=uid).first()


def retry_inside_each_item(user_ids):
    for uid in user_ids:
        while True:
            Order.query.filter_by(user_id=uid).first()  # expect: ORM001 "Order.query.filter_by(user_id=uid).first()"
            break


class Account(db.Model):
    id = db.Column(db.Integer, primary_key=True)

    @property
    def open_orders(self):
        return Order.query.filter_by(user_id=self.id, status="open").count()

    @open_orders.setter
    def open_orders(self, value):
        self._open = value


def property_read_per_row(session: Session):
    return [a.open_orders for a in session.query(Account).all()]  # expect: ORM001 "a.open_orders"


def property_of_the_class(ids):
    return [Account.open_orders for _ in ids]


def never_cache(view):
    return view


@never_cache
def order_count(uid):
    return Order.query.filter_by(user_id=uid).count()


def not_a_cache(user_ids):
    return [order_count(uid) for uid in user_ids]  # expect: ORM001 "order_count(uid)"


def flask_terminals(user_ids):
    for uid in user_ids:
        User.query.get_or_404(uid)  # expect: ORM001 "User.query.get_or_404(uid)"
        Order.query.filter_by(user_id=uid).first_or_404()  # expect: ORM001 "Order.query.filter_by(user_id=uid).first_or_404()"
        Order.query.filter_by(user_id=uid).paginate(page=1, per_page=20)  # expect: ORM001 "Order.query.filter_by(user_id=uid).paginate(page=1, per_page=20)"
        Order.query.filter_by(user_id=uid).one_or_none()  # expect: ORM001 "Order.query.filter_by(user_id=uid).one_or_none()"
        Order.query.filter_by(user_id=uid).scalar()  # expect: ORM001 "Order.query.filter_by(user_id=uid).scalar()"
