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


# --- must not be reported ---------------------------------------------------------------------


def prune_latest(conn):
    res = conn.execute(sa.select(changes.c.changeid).order_by(changes.c.changeid.desc()).limit(100))
    ids_to_delete = [r.changeid for r in res]
    conn.execute(changes.delete().where(changes.c.changeid.in_(ids_to_delete)))
