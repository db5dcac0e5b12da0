"""ORM005 examples. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from decimal import Decimal
from typing import Optional, Union

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, Integer, Numeric
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declarative_base, mapped_column

db = SQLAlchemy()
SETTLED_NULLABLE = False
LegacyBase = declarative_base()


class Base(DeclarativeBase):
    pass


class Payment(Base):
    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Optional[Decimal]]                               # nullable
    tip: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))  # nullable
    bonus: Mapped[Union[Decimal, None]]                             # nullable
    discount: Mapped[Decimal] = mapped_column(nullable=True)        # explicit nullable wins
    fee: Mapped[Decimal]                                            # NOT NULL
    credit: Mapped[Optional[Decimal]] = mapped_column(nullable=False)  # explicit wins
    quoted: Mapped["Optional[Decimal]"]                             # nullable (string annotation)


class Invoice(LegacyBase):
    __tablename__ = "invoice"
    id = Column(Integer, primary_key=True)
    total = Column(Numeric(10, 2))                  # Column() is nullable by default
    paid = Column(Numeric(10, 2), nullable=False)


class Refund(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    amount = db.Column(db.Numeric(10, 2))
    fixed = db.Column(db.Numeric(10, 2), nullable=False)
    key = db.Column(db.Integer, primary_key=True)
    settled = db.Column(db.Numeric(10, 2), nullable=SETTLED_NULLABLE)  # not a literal: unknown


# --- must be reported -------------------------------------------------------------------------


def totals(payments: list[Payment], session: Session):
    a = sum(p.amount for p in payments)  # expect: ORM005 "sum(p.amount for p in payments)"
    b = sum([p.tip for p in payments])  # expect: ORM005 "sum([p.tip for p in payments])"
    c = sum(p.bonus for p in payments)  # expect: ORM005 "sum(p.bonus for p in payments)"
    d = sum(p.discount for p in payments)  # expect: ORM005 "sum(p.discount for p in payments)"
    e = sum(p.quoted for p in payments)  # expect: ORM005 "sum(p.quoted for p in payments)"
    f = sum(i.total for i in session.query(Invoice).all())  # expect: ORM005 "sum(i.total for i in session.query(Invoice).all())"
    g = sum(r.amount for r in Refund.query.filter_by(fixed=1))  # expect: ORM005 "sum(r.amount for r in Refund.query.filter_by(fixed=1))"
    return a, b, c, d, e, f, g


# --- must not be reported ---------------------------------------------------------------------


def safe_totals(payments: list[Payment], session: Session, rows):
    invoices = session.query(Invoice).all()
    refunds = Refund.query.all()
    return (
        sum(p.fee for p in payments),
        sum(p.credit for p in payments),
        sum(i.paid for i in invoices),
        sum(r.fixed + r.key for r in refunds),
        sum(r.key for r in refunds),
        sum(r.settled for r in refunds),
        sum((p.amount or 0) for p in payments),
        sum(p.amount or Decimal(0) for p in payments),
        sum(p.amount for p in payments if p.amount is not None),
        sum(p.amount for p in payments if p.amount),
        sum(p.amount if p.amount is not None else 0 for p in payments),
        sum(x for x in [1, 2, 3]),
        sum(row.amount for row in rows),
    )


def filtered_to_not_null(session: Session):
    paid = session.query(Invoice).filter(Invoice.total.isnot(None)).all()
    refunds = Refund.query.filter(Refund.amount != None, Refund.fixed > 0).all()  # noqa: E711
    return sum(i.total for i in paid), sum(r.amount for r in refunds)
