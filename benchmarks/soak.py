"""Soak the language server: a typist on a real 1,000+-line module inside its real project.

Starts the real server (`python -m ormlens server`, stdio, through tests/lsp_wire.py's raw
JSON-RPC client), opens the module and types into one of its function bodies: one character per
`didChange` (incremental, UTF-16 positions from the client's own copy of the text kept by the
LSP specification's rules): Enter (with the indentation, as an editor inserts it), then a
statement character by character (so some versions do not parse, as when a person types), a typo
now and then corrected with a backspace, and every few typed lines removed again with one range
delete (the module stays about the same size).
Keystrokes go out at `--rate` per second (default 5, a steady typist; `--rate 0`: as fast as
possible), `--edits` of them (default 10,000; the range deletes count too).

It prints:
- the machine (cores, RAM, CPU model), the project, module and its lines, `ast.parse` of the
  module in this process (median of 5) for comparison;
- keystroke -> publish latency p50/p95/p99/max: for each keystroke, the time from writing it to
  the first publishDiagnostics of its version or a later one; over all keystrokes (a version
  that does not parse is never published: its wait ends when a later one parses and is) and over
  the keystrokes whose text parses;
- publishes received while typing, keystrokes between two publishes (median, max) and the longest
  time without a publish while typing;
- the server's RSS (VmRSS of /proc/PID/status) at start, every 1,000 edits and at the end, and its
  growth per 1,000 edits (least-squares slope of samples taken every 100 edits, after the first
  1,000 when there are enough of them, else after the first 10%);
- publishes out of version order, and tracebacks on the server's stderr (both should be 0).

The project is downloaded from PyPI into the benchmarks' cache on first use (pypi_sources.fetch).

    .venv/bin/python benchmarks/soak.py                      # ckan 2.12.0, ckan/logic/action/get.py
    .venv/bin/python benchmarks/soak.py --requirement django-oscar==4.2.1 \
        --module src/oscar/apps/order/abstract_models.py
    .venv/bin/python benchmarks/soak.py --edits 1000 --rate 0
    .venv/bin/python benchmarks/soak.py --project /tmp/corpus/saleor --module saleor/order/actions.py
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from lsp_wire import TextModel, Wire, file_uri, lsp_range, rss_kb  # noqa: E402
from pypi_sources import fetch  # noqa: E402

DEFAULT_REQUIREMENT = "ckan==2.12.0"  # SQLAlchemy; corpus.py PROJECTS
DEFAULT_MODULE = "ckan/logic/action/get.py"  # 3,206 lines of queries, with findings
STATEMENTS = [
    "total = sum(row.quantity for row in rows)",
    "label = 'soak é😀'  # typed",
    "count = len(str(self))",
    "values = [1, 2, 3]",
    "if count > 3: values.append(count)",
]
LINES_BEFORE_DELETE = 4   # typed lines removed again, with one range delete
TYPO = 0.05               # chance of a wrong character, corrected with a backspace
SAMPLE_EVERY = 100        # edits between two RSS samples
FINAL_WAIT = 120.0        # seconds to wait for the publish of the last version


# --- the machine ------------------------------------------------------------------------------------

def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {ram} RAM, {model}; Python {platform.python_version()}, {platform.system()}"


# --- where to type ------------------------------------------------------------------------------------

def typing_spot(text: str) -> tuple[int, str]:
    """(offset, indentation): the end of the line before the first statement of the function
    nearest the middle of the module whose body is at least 3 statements long."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(node.body) >= 3]
    if not functions:
        raise SystemExit("no function with a body of 3+ statements in the module")
    function = min(functions, key=lambda node: abs(node.lineno - middle))
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        first = function.body[1]  # after the docstring
    line = lines[first.lineno - 1]
    previous = lines[first.lineno - 2]
    # The end of the line before (before its line break): Enter, then the statement.
    offset = sum(len(item) for item in lines[: first.lineno - 2]) + len(previous.rstrip("\r\n"))
    print(f"typing in {function.name}() (line {function.lineno}), new lines after its line {first.lineno - 1}")
    return offset, line[: len(line) - len(line.lstrip())]


