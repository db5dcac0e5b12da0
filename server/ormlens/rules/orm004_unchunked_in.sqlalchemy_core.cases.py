"""ORM004 examples, SQLAlchemy Core: an IN list built from the rows a statement returned, run on a
connection the analysis cannot see.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import sqlalchemy as sa

metadata = sa.MetaData()
changes = sa.Table(
    "changes", metadata,
    sa.Column("changeid", sa.Integer, primary_key=True),
    sa.Column("when_timestamp", sa.Integer),
)


# --- must be reported -------------------------------------------------------------------------


def prune_changes(conn, horizon):
    res = conn.execute(sa.select(changes.c.changeid).where(changes.c.when_timestamp < horizon))
    ids_to_delete = [r.changeid for r in res]
    conn.execute(changes.delete().where(changes.c.changeid.in_(ids_to_delete)))  # expect: ORM004 "changes.c.changeid.in_(ids_to_delete)"


def sync_configured(conn, horizon, wanted: set):
    # A set difference is a part of its left side: as long as the rows it came from.
    old_ids = {r.changeid for r in conn.execute(sa.select(changes.c.changeid).where(changes.c.when_timestamp < horizon))}
    to_delete = old_ids - wanted
    conn.execute(changes.delete().where(changes.c.changeid.in_(list(to_delete))))  # expect: ORM004 "changes.c.changeid.in_(list(to_delete))"


# --- must not be reported ---------------------------------------------------------------------


def sync_a_few(conn, horizon):
    old_ids = {r.changeid for r in conn.execute(sa.select(changes.c.changeid).where(changes.c.when_timestamp < horizon))}
    defaults = {1, 2, 3}
    missing = defaults - old_ids  # a part of three ids
    shared = old_ids & defaults   # no longer than three ids
    conn.execute(changes.delete().where(changes.c.changeid.in_(list(missing))))
    conn.execute(changes.delete().where(changes.c.changeid.in_(shared)))



def prune_latest(conn):
    res = conn.execute(sa.select(changes.c.changeid).order_by(changes.c.changeid.desc()).limit(100))
    ids_to_delete = [r.changeid for r in res]
    conn.execute(changes.delete().where(changes.c.changeid.in_(ids_to_delete)))
