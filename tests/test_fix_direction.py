"""ORM002's loader follows the relationship's own direction (issue #15, "fixes that keep their word").

A relationship's direction comes from its own arguments: `foreign_keys=` naming the target's columns
(one-to-many even when the declaring model also holds a key to the target's table), `primaryjoin`
(which side's column holds the key, or `foreign()`), `remote_side=` for a self-referential one
(one-to-many without it, as SQLAlchemy decides), and the other side of `back_populates=` / `backref=`.
A collection gets `selectinload`, a many-to-one (or `uselist=False`) `joinedload`: a joined eager
load of a collection raises InvalidRequestError under 2.0's `session.scalars(select(...)).all()`
(it needs `.unique()`) and multiplies the rows a 1.x Query fetches.

Each shape runs before and after `ormlens check --fix` (engine.fix_files) against SQLite: the same
result, and the SELECTs go from one per row to the loader's fixed number; the counts are computed
from the data seeded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from ormlens.config import Settings
from ormlens.engine import check_files, fix_files

MODELS = '''\
from sqlalchemy import Column, ForeignKey, Integer, String, select
from sqlalchemy.orm import Session, backref, declarative_base, relationship

Base = declarative_base()


class Child(Base):
    __tablename__ = "child"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    parent_id = Column(Integer, ForeignKey("parent.id"))


class Parent(Base):
    __tablename__ = "parent"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    # A key to the child's table too: the direction of `children` is not "the key is here".
    favorite_id = Column(Integer, ForeignKey("child.id", use_alter=True))
    children = relationship("Child", foreign_keys=[Child.parent_id], order_by=Child.id, viewonly=True)
    children2 = relationship("Child", foreign_keys="[Child.parent_id]", order_by="Child.id", viewonly=True)
    kids = relationship("Child", primaryjoin="Parent.id == Child.parent_id", order_by="Child.id", viewonly=True)
    favorite = relationship("Child", primaryjoin="Parent.favorite_id == Child.id", viewonly=True)
    pick = relationship("Child", primaryjoin="foreign(Parent.favorite_id) == Child.id", viewonly=True)


class Profile(Base):
    __tablename__ = "profile"
    id = Column(Integer, primary_key=True)
    bio = Column(String)
    parent_id = Column(Integer, ForeignKey("parent.id"), unique=True)
    parent = relationship("Parent", backref=backref("profile", uselist=False))


class Node(Base):
    __tablename__ = "node"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    parent_id = Column(Integer, ForeignKey("node.id"))
    children = relationship("Node", back_populates="up", order_by="Node.id")
    up = relationship("Node", back_populates="children", remote_side=[id])


class Owner(Base):
    __tablename__ = "owner"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    best_pet_id = Column(Integer, ForeignKey("pet.id", use_alter=True))


class Pet(Base):
    __tablename__ = "pet"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    owner_id = Column(Integer, ForeignKey("owner.id"))
    owner = relationship("Owner", foreign_keys=[owner_id], backref=backref("pets", order_by="Pet.id"))

'''

N = 7  # parents; parent i has i % 3 children, a favorite (its first child) when it has one


def seed(ns: dict, session: Session) -> None:
    Parent, Child, Profile, Node, Owner, Pet = (ns[name] for name in ("Parent", "Child", "Profile", "Node", "Owner",
                                                                      "Pet"))
    for i in range(N):
        parent = Parent(id=i + 1, name=f"p{i}")
        session.add(parent)
        session.flush()
        children = [Child(id=10 * (i + 1) + j, name=f"c{i}.{j}", parent_id=parent.id) for j in range(i % 3)]
        session.add_all(children)
        session.flush()
        parent.favorite_id = children[0].id if children else None
        if i % 2:
            session.add(Profile(id=i + 1, bio=f"bio {i}", parent_id=parent.id))
    # A tree: two roots, each node i > 1 under node i % 2 + 1.
    for i in range(1, N + 1):
        session.add(Node(id=i, name=f"n{i}", parent_id=None if i <= 2 else i % 2 + 1))
    for i in range(N):
        session.add(Owner(id=i + 1, name=f"o{i}"))
        session.flush()
        pets = [Pet(id=10 * (i + 1) + j, name=f"pet{i}.{j}", owner_id=i + 1) for j in range(i % 3)]
        session.add_all(pets)
        session.flush()
        session.get(Owner, i + 1).best_pet_id = pets[0].id if pets else None
    session.commit()


WITH_CHILDREN = sum(1 for i in range(N) if i % 3)
CASES = {
    # name: (the function, the relationship read, the loader, SELECTs before, SELECTs after)
    "foreign_keys_list_query": ('''
def run(session: Session):
    return [(p.name, [c.name for c in p.children]) for p in session.query(Parent).order_by(Parent.id).all()]
''', "children", "selectinload", 1 + N, 2),
    "foreign_keys_string_scalars_all": ('''
def run(session: Session):
    return [(p.name, [c.name for c in p.children2]) for p in session.scalars(select(Parent).order_by(Parent.id)).all()]
''', "children2", "selectinload", 1 + N, 2),
    "primaryjoin_collection_execute_scalars": ('''
def run(session: Session):
    rows = session.execute(select(Parent).order_by(Parent.id)).scalars().all()
    return [(p.name, [c.name for c in p.kids]) for p in rows]
''', "kids", "selectinload", 1 + N, 2),
    "primaryjoin_collection_query": ('''
def run(session: Session):
    out = []
    for p in session.query(Parent).filter(Parent.id > 0).order_by(Parent.id):
        out.append((p.name, [c.name for c in p.kids]))
    return out
''', "kids", "selectinload", 1 + N, 2),
    "primaryjoin_many_to_one": ('''
def run(session: Session):
    out = []
    for p in session.query(Parent).order_by(Parent.id).all():
        out.append((p.name, p.favorite.name if p.favorite else None))
    return out
''', "favorite", "joinedload", 1 + WITH_CHILDREN, 1),
    "primaryjoin_foreign_many_to_one_scalars_all": ('''
def run(session: Session):
    return [(p.name, p.pick.name if p.pick else None) for p in session.scalars(select(Parent).order_by(Parent.id)).all()]
''', "pick", "joinedload", 1 + WITH_CHILDREN, 1),
    "backref_one_to_one_uselist_false_scalars_all": ('''
def run(session: Session):
    return [(p.name, p.profile.bio if p.profile else None) for p in session.scalars(select(Parent).order_by(Parent.id)).all()]
''', "profile", "joinedload", 1 + N, 1),
    "self_referential_children": ('''
def run(session: Session):
    return [(n.name, [c.name for c in n.children]) for n in session.scalars(select(Node).order_by(Node.id)).all()]
''', "children", "selectinload", 1 + N, 2),
    "self_referential_remote_side_many_to_one": ('''
def run(session: Session):
    nodes = session.query(Node).filter(Node.parent_id.isnot(None)).order_by(Node.id).all()
    return [(n.name, n.up.name) for n in nodes]
''', "up", "joinedload", 1 + 2, 1),
    "backref_of_a_many_to_one_with_keys_both_ways": ('''
def run(session: Session):
    return [(o.name, [p.name for p in o.pets]) for o in session.scalars(select(Owner).order_by(Owner.id)).all()]
''', "pets", "selectinload", 1 + N, 2),
}


def write(tmp_path: Path, function: str) -> Path:
    path = tmp_path / "shape.py"
    path.write_text(MODELS + function, encoding="utf-8")
    return path


def run(text: str):
    """(the function's result, the SELECTs it sent) on a fresh SQLite database seeded by `seed`."""
    ns: dict = {"__name__": "shape"}
    exec(compile(text, "shape.py", "exec"), ns)  # noqa: S102 - the test's own code
    engine = create_engine("sqlite://")
    ns["Base"].metadata.create_all(engine)
    with Session(engine) as session:
        seed(ns, session)
    selects = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: selects.append(statement)
                 if statement.lstrip().upper().startswith("SELECT") else None)
    with Session(engine) as session:
        result = ns["run"](session)
    return result, len(selects)


