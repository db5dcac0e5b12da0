"""`# noqa` comments for adoption, as ruff's: `--add-noqa` writes one on each line with a finding
(merged into a `# noqa: X` already there, other tools' codes kept), and `--report-unused-noqa`
reports the ormlens codes of `# noqa` comments that suppress nothing (code ORM000, as ruff's RUF100)."""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ormlens.config import RULE_CODES, Settings
from ormlens.engine import NOQA, ignored_in, suppressed
from ormlens.analysis.sources import read_text
from ormlens.analysis.templates.lookup import is_template
from ormlens.findings import Finding, Span
from ormlens.output.common import SourceLines

UNUSED_NOQA = "ORM000"
UNUSED_NOQA_NAME = "unused-noqa"
# What `ormlens rule ORM000` prints (ORM000 is no rule of the registry: `--report-unused-noqa` reports it).
UNUSED_NOQA_DOCUMENTATION = """# ORM000 unused-noqa

## What it does
With `ormlens check --report-unused-noqa`: reports each ormlens code of a `# noqa:` comment that
suppresses no finding on its line (`unused: ORM001`), or that names no rule (`unknown: ORM009`).
Other tools' codes, a bare `# noqa` and the codes of rules not run in that file are left alone.

## Why is this bad?
A `# noqa` left behind once its finding is fixed silences the next real finding on that line.

## Example
```python
total = sum(p.amount or 0 for p in payments)  # noqa: ORM005
```

## Use instead
```python
total = sum(p.amount or 0 for p in payments)
```

## Fix safety
No fix: remove the code by hand (ruff's RUF100 is the model)."""
# An ormlens code in a `# noqa:` list (others' codes, `E501`, are not ours to judge).
OWN_CODE = re.compile(r"^ORM\d+$")
LINE = re.compile(r".*?(?:\r\n|\r|\n)|.+\Z", re.DOTALL)


@dataclass
class Directive:
    """One `# noqa` in a comment: its line, its columns (characters) and its codes (None: bare)."""

    line: int
    col: int
    end_col: int
    codes: tuple[str, ...] | None
    codes_end: int  # the column just after the last code (where more are added)


def directives(text: str) -> list[Directive]:
    """The `# noqa` directives of a module's comments (not of its strings); [] when it does not tokenize."""
    if "noqa" not in text.lower():
        return []
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            row, col = token.start
            for match in NOQA.finditer(token.string):
                codes = match.group("codes")
                found.append(Directive(
                    row, col + match.start(), col + match.end(),
                    None if codes is None else tuple(c.upper() for c in re.split(r"[,\s]+", codes) if c),
                    col + (match.end("codes") if codes is not None else match.end())))
    except (tokenize.TokenError, SyntaxError):
        return []
    return found


def _comment_rows(text: str) -> set[int] | None:
    """The lines after whose end a comment can be written: a line ending outside a string and
    without a `\\` continuation. None when the module does not tokenize."""
    try:
        return {token.start[0] for token in tokenize.generate_tokens(io.StringIO(text).readline)
                if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)}
    except (tokenize.TokenError, SyntaxError):
        return None


@dataclass
class AddedNoqa:
    added: int  # lines given a directive or more codes
    skipped: list[str]  # `path:line` where no comment can be written (a string or `\` goes on)


def add_noqa(findings: list[Finding]) -> AddedNoqa:
    """Write `# noqa: CODE` on the line where each finding starts (the line `# noqa` is read on)."""
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for finding in findings:
        if finding.code != UNUSED_NOQA:
            wanted[finding.path][finding.span.line].add(finding.code)
    result = AddedNoqa(0, [])
    for path, by_line in sorted(wanted.items()):
        text, encoding = read_text(path)
        if is_template(path):
            result.added += _add_template_noqa(path, text, encoding, by_line)
            continue
        rows = _comment_rows(text)
        existing = {d.line: d for d in directives(text) if d.codes is not None}
        # Lines as the parser counts them (only \r\n, \r, \n end one: not a form feed), endings kept.
        lines = LINE.findall(text)
        changed = 0
        for number, codes in sorted(by_line.items()):
            if rows is None or number not in rows or number > len(lines):
                result.skipped.append(f"{path}:{number}")
                continue
            lines[number - 1] = _with_codes(lines[number - 1], existing.get(number), sorted(codes))
            changed += 1
        if changed:
            Path(path).write_bytes("".join(lines).encode(encoding))
            result.added += changed
    return result


