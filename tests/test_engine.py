"""The engine: never imports what it reads, survives files it cannot read, applies `# noqa` and
select/ignore, and contains a failing rule."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from ormlens import engine
from ormlens.config import Settings
from ormlens.engine import Report, check_files

from helpers import locate
from ormlens.rules import REGISTRY

MODELS = """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)


    class Payment(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
        amount = db.Column(db.Numeric(10, 2))
"""

N_PLUS_ONE = """
    from models import Payment


    def totals(user_ids):
        out = {}
        for uid in user_ids:
            out[uid] = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())
        return out
"""

QUERY = "Payment.query.filter_by(user_id=uid).all()"
SUM = "sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())"


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(root: Path, files: list[Path], settings: Settings = Settings()) -> Report:
    return check_files(files, settings, root)


def spans(report: Report, code: str | None = None) -> set[tuple]:
    return {(Path(f.path).name, f.code, f.span.line, f.span.col, f.span.end_line, f.span.end_col)
            for f in report.findings if code is None or f.code == code}


def at(path: Path, code: str, snippet: str, occurrence: int = 0) -> tuple:
    return (path.name, code, *locate(path, snippet, occurrence))


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    models = write(tmp_path, "models.py", MODELS)
    module = write(tmp_path, "totals.py", N_PLUS_ONE)
    return models, module


def test_baseline(tmp_path: Path, project) -> None:
    models, module = project
    report = run(tmp_path, [models, module])
    assert report.errors == []
    assert spans(report) == {at(module, "ORM001", QUERY), at(module, "ORM005", SUM)}


# --- never imports -------------------------------------------------------------------------------


def test_never_imports_or_runs_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    models_marker = tmp_path / "models_marker.txt"
    name = "ormlens_side_effect_probe_q7x"
    models_name = "ormlens_side_effect_models_q7x"
    write(tmp_path, f"{models_name}.py", f"open({str(models_marker)!r}, 'w').write('x')\n"
          + textwrap.dedent(MODELS))
    module = write(tmp_path, f"{name}.py", f"""
        import sys

        open({str(marker)!r}, "w").write("x")
        sys.exit("ran at import")

        from {models_name} import Payment


        def totals(user_ids):
            return [Payment.query.filter_by(user_id=uid).all() for uid in user_ids]
    """)
    before = set(sys.modules)
    report = run(tmp_path, sorted(tmp_path.glob("*.py")))
    assert report.errors == []
    assert spans(report) == {at(module, "ORM001", QUERY)}
    assert not marker.exists()
    assert not models_marker.exists()
    assert name not in sys.modules
    assert models_name not in sys.modules
    assert not any(n in (name, models_name) for n in set(sys.modules) - before)


# --- files that cannot be analysed ---------------------------------------------------------------


def test_syntax_error_is_one_line_and_others_still_analysed(tmp_path: Path, project) -> None:
    models, module = project
    broken = write(tmp_path, "broken.py", "def f(:\n    return 1\n")
    report = run(tmp_path, [broken, models, module])
    assert len(report.errors) == 1
    (error,) = report.errors
    assert "\n" not in error
    assert "broken.py" in error
    assert "syntax error" in error
    assert spans(report) == {at(module, "ORM001", QUERY), at(module, "ORM005", SUM)}


def test_invalid_utf8_is_one_line_error(tmp_path: Path, project) -> None:
    models, module = project
    bad = write(tmp_path, "latin.py", b"name = '\xff\xfe caf\xe9'\n")
    report = run(tmp_path, [models, bad, module])
    assert len(report.errors) == 1
    (error,) = report.errors
    assert "\n" not in error
    assert "latin.py" in error
    assert spans(report) == {at(module, "ORM001", QUERY), at(module, "ORM005", SUM)}


def test_empty_file_gives_nothing(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.py", "")
    report = run(tmp_path, [empty])
    assert report.errors == []
    assert report.findings == []


def test_syntax_error_in_only_file_does_not_raise(tmp_path: Path) -> None:
    broken = write(tmp_path, "only.py", "for x in\n")
    report = run(tmp_path, [broken])
    assert report.findings == []
    assert len(report.errors) == 1 and "only.py" in report.errors[0]


def test_utf8_bom_file_is_analysed(tmp_path: Path) -> None:
    write(tmp_path, "models.py", MODELS)
    module = write(tmp_path, "bom.py", "\ufeff" + textwrap.dedent(N_PLUS_ONE).lstrip("\n"))
    assert module.read_bytes().startswith(b"\xef\xbb\xbf")
    report = run(tmp_path, [module])
    assert report.errors == []
    assert {f.code for f in report.findings} == {"ORM001", "ORM005"}


def test_byte_columns_after_non_ascii(tmp_path: Path) -> None:
    write(tmp_path, "models.py", MODELS)
    module = write(tmp_path, "accents.py", """
        from models import Payment


        def f(user_ids):
            for uid in user_ids:
                label = "café—€"; rows = Payment.query.filter_by(user_id=uid).all()
    """)
    report = run(tmp_path, [module])
    line, col, _, end_col = locate(module, QUERY)
    text = module.read_text(encoding="utf-8").splitlines()[line - 1]
    assert col != text.index(QUERY)  # bytes, not characters
    assert spans(report) == {at(module, "ORM001", QUERY)}


# --- noqa ----------------------------------------------------------------------------------------

NOQA_MODULE = """
    from models import Payment


    def f(user_ids):
        for uid in user_ids:
            a = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # noqa
            b = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # noqa: ORM001
            c = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # noqa: ORM005
            d = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # noqa:orm001
            e = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # noqa: ORM001, ORM005
            g = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())  # NOQA
            h = sum(p.amount for p in Payment.query.filter_by(user_id=uid).all())
