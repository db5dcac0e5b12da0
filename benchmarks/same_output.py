"""Does a change keep every finding, byte for byte, and how much slower or faster is it?

For refactors that must not change behaviour (the interpreter/plugin split): exports the analysis
at a git revision (`--base`, default HEAD) into a temporary directory, then runs
`ormlens check --output-format json --no-cache --jobs 1 --exit-zero` over each real project with
that code and with the working tree's, alternating them for `--rounds` rounds (so both see the
same machine load), and prints per project: identical output or not (the JSON of the base run is
the reference, kept in `--keep DIR` when given), the median wall-clock seconds of each, and the
ratio. The projects are the corpus benchmark's pinned releases (downloaded into the cache by
pypi_sources.py, never committed); `--extra DIR` adds any directory (a fetched repository).

    .venv/bin/python benchmarks/same_output.py --base 0d102e2 --rounds 3
    .venv/bin/python benchmarks/same_output.py --projects wagtail,ckan --extra /tmp/corpus/saleor

Exit status 1 when any output differs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import PROJECTS  # noqa: E402
from pypi_sources import fetch, source_root  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent


def export(revision: str, into: Path) -> Path:
    """The `server/` tree of `revision`, unpacked under `into`."""
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", revision, "server"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "server"


def check(server: Path, directory: Path) -> tuple[bytes, float]:
    """The JSON output of `ormlens check` on `directory` with the code in `server`, and the CPU
    seconds (user + system) it took: less at the mercy of other load on the machine than the
    wall clock (a single process: the two are close when the machine is idle)."""
    environment = {**os.environ, "PYTHONPATH": str(server)}
    # Every finding, one-off code's too (a version before issue #15 shows them all by default).
    include = ["--include", "one-off"] if (server / "ormlens" / "one_off.py").exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "ormlens", "check", "--output-format", "json", "--no-cache",
                           "--jobs", "1", "--exit-zero", *include, str(directory)], env=environment, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"ormlens failed on {directory} with {server}:\n{done.stderr.decode()[-2000:]}")
    return _comparable(done.stdout), elapsed


# What every version's JSON output holds for a finding (issue #16 added "fix" edits, "severity" and
# entries for files not parsed, which an older base does not have: they are not the analysis's findings).
FINDING_KEYS = ("cell", "code", "end_location", "filename", "location", "message", "noqa_row", "related", "url")


def _comparable(output: bytes) -> bytes:
    findings = [{key: finding.get(key) for key in FINDING_KEYS} for finding in json.loads(output)
                if finding.get("code") is not None]
    return json.dumps(findings, indent=2, sort_keys=True).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the git revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs of each (default 1)")
    parser.add_argument("--projects", help="comma-separated corpus project names (default: all)")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="another project directory")
    parser.add_argument("--keep", type=Path, help="write each base and working-tree JSON here")
    args = parser.parse_args(argv)
    wanted = set(args.projects.split(",")) if args.projects else None
    targets = [(project.name, source_root(fetch(project.requirement, wheel=project.wheel)))
               for project in PROJECTS if wanted is None or project.name in wanted]
    targets += [(path.name, path) for path in args.extra]
    working = REPOSITORY / "server"
    differ = 0
    with tempfile.TemporaryDirectory() as temporary:
        base = export(args.base, Path(temporary))
        print(f"base {args.base} vs the working tree; {args.rounds} round(s); {os.cpu_count()} cores; "
              f"Python {sys.version.split()[0]}")
        print(f"{'project':<24} {'same':>5} {'base cpu':>8} {'work cpu':>8} {'ratio':>6}")
        totals = [0.0, 0.0]
        for name, directory in targets:
            times: tuple[list[float], list[float]] = ([], [])
            outputs: list[bytes] = [b"", b""]
            for _ in range(args.rounds):
                for index, server in enumerate((base, working)):
                    outputs[index], seconds = check(server, directory)
                    times[index].append(seconds)
            same = outputs[0] == outputs[1]
            differ += not same
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"{name}.base.json").write_bytes(outputs[0])
                (args.keep / f"{name}.work.json").write_bytes(outputs[1])
            medians = [statistics.median(t) for t in times]
            totals = [totals[0] + medians[0], totals[1] + medians[1]]
            print(f"{name:<24} {'yes' if same else 'NO':>5} {medians[0]:8.2f} {medians[1]:8.2f} "
                  f"{medians[1] / medians[0]:5.2f}x", flush=True)
        print(f"{'total':<24} {'':>5} {totals[0]:8.2f} {totals[1]:8.2f} {totals[1] / totals[0]:5.2f}x")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
