"""The database a project runs on (analysis/database.py), read from its text, and ORM004's message
that states its limit: each source, none, tests' settings against the project's, the `database`
setting, and the message end to end through `ormlens check` (cache included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ormlens import cli
from ormlens.analysis.database import DIALECTS, detect, dialect_of_url
from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings, load_config, settings_from_mapping
from ormlens.rules.orm004_unchunked_in import MAX_MESSAGE, message


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def detected(root: Path) -> tuple[str, str] | None:
    """(dialect key, where it was read) of the project at `root`, every module of it loaded."""
    project = ProjectIndex(root)
    project.load([str(path) for path in sorted(root.rglob("*.py"))])
    database = project.database()
    return (database.dialect.key, database.source) if database else None


# --- each source ---------------------------------------------------------------------------------


def test_django_settings_engine(tmp_path: Path) -> None:
    write(tmp_path / "shop/settings.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}\n')
    assert detected(tmp_path) == ("postgresql", "shop/settings.py:1")
    assert detect(tmp_path, {str(tmp_path / "s.py"): 'DATABASES["default"]["ENGINE"] = "mssql"\n'},
                  {}).dialect.key == "mssql"
    assert detect(tmp_path, {str(tmp_path / "s.py"): 'DATABASES = {"default": {\n'
                             '    "ENGINE": "django.contrib.gis.db.backends.spatialite"}}\n'},
                  {}).dialect.key == "sqlite"


def test_django_engine_of_another_setting_is_not_a_database(tmp_path: Path) -> None:
    write(tmp_path / "settings.py", 'DATABASES = {"default": env.db()}\n'
          'HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.whoosh_backend.WhooshEngine"}}\n')
    assert detected(tmp_path) is None


@pytest.mark.parametrize("value, key", [
    ('dj_database_url.config(default="postgres://u@h/db")', "postgresql"),
    ('dj_database_url.parse("mysql://u@h/db")', "mysql"),
    ('env.db("DATABASE_URL", default="oracle://u@h/db")', "oracle"),
    ('{"ENGINE": os.environ.get("DB_ENGINE", "django.db.backends.sqlite3")}', "sqlite"),
])
def test_django_database_urls(tmp_path: Path, value: str, key: str) -> None:
    write(tmp_path / "settings.py", f'import os\nimport dj_database_url\nDATABASES = {{"default": {value}}}\n')
    assert detected(tmp_path) == (key, "settings.py:3")


@pytest.mark.parametrize("code, key", [
    ('engine = create_engine("postgresql+psycopg2://u@h/db")', "postgresql"),
    ('engine = sqlalchemy.create_engine(url="mssql+pyodbc://u@dsn")', "mssql"),
    ('engine = create_async_engine("postgresql+asyncpg://u@h/db")', "postgresql"),
    ('engine = create_engine(URL.create("oracle+oracledb", username="u"))', "oracle"),
    ('URI = "mariadb+mariadbconnector://u@h/db"\nengine = create_engine(URI)', "mariadb"),
    ('engine = create_engine(f"sqlite:///{path}")', "sqlite"),
])
def test_sqlalchemy_engine_urls(tmp_path: Path, code: str, key: str) -> None:
    write(tmp_path / "db.py", code + "\n")
    assert detected(tmp_path)[0] == key


def test_postgresql_drivers() -> None:
    assert DIALECTS[dialect_of_url("postgresql://h/db")].limit.endswith("(psycopg inlines them)")
    assert DIALECTS[dialect_of_url("postgresql+psycopg://h/db")].limit == "PostgreSQL allows 65,535 per statement"
    assert DIALECTS[dialect_of_url("postgresql+asyncpg://h/db")].limit == "asyncpg allows 32,767 per statement"
    assert dialect_of_url("driver://user:pass@localhost/dbname") is None  # alembic.ini's template
    assert dialect_of_url("redis://localhost") is None


@pytest.mark.parametrize("code", [
    'class Config:\n    SQLALCHEMY_DATABASE_URI = "mssql+pyodbc://u@dsn"\n',
    'app.config["SQLALCHEMY_DATABASE_URI"] = "mssql+pyodbc://u@dsn"\n',
    'app.config.update(SQLALCHEMY_DATABASE_URI="mssql+pyodbc://u@dsn")\n',
    'def create_app():\n    app.config["SQLALCHEMY_DATABASE_URI"] = os.getenv("DB", "mssql://u@dsn")\n',
])
def test_sqlalchemy_database_uri(tmp_path: Path, code: str) -> None:
    write(tmp_path / "app.py", code)
    assert detected(tmp_path)[0] == "mssql"


def test_environment_default(tmp_path: Path) -> None:
    write(tmp_path / "config.py", 'import os\nurl = os.environ.get("DATABASE_URL", "sqlite:///app.db")\n')
    assert detected(tmp_path) == ("sqlite", "config.py:2")


def test_a_value_written_out_wins_over_an_environment_default(tmp_path: Path) -> None:
    write(tmp_path / "config.py", 'import os\nDATABASE_URL = os.environ.get("DATABASE_URL") or "sqlite://"\n'
          'engine = create_engine("postgresql+psycopg://h/db")\n')
    assert detected(tmp_path) == ("postgresql", "config.py:3")


@pytest.mark.parametrize("name", [".env", ".env.example", ".env.sample"])
def test_env_files(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, "# the database\nexport DATABASE_URL='mysql://u:p@db/app'\nDEBUG=1\n")
    assert detected(tmp_path) == ("mysql", f"{name}:2")


def test_alembic_ini(tmp_path: Path) -> None:
    write(tmp_path / "alembic.ini", "[alembic]\nscript_location = migrations\nsqlalchemy.url = oracle://u@h/x\n")
    assert detected(tmp_path) == ("oracle", "alembic.ini:3")
    write(tmp_path / "alembic.ini", "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n")
    assert detected(tmp_path) is None  # the template's placeholder names none


def test_none_found(tmp_path: Path) -> None:
    write(tmp_path / "models.py", "class Order:\n    DATABASE = None\n")
    assert detected(tmp_path) is None


# --- several ------------------------------------------------------------------------------------


def test_test_settings_give_way_to_the_project_s(tmp_path: Path) -> None:
    write(tmp_path / "shop/settings/production.py",
          'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}\n')
    write(tmp_path / "shop/settings/test.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n')
    write(tmp_path / "tests/conftest.py", 'engine = create_engine("sqlite://")\n')
    assert detected(tmp_path) == ("postgresql", "shop/settings/production.py:1")


def test_settings_of_tests_examples_and_templates_alone_say_nothing(tmp_path: Path) -> None:
    write(tmp_path / "test_settings.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n')
    write(tmp_path / "testserver.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n')
    write(tmp_path / "examples/todo/config.py", 'SQLALCHEMY_DATABASE_URI = "sqlite:///todo.db"\n')
    write(tmp_path / "lib/project_template/settings.py", 'DATABASES = {"default": {"ENGINE": "x.sqlite3"}}\n')
    write(tmp_path / "lib/engines.py", 'def test_engine():\n    return create_engine("sqlite://")\n')
    write(tmp_path / ".github/upgrade-test/site/settings.py", 'DATABASES = {"default": {"ENGINE": "x.sqlite3"}}\n')
    assert detected(tmp_path) is None


def test_development_settings_give_way(tmp_path: Path) -> None:
    write(tmp_path / "settings/local.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n')
    write(tmp_path / "settings/base.py", 'DATABASES = {"default": env.db("DATABASE_URL", default="mysql://h/db")}\n')
    assert detected(tmp_path) == ("mysql", "settings/base.py:1")
    (tmp_path / "settings/base.py").unlink()
    assert detected(tmp_path) == ("sqlite", "settings/local.py:1")


def test_a_literal_in_a_function_gives_way_to_settings(tmp_path: Path) -> None:
    write(tmp_path / "app/settings.py", 'SQLALCHEMY_DATABASE_URI = "mssql+pyodbc://dsn"\n')
    write(tmp_path / "app/files.py", 'def sqlite_uri(path):\n    return URL.create("sqlite", database=path)\n')
    assert detected(tmp_path) == ("mssql", "app/settings.py:1")


def test_config_classes_of_tests_and_development_give_way(tmp_path: Path) -> None:
    write(tmp_path / "config.py", 'class DevelopmentConfig:\n    SQLALCHEMY_DATABASE_URI = "sqlite:///dev.db"\n'
          'class TestingConfig:\n    SQLALCHEMY_DATABASE_URI = "sqlite://"\n'
          'class ProductionConfig:\n    SQLALCHEMY_DATABASE_URI = "postgresql://h/db"\n')
    assert detected(tmp_path) == ("postgresql", "config.py:6")


def test_of_equally_placed_databases_the_strictest(tmp_path: Path) -> None:
    write(tmp_path / "app/db.py", 'engine = create_engine("postgresql://h/db")\n')
    write(tmp_path / "app/reports.py", 'warehouse = create_engine("mssql+pyodbc://dsn")\n')
    assert detected(tmp_path) == ("mssql", "app/reports.py:1")


# --- the setting ----------------------------------------------------------------------------------


def test_setting_is_read_and_checked(tmp_path: Path) -> None:
    settings, warnings = settings_from_mapping({"database": "oracle"})
    assert settings.database == "oracle" and warnings == []
    settings, warnings = settings_from_mapping({"database": "postgres"})
    assert settings.database is None
    assert warnings == ["setting 'database' ignored: expected one of postgresql, sqlite, mysql, mariadb, "
                        "oracle, mssql"]
    config = write(tmp_path / "pyproject.toml", '[tool.ormlens]\ndatabase = "db2"\n')
    assert load_config(config).warnings == [f"{config}: setting 'database' ignored: expected one of postgresql, "
                                            "sqlite, mysql, mariadb, oracle, mssql"]
    assert Settings(database="mssql").analysis_key() != Settings().analysis_key()  # the cache is keyed by it


# --- the message, end to end --------------------------------------------------------------------

DJANGO_MODELS = '''from django.db import models


class Order(models.Model):
    user_id = models.IntegerField()


def orders_of_every_user():
    user_ids = [order.user_id for order in Order.objects.all()]
    return list(Order.objects.filter(user_id__in=user_ids))
'''

SQLALCHEMY_MODELS = '''from sqlalchemy import Column, Integer
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer)


def orders_of_every_user(session: Session):
    user_ids = [order.user_id for order in session.query(Order).all()]
    orders = session.query(Order).filter(Order.user_id.in_(user_ids)).all()
    return orders
'''


def check(root: Path, capsys: pytest.CaptureFixture, *options: str) -> list[dict]:
    cli.main(["check", "--output-format", "json", *options, str(root)])
    return [finding for finding in json.loads(capsys.readouterr().out) if finding["code"] == "ORM004"]


def test_message_with_postgresql_settings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path / "manage.py")
    write(tmp_path / "shop/settings.py", 'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}\n')
    write(tmp_path / "shop/orders.py", DJANGO_MODELS)
    [finding] = check(tmp_path, capsys, "--no-cache")
    assert finding["message"] == (
        "`user_id__in=user_ids` binds one parameter per item of `user_ids`, which grows with the data; "
        "PostgreSQL allows 65,535 per statement (psycopg inlines them): query in chunks of 1,000")


def test_message_with_sql_server_and_its_fix(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ormlens]\nchunk-size = 5000\n")
    write(tmp_path / "app/db.py", 'engine = create_engine("mssql+pyodbc://u:p@dsn")\n')
    write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS)
    [finding] = check(tmp_path, capsys, "--no-cache")
    assert finding["message"] == (
        "`Order.user_id.in_(user_ids)` binds one parameter per item of `user_ids`, which grows with the data; "
        "SQL Server allows 2,100 per statement: query in chunks of 2,000")
    # The quick fix writes the chunks the message advises (not the chunk-size setting's 5,000).
    cli.main(["check", "--no-cache", "--diff", "--unsafe-fixes", str(tmp_path)])
    diff = capsys.readouterr().out
    assert "range(0, len(" in diff and ", 2000)" in diff and "5000" not in diff


def test_message_with_no_database_known(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS)
    write(tmp_path / "pyproject.toml")
    [finding] = check(tmp_path, capsys, "--no-cache")
    assert finding["message"] == (
        "`Order.user_id.in_(user_ids)` binds one parameter per item of `user_ids`, which grows with the data; "
        "past the database's limit it fails: query in chunks of 1,000 (limits: `ormlens rule ORM004`)")


def test_setting_overrides_detection(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path / "pyproject.toml", '[tool.ormlens]\ndatabase = "oracle"\n')
    write(tmp_path / "app/db.py", 'engine = create_engine("mssql+pyodbc://u:p@dsn")\n')
    write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS)
    [finding] = check(tmp_path, capsys, "--no-cache")
    assert "Oracle allows 1,000 per IN list: query in chunks of 1,000" in finding["message"]


def test_cached_messages_follow_the_database(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A cached finding is not reused once the database it names changed: in a module (any one),
    or in a root file (created after the run too)."""
    write(tmp_path / "pyproject.toml")
    write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS)
    write(tmp_path / "app/config.py", "DEBUG = True\n")
    assert "past the database's limit" in check(tmp_path, capsys)[0]["message"]
    write(tmp_path / "app/config.py", 'SQLALCHEMY_DATABASE_URI = "oracle://u@h/db"\n')
    assert "Oracle allows 1,000 per IN list" in check(tmp_path, capsys)[0]["message"]
    write(tmp_path / ".env", "DATABASE_URL=sqlite:///app.db\n")
    assert "SQLite allows 32,766 per statement (999 before 3.32): query in chunks of 900" in \
        check(tmp_path, capsys)[0]["message"]
    (tmp_path / ".env").unlink()
    assert "Oracle allows" in check(tmp_path, capsys)[0]["message"]
    write(tmp_path / "app/config.py", "DEBUG = False\n")
    assert "past the database's limit" in check(tmp_path, capsys)[0]["message"]


