"""ORM001 examples, SQLAlchemy Core: statements over `Table`s run on a connection the analysis
cannot see (a parameter, `engine.connect()`, a pool's callback argument): executing a statement of
the library runs it, whatever holds it.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
import sqlalchemy as sa

metadata = sa.MetaData()
builds = sa.Table(
    "builds", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("builderid", sa.Integer),
    sa.Column("number", sa.Integer),
)
builders = sa.Table("builders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String))


# --- must be reported -------------------------------------------------------------------------


def latest_build_per_builder(conn):
    result = {}
    for builder in conn.execute(sa.select(builders.c.id, builders.c.name)).fetchall():
        q = sa.select(builds.c.number).where(builds.c.builderid == builder.id).order_by(builds.c.number.desc())
        result[builder.name] = conn.execute(q).first()  # expect: ORM001 "conn.execute(q)"
    return result


def numbers_for(engine, builder_ids):
    with engine.connect() as conn:
        return [conn.execute(sa.select(builds.c.number).where(builds.c.builderid == b)).all()  # expect: ORM001 "conn.execute(sa.select(builds.c.number).where(builds.c.builderid == b))"
                for b in builder_ids]


# --- must not be reported ---------------------------------------------------------------------


def one_statement(conn, builder_ids):
    q = sa.select(builds.c.builderid, builds.c.number).where(builds.c.builderid.in_(builder_ids[:500]))
    return conn.execute(q).fetchall()


def row_counts(conn, tables):
    # One count per table of the schema: the statement's table changes with the item, so no single
    # statement could replace the loop.
    return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in tables}


def not_a_statement(client, names):
    for name in names:
        client.execute(name)  # not a statement of the library: nothing is known of it
