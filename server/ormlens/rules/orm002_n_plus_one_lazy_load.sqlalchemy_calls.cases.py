"""ORM002 examples, SQLAlchemy 2.0: rows that cross a call. A helper or an active-record base
class's classmethod returns the rows (what they load crosses with them); a method reads a lazy
relationship of each row its caller passes.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from itertools import groupby

from sqlalchemy import Column, ForeignKey, Integer, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declarative_base, mapped_column, relationship, selectinload

import accounts  # a library: its user model is not one of the project's


class Base(DeclarativeBase):
    @classmethod
    def all(cls, db: Session):
        return db.query(cls).all()


class Connection(Base):
    __tablename__ = "connection"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Dataset(Base):
    __tablename__ = "dataset"
    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    connection: Mapped[Connection] = relationship()
    kind: Mapped[str]

    def describe(self):
        return f"{self.id} on {self.connection.name}"


class SavedQuery(Base):
    __tablename__ = "saved_query"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"))
    # The target is a library's model; `foreign_keys=` names a column here: many-to-one.
    owner = relationship(accounts.user_model, foreign_keys=[owner_id])

    def to_dict(self):
        return {"id": self.id, "owner": self.owner.name}


def queries_of(db: Session, user_id: int):
    return db.query(SavedQuery).filter(SavedQuery.owner_id == user_id, SavedQuery.id > 10).all()


class RecordMixin:
    # Columns every model gets (so the mixin reads as a mapped class of its own).
    created_at = Column(Integer, index=True)

    @classmethod
    def all(cls, db: Session):
        return db.query(cls).all()


# The mixin given to declarative_base(cls=...) is a base of every model declared on LegacyBase.
LegacyBase = declarative_base(cls=RecordMixin)


class Server(LegacyBase):
    __tablename__ = "server"
    id = Column(Integer, primary_key=True)


class Disk(LegacyBase):
    __tablename__ = "disk"
    id = Column(Integer, primary_key=True)
    server_id = Column(Integer, ForeignKey("server.id"))
    server = relationship(Server)


def plain_datasets(db: Session):
    return db.scalars(select(Dataset)).all()


def loaded_datasets(db: Session):
    return db.scalars(select(Dataset).options(selectinload(Dataset.connection))).all()


# --- must be reported -------------------------------------------------------------------------


def rows_from_a_base_class_method(db: Session):
    for dataset in Dataset.all(db):
        print(dataset.connection)  # expect: ORM002 "dataset.connection"


def rows_from_the_declarative_base_mixin(db: Session):
    for disk in Disk.all(db):
        print(disk.server)  # expect: ORM002 "disk.server"


def rows_from_a_helper(db: Session):
    for dataset in plain_datasets(db):
        print(dataset.connection)  # expect: ORM002 "dataset.connection"


def method_reads_a_relationship(db: Session):
    return [d.describe() for d in plain_datasets(db)]  # expect: ORM002 "d.describe()"


def owners_of_all_queries(db: Session):
    return [q.to_dict() for q in db.query(SavedQuery).all()]  # expect: ORM002 "q.to_dict()"


# --- must not be reported ---------------------------------------------------------------------


def queries_of_one_owner(db: Session, user_id: int):
    # Every row has the same owner_id: the many-to-one owner is loaded once, then found in the
    # session's identity map.
    return [q.to_dict() for q in queries_of(db, user_id)]


def rows_from_a_helper_that_loads(db: Session):
    for dataset in loaded_datasets(db):
        print(dataset.connection)


def method_on_loaded_rows(db: Session):
    return [d.describe() for d in loaded_datasets(db)]


def describe_by_kind(db: Session):
    # groupby splits the rows into groups: a read per row of a group is a read per row (N, not N·M).
    rows = db.query(Dataset).order_by(Dataset.kind).all()
    out = {}
    for kind, datasets in groupby(rows, key=lambda d: d.kind):
        out[kind] = [d.describe() for d in datasets]  # expect: ORM002 "d.describe()"
    return out



def narrowed(query, min_id):
    # A helper given the query returns it narrowed: still the caller's query, with what it loads.
    return query.filter(Dataset.id > min_id)


def export(datasets_query):
    names = []
    for d in datasets_query:
        if d and d.connection:  # a row of the query is never false: `d.connection` is read for each
            names.append(d.connection.name)
    return names


def export_all(db: Session):
    return export(narrowed(db.query(Dataset), 10))  # expect: ORM002 "export(narrowed(db.query(Dataset), 10))"


def export_loaded(db: Session):
    return export(narrowed(db.query(Dataset).options(selectinload(Dataset.connection)), 10))


# A read chosen by the row's own data (`kind`) runs for the rows that have it; one chosen by the
# caller's flag may never run.
class Report(Base):
    __tablename__ = "report"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str]
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    dataset: Mapped[Dataset] = relationship()

    def source(self, detailed=False):
        if self.kind == "linked":
            return self.dataset.kind
        if detailed:
            return self.dataset.describe()
        return self.kind


def linked_reports_read_their_dataset(db: Session):
    return [r.source() for r in db.scalars(select(Report))]  # expect: ORM002 "r.source()"


def linked_reports_with_their_dataset(db: Session):
    return [r.source() for r in db.scalars(select(Report).options(selectinload(Report.dataset)))]
