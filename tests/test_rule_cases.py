"""Each rule's examples beside its module are its tests: a line marked `# expect: ORM00x "text"`
must be reported with that code, on exactly that expression; every other line must not be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings
from ormlens.engine import analyze
from ormlens.rules import REGISTRY

EXPECT = re.compile(r"#\s*expect:(?P<items>.*)$")
ITEM = re.compile(r'(ORM\d{3})(?:\s+"((?:[^"\\]|\\.)*)")?')


def expectations(source: str) -> dict[tuple[int, str], str | None]:
    out = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for code, text in ITEM.findall(match.group("items")):
                out[(number, code)] = text.replace('\\"', '"') if text else None
    return out


def span_text(source: str, span) -> str:
    lines = source.splitlines()
    if span.line != span.end_line:
        return lines[span.line - 1].encode()[span.col:].decode() + "…"
    return lines[span.line - 1].encode()[span.col:span.end_col].decode()


CASES = sorted(path for rule in REGISTRY.values() for path in [rule.examples_path(), *rule.style_examples()])


def test_every_rule_has_examples():
    for rule in REGISTRY.values():
        path = rule.examples_path()
        assert path.is_file(), f"{rule.code} has no examples file {path.name}"
        source = path.read_text()
        codes = {code for _, code in expectations(source)}
        assert rule.code in codes, f"{path.name} has no positive example for {rule.code}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_cases(path: Path):
    source = path.read_text()
    expected = expectations(source)
    project = ProjectIndex(path.parent, Settings())
    findings, error = analyze(project, str(path.resolve()), Settings())
    assert error is None
    module = str(path.resolve())
    compare(source, expected, [f for f in findings if f.path == module])
    # The templates its views render (`templates/<its name>/`): their `{# expect: #}` lines, in each file.
    folder = path.parent / "templates" / path.name.removesuffix(".cases.py")
    for template in sorted(folder.glob("*")) if folder.is_dir() else ():
        text = template.read_text()
        compare(text, expectations(text), [f for f in findings if f.path == str(template.resolve())], template.name)
    assert {f.path for f in findings} <= {module, *(str(t.resolve()) for t in folder.glob("*"))}


def compare(source: str, expected: dict, findings: list, where: str = "") -> None:
    got = {(f.span.line, f.code): f for f in findings}
    missing = sorted(set(expected) - set(got))
    extra = sorted((key, got[key].message) for key in set(got) - set(expected))
    assert not missing, f"{where} not reported: {missing}"
    assert not extra, f"{where} reported but not expected: {extra}"
    for key, text in expected.items():
        if text is not None:
            assert span_text(source, got[key].span) == text, f"{where} range of {key}"
