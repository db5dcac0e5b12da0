"""ORM004 examples, Peewee style. A line marked `# expect:` must be reported with that code on
that exact expression; no other line may be."""
from itertools import batched

import peewee
from peewee import CharField, ForeignKeyField, Model

db = peewee.SqliteDatabase(None)


class PiBase(Model):
    class Meta:
        database = db


class PiUser(PiBase):
    name = CharField()


class PiTweet(PiBase):
    user = ForeignKeyField(PiUser, backref="tweets")


# --- must be reported -------------------------------------------------------------------------


def users_of(user_ids: list[int]):
    return list(PiUser.select().where(PiUser.id.in_(user_ids)))  # expect: ORM004 "PiUser.id.in_(user_ids)"


def authors_of_all_tweets():
    ids = [t.user_id for t in PiTweet.select()]
    return list(PiUser.select().where(PiUser.id.in_(ids)))  # expect: ORM004 "PiUser.id.in_(ids)"


# --- must not be reported ---------------------------------------------------------------------


def chunked(user_ids: list[int]):
    rows = []
    for chunk in batched(user_ids, 500):
        rows += PiUser.select().where(PiUser.id.in_(chunk))
    return rows


def literal():
    return list(PiUser.select().where(PiUser.id.in_([1, 2, 3])))


def a_page_of_ids():
    ids = [t.user_id for t in PiTweet.select().limit(50)]
    return list(PiUser.select().where(PiUser.id.in_(ids)))


def subquery():
    return list(PiUser.select().where(PiUser.id.in_(PiTweet.select(PiTweet.user))))