class Typist:
    """Keystrokes as changes, applied to the client's copy of the text (TextModel)."""

    def __init__(self, model: TextModel, offset: int, indent: str, seed: int) -> None:
        self.model, self.cursor, self.indent = model, offset, indent
        self.rng = random.Random(seed)
        self.pending: list[str] = []   # characters still to type
        self.typed_from = offset       # where the typed lines start
        self.lines = 0
        self.statement = 0

    def _change(self, begin: int, end: int, text: str) -> dict:
        change = {"range": lsp_range(self.model.position(begin), self.model.position(end)), "text": text}
        self.model.apply(change)
        return change

    def next(self) -> dict:
        if not self.pending:
            if self.lines >= LINES_BEFORE_DELETE:  # select the typed lines, delete
                change = self._change(self.typed_from, self.cursor, "")
                self.cursor, self.lines = self.typed_from, 0
                return change
            statement = STATEMENTS[self.statement % len(STATEMENTS)]
            self.statement += 1
            self.pending = ["\n" + self.indent, *statement]  # Enter (the editor indents), the statement
            self.lines += 1
        if not self.pending[0].startswith("\n") and self.rng.random() < TYPO:
            wrong = self.rng.choice("qxzj")
            self.pending.insert(0, "\b")  # the backspace that corrects it
            self.pending.insert(0, wrong)
        char = self.pending.pop(0)
        if char == "\b":
            self.cursor -= 1
            return self._change(self.cursor, self.cursor + 1, "")
        change = self._change(self.cursor, self.cursor, char)
        self.cursor += len(char)
        return change

    def at_line_start(self) -> bool:
        return not self.pending


# --- statistics ---------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = (len(ordered) - 1) * q
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def slope(points: list[tuple[int, int]]) -> float | None:
    """Least-squares slope of (x, y)."""
    if len(points) < 2:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def mb(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.1f} MB"


# --- the run ----------------------------------------------------------------------------------------------