"""


def test_noqa(tmp_path: Path) -> None:
    write(tmp_path, "models.py", MODELS)
    module = write(tmp_path, "noqa.py", NOQA_MODULE)
    report = run(tmp_path, [module])
    assert report.errors == []
    # occurrences: a=0 b=1 c=2 d=3 e=4 g=5 h=6
    want = {
        at(module, "ORM005", SUM, 1),    # `# noqa: ORM001` keeps ORM005
        at(module, "ORM001", QUERY, 2),  # `# noqa: ORM005` keeps ORM001
        at(module, "ORM005", SUM, 3),    # `# noqa:orm001` keeps ORM005
        at(module, "ORM001", QUERY, 6),  # no noqa: both
        at(module, "ORM005", SUM, 6),
    }
    assert spans(report) == want


def test_noqa_helpers_directly() -> None:
    from ormlens.findings import Finding, Span

    def finding(code: str) -> Finding:
        return Finding(code, "x", "p.py", Span(1, 0, 1, 1), "m")

    def silenced(code: str, line: str) -> bool:
        return engine.suppressed(finding(code), [line])

    assert silenced("ORM001", "x = 1  # noqa")
    assert silenced("ORM005", "x = 1  # noqa")
    assert silenced("ORM001", "x = 1  # noqa: ORM001")
    assert not silenced("ORM002", "x = 1  # noqa: ORM001")
    assert not silenced("ORM001", "x = 1  # noqa: ORM005")
    assert silenced("ORM001", "x = 1  # noqa:orm001")
    assert silenced("ORM002", "x = 1  # noqa: ORM001,ORM002")
    assert not silenced("ORM001", "x = 1")


# --- select / ignore -----------------------------------------------------------------------------


@pytest.mark.parametrize("settings, codes", [
    (Settings(), {"ORM001", "ORM005"}),
    (Settings(select=frozenset({"ORM005"})), {"ORM005"}),
    (Settings(select=frozenset({"ORM001"})), {"ORM001"}),
    (Settings(select=frozenset({"ORM002"})), set()),
    (Settings(ignore=frozenset({"ORM001"})), {"ORM005"}),
    (Settings(ignore=frozenset({"ORM005"})), {"ORM001"}),
    (Settings(ignore=frozenset({"ORM001", "ORM005"})), set()),
    (Settings(select=frozenset({"ORM001", "ORM005"}), ignore=frozenset({"ORM001"})), {"ORM005"}),
])
def test_select_and_ignore(tmp_path: Path, project, settings: Settings, codes: set[str]) -> None:
    models, module = project
    report = run(tmp_path, [models, module], settings)
    assert report.errors == []
    assert {f.code for f in report.findings} == codes
    assert len(report.findings) == len(codes)


# --- a failing rule ------------------------------------------------------------------------------


@pytest.mark.parametrize("broken_code", ["ORM005", "ORM001"])
def test_failing_rule_loses_only_its_own_findings(tmp_path: Path, project, monkeypatch,
                                                  broken_code: str) -> None:
    models, module = project

    def explode(ctx):
        raise RuntimeError("rule bug")

    monkeypatch.setattr(REGISTRY[broken_code], "check", explode)
    report = run(tmp_path, [models, module])
    assert report.errors == [f"{path.resolve()}: rule {broken_code} failed (RuntimeError: rule bug); "
                             "its findings are missing" for path in (models, module)]
    survivors = {at(module, "ORM001", QUERY), at(module, "ORM005", SUM)}
    assert spans(report) == {s for s in survivors if s[1] != broken_code}


def test_failing_rule_on_seed_example(monkeypatch) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    files = sorted(examples.glob("*.py"))
    full = run(examples, files)
    monkeypatch.setattr(REGISTRY["ORM003"], "check", lambda ctx: (_ for _ in ()).throw(ValueError("boom")))
    broken = run(examples, files)
    assert [e.split(": rule ")[1] for e in broken.errors] == [
        "ORM003 failed (ValueError: boom); its findings are missing"] * len(files)
    assert spans(broken) == {s for s in spans(full) if s[1] != "ORM003"}
    assert spans(full, "ORM003")  # there was something to lose


def test_deeply_nested_generated_code_is_analysed(tmp_path: Path) -> None:
    """A 600-term concatenation and 300 elifs (generated code that CPython compiles fine) are
    deeper than Python's default recursion limit; the file is still analysed."""
    concatenation = " + ".join(['"a"'] * 600)
    elifs = "\n".join(f"    elif x == {i}:\n        y = {i}" for i in range(300))
    module = write(tmp_path, "generated.py", f"""
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
TEXT = {concatenation}


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)


def pick(x):
    if x is None:
        y = 0
{elifs}
    return y


def each(ids):
    return [User.query.get(i) for i in ids]
""")
    limit = sys.getrecursionlimit()
    report = run(tmp_path, [module])
    assert report.errors == []
    assert [(f.code, f.span.line) for f in report.findings] == [("ORM001", locate(module, "User.query.get(i)")[0])]
    assert sys.getrecursionlimit() == limit  # raised only while analysing
