"""How does `ormlens check` scale to whole real projects: cold, on every core, warm, and after one edit?

For each project (by default three released sources of 150k+ lines from PyPI: wagtail and pretix
for Django, mlflow for SQLAlchemy; downloaded once into the benchmarks' cache, never committed;
`--project PATH` adds a local folder, such as a saleor checkout) it takes the files ormlens
discovers in the whole unpacked tree (its .gitignore handling, no exclusions, tests included: what
`ormlens check` at the project's root checks), passes that same list to every tool, and prints:

- files and lines;
- the floor: reading and `ast.parse`-ing every one of those files in one fresh process;
- `ruff check --select ALL --no-cache --isolated` on them (ruff from the `bench` extra; n/a with
  the install command when it is missing);
- ormlens cold on one process (`--no-cache --jobs 1`), cold on every core (`--no-cache --jobs N`),
  a first cached run that fills the cache (informative), warm (a second run on the unchanged tree)
  and warm after touching one model file (a comment line appended to the largest `models.py`, or
  file under a `models/` package; restored afterwards, also on Ctrl-C or SIGTERM, and a leftover
  from a killed run is removed at the start). An ormlens without `--jobs` / `--no-cache` (checked
  with `ormlens check --help`) is run plainly for the cold one-process figure, and the others
  are n/a, with a note;
- for each run its wall time, CPU time (user + system, pool workers included) and peak RSS (the
  child's own maximum from os.wait4, which is the largest single process of its tree; for a run on
  several processes also the sampled peak of their sum);
- the ratios against issue #12's targets: cold one process <= 2x the floor; cold on every core
  faster than the one-process floor; warm faster than ruff's cold run; peak RSS <= 500 MB on an
  850k-line project (marked on projects of 800k+ lines);
- whether the findings (`--output-format json`, sorted) of the cold one-process, cold all-core,
  warm and touched runs are identical, with a loud MISMATCH line (and exit status 1) otherwise.

Every run is a fresh subprocess, timed once (wall clock, interpreter start included). The machine
and the ormlens commit are printed first. From the repository root:

    .venv/bin/pip install -e '.[bench]'      # ruff
    .venv/bin/python benchmarks/project_scale.py
    .venv/bin/python benchmarks/project_scale.py --projects wagtail --project /tmp/corpus/saleor
    .venv/bin/python benchmarks/project_scale.py --projects= --project /tmp/corpus/saleor  # only saleor
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from corpus import PROJECTS as CORPUS_PROJECTS
from corpus import mark_project_root
from memory import FLOOR, Measured, run_measured
from pypi_sources import CACHE, fetch
from soak import machine

import ormlens
from ormlens.discovery import discover

DEFAULT_PROJECTS = ("wagtail", "pretix", "mlflow")  # pinned in corpus.PROJECTS; all 150k+ lines
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
ORMLENS = [sys.executable, "-m", "ormlens", "check", "--output-format", "json", "--exit-zero"]
MARKER = b"# touched by benchmarks/project_scale.py\n"
RSS_TARGET_MB = 500
RSS_TARGET_LINES = 800_000  # the RSS target is stated for an 850k-line project
CACHE_DIR = ".ormlens_cache"  # issue #12: at the project root
INSTALL_RUFF = ".venv/bin/pip install -e '.[bench]'"
RUFF_VIOLATION = re.compile(r"^\S.*:\d+:\d+: [A-Z]+\d+ ", re.MULTILINE)


@dataclass
class Target:
    name: str
    style: str
    root: Path


@dataclass
class Run:
    label: str
    measured: Measured | None = None  # None: n/a
    tree_peak_kb: int = 0  # sampled peak of the summed RSS of the run's processes
    findings: list[str] | None = None  # sorted JSON findings (ormlens runs)
    note: str = ""
    violations: int = 0  # ruff's


@dataclass
class Result:
    target: Target
    files: int
    lines: int
    model: Path | None
    runs: dict[str, Run] = field(default_factory=dict)
    mismatch: list[str] = field(default_factory=list)


# --- measuring -----------------------------------------------------------------------------------

def descendants(ancestor: int) -> dict[int, int]:
    """The processes below `ancestor`, with their RSS in kB (from /proc/PID/stat)."""
    parent, rss = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parent[int(entry.name)], rss[int(entry.name)] = int(fields[1]), int(fields[21])
    below = {}
    for pid, pages in rss.items():
        up = parent.get(pid)
        while up is not None and up != ancestor:
            up = parent.get(up)
        if up == ancestor:
            below[pid] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    return below


def terminated(*_) -> None:
    """On SIGTERM: end the running tool's processes too, then unwind (restoring a touched file)."""
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    sys.exit(143)


