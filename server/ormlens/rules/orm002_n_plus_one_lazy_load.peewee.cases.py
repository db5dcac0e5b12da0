"""ORM002 examples, Peewee style. A line marked `# expect:` must be reported with that code on
that exact expression; no other line may be. tests/test_peewee_runtime.py runs every function
against SQLite: those with an `# expect:` run more queries as the rows grow, the others do not."""
import peewee
from peewee import CharField, ForeignKeyField, IntegerField, Model, prefetch

db = peewee.SqliteDatabase(None)


class PwBase(Model):
    class Meta:
        database = db


class PwTeam(PwBase):
    name = CharField()


class PwUser(PwBase):
    name = CharField()
    team = ForeignKeyField(PwTeam, backref="members", null=True)


class PwTweet(PwBase):
    user = ForeignKeyField(PwUser, backref="tweets")
    body = CharField()
    likes = IntegerField(null=True)
    quoted = ForeignKeyField("self", null=True, lazy_load=False)


# --- must be reported -------------------------------------------------------------------------


def authors():
    return [t.user.name for t in PwTweet.select()]  # expect: ORM002 "t.user"


def joined_but_not_selected():
    return [t.user.name for t in PwTweet.select().join(PwUser)]  # expect: ORM002 "t.user"


def tweets_per_user():
    bodies = {}
    for u in PwUser.select():
        bodies[u.name] = [t.body for t in u.tweets]  # expect: ORM002 "u.tweets"
    return bodies


def one_level_loaded():
    # The user is joined and selected; the user's team is not.
    return [t.user.team for t in PwTweet.select(PwTweet, PwUser).join(PwUser)]  # expect: ORM002 "t.user.team"


# --- must not be reported ---------------------------------------------------------------------


def selected_and_joined():
    return [t.user.name for t in PwTweet.select(PwTweet, PwUser).join(PwUser)]


def selected_fields_and_joined():
    return [t.user.name for t in PwTweet.select(PwTweet.body, PwUser.name).join(PwUser)]


def prefetched():
    return {u.name: [t.body for t in u.tweets] for u in prefetch(PwUser.select(), PwTweet.select())}


def prefetched_by_the_query():
    return {u.name: [t.body for t in u.tweets] for u in PwUser.select().prefetch(PwTweet)}


def foreign_key_values():
    return [t.user_id for t in PwTweet.select()]


def not_lazy_loaded():
    return [t.quoted for t in PwTweet.select()]


def one_row():
    tweet = PwTweet.select().first()
    return tweet.user.name if tweet is not None else None
