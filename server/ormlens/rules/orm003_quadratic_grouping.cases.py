"""ORM003 examples. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from collections import defaultdict

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    visits = db.relationship("Visit", lazy="selectin")


class Visit(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    active = db.Column(db.Boolean, nullable=False)


# --- must be reported -------------------------------------------------------------------------


def scans(session: Session, user_ids: list[int]):
    visits = session.query(Visit).all()
    for uid in user_ids:
        mine = [v for v in visits if v.user_id == uid]  # expect: ORM003 "[v for v in visits if v.user_id == uid]"
        first = next((v for v in visits if v.user_id == uid), None)  # expect: ORM003 "(v for v in visits if v.user_id == uid)"
        hits = list(filter(lambda v: v.user_id == uid, visits))  # expect: ORM003 "filter(lambda v: v.user_id == uid, visits)"
        for v in visits:  # expect: ORM003 "for v in visits"
            if v.user_id == uid:
                print(v)
                break
        print(mine, first, hits)


def scan_of_dict_values(session: Session):
    by_id = {v.id: v for v in session.query(Visit).all()}
    users = session.query(User).all()
    return {u.id: [v for v in by_id.values() if u.id == v.user_id and v.active] for u in users}  # expect: ORM003 "[v for v in by_id.values() if u.id == v.user_id and v.active]"


def scan_of_parameter(visits: list[Visit], users: list[User]):
    for u in users:
        print(sum(1 for v in visits if v.user_id == u.id))  # expect: ORM003 "(1 for v in visits if v.user_id == u.id)"


# --- must not be reported ---------------------------------------------------------------------


def grouped_once(session: Session, user_ids: list[int]):
    visits_by_user = defaultdict(list)
    for v in session.query(Visit).all():
        visits_by_user[v.user_id].append(v)
    for uid in user_ids:
        print(visits_by_user.get(uid, []))


def bounded_outer_loop(session: Session):
    visits = session.query(Visit).all()
    for uid in (1, 2, 3):
        print([v for v in visits if v.user_id == uid])


def literal_inner_collection(user_ids, a, b):
    for uid in user_ids:
        print([v for v in (a, b) if v.user_id == uid])


def filter_without_the_outer_item(session: Session, user_ids: list[int]):
    visits = session.query(Visit).all()
    for uid in user_ids:
        print(uid, [v for v in visits if v.active])
        print([v for v in visits if v.user_id == 3])
        print([v for v in visits if v.user_id in user_ids])


def per_item_collection(session: Session):
    for u in session.query(User).all():
        print([v for v in u.visits if v.user_id == u.id])


def single_pass(session: Session, uid: int):
    visits = session.query(Visit).all()
    return [v for v in visits if v.user_id == uid]


def plain_data_is_not_orm_rows(columns: list[dict], names: list[str]):
    # O(N·M) too, but over plain data this tool knows nothing about: not reported.
    for name in names:
        print([c for c in columns if c["name"] == name])
