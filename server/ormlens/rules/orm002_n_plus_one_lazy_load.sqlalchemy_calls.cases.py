"""ORM002 examples, SQLAlchemy 2.0: rows that cross a call. A helper or an active-record base
class's classmethod returns the rows (what they load crosses with them); a method reads a lazy
relationship of each row its caller passes.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


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

    def describe(self):
        return f"{self.id} on {self.connection.name}"


def plain_datasets(db: Session):
    return db.scalars(select(Dataset)).all()


def loaded_datasets(db: Session):
    return db.scalars(select(Dataset).options(selectinload(Dataset.connection))).all()


# --- must be reported -------------------------------------------------------------------------


def rows_from_a_base_class_method(db: Session):
    for dataset in Dataset.all(db):
        print(dataset.connection)  # expect: ORM002 "dataset.connection"


def rows_from_a_helper(db: Session):
    for dataset in plain_datasets(db):
        print(dataset.connection)  # expect: ORM002 "dataset.connection"


def method_reads_a_relationship(db: Session):
    return [d.describe() for d in plain_datasets(db)]  # expect: ORM002 "d.describe()"


# --- must not be reported ---------------------------------------------------------------------


def rows_from_a_helper_that_loads(db: Session):
    for dataset in loaded_datasets(db):
        print(dataset.connection)


def method_on_loaded_rows(db: Session):
    return [d.describe() for d in loaded_datasets(db)]