@pytest.mark.parametrize("limit", [None, *sorted({dialect.limit for dialect in DIALECTS.values()})])
def test_message_length(limit: str | None) -> None:
    long = "session.query(Invoice).filter(Invoice.customer_reference_number.in_(" + "x" * 80
    for label, argument in [("Order.user_id.in_(ids)", "ids"), (long, "x" * 60), (long[:60], "ids")]:
        text = message(label, argument, limit, 60_000)
        assert len(text) <= MAX_MESSAGE
        assert text.endswith("query in chunks of 60,000" + ("" if limit else " (limits: `ormlens rule ORM004`)"))
    assert message("Order.user_id.in_(ids)", "ids", limit, 1000).startswith(
        "`Order.user_id.in_(ids)` binds one parameter per item of `ids`, which grows with the data; ")


def test_editor_edits_change_the_database(tmp_path: Path) -> None:
    """The language server's index: an edit of a module that names a database (or comes to, or no
    longer does) drops the findings that stated it, and only an edit that could."""
    from ormlens.engine import analyze

    write(tmp_path / "pyproject.toml")
    orders = str(write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS).resolve())
    config = str(write(tmp_path / "app/config.py", "DEBUG = True\n").resolve())
    other = str(write(tmp_path / "app/other.py", "def f():\n    return 1\n").resolve())
    project = ProjectIndex(tmp_path)
    project.load([orders, config, other])

    def stated() -> str:
        [finding] = [f for f in analyze(project, orders, Settings())[0] if f.code == "ORM004"]
        return finding.message

    assert "past the database's limit" in stated()
    project.set_source(other, "def f():\n    return 2\n")
    assert project.analysed(orders)  # names no database: nothing to do again
    project.set_source(config, "def engine():\n    return create_engine('mssql+pyodbc://dsn')\n")
    assert not project.analysed(orders)
    assert "SQL Server allows 2,100 per statement" in stated()
    project.set_source(config, "def engine():\n    return create_engine('oracle://h/db')\n")  # a body only
    assert not project.analysed(orders)
    assert "Oracle allows 1,000 per IN list" in stated()
    project.set_source(config, "# the engine\ndef engine():\n    return create_engine('oracle://h/db')\n")
    assert project.analysed(orders)  # typing elsewhere in a module that names the database changes nothing
    project.set_source(config, None)
    assert "past the database's limit" in stated()
    assert "Oracle" in analyze(project, orders, Settings(database="oracle"))[0][0].message


