"""ORM001 examples, SQLAlchemy: loops whose query is not one per item though it sits in the loop —
rows tested for emptiness then iterated, a dispatch on the item's kind, a handler for a missing
item, a loop over an enumeration, one session or schema per tenant. A line marked `# expect:`
must be reported with that code on that exact expression; no other line may be. This file is
analysed, never imported."""
import enum

from sqlalchemy import ForeignKey, create_engine, func, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Kind(enum.IntEnum):
    SMALL = 1
    LARGE = 2


class Size(Kind):
    pass


class NpTenant(Base):
    __tablename__ = "np_tenant"
    id: Mapped[int] = mapped_column(primary_key=True)
    schema: Mapped[str]
    url: Mapped[str]


class NpBox(Base):
    __tablename__ = "np_box"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[int]
    tenant_id: Mapped[int] = mapped_column(ForeignKey("np_tenant.id"))


def engine_for(tenant):
    return create_engine(tenant.url)


# --- must be reported -------------------------------------------------------------------------


def rows_tested_then_per_row_query(session: Session):
    tenants = session.scalars(select(NpTenant)).all()
    if tenants:
        for tenant in tenants:
            session.scalars(select(NpBox).where(NpBox.tenant_id == tenant.id)).all()  # expect: ORM001


def query_in_the_try_body(session: Session, ids):
    for box_id in ids:
        try:
            box = session.execute(select(NpBox).where(NpBox.id == box_id)).scalar_one()  # expect: ORM001 "session.execute(select(NpBox).where(NpBox.id == box_id))"
        except NoResultFound:
            continue
        print(box)


def session_per_item_not_from_it(ids):
    for box_id in ids:
        with Session() as session:  # a session per item, on the same database
            session.get(NpBox, box_id)  # expect: ORM001 "session.get(NpBox, box_id)"


def session_per_item_naming_it(engine, tenants):
    for tenant in tenants:
        with Session(engine, info={"tenant": tenant.id}) as session:  # the same database for all
            session.get(NpBox, tenant.id)  # expect: ORM001 "session.get(NpBox, tenant.id)"


# --- must not be reported ---------------------------------------------------------------------


def rows_tested_then_read(session: Session):
    tenants = session.scalars(select(NpTenant)).all()
    if not tenants:
        return
    for tenant in tenants:
        print(tenant.schema)


def dispatch_on_the_item(session: Session, kinds):
    for kind in kinds:
        if kind == "boxes":
            session.scalar(select(func.count()).select_from(NpBox))
        elif kind == "tenants":
            session.scalar(select(func.count()).select_from(NpTenant))


def missing_from_the_cache(session: Session, cache, ids):
    for box_id in ids:
        try:
            box = cache[box_id]
        except KeyError:
            box = session.get(NpBox, box_id)
        print(box)


def loop_over_a_derived_enum(session: Session):
    for size in Size:
        session.scalar(select(func.count()).select_from(NpBox).where(NpBox.kind == size))


def box_counts_of(session: Session, kinds):
    for kind in kinds:
        session.scalar(select(func.count()).select_from(NpBox).where(NpBox.kind == kind))


def callers_pass_an_enum(session: Session):
    box_counts_of(session, Kind)
    box_counts_of(session, [Kind.SMALL])


def session_per_tenant(session: Session):
    for tenant in session.scalars(select(NpTenant)):
        with Session(bind=engine_for(tenant)) as tenant_session:
            tenant_session.scalars(select(NpBox)).all()


def session_factory_per_tenant(tenants):
    for tenant in tenants:
        tenant_session = sessionmaker(bind=engine_for(tenant))()
        tenant_session.scalar(select(func.count()).select_from(NpBox))


def schema_per_tenant(session: Session, tenants):
    for tenant in tenants:
        connection = session.connection(execution_options={"schema_translate_map": {None: tenant.schema}})
        connection.execute(select(NpBox)).all()
