"""The seed example: every file of `examples/` gives exactly what its README says, at exactly
the expression the finding is about. Positions are derived from the source text, never pasted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ormlens.config import Settings
from ormlens.engine import Report, check_files
from ormlens.rules import REGISTRY

from helpers import locate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def expected(name: str, code: str, snippet: str, occurrence: int = 0) -> tuple:
    return (name, code, *locate(EXAMPLES / name, snippet, occurrence))


@pytest.fixture(scope="module")
def report() -> Report:
    files = sorted(EXAMPLES.glob("*.py"))
    assert {f.name for f in files} >= {"models.py", "original.py", "batched_but_quadratic.py",
                                       "reviewed_fix.py", "intended.py"}
    return check_files(files, Settings(), EXAMPLES)


def actual(report: Report) -> set[tuple]:
    return {(Path(f.path).name, f.code, f.span.line, f.span.col, f.span.end_line, f.span.end_col)
            for f in report.findings}


def of(report: Report, name: str, code: str | None = None):
    return [f for f in report.findings if Path(f.path).name == name and (code is None or f.code == code)]


def test_no_errors(report: Report) -> None:
    assert report.errors == []


def test_exact_findings(report: Report) -> None:
    want = {
        # original.py: the N+1 (two queries per id) and the nullable sum
        expected("original.py", "ORM001", "Session.query.filter_by(user_id=uid).all()"),
        expected("original.py", "ORM001", "Payment.query.filter_by(user_id=uid).all()"),
        expected("original.py", "ORM005", "sum(p.amount for p in payments)"),
        # batched_but_quadratic.py: unchunked IN twice, the quadratic scans twice, the nullable sum
        expected("batched_but_quadratic.py", "ORM004", "Session.user_id.in_(user_ids)"),
        expected("batched_but_quadratic.py", "ORM004", "Payment.user_id.in_(user_ids)"),
        expected("batched_but_quadratic.py", "ORM003",
                 "[s for s in sessions_by_user.values() if s.user_id == uid]"),
        expected("batched_but_quadratic.py", "ORM003",
                 "[p for p in payments_by_user.values() if p.user_id == uid]"),
        expected("batched_but_quadratic.py", "ORM005", "sum(p.amount for p in user_payments)"),
        # intended.py: still N+1, but NULLs are handled
        expected("intended.py", "ORM001", "Session.query.filter_by(user_id=uid).all()"),
        expected("intended.py", "ORM001", "Payment.query.filter_by(user_id=uid).all()"),
    }
    got = actual(report)
    assert got == want, f"missing: {sorted(want - got)}; unexpected: {sorted(got - want)}"
    # each expectation is one finding, not two on the same place
    assert len(report.findings) == len(want)


def test_spans_cover_the_expression_text(report: Report) -> None:
    """The span, cut out of the source by byte columns, is exactly the intended expression."""
    for finding in report.findings:
        lines = Path(finding.path).read_text(encoding="utf-8").splitlines()
        assert finding.span.line == finding.span.end_line
        raw = lines[finding.span.line - 1].encode("utf-8")
        text = raw[finding.span.col:finding.span.end_col].decode("utf-8")
        if finding.code == "ORM001":
            assert text.endswith(".filter_by(user_id=uid).all()")
        elif finding.code == "ORM004":
            assert text.endswith(".user_id.in_(user_ids)")
        elif finding.code == "ORM003":
            assert text.startswith("[") and text.endswith("]")
        elif finding.code == "ORM005":
            assert text.startswith("sum(") and text.endswith(")")


@pytest.mark.parametrize("name", ["original.py", "intended.py"])
def test_orm001_message_names_loop_and_counts_two_queries(report: Report, name: str) -> None:
    findings = of(report, name, "ORM001")
    assert len(findings) == 2
    for finding in findings:
        assert "`user_ids`" in finding.message
        assert "2 queries per item" in finding.message
        # the loop that repeats it is a related location
        loop_line = locate(EXAMPLES / name, "for uid in user_ids:")[0]
        assert any(r.span.line == loop_line for r in finding.related)


def test_orm004_message_states_real_limits(report: Report) -> None:
    """No database named in the examples: a short message, the limits in `ormlens rule ORM004`."""
    findings = of(report, "batched_but_quadratic.py", "ORM004")
    assert len(findings) == 2
    for finding in findings:
        assert "past the database's limit it fails" in finding.message
        assert "`ormlens rule ORM004`" in finding.message
        assert len(finding.message) <= 200
    documentation = REGISTRY["ORM004"].documentation()
    assert "65,535" in documentation and "32,766" in documentation and "2,100" in documentation


@pytest.mark.parametrize("name", ["models.py", "reviewed_fix.py"])
def test_clean_files_produce_nothing(report: Report, name: str) -> None:
    assert of(report, name) == []


def test_each_file_alone_gives_the_same(report: Report) -> None:
    """Analysing one file at a time (the models found through its import) changes nothing."""
    together = actual(report)
    alone = set()
    for file in sorted(EXAMPLES.glob("*.py")):
        single = check_files([file], Settings(), EXAMPLES)
        assert single.errors == []
        alone |= actual(single)
    assert alone == together
