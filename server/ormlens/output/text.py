"""The formats for people: `concise` (one line per finding, ruff's concise), `full` (each finding
with its source lines, the span underlined, its fix and its documentation), `--statistics` and
`--show-fixes`, and the closing summary lines."""

from __future__ import annotations

import unicodedata
from collections import Counter

from ormlens.findings import Finding
from ormlens.output.common import Run, display_path, plural

CONTEXT_LINES = 2  # source lines shown above and below a finding in `full` (as ruff)
LONG_SPAN = 6      # a span over more lines shows its first and last lines only


class Style:
    """ANSI colours, or none (not a terminal, or NO_COLOR set)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)

    def blue(self, text: str) -> str:
        return self._wrap("1;34", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


def concise_line(run: Run, finding: Finding, style: Style = Style(False), whole: bool = False) -> str:
    """`path:line:col: CODE summary` (`whole`: the whole message, advice included)."""
    start = run.sources.location(finding.path, finding.span.line, finding.span.col)
    where = f"{display_path(finding.path)}:{start['row']}:{start['column']}"
    return f"{style.bold(where)}: {style.red(finding.code)} {finding.message if whole else finding.summary}"


def concise(run: Run) -> list[str]:
    """One line per finding, sorted by path, line, column: `path:line:col: CODE summary` (what
    happens; what to do is in `full`, JSON, the editor and `ormlens rule`)."""
    return [concise_line(run, finding) for finding in run.findings]


def full(run: Run, style: Style) -> list[str]:
    """Each finding as in `concise`, then its source lines with the span underlined, the places
    that explain it, its fix and its documentation; a blank line after each."""
    lines: list[str] = []
    for finding in run.findings:
        lines.append(concise_line(run, finding, style))
        lines += _snippet(run, finding, style)
        for related in finding.related:
            start = run.sources.location(related.path, related.span.line, related.span.col)
            lines.append(f"  {style.blue('=')} note: {related.message} "
                         f"({display_path(related.path)}:{start['row']}:{start['column']})")
        if finding.advice:
            lines.append(f"  {style.blue('=')} {style.cyan('help')}: {finding.advice}")
        fix = run.fix(finding)
        if fix is not None:
            lines.append(f"  {style.blue('=')} {style.cyan('fix')}: {fix.fix.display_title}")
        lines.append(f"  {style.blue('=')} docs: {finding.url}")
        lines.append("")
    return lines


def _snippet(run: Run, finding: Finding, style: Style) -> list[str]:
    source = run.sources.lines(finding.path)
    if source and not source[-1]:
        source = source[:-1]  # what follows the last newline is no line
    span = finding.span
    if not 0 < span.line <= len(source):
        return []
    last = min(span.end_line, len(source))
    start, end = run.span_location(finding.path, span)
    shown = list(range(max(1, span.line - CONTEXT_LINES), span.line))
    spanned = list(range(span.line, last + 1))
    if len(spanned) > LONG_SPAN:
        spanned = spanned[:2] + [0] + spanned[-2:]  # 0: an elision row
    shown += spanned + list(range(last + 1, min(len(source), last + CONTEXT_LINES) + 1))
    width = len(str(max(shown)))
    gutter = style.blue(" " * width + " |")
    out = [gutter]
    for number in shown:
        if number == 0:
            out.append(style.blue("." * width + " |"))
            continue
        text = source[number - 1]
        out.append(f"{style.blue(str(number).rjust(width) + ' |')} {_expand(text)}".rstrip())
        if span.line <= number <= last:
            first_col = start["column"] - 1 if number == span.line else len(text) - len(text.lstrip())
            end_col = end["column"] - 1 if number == last else len(text.rstrip())
            left, length = _width(text[:first_col]), max(_width(text[first_col:end_col]), 1)
            label = f" {finding.code}" if number == last else ""
            out.append(f"{gutter} {' ' * left}{style.red('^' * length + label)}")
    out.append(gutter)
    return out


def _expand(text: str) -> str:
    return text.replace("\t", "    ")


def _width(text: str) -> int:
    """Terminal columns of `text`: a tab as 4, a wide (East Asian) character as 2."""
    return sum(4 if char == "\t" else 2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def statistics(run: Run) -> list[str]:
    """Ruff's `--statistics`: `COUNT<TAB>CODE<TAB>[*] name` per rule, most found first; `[*]` when
    `--fix` would fix some of them. Files not checked count on a row without a code."""
    counts = Counter(finding.code for finding in run.findings)
    names = {finding.code: finding.name for finding in run.findings}
    fixable = {finding.code for finding in run.findings if run.applicable(run.fix(finding))}
    rows = [(count, code, "[*]" if code in fixable else "[ ]", names[code]) for code, count in counts.items()]
    if run.errors:
        rows.append((len(run.errors), "", "[ ]", "not-checked"))
    rows.sort(key=lambda row: (-row[0], row[1]))
    count_width = max((len(str(row[0])) for row in rows), default=0)
    code_width = max((len(row[1]) for row in rows), default=0)
    return [f"{str(count).rjust(count_width)}\t{code.ljust(code_width)}\t{mark} {name}"
            for count, code, mark, name in rows]


def statistics_json(run: Run) -> list[dict]:
    counts = Counter(finding.code for finding in run.findings)
    names = {finding.code: finding.name for finding in run.findings}
    fixable = Counter(finding.code for finding in run.findings if run.applicable(run.fix(finding)))
    rows = [{"code": code, "count": count, "fixable": fixable[code] > 0, "fixable_count": fixable[code],
             "name": names[code]} for code, count in counts.items()]
    if run.errors:
        rows.append({"code": None, "count": len(run.errors), "fixable": False, "fixable_count": 0,
                     "name": "not-checked"})
    return sorted(rows, key=lambda row: (-row["count"], row["code"] or ""))


def show_fixes(run: Run) -> list[str]:
    """As ruff's `--show-fixes`: per file, how many fixes of each rule and their titles; what
    `--fix` applied, or else what it would apply."""
    by_file: dict[str, Counter] = {}
    if run.fixed is not None:
        heading = "Fixed"
        for outcome in run.fixed:
            for code, title in outcome.fixes:
                by_file.setdefault(outcome.path, Counter())[(code, title)] += 1
    else:
        heading = "Would fix"
        for finding in run.findings:
            fix = run.fix(finding)
            if run.applicable(fix):
                by_file.setdefault(finding.path, Counter())[(finding.code, fix.fix.display_title)] += 1
    total = sum(sum(counts.values()) for counts in by_file.values())
    if not total:
        lines = ["No fixes available." if run.fixed is None else "No errors fixed."]
    else:
        names = _rule_names()
        lines = [f"{heading} {plural(total, 'error')}:"]
        for path in sorted(by_file, key=display_path):
            lines.append(f"- {display_path(path)}:")
            for (code, title), count in sorted(by_file[path].items()):
                lines.append(f"    {count} × {code} ({names.get(code, code)}): {title}")
    hidden = sum(1 for finding in run.findings if run.fixed is None and (fix := run.fix(finding)) is not None
                 and not run.applicable(fix))
    if hidden:
        lines.append(f"{plural(hidden, 'unsafe fix', 'unsafe fixes')} available with `--unsafe-fixes`.")
    return lines


def _rule_names() -> dict[str, str]:
    from ormlens.rules import REGISTRY

    return {code: rule.name for code, rule in REGISTRY.items()}


def summary(count: int) -> str:
    """Ruff's closing line."""
    if count == 0:
        return "All checks passed!"
    return f"Found {plural(count, 'error')}."


def one_off_summary(count: int) -> str:
    """What the default output leaves out (one_off.py), and how to see it."""
    return (f"{count} finding{'s' if count != 1 else ''} in one-off code (migrations, management commands, "
            "scripts, tests) not shown: --include one-off")


def closing(run: Run, fix_applied: bool) -> list[str]:
    """The lines after the findings (unless --quiet): the summary, what one-off code holds, what
    --fix did."""
    if run.quiet:
        return []
    # Unparsable files count too, so "All checks passed!" never comes with exit 1;
    # and nothing checked is not a pass (ruff would say "All checks passed!" here).
    lines = [summary(len(run.findings) + len(run.errors)) if run.files_checked else "No files checked."]
    if run.one_off_hidden:
        lines.append(one_off_summary(run.one_off_hidden))
    if run.baseline_hidden:
        lines.append(f"{plural(run.baseline_hidden, 'finding')} in the baseline ({run.baseline}) not shown.")
    if fix_applied:
        fixed = sum(outcome.applied for outcome in run.fixed or [])
        lines.append(f"Fixed {plural(fixed, 'error')}.")
    return lines