async def soak(root: Path, module: Path, edits: int, rate: float, seed: int) -> None:
    text = module.read_bytes().decode("utf-8")
    lines = text.count("\n") + (not text.endswith("\n"))
    parse_times = []
    for _ in range(5):
        start = time.perf_counter()
        ast.parse(text)
        parse_times.append(time.perf_counter() - start)
    print(f"machine: {machine()}")
    print(f"project: {root}\nmodule: {module.relative_to(root)} ({lines} lines, {len(text.encode()) / 1024:.0f} KB)")
    print(f"ast.parse of the module: {statistics.median(parse_times) * 1000:.1f} ms (median of 5)")
    print(f"edits: {edits} at {'full speed' if rate <= 0 else f'{rate:g} keystrokes/s'}")

    wire = await Wire.start(cwd=root)
    uri = file_uri(module)
    try:
        await wire.initialize(root)
        model = TextModel(text)
        offset, indent = typing_spot(text)
        typist = Typist(model, offset, indent, seed)
        opened = time.monotonic()
        wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": text}})
        if not await wire.wait_for(lambda: wire.latest(uri) is not None, FINAL_WAIT, poll=0.02):
            raise SystemExit(f"no publish within {FINAL_WAIT} s of didOpen\n{wire.stderr_tail()}")
        first = wire.latest(uri)
        print(f"first publish after didOpen: {first.at - opened:.2f} s, {len(first.diagnostics)} diagnostics")
        rss = [(0, rss_kb(wire.pid))]
        print(f"server RSS at start (after the first analysis): {mb(rss[0][1])}")

        sent: list[tuple[int, float]] = []  # (version, time written)
        parsing: set[int] = set()  # the versions whose text parses
        started = time.monotonic()
        for edit in range(1, edits + 1):
            if rate > 0:
                delay = started + (edit - 1) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            version = edit + 1
            change = typist.next()
            wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                   "contentChanges": [change]})
            sent.append((version, time.monotonic()))
            await wire.drain()
            parsing.add(version) if parses(model.text) else None
            if rate <= 0:
                await asyncio.sleep(0)
            if edit % SAMPLE_EVERY == 0:
                rss.append((edit, rss_kb(wire.pid)))
                if edit % 1000 == 0:
                    done = [p for p in wire.publishes if p.uri == uri and p.at >= started]
                    print(f"  {edit:>6} edits  {time.monotonic() - started:7.1f} s  RSS {mb(rss[-1][1])}  "
                          f"publishes so far {len(done)}", flush=True)
        stopped = time.monotonic()
        # End on text that parses, so that the last version is published.
        while not typist.at_line_start():
            version = sent[-1][0] + 1
            wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                   "contentChanges": [typist.next()]})
            sent.append((version, time.monotonic()))
        last = sent[-1][0]
        if not await wire.wait_for(lambda: (wire.latest(uri) and wire.latest(uri).version or 0) >= last,
                                   FINAL_WAIT, poll=0.02):
            print(f"!! no publish of the last version {last} within {FINAL_WAIT} s")
        final_rss = rss_kb(wire.pid)

        # Idle keystrokes: the latency of one keystroke after a pause, for comparison.
        idle = []
        for _ in range(3):
            await asyncio.sleep(1.0)
            version = sent[-1][0] + 1
            position = model.position(len(model.text))
            wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                   "contentChanges": [{"range": lsp_range(position, position),
                                                                       "text": "\n" if model.text[-1:] != "\n"
                                                                       else "#"}]})
            model.apply({"range": lsp_range(position, position), "text": "\n" if model.text[-1:] != "\n" else "#"})
            sent_at = time.monotonic()
            sent.append((version, sent_at))
            if await wire.wait_for(lambda: (wire.latest(uri) and wire.latest(uri).version or 0) >= version,
                                   FINAL_WAIT, poll=0.005):
                idle.append(wire.latest(uri).at - sent_at)
    finally:
        code = await wire.close()

    report(wire, uri, sent, parsing, started, stopped, edits, rss, final_rss, idle, code)


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def report(wire: Wire, uri: str, sent, parsing, started, stopped, edits, rss, final_rss, idle, code) -> None:
    publishes = [p for p in wire.publishes if p.uri == uri and p.version is not None and p.at >= started]
    # keystroke -> the first publish of its version or a later one
    latencies, index = [], 0
    uncovered = 0
    for version, at in sent[:edits]:
        while index < len(publishes) and (publishes[index].version < version or publishes[index].at < at):
            index += 1
        if index == len(publishes):
            uncovered += 1
            continue
        latencies.append((version, publishes[index].at - at))
    print("\nkeystroke -> publish latency (to the first publish of its version or a later one)"
          + (f" ({uncovered} keystrokes never covered)" if uncovered else "") + ":")
    for label, values in [("all keystrokes", [t for _, t in latencies]),
                          ("keystrokes whose text parses", [t for v, t in latencies if v in parsing])]:
        print("  {:<30} ({:>5}): p50 {:.3f} s   p95 {:.3f} s   p99 {:.3f} s   max {:.3f} s".format(
            label, len(values), percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99),
            max(values, default=float("nan"))))
    if idle:
        print(f"  one keystroke after a 1 s pause: {statistics.median(idle) * 1000:.0f} ms (median of {len(idle)})")

    typing = [p for p in publishes if p.at <= stopped]
    versions = [p.version for p in typing]
    gaps_keys = [b - a for a, b in zip([1] + versions, versions)]
    times = [started] + [p.at for p in typing] + [stopped]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(f"\npublishes while typing ({stopped - started:.1f} s, {edits} edits): {len(typing)}")
    if typing:
        print(f"  keystrokes between publishes: median {statistics.median(gaps_keys):.0f}, max {max(gaps_keys)}")
    print(f"  longest time without a publish while typing: {max(gaps):.2f} s")

    print("\nserver RSS:")
    for edit, kb in rss:
        if edit == 0 or edit % 1000 == 0 or edit == edits:
            print(f"  {edit:>6} edits: {mb(kb)}")
    print(f"  after the last publish: {mb(final_rss)}")
    points = [(e, kb) for e, kb in rss if kb is not None]
    after = [(e, kb) for e, kb in points if e >= 1000]
    basis = "after the first 1,000 edits"
    if len(after) < 3:
        after = [(e, kb) for e, kb in points if e >= edits // 10]
        basis = f"after the first {edits // 10} edits (the run is short)"
    growth = slope(after)
    print(f"  growth: {'?' if growth is None else f'{growth * 1000:+.0f} kB per 1,000 edits'} "
          f"(least squares over {len(after)} samples every {SAMPLE_EVERY} edits, {basis})")

    all_versions = [p.version for p in wire.publishes if p.uri == uri and p.version is not None]
    backwards = sum(1 for a, b in zip(all_versions, all_versions[1:]) if b < a)
    tracebacks = wire.stderr.decode("utf-8", "replace").count("Traceback")
    print(f"\npublishes out of version order: {backwards}; tracebacks on the server's stderr: {tracebacks}; "
          f"server exit code: {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", default=DEFAULT_REQUIREMENT,
                        help=f"NAME==VERSION downloaded from PyPI (default {DEFAULT_REQUIREMENT})")
    parser.add_argument("--project", type=Path, help="a project directory to use instead of --requirement")
    parser.add_argument("--module", default=None, help=f"the module typed into, relative to the project "
                                                       f"(default {DEFAULT_MODULE} with the default requirement)")
    parser.add_argument("--edits", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=5.0, help="keystrokes per second; 0: as fast as possible")
    parser.add_argument("--seed", type=int, default=1, help="for the typos")
    args = parser.parse_args()
    if args.project is not None:
        root = args.project.resolve()
        if args.module is None:
            parser.error("--project needs --module")
    else:
        root = fetch(args.requirement)
        if args.module is None:
            if args.requirement != DEFAULT_REQUIREMENT:
                parser.error("--requirement needs --module")
            args.module = DEFAULT_MODULE
    module = (root / args.module).resolve()
    if not module.is_file():
        parser.error(f"no module {module}")
    asyncio.run(soak(root, module, args.edits, args.rate, args.seed))


if __name__ == "__main__":
    main()
