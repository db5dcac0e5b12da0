"""ORM001 and ORM002 examples, SQLAlchemy: `super()` in a model's method, or in a base class's method
walked for a model, calls the next class's method in the model's resolution order with the same row
or class. A base's classmethod chain (`super(SoftDeleted, cls).all()`) gives a query of the model;
a `lazy="dynamic"` relationship is a query, so iterating one per row runs a query per row.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Session, backref, declarative_base, relationship, selectinload

Base = declarative_base()


class Stamped:
    @classmethod
    def everything(cls, db: Session):
        return db.query(cls)

    def to_dict(self):
        return {"id": self.id}


class SoftDeleted(Stamped):
    removed_at = Column(DateTime, nullable=True)

    @classmethod
    def everything(cls, db: Session):
        q = super(SoftDeleted, cls).everything(db)
        return q.filter(cls.removed_at.is_(None))

    def to_dict(self):
        data = super().to_dict()
        data["removed"] = self.removed_at is not None
        return data


class Team(Base):
    __tablename__ = "team"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Person(Base, SoftDeleted):
    __tablename__ = "person"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    team_id = Column(Integer, ForeignKey("team.id"))
    team = relationship(Team)

    @property
    def spellings(self):
        found = {self.name}
        for alias in self.aliases:
            found.add(alias.value)
        return found

    def to_dict(self):
        data = super().to_dict()
        data["team"] = self.team.name
        return data


class Alias(Base):
    __tablename__ = "alias"
    id = Column(Integer, primary_key=True)
    value = Column(String)
    person_id = Column(Integer, ForeignKey("person.id"))
    person = relationship(Person, backref=backref("aliases", lazy="dynamic"))


class Badge(Base, SoftDeleted):
    __tablename__ = "badge"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("team.id"))
    team = relationship(Team)

    def to_dict(self):
        data = super().to_dict()
        data["team"] = self.team.name
        return data


def spellings_through_base_chain(db: Session):
    # Person.everything -> SoftDeleted.everything -> super(SoftDeleted, cls).everything: Stamped's,
    # with cls still Person: a query of people; each spellings property iterates a dynamic relationship.
    names = set()
    for person in Person.everything(db):
        names |= person.spellings  # expect: ORM001
    return names


def dicts_through_super(db: Session):
    # Person.to_dict reads self.team after super().to_dict(): a lazy read per person.
    return [person.to_dict() for person in Person.everything(db)]  # expect: ORM002


def dicts_loaded_through_super(db: Session):
    # The query of SoftDeleted.everything for Badge, with team loaded: nothing per row.
    return [badge.to_dict() for badge in Badge.everything(db).options(selectinload(Badge.team))]


def dicts_of_one_person(db: Session, person_id: int):
    person = Person.everything(db).filter(Person.id == person_id).one()
    return person.to_dict(), person.spellings
