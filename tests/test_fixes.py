"""The fix framework: edits land where the spans say, whatever the line endings; imports once."""

from __future__ import annotations

from pathlib import Path

from ormlens.config import Settings
from ormlens.engine import check_files
from ormlens.fixes import fix_text
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
