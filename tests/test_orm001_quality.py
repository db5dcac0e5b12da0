"""ORM001 messages on real-code shapes (reduced from a hand review of findings on open-source
projects): writes get write advice and no batch-read fix, a query built from a container filled
from the items depends on the item, labels quote the code as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from ormlens.config import Settings
from ormlens.engine import check_files

MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str]
    user_id: Mapped[int]


class Resource(Base):
    __tablename__ = "resource"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
'''


def findings(tmp_path: Path, source: str, extra: dict[str, str] | None = None) -> list:
    files = {"models.py": MODELS, **(extra or {}), "app.py": source}
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    report = check_files([tmp_path / "app.py"], Settings(), root=tmp_path)
    assert report.errors == []
    target = (tmp_path / "app.py").resolve()
    return sorted((f for f in report.findings if Path(f.path) == target), key=lambda f: f.span.line)


def test_container_filled_from_the_items_makes_the_query_depend_on_the_item(tmp_path):
    # prefect events/storage/database.py: `resource_rows.extend(...)` per event of the batch, then
    # one INSERT of `resource_rows` per batch. It was "does not depend on the item".
    found = findings(tmp_path, """
        from sqlalchemy import insert, select
        from sqlalchemy.orm import Session

        from models import Event, Resource


        def write(session: Session, batches: list[list[dict]]):
            for batch in batches:
                resource_rows = []
                for event in batch:
                    resource_rows.extend(event["resources"])
                session.execute(insert(Resource).values(resource_rows))
                by_id = {}
                for event in batch:
                    by_id[event["id"]] = event
                session.scalars(select(Event).where(Event.id.in_(list(by_id)))).all()
                seen = set()
                for event in batch:
                    seen.update(event["ids"])
                session.scalars(select(Event).where(Event.id.in_(seen))).all()
                fixed = []
                for n in [1, 2]:
                    fixed.append(n)
                session.scalars(select(Event).where(Event.id.in_(fixed))).all()
    """)
    # `seen` grows once per event of a batch whose size is not known (an item of a list): it is
    # not taken for unbounded, so its IN list is not reported.
    assert [(f.code, f.span.line) for f in found] == [("ORM001", 12), ("ORM001", 16), ("ORM001", 20),
                                                      ("ORM001", 24)]
    assert found[0].message == (
        "`session.execute(insert(Resource).values(resource_rows))` runs once per item of `batches` "
        "(4 queries per item, 4·N round-trips); it writes: insert the rows of all items with one "
        "`insert(Resource).values([...])`, or `session.execute(insert(Resource), rows)` (one executemany)")
    for finding in found[1:3]:
        assert finding.message.endswith("; load the rows for all items before the loop and look them up by key")
    # Filled from a literal only: it really does not depend on the item.
    assert found[3].message.endswith("; it does not depend on the item: run it once before the loop")


def test_writes_per_item_get_write_advice_and_no_batch_read_fix(tmp_path):
    found = findings(tmp_path, """
        import sqlalchemy as sa
        from sqlalchemy import delete
        from sqlalchemy.orm import Session

        from models import Event


        def per_id(session: Session, ids: list[int]):
            for i in ids:
                session.execute(delete(Event).where(Event.id == i))
                session.execute(sa.update(Event).where(Event.id == i).values(key="x"))
                session.query(Event).filter_by(id=i).update({"key": "y"})
                session.query(Event).filter_by(id=i).first()
    """)
    assert [f.message for f in found] == [
        "`session.execute(delete(Event).where(Event.id == i))` runs once per item of `ids` (4 queries per "
        "item, 4·N round-trips); it writes: delete them all with one `delete(Event).where(Event.id.in_(...))` "
        "(in chunks)",
        "`session.execute(sa.update(Event).where(Event.id == i).value…` runs once per item of `ids` "
        "(4 queries per item, 4·N round-trips); it writes: update them all with one "
        "`update(Event).where(Event.id.in_(...))`, or `session.execute(update(Event), rows)` with primary "
        "keys (one executemany)",
        '`session.query(Event).filter_by(id=i).update({"key": "y"})` runs'
        " once per item of `ids` (4 queries "
        "per item, 4·N round-trips); it writes: one `….filter(Event.id.in_(...)).update(...)` for all items "
        "(in chunks)",
        "`session.query(Event).filter_by(id=i).first()` runs once per item of `ids` (4 queries per item, "
        "4·N round-trips); load the rows for all items before the loop with `Event.id.in_(...)` in chunks "
        "and look them up by key",
    ]
    assert [f.data.get("write") for f in found] == ["delete", "update", "update", None]
    # The batch rewrite is offered for the read only, and it covers only the read.
    assert [(f.fix is not None) for f in found] == [False, False, False, True]
    assert [q.span.line for q in found[3].fix.queries] == [13]


def test_a_function_that_only_writes_called_per_item(tmp_path):
    found = findings(tmp_path, """
        from sqlalchemy.orm import Session

        from services import remove_resources, remove_and_read


        def per_id(session: Session, ids: list[int]):
            for i in ids:
                remove_resources(session, i)
                remove_and_read(session, i)
    """, extra={"services.py": """
        from sqlalchemy import delete, select
        from sqlalchemy.orm import Session

        from models import Event, Resource


        def remove_resources(session: Session, event_id: int):
            session.execute(delete(Resource).where(Resource.event_id == event_id))


        def remove_and_read(session: Session, event_id: int):
            remove_resources(session, event_id)
            return session.scalars(select(Event).where(Event.id == event_id)).first()
    """})
    assert [f.message for f in found] == [
        "`remove_resources()` runs a query once per item of `ids` (2 queries per item, 2·N round-trips): "
        "`remove_resources()` runs `session.execute(delete(Resource).where(Resource.event_id ==…` "
        "(services.py:8); it only writes: delete them all with one `delete(Resource).where(Resource.id.in_(...))` "
        "(in chunks)",
        "`remove_and_read()` runs a query once per item of `ids` (2 queries per item, 2·N round-trips): "
        "`remove_and_read()` runs `session.scalars(select(Event).where(Event.id == event_id))` "
        "(services.py:13); fetch what it needs for all items before the loop and pass it in",
    ]


def test_label_quotes_the_call_as_written(tmp_path):
    # langflow api/utils/mcp/flow_secrets.py: `(await session.exec(select(M).where(...))).first()`
    # was named `select(M)….all()`. The batch key is the column compared to the item (`key`), not
    # one fixed for the whole loop (`user_id`).
    found = findings(tmp_path, """
        from sqlmodel import select
        from sqlmodel.ext.asyncio.session import AsyncSession

        from models import Event


        async def resolve(session: AsyncSession, user_id: int, carried: list[tuple[str, dict]]):
            for name, config in carried:
                existing = (
                    await session.exec(select(Event).where(Event.user_id == user_id, Event.key == name))
                ).first()
    """)
    assert [f.message for f in found] == [
        "`session.exec(select(Event)…)` runs once per item of `carried` (1 query per item, N round-trips); "
        "load the rows for all items before the loop with `Event.key.in_(...)` in chunks and look them up by key"]


def test_queries_in_exclusive_arms_count_once_per_turn(tmp_path):
    # prefect api/deployments.py: an `if`/`elif` with one UPDATE in each arm was "2 queries per item".
    found = findings(tmp_path, """
        from sqlalchemy import select
        from sqlalchemy.orm import Session
        from models import Event


        def arms(session: Session, ids: list[int], flag: bool):
            for i in ids:
                if flag:
                    session.scalars(select(Event).where(Event.id == i)).all()
                elif i > 10:
                    session.scalars(select(Event).where(Event.user_id == i)).all()
                else:
                    session.scalars(select(Event).where(Event.key == "x")).all()
                    session.scalars(select(Event).where(Event.user_id == i + 1)).all()
            for i in ids:
                session.scalars(select(Event).where(Event.id == i)).all()
                if flag:
                    session.scalars(select(Event).where(Event.user_id == i)).all()
    """)
    counts = [re.search(r"\((\d+ quer\w+ per item)", f.message).group(1) for f in found]
    # The first loop: at most 2 per turn (the `else` arm), not 4; the second: 2 (both can run).
    assert counts == ["2 queries per item"] * 6


def test_a_query_built_in_a_variable_and_run_later_names_both_lines(tmp_path):
    # healthchecks hc/api/models.py: `codes = self.channel_set.order_by(...).values_list(...)`, run by
    # `map(str, codes)` on the next line; the finding at the call names where it runs and where it
    # is built (the line a developer edits).
    found = findings(tmp_path, """
        from sqlalchemy.orm import Session

        from services import keys_of


        def per_event(session: Session, ids: list[int]):
            for i in ids:
                keys_of(session, i)
    """, extra={"services.py": """
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Event


        def keys_of(session: Session, user_id: int):
            rows = session.query(Event).filter(Event.user_id == user_id)
            return ",".join(map(str, rows))
    """})
    assert [(f.span.line, [(Path(r.path).name, r.span.line, r.message) for r in f.related]) for f in found] == [
        (8, [("app.py", 7, "the loop that repeats it: `ids`"),
             ("services.py", 9, "the query `rows`"),
             ("services.py", 8, "the query is built here")]),
    ]


def test_write_advice_keys_on_the_column_compared_to_the_item(tmp_path):
    # mlflow store: a delete per request on a table whose primary key is composite was advised as
    # `delete(...).where(SqlExperimentTag.None.in_(...))`.
    found = findings(tmp_path, """
        from sqlalchemy.orm import Session

        from tags import Tag


        def archive(session: Session, requests: list[dict]):
            for request in requests:
                session.query(Tag).filter(Tag.experiment_id == request["id"]).delete()
    """, extra={"tags.py": """
        from sqlalchemy.orm import Mapped, mapped_column

        from models import Base


        class Tag(Base):
            __tablename__ = "tag"
            key: Mapped[str] = mapped_column(primary_key=True)
            experiment_id: Mapped[int] = mapped_column(primary_key=True)
    """})
    assert [f.message for f in found] == [
        "`session.query(Tag)….delete()` runs once per item of "
        "`requests` (1 query per item, N round-trips); it writes: one "
        "`….filter(Tag.experiment_id.in_(...)).delete(...)` for all items (in chunks)"]


def test_a_call_behind_an_expiring_cache_is_reported_saying_so(tmp_path):
    # Issue #14, caches that expire: `@cache.memoize(timeout=...)` runs its query once per
    # distinct item on a cold cache; `lru_cache` keeps its entries (silent).
    found = findings(tmp_path, """
        import functools

        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from models import Event
        from caching import cache


        @cache.memoize(timeout=120)
        def events_of(session: Session, user_id: int):
            return session.scalars(select(Event).where(Event.user_id == user_id)).all()


        @functools.lru_cache(maxsize=None)
        def kept(session: Session, user_id: int):
            return session.scalars(select(Event).where(Event.user_id == user_id)).all()


        def per_user(session: Session, user_ids: list[int]):
            for uid in user_ids:
                events_of(session, uid)
                kept(session, uid)
    """, extra={"caching.py": "cache = object()\n"})
    assert [(f.span.line, f.message.split(":")[0]) for f in found] == [
        (22, "`events_of()` runs a query once per item of `user_ids` on a cold cache (its cache expires, "
             "so once per distinct item) (1 query per item, N round-trips)")]
