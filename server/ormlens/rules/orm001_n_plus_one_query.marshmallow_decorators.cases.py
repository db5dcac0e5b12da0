"""ORM001 examples, marshmallow schemas dumped by a project decorator around a view: a decorator
factory whose wrapper hands the wrapped function's result, and the schema one of its parameters
is, to `schema.dump(...)` (here in a helper, of the result's "items" or of the result itself)
dumps each object the view returns when the schema is `many=True` or the dump says so: a query
in a `fields.Method` method then runs once per object, whatever the objects are. A dump the view
never reaches (it returns a response tuple, or one object) runs it once. A line marked
`# expect:` must be reported with that code on that exact expression; no other line may be. This
file is analysed, never imported."""
from functools import wraps

from marshmallow import Schema, fields
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

session = Session()


class Base(DeclarativeBase):
    pass


class MdcTeam(Base):
    __tablename__ = "mdc_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class MdcMember(Base):
    __tablename__ = "mdc_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("mdc_team.id"))


def paged(data, schema):
    if isinstance(data, dict):
        return {"items": schema.dump(data["items"], many=True), "total": data["total"]}
    return schema.dump(data)


def output(schema):
    def decorator(f):
        @wraps(f)
        def wrapper(*args, **kwargs):
            return paged(f(*args, **kwargs), schema)
        return wrapper
    return decorator


class MdcTeamSchema(Schema):
    name = fields.String()
    members = fields.Method("count_members")

    def count_members(self, team):
        return session.scalar(select(func.count(MdcMember.id)).where(MdcMember.team_id == team.id))  # expect: ORM001 "session.scalar(select(func.count(MdcMember.id)).where(MdcMember.team_id == team.id))"


class MdcOneTeamSchema(Schema):
    members = fields.Method("count_members")

    def count_members(self, team):
        return session.scalar(select(func.count(MdcMember.id)).where(MdcMember.team_id == team.id))


def teams_page(query):
    return {"items": query.all(), "total": query.count()}  # (the rows of a query it is given)


@output(MdcTeamSchema())
def list_teams(query):
    return teams_page(query)  # its "items" are dumped with many=True


@output(MdcOneTeamSchema())
def one_team(team_id):
    return session.get(MdcTeam, team_id)  # the result itself, with a schema of one object


@output(MdcOneTeamSchema())
def refused():
    return {"message": "no"}, 403
