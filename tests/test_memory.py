"""Bounded memory: the project index keeps the function bodies of a bounded number of lines of
modules (residency.py), lets go of what it derived for modules a server no longer needs
(`release`), and reports what it holds (`stats`). Checked through the index's own counters and
through findings, never through timings or RSS."""

from __future__ import annotations

import ast
import gc
import textwrap
from pathlib import Path

import pytest

from ormlens.analysis import project as project_module
from ormlens.analysis.project import ProjectIndex
from ormlens.analysis.residency import (
    BodyReleased,
    declared_functions,
    release_bodies,
    restore_bodies,
    restore_body,
)
from ormlens.positions import source_lines
from ormlens.config import Settings
from ormlens.engine import analyze, check_files
from ormlens.rules import REGISTRY

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")
"""

# A helper that runs a query and a generator of chunks, in a module of their own.
HELPER = """
from sqlalchemy import select

from models import Book


def books_of(session, author_id):
    return session.scalars(select(Book).where(Book.author_id == author_id)).all()


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Repository:
    def books(self, session, author_id):
        if author_id is None:
            return []
        return books_of(session, author_id)
"""

# Uses the helpers of module {i}: a query per item through a call, a lazy load per item, a loop
# over chunks (no finding: it reads the helper's body), a method of another module's class.
VIEW = """
from sqlalchemy import select

from helper_{i} import Repository, books_of, chunks
from models import Author


def report(session):
    for author in session.scalars(select(Author)).all():
        books_of(session, author.id)
        for book in author.books:
            print(book.id)


def batched(session, ids):
    for chunk in chunks(ids, 100):
        session.scalars(select(Author).where(Author.id.in_(chunk))).all()


def through_method(session, repository: Repository):
    for author in session.scalars(select(Author)).all():
        repository.books(session, author.id)


def cached(cache, session, key):
    author = cache.get(key)
    if author is None:
        author = session.get(Author, key)
        cache.set(key, author)
    return author
"""

MODULES = 12


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text(MODELS)
    for i in range(MODULES):
        (tmp_path / f"helper_{i}.py").write_text(HELPER)
        (tmp_path / f"view_{i}.py").write_text(VIEW.format(i=i))
    return tmp_path


def paths_of(root: Path) -> list[str]:
    return sorted(str(path.resolve()) for path in root.glob("*.py"))


def lines_of(path: str) -> int:
    return Path(path).read_text().count("\n") + 1


def found(findings) -> list[tuple]:
    return [(f.path, f.span, f.code, f.message, [(r.path, r.span, r.message) for r in f.related], f.data)
            for f in findings]


def analyse_all(project: ProjectIndex, paths: list[str]) -> dict[str, list[tuple]]:
    out = {}
    for path in paths:
        findings, error = analyze(project, path, Settings())
        assert error is None
        out[path] = found(findings)
    return out


def with_budget(monkeypatch, lines: int) -> None:
    monkeypatch.setattr(ProjectIndex, "WHOLE_TREE_LINES", lines)


# --- the function bodies held ---------------------------------------------------------------------


def test_whole_trees_stay_within_the_budget(project_dir, monkeypatch):
    paths = paths_of(project_dir)
    budget = 3 * max(lines_of(path) for path in paths)
    with_budget(monkeypatch, budget)
    project = ProjectIndex(project_dir, Settings())
    project.load(paths)
    assert project.stats()["modules"] == len(paths)
    assert project.stats()["whole_lines"] <= budget
    assert project.stats()["whole_trees"] <= 3
    results = analyse_all(project, project.whole_first(paths))
    stats = project.stats()
    assert stats["modules"] == len(paths)
    # Bodies are put back one function at a time (only those walked): more modules may hold a
    # few, never more lines than the budget.
    assert stats["whole_lines"] <= budget
    assert stats["facts"] == len(paths)
    assert sum(len(findings) for findings in results.values()) == 3 * MODULES  # ORM001 twice, ORM002 once


def test_findings_do_not_depend_on_the_budget(project_dir, monkeypatch):
    paths = paths_of(project_dir)
    whole = analyse_all(ProjectIndex(project_dir, Settings()), paths)
    with_budget(monkeypatch, 0)  # every body released as soon as it is not in use
    project = ProjectIndex(project_dir, Settings())
    project.load(paths)
    assert project.stats()["whole_trees"] == 0
    assert analyse_all(project, paths) == whole
    assert project.stats()["whole_trees"] == 0


def test_check_files_reports_the_same_with_every_body_released(project_dir, monkeypatch):
    files = [Path(path) for path in paths_of(project_dir)]
    whole = check_files(files, Settings(), project_dir)
    held: list[ProjectIndex] = []

    class Watched(ProjectIndex):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            held.append(self)

    with_budget(monkeypatch, 0)
    monkeypatch.setattr(project_module, "cli_body_budget", lambda lines: 0)  # the CLI's own budget too
    monkeypatch.setattr(project_module, "ProjectIndex", Watched)
    released = check_files(files, Settings(), project_dir)
    assert found(released.findings) == found(whole.findings) and released.errors == whole.errors
    assert held[0].stats()["whole_trees"] == 0
    assert held[0].stats()["modules"] == len(files)


CASES = sorted({path for rule in REGISTRY.values() for path in [rule.examples_path(), *rule.style_examples()]})


def test_rule_examples_give_the_same_findings_with_every_body_released(monkeypatch):
    """The rules' examples exercise every path of the analysis: none reads a released body."""
    whole = analyse_all(ProjectIndex(CASES[0].parent, Settings()), [str(path.resolve()) for path in CASES])
    with_budget(monkeypatch, 0)
    project = ProjectIndex(CASES[0].parent, Settings())
    project.load([str(path.resolve()) for path in CASES])
    assert analyse_all(project, [str(path.resolve()) for path in CASES]) == whole


