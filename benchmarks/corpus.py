"""What does `ormlens check` report on real projects, how fast, and how does it compare with djch?

Downloads the released sources of pinned open-source projects that use the ORMs ormlens covers
(Django; SQLAlchemy 1.x style with Flask-SQLAlchemy; SQLAlchemy 2.0 `select()` with async
sessions; SQLModel) from PyPI into a cache (`$ORMLENS_BENCH_CACHE`, default
`~/.cache/ormlens-bench`, never committed), then for each project:

- runs `ormlens check --output-format json --exit-zero` as a subprocess over the project's
  package code and prints files, lines, seconds (wall clock of the subprocess, interpreter start
  included), its peak RSS (the child's own, from os.wait4), findings per code and files/lines per
  second;
- on the Django projects, runs `djch check` (a Rust checker of Django lazy relation reads in
  loops) from the project's folder and compares its findings with ormlens' lazy-load findings
  (ORM002; an ORM001 on the same line counts as "ormlens reports it as ORM001"), by path and line.

What is scanned: the project's package directories (listed in PROJECTS), as discovered by
ormlens itself, WITHOUT test code (`tests/`, `test/`, `testutil(s)/`, `test_*.py`, `*_test(s).py`,
`tests.py`, `conftest.py`): test code loops over a handful of fixtures, so even a real N+1 there
costs nothing, and reviewers' time goes to production code. Migrations and management commands
are scanned (data migrations are real ORM code), but their findings are one-off code's (issue #15,
server/ormlens/one_off.py): `ormlens check` leaves them out of its default output, so they are
counted and flagged (`"one_off": true`) and never sampled. `--include-tests` scans the tests too. The same file list is given
to both tools (djch's findings outside it are dropped).

Outputs for reviewers: `--findings out.json` (every finding with its source excerpt, plus the
djch comparison) and `--sample N --seed S --review review.md` (a deterministic random sample,
stratified by code, plus the djch-only and ormlens-only lazy loads, as a Markdown skeleton with a
"Verdict" line to fill in per entry).

The script installs nothing. From the repository root:

    .venv/bin/pip install djch   # optional: without it the comparison is skipped
    .venv/bin/python benchmarks/corpus.py --findings corpus-findings.json --sample 60 --seed 1
    .venv/bin/python benchmarks/corpus.py --projects wagtail,ckan   # a subset
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from memory import run_measured
from pypi_sources import CACHE, fetch

from ormlens.discovery import discover

CODES = ("ORM001", "ORM002", "ORM003", "ORM004", "ORM005")
CONTEXT = 3  # source lines shown before and after a finding


@dataclass(frozen=True)
class Project:
    requirement: str  # NAME==VERSION, pinned
    style: str  # which ORM and API style its database code uses
    packages: tuple[str, ...]  # package directories, relative to the unpacked source
    wheel: bool = False  # take the wheel rather than the sdist

    @property
    def name(self) -> str:
        return self.requirement.split("==")[0]


PROJECTS = [
    Project("wagtail==8.0.1", "django", ("wagtail",)),
    Project("django-oscar==4.2.1", "django", ("src/oscar",)),
    # pip cannot prepare pretix's sdist (its build requirements conflict); its wheel has the same code.
    Project("pretix==2026.8.0", "django", ("pretix",), wheel=True),
    Project("django-cms==5.1.3", "django", ("cms", "menus")),
    Project("ckan==2.12.0", "sqlalchemy 1.x", ("ckan", "ckanext")),
    Project("flask-appbuilder==5.3.0", "flask-sqlalchemy", ("flask_appbuilder",)),
    Project("apache-superset==6.1.0", "flask-sqlalchemy", ("superset",)),
    Project("mlflow==3.18.0", "sqlalchemy 1.x/2.0", ("mlflow",)),
    Project("prefect==3.9.1", "sqlalchemy 2.0 async", ("src/prefect",)),
    Project("langflow-base==1.13.0", "sqlmodel async", ("langflow",), wheel=True),  # no recent sdist
]

TEST_CODE = ["tests/", "test/", "testutil/", "testutils/", "test_*.py", "*_test.py", "*_tests.py", "tests.py",
             "conftest.py"]

DJCH_LINE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): \[N\+1\] (?P<what>.*?)\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- running the tools ------------------------------------------------------------------------

@dataclass
class Run:
    project: Project
    root: Path
    files: list[Path]
    lines: int
    seconds: float
    peak_rss_kb: int
    findings: list[dict]
    errors: list[str]


def scanned_files(project: Project, root: Path, include_tests: bool) -> list[Path]:
    # ormlens' own discovery (skips venvs, build output, .gitignored paths), minus test code.
    return discover([root / package for package in project.packages], root, () if include_tests else TEST_CODE)


def mark_project_root(root: Path) -> None:
    """ormlens takes the folder of the pyproject.toml nearest the first path as the project root
    (absolute imports are resolved from it). A wheel, or an sdist of a setup.py-only project,
    has none, whereas the project's repository (where a user runs ormlens) does: an empty one
    marks the unpacked folder, as that one would. An existing file is left alone."""
    marker = root / "pyproject.toml"
    if not marker.exists():
        marker.write_text("# written by ormlens benchmarks/corpus.py: marks the project root\n")


try:  # the ormlens under test (PYTHONPATH): one that knows one-off code (issue #15) says which files are
    from ormlens.config import Settings
    from ormlens.one_off import is_one_off as one_off
except ImportError:
    one_off = None


def run_ormlens(project: Project, root: Path, files: list[Path]) -> Run:
    command = [sys.executable, "-m", "ormlens", "check", "--output-format", "json", "--exit-zero",
               *(["--include", "one-off"] if one_off is not None else []),
               *(str(path.relative_to(root)) for path in files)]
    done = run_measured(command, cwd=root)
    if done.returncode != 0:
        raise RuntimeError(f"ormlens failed on {project.requirement} (exit {done.returncode}):\n{done.stderr}")
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    findings = []
    for item in json.loads(done.stdout):
        if item.get("code") is None:
            continue  # a file ormlens could not check (named on stderr too), not a finding
        path = Path(item["filename"]).relative_to(root).as_posix()
        row, column = item["location"]["row"], item["location"]["column"]
        findings.append({
            "project": project.requirement, "path": path, "line": row, "col": column,
            "end_line": item["end_location"]["row"], "code": item["code"], "message": item["message"],
            "excerpt": excerpt(root / path, row, item["end_location"]["row"]),
            "one_off": one_off is not None and one_off(root / path, root, Settings()),
        })
    findings.sort(key=finding_key)
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    return Run(project, root, files, lines, done.seconds, done.peak_rss_kb, findings, errors)


def finding_key(finding: dict) -> tuple:
    return (finding["project"], finding["path"], finding["line"], finding["col"], finding["code"],
            finding["message"])


@dataclass
class DjchResult:
    available: bool
    reason: str = ""
    seconds: float = 0.0
    findings: list[dict] | None = None  # project, path, line, col, what


def run_djch(project: Project, root: Path, files: list[Path]) -> DjchResult:
    djch = shutil.which("djch", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if djch is None:
        return DjchResult(False, "djch is not installed (pip install djch)")
    start = time.perf_counter()
    try:
        # It analyses the tree under the current directory; there is no path argument.
        done = subprocess.run([djch, "check"], cwd=root, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return DjchResult(False, f"djch could not run: {exc}")
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        return DjchResult(False, f"djch exited {done.returncode}: {done.stderr.strip()[:500]}")
    scanned = {path.relative_to(root).as_posix() for path in files}
    found = []
    for raw in done.stdout.splitlines():
        match = DJCH_LINE.match(ANSI.sub("", raw))
        if match is None:
            continue
        path = Path(os.path.normpath(match["path"])).as_posix()
        if path not in scanned:
            continue
        line = int(match["line"])
        found.append({"project": project.requirement, "path": path, "line": line, "col": int(match["col"]),
                      "what": match["what"], "excerpt": excerpt(root / path, line, line)})
    found.sort(key=lambda f: (f["path"], f["line"], f["col"], f["what"]))
    return DjchResult(True, seconds=seconds, findings=found)


@dataclass
class Comparison:
    both_orm002: list[dict]
    both_orm001: list[dict]
    djch_only: list[dict]
    ormlens_only: list[dict]


def compare(run: Run, djch: list[dict]) -> Comparison:
    """Match on path and line: both tools may point at different columns of the same read."""
    by_line: dict[tuple[str, int], set[str]] = defaultdict(set)
    for finding in run.findings:
        by_line[(finding["path"], finding["line"])].add(finding["code"])
    djch_lines = {(f["path"], f["line"]) for f in djch}
    both_orm002, both_orm001, djch_only = [], [], []
    for finding in djch:
        codes = by_line.get((finding["path"], finding["line"]), set())
        (both_orm002 if "ORM002" in codes else both_orm001 if "ORM001" in codes else djch_only).append(finding)
    ormlens_only = [f for f in run.findings if f["code"] == "ORM002" and (f["path"], f["line"]) not in djch_lines]
    return Comparison(both_orm002, both_orm001, djch_only, ormlens_only)


# --- review material --------------------------------------------------------------------------

_source_cache: dict[Path, list[str]] = {}


def excerpt(path: Path, line: int, end_line: int) -> str:
    """Numbered source lines around a finding, `>` marking the lines it spans."""
    if path not in _source_cache:
        _source_cache[path] = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    lines = _source_cache[path]
    first, last = max(1, line - CONTEXT), min(len(lines), max(line, end_line) + CONTEXT)
    width = len(str(last))
    return "\n".join(f"{'>' if line <= n <= end_line else ' '}{n:>{width}} | {lines[n - 1]}"
                     for n in range(first, last + 1))


def stratified_sample(findings: list[dict], size: int, seed: int) -> list[dict]:
    """Equal shares per code (a code with fewer findings gives its unused share to the others),
    so every code that occurs is represented and each rule's precision can be estimated.
    Within a code, findings are ranked by a hash of the seed and where they are, not drawn from
    the list: when the analysis changes, a finding that is still reported keeps its rank, so the
    sample (and the verdicts already given) change only where findings came or went."""
    def rank(finding: dict) -> str:
        where = f"{seed}:{finding['project'].split('==')[0]}:{finding['path']}:{finding['line']}:{finding['code']}"
        return hashlib.sha256(where.encode()).hexdigest()

    by_code: dict[str, list[dict]] = defaultdict(list)
    for finding in sorted(findings, key=rank, reverse=True):
        by_code[finding["code"]].append(finding)
    chosen: list[dict] = []
    while len(chosen) < size and any(by_code.values()):
        for code in sorted(by_code):
            if by_code[code] and len(chosen) < size:
                chosen.append(by_code[code].pop())
    return sorted(chosen, key=lambda f: (f["code"], *finding_key(f)))


UNREVIEWED = "Verdict: ? — reason: ?"
UNREVIEWED_WORTH = "Worth acting on: ? — reason: ?"
# `### 12. pretix==2026.8.0 — pretix/x.py:810 — ORM001` (backticks around the path optional).
ENTRY_HEADING = re.compile(r"^### \d+\. (?P<project>\S+) — `?(?P<path>[^`]+?):(?P<line>\d+)`? — (?P<what>.+?)\s*$")
VERDICT = re.compile(r"^\**Verdict:\s*(?P<verdict>TP-def|TP|FP|ormlens miss|djch FP)\b\**(?P<note>[^—]*?)\**\s*—\s*(?P<reason>.*)$")
# Beside real or not (issue #15): would a reviewer ask for this change in this code?
WORTH = re.compile(r"^\**Worth acting on:\s*(?P<worth>yes|no)\b\**\s*—\s*(?P<reason>.*)$")


def entry_key(project: str, path: str, line: int | str, what: str) -> tuple[str, str, int, str]:
    """(project name without version, path, line, code or "djch")."""
    return project.split("==")[0], path, int(line), what.split()[-1]


def read_verdicts(texts: list[str]) -> dict[tuple, list[str]]:
    """Verdicts of earlier reviews, by (project, path, line, code or "djch"), in file order (djch
    can report one line several times): a finding still reported at the same place keeps its
    verdict when the corpus is run again."""
    verdicts: dict[tuple, list[str]] = {}
    for text in texts:
        key = judged = None
        for line in text.splitlines():
            heading = ENTRY_HEADING.match(line)
            if heading:
                key, judged = entry_key(**heading.groupdict()), None
                continue
            verdict = VERDICT.match(line)
            if key is not None and verdict:
                note = verdict.group("note").strip()
                verdicts.setdefault(key, []).append(
                    f"**Verdict: {verdict.group('verdict')}**{' ' + note if note else ''} — {verdict.group('reason').strip()}")
                key, judged = None, verdicts[key]
                continue
            worth = WORTH.match(line)
            if judged is not None and worth:  # the entry's second verdict goes with its first
                judged[-1] += f"\n\n**Worth acting on: {worth.group('worth')}** — {worth.group('reason').strip()}"
                judged = None
    return verdicts


def review_entry(number: int, key: tuple, message: str, code_excerpt: str, verdicts: dict[tuple, list[str]]) -> str:
    project, path, line, what = key
    carried = verdicts.get(key)
    verdict = carried.pop(0) if carried else UNREVIEWED
    if what != "djch" and "Worth acting on:" not in verdict:
        verdict += f"\n\n{UNREVIEWED_WORTH}"
    return (f"### {number}. {project} — `{path}:{line}` — {what}\n\n{message}\n\n```python\n{code_excerpt}\n```\n\n"
            f"{verdict}\n")


def tally(text: str) -> dict[str, Counter]:
    """Verdicts per section of a review (`## ORM001 (20)`, ..., `## Lazy loads ...`)."""
    counts: dict[str, Counter] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].split(" (")[0]
        verdict = VERDICT.match(line)
        if verdict:
            counts.setdefault(section, Counter())[verdict.group("verdict")] += 1
        worth = WORTH.match(line)
        if worth:
            counts.setdefault(section, Counter())[f"worth {worth.group('worth')}"] += 1
    return counts


def review_markdown(sample: list[dict], comparisons: dict[str, Comparison], seed: int, total: int,
                    verdicts: dict[tuple, str]) -> str:
    parts = [f"# ormlens corpus review\n\nA random sample of {len(sample)} of {total} findings (seed {seed}, "
             "stratified by code). For each entry write TP (a real per-row query or lazy load, or the bug "
             "the rule names) or FP, and why.\n"]
    number = 0
    for code in CODES:
        entries = [f for f in sample if f["code"] == code]
        if entries:
            parts.append(f"## {code} ({len(entries)})\n")
        for finding in entries:
            number += 1
            key = entry_key(finding["project"], finding["path"], finding["line"], finding["code"])
            parts.append(review_entry(number, key, finding["message"], finding["excerpt"], verdicts))
    if comparisons:
        parts.append("## Lazy loads: djch and ormlens disagree\n\nOn the Django projects, matched by path and "
                     "line. For each entry: is it a real per-row lazy load (so the tool that missed it has a "
                     "gap) or not (so the tool that reported it has a false positive)?\n")
        for requirement, comparison in comparisons.items():
            if comparison.djch_only:
                parts.append(f"### {requirement}: only djch ({len(comparison.djch_only)})\n")
            for finding in comparison.djch_only:
                number += 1
                key = entry_key(requirement, finding["path"], finding["line"], "djch")
                parts.append(review_entry(number, key, f"djch: [N+1] {finding['what']}", finding["excerpt"], verdicts))
            if comparison.ormlens_only:
                parts.append(f"### {requirement}: only ormlens ({len(comparison.ormlens_only)})\n")
            for finding in comparison.ormlens_only:
                number += 1
                key = entry_key(requirement, finding["path"], finding["line"], "ORM002")
                parts.append(review_entry(number, key, finding["message"], finding["excerpt"], verdicts))
    return "\n".join(parts)


# --- main -------------------------------------------------------------------------------------

def print_table(runs: list[Run]) -> None:
    header = (f"{'project':<26} {'style':<21} {'files':>5} {'lines':>7} {'sec':>6} {'RSS MB':>6} "
              + " ".join(f"{code:>6}" for code in CODES) + f" {'files/s':>7} {'lines/s':>7}")
    print(header)
    print("-" * len(header))
    for run in runs:
        counts = Counter(f["code"] for f in run.findings)
        print(f"{run.project.requirement:<26} {run.project.style:<21} {len(run.files):>5} {run.lines:>7} "
              f"{run.seconds:>6.1f} {run.peak_rss_kb / 1024:>6.0f} "
              + " ".join(f"{counts.get(code, 0):>6}" for code in CODES)
              + f" {len(run.files) / run.seconds:>7.0f} {run.lines / run.seconds:>7.0f}")
    files, lines = sum(len(r.files) for r in runs), sum(r.lines for r in runs)
    seconds = sum(r.seconds for r in runs)
    counts = Counter(f["code"] for r in runs for f in r.findings)
    peak = max(r.peak_rss_kb for r in runs) / 1024
    print(f"{'total (RSS: max)':<26} {'':<21} {files:>5} {lines:>7} {seconds:>6.1f} {peak:>6.0f} "
          + " ".join(f"{counts.get(code, 0):>6}" for code in CODES)
          + f" {files / seconds:>7.0f} {lines / seconds:>7.0f}")


def print_comparison(rows: list[tuple[Project, DjchResult, Comparison | None]]) -> None:
    if not rows:
        return
    print("\nLazy loads on the Django projects, ormlens vs djch (matched by path:line):")
    header = (f"{'project':<26} {'djch':>5} {'both ORM002':>11} {'ormlens ORM001':>14} {'djch only':>9} "
              f"{'ormlens only':>12} {'djch sec':>8}")
    print(header)
    print("-" * len(header))
    for project, result, comparison in rows:
        if comparison is None:
            print(f"{project.requirement:<26} djch not run: {result.reason}")
            continue
        print(f"{project.requirement:<26} {len(result.findings or []):>5} {len(comparison.both_orm002):>11} "
              f"{len(comparison.both_orm001):>14} {len(comparison.djch_only):>9} {len(comparison.ormlens_only):>12} "
              f"{result.seconds:>8.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", help="comma-separated project names to run (default: all)")
    parser.add_argument("--include-tests", action="store_true", help="scan the projects' test code too")
    parser.add_argument("--findings", type=Path, help="write every finding (with excerpts) to this JSON file")
    parser.add_argument("--sample", type=int, default=0, metavar="N", help="review sample size (0: no sample)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the review sample")
    parser.add_argument("--review", type=Path, default=Path("corpus-review.md"),
                        help="where --sample writes the Markdown review skeleton (default: corpus-review.md)")
    parser.add_argument("--carry", type=Path, action="append", default=[], metavar="REVIEW",
                        help="an earlier review whose verdicts are kept for findings still reported at the same "
                             "place (repeatable)")
    parser.add_argument("--tally", type=Path, metavar="REVIEW",
                        help="only count the verdicts of a filled-in review, per section, and exit")
    args = parser.parse_args(argv)
    if args.tally:
        text = args.tally.read_text()
        print(f"unreviewed: {text.count(UNREVIEWED)}, worth acting on unreviewed: {text.count(UNREVIEWED_WORTH)}")
        for section, counts in tally(text).items():
            print(f"{section}: " + ", ".join(f"{verdict} {n}" for verdict, n in counts.most_common()))
        return 0

    wanted = set(args.projects.split(",")) if args.projects else None
    projects = [p for p in PROJECTS if wanted is None or p.name in wanted]
    if wanted and (unknown := wanted - {p.name for p in projects}):
        parser.error(f"unknown project(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    print(f"cache: {CACHE}; scanning {'all code' if args.include_tests else 'package code without tests'}",
          flush=True)
    runs: list[Run] = []
    djch_rows: list[tuple[Project, DjchResult, Comparison | None]] = []
    for project in projects:
        root = fetch(project.requirement, wheel=project.wheel).resolve()  # ormlens prints resolved paths
        mark_project_root(root)
        files = scanned_files(project, root, args.include_tests)
        run = run_ormlens(project, root, files)
        runs.append(run)
        for error in run.errors:
            print(f"  {project.requirement}: {error}", file=sys.stderr)
        if project.style == "django":
            result = run_djch(project, root, files)
            djch_rows.append((project, result, compare(run, result.findings) if result.available else None))
        print(f"  done {project.requirement}: {len(run.findings)} findings in {run.seconds:.1f}s", flush=True)

    print()
    print_table(runs)
    print_comparison(djch_rows)
    comparisons = {p.requirement: c for p, _, c in djch_rows if c is not None}
    findings = [f for run in runs for f in run.findings]

    if args.findings:
        document = {
            "scanned": "all code" if args.include_tests else "package code without tests",
            "projects": [{"project": r.project.requirement, "style": r.project.style,
                          "packages": list(r.project.packages), "files": len(r.files), "lines": r.lines,
                          "seconds": round(r.seconds, 2), "peak_rss_mb": round(r.peak_rss_kb / 1024),
                          "errors": r.errors,
                          "counts": dict(sorted(Counter(f["code"] for f in r.findings).items()))} for r in runs],
            "findings": findings,
            "djch": [{"project": p.requirement, "available": res.available, "reason": res.reason,
                      "seconds": round(res.seconds, 2),
                      **({"both_orm002": c.both_orm002, "both_orm001": c.both_orm001, "djch_only": c.djch_only,
                          "ormlens_only": c.ormlens_only} if c is not None else {})}
                     for p, res, c in djch_rows],
        }
        args.findings.parent.mkdir(parents=True, exist_ok=True)
        args.findings.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"\nwrote {len(findings)} findings to {args.findings}")
    shown = [f for f in findings if not f["one_off"]]
    print(f"{len(findings) - len(shown)} of {len(findings)} findings are in one-off code (not shown by default, "
          "not sampled)")
    if args.sample:
        sample = stratified_sample(shown, args.sample, args.seed)
        args.review.parent.mkdir(parents=True, exist_ok=True)
        verdicts = read_verdicts([path.read_text() for path in args.carry])
        text = review_markdown(sample, comparisons, args.seed, len(shown), verdicts)
        args.review.write_text(text)
        if args.carry:
            print(f"{text.count(UNREVIEWED)} entries left to review (the others keep an earlier verdict)")
        print(f"wrote a review skeleton of {len(sample)} sampled findings"
              f"{' and the djch disagreements' if comparisons else ''} to {args.review}")
    print(f"whole run: {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
