"""ORM004 examples, SQLAlchemy 2.0 style: `.in_()` in select() statements. A line marked
`# expect:` must be reported with that code on that exact expression; no other line may be."""
from itertools import batched

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class S2Account(Base):
    __tablename__ = "s2_account"
    id: Mapped[int] = mapped_column(primary_key=True)


class S2Entry(Base):
    __tablename__ = "s2_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("s2_account.id"))


def unchunked(session: Session, account_ids: list[int]):
    entries = session.scalars(select(S2Entry).where(S2Entry.account_id.in_(account_ids))).all()  # expect: ORM004 "S2Entry.account_id.in_(account_ids)"
    accounts = session.scalars(select(S2Account)).all()
    stmt = select(S2Entry).where(S2Entry.account_id.not_in([a.id for a in accounts]))  # expect: ORM004 "S2Entry.account_id.not_in([a.id for a in accounts])"
    return entries, session.execute(stmt).scalars().all()


def chunked_or_bounded(session: Session, account_ids: list[int]):
    for chunk in batched(account_ids, 1000):
        session.scalars(select(S2Entry).where(S2Entry.account_id.in_(chunk))).all()
    session.scalars(select(S2Entry).where(S2Entry.account_id.in_([1, 2, 3]))).all()
    session.scalars(select(S2Entry).where(S2Entry.account_id.in_(account_ids[:500]))).all()
    subquery = select(S2Account.id).where(S2Account.id > 10)
    return session.scalars(select(S2Entry).where(S2Entry.account_id.in_(subquery))).all()


# --- a parameter is as long as what its callers pass ------------------------------------------


def entries_of(session: Session, account_ids: list[int]):
    # Every caller below writes the list out: one or two ids.
    return session.scalars(select(S2Entry).where(S2Entry.account_id.in_(account_ids))).all()


def entries_of_some(session: Session, account_ids: list[int]):
    return session.scalars(select(S2Entry).where(S2Entry.account_id.in_(account_ids))).all()  # expect: ORM004 "S2Entry.account_id.in_(account_ids)"


def entries_of_pairs(session: Session, pairs: list[tuple[int, str]]):
    # A comprehension over the parameter is no longer than what the callers pass.
    return session.scalars(select(S2Entry).where(S2Entry.account_id.in_([a for a, _ in pairs]))).all()


def callers(session: Session, account: S2Account, other: S2Account, wanted: list[int]):
    entries_of_pairs(session, [(account.id, "a"), (other.id, "b")])
    entries_of(session, [account.id])
    entries_of(session, account_ids=(account.id, other.id))
    entries_of_some(session, [account.id])
    entries_of_some(session, wanted)  # a list of any length: the parameter has no bound
