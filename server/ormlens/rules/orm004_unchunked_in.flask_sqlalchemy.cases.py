"""ORM004 examples, Flask-SQLAlchemy 3 style. A line marked `# expect:` must be reported with that
code on that exact expression; no other line may be."""
from itertools import batched

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class FsaTicket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int]


def unchunked(queue_ids: list[int]):
    return db.session.scalars(db.select(FsaTicket).where(FsaTicket.queue_id.in_(queue_ids))).all()  # expect: ORM004 "FsaTicket.queue_id.in_(queue_ids)"


def chunked_or_paged(queue_ids: list[int]):
    for chunk in batched(queue_ids, 1000):
        db.session.scalars(db.select(FsaTicket).where(FsaTicket.queue_id.in_(chunk))).all()
    page = db.paginate(db.select(FsaTicket), per_page=50)
    return db.session.scalars(db.select(FsaTicket).where(FsaTicket.id.in_([t.id for t in page.items]))).all()
