"""ORM002 examples, SQLAlchemy: rows a dict holds under a string key. A dict display or a
`dict(key=...)` call keeps the rows (or the query) it holds at each string key, and `d["key"]`
gives them back: through a helper's return (`return {"items": rows, "total": n}`, every `return`
holding rows of one model there), also one that pages a query its caller passes it. A key that
some `return` does not fill with rows, a value spread in (`**extra`), or a bounded slice says
nothing.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class KdTeam(Base):
    __tablename__ = "kd_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class KdPlayer(Base):
    __tablename__ = "kd_player"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    team_id: Mapped[int] = mapped_column(ForeignKey("kd_team.id"))
    team: Mapped[KdTeam] = relationship()


def listing(session: Session):
    rows = session.scalars(select(KdPlayer)).all()
    return {"items": rows, "total": len(rows)}


def page(query, size):
    return dict(items=query.limit(size).all(), total=query.count())


def loaded_listing(session: Session):
    rows = session.scalars(select(KdPlayer).options(selectinload(KdPlayer.team))).all()
    return {"items": rows, "total": len(rows)}


def maybe_listing(session: Session, enabled: bool):
    if not enabled:
        return {"items": [], "total": 0}
    rows = session.scalars(select(KdPlayer)).all()
    return {"items": rows, "total": len(rows)}


def few(session: Session):
    rows = session.scalars(select(KdPlayer)).all()
    return {"items": rows[:3], "total": len(rows)}


def spread(session: Session, extra: dict):
    rows = session.scalars(select(KdPlayer)).all()
    return {"items": rows, **extra}


# --- must be reported -------------------------------------------------------------------------------


def team_names(session: Session):
    found = listing(session)
    return [player.team.name for player in found["items"]]  # expect: ORM002 "player.team"


def paged_team_names(session: Session, size: int):
    result = page(session.query(KdPlayer).filter(KdPlayer.name != ""), size)
    for player in result["items"]:
        print(player.team.name)  # expect: ORM002 "player.team"


def local_dict(session: Session):
    held = {"rows": session.scalars(select(KdPlayer)).all()}
    for player in held["rows"]:
        print(player.team)  # expect: ORM002 "player.team"


# --- must not be reported ---------------------------------------------------------------------------


def loaded_team_names(session: Session):
    return [player.team.name for player in loaded_listing(session)["items"]]


def maybe_team_names(session: Session):
    return [player.team.name for player in maybe_listing(session, True)["items"]]  # (one path: no rows)


def few_team_names(session: Session):
    return [player.team.name for player in few(session)["items"]]  # three at most


def spread_team_names(session: Session):
    return [player.team.name for player in spread(session, {})["items"]]  # `extra` may replace them


def total_of(session: Session):
    found = listing(session)
    return [n for n in range(found["total"])]
