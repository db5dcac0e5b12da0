"""One-off code (issue #15): migrations, management commands, scripts and tests. `ormlens check`
counts their findings without showing them or failing on them and says so in its summary;
`--include one-off` shows them; the `one-off` patterns decide, and the editor shows them at
`one-off-severity`. Run on a real little project through the real engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from ormlens import cli
from ormlens.config import DEFAULT_ONE_OFF, Settings, settings_from_mapping
from ormlens.one_off import is_alembic_revision, is_one_off
from helpers import AUTHOR_BOOK_MODELS
from test_lsp import client, open_file, published, start  # noqa: F401 - `client` is the server fixture

MODELS = AUTHOR_BOOK_MODELS

PER_ROW = '''\
from app.models import Book


def names():
    return [book.author.name for book in Book.objects.all()]
'''

MIGRATION = '''\
from django.db import migrations


def fill(apps, schema_editor):
    Book = apps.get_model("app", "Book")
    for book in Book.objects.all():
        print(book.author.name)


class Migration(migrations.Migration):
    operations = [migrations.RunPython(fill)]
'''

ALEMBIC = '''\
"""add a column

Revision ID: 2b1c
"""
from app.models import Book

revision = "2b1c"
down_revision = "1a0b"


def upgrade():
    for book in Book.objects.all():
        print(book.author.name)
'''

LINE = "ORM002 `book.author` lazy-loads `Book.author`"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "pyproject.toml": "",
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/views.py": PER_ROW,
        "app/migrations/0002_fill.py": MIGRATION,
        "app/management/commands/report.py": PER_ROW,
        "db/revisions/2b1c_add_a_column.py": ALEMBIC,  # Alembic, in a folder of any name
        "scripts/backfill.py": PER_ROW,
        "tests/test_views.py": PER_ROW,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def run(project: Path, monkeypatch, capsys, *args: str) -> tuple[int, list[str]]:
    monkeypatch.chdir(project)
    status = cli.main(["check", "--no-cache", ".", *args])
    return status, capsys.readouterr().out.splitlines()


def reported(lines: list[str]) -> list[str]:
    """`path:line` of each finding line."""
    return [line.split(":")[0] + ":" + line.split(":")[1] for line in lines if LINE in line]


def test_default_output_leaves_one_off_code_out_and_says_so(project: Path, monkeypatch, capsys) -> None:
    status, lines = run(project, monkeypatch, capsys)
    assert reported(lines) == ["app/views.py:5"]
    assert lines[-2:] == ["Found 1 error.", "5 findings in one-off code (migrations, management commands, "
                                             "scripts, tests) not shown: --include one-off"]
    assert status == 1


def test_one_off_findings_alone_do_not_fail_the_run(project: Path, monkeypatch, capsys) -> None:
    (project / "app/views.py").write_text("def names():\n    return []\n")
    status, lines = run(project, monkeypatch, capsys)
    assert lines == ["All checks passed!", "5 findings in one-off code (migrations, management commands, "
                                           "scripts, tests) not shown: --include one-off"]
    assert status == 0


def test_include_one_off_shows_and_counts_them(project: Path, monkeypatch, capsys) -> None:
    status, lines = run(project, monkeypatch, capsys, "--include", "one-off")
    assert reported(lines) == ["app/management/commands/report.py:5", "app/migrations/0002_fill.py:7",
                               "app/views.py:5", "db/revisions/2b1c_add_a_column.py:13",
                               "scripts/backfill.py:5", "tests/test_views.py:5"]
    assert lines[-1] == "Found 6 errors."
    assert status == 1


def test_json_output_leaves_them_out_too(project: Path, monkeypatch, capsys) -> None:
    status, lines = run(project, monkeypatch, capsys, "--output-format", "json")
    assert [Path(f["filename"]).relative_to(project.resolve()).as_posix()
            for f in json.loads("\n".join(lines))] == ["app/views.py"]


def test_the_patterns_are_settings(project: Path, monkeypatch, capsys) -> None:
    # Only the tests are one-off here; Alembic revisions stay one-off wherever they are.
    (project / "pyproject.toml").write_text('[tool.ormlens]\none-off = ["tests/"]\n')
    status, lines = run(project, monkeypatch, capsys)
    assert reported(lines) == ["app/management/commands/report.py:5", "app/migrations/0002_fill.py:7",
                               "app/views.py:5", "scripts/backfill.py:5"]
    assert lines[-1].startswith("2 findings in one-off code")
    # extend-one-off adds to the defaults; an empty list makes nothing one-off.
    (project / "pyproject.toml").write_text('[tool.ormlens]\nextend-one-off = ["app/views.py"]\n')
    assert reported(run(project, monkeypatch, capsys)[1]) == []
    (project / "pyproject.toml").write_text('[tool.ormlens]\none-off = []\n')
    status, lines = run(project, monkeypatch, capsys)
    assert len(reported(lines)) == 6 and lines[-1] == "Found 6 errors."


def test_fix_leaves_one_off_code_alone_unless_included(project: Path, monkeypatch, capsys) -> None:
    migration = project / "app/migrations/0002_fill.py"
    run(project, monkeypatch, capsys, "--fix")
    assert 'Book.objects.all().select_related("author")' in (project / "app/views.py").read_text()
    assert migration.read_text() == MIGRATION
    run(project, monkeypatch, capsys, "--fix", "--include", "one-off")
    assert 'Book.objects.all().select_related("author")' in migration.read_text()


def test_what_is_one_off(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.one_off == DEFAULT_ONE_OFF
    one_off = ["app/migrations/0001_initial.py", "mlflow/store/db_migrations/versions/x.py", "alembic/env.py",
               "shop/management/commands/import_all.py", "scripts/seed.py", "manage.py", "src/pkg/tests/test_a.py",
               "test_b.py", "pkg/b_test.py", "conftest.py"]
    production = ["app/views.py", "app/migration_utils.py", "app/management/__init__.py", "app/testing_views.py",
                  "app/contest.py", "app/latest_test_results.py"]
    for name in one_off + production:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert [n for n in one_off if not is_one_off(tmp_path / n, tmp_path, settings)] == []
    assert [n for n in production if is_one_off(tmp_path / n, tmp_path, settings)] == []
    assert is_alembic_revision(ALEMBIC)
    assert not is_alembic_revision("down_revision = 1\n")  # no upgrade()
    assert not is_alembic_revision("def upgrade():\n    pass\n")


def test_bad_settings_are_named() -> None:
    settings, warnings = settings_from_mapping({"one-off": "tests/", "oneOffSeverity": "loud"})
    assert settings.one_off == DEFAULT_ONE_OFF and settings.one_off_severity == "information"
    assert warnings == ["setting 'one-off' ignored: expected a list of glob patterns",
                        "setting 'oneOffSeverity' ignored: expected one of error, warning, information, hint"]
    settings, warnings = settings_from_mapping({"oneOffSeverity": "hint", "extendOneOff": ["jobs/"]})
    assert settings.one_off_severity == "hint" and settings.one_off == (*DEFAULT_ONE_OFF, "jobs/") and not warnings


async def test_the_editor_shows_one_off_findings_at_information(client, project: Path) -> None:  # noqa: F811
    await start(client, project)
    [view] = await published(client, open_file(client, project / "app/views.py"), 1)
    [migration] = await published(client, open_file(client, project / "app/migrations/0002_fill.py"), 1)
    assert (view.code, view.severity) == ("ORM002", lsp.DiagnosticSeverity.Warning)
    assert (migration.code, migration.severity) == ("ORM002", lsp.DiagnosticSeverity.Information)
