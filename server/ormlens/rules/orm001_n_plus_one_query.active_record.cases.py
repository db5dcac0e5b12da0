"""ORM001 examples, SQLAlchemy active-record bases: a project class given to Flask-SQLAlchemy as
`model_class=` (or to `declarative_base(cls=...)`) whose classmethods query `cls`; every model
inherits them, so `Entry.get(i)` in a loop is a query per item, though the method's own text says
nothing of which model.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import declarative_base


class RecordModel:
    @classmethod
    def get(cls, oid):
        return cls.query.get(oid)

    @classmethod
    def find_first(cls, **criteria):
        return cls.query.filter_by(**criteria).first()

    def describe(self):
        return type(self).__name__


class AppSQLAlchemy(SQLAlchemy):  # the project's own subclass: still Flask-SQLAlchemy
    pass


db = AppSQLAlchemy(model_class=declarative_base(cls=RecordModel, name="Model"))


class Entry(db.Model):
    __tablename__ = "entries"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String)


# --- must be reported -------------------------------------------------------------------------


def entries_for(hits):
    return [Entry.get(hit["entry_id"]) for hit in hits]  # expect: ORM001 "Entry.get(hit[\"entry_id\"])"


def first_by_title(titles):
    found = []
    for title in titles:
        found.append(Entry.find_first(title=title))  # expect: ORM001 "Entry.find_first(title=title)"
    return found


# --- must not be reported ---------------------------------------------------------------------


def one_entry(entry_id):
    return Entry.get(entry_id)


def names(entries):
    return [entry.describe() for entry in entries]  # no query in the method