def test_a_released_body_cannot_be_walked_by_mistake():
    tree = ast.parse(textwrap.dedent("""
        class A:
            def f(self):
                return 1

        if True:
            def g():
                x = 1
                raise ValueError(x)
    """))
    functions = declared_functions(tree.body)
    assert [f.name for f in functions] == ["f", "g"]
    source = ast.unparse(tree)
    release_bodies(tree)
    f, g = functions
    assert isinstance(f.body[-1], ast.Return) and isinstance(g.body[-1], ast.Raise)  # what returns_always reads
    with pytest.raises(BodyReleased):
        list(ast.walk(g))
    with pytest.raises(BodyReleased):
        g.body[0]
    restore_bodies(tree, source, "<test>")
    assert declared_functions(tree.body) == functions  # the same function nodes, their bodies back
    assert ast.unparse(tree) == source


# --- release and stats: what a server calls ------------------------------------------------------


def test_release_drops_exactly_the_facts_outside_keep(project_dir):
    paths = paths_of(project_dir)
    project = ProjectIndex(project_dir, Settings())
    before = analyse_all(project, paths)
    view = str((project_dir / "view_0.py").resolve())
    keep = project.closure([view])
    assert keep == {view, str((project_dir / "helper_0.py").resolve()), str((project_dir / "models.py").resolve())}
    facts = {path: project.facts(path) for path in paths}
    assert project.stats()["facts"] == len(paths)
    project.release(keep)
    stats = project.stats()
    assert stats["facts"] == len(keep)
    assert stats["whole_trees"] <= len(keep)
    assert stats["modules"] == len(paths)  # declarations stay: names resolve through them
    for path in paths:
        again = project.facts(path)
        assert (again is facts[path]) == (path in keep)  # kept: the same; the others: computed again
    assert analyse_all(project, paths) == before


def test_findings_are_the_same_after_a_release(project_dir):
    paths = paths_of(project_dir)
    project = ProjectIndex(project_dir, Settings())
    before = analyse_all(project, paths)
    project.release(set())
    stats = project.stats()
    assert stats["facts"] == 0 and stats["summaries"] == 0 and stats["whole_trees"] == 0
    assert analyse_all(project, list(reversed(paths))) == before


def test_editing_one_module_many_times_holds_nothing_more(project_dir):
    """A server's keystrokes: set_source then analyse, with a release to the open file's
    closure after each. What the index holds is the same after every edit."""
    project = ProjectIndex(project_dir, Settings())
    view = str((project_dir / "view_3.py").resolve())
    text = Path(view).read_text()
    first = None
    seen = []
    for edit in range(60):
        project.set_source(view, text + f"\n# edit {edit}\n")
        findings, _ = analyze(project, view, Settings())
        project.release(project.closure([view]))
        if first is None:
            first = found(findings)
        assert found(findings) == first
        seen.append(project.stats())
    assert all(stats == seen[0] for stats in seen)
    assert seen[0]["facts"] <= 3 and seen[0]["overrides"] == 1


