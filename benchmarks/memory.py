"""Peak memory and time of `ormlens check` on one project, next to the floor of only reading and
`ast.parse`-ing the same files (keeping nothing), each in a subprocess of its own.

Peak RSS is the child's own `ru_maxrss` (os.wait4), not the cumulative maximum over all children
that `getrusage(RUSAGE_CHILDREN)` gives. The files are those ormlens discovers in the folder
(its .gitignore handling, no exclusions), passed explicitly to both runs.

    .venv/bin/python benchmarks/memory.py --project /tmp/corpus/saleor
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ormlens.discovery import discover

# The floor: what any tool reading these files with `ast` pays. As the CLI, with its GC setting.
FLOOR = """
import ast, gc, sys
gc.set_threshold(100_000, 50, 100)
for name in open(sys.argv[1], encoding="utf-8").read().splitlines():
    try:
        ast.parse(open(name, "rb").read())
    except (SyntaxError, ValueError):
        pass
"""


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_rss_kb: int  # the child's maximum resident set size (or of its largest reaped child)
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system, of the child and the children it waited for


def run_measured(command: list[str], cwd: Path | None = None) -> Measured:
    """Run `command`; its exit status, wall time, peak RSS and output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
        out.seek(0)
        err.seek(0)
        return Measured(process.returncode, seconds, usage.ru_maxrss, out.read(), err.read(),
                        usage.ru_utime + usage.ru_stime)


def machine() -> str:
    model = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GB memory"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{memory}, {model}; Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, required=True, help="the project folder to check")
    args = parser.parse_args(argv)
    root = args.project.resolve()
    files = discover([root], root)
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    print(f"machine: {machine()}")
    print(f"project: {root} ({len(files):,} files, {lines:,} lines)", flush=True)

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as listing:
        listing.write("\n".join(str(path) for path in files))
    try:
        floor = run_measured([sys.executable, "-c", FLOOR, listing.name])
    finally:
        os.unlink(listing.name)
    if floor.returncode != 0:
        print(floor.stderr, file=sys.stderr)
        return 1
    check = run_measured([sys.executable, "-m", "ormlens", "check", "--output-format", "json", "--exit-zero",
                          *(str(path.relative_to(root)) for path in files)], cwd=root)
    if check.returncode != 0:
        print(check.stderr, file=sys.stderr)
        return 1

    print(f"{'':<24} {'wall s':>8} {'peak RSS MB':>12}")
    for name, run in (("floor (read + parse)", floor), ("ormlens check", check)):
        print(f"{name:<24} {run.seconds:>8.1f} {run.peak_rss_kb / 1024:>12.0f}")
    print(f"{'ratio':<24} {check.seconds / floor.seconds:>7.1f}x {check.peak_rss_kb / floor.peak_rss_kb:>11.1f}x")
    print(f"per 1,000 lines: {check.peak_rss_kb / 1024 / max(lines, 1) * 1000:.2f} MB peak RSS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
