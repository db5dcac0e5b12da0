"""ORM004 examples, SQLModel style. A line marked `# expect:` must be reported with that code on
that exact expression; no other line may be."""
from itertools import batched
from typing import Optional

from sqlmodel import Field, Session, SQLModel, col, select


class SmParcel(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    route_id: Optional[int] = None


def unchunked(session: Session, route_ids: list[int]):
    return session.exec(select(SmParcel).where(SmParcel.route_id.in_(route_ids))).all()  # expect: ORM004 "SmParcel.route_id.in_(route_ids)"


def chunked(session: Session, route_ids: list[int]):
    for chunk in batched(route_ids, 1000):
        session.exec(select(SmParcel).where(col(SmParcel.route_id).in_(chunk))).all()
    return session.exec(select(SmParcel).where(SmParcel.route_id.in_([1, 2]))).all()
