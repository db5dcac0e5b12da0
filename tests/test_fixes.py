"""The fix framework: edits land where the spans say, whatever the line endings; imports once."""

from __future__ import annotations

from pathlib import Path

from ormlens.config import Settings
from ormlens.engine import check_files
from ormlens.fixes.registry import fix_text
from ormlens.fixes.base import Edit, SourceText, apply_edits

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def findings_for(tmp_path: Path, name: str, text: str, newline: str = "\n"):
    (tmp_path / "models.py").write_text((EXAMPLES / "models.py").read_text())
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return check_files([path], Settings(), tmp_path).findings


def test_a_crlf_file_is_fixed_at_the_right_place(tmp_path: Path):
    text = (EXAMPLES / "original.py").read_text()
    crlf = text.replace("\n", "\r\n")
    findings = findings_for(tmp_path, "original.py", text, "\r\n")
    fixed, applied = fix_text(crlf, findings, Settings())
    assert [fix.kind for fix in applied] == ["or_zero"]
    assert fixed == crlf.replace("sum(p.amount for p", "sum((p.amount or 0) for p")


def test_imports_are_added_once_in_the_import_block():
    source = SourceText('"""Doc."""\nimport os\nfrom models import Payment\n\nx = 1\n')
    edit = source.ensure_import("collections", "defaultdict")
    assert apply_edits(source.text, [edit, edit]) == (  # with the standard library, before `models`
        '"""Doc."""\nimport os\nfrom collections import defaultdict\nfrom models import Payment\n\nx = 1\n')
    source = SourceText("from models import Payment\n\nx = 1\n")
    assert apply_edits(source.text, [source.ensure_import("collections", "defaultdict")]) == (
        "from collections import defaultdict\n\nfrom models import Payment\n\nx = 1\n")
    source = SourceText("import os\n")
    assert apply_edits(source.text, [source.ensure_import("sqlalchemy.orm", "selectinload")]) == (
        "import os\nfrom sqlalchemy.orm import selectinload\n")
    assert SourceText("from collections import defaultdict\n").ensure_import("collections", "defaultdict") is None


def test_overlapping_edits_are_refused():
    import pytest

    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


def test_an_insert_inside_a_replaced_statement_waits_for_the_next_round(tmp_path: Path, capsys, monkeypatch):
    """ORM004 rewrites the whole statement, ORM002 inserts `.options(...)` inside it: both cannot
    apply in one round; --diff must not crash and must apply them in turn."""
    from ormlens import cli

    (tmp_path / "models.py").write_text(
        "from sqlalchemy import ForeignKey\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class Author(Base):\n    __tablename__ = 'author'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
        "class Book(Base):\n    __tablename__ = 'book'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    author_id: Mapped[int] = mapped_column(ForeignKey('author.id'))\n"
        "    author: Mapped[Author] = relationship()\n")
    (tmp_path / "m.py").write_text(
        "from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n\nfrom models import Book\n\n\n"
        "def titles(session: Session, author_ids: list[int]):\n"
        "    books = session.scalars(select(Book).where(Book.author_id.in_(author_ids))).all()\n"
        "    for book in books:\n        print(book.author)\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--diff", "--unsafe-fixes", "m.py"]) == 1
    out = capsys.readouterr().out
    assert "Book.author_id.in_(distinct_author_ids[start:start + 1000])" in out
    assert "joinedload(Book.author)" in out


def test_fix_writes_back_in_the_files_own_encoding(tmp_path: Path, monkeypatch):
    from ormlens import cli

    (tmp_path / "models.py").write_text((EXAMPLES / "models.py").read_text())
    original = (EXAMPLES / "original.py").read_text()
    latin = "# -*- coding: latin-1 -*-\n# café\n" + original
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + original.encode())
    monkeypatch.chdir(tmp_path)
    cli.main(["check", "--fix", "latin.py", "bom.py"])
    fixed = latin.replace("sum(p.amount for p", "sum((p.amount or 0) for p")
    assert (tmp_path / "latin.py").read_bytes() == fixed.encode("latin-1")
    assert (tmp_path / "bom.py").read_bytes() == b"\xef\xbb\xbf" + original.replace(
        "sum(p.amount for p", "sum((p.amount or 0) for p").encode()
