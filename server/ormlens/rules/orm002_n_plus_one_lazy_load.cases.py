"""ORM002 examples. A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from typing import Optional

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)


LAZY_STRATEGY = "selectin"


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")
    awards: Mapped[list["Award"]] = relationship(lazy="selectin")
    profile: Mapped[Optional["Profile"]] = relationship(lazy="raise")
    fans = relationship("Fan", backref="idol")
    drafts = relationship("Book", lazy=None, viewonly=True)  # lazy=None is noload
    extras = relationship("Award", lazy=LAZY_STRATEGY, viewonly=True)  # not a literal: unknown


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped["Author"] = relationship(back_populates="books")
    reviews: Mapped[list["Review"]] = relationship()


class Review(Base):
    __tablename__ = "review"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id"))


class Publisher(Base):
    __tablename__ = "publisher"
    id: Mapped[int] = mapped_column(primary_key=True)
    # No annotation, no uselist=: the direction comes from the foreign key (on Edition).
    editions = relationship("Edition")


class Edition(Base):
    __tablename__ = "edition"
    id: Mapped[int] = mapped_column(primary_key=True)
    publisher_id = mapped_column(ForeignKey("publisher.id"))
    publisher = relationship("Publisher")  # many-to-one: the foreign key is here


class Award(Base):
    __tablename__ = "award"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))


class Profile(Base):
    __tablename__ = "profile"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))


class Fan(Base):
    __tablename__ = "fan"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))


# --- must be reported -------------------------------------------------------------------------


def book_counts(session: Session):
    authors = session.query(Author).all()
    for a in authors:
        print(a.name, len(a.books))  # expect: ORM002 "a.books"
        print(a.books)  # the first read loaded it: not reported again


def authors_of_books(session: Session):
    for book in session.query(Book).filter(Book.id > 10):
        print(book.author.name)  # expect: ORM002 "book.author"


def in_a_comprehension(session: Session):
    return [a.books for a in session.query(Author).all()]  # expect: ORM002 "a.books"


def select_style(session: Session):
    for a in session.scalars(select(Author)).all():
        print(a.books)  # expect: ORM002 "a.books"


def one_level_too_shallow(session: Session):
    authors = session.query(Author).options(selectinload(Author.books)).all()
    for a in authors:
        for b in a.books:
            print(b.reviews)  # expect: ORM002 "b.reviews"


def backref_read(session: Session):
    for fan in session.query(Fan).all():
        print(fan.idol)  # expect: ORM002 "fan.idol"


def filtered_rows_keep_their_origin(session: Session):
    rows = session.query(Author).all()
    named = [a for a in rows if a.name]
    for a in named:
        print(a.books)  # expect: ORM002 "a.books"


# --- must not be reported ---------------------------------------------------------------------


def eager_loaded(session: Session):
    for a in session.query(Author).options(selectinload(Author.books)).all():
        print(a.books)
    for a in session.query(Author).options(joinedload(Author.books)):
        print(a.books)
    for a in session.query(Author).options(selectinload("books")).all():
        print(a.books)


def eager_chain(session: Session):
    query = session.query(Author).options(selectinload(Author.books).selectinload(Book.reviews))
    for a in query.all():
        for b in a.books:
            print(b.reviews)


def eager_in_select(session: Session):
    stmt = select(Author).options(selectinload(Author.books))
    for a in session.scalars(stmt):
        print(a.books)


def eager_by_declaration(session: Session):
    for a in session.query(Author).all():
        print(a.awards, a.profile)


def rows_of_unknown_origin(authors: list[Author]):
    for a in authors:
        print(a.books)


def not_in_a_loop(session: Session):
    author = session.query(Author).first()
    print(author.books)


def bounded_rows(session: Session):
    for a in session.query(Author).limit(5).all():
        print(a.books)


def writes_and_columns(session: Session):
    for b in session.query(Book).all():
        b.author = None
        print(b.author_id)


def back_to_the_loaded_parent(session: Session):
    # Book.author is many-to-one: SQLAlchemy answers it from the identity map, where the author
    # that owns `a.books` already is. No SQL per book.
    for a in session.query(Author).options(selectinload(Author.books)).all():
        for b in a.books:
            print(b.author.name)


def column_options_load_no_relationship(session: Session):
    from sqlalchemy.orm import load_only

    for a in session.query(Author).options(load_only(Author.name)).all():
        print(a.books)  # expect: ORM002 "a.books"


def direction_from_foreign_keys(session: Session):
    for p in session.query(Publisher).all():
        print(len(p.editions))  # expect: ORM002 "p.editions"
    for e in session.query(Edition).all():
        print(e.publisher)  # expect: ORM002 "e.publisher"
    for p in session.query(Publisher).options(selectinload(Publisher.editions)).all():
        for e in p.editions:
            print(e.publisher)  # back to the loaded parent: answered by the identity map


def iterating_scalars(session: Session):
    for a in session.scalars(select(Author)):
        print(a.books)  # expect: ORM002 "a.books"


def noload_and_unknown_strategies(session: Session):
    for a in session.query(Author).all():
        print(a.drafts, a.extras)