def test_an_edited_module_is_parsed_again(project_dir, monkeypatch):
    with_budget(monkeypatch, 0)
    project = ProjectIndex(project_dir, Settings())
    view = str((project_dir / "view_0.py").resolve())
    findings, _ = analyze(project, view, Settings())
    assert len(findings) == 3
    project.set_source(view, Path(view).read_text().replace("books_of(session, author.id)\n", "pass\n"))
    findings, _ = analyze(project, view, Settings())
    assert [f.code for f in findings] == ["ORM001", "ORM002"]
    assert project.stats()["whole_trees"] == 0


def test_a_release_leaves_no_cyclic_garbage(project_dir):
    """With the server's GC thresholds an analysis rarely triggers a collection, so the reference
    cycles it leaves would pile up for hundreds of edits; a release collects them."""
    project = ProjectIndex(project_dir, Settings())
    view = str((project_dir / "view_5.py").resolve())
    text = Path(view).read_text()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        for _ in range(10):  # what earlier tests left (finalizers may free more on a second pass)
            if not gc.collect():
                break
        for edit in range(5):
            project.set_source(view, text + f"\n# edit {edit}\n")
            analyze(project, view, Settings())
            project.release(project.closure([view]))
            assert gc.collect() == 0
    finally:
        gc.set_threshold(*thresholds)


def test_declared_functions_are_those_outside_bodies_in_source_order():
    tree = ast.parse(textwrap.dedent("""
        try:
            def a(): pass
        except ImportError:
            def b(): pass
        else:
            def c(): pass
        finally:
            def d(): pass
        class K:
            def e(self):
                def inner(): pass
            class Meta:
                def f(self): pass
        match x:
            case 1:
                def g(): pass
    """))
    assert [f.name for f in declared_functions(tree.body)] == ["a", "b", "c", "d", "e", "f", "g"]


SHAPES = (
    "import functools\n"
    "@functools.lru_cache(maxsize=None)\n"
    "def top(a, b=2):\n"
    "    '''doc'''\n"
    "    return [x for x in range(a) if x != b]\n"
    "class K(object):\n"
    "    @property\n"
    "    def p(self): return self.q  # one line\n"
    "    if True:\n"
    "        def in_if(self, s=\"é\"):\n"
    "            t = (1,\n"
    "                 2)\n"
    "            return s.encode() + \\\n"
    "                bytes(t)\n"
    "    class Meta:\n"
    "        def nested(self):\n"
    "            async def inner():\n"
    "                await x\n"
    "            return inner\n"
    "try:\n"
    "\tdef tabbed():\n"
    "\t\treturn 1\n"
    "except ImportError:\n"
    "    pass\n"
    "async def last(): return [y async for y in z]\n"
)


def test_a_body_is_put_back_alone_at_its_place():
    """restore_body parses one function's own lines: the body it puts back is the one a parse of
    the whole module gives, line and column numbers included (decorators, methods under `if`, a
    nested class, tabs, a one-line body, continuation lines, non-ASCII text)."""
    original = ast.dump(ast.parse(SHAPES), include_attributes=True)
    tree = ast.parse(SHAPES)
    release_bodies(tree)
    lines = source_lines(SHAPES)
    functions = declared_functions(tree.body)
    assert [f.name for f in functions] == ["top", "p", "in_if", "nested", "tabbed", "last"]
    for function in functions:
        assert restore_body(function, lines, "<test>")
    assert ast.dump(tree, include_attributes=True) == original


def test_a_body_whose_lines_do_not_give_the_function_back_stays_released():
    tree = ast.parse("def f():\n    return 1\n")
    release_bodies(tree)
    (function,) = declared_functions(tree.body)
    assert not restore_body(function, ["def g():", "    return 1", ""], "<test>")  # other text
    with pytest.raises(BodyReleased):
        list(function.body)


def test_the_cli_keeps_bodies_as_far_as_memory_allows():
    """A one-shot run keeps every body of a mid-sized project parsed (no second parse), the
    editor's budget on an 850k-line one (whose memory is the target), never less than that."""
    from ormlens.analysis.project import cli_body_budget

    assert cli_body_budget(180_000) == 310_000
    assert cli_body_budget(400_000) == 200_000
    assert cli_body_budget(850_000) == ProjectIndex.WHOLE_TREE_LINES
