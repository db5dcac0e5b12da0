"""What bounds a loop or an IN list besides literals and chunks: the schema (tables, columns,
keys), a project generator that yields chunks, an enumeration's members, a `tuple[X]`
annotation, request validation (`max_length`), a `.limit()` inside a subquery. Snippets reduced
from real projects' code (see each test); same conventions as test_precision.py (`# want:`)."""

from __future__ import annotations

from test_precision import check


def test_loops_over_schema_objects_are_bounded_by_the_schema(tmp_path):
    # langflow services/utils.py: a query per foreign key of every table, at start-up.
    check(tmp_path, """
        from sqlalchemy import inspect, select
        from sqlmodel import SQLModel

        from models import Order, User, db


        def first_table_owned_by(session, user_id):
            for table in SQLModel.metadata.sorted_tables:
                for foreign_key in table.foreign_keys:
                    if foreign_key.column.table.name != "user":
                        continue
                    hit = session.execute(select(1).select_from(table).where(foreign_key.parent == user_id).limit(1)).first()
                    if hit is not None:
                        return table.name
            for table in db.metadata.tables.values():
                for column in table.columns:
                    session.execute(select(column).limit(1)).first()
            for name, table in db.metadata.tables.items():
                for constraint in table.constraints:
                    session.execute(select(1).select_from(table)).first()
            for column in User.__table__.columns:
                for key in column.foreign_keys:
                    session.execute(select(1).where(key.parent == user_id)).first()
            for relationship in inspect(User).relationships:
                session.execute(select(relationship.mapper.class_)).first()
            for attr in inspect(User).mapper.attrs:
                Order.query.filter_by(user_id=user_id).first()


        def still_per_row(session, tables):
            for table in SQLModel.metadata.sorted_tables:
                for user in User.query.all():
                    Order.query.filter_by(user_id=user.id).first()  # want: ORM001
            for table in tables:
                for key in table.foreign_keys:
                    Order.query.filter_by(user_id=key).first()  # want: ORM001
    """)


def test_in_lists_bounded_by_an_enumeration_or_a_fixed_tuple(tmp_path):
    # superset daos/tag.py: `[ObjectType[t] for t in obj_types]`; ckan model/group.py:
    # `state: tuple[str] = ('active',)`.
    (tmp_path / "kinds.py").write_text(
        "import enum\n\n\nclass Kind(enum.Enum):\n    A = 1\n    B = 2\n\n\n"
        "class SubKind(Kind):\n    pass\n\n\nclass NotEnum:\n    pass\n")
    check(tmp_path, """
        from models import Order, OrderStatus, User
        from kinds import Kind, NotEnum, SubKind


        # (annotated: with no caller in the project, a parameter is reported only when declared a list)
        def by_status(names: list[str], values: list[str], states: tuple[str] = ("active",),
                      more: tuple[str, ...] = ("a",)):
            Order.query.filter(Order.status.in_([OrderStatus[n] for n in names])).all()
            Order.query.filter(Order.status.in_({OrderStatus(v) for v in values})).all()
            Order.query.filter(Order.status.in_([Kind(v) for v in values])).all()
            Order.query.filter(Order.status.in_([SubKind[n] for n in names])).all()
            User.query.filter(User.email.in_(states)).all()
            User.query.filter(User.email.in_([NotEnum(v) for v in values])).all()  # want: ORM004
            User.query.filter(User.email.in_([str(v) for v in values])).all()  # want: ORM004
            User.query.filter(User.email.in_(more)).all()  # want: ORM004
    """)


def test_parameters_annotated_as_collections_of_enum_members(tmp_path):
    # mlflow store/jobs/sqlalchemy_store.py: `current_statuses: tuple[JobStatus, ...]`, every caller
    # passing a few members: the distinct values are at most the enumeration's members.
    (tmp_path / "kinds.py").write_text(
        "import enum\n\n\nclass Kind(enum.Enum):\n    A = 1\n    B = 2\n\n\nclass NotEnum:\n    pass\n")
    check(tmp_path, """
        from typing import Sequence

        from models import Order
        from kinds import Kind, NotEnum


        def by_kind(kinds: tuple[Kind, ...], listed: list["Kind"], seq: Sequence[Kind], others: list[NotEnum],
                    ints: list[int]):
            Order.query.filter(Order.status.in_([k.value for k in kinds])).all()
            Order.query.filter(Order.status.in_(listed)).all()
            Order.query.filter(Order.status.in_(seq)).all()
            Order.query.filter(Order.status.in_(others)).all()  # want: ORM004
            Order.query.filter(Order.status.in_(ints)).all()  # want: ORM004
    """)