def test_fitted_chunk_size_survives_the_plan_s_json() -> None:
    """The editor's code action carries the plan as JSON: the fitted chunk size goes with it."""
    from ormlens.findings import Span
    from ormlens.fixes.plans import ChunkInPlan, DjangoChunkPlan, from_json, to_json

    span = Span(1, 0, 1, 5)
    for plan in (ChunkInPlan(span, span, span, False, chunk_size=900),
                 DjangoChunkPlan(span, span, span, "id__in", "ids", "list", chunk_size=2000)):
        assert from_json(to_json(plan)) == plan
        assert from_json({**to_json(plan), "chunk_size": True}) is None  # not a size
    assert "chunk_size" not in to_json(ChunkInPlan(span, span, span, False))  # the setting's: as before


def test_modules_loaded_later_count(tmp_path: Path) -> None:
    """The language server reads the project's modules after analysing the open ones (load_more):
    a module read then that names the database drops the findings that stated none."""
    from ormlens.engine import analyze

    write(tmp_path / "pyproject.toml")
    orders = str(write(tmp_path / "app/orders.py", SQLALCHEMY_MODELS).resolve())
    db = str(write(tmp_path / "app/db.py", 'engine = create_async_engine("postgresql+asyncpg://h/db")\n').resolve())
    project = ProjectIndex(tmp_path)
    assert "past the database's limit" in analyze(project, orders, Settings())[0][0].message
    project.load_more([orders, db])
    assert not project.analysed(orders)
    assert "asyncpg allows 32,767 per statement" in analyze(project, orders, Settings())[0][0].message
