"""ORM001 examples: writes per item (INSERT/UPDATE/DELETE statements, Query/QuerySet bulk
`.update()`/`.delete()`) and containers filled from the items. A line marked `# expect:` must be
reported with that code on that exact expression; no other line may be."""
import sqlalchemy as sa
from django.db import models
from sqlalchemy import ForeignKey, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class WrEvent(Base):
    __tablename__ = "wr_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str]


class WrResource(Base):
    __tablename__ = "wr_resource"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("wr_event.id"))


class WrTicket(models.Model):
    state = models.CharField(max_length=10)


def write_per_item(session: Session, ids: list[int], rows: list[dict]):
    for i in ids:
        session.execute(delete(WrEvent).where(WrEvent.id == i))  # expect: ORM001 "session.execute(delete(WrEvent).where(WrEvent.id == i))"
        session.execute(sa.update(WrEvent).where(WrEvent.id == i).values(key="x"))  # expect: ORM001 "session.execute(sa.update(WrEvent).where(WrEvent.id == i).values(key=\"x\"))"
        session.query(WrEvent).filter_by(id=i).delete()  # expect: ORM001 "session.query(WrEvent).filter_by(id=i).delete()"
    for row in rows:
        session.execute(pg_insert(WrResource).values(**row).on_conflict_do_nothing())  # expect: ORM001 "session.execute(pg_insert(WrResource).values(**row).on_conflict_do_nothing())"


def django_write_per_item(ids: list[int]):
    for i in ids:
        WrTicket.objects.filter(pk=i).update(state="done")  # expect: ORM001 "WrTicket.objects.filter(pk=i).update(state=\"done\")"
        WrTicket.objects.filter(pk=i).delete()  # expect: ORM001 "WrTicket.objects.filter(pk=i).delete()"


def remove_resources(session: Session, event_id: int):
    session.execute(delete(WrResource).where(WrResource.event_id == event_id))


def remove_per_item(session: Session, ids: list[int]):
    for i in ids:
        remove_resources(session, i)  # expect: ORM001 "remove_resources(session, i)"


def writes_done_right(session: Session, ids: list[int], rows: list[dict]):
    session.execute(delete(WrEvent).where(WrEvent.id.in_(ids)))  # expect: ORM004 "WrEvent.id.in_(ids)"
    session.execute(insert(WrResource), rows)  # one executemany
    session.execute(update(WrEvent), [{"id": i, "key": "x"} for i in ids])
    for i in ids:
        session.add(WrEvent(id=i, key="x"))  # pending until the flush: no round-trip per item
    for name in ("a", "b"):  # a literal: bounded
        session.execute(delete(WrEvent).where(WrEvent.key == name))
    for start in range(0, len(rows), 500):  # chunks: one bulk INSERT per chunk is the fix
        session.execute(insert(WrResource).values(rows[start:start + 500]))
    WrTicket.objects.filter(pk__in=ids).update(state="done")  # expect: ORM004 "pk__in=ids"


def filled_from_the_item(session: Session, batches: list[list[dict]]):
    for batch in batches:
        rows = []
        for event in batch:
            rows.extend(event["resources"])
        session.execute(insert(WrResource).values(rows))  # expect: ORM001 "session.execute(insert(WrResource).values(rows))"
        stmt = insert(WrResource)
        session.execute(stmt, [e["resource"] for e in batch])  # expect: ORM001 "session.execute(stmt, [e[\"resource\"] for e in batch])"
        keys = {}
        for event in batch:
            keys[event["id"]] = event["key"]
        session.scalars(select(WrEvent).where(WrEvent.id.in_(list(keys)))).all()  # expect: ORM001 "session.scalars(select(WrEvent).where(WrEvent.id.in_(list(keys))))"
