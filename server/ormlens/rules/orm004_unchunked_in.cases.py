"""ORM004 examples. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from itertools import batched

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select
from sqlalchemy.orm import Session

db = SQLAlchemy()

STATUSES = ("new", "paid")


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    team_id = db.Column(db.Integer)


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    status = db.Column(db.String(10), nullable=False)


# --- must be reported -------------------------------------------------------------------------


def from_a_parameter(user_ids):  # (its caller below passes every user's id)
    return Order.query.filter(Order.user_id.in_(user_ids)).all()  # expect: ORM004 "Order.user_id.in_(user_ids)"


def from_query_results(session: Session):
    users = session.query(User).all()
    ids = [u.id for u in users]
    orders = session.query(Order).filter(Order.user_id.in_(ids)).all()  # expect: ORM004 "Order.user_id.in_(ids)"
    others = session.query(Order).filter(Order.user_id.not_in(set(ids))).all()  # expect: ORM004 "Order.user_id.not_in(set(ids))"
    return orders, others


def from_rows_parameter(users: list[User]):
    return select(Order).where(Order.user_id.in_([u.id for u in users]))  # expect: ORM004 "Order.user_id.in_([u.id for u in users])"


def collected_in_a_loop(session: Session):
    ids = []
    for user in session.query(User).all():
        ids.append(user.id)  # one item per row: as long as the rows
    team_ids = set()
    for user in session.query(User).all():
        team_ids.add(user.team_id)
    fixed = []
    for status in ("new", "paid"):
        fixed.append(status)  # one item per literal: still bounded
    session.query(Order).filter(Order.status.in_(fixed)).all()
    session.query(Order).filter(Order.user_id.in_(team_ids)).all()  # expect: ORM004 "Order.user_id.in_(team_ids)"
    return session.query(Order).filter(Order.user_id.in_(ids)).all()  # expect: ORM004 "Order.user_id.in_(ids)"


# --- must not be reported ---------------------------------------------------------------------


def bounded_values(a, b):
    Order.query.filter(Order.status.in_(["new", "paid"])).all()
    Order.query.filter(Order.user_id.in_((a, b))).all()
    Order.query.filter(Order.status.in_(STATUSES)).all()


def constant_width_slice(user_ids):
    return Order.query.filter(Order.user_id.in_(user_ids[:500])).all()


def chunked(user_ids):
    orders = []
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start:start + 1000]
        orders += Order.query.filter(Order.user_id.in_(chunk)).all()
    for chunk in batched(user_ids, 1000):
        orders += Order.query.filter(Order.user_id.in_(chunk)).all()
    return orders


def subqueries(session: Session, team_id: int):
    team = select(User.id).where(User.team_id == team_id)
    session.query(Order).filter(Order.user_id.in_(team)).all()
    session.query(Order).filter(Order.user_id.in_(session.query(User.id))).all()
    members = session.query(User.id).filter(User.team_id == team_id).subquery()
    session.query(Order).filter(Order.user_id.in_(members)).all()


def unknown_size(session: Session, config):
    session.query(Order).filter(Order.status.in_(config.statuses)).all()
    session.query(Order).filter(Order.user_id.in_(load_ids())).all()


def load_ids():
    return [1, 2, 3]


# --- who calls the functions above with their parameters -----------------------------------------


def callers_of_the_parameters(session: Session):
    users = session.query(User).all()  # every user: a parameter filled so grows with the table
    from_a_parameter([u.id for u in users])
