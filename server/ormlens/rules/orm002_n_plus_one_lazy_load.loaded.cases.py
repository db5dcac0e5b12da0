"""ORM002 examples: rows a previous loop already read a relationship on. A line marked
`# expect:` must be reported with that code on that exact expression; no other line may be."""
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class LdMenu(Base):
    __tablename__ = "ld_menu"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class LdPerm(Base):
    __tablename__ = "ld_perm"
    id: Mapped[int] = mapped_column(primary_key=True)
    menu_id: Mapped[int] = mapped_column(ForeignKey("ld_menu.id"))
    menu: Mapped[LdMenu] = relationship()
    other_id: Mapped[int] = mapped_column(ForeignKey("ld_menu.id"))
    other: Mapped[LdMenu] = relationship(foreign_keys=[other_id])


def rename(session: Session, default: str):
    perms = session.query(LdPerm).all()
    to_delete = []
    to_check = []
    maybe = []
    for perm in perms:
        parts = perm.menu.name.split(".")  # expect: ORM002 "perm.menu"
        if parts[0] == default:
            to_delete.append(perm)
        if parts[1] == default:
            print(perm.other.name)  # expect: ORM002 "perm.other"
            to_check.append(perm)
        maybe.append(perm)
        print(perm.other)  # the same relationship in the same loop is reported once (above)
    for perm in to_delete:
        session.delete(perm.menu)  # read on every row before it was appended: loaded
        print(perm.other)  # expect: ORM002 "perm.other"
    for perm in to_check:
        print(perm.other)  # read in the same branch before it was appended: loaded
    for perm in maybe:
        print(perm.other)  # expect: ORM002 "perm.other"


def conditional_read(session: Session):
    to_delete = []
    for perm in session.query(LdPerm).all():
        name = perm.menu.name if perm.id else ""  # expect: ORM002 "perm.menu"
        to_delete.append(perm)
    for perm in to_delete:
        print(perm.menu)  # expect: ORM002 "perm.menu"


def read_in_blocks_before_append(session: Session, attach):
    sent = []
    failed = []
    later = []
    for perm in session.query(LdPerm).all():
        try:
            with attach(perm.menu.name):  # expect: ORM002 "perm.menu"
                print(perm.id)
        except ValueError:
            failed.append(perm)  # the `with` may have failed before reading it
        else:
            if perm.id:
                sent.append(perm)  # the whole `try` body ran: loaded
        if perm.id > 1:
            print(perm.other)  # expect: ORM002 "perm.other"
        later.append(perm)  # that `if` may not have run
    for perm in sent:
        print(perm.menu)
    for perm in failed:
        print(perm.menu)  # expect: ORM002 "perm.menu"
    for perm in later:
        print(perm.other)  # expect: ORM002 "perm.other"


def rows_keep_their_parent_through_containers(session: Session, menu_id: int):
    # Rows of `where(LdPerm.menu_id == menu_id)` all have the same parent: it loads once, also
    # after the rows go through a list or a dict.
    perms = session.query(LdPerm).filter(LdPerm.menu_id == menu_id).all()
    kept = []
    for perm in perms:
        kept.append(perm)
    for perm in kept:
        print(perm.menu.name)
    by_id = {perm.id: perm for perm in perms}
    for perm in by_id.values():
        print(perm.menu.name)


def mixed_origins_are_only_as_known_as_both(session: Session, menu_id: int):
    mine = session.query(LdPerm).filter(LdPerm.menu_id == menu_id).all()
    everyone = session.query(LdPerm).all()
    both = []
    for perm in mine:
        both.append(perm)
    for perm in everyone:
        both.append(perm)
    for perm in both:
        print(perm.menu.name)  # expect: ORM002 "perm.menu"


def the_same_list_again(session: Session):
    # The ORM keeps a loaded relation on its row: a later loop over the same rows reads memory.
    perms = session.query(LdPerm).all()
    for perm in perms:
        print(perm.menu.name)  # expect: ORM002 "perm.menu"
        if perm.id:
            print(perm.other.name)  # expect: ORM002 "perm.other"
    for perm in perms:
        print(perm.menu.name)  # loaded on every row by the loop above
        print(perm.other.name)  # expect: ORM002 "perm.other"
    kept = [perm for perm in perms if perm.id]
    for perm in kept:
        print(perm.menu.name)  # the same rows, filtered


def a_fresh_query_is_not_the_same_rows(session: Session):
    for perm in session.query(LdPerm).all():
        print(perm.menu.name)  # expect: ORM002 "perm.menu"
    for perm in session.query(LdPerm).all():
        print(perm.menu.name)  # expect: ORM002 "perm.menu"
