"""ORM002 examples: a relationship's direction (a collection or one row) comes from its own
declaration: `foreign_keys=` naming either side's columns, `primaryjoin` (the side whose column
holds the key, or `foreign()`), `remote_side=` for a self-referential one, else the inverse of its
`back_populates=` / `backref=` side. What the rows of a collection are read for is then per row of
the collection; a many-to-one read on rows that all share its key loads one parent. This file is
analysed, never imported."""

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import Session, backref, declarative_base, relationship

Base = declarative_base()


class Toy(Base):
    __tablename__ = "dir_toy"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Kid(Base):
    __tablename__ = "dir_kid"
    id = Column(Integer, primary_key=True)
    home_id = Column(Integer, ForeignKey("dir_home.id"))
    toy_id = Column(Integer, ForeignKey("dir_toy.id"))
    toy = relationship("Toy")


class Home(Base):
    __tablename__ = "dir_home"
    id = Column(Integer, primary_key=True)
    # A key to the kids' table too (the eldest): `kids` is still one-to-many, by its foreign_keys.
    eldest_id = Column(Integer, ForeignKey("dir_kid.id"))
    kids = relationship("Kid", foreign_keys=[Kid.home_id])
    kids_by_join = relationship("Kid", primaryjoin="Home.id == Kid.home_id", viewonly=True)
    eldest = relationship("Kid", primaryjoin="foreign(Home.eldest_id) == Kid.id", viewonly=True)


class Folder(Base):
    __tablename__ = "dir_folder"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    parent_id = Column(Integer, ForeignKey("dir_folder.id"))
    subfolders = relationship("Folder", backref=backref("parent", remote_side=[id]))


class Owner(Base):
    __tablename__ = "dir_owner"
    id = Column(Integer, primary_key=True)
    favorite_pet_id = Column(Integer, ForeignKey("dir_pet.id"))


class Pet(Base):
    __tablename__ = "dir_pet"
    id = Column(Integer, primary_key=True)
    name = Column(String)
    owner_id = Column(Integer, ForeignKey("dir_owner.id"))
    owner = relationship("Owner", foreign_keys=[owner_id], backref="pets")


def toys_of_kids(session: Session, eldest_id: int):
    # The homes share their `eldest_id`; `kids` is not that key's parent but a collection per home.
    for home in session.query(Home).filter(Home.eldest_id == eldest_id).all():
        for kid in home.kids:  # expect: ORM002 "home.kids"
            print(kid.toy.name)  # expect: ORM002 "kid.toy"


def toys_by_join(session: Session):
    for home in session.query(Home).all():
        for kid in home.kids_by_join:  # expect: ORM002 "home.kids_by_join"
            print(kid.toy.name)  # expect: ORM002 "kid.toy"


def eldest_of_one_home(session: Session, home_id: int):
    # `eldest` is many-to-one (foreign() on this side): one row per home, each home another one.
    for home in session.query(Home).filter(Home.id > home_id).all():
        print(home.eldest.toy_id)  # expect: ORM002 "home.eldest"


def names_in_a_folder(session: Session, parent_id: int):
    # Every folder here has the same parent: `parent` is many-to-one (remote_side), one row.
    for folder in session.query(Folder).filter(Folder.parent_id == parent_id).all():
        print(folder.name, folder.parent.name)


def subfolder_names(session: Session):
    for folder in session.query(Folder).all():
        for sub in folder.subfolders:  # expect: ORM002 "folder.subfolders"
            print(sub.name)


def pets_of_owners(session: Session, favorite_pet_id: int):
    # `pets` is the backref of a many-to-one: a collection, though Owner holds a key to the pets.
    for owner in session.query(Owner).filter(Owner.favorite_pet_id == favorite_pet_id).all():
        for pet in owner.pets:  # expect: ORM002 "owner.pets"
            print(pet.name)


def owner_of_pets(session: Session, owner_id: int):
    # Every pet here has the same owner: one row.
    for pet in session.query(Pet).filter(Pet.owner_id == owner_id).all():
        print(pet.owner.id)
