"""Cross-module behaviour: each test writes a small project into tmp_path and checks it as one
project, the way the CLI does. Positions are derived from the source text, never pasted."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ormlens.config import Settings
from ormlens.engine import Report, check_files

from helpers import locate

FLASK_MODELS = """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String(120), nullable=False)


    class Session(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
"""

SA2_MODELS = """
    from sqlalchemy import ForeignKey, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "user"
        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(120))


    class Visit(Base):
        __tablename__ = "visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
"""


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    out = {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        out[name] = path
    return out


def check(root: Path, files: dict[str, str]) -> tuple[Report, dict[str, Path]]:
    paths = write(root, files)
    report = check_files(sorted(paths.values()), Settings(), root)
    return report, paths


def span_tuple(finding) -> tuple[int, int, int, int]:
    s = finding.span
    return (s.line, s.col, s.end_line, s.end_col)


def findings_in(report: Report, path: Path, code: str | None = None) -> list:
    target = str(path.resolve())
    return [f for f in report.findings if f.path == target and (code is None or f.code == code)]


# --- a helper in another module --------------------------------------------------------------


HELPER_PROJECT = {
    "models.py": FLASK_MODELS,
    "services.py": """
        from models import Session


        def sessions_for(uid):
            return Session.query.filter_by(user_id=uid).all()
    """,
}


def test_helper_query_called_in_loop(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {**HELPER_PROJECT, "views.py": """
        from services import sessions_for


        def page(user_ids):
            out = {}
            for uid in user_ids:
                out[uid] = sessions_for(uid)
            return out
    """})
    assert report.errors == []
    views = findings_in(report, paths["views.py"])
    assert [f.code for f in views] == ["ORM001"]
    (finding,) = views
    assert span_tuple(finding) == locate(paths["views.py"], "sessions_for(uid)")
    query_span = locate(paths["services.py"], "Session.query.filter_by(user_id=uid).all()")
    assert "sessions_for" in finding.message
    assert f"services.py:{query_span[0]}" in finding.message
    assert "`user_ids`" in finding.message
    related = {(Path(r.path).name, (r.span.line, r.span.col, r.span.end_line, r.span.end_col))
               for r in finding.related}
    assert ("services.py", query_span) in related
    # the helper itself runs one query, in no loop: nothing there
    assert findings_in(report, paths["services.py"]) == []
    assert findings_in(report, paths["models.py"]) == []


def test_helper_query_called_outside_loop(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {**HELPER_PROJECT, "views.py": """
        from services import sessions_for


        def page(uid):
            return sessions_for(uid)


        def many(user_ids):
            sessions = sessions_for(user_ids[0])
            return [s.id for s in sessions]
    """})
    assert report.errors == []
    assert report.findings == []


def test_helper_via_module_attribute_in_loop(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {**HELPER_PROJECT, "views.py": """
        import services


        def page(user_ids):
            return {uid: services.sessions_for(uid) for uid in user_ids}
    """})
    assert report.errors == []
    (finding,) = findings_in(report, paths["views.py"])
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["views.py"], "services.sessions_for(uid)")
    assert "sessions_for" in finding.message


def test_session_parameter_helper_sa2(tmp_path: Path) -> None:
    """SQLAlchemy 2.0 models and `session.query(Model)` on an annotated `Session` parameter."""
    report, paths = check(tmp_path, {
        "models.py": SA2_MODELS,
        "services.py": """
            from sqlalchemy.orm import Session

            from models import Visit


            def visits_for(session: Session, uid: int):
                return session.query(Visit).filter(Visit.user_id == uid).all()
        """,
        "views.py": """
            from sqlalchemy.orm import Session

            from services import visits_for


            def page(session: Session, user_ids: list[int]):
                for uid in user_ids:
                    yield visits_for(session, uid)
        """,
    })
    assert report.errors == []
    (finding,) = findings_in(report, paths["views.py"])
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["views.py"], "visits_for(session, uid)")
    line = locate(paths["services.py"], "session.query(Visit)")[0]
    assert f"services.py:{line}" in finding.message
    assert findings_in(report, paths["services.py"]) == []


def test_helper_reexported_from_package_init(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "app/__init__.py": "from .services import sessions_for\n",
        "app/models.py": FLASK_MODELS,
        "app/services.py": """
            from .models import Session


            def sessions_for(uid):
                return Session.query.filter_by(user_id=uid).all()
        """,
        "app/views.py": """
            from app import sessions_for


            def page(user_ids):
                return [sessions_for(uid) for uid in user_ids]
        """,
    })
    assert report.errors == []
    (finding,) = report.findings
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["app/views.py"], "sessions_for(uid)")
    line = locate(paths["app/services.py"], "Session.query")[0]
    assert f"services.py:{line}" in finding.message


def test_helper_returning_a_lambda_runs_no_query(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "services.py": """
            from models import Session


            def deferred_sessions(uid):
                return lambda: Session.query.filter_by(user_id=uid).all()


            def deferred_sessions_def(uid):
                def load():
                    return Session.query.filter_by(user_id=uid).all()
                return load
        """,
        "views.py": """
            from services import deferred_sessions, deferred_sessions_def


            def page(user_ids):
                loaders = {}
                for uid in user_ids:
                    loaders[uid] = deferred_sessions(uid)
                    loaders[-uid] = deferred_sessions_def(uid)
                return loaders
        """,
    })
    assert report.errors == []
    assert report.findings == []


# --- depth --------------------------------------------------------------------------------------


def test_call_chain_across_three_modules(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "repo.py": """
            from models import Session


            def load(uid):
                return Session.query.filter_by(user_id=uid).all()
        """,
        "helpers.py": """
            from repo import load


            def a(uid):
                return b(uid)


            def b(uid):
                rows = load(uid)
                return len(rows)
        """,
        "views.py": """
            import helpers


            def page(user_ids):
                counts = []
                for uid in user_ids:
                    counts.append(helpers.a(uid))
                return counts
        """,
    })
    assert report.errors == []
    views = findings_in(report, paths["views.py"])
    assert [f.code for f in views] == ["ORM001"]
    (finding,) = views
    assert span_tuple(finding) == locate(paths["views.py"], "helpers.a(uid)")
    message = finding.message
    positions = [message.find(name) for name in ("`a()`", "`b()`", "`load()`")]
    assert -1 not in positions, message
    assert positions == sorted(positions), message
    line = locate(paths["repo.py"], "Session.query.filter_by(user_id=uid).all()")[0]
    assert f"repo.py:{line}" in message
    assert any(Path(r.path).name == "repo.py" and r.span.line == line for r in finding.related)
    # no loop anywhere else
    assert [f for f in report.findings if f not in views] == []


# --- import resolution variants -----------------------------------------------------------------

LOOP_QUERY = "User.query.filter_by(id=uid).first()"


def _assert_one_loop_query(report: Report, path: Path, snippet: str) -> None:
    assert report.errors == []
    found = findings_in(report, path)
    assert [f.code for f in found] == ["ORM001"], [f.message for f in report.findings]
    assert span_tuple(found[0]) == locate(path, snippet)


# (where the models live, where the view lives, how the view imports, how it names the model)
IMPORT_STYLES = {
    "package_relative": ("app/models.py", "app/views.py", "from .models import User", ""),
    "parent_relative": ("app/models.py", "app/web/views.py", "from ..models import User", ""),
    "module_alias": ("app/models.py", "app/views.py", "import app.models as m", "m."),
    "dotted_module": ("app/models.py", "app/views.py", "import app.models", "app.models."),
    "from_package_import_module": ("app/models.py", "app/views.py", "from app import models", "models."),
    "src_layout": ("src/pkg/models.py", "src/pkg/views.py", "from pkg.models import User", ""),
}


@pytest.mark.parametrize("style", sorted(IMPORT_STYLES))
def test_import_styles_resolve_the_model(tmp_path: Path, style: str) -> None:
    """A query is only known as one when its model resolves: each ORM001 proves the import did."""
    models, views, statement, prefix = IMPORT_STYLES[style]
    files = {models: FLASK_MODELS, views: f"""
            {statement}


            def emails(user_ids):
                for uid in user_ids:
                    print({prefix}{LOOP_QUERY})
        """}
    for package in {str(Path(p).parent) for p in (models, views)}:
        while package not in ("", ".", "src"):
            files.setdefault(f"{package}/__init__.py", "")
            package = str(Path(package).parent)
    report, paths = check(tmp_path, files)
    _assert_one_loop_query(report, paths[views], prefix + LOOP_QUERY)


def test_src_layout_sa2_session_query(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/db/__init__.py": "",
        "src/pkg/db/models.py": SA2_MODELS,
        "src/pkg/views.py": """
            from sqlalchemy.orm import Session

            from pkg.db.models import User


            def emails(session: Session, user_ids):
                for uid in user_ids:
                    print(session.query(User).filter(User.id == uid).first())
        """,
    })
    _assert_one_loop_query(report, paths["src/pkg/views.py"],
                           "session.query(User).filter(User.id == uid).first()")


def test_unresolvable_model_is_not_a_query(tmp_path: Path) -> None:
    """Control for the variants above: the same loop, with a model that cannot be found, is not
    reported; so each report above proves the import was resolved."""
    report, paths = check(tmp_path, {
        "app/__init__.py": "",
        "app/views.py": """
            from .nowhere import User


            def emails(user_ids):
                for uid in user_ids:
                    print(User.query.filter_by(id=uid).first())
        """,
    })
    assert report.errors == []
    assert report.findings == []


# --- cycles --------------------------------------------------------------------------------------


def test_import_cycle(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "a.py": """
            from b import helper


            def run(user_ids):
                for uid in user_ids:
                    helper(uid)


            def touch(uid):
                return uid
        """,
        "b.py": """
            from a import touch
            from models import User


            def helper(uid):
                touch(uid)
                return User.query.filter_by(id=uid).first()
        """,
    })
    assert report.errors == []
    (finding,) = report.findings
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["a.py"], "helper(uid)")


def test_mutual_recursion_across_modules(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "a.py": """
            import b


            def ping(uid, n):
                if n:
                    return b.pong(uid, n - 1)
                return None


            def run(user_ids):
                for uid in user_ids:
                    ping(uid, 3)
        """,
        "b.py": """
            import a
            from models import User


            def pong(uid, n):
                a.ping(uid, n)
                return User.query.filter_by(id=uid).first()
        """,
    })
    assert report.errors == []
    (finding,) = report.findings
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["a.py"], "ping(uid, 3)")


def test_star_import_cycle(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "a.py": """
            from b import *


            def run(items):
                for item in items:
                    missing(item)
        """,
        "b.py": """
            from a import *
        """,
    })
    assert report.errors == []
    assert report.findings == []


# --- not queries --------------------------------------------------------------------------------


@pytest.mark.parametrize("decorator, imports", [
    ("@functools.lru_cache", "import functools"),
    ("@functools.lru_cache(maxsize=None)", "import functools"),
    ("@lru_cache(maxsize=128)", "from functools import lru_cache"),
    ("@functools.cache", "import functools"),
])
def test_cached_helper_in_loop(tmp_path: Path, decorator: str, imports: str) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "services.py": f"""
            {imports}

            from models import User


            {decorator}
            def user_by_id(uid):
                return User.query.filter_by(id=uid).first()


            def user_by_id_uncached(uid):
                return User.query.filter_by(id=uid).first()
        """.replace("\n            ", "\n"),
        "views.py": """
            from services import user_by_id, user_by_id_uncached


            def page(user_ids):
                for uid in user_ids:
                    print(user_by_id(uid))


            def control(user_ids):
                for uid in user_ids:
                    print(user_by_id_uncached(uid))
        """,
    })
    assert report.errors == []
    # only the uncached twin (the control: same body, no decorator) is reported
    (finding,) = report.findings
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["views.py"], "user_by_id_uncached(uid)")


def test_get_calls_that_are_not_queries(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "views.py": """
            import requests
            from flask_caching import Cache

            from models import User

            cache = Cache()


            def page(urls, user_ids, users: dict[int, User]):
                http = requests.Session()
                for url in urls:
                    print(requests.Session().get(url))
                    print(http.get(url))
                seen = {}
                for uid in user_ids:
                    print(seen.get(uid))
                    print(dict.get(seen, uid))
                    print(users.get(uid))
                    print(cache.get(uid))
                    key = f"user:{uid}"
                    print(cache.get(key))


            def control(user_ids):
                for uid in user_ids:
                    print(User.query.get(uid))
        """,
    })
    assert report.errors == []
    # only the control (a real query by primary key) is reported
    (finding,) = report.findings
    assert finding.code == "ORM001"
    assert span_tuple(finding) == locate(paths["views.py"], "User.query.get(uid)")


def test_requests_session_imported_by_name(tmp_path: Path) -> None:
    """`Session` from requests is not an ORM session, even though a model is called that too."""
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "views.py": """
            from requests import Session


            def fetch(urls):
                s = Session()
                for url in urls:
                    print(s.get(url))
                    print(Session().get(url))
        """,
    })
    assert report.errors == []
    assert report.findings == []


def test_cache_parameter_get_in_loop(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "views.py": """
            from models import User


            def page(cache, user_ids):
                return [cache.get(uid) for uid in user_ids]
        """,
    })
    assert report.errors == []
    assert report.findings == []


def test_index_follows_a_changed_model(tmp_path: Path) -> None:
    """Facts are reused while nothing changes; a changed models.py (unsaved buffer, then the disk)
    changes what another module reports."""
    from ormlens.analysis.project import ProjectIndex
    from ormlens.config import Settings
    from ormlens.engine import analyze

    models = tmp_path / "models.py"
    models.write_text(
        "from flask_sqlalchemy import SQLAlchemy\n"
        "db = SQLAlchemy()\n"
        "class Payment(db.Model):\n"
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    amount = db.Column(db.Numeric(10, 2))\n"
    )
    report = tmp_path / "report.py"
    report.write_text(
        "from models import Payment\n"
        "def total():\n"
        "    return sum(p.amount for p in Payment.query.all())\n"
    )
    project = ProjectIndex(tmp_path, Settings())
    codes = lambda: [f.code for f in analyze(project, str(report), Settings())[0]]  # noqa: E731
    assert codes() == ["ORM005"]
    assert project.facts(str(report)) is project.facts(str(report))  # computed once, reused

    not_null = models.read_text().replace("db.Numeric(10, 2))", "db.Numeric(10, 2), nullable=False)")
    project.set_source(models, not_null)
    assert codes() == []
    project.set_source(models, None)  # the buffer is closed: back to the file on disk
    assert codes() == ["ORM005"]
    models.write_text(not_null)
    project.refresh(models)
    assert codes() == []


def test_call_graph_with_many_paths_is_answered_once_per_function(tmp_path: Path) -> None:
    """16 layers of 3 functions, each calling the whole next layer: 3**16 call paths. Each
    function is summarised once, so this finishes, and the query at the bottom is found."""
    layers = 16
    lines = ["from models import User", ""]
    for i in range(layers):
        for j in range(3):
            if i < layers - 1:
                body = "\n".join(f"    f{i + 1}_{k}(x)" for k in range(3))
            else:
                body = "    return User.query.get(x)"
            lines.append(f"def f{i}_{j}(x):\n{body}\n")
    lines.append("def top(ids):\n    for i in ids:\n        f0_0(i)\n")
    report, paths = check(tmp_path, {"models.py": FLASK_MODELS, "graph.py": "\n".join(lines)})
    found = findings_in(report, paths["graph.py"], "ORM001")
    assert [f.span.line for f in found] == [len("\n".join(lines).splitlines())]
    assert "f0_0()" in found[0].message and "User.query.get(x)" in found[0].message


def test_results_do_not_depend_on_the_order_of_files(tmp_path: Path) -> None:
    """A backref declared in one module, read in another: found whichever is analysed first."""
    files = {
        "models.py": """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            class Team(db.Model):
                id = db.Column(db.Integer, primary_key=True)
        """,
        "users.py": """
            from models import db


            class Member(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                team_id = db.Column(db.Integer, db.ForeignKey("team.id"))
                team = db.relationship("Team", backref="members")
        """,
        "view.py": """
            from models import Team


            def sizes():
                return [len(t.members) for t in Team.query.all()]
        """,
    }
    paths = write(tmp_path, files)
    for order in (["view.py", "users.py", "models.py"], ["users.py", "models.py", "view.py"]):
        report = check_files([paths[name] for name in order], Settings(), tmp_path)
        assert [(f.code, f.span.line) for f in findings_in(report, paths["view.py"])] == [("ORM002", 5)]


def test_a_module_first_read_while_backrefs_are_collected(tmp_path: Path) -> None:
    """Collecting backrefs builds every known model; one whose base lives in a module not read yet
    reads it then. (That used to reset the table being filled, and the analysis crashed.)"""
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "third.py": """
            from flask_sqlalchemy import SQLAlchemy

            other_db = SQLAlchemy()
            OtherBase = other_db.Model
        """,
        "other.py": """
            from third import OtherBase


            class Thing(OtherBase):
                pass
        """,
        "view.py": """
            import other
            from models import User


            def names():
                return [u.nickname for u in User.query.all()]
        """,
    })
    assert report.errors == []
    assert findings_in(report, paths["view.py"]) == []
    from ormlens.engine import fix_files

    # --diff/--fix set and release each file's text in turn, so modules are re-read mid-analysis.
    outcomes = fix_files(sorted(paths.values()), Settings(), tmp_path, unsafe=True)
    assert [o.error for o in outcomes] == [None] * len(paths)


# --- loops and helpers across modules --------------------------------------------------------------


REPOSITORY_PROJECT = {
    "models.py": FLASK_MODELS,
    "repositories/__init__.py": "",
    "repositories/sessions.py": """
        from sqlalchemy.orm import Session as DbSession

        from models import Session


        class SessionRepository:
            def __init__(self, session: DbSession):
                self.session = session

            def latest_for(self, uid):
                return self.session.query(Session).filter_by(user_id=uid).order_by(Session.id.desc()).first()

            def for_user(self, uid):
                return self.session.query(Session).filter(Session.user_id == uid)


        def open_sessions(uid):
            return Session.query.filter_by(user_id=uid)
    """,
}


def test_repository_method_in_another_module_called_per_item(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {**REPOSITORY_PROJECT, "views.py": """
        from repositories.sessions import SessionRepository


        def latest(repo: SessionRepository, user_ids):
            return [repo.latest_for(uid) for uid in user_ids]


        def latest_built_here(db, user_ids):
            repo = SessionRepository(db)
            out = {}
            while user_ids:
                uid = user_ids.pop()
                out[uid] = repo.latest_for(uid)
            return out


        def once(repo: SessionRepository, uid):
            return repo.latest_for(uid)
    """})
    assert report.errors == []
    views = paths["views.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [
        ("ORM001", locate(views, "repo.latest_for(uid)", 0)),
        ("ORM001", locate(views, "repo.latest_for(uid)", 1)),
    ]
    query = locate(paths["repositories/sessions.py"], "self.session.query(Session)")
    for finding in found:
        assert f"sessions.py:{query[0]}" in finding.message
        assert any(Path(r.path).name == "sessions.py" and r.span.line == query[0] for r in finding.related)
    assert "once per item of `user_ids`" in found[1].message
    assert findings_in(report, paths["repositories/sessions.py"]) == []


def test_query_returned_by_a_helper_in_another_module_run_per_item(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {**REPOSITORY_PROJECT, "views.py": """
        from repositories import sessions
        from repositories.sessions import SessionRepository, open_sessions


        def counts(user_ids):
            return {uid: open_sessions(uid).count() for uid in user_ids}


        def through_the_module(user_ids):
            return [sessions.open_sessions(uid).all() for uid in user_ids]


        def through_a_method(repo: SessionRepository, user_ids):
            for uid in user_ids:
                query = repo.for_user(uid)
                print(query.count())


        def run_once(user_ids):
            query = open_sessions(user_ids[0])
            return query.all(), [open_sessions(uid) for uid in user_ids]
    """})
    assert report.errors == []
    views = paths["views.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [
        ("ORM001", locate(views, "open_sessions(uid).count()")),
        ("ORM001", locate(views, "sessions.open_sessions(uid).all()")),
        ("ORM001", locate(views, "query.count()", 0)),
    ]
    assert found[0].message.startswith("`open_sessions(uid).count()` runs once per item of `user_ids`")


def test_groups_of_groupby_split_the_rows_once(tmp_path: Path) -> None:
    # A loop over one group of `itertools.groupby` visits each row once across all groups: a read
    # per row there is N reads, not N·M; what runs once per group is per item of the groupby.
    report, paths = check(tmp_path, {
        "models.py": """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            class User(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                email = db.Column(db.String(120), nullable=False)


            class Session(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                kind = db.Column(db.String(20), nullable=False)
                user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
                user = db.relationship(User)
        """,
        "views.py": """
            from itertools import groupby

            from models import Session, User


            def by_kind():
                rows = Session.query.order_by(Session.kind).all()
                for kind, sessions in groupby(rows, key=lambda s: s.kind):
                    User.query.filter_by(email=kind).count()
                    for session in sessions:
                        print(session.user.email)
        """,
    })
    assert report.errors == []
    views = paths["views.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [
        ("ORM001", locate(views, "User.query.filter_by(email=kind).count()")),
        ("ORM002", locate(views, "session.user")),
    ]
    assert found[0].message.startswith(
        "`User.query.filter_by(email=kind).count()` runs once per item of `groupby(rows, key=lambda s: s.kind)` "
        "(1 query per item, N round-trips)")
    assert found[1].message.startswith(
        "`session.user` lazy-loads `Session.user` once per item of `sessions` (N extra queries)")


def test_a_query_a_helper_returns_unrun_names_where_it_is_built(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": """
            from django.db import models


            class Author(models.Model):
                name = models.CharField(max_length=10)


            class Book(models.Model):
                author = models.ForeignKey(Author, on_delete=models.CASCADE)
        """,
        "services.py": """
            from models import Book


            def books_of(author):
                return Book.objects.filter(author=author)
        """,
        "views.py": """
            from models import Author
            from services import books_of


            def page():
                for author in Author.objects.all():
                    print(list(books_of(author)))
        """,
    })
    assert report.errors == []
    views, services = paths["views.py"], paths["services.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [("ORM001", locate(views, "list(books_of(author))"))]
    built = [r for r in found[0].related if r.message == "the query is built here"]
    assert [(r.path, (r.span.line, r.span.col, r.span.end_line, r.span.end_col)) for r in built] == [
        (str(services), locate(services, "Book.objects"))]


def test_a_sort_key_walks_its_collection_once(tmp_path: Path) -> None:
    # `sorted(query.all(), key=...)`: the key runs per item, the query in the argument once.
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "views.py": """
            from models import Session, User


            def per_user():
                for user in User.query.all():
                    print(sorted(Session.query.filter_by(user_id=user.id).all(), key=lambda s: s.id))
        """,
    })
    assert report.errors == []
    views = paths["views.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [
        ("ORM001", locate(views, "Session.query.filter_by(user_id=user.id).all()"))]
    assert "(1 query per item, N round-trips)" in found[0].message


def test_nested_loops_report_once_with_the_outermost_loop(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "models.py": FLASK_MODELS,
        "services.py": """
            from models import Session


            def sessions_for(uid):
                return Session.query.filter_by(user_id=uid).all()
        """,
        "views.py": """
            from models import Session
            from services import sessions_for


            def per_group(groups):
                for group in groups:
                    for uid in group:
                        Session.query.filter_by(user_id=uid).count()
                        sessions_for(uid)
        """,
    })
    assert report.errors == []
    views = paths["views.py"]
    found = findings_in(report, views)
    assert [(f.code, span_tuple(f)) for f in found] == [
        ("ORM001", locate(views, "Session.query.filter_by(user_id=uid).count()")),
        ("ORM001", locate(views, "sessions_for(uid)")),
    ]
    direct, helper = found
    assert direct.message == (
        "`Session.query.filter_by(user_id=uid).count()` runs once per item of `group` for each item of "
        "`groups` (2 queries per item, 2·N·M round-trips); load the rows for all items before the loop "
        "with `Session.user_id.in_(...)` in chunks and look them up by key")
    assert helper.message.startswith(
        "`sessions_for()` runs a query once per item of `group` for each item of `groups` "
        "(2 queries per item, 2·N·M round-trips): `sessions_for()` runs")
    inner, outer = locate(views, "for uid in group"), locate(views, "for group in groups")
    for finding in found:
        assert [(r.message, (r.span.line, r.span.col, r.span.end_line, r.span.end_col))
                for r in finding.related[:2]] == [
            ("the loop that repeats it: `group`", inner),
            ("the outermost loop that repeats it: `groups`", outer),
        ]


# --- names the index cannot read: library star imports (jedi), `__all__` -------------------------


LIBRARY_STAR_PROJECT = {
    "shop/__init__.py": """
        from .models import *
    """,
    "shop/models.py": """
        from decimal import Decimal
        from typing import Optional

        from sqlalchemy import *
        from sqlalchemy.orm import *


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
            price: Mapped[Optional[Decimal]] = mapped_column(Numeric(10, 2))
            author: Mapped["Author"] = relationship(back_populates="books")
    """,
    "views.py": """
        from sqlalchemy.orm import *
        from sqlalchemy import *

        from shop import *


        def books_per_author(session: Session, author_ids):
            for aid in author_ids:
                session.scalars(select(Book).where(Book.author_id == aid)).all()


        def shelf(session: Session):
            authors = session.scalars(select(Author)).all()
            return [len(a.books) for a in authors]


        def shelf_loaded(session: Session):
            authors = session.scalars(select(Author).options(selectinload(Author.books))).all()
            return [len(a.books) for a in authors]


        def total(session: Session):
            return sum(b.price for b in session.scalars(select(Book)).all())
    """,
}


def _analyze(project, path: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    from ormlens.engine import analyze

    findings, error = analyze(project, str(path.resolve()), Settings())
    assert error is None
    return sorted((f.code, span_tuple(f)) for f in findings)


def test_models_and_orm_names_from_library_star_imports(tmp_path: Path) -> None:
    """`from sqlalchemy.orm import *` in the models, re-exported by the package's `__init__` with
    a star import, then star-imported by the view: jedi says which names the library binds."""
    from ormlens.analysis.project import ProjectIndex

    paths = write(tmp_path, LIBRARY_STAR_PROJECT)
    views = paths["views.py"]
    project = ProjectIndex(tmp_path, Settings())
    expected = sorted([
        ("ORM001", locate(views, "session.scalars(select(Book).where(Book.author_id == aid))")),
        ("ORM002", locate(views, "a.books", 0)),
        ("ORM005", locate(views, "sum(b.price for b in session.scalars(select(Book)).all())")),
    ])
    assert _analyze(project, views) == expected
    assert _analyze(project, paths["shop/models.py"]) == []
    asked = project.star_exports.questions
    assert asked > 0
    # An edit (a new text for the view) asks jedi nothing again: its answers outlive the edit.
    project.set_source(views, views.read_text() + "\n\ndef more(session: Session):\n    return select(Book)\n")
    assert _analyze(project, views) == expected
    assert project.star_exports.questions == asked


def test_a_failing_jedi_leaves_names_unknown(tmp_path: Path, monkeypatch, caplog) -> None:
    from ormlens.analysis import jedi_names
    from ormlens.analysis.project import ProjectIndex

    def broken(self, module, name):
        raise RuntimeError("no environment")

    monkeypatch.setattr(jedi_names.StarExports, "_goto", broken)
    paths = write(tmp_path, LIBRARY_STAR_PROJECT)
    project = ProjectIndex(tmp_path, Settings())
    with caplog.at_level("WARNING", logger="ormlens"):
        # Without the library's names, `select()` and the models' columns are unknown: silence.
        assert _analyze(project, paths["views.py"]) == []
    assert "jedi could not resolve" in caplog.text and "RuntimeError: no environment" in caplog.text
    # One failure per library module, then no more questions about it.
    assert project.star_exports.questions == 2


def test_star_imports_inside_the_project_do_not_ask_jedi(tmp_path: Path, monkeypatch) -> None:
    from ormlens.analysis import jedi_names

    def never(self, module, name):
        raise AssertionError(f"jedi asked about {module}.{name}")

    monkeypatch.setattr(jedi_names.StarExports, "_goto", never)
    report, paths = check(tmp_path, {
        "app/__init__.py": "",
        "app/models/__init__.py": "from .user import *\n",
        "app/models/user.py": FLASK_MODELS,
        "app/views.py": """
            from .models import *


            def emails(user_ids):
                for uid in user_ids:
                    print(User.query.filter_by(id=uid).first())
        """,
    })
    _assert_one_loop_query(report, paths["app/views.py"], LOOP_QUERY)


def test_all_decides_what_a_star_import_binds(tmp_path: Path) -> None:
    report, paths = check(tmp_path, {
        "pkg/__init__.py": """
            __all__ = ["models"]
        """,
        "pkg/models.py": FLASK_MODELS,
        "pkg/public.py": """
            from .models import *

            __all__ = ["User"]
        """,
        "views.py": """
            from pkg import *


            def emails(user_ids):
                for uid in user_ids:
                    print(models.User.query.filter_by(id=uid).first())
        """,
        "other.py": """
            from pkg.public import *


            def sessions(user_ids):
                for uid in user_ids:
                    print(User.query.filter_by(id=uid).first())
                    # `Session` is not in public's `__all__`: `import *` does not bind it.
                    print(Session.query.filter_by(user_id=uid).first())
        """,
    })
    _assert_one_loop_query(report, paths["views.py"], "models." + LOOP_QUERY)
    _assert_one_loop_query(report, paths["other.py"], LOOP_QUERY)


CYCLE = {
    "pyproject.toml": "",
    "app/__init__.py": "",
    "app/models.py": """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=10)


        class Book(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    """,
    "app/a.py": """
        from app import b
        from app.models import Book


        def books():
            return Book.objects.all()


        def use_a():
            for x in b.authors():
                print(x.books.count())
    """,
    "app/b.py": """
        from app import a
        from app.models import Author


        def authors():
            return Author.objects.all()


        def use_b():
            for bk in a.books():
                print(bk.author.name)
    """,
}


@pytest.mark.parametrize("order", ["a_first", "b_first", "b_alone"])
def test_helper_return_values_across_an_import_cycle_do_not_depend_on_the_order(tmp_path: Path, order: str):
    """Two modules importing each other, each looping over the other's helper: whichever module is
    analysed first, the other's helper is still known (its module's pass is running then)."""
    for name, text in CYCLE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    a, b = tmp_path / "app/a.py", tmp_path / "app/b.py"
    files = {"a_first": [a, b], "b_first": [b, a], "b_alone": [b]}[order]
    report = check_files(files, Settings(), tmp_path)
    found = sorted((Path(f.path).name, f.code, f.span.line) for f in report.findings)
    expected = [("b.py", "ORM002", 12)] if order == "b_alone" else [("a.py", "ORM001", 12), ("b.py", "ORM002", 12)]
    assert found == expected


# --- bodies that cannot report are walked when a caller asks ------------------------------------


def test_a_body_without_a_loop_is_walked_only_when_a_caller_asks(tmp_path: Path) -> None:
    """The facts pass leaves a function body with no loop, comprehension, IN list or await to
    its callers (interpreter.MAY_REPORT): walked when asked, with what it would have given in the
    pass."""
    from ormlens.analysis.facts import FunctionRef
    from ormlens.analysis.interpreter import FactsBuilder
    from ormlens.analysis.project import ProjectIndex

    paths = write(tmp_path, {**HELPER_PROJECT, "more.py": """
        from models import Session, db


        def unused(uid):
            return db.session.get(Session, uid)


        class Reports:
            def latest(self, uid):
                return Session.query.filter_by(user_id=uid).first()

            def each(self, uids):
                return [self.latest(uid) for uid in uids]
    """})
    project = ProjectIndex(tmp_path, Settings())
    path = str(paths["more.py"].resolve())
    facts = project.facts(path)
    assert set(facts.deferred) == {"unused"}  # Reports.latest was asked for by Reports.each
    assert set(facts.functions) == {"Reports.latest", "Reports.each"}
    walked = facts.function("unused", project)
    assert "unused" not in facts.deferred and facts.functions["unused"] is walked
    whole = FactsBuilder(project.decl(path), project)
    whole.defers = False
    expected = whole.run().functions
    for name in ("unused", "Reports.latest"):
        assert [q.label for q in facts.functions[name].query_calls] == \
            [q.label for q in expected[name].query_calls] != []
    assert project.query_trace(FunctionRef(path, "unused")) is not None
    report = check_files([paths["more.py"]], Settings(), tmp_path)
    assert [(f.code, span_tuple(f)) for f in report.findings] == \
        [("ORM001", locate(paths["more.py"], "self.latest(uid)"))]