def test_in_lists_bounded_by_request_validation(tmp_path):
    # prefect api/ui/flow_runs.py: `flow_run_ids: list[UUID] = Body(..., max_length=200)`.
    check(tmp_path, """
        from typing import Annotated

        from fastapi import Body, Query
        from pydantic import Field, conlist

        from models import Order


        def counts(
            ids: list[int] = Body(default=..., embed=True, max_length=200),
            keys: list[int] = Query(None, max_length=50),
            tags: Annotated[list[int], Field(max_length=10)] = None,
            refs: conlist(int, max_length=20) = None,
            *,
            names: list[int] = Body(default=..., max_length=None),
            other: list[int] = Body(default=...),
            more: Annotated[list[int], Field(min_length=1)] = None,
        ):
            Order.query.filter(Order.id.in_(ids)).all()
            Order.query.filter(Order.id.in_(keys)).all()
            Order.query.filter(Order.id.in_(tags)).all()
            Order.query.filter(Order.id.in_(refs)).all()
            Order.query.filter(Order.id.in_(names)).all()  # want: ORM004
            Order.query.filter(Order.id.in_(other)).all()  # want: ORM004
            Order.query.filter(Order.id.in_(more)).all()  # want: ORM004
    """)


def test_project_generators_that_yield_chunks(tmp_path):
    # prefect events/storage/database.py: `for batch in _in_safe_batches(events)`, a generator
    # that fills a list from its parameter and yields it when a size test says so.
    check(tmp_path, """
        from models import Order, User


        def _in_safe_batches(events, limit=500):
            batch = []
            used = 0
            for event in events:
                if used + len(event.items) < limit:
                    batch.append(event)
                    used += len(event.items)
                else:
                    yield batch
                    batch = [event]
                    used = 0
            if batch:
                yield batch


        def parts_of(xs, n):
            for i in range(0, len(xs), n):
                yield xs[i:i + n]


        def groups(events):
            group = []
            for event in events:
                if group and group[-1].kind != event.kind:
                    yield group
                    group = []
                group.append(event)
            if group:
                yield group


        def running(events):
            seen = []
            for event in events:
                seen.append(event)
                if len(seen) > 10:
                    yield seen


        def each(events):
            for event in events:
                yield event


        def write(events, ids):
            for batch in _in_safe_batches(events):
                Order.query.filter(Order.id.in_([e.id for e in batch])).all()
            for part in parts_of(ids, 1000):
                Order.query.filter(Order.id.in_(part)).all()
            for group in groups(events):
                Order.query.filter_by(user_id=group[0].user_id).first()  # want: ORM001
            for seen in running(events):
                Order.query.filter_by(user_id=seen[0].user_id).first()  # want: ORM001
            for event in each(events):
                Order.query.filter_by(user_id=event.user_id).first()  # want: ORM001
    """)


def test_in_lists_of_rows_capped_by_a_limit(tmp_path):
    # superset migrations/shared/catalogs.py: ids of `session.query(subquery.c.id)` where the
    # subquery has `.limit(limit_value)` (a batch size).
    check(tmp_path, """
        import sqlalchemy as sa
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Order, User


        def delete_in_batches(session: Session, total: int, batch_size: int):
            for i in range(0, total, batch_size):
                subquery = session.query(Order.id).order_by(Order.id).offset(i).limit(batch_size).subquery()
                ids = [row.id for row in session.query(subquery.c.id).all()]
                session.execute(sa.delete(Order).where(Order.id.in_(ids)))
                more = session.execute(select(subquery.c.id)).scalars().all()
                session.execute(sa.delete(Order).where(Order.id.in_(more)))
            page = session.query(User.id).limit(batch_size).all()
            Order.query.filter(Order.user_id.in_([r.id for r in page])).all()
            unlimited = session.query(Order.id).order_by(Order.id).subquery()
            every = [row.id for row in session.query(unlimited.c.id).all()]
            session.execute(sa.delete(Order).where(Order.id.in_(every)))  # want: ORM004
            joined = [row.id for row in session.query(subquery.c.id, User.id).all()]
            session.execute(sa.delete(Order).where(Order.id.in_(joined)))  # want: ORM004
            for user in session.query(User).limit(batch_size).all():
                Order.query.filter_by(user_id=user.id).first()  # want: ORM001
    """)


def test_callers_in_tests_do_not_bound_a_parameter(tmp_path):
    # Tests pass fixtures (`[user.id]`): they say nothing of what the program passes. With only
    # test callers, the parameter is an entry point's: reported when annotated as a list.
    tests = """
        from app import orders_of, orders_of_few


        def test_orders_of(user):
            assert orders_of([user.id]) == []
            assert orders_of_few([user.id]) == []
    """
    check(tmp_path, """
        from models import Order


        def orders_of(user_ids: list[int]):
            return Order.query.filter(Order.user_id.in_(user_ids)).all()  # want: ORM004


        def orders_of_few(user_ids: list[int]):
            return Order.query.filter(Order.user_id.in_(user_ids)).all()


        def page(user):
            return orders_of_few([user.id])  # the program's own caller: one id
    """, extra={"tests/test_app.py": tests})
