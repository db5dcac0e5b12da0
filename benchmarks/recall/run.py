"""Recall on N+1s that real projects fixed in their own history.

Each `sites/<project>.json` labels sites: the line, in the parent of a fixing commit, where a query
or a lazy relationship read ran once per row (the work the fix removed or made eager), with the rule
that should report it and the pattern it belongs to (docs/recall.md). For every labeled parent
commit this script unpacks the repository's Python files at that commit into a cache, marks the
snapshot's root as a checkout (so ormlens sees the whole project, as the editor does), runs
`ormlens check --output-format json` on the whole project there (`--files-only`: on the labeled
files), and counts a site as found when a finding of its rule covers its line, or names it as a
related location (a query reached through a call is reported at the call in the loop, which may be
in another module). It also runs the fixing commit and says whether the same
read, now eager-loaded or batched, is still reported.

Snapshots come from a bare git mirror of each repository: `--mirrors DIR` holding `owner+name/`
(the library's `fetch` tool lays them out so, under /work/.mirror), or a clone made into the cache
where GitHub is reachable. Nothing is committed from them.

    .venv/bin/python benchmarks/recall/run.py                 # every project
    .venv/bin/python benchmarks/recall/run.py --projects wger,bodhi --list
    .venv/bin/python benchmarks/recall/run.py --json /tmp/recall.json
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
CACHE = Path(os.environ.get("ORMLENS_BENCH_CACHE", Path.home() / ".cache" / "ormlens-bench")) / "recall"
# What a snapshot needs: the Python, the files that mark a project's root or configure it, templates.
SNAPSHOT_PATHS = ("*.py", "*.pyi", "pyproject.toml", "setup.cfg", "*.html", "*.jinja2", "*.j2", "*.jinja")


@dataclass
class Site:
    project: str
    repository: str
    root: str
    fix_commit: str
    parent_commit: str
    path: str
    line: int
    code: str
    rule: str
    pattern: str
    per_row: str
    fix: str
    fixed_path: str | None
    fixed_line: int | None
    # Filled by the run.
    # found | missed | other-rule | not-analysed (a miss: ormlens could not analyse the file, e.g.
    # newer or Python 2 syntax) | label-error | unavailable (no mirror)
    status: str = "missed"
    message: str = ""
    still_reported: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.project}:{self.parent_commit[:10]}:{self.path}:{self.line}"


def load_sites(projects: set[str] | None) -> list[Site]:
    sites = []
    for file in sorted((HERE / "sites").glob("*.json")):
        data = json.loads(file.read_text())
        if projects and data["project"] not in projects:
            continue
        for s in data["sites"]:
            sites.append(Site(project=data["project"], repository=data["repository"], root=data.get("root", ""),
                              fix_commit=s["fix_commit"], parent_commit=s["parent_commit"], path=s["path"],
                              line=int(s["line"]), code=s["code"], rule=s["rule"], pattern=s["pattern"],
                              per_row=s.get("per_row", ""), fix=s.get("fix", ""), fixed_path=s.get("fixed_path"),
                              fixed_line=s.get("fixed_line")))
    return sites


def git_dir(repository: str, mirrors: Path) -> Path | None:
    """A git directory holding `repository`'s history: the mirror's, or a bare clone in the cache."""
    mirror = mirrors / repository.replace("/", "+")
    for candidate in (mirror / "repo" / ".git", mirror / "repo", mirror):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    clone = CACHE / "git" / repository.replace("/", "+")
    if not (clone / "HEAD").is_file():
        clone.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["git", "clone", "--bare", "--quiet", f"https://github.com/{repository}", str(clone)],
                              capture_output=True, timeout=900)
        if done.returncode != 0:
            return None
    return clone


def snapshot(repository: str, commit: str, mirrors: Path) -> Path | None:
    """The repository's files at `commit`, unpacked once into the cache; None when unavailable."""
    into = CACHE / "snapshots" / f"{repository.replace('/', '+')}-{commit[:12]}"
    if (into / ".git").is_dir():
        return into
    source = git_dir(repository, mirrors)
    if source is None:
        return None
    partial = into.with_name(into.name + ".part")
    subprocess.run(["rm", "-rf", str(partial)], check=True)
    partial.mkdir(parents=True)
    # Blob by blob (a mirror may leave out its largest files, so `git archive` of a whole tree can fail).
    listing = subprocess.run(["git", "-C", str(source), "ls-tree", "-r", "-z", commit], capture_output=True)
    if listing.returncode != 0:
        return None
    wanted = []
    for entry in listing.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob" and fnmatch_any(name.decode(errors="replace")):
            wanted.append((parts[2].decode(), name.decode(errors="replace")))
    batch = subprocess.run(["git", "-C", str(source), "cat-file", "--batch"], capture_output=True,
                           input="".join(f"{sha}\n" for sha, _ in wanted).encode())
    data, offset = batch.stdout, 0
    for sha, name in wanted:
        header_end = data.index(b"\n", offset)
        header = data[offset:header_end].split()
        offset = header_end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[offset:offset + size])
        offset += size + 1
    (partial / ".git").mkdir()  # a checkout's root: where ormlens finds the project (config.find_root)
    partial.rename(into)
    return into


