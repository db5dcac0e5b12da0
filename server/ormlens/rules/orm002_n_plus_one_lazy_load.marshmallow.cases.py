"""ORM002 examples, marshmallow: a schema dumped with `many=True` over the rows of a query reads each
declared field's attribute on every row (`attribute="a.b"`, else the field's name: a relationship,
a `fields.Nested` one, a property), and its `fields.Method` methods get each row: a relationship
the query did not load is loaded once per row. The rows' model and loads are read from the query
whose result the dump is given (a Nested schema's rows are those of its relationship); when they
are not known nothing is reported. A line marked `# expect:` must be reported with that code on
that exact expression; no other line may be. This file is analysed, never imported."""
from marshmallow import Schema, fields
from marshmallow_sqlalchemy import SQLAlchemyAutoSchema
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, joinedload, mapped_column, relationship, selectinload

session = Session()


class Base(DeclarativeBase):
    pass


class MaCountry(Base):
    __tablename__ = "ma_country"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class MaPublisher(Base):
    __tablename__ = "ma_publisher"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    country_id: Mapped[int] = mapped_column(ForeignKey("ma_country.id"))
    country: Mapped[MaCountry] = relationship()


class MaBook(Base):
    __tablename__ = "ma_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    publisher_id: Mapped[int] = mapped_column(ForeignKey("ma_publisher.id"))
    publisher: Mapped[MaPublisher] = relationship(back_populates="books")
    chapters: Mapped[list["MaChapter"]] = relationship(back_populates="book")

    @property
    def chapter_titles(self):
        return [chapter.title for chapter in self.chapters]


MaPublisher.books = relationship(MaBook, back_populates="publisher")


class MaChapter(Base):
    __tablename__ = "ma_chapter"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    book_id: Mapped[int] = mapped_column(ForeignKey("ma_book.id"))
    book: Mapped[MaBook] = relationship(back_populates="chapters")


class PublisherSchema(Schema):
    name = fields.String()
    country = fields.Nested("CountrySchema")  # expect: ORM002 "fields.Nested(\"CountrySchema\")"


class CountrySchema(Schema):
    name = fields.String()


class ChapterSchema(Schema):
    title = fields.String()


# --- must be reported: the rows' query loads none of what the schema reads --------------------------


class BookSchema(Schema):
    title = fields.String()
    publisher = fields.Nested(PublisherSchema)  # expect: ORM002 "fields.Nested(PublisherSchema)"
    chapters = fields.List(fields.Nested(ChapterSchema))  # expect: ORM002 "fields.List(fields.Nested(ChapterSchema))"
    first_chapter = fields.Method("get_first_chapter")

    def get_first_chapter(self, book):
        return book.chapters[0].title if book.chapters else None  # expect: ORM002 "book.chapters"


def list_books():
    books = session.scalars(select(MaBook)).all()
    return BookSchema(many=True).dump(books)


class ChapterRowSchema(Schema):
    book_title = fields.String(attribute="book.title")  # expect: ORM002 "attribute=\"book.title\""


def chapter_rows():
    return ChapterRowSchema(many=True).dump(session.scalars(select(MaChapter)).all())


class BookTitlesSchema(Schema):
    chapter_titles = fields.List(fields.String())  # expect: ORM002 "fields.List(fields.String())"


def book_titles():
    return BookTitlesSchema(many=True).dump(session.scalars(select(MaBook).where(MaBook.id > 10)).all())


class BookRowSchema(SQLAlchemyAutoSchema):  # marshmallow-sqlalchemy
    class Meta:
        model = MaBook

    publisher = fields.Pluck(PublisherSchema, "name")  # expect: ORM002 "fields.Pluck(PublisherSchema, \"name\")"


def book_rows():
    return BookRowSchema(many=True).dump(session.query(MaBook).order_by(MaBook.title).all())


class CountryNameSchema(Schema):
    name = fields.String()


class PublisherRowSchema(Schema):
    country = fields.Nested(CountryNameSchema)  # expect: ORM002 "fields.Nested(CountryNameSchema)"


class ShelfBookSchema(Schema):
    title = fields.String()
    publisher = fields.Nested(PublisherRowSchema)


def shelf():
    # Each book's publisher is loaded with it; each publisher's country is not.
    books = session.scalars(select(MaBook).options(joinedload(MaBook.publisher))).all()
    return ShelfBookSchema(many=True).dump(books)


# --- must not be reported ---------------------------------------------------------------------------


class LoadedBookSchema(Schema):
    publisher = fields.Nested(PublisherSchema)
    chapters = fields.Nested(ChapterSchema, many=True)

    def get_chapters(self, book):
        return len(book.chapters)


def loaded_books():
    query = select(MaBook).options(joinedload(MaBook.publisher).joinedload(MaPublisher.country),
                                   selectinload(MaBook.chapters))
    return LoadedBookSchema(many=True).dump(session.scalars(query).all())


class AnyBookSchema(Schema):  # the rows are a parameter's: what their query loaded is not known
    publisher = fields.Nested(PublisherSchema)


def any_books(books):
    return AnyBookSchema(many=True).dump(books)


class ModelBookSchema(SQLAlchemyAutoSchema):  # the model is known, what the rows load is not
    class Meta:
        model = MaBook

    publisher = fields.Nested(PublisherSchema)


def model_books(books):
    return ModelBookSchema(many=True).dump(books)


class OneBookSchema(Schema):  # dumped once, for one book
    publisher = fields.Nested(PublisherSchema)


def one_book(book_id):
    return OneBookSchema().dump(session.get(MaBook, book_id))


class TitlesSchema(Schema):  # the dump leaves the relationship out
    title = fields.String()
    publisher = fields.Nested(PublisherSchema)
    secret = fields.Nested(PublisherSchema, load_only=True)


def titles():
    return TitlesSchema(many=True, exclude=("publisher",)).dump(session.scalars(select(MaBook)).all())
