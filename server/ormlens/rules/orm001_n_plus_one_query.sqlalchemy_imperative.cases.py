"""ORM001 examples, SQLAlchemy's classical (imperative) mapping: plain classes mapped to `Table`s by
`registry.map_imperatively(...)` (1.4, 2.0) or `mapper(...)` (1.x, here through a project alias).
Queries of those classes are queries of models. A line marked `# expect:` must be reported with
that code on that exact expression; no other line may be."""
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, select
from sqlalchemy.orm import mapper, registry, relationship

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
map_class = mapper  # a project's alias, as `meta.mapper = orm.mapper`

iq_dataset_table = Table(
    "iq_dataset", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("state", String(20)),
)

iq_file_table = Table(
    "iq_file", metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", String(36), ForeignKey("iq_dataset.id")),
    Column("url", String(500)),
)


class IqDataset:
    @classmethod
    def by_name(cls, session, name):
        return session.query(cls).filter(cls.name == name).first()


class IqFile:
    pass


class IqIndexEntry:
    """Handed to a project object's `map_imperatively`, not to SQLAlchemy's registry: not a model."""


class IqSchema:
    def map_imperatively(self, cls, table):
        return cls


schema = IqSchema()

mapper_registry.map_imperatively(IqDataset, iq_dataset_table)
map_class(IqFile, iq_file_table, properties={"dataset": relationship(IqDataset, lazy="joined")})
schema.map_imperatively(IqIndexEntry, iq_dataset_table)


# --- must be reported -------------------------------------------------------------------------


def check_search_hits(context, hits):
    # The rows of a search index, each looked up again in the database.
    session = context["session"]
    found = []
    for hit in hits:
        dataset_query = session.query(IqDataset).filter(IqDataset.id == hit["id"]).filter(IqDataset.state == "active")
        dataset = dataset_query.first()  # expect: ORM001 "dataset_query.first()"
        if dataset is not None:
            found.append(dataset)
    return found


def files_per_dataset(session, names):
    return {n: session.scalars(select(IqFile).where(IqFile.dataset_id == n)).all() for n in names}  # expect: ORM001 "session.scalars(select(IqFile).where(IqFile.dataset_id == n))"


def datasets_by_name(session, names):
    return [IqDataset.by_name(session, n) for n in names]  # expect: ORM001 "IqDataset.by_name(session, n)"


# --- must not be reported ---------------------------------------------------------------------


def check_search_hits_at_once(context, hits):
    session = context["session"]
    active = {d.id: d for d in session.query(IqDataset).filter(IqDataset.state == "active")}
    return [active[hit["id"]] for hit in hits if hit["id"] in active]


def datasets_of_files(session):
    # `lazy="joined"` in properties: each file's dataset comes with it.
    return [f.dataset.name for f in session.query(IqFile)]


def index_entries(context, hits):
    # Not a model: what `session.query(IqIndexEntry)` is, the checker cannot tell.
    session = context["session"]
    return [session.query(IqIndexEntry).filter_by(id=hit).first() for hit in hits]
