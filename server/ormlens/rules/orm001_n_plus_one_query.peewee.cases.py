"""ORM001 examples, Peewee style. A line marked `# expect:` must be reported with that code on
that exact expression; no other line may be. tests/test_peewee_runtime.py runs every function
against SQLite: those with an `# expect:` run more queries as the rows grow, the others do not."""
import peewee
from peewee import CharField, ForeignKeyField, Model

db = peewee.SqliteDatabase(None)


class PqBase(Model):
    class Meta:
        database = db


class PqUser(PqBase):
    name = CharField()


class PqTweet(PqBase):
    user = ForeignKeyField(PqUser, backref="tweets")
    body = CharField()


class PqBlob(PqBase):
    hash = CharField(primary_key=True)  # its own primary key, in place of the base model's `id`


# --- must be reported -------------------------------------------------------------------------


def counts_per_user():
    return {u.name: PqTweet.select().where(PqTweet.user == u).count() for u in PqUser.select()}  # expect: ORM001 "PqTweet.select().where(PqTweet.user == u).count()"


def rows_per_user():
    out = {}
    for u in PqUser.select():
        out[u.id] = list(PqTweet.select().where(PqTweet.user == u))  # expect: ORM001 "list(PqTweet.select().where(PqTweet.user == u))"
    return out


def one_by_one():
    return [PqUser.get_by_id(t.user_id).name for t in PqTweet.select()]  # expect: ORM001 "PqUser.get_by_id(t.user_id)"


def first_tweet_each():
    return [PqTweet.select().where(PqTweet.user == u).first() for u in PqUser.select()]  # expect: ORM001 "PqTweet.select().where(PqTweet.user == u).first()"


def touch_each():
    for t in PqTweet.select():
        PqTweet.update(body=t.body + "!").where(PqTweet.id == t.id).execute()  # expect: ORM001 "PqTweet.update(body=t.body + \"!\").where(PqTweet.id == t.id).execute()"


def forget_each():
    for t in PqTweet.select():
        PqBlob.delete().where(PqBlob.hash == t.body).execute()  # expect: ORM001 "PqBlob.delete().where(PqBlob.hash == t.body).execute()"


# --- must not be reported ---------------------------------------------------------------------


def counts_at_once():
    rows = (PqTweet.select(PqTweet.user, peewee.fn.COUNT(PqTweet.id).alias("n")).group_by(PqTweet.user))
    return {row.user_id: row.n for row in rows}


def grouped_once():
    by_user = {}
    for t in PqTweet.select():
        by_user.setdefault(t.user_id, []).append(t.body)
    return {u.name: by_user.get(u.id, []) for u in PqUser.select()}


def all_at_once():
    ids = [t.user_id for t in PqTweet.select()]
    users = {u.id: u for u in PqUser.select().where(PqUser.id.in_(ids[:100]))}
    return [users[i].name for i in ids if i in users]


def update_at_once():
    return PqTweet.update(body=PqTweet.body + "!").execute()