def template_noqa(codes: list[str]) -> str:
    """What a template line gets to suppress findings: a template comment (no output) holding the
    `# noqa` the engine reads anywhere in a line (engine.suppressed)."""
    return f"{{# noqa: {', '.join(codes)} #}}"


def _add_template_noqa(path: str, text: str, encoding: str, by_line: dict[int, set[str]]) -> int:
    """`{# noqa: CODE #}` at the end of each template line with a finding (its own comment: the
    template's text is not Python, a `# noqa` in it would be shown)."""
    lines = LINE.findall(text)
    changed = 0
    for number, codes in sorted(by_line.items()):
        if number > len(lines):
            continue
        body = lines[number - 1].rstrip("\r\n")
        lines[number - 1] = body + template_noqa(sorted(codes)) + lines[number - 1][len(body):]
        changed += 1
    if changed:
        Path(path).write_bytes("".join(lines).encode(encoding))
    return changed


def _with_codes(line: str, directive: Directive | None, codes: list[str]) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if directive is not None:  # `# noqa: E501` -> `# noqa: E501, ORM001`
        new = [code for code in codes if code not in (directive.codes or ())]
        return body[:directive.codes_end] + "".join(f", {code}" for code in new) + body[directive.codes_end:] + ending
    return f"{body.rstrip()}  # noqa: {', '.join(codes)}{ending}"


def split_suppressed(findings: list[Finding], files: list[str], settings: Settings, root: Path | None,
                     texts: SourceLines) -> tuple[list[Finding], list[Finding]]:
    """For `--report-unused-noqa`: `findings` found with `# noqa` not honoured -> (those no `# noqa`
    suppresses, an ORM000 finding for each `# noqa` code of a rule that ran in that file and
    suppressed nothing there, or that names no rule)."""
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    kept: list[Finding] = []
    unused: list[Finding] = []
    for path in dict.fromkeys([*files, *by_path]):
        text = texts.text(path)
        lines = texts.lines(path)  # (as the parser counts lines: positions.source_lines)
        used: set[tuple[int, str]] = set()  # (line, code) a finding was suppressed with
        for finding in by_path.get(path, []):
            if suppressed(finding, lines):  # as check_files decides it
                used.add((finding.span.line, finding.code))
            else:
                kept.append(finding)
        off_here = ignored_in(settings, path, root)
        for directive in directives(text):
            stale = [code for code in directive.codes or () if OWN_CODE.match(code)
                     and (directive.line, code) not in used
                     and (code not in RULE_CODES or (settings.enabled(code) and code not in off_here))]
            if stale:
                unused.append(_unused(path, directive, stale, lines[directive.line - 1]))
    return kept, unused


def _unused(path: str, directive: Directive, codes: list[str], line: str) -> Finding:
    unknown = [code for code in codes if code not in RULE_CODES]
    known = [code for code in codes if code in RULE_CODES]
    parts = ([f"unused: {', '.join(f'`{c}`' for c in known)}"] if known else []) + \
        ([f"unknown: {', '.join(f'`{c}`' for c in unknown)}"] if unknown else [])
    # Span columns are UTF-8 bytes (findings.Span).
    start, end = (len(line[:col].encode()) for col in (directive.col, directive.end_col))
    return Finding(UNUSED_NOQA, UNUSED_NOQA_NAME, path, Span(directive.line, start, directive.line, end),
                   f"Unused `noqa` directive ({'; '.join(parts)})")