def measure(command: list[str], cwd: Path, sample: bool = False) -> tuple[Measured, int]:
    """run_measured, and with `sample` the peak summed RSS of the process tree, every 0.2 s."""
    peak, stop = [0], threading.Event()

    def sampler() -> None:
        while not stop.wait(0.2):
            peak[0] = max(peak[0], sum(descendants(os.getpid()).values()))

    thread = threading.Thread(target=sampler, daemon=True)
    if sample:
        thread.start()
    try:
        done = run_measured(command, cwd=cwd)
    finally:
        stop.set()
    if sample:
        thread.join()
    return done, max(peak[0], done.peak_rss_kb)


def ormlens_run(label: str, flags: list[str], target: Target, files: list[str]) -> Run:
    done, tree = measure([*ORMLENS, *flags, *files], target.root, sample=flags[-2:] != ["--jobs", "1"])
    try:
        findings = sorted(json.dumps(item, sort_keys=True) for item in json.loads(done.stdout))
    except ValueError:
        raise SystemExit(f"ormlens {' '.join(flags)} failed on {target.name} (exit {done.returncode}):\n"
                         f"{done.stderr[-3000:]}") from None
    errors = [line.replace(f"{target.root}{os.sep}", "") for line in done.stderr.splitlines() if line.strip()]
    note = (f"exit {done.returncode}; " if done.returncode else "") + \
        (f"{len(errors)} stderr lines, first: {errors[0][:90]}" if errors else "")
    return Run(label, done, tree, findings, note)


# --- the model file, touched and always restored ------------------------------------------------

def model_file(paths: list[Path], root: Path) -> Path | None:
    """The largest `models.py` or module of a `models/` package (ties: the first path)."""
    models = [p for p in paths if p.name == "models.py" or "models" in p.relative_to(root).parts[:-1]]
    return min(models, key=lambda p: (-p.stat().st_size, str(p)), default=None)


def untouch(path: Path) -> None:
    """Remove the line a killed run may have left."""
    text = path.read_bytes()
    if text.endswith(MARKER):
        path.write_bytes(text[:-len(MARKER)])


@contextmanager
def touched(path: Path):
    original, status = path.read_bytes(), path.stat()
    try:
        path.write_bytes(original + (b"\n" if original and not original.endswith(b"\n") else b"") + MARKER)
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


# --- one project ------------------------------------------------------------------------------------

def capabilities() -> tuple[bool, bool]:
    """(--jobs, --no-cache) supported by this ormlens check?"""
    text = subprocess.run([sys.executable, "-m", "ormlens", "check", "--help"], capture_output=True, text=True).stdout
    return "--jobs" in text, "--no-cache" in text