@pytest.mark.parametrize("case", CASES)
def test_loader_follows_the_direction_and_the_fix_runs(tmp_path, case):
    function, relationship, loader, before_count, after_count = CASES[case]
    path = write(tmp_path, function)
    report = check_files([path], Settings(), tmp_path)
    assert report.errors == []
    [finding] = [f for f in report.findings if f.code == "ORM002"]
    assert finding.fix is not None and finding.fix.relationship == relationship
    assert finding.fix.loader == loader, finding.message
    [outcome] = fix_files([path], Settings(), tmp_path)
    assert outcome.error is None and outcome.applied == 1
    assert f"{loader}(" in outcome.fixed
    before, sent_before = run(outcome.original)
    after, sent_after = run(outcome.fixed)
    assert after == before
    assert (sent_before, sent_after) == (before_count, after_count)


@pytest.mark.parametrize("case", ["foreign_keys_string_scalars_all", "backref_of_a_many_to_one_with_keys_both_ways"])
def test_joinedload_of_these_collections_would_raise_under_2_0(tmp_path, case):
    """What the fix offered before the direction was read from the relationship's own keys:
    `joinedload` of a collection in `session.scalars(select(...)).all()` raises without `.unique()`."""
    function, relationship, _, _, _ = CASES[case]
    path = write(tmp_path, function)
    [outcome] = fix_files([path], Settings(), tmp_path)
    with pytest.raises(InvalidRequestError, match="unique"):
        run(outcome.fixed.replace("selectinload", "joinedload"))


def test_direction_unknown_gives_selectinload(tmp_path):
    """Keys both ways and a `foreign_keys=` in a form not read: the direction is not known, so the
    loader is the one right for both (selectinload), never joinedload."""
    text = MODELS.replace('foreign_keys=[owner_id], backref=backref("pets", order_by="Pet.id")',
                          'foreign_keys=lambda: [Pet.__table__.c["owner_id"]], '
                          'backref=backref("pets", order_by="Pet.id")')
    assert text != MODELS
    path = tmp_path / "shape.py"
    path.write_text(text + CASES["backref_of_a_many_to_one_with_keys_both_ways"][0], encoding="utf-8")
    report = check_files([path], Settings(), tmp_path)
    loaders = {f.fix.loader for f in report.findings if f.code == "ORM002" and f.fix is not None}
    assert loaders <= {"selectinload"}
