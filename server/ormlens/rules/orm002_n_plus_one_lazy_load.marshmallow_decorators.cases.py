"""ORM002 examples, marshmallow schemas dumped by a project decorator around a view. A decorator
factory whose wrapper dumps the wrapped function's returned value with the schema one of its
parameters is (`schema.dump(result)`, or in a helper it hands both to, which may dump an item of
the result: `data["items"]`) dumps what each view it decorates returns, once per object when the
schema is `many=True` (or the dump says so). The objects' model and loads are those of the query
the view runs, or the project function whose result it returns runs (`{"items": rows, "total":
n}`, `dict(items=rows)`), also when that function pages a query its caller passes it (the rows
are then those of the caller's query, a `.limit(n)` with `n` not a constant no bound); when they
are not known nothing is reported. A line marked `# expect:` must be reported with
that code on that exact expression; no other line may be. This file is analysed, never imported."""
from functools import wraps

from marshmallow import Schema, fields
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

session = Session()


class Base(DeclarativeBase):
    pass


class MdOwner(Base):
    __tablename__ = "md_owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


class MdShelf(Base):
    __tablename__ = "md_shelf"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    owner_id: Mapped[int] = mapped_column(ForeignKey("md_owner.id"))
    owner: Mapped[MdOwner] = relationship()
    books: Mapped[list["MdBook"]] = relationship(back_populates="shelf")

    @property
    def book_titles(self):
        return [book.title for book in self.books]


class MdBook(Base):
    __tablename__ = "md_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    shelf_id: Mapped[int] = mapped_column(ForeignKey("md_shelf.id"))
    shelf: Mapped[MdShelf] = relationship(back_populates="books")


# --- the decorators ---------------------------------------------------------------------------------


def dumped_with(schema):
    """Dumps the view's result itself."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            result = view(*args, **kwargs)
            return schema.dump(result)
        return wrapper
    return decorator


def render(data, schema):
    if isinstance(data, dict):
        return {"total": data["total"], "items": schema.dump(data["items"], many=True)}
    return schema.dump(data)


def checked(input_schema, output_schema):
    """Loads the request with one schema, dumps the view's result with the other, through a helper."""
    def decorator(f):
        @wraps(f)
        def decorated(*args, **kwargs):
            if input_schema:
                kwargs["data"] = input_schema.load({})
            resp = f(*args, **kwargs)
            if isinstance(resp, tuple):
                return resp
            if callable(output_schema):
                schema = output_schema()
            else:
                schema = output_schema
            return render(resp, schema)
        return decorated
    return decorator


def logged(label):
    """Wraps the view, dumps nothing."""
    def decorator(f):
        def wrapper(*args, **kwargs):
            print(label)
            return f(*args, **kwargs)
        return wrapper
    return decorator


REPLACEMENTS: dict = {}


def replaced(schema):
    """Dumps with what the project registered in place of the schema given: not known here."""
    schema = REPLACEMENTS.get(schema, schema)

    def decorator(f):
        def wrapper(*args, **kwargs):
            return schema.dump(f(*args, **kwargs))
        return wrapper
    return decorator


# --- the schemas ------------------------------------------------------------------------------------


class MdOwnerSchema(Schema):
    email = fields.String()


class MdShelfSchema(Schema):
    name = fields.String()
    owner = fields.Nested(MdOwnerSchema)  # expect: ORM002 "fields.Nested(MdOwnerSchema)"
    book_titles = fields.List(fields.String())  # expect: ORM002 "fields.List(fields.String())"


md_shelves_schema = MdShelfSchema(many=True)
md_shelf_schema = MdShelfSchema()


class MdBookSchema(Schema):
    title = fields.String()
    shelf = fields.Nested("MdShelfNameSchema")  # expect: ORM002 "fields.Nested(\"MdShelfNameSchema\")"


class MdShelfNameSchema(Schema):
    name = fields.String()


class MdLoadedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdUnknownBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdLoggedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdFewBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdRebindBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdPagedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)  # expect: ORM002 "fields.Nested(MdShelfNameSchema)"


class MdPagedShelfSchema(Schema):
    owner = fields.Nested(MdOwnerSchema)  # expect: ORM002 "fields.Nested(MdOwnerSchema)"


class MdEagerPagedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdFivePagedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdCutPagedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


class MdCountedBookSchema(Schema):
    shelf = fields.Nested(MdShelfNameSchema)


# --- a page of whatever query the caller passes ------------------------------------------------------


def page_of(query, args):
    """As many rows as the request asks for: `count` is no bound."""
    count = args.pop("count")
    page = args.pop("page") - 1
    total = query.count()
    return dict(items=query.offset(count * page).limit(count).all(), total=total)


def page_display(query, args):
    rows = query.offset(args["offset"]).limit(args["count"]).all()
    return {"items": rows, "total": len(rows)}


def first_five(query):
    return dict(items=query.limit(5).all(), total=query.count())


def cut_page(query):
    rows = query.all()
    return {"items": rows[:5], "total": len(rows)}


def counted(query):
    return {"items": query.count(), "total": query.count()}


# --- must be reported -------------------------------------------------------------------------------


@dumped_with(MdBookSchema(many=True))
def list_books():
    return session.scalars(select(MdBook)).all()


def shelves_page(args):
    rows = session.scalars(select(MdShelf).where(MdShelf.name.contains(args["q"]))).all()
    return dict(items=rows, total=len(rows))


class ShelvesView:
    @checked(None, md_shelves_schema)
    def get(self):
        return shelves_page({"q": ""})


class PagedBooksView:
    @checked(None, MdPagedBookSchema(many=True))
    def get(self, args):
        query = session.query(MdBook).filter(MdBook.title != "")
        return page_of(query, args)  # the rows of this query, as many as `args` asks for


class PagedShelvesView:
    @checked(None, MdPagedShelfSchema(many=True))
    def get(self, args):
        return page_display(session.query(MdShelf), args)


# --- must not be reported ---------------------------------------------------------------------------


class EagerPagedBooksView:
    @checked(None, MdEagerPagedBookSchema(many=True))
    def get(self, args):
        return page_of(session.query(MdBook).options(selectinload(MdBook.shelf)), args)


class FivePagedBooksView:
    @checked(None, MdFivePagedBookSchema(many=True))
    def get(self):
        return first_five(session.query(MdBook))  # five rows at most


class CutPagedBooksView:
    @checked(None, MdCutPagedBookSchema(many=True))
    def get(self):
        return cut_page(session.query(MdBook))  # `rows[:5]`: five rows at most


class CountedBooksView:
    @checked(None, MdCountedBookSchema(many=True))
    def get(self):
        return counted(session.query(MdBook))  # its items are a number, not rows


@dumped_with(MdLoadedBookSchema(many=True))
def list_loaded_books():
    return session.scalars(select(MdBook).options(selectinload(MdBook.shelf))).all()


class ShelfView:
    @checked(None, md_shelf_schema)  # one shelf
    def get(self, shelf_id):
        return session.get(MdShelf, shelf_id)


@checked(None, MdUnknownBookSchema(many=True))
def books_of(books):
    return books  # a parameter's rows: what their query loaded is not known


@logged(MdLoggedBookSchema(many=True))
def logged_books():
    return session.scalars(select(MdBook)).all()


@checked(MdLoggedBookSchema(many=True), None)  # the schema it loads with, not the one it dumps with
def loaded_with():
    return session.scalars(select(MdBook)).all()


@dumped_with(MdFewBookSchema(many=True))
def few_books():
    return session.scalars(select(MdBook).limit(5)).all()


@replaced(MdRebindBookSchema(many=True))
def rebound_books():
    return session.scalars(select(MdBook)).all()
