"""ORM001 examples, SQLAlchemy 2.0 style: select() statements run by a Session. A line marked
`# expect:` must be reported with that code on that exact expression; no other line may be."""
from itertools import batched

import requests
from sqlalchemy import ForeignKey, func, select, text
from sqlalchemy.orm import DeclarativeBase, DynamicMapped, Mapped, Session, WriteOnlyMapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class S2Customer(Base):
    __tablename__ = "s2_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoices: WriteOnlyMapped["S2Invoice"] = relationship()
    visits: DynamicMapped["S2Visit"] = relationship()


class S2Invoice(Base):
    __tablename__ = "s2_invoice"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("s2_customer.id"))


class S2Visit(Base):
    __tablename__ = "s2_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("s2_customer.id"))


def per_id(session: Session, ids: list[int]):
    for cid in ids:
        session.execute(select(S2Invoice).where(S2Invoice.customer_id == cid)).scalars().all()  # expect: ORM001 "session.execute(select(S2Invoice).where(S2Invoice.customer_id == cid))"
        session.scalars(select(S2Invoice).filter_by(customer_id=cid)).first()  # expect: ORM001 "session.scalars(select(S2Invoice).filter_by(customer_id=cid))"
        session.scalar(select(func.count()).select_from(S2Invoice).where(S2Invoice.customer_id == cid))  # expect: ORM001
        session.get(S2Customer, cid)  # expect: ORM001 "session.get(S2Customer, cid)"


def statement_in_a_variable(session: Session, ids: list[int]):
    for cid in ids:
        stmt = select(S2Invoice).where(S2Invoice.customer_id == cid)
        stmt = stmt.order_by(S2Invoice.id)
        session.scalars(stmt).all()  # expect: ORM001 "session.scalars(stmt)"


def comprehension(session: Session, ids: list[int]):
    return [session.get(S2Customer, i) for i in ids]  # expect: ORM001 "session.get(S2Customer, i)"


def write_only_and_dynamic_collections(session: Session):
    for c in session.scalars(select(S2Customer)):
        print(c.invoices, c.visits)  # reading them runs nothing
        c.invoices.add(S2Invoice())  # pending until the flush
        session.scalars(c.invoices.select()).all()  # expect: ORM001 "session.scalars(c.invoices.select())"
        c.visits.filter(S2Visit.id > 10).all()  # expect: ORM001 "c.visits.filter(S2Visit.id > 10).all()"
        c.visits.count()  # expect: ORM001 "c.visits.count()"
        for v in c.visits:  # expect: ORM001 "c.visits"
            print(v.id)


# --- not reported ---------------------------------------------------------------------------------


def bounded_and_chunked(session: Session, ids: list[int]):
    for cid in (1, 2, 3):
        session.get(S2Customer, cid)
    for chunk in batched(ids, 500):
        session.scalars(select(S2Invoice).where(S2Invoice.customer_id.in_(chunk))).all()
    invoices = session.scalars(select(S2Invoice).where(S2Invoice.customer_id.in_(ids[:500]))).all()
    by_customer = {i.customer_id: i for i in invoices}
    for cid in ids:
        by_customer.get(cid)


def statements_built_not_run(session: Session, ids: list[int]):
    statements = [select(S2Invoice).where(S2Invoice.customer_id == i) for i in ids]
    for cid in ids:
        session.add(S2Invoice(customer_id=cid))
        subquery = select(S2Invoice.id).where(S2Invoice.customer_id == cid).scalar_subquery()
    return statements, subquery


def not_a_session(ids: list[int]):
    http = requests.Session()
    for cid in ids:
        http.get(f"https://example.com/{cid}")


def lock_per_item(session: Session, keys: list[int]):
    for key in keys:
        # Literal SQL that reads no table (a lock, a sequence): the item's own work, nothing to batch.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        session.execute(text("select * from s2_customer where id = :key"), {"key": key})  # expect: ORM001 "session.execute(text(\"select * from s2_customer where id = :key\"), {\"key\": key})"