SERVER = REPOSITORY / "server"
# The interpreter that runs ormlens: `ast` parses only the syntax of the Python running it, so a
# project written for 3.12 (f-strings reusing their quotes) needs a 3.12 interpreter (--python).
PYTHON = sys.executable
FILES_ONLY = False  # --files-only: check only the labeled files (what the editor shows in them)


def fnmatch_any(name: str) -> bool:
    return any(fnmatch.fnmatch(name.rsplit("/", 1)[-1], pattern) for pattern in SNAPSHOT_PATHS)


def run_ormlens(root: Path, paths: list[str]) -> tuple[list[dict], str]:
    """ormlens's findings on `paths` (relative to `root`), analysed in the whole project at `root`,
    and what it said on stderr (a file it could not analyse is named there)."""
    existing = [p for p in paths if (root / p).is_file()]
    if not existing:
        return [], ""
    # The whole project, unless --files-only: an N+1 reached through a call is reported at the
    # call (in the caller's module), naming the site as its related location.
    targets = existing if FILES_ONLY else [*existing, "."]
    done = subprocess.run([PYTHON, "-m", "ormlens", "check", "--output-format", "json", "--exit-zero",
                           "--no-cache", *targets], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SERVER)})
    if done.returncode != 0:
        print(f"  ormlens failed in {root}: {done.stderr.strip()[-400:]}", file=sys.stderr)
        return [], done.stderr
    return json.loads(done.stdout or "[]"), done.stderr


def covers(finding_like: dict, path: Path, line: int) -> bool:
    if Path(finding_like["filename"]).resolve() != path.resolve():
        return False
    return finding_like["location"]["row"] <= line <= finding_like["end_location"]["row"]


def match(findings: list[dict], rule: str, path: Path, line: int) -> tuple[str, dict | None]:
    """found (a finding of `rule` at the line, or naming it), other-rule (another rule's), missed."""
    for want_rule in (True, False):
        for finding in findings:
            if (finding["code"] == rule) != want_rule:
                continue
            if covers(finding, path, line) or any(covers(r, path, line) for r in finding.get("related", [])):
                return ("found" if want_rule else "other-rule"), finding
    return "missed", None


def evaluate(sites: list[Site], mirrors: Path) -> None:
    by_snapshot: dict[tuple[str, str], list[Site]] = defaultdict(list)
    for site in sites:
        by_snapshot[(site.repository, site.parent_commit)].append(site)
    for (repository, commit), group in sorted(by_snapshot.items()):
        root = snapshot(repository, commit, mirrors)
        if root is None:
            for site in group:
                site.status = "unavailable"
            print(f"  {repository}: no mirror (call the library's fetch github:{repository}, or reach GitHub)",
                  file=sys.stderr)
            continue
        base = root  # labeled paths are relative to the repository
        for site in group:
            text = (base / site.path).read_text(errors="replace").splitlines() if (base / site.path).is_file() else []
            if not (0 < site.line <= len(text)) or site.code not in text[site.line - 1]:
                site.status = "label-error"
                site.notes.append("the labeled line does not hold the labeled code")
        findings, said = run_ormlens(root, sorted({s.path for s in group}))
        for site in group:
            if site.status == "label-error":
                continue
            site.status, finding = match(findings, site.rule, base / site.path, site.line)
            if finding:
                site.message = f"{finding['code']} {finding['message']}"
            elif f"{base / site.path}:" in said or f"{(base / site.path).resolve()}:" in said:
                # (still a miss: counted as one) the file itself was not analysed: say why
                site.notes.append(next(line for line in said.splitlines() if site.path in line)[-200:])
                site.status = "not-analysed"
    fixed: dict[tuple[str, str], list[Site]] = defaultdict(list)
    for site in sites:
        if site.fixed_line and site.fixed_path and site.status != "unavailable":
            fixed[(site.repository, site.fix_commit)].append(site)
    for (repository, commit), group in sorted(fixed.items()):
        root = snapshot(repository, commit, mirrors)
        if root is None:
            continue
        findings, _ = run_ormlens(root, sorted({s.fixed_path for s in group}))
        for site in group:
            status, _ = match(findings, site.rule, root / site.fixed_path, site.fixed_line)
            site.still_reported = status == "found"


