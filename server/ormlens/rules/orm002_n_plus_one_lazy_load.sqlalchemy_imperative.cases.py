"""ORM002 examples, SQLAlchemy's classical (imperative) mapping: plain classes mapped to `Table`s by
`registry.map_imperatively(...)` (1.4, 2.0) or `mapper(...)` (1.x, here through a project alias),
their relationships declared in `properties={...}`. A line marked `# expect:` must be reported with
that code on that exact expression; no other line may be."""
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session, backref, joinedload, mapper, registry, relationship, selectinload

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
map_class = mapper  # a project's alias, as `meta.mapper = orm.mapper`

ik_shelf_table = Table(
    "ik_shelf", metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(40), nullable=False),
)

ik_book_table = Table(
    "ik_book", metadata,
    Column("id", Integer, primary_key=True),
    Column("shelf_id", Integer, ForeignKey("ik_shelf.id")),
    Column("title", String(200)),
)

ik_tag_table = Table(
    "ik_tag", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
)

ik_book_tag_table = Table(
    "ik_book_tag", metadata,
    Column("book_id", Integer, ForeignKey("ik_book.id"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("ik_tag.id"), primary_key=True),
)

ik_loan_table = Table(
    "ik_loan", metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("ik_book.id")),
)


class IkShelf:
    pass


class IkBook:
    def shelf_label(self):
        return self.shelf.label


class IkTag:
    pass


class IkLoan:
    pass


class IkDraft:
    """Handed to a project object's `map_imperatively`, not to SQLAlchemy's registry: not a model."""


class IkCatalog:
    def map_imperatively(self, cls, table, properties=None):
        return cls


catalog = IkCatalog()


mapper_registry.map_imperatively(IkShelf, ik_shelf_table)
mapper_registry.map_imperatively(IkTag, ik_tag_table)
mapper_registry.map_imperatively(IkBook, ik_book_table, properties={
    "shelf": relationship(IkShelf, backref=backref("books", lazy="selectin")),
    "tags": relationship(IkTag, secondary=ik_book_tag_table, backref="books"),
    "loans": relationship(IkLoan, lazy="joined"),
})
map_class(IkLoan, ik_loan_table, properties={
    "book": relationship(IkBook),
})
catalog.map_imperatively(IkDraft, ik_shelf_table, properties={"books": relationship(IkBook)})


# --- must be reported -------------------------------------------------------------------------


def titles_with_shelves(session: Session):
    return [(b.title, b.shelf.label) for b in session.query(IkBook)]  # expect: ORM002 "b.shelf"


def tag_names(session: Session):
    for book in session.scalars(select(IkBook)):
        print([t.name for t in book.tags])  # expect: ORM002 "book.tags"


def books_per_tag(session: Session):
    return {t.name: len(t.books) for t in session.query(IkTag).all()}  # expect: ORM002 "t.books"


def loaned_titles(session: Session):
    return [loan.book.title for loan in session.query(IkLoan)]  # expect: ORM002 "loan.book"


def labels(session: Session):
    return [b.shelf_label() for b in session.query(IkBook)]  # expect: ORM002 "b.shelf_label()"


# --- must not be reported ---------------------------------------------------------------------


def loaded_shelves(session: Session):
    books = session.query(IkBook).options(joinedload(IkBook.shelf)).all()
    return [b.shelf.label for b in books]


def loaded_tags(session: Session):
    for book in session.scalars(select(IkBook).options(selectinload(IkBook.tags))):
        print(book.tags)


def loans_joined_by_mapping(session: Session):
    # `lazy="joined"` in properties: the loans come with the books.
    return [len(b.loans) for b in session.query(IkBook)]


def books_selectin_by_backref(session: Session):
    # `backref("books", lazy="selectin")`: one more query for all the shelves' books.
    return [len(s.books) for s in session.query(IkShelf)]


def drafts(session):
    return [len(d.books) for d in session.query(IkDraft)]
