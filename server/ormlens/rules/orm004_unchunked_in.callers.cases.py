"""ORM004 examples across calls: an IN list made from a parameter is as long as what the callers
pass. Reported when some caller passes a list that grows with the data (the rows of a query that
is not capped, a request's input); not when every caller passes a bounded one, nor when what they
pass cannot be sized. With no caller in the project, the function is called from outside: a
parameter annotated as a list of any length is reported, an unannotated one cannot be told. A line marked `# expect:` must be reported with that code
on that exact expression; no other line may be. This file is analysed, never imported."""
import enum

from fastapi import Body, FastAPI
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

app = FastAPI()

MAX_IDS = 500


class Base(DeclarativeBase):
    pass


class CaTeam(Base):
    __tablename__ = "ca_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[list["CaMember"]] = relationship(back_populates="team")


class CaMember(Base):
    __tablename__ = "ca_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("ca_team.id"))
    team: Mapped[CaTeam] = relationship(back_populates="members")
    status: Mapped[str]


class CaTask(Base):
    __tablename__ = "ca_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("ca_member.id"))


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


# --- must be reported: some caller passes a list that grows with the data ----------------------


def tasks_of(session: Session, member_ids: list[int]):
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()  # expect: ORM004 "CaTask.member_id.in_(member_ids)"


def tasks_of_members(session: Session, members):
    ids = [m.id for m in members]
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(ids))).all()  # expect: ORM004 "CaTask.member_id.in_(ids)"


def passes_it_on(session: Session, member_ids):
    return tasks_of(session, member_ids)


def every_member(session: Session, member: CaMember):
    tasks_of(session, [member.id])  # one id here...
    everyone = session.scalars(select(CaMember)).all()
    tasks_of_members(session, everyone)  # ... every member's row there: as many as the table holds
    passes_it_on(session, [m.id for m in everyone])


def nobody_calls_it_annotated(session: Session, member_ids: "list[int] | None"):
    # No caller in the project: called from outside it (an API), with a list of any length.
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()  # expect: ORM004 "CaTask.member_id.in_(member_ids)"


@app.post("/tasks")
def tasks_requested(member_ids: list[int] = Body(...)):
    # A request's body, with no `max_length`: its sender decides how long it is.
    with Session() as session:
        return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()  # expect: ORM004 "CaTask.member_id.in_(member_ids)"


# --- must not be reported: every caller passes a bounded list, or no caller is known ------------


def tasks_of_few(session: Session, member_ids: list[int]):
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()


def tasks_of_page(session: Session, members):
    return session.scalars(select(CaTask).where(CaTask.member_id.in_([m.id for m in members]))).all()


def tasks_of_kept(session: Session, member_ids):
    return tasks_of_few(session, member_ids)  # its own callers below pass one or two ids


def bounded_callers(session: Session, member: CaMember, page_size: int):
    tasks_of_few(session, [member.id])  # one id
    tasks_of_few(session, (member.id, member.team_id))
    tasks_of_kept(session, [member.id])
    page = session.scalars(select(CaMember).order_by(CaMember.id).limit(page_size + 1)).all()
    tasks_of_page(session, page[:page_size])  # one page: as many as the author chose
    tasks_of_page(session, [member])
    tasks_of_few(session, [level.value for level in Level])  # an enum's members: a closed set


def nobody_calls_it(session: Session, member_ids):
    # No caller in the project, no annotation: what it gets cannot be told, so nothing is said.
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()


def tasks_of_two(session: Session, member_ids: tuple[int, int]):
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()  # two ids


@app.post("/tasks/few")
def tasks_requested_few(member_ids: list[int] = Body(..., max_length=100)):
    with Session() as session:  # the framework rejects a longer body
        return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()


# --- bounds the code sets before the IN list -----------------------------------------------------


@app.post("/tasks/checked")
def tasks_checked(member_ids: list[int] = Body(...)):
    if len(member_ids) > MAX_IDS:
        raise ValueError("too many ids")  # past it, at most MAX_IDS of them
    with Session() as session:
        return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()


@app.post("/tasks/clamped")
def tasks_clamped(member_ids: list[int] = Body(...)):
    if len(member_ids) > MAX_IDS:
        member_ids = member_ids[:MAX_IDS]  # clamped
    with Session() as session:
        return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()


@app.post("/tasks/warned")
def tasks_warned(member_ids: list[int] = Body(...)):
    if len(member_ids) > MAX_IDS:
        print("many ids")  # goes on with all of them
    with Session() as session:
        return session.scalars(select(CaTask).where(CaTask.member_id.in_(member_ids))).all()  # expect: ORM004 "CaTask.member_id.in_(member_ids)"


# --- one row's collection: the rows of one parent (a team's members) -----------------------------


def tasks_of_team(session: Session, team: CaTeam):
    ids = [m.id for m in team.members]  # one team's members
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(ids))).all()


def tasks_of_every_member(session: Session):
    ids = [m.id for m in session.scalars(select(CaMember)).all()]  # every member: the whole table
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(ids))).all()  # expect: ORM004 "CaTask.member_id.in_(ids)"


# --- a list made from a parameter, passed through list(), a dict, its keys -----------------------


def tasks_by_member(session: Session, members):
    by_id = {m.id: m for m in members}
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(list(by_id.keys())))).all()  # expect: ORM004 "CaTask.member_id.in_(list(by_id.keys()))"


def tasks_by_one_member(session: Session, members):
    by_id = {m.id: m for m in members}
    return session.scalars(select(CaTask).where(CaTask.member_id.in_(sorted(by_id)))).all()


def callers_of_the_dicts(session: Session, member: CaMember):
    tasks_by_member(session, session.scalars(select(CaMember)).all())  # every member
    tasks_by_one_member(session, [member])