def table(title: str, sites: list[Site], key) -> list[str]:
    counted = [s for s in sites if s.status not in ("unavailable", "label-error")]
    groups: dict[str, list[Site]] = defaultdict(list)
    for site in counted:
        groups[key(site)].append(site)
    lines = [f"| {title} | sites | found | recall |", "| --- | ---: | ---: | ---: |"]
    for name in sorted(groups):
        found = sum(s.status == "found" for s in groups[name])
        lines.append(f"| {name} | {len(groups[name])} | {found} | {found / len(groups[name]):.2f} |")
    found = sum(s.status == "found" for s in counted)
    lines.append(f"| **all** | {len(counted)} | {found} | {found / max(len(counted), 1):.2f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", help="comma-separated project names (default: every sites/*.json)")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                        help="directory of git mirrors named owner+name (default: /work/.mirror)")
    parser.add_argument("--patterns", help="comma-separated patterns to keep (template, loop, ...; default: all)")
    parser.add_argument("--list", action="store_true", help="print every site with its status")
    parser.add_argument("--json", type=Path, help="write every site with its status to this file")
    parser.add_argument("--server", type=Path, help="the ormlens code to run (default: this checkout's server/)")
    parser.add_argument("--python", help="the interpreter to run ormlens with (with its dependencies installed; "
                                         "default: this one); e.g. a 3.12 venv for projects using 3.12 syntax")
    parser.add_argument("--files-only", action="store_true",
                        help="report only findings in the labeled files (default: the whole project is checked, "
                             "so a site reached through a call counts where the call is reported)")
    args = parser.parse_args()
    global SERVER, PYTHON, FILES_ONLY
    FILES_ONLY = args.files_only
    if args.server:
        SERVER = args.server.resolve()
    if args.python:
        PYTHON = args.python
    sites = load_sites(set(args.projects.split(",")) if args.projects else None)
    if args.patterns:
        sites = [site for site in sites if site.pattern in args.patterns.split(",")]
    started = time.perf_counter()
    evaluate(sites, args.mirrors)
    elapsed = time.perf_counter() - started
    projects = {s.project for s in sites if s.status != "unavailable"}
    version = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                             text=True).stdout.strip()
    print(f"Recall corpus: {len(sites)} labeled sites in {len(projects)} projects "
          f"({elapsed:.0f} s on {os.cpu_count()} cores, ormlens under Python {version})\n")
    for title, key in (("rule", lambda s: s.rule), ("pattern", lambda s: s.pattern), ("project", lambda s: s.project)):
        print("\n".join(table(title, sites, key)) + "\n")
    other = [s for s in sites if s.status == "other-rule"]
    if other:
        print(f"{len(other)} more reported under another rule at the same line (not counted as found)")
    still = [s for s in sites if s.still_reported is not None]
    if still:
        print(f"Fixed versions still reported: {sum(s.still_reported for s in still)} of {len(still)} "
              "sites whose read survives the fix")
    counts = Counter(s.status for s in sites)
    for status in ("not-analysed", "label-error", "unavailable"):
        if counts[status]:
            print(f"{counts[status]} sites {status}")
    if args.list:
        print()
        for site in sites:
            after = "" if site.still_reported is None else (" [fixed: still reported]" if site.still_reported
                                                            else " [fixed: quiet]")
            print(f"{site.status:11} {site.rule} {site.pattern:11} {site.key} `{site.code}`{after}")
            print(f"            per row: {site.per_row}")
            if site.message:
                print(f"            ormlens: {site.message[:160]}")
            for note in site.notes:
                print(f"            note: {note}")
    if args.json:
        args.json.write_text(json.dumps([{**{k: v for k, v in vars(s).items()}} for s in sites], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
