"""Rule documentation has the fixed sections, and docs/rules/ matches the rule modules."""

from pathlib import Path

import pytest

from ormlens.docs import rule_pages
from ormlens.rules import REGISTRY
from ormlens.rules.base import DOC_SECTIONS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_documentation_has_the_fixed_sections(code):
    rule = REGISTRY[code]
    sections = rule.sections()
    assert list(sections) == list(DOC_SECTIONS)
    assert all(sections.values()), f"{code} has an empty section"
    assert rule.documentation().startswith(f"# {code} {rule.name}\n")


def test_docs_pages_are_up_to_date():
    for name, text in rule_pages().items():
        page = DOCS / name
        assert page.is_file() and page.read_text(encoding="utf-8") == text, (
            f"docs/rules/{name} is stale: run `python -m ormlens.docs docs/rules`")


def test_finding_urls_point_at_the_pages():
    from ormlens.findings import DOCS_BASE_URL, Finding, Span

    finding = Finding("ORM001", "n-plus-one-query", "x.py", Span(1, 0, 1, 1), "m")
    assert finding.url == f"{DOCS_BASE_URL}/ORM001.md"
    assert DOCS_BASE_URL.endswith("docs/rules")