def ruff_path() -> str | None:
    return shutil.which("ruff", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def measure_project(target: Target, jobs: bool, cache: bool, ruff: str | None) -> Result:
    paths = discover([target.root], target.root)
    model = model_file(paths, target.root)
    if model:
        untouch(model)
    lines = sum(path.read_bytes().count(b"\n") for path in paths)  # also brings every file into the page cache
    files = [str(path.relative_to(target.root)) for path in paths]
    result = Result(target, len(paths), lines, model)
    runs = result.runs
    print(f"\n== {target.name} ({target.style}): {len(paths):,} files, {lines:,} lines; root {target.root}")
    print(f"   load average before: {os.getloadavg()[0]:.2f} (above 0 means other work shares the cores: "
          "wall times are then noisier than CPU times)", flush=True)
    print(f"   model file touched: {model.relative_to(target.root) if model else 'none found'}", flush=True)

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as listing:
        listing.write("\n".join(str(path) for path in paths))
    try:
        runs["floor"] = Run("floor: read + ast.parse, one process", measure([sys.executable, "-c", FLOOR, listing.name],
                                                                            target.root)[0])
    finally:
        os.unlink(listing.name)
    if ruff:
        done, _ = measure([ruff, "check", "--select", "ALL", "--no-cache", "--isolated", "--exit-zero",
                           "--output-format", "concise", *files], target.root)
        runs["ruff"] = Run("ruff check --select ALL, cold", done, note="" if done.returncode == 0 else
                           f"exit {done.returncode}: {done.stderr.strip()[:100]}",
                           violations=len(RUFF_VIOLATION.findall(done.stdout)))
    else:
        runs["ruff"] = Run("ruff check --select ALL, cold", note=f"ruff not installed: {INSTALL_RUFF}")

    cold = ["--no-cache"] if cache else []
    runs["cold1"] = ormlens_run("ormlens cold, one process", [*cold, *(["--jobs", "1"] if jobs else [])],
                                target, files)
    if not (jobs and cache):
        runs["cold1"].note = ("no --jobs/--no-cache in this ormlens: plain `ormlens check`" if not (jobs or cache)
                              else "no --no-cache" if jobs else "no --jobs") + \
            (f"; {runs['cold1'].note}" if runs["cold1"].note else "")
    print(f"   cold one process: {runs['cold1'].measured.seconds:.1f} s", flush=True)
    if jobs:
        runs["coldN"] = ormlens_run(f"ormlens cold, all {CORES} cores", [*cold, "--jobs", str(CORES)], target, files)
    else:
        runs["coldN"] = Run(f"ormlens cold, all {CORES} cores", note="n/a: no --jobs")
    if cache:
        shutil.rmtree(target.root / CACHE_DIR, ignore_errors=True)
        runs["prime"] = ormlens_run("ormlens first cached run (fills it)", [], target, files)
        runs["warm"] = ormlens_run("ormlens warm, unchanged tree", [], target, files)
        if model is None:
            runs["touched"] = Run("ormlens warm, one model file touched", note="n/a: no models module")
        else:
            with touched(model):
                runs["touched"] = ormlens_run("ormlens warm, one model file touched", [], target, files)
    else:
        for key, label in (("prime", "ormlens first cached run (fills it)"), ("warm", "ormlens warm, unchanged tree"),
                           ("touched", "ormlens warm, one model file touched")):
            runs[key] = Run(label, note="n/a: no cache (--no-cache absent)")

    reference = runs["cold1"].findings
    for key in ("coldN", "prime", "warm", "touched"):
        if runs[key].findings is not None and runs[key].findings != reference:
            only_a = len(set(reference) - set(runs[key].findings))
            only_b = len(set(runs[key].findings) - set(reference))
            result.mismatch.append(f"{runs[key].label}: {len(runs[key].findings)} findings against "
                                   f"{len(reference)} cold on one process ({only_a} missing, {only_b} extra)")
    print_project(result)
    return result


# --- printing ---------------------------------------------------------------------------------------

def seconds(run: Run | None) -> str:
    return f"{run.measured.seconds:.2f}" if run and run.measured else "n/a"


def ratio(a: Run, b: Run, cpu: bool = False) -> float | None:
    if not (a.measured and b.measured):
        return None
    return a.measured.cpu_seconds / b.measured.cpu_seconds if cpu else a.measured.seconds / b.measured.seconds


def verdict(value: float | None, limit: float, strict: bool) -> str:
    if value is None:
        return "n/a"
    met = value < limit if strict else value <= limit
    return f"{value:.2f}x ({'met' if met else 'MISSED'})"


def print_project(result: Result) -> None:
    runs = result.runs
    print(f"   {'run':<40} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>11} {'findings':>8}  note")
    for run in runs.values():
        if run.measured is None:
            print(f"   {run.label:<40} {'n/a':>7} {'n/a':>7} {'n/a':>11} {'':>8}  {run.note}")
            continue
        m = run.measured
        rss = f"{m.peak_rss_kb / 1024:.0f}"
        note = run.note
        if run.tree_peak_kb > m.peak_rss_kb * 1.05:
            note = f"all processes together: {run.tree_peak_kb / 1024:.0f} MB (sampled)" + (f"; {note}" if note else "")
        count = len(run.findings) if run.findings is not None else run.violations if run.violations else ""
        print(f"   {run.label:<40} {m.seconds:>7.2f} {m.cpu_seconds:>7.2f} {rss:>11} {count:>8}  {note}")
    floor, cold1 = runs["floor"], runs["cold1"]
    cpu = ratio(cold1, floor, cpu=True)
    print(f"   cold one process / floor: {verdict(ratio(cold1, floor), 2, False)} (target <= 2x; "
          f"in CPU time: {cpu:.2f}x)")
    print(f"   cold all cores / one-process floor: {verdict(ratio(runs['coldN'], floor), 1, True)} (target < 1)")
    print(f"   warm / ruff cold: {verdict(ratio(runs['warm'], runs['ruff']), 1, True)} (target < 1)")
    print(f"   warm after touching a model / ruff cold: {verdict(ratio(runs['touched'], runs['ruff']), 1, True)}")
    peak = max(r.measured.peak_rss_kb for k, r in runs.items() if r.measured and k not in ("floor", "ruff")) / 1024
    rss_note = (f"{'met' if peak <= RSS_TARGET_MB else 'MISSED'}: target <= {RSS_TARGET_MB} MB at 850k lines"
                if result.lines >= RSS_TARGET_LINES else f"the {RSS_TARGET_MB} MB target is stated for 850k lines")
    print(f"   peak RSS of the ormlens runs (largest process): {peak:.0f} MB = {peak / RSS_TARGET_MB:.2f}x "
          f"{RSS_TARGET_MB} MB ({rss_note})")
    if result.mismatch:
        for line in result.mismatch:
            print(f"   !!!!!!!! FINDINGS MISMATCH on {result.target.name}: {line} !!!!!!!!")
    else:
        compared = [r.label.removeprefix("ormlens ") for k, r in runs.items()
                    if r.findings is not None and k != "prime"]
        print(f"   findings identical across: {'; '.join(compared)} ({len(cold1.findings)} findings)", flush=True)


def print_summary(results: list[Result]) -> None:
    print("\nSummary (wall seconds; ratios: cold1/floor target <= 2 (cpu: the same in CPU time), coldN/floor < 1, "
          "warm/ruff < 1; RSS: the largest ormlens process)")
    header = (f"{'project':<18} {'files':>6} {'lines':>8} {'floor':>6} {'ruff':>6} {'cold1':>6} {f'cold{CORES}':>6} "
              f"{'warm':>6} {'touch':>6} {'RSS MB':>6} {'c1/fl':>6} {'cpu':>5} {'cN/fl':>6} {'wm/rf':>6} {'same':>5}")
    print(header)
    print("-" * len(header))
    for result in results:
        runs = result.runs
        rss = max(r.measured.peak_rss_kb for k, r in runs.items() if r.measured and k not in ("floor", "ruff")) / 1024
        ratios = [ratio(runs["cold1"], runs["floor"]), ratio(runs["coldN"], runs["floor"]),
                  ratio(runs["warm"], runs["ruff"])]
        cpu = f"{ratio(runs['cold1'], runs['floor'], cpu=True):>5.2f}"
        print(f"{result.target.name[:18]:<18} {result.files:>6} {result.lines:>8} "
              + " ".join(f"{seconds(runs[k]):>6}" for k in ("floor", "ruff", "cold1", "coldN", "warm", "touched"))
              + f" {rss:>6.0f} " + " ".join(f"{r:>6.2f}" if r is not None else f"{'n/a':>6}" for r in ratios[:1])
              + f" {cpu} " + " ".join(f"{r:>6.2f}" if r is not None else f"{'n/a':>6}" for r in ratios[1:])
              + f" {'NO' if result.mismatch else 'yes' if runs['coldN'].measured or runs['warm'].measured else 'n/a':>5}")


def ormlens_version() -> str:
    source = Path(ormlens.__file__).resolve().parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", ".") else ""
    return f"{commit}{dirty} ({source})"


# --- main ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", default=",".join(DEFAULT_PROJECTS),
                        help=f"comma-separated names from corpus.PROJECTS (default: {','.join(DEFAULT_PROJECTS)}; "
                             "empty: none)")
    parser.add_argument("--project", type=Path, action="append", default=[], metavar="PATH",
                        help="also measure this local project folder (repeatable)")
    args = parser.parse_args(argv)
    wanted = [name for name in args.projects.split(",") if name]
    known = {p.name: p for p in CORPUS_PROJECTS}
    if unknown := [name for name in wanted if name not in known]:
        parser.error(f"unknown project(s): {', '.join(unknown)} (known: {', '.join(known)})")
    signal.signal(signal.SIGTERM, terminated)  # so that a touched file is restored

    jobs, cache = capabilities()
    ruff = ruff_path()
    print(f"machine: {machine()}")
    print(f"ormlens: {ormlens_version()}; check --jobs: {'yes' if jobs else 'no'}, "
          f"--no-cache: {'yes' if cache else 'no'}")
    if not (jobs and cache):
        print("NOTE: this ormlens lacks " + " and ".join(f for f, ok in (("--jobs", jobs), ("--no-cache", cache))
                                                          if not ok)
              + ": the cold one-process figure is plain `ormlens check`"
              + ("" if jobs else "; cold all cores is n/a") + ("" if cache else "; warm runs are n/a"))
    version = subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.strip() if ruff else ""
    print(f"ruff: {f'{version} ({ruff})' if ruff else f'n/a, not installed: {INSTALL_RUFF}'}")
    print(f"sources cache: {CACHE}", flush=True)

    targets = []
    for name in wanted:
        project = known[name]
        root = fetch(project.requirement, wheel=project.wheel).resolve()
        mark_project_root(root)
        targets.append(Target(project.requirement, project.style, root))
    for path in args.project:
        if not path.is_dir():
            parser.error(f"not a folder: {path}")
        targets.append(Target(path.resolve().name, "local", path.resolve()))

    results = []
    for target in targets:
        results.append(measure_project(target, jobs, cache, ruff))
    print_summary(results)
    if any(result.mismatch for result in results):
        print("\n!!!!!!!! FINDINGS MISMATCH: see above !!!!!!!!")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
