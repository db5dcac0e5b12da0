"""ORM002 examples, Flask-SQLAlchemy 3 style. The rows of a page (`db.paginate(...)`, its `.items`)
are rows of the model, but a page is bounded by its `per_page` (20 by default, at most
`max_per_page`), like `.limit(20)`: a loop over one page is not reported. A line marked `# expect:`
must be reported with that code on that exact expression; no other line may be."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class FsaForum(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    threads: Mapped[list["FsaThread"]] = relationship(back_populates="forum")


class FsaThread(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("fsa_forum.id"))
    forum: Mapped[FsaForum] = relationship(back_populates="threads")


def lazy():
    for forum in db.session.execute(db.select(FsaForum)).scalars():
        print(forum.threads)  # expect: ORM002 "forum.threads"
    for thread in db.session.scalars(db.select(FsaThread).order_by(FsaThread.id)):
        print(thread.forum)  # expect: ORM002 "thread.forum"
    return [len(f.threads) for f in FsaForum.query.all()]  # expect: ORM002 "f.threads"


def eager_or_bounded():
    for forum in db.session.scalars(db.select(FsaForum).options(db.selectinload(FsaForum.threads))):
        print(forum.threads)
    page = db.paginate(db.select(FsaForum), per_page=20)
    for forum in page.items:
        print(forum.threads)
    for forum in page:
        print(forum.threads)
    forum = db.get_or_404(FsaForum, 1)
    print(forum.threads)  # one row: one query


def session_query(model):
    # A project helper given the model class: what it returns is a query of that model.
    return model.query if hasattr(model, "query") else db.session.query(model)


def loaded_query(model):
    return db.session.query(model).options(db.selectinload(FsaForum.threads))


def through_a_model_helper():
    for forum in session_query(FsaForum).filter(FsaForum.id > 10).all():
        print(forum.threads)  # expect: ORM002 "forum.threads"
    for forum in loaded_query(FsaForum).all():
        print(forum.threads)  # the helper loads them
