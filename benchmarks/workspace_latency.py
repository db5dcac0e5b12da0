"""Editor latency on a real workspace: the server opened on a whole real project, not one file.

Starts the real server (`python -m ormlens server`, stdio, through tests/lsp_wire.py's raw
JSON-RPC client) with the workspace root = the project's root, and prints:

1. the machine, the load average (at the start and the end: other processes may share the
   cores), the project (files and lines, as ormlens discovers them), the module typed into (a
   service/view module of 1,000+ lines that imports one of the project's models modules; `--module`,
   or by default the non-test module of 1,000+ lines with the most query call sites) and
   `ast.parse` of that module in this process (median of 5);
2. time to first diagnostics after `didOpen` of that module: cold (no `<root>/.ormlens_cache`),
   then after `ormlens check <its package>` has filled that cache (a fresh server each time);
3. keystroke -> publishDiagnostics for one-character edits inside a function body of the module:
   (a) in a comment (or else a string), (b) in a string literal (a change of the code, as most
   typing is); a character inserted, then deleted, alternating; each edit waits for its
   version's publish; 3 warm-up edits, then `--edits` (default 40) each: p50/p95/max and
   p95 / ast.parse (target <= 3x);
4. after opening the models module the typed module imports (the one it imports most names from)
   and up to 10 other modules importing it (the largest non-test ones), and waiting for all their
   first publishes and for them to settle (a document first published from the cache is
   published again once analysed): publishes during 2 s of idle (should be 0), then one edit of the models module
   (a field's `null=True`/`nullable=True` made False, or a `Mapped[Optional[X]]` made `Mapped[X]`;
   else a comment line appended) and the time until each open dependent has published again
   (count, median, max);
5. the server's RSS (VmRSS) after all of it.
Waits for a publish end after 120 s: reported as a timeout, the run goes on.

The default project is mlflow 3.18.0 (SQLAlchemy, ~400k lines) from PyPI (pypi_sources.fetch, cached
in ~/.cache/ormlens-bench). The project's `.ormlens_cache/` is deleted for the cold case and left
filled at the end. From the repository root:

    .venv/bin/python benchmarks/workspace_latency.py
    .venv/bin/python benchmarks/workspace_latency.py --project /tmp/corpus/saleor \
        --module saleor/checkout/complete_checkout.py
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import tokenize
from io import StringIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from corpus import mark_project_root  # noqa: E402
from lsp_wire import TextModel, Wire, file_uri, lsp_range, rss_kb  # noqa: E402
from pypi_sources import fetch  # noqa: E402
from soak import machine, mb, percentile  # noqa: E402

from ormlens.cache import CACHE_DIR_NAME  # noqa: E402
from ormlens.discovery import discover  # noqa: E402

DEFAULT_REQUIREMENT = "mlflow==3.18.0"
NEWLINE = b"\n"
WAIT = 120.0          # seconds to wait for any one publish
WARMUP = 3            # edits not counted
DEPENDENTS = 10       # other modules importing the models module, opened next to it
SETTLE = 0.5  # seconds without a publish: the opened documents' analyses have all landed
IDLE = 2.0            # seconds of idle after every open file has published
QUERY_SITE = re.compile(r"\.objects\b|\.query\(|\bselect\(|\.filter(?:_by)?\(|\.scalars?\(|\.execute\(")
NULLABLE = re.compile(r"\b(?:null|nullable)\s*=\s*True\b|Mapped\[Optional\[([^\[\]]+)\]\]")


# --- the project's modules and their imports ------------------------------------------------------

def is_test_or_migration(relative: Path) -> bool:
    name, folders = relative.name, relative.parts[:-1]
    return bool({"tests", "test", "testing", "migrations", "db_migrations"} & set(folders)) or \
        name.startswith("test_") or name.endswith(("_test.py", "_tests.py")) or name in ("tests.py", "conftest.py")


def is_models(path: Path) -> bool:
    return path.stem.endswith("models") or (path.stem == "__init__" and path.parent.name.endswith("models"))


def dotted(path: Path) -> str:
    """The module's name: its parts from the first ancestor without `__init__.py`."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def imports(path: Path, tree: ast.Module, names: dict[str, Path]) -> dict[Path, int]:
    """The project modules `tree` imports, each with how many names it imports from it."""
    package = dotted(path).split(".")[: None if path.stem == "__init__" else -1]
    found: dict[Path, int] = {}
    for node in ast.walk(tree):
        targets: list[tuple[str, int]] = []
        if isinstance(node, ast.Import):
            targets = [(alias.name, 1) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            targets = [(base, len(node.names))] + [(f"{base}.{alias.name}", 1) for alias in node.names]
        for name, count in targets:
            if name in names:
                found[names[name]] = found.get(names[name], 0) + count
    return found


def parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return None


def choose_module(root: Path, files: list[Path], names: dict[str, Path]) -> Path:
    """The non-test, non-models module of 1,000+ lines importing a models module with the most
    query call sites (ties: the path)."""
    found = []
    for path in files:
        text = path.read_text("utf-8", "replace")
        if is_test_or_migration(path.relative_to(root)) or is_models(path) or text.count("\n") < 1000:
            continue
        tree = parse(path)
        if tree is not None and any(is_models(p) for p in imports(path, tree, names)):
            found.append((-len(QUERY_SITE.findall(text)), str(path), path))
    if not found:
        raise SystemExit("no module of 1,000+ lines importing a models module: give --module")
    return min(found)[2]


def choose_models(module: Path, names: dict[str, Path]) -> Path:
    imported = {p: n for p, n in imports(module, parse(module), names).items() if is_models(p)}
    if not imported:
        raise SystemExit(f"{module} imports no models module of the project")
    # Prefer one with a nullable field to change; then the most names imported; then the path.
    return min(imported, key=lambda p: (NULLABLE.search(p.read_text("utf-8", "replace")) is None,
                                        -imported[p], str(p)))


def choose_dependents(root: Path, files: list[Path], names: dict[str, Path], models: Path,
                      module: Path) -> list[Path]:
    stem = models.parent.name if models.stem == "__init__" else models.stem
    found = []
    for path in files:
        if path in (models, module) or is_test_or_migration(path.relative_to(root)):
            continue
        text = path.read_text("utf-8", "replace")
        if stem not in text:
            continue
        tree = parse(path)
        if tree is not None and models in imports(path, tree, names):
            found.append((-text.count("\n"), str(path), path))
    return [path for *_, path in sorted(found)[:DEPENDENTS]]


# --- where to type ----------------------------------------------------------------------------

def edit_spot(text: str, code: bool = False) -> tuple[int, str]:
    """(offset, what): where one character can be inserted and deleted inside a function body
    without changing the code: the end of a comment, else just inside a string's opening quote;
    the one nearest the middle of the module. `code`: just inside a string's opening quote (a
    change of the code, as typing is)."""
    tree = ast.parse(text)
    bodies = [(node.body[0].lineno, node.end_lineno, node.name) for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    starts = TextModel(text).starts
    middle = text.count("\n") // 2

    def inside(line: int) -> str | None:
        names = [name for first, last, name in bodies if first <= line <= last]
        return names[-1] if names else None

    spots = []
    for token in tokenize.generate_tokens(StringIO(text).readline):
        line, column = token.start
        function = inside(line)
        if function is None or line != token.end[0]:
            continue
        if token.type == tokenize.COMMENT and not code and \
                not re.search(r"noqa|type:|pragma", token.string, re.IGNORECASE):
            spots.append((0, abs(line - middle), f"a comment in {function}() (line {line})", token.end))
        elif token.type == tokenize.STRING and not (code and token.string[:1] in "fFrRbBuU"):
            quote = re.match(r"[A-Za-z]*('''|\"\"\"|'|\")", token.string)
            spots.append((1, abs(line - middle), f"a string in {function}() (line {line})",
                          (line, column + quote.end())))
    if not spots:
        raise SystemExit("no comment or string inside a function body")
    *_, what, (line, column) = min(spots, key=lambda s: s[:2])
    # Token columns count characters: an offset in the text.
    return starts[line - 1] + column, what


# --- the server -----------------------------------------------------------------------------------

def open_document(wire: Wire, path: Path, text: str) -> str:
    uri = file_uri(path)
    wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                          "text": text}})
    return uri


async def published(wire: Wire, uri: str, after: float, version: int | None = None) -> float | None:
    """Seconds from `after` to the first publish of `uri` (of `version` or later) after it; None
    after WAIT."""
    def find():
        return next((p for p in wire.publishes if p.uri == uri and p.at >= after
                     and (version is None or (p.version or 0) >= version)), None)
    await wire.wait_for(lambda: find() is not None, WAIT, poll=0.002)
    found = find()
    return None if found is None else found.at - after


def seconds(value: float | None) -> str:
    return f"timeout (no publish within {WAIT:g} s)" if value is None else f"{value:.2f} s"


async def first_diagnostics(root: Path, module: Path, text: str, label: str) -> Wire:
    wire = await Wire.start(cwd=root)
    await wire.initialize(root)
    opened = time.monotonic()
    uri = open_document(wire, module, text)
    took = await published(wire, uri, opened)
    count = "" if took is None else f", {len(wire.latest(uri).diagnostics)} diagnostics"
    print(f"  {label}: {seconds(took)}{count}; server RSS {mb(rss_kb(wire.pid))}", flush=True)
    return wire


async def keystrokes(wire: Wire, module: Path, text: str, edits: int, parse_median: float, code: bool,
                     version: int) -> int:
    """Type and untype one character (in a comment, or in a string of the code); the next version."""
    offset, what = edit_spot(text, code)
    print(f"\n3{'b' if code else 'a'}. keystroke -> publishDiagnostics: one character in {what}, inserted then "
          f"deleted, {WARMUP} warm-up + {edits} edits", flush=True)
    uri, model = file_uri(module), TextModel(text)
    latencies, timeouts = [], 0
    total = WARMUP + edits + (WARMUP + edits) % 2  # an even count: the text ends as it began
    for edit in range(total):
        position = model.position(offset)
        end = position if edit % 2 == 0 else model.position(offset + 1)
        change = {"range": lsp_range(position, end), "text": "x" if edit % 2 == 0 else ""}
        model.apply(change)
        sent = time.monotonic()
        wire.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version + edit},
                                               "contentChanges": [change]})
        await wire.drain()
        took = await published(wire, uri, sent, version + edit)
        timeouts += took is None
        if WARMUP <= edit < WARMUP + edits and took is not None:
            latencies.append(took)
    if latencies:
        p95 = percentile(latencies, 0.95)
        print(f"  p50 {percentile(latencies, 0.5) * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   "
              f"max {max(latencies) * 1000:.0f} ms   ({len(latencies)} edits)")
        print(f"  p95 / ast.parse median: {p95 / parse_median:.1f}x (target <= 3x)")
    if timeouts:
        print(f"  timeouts: {timeouts} edits without a publish within {WAIT:g} s")
    return version + total


def model_edit(text: str) -> tuple[int, int, str, str]:
    """(start, end, replacement, description) of one edit of the models module."""
    match = NULLABLE.search(text)
    line = text.count("\n", 0, match.start()) + 1 if match else 0
    if match and match.group(1):
        return match.start(), match.end(), f"Mapped[{match.group(1)}]", f"line {line}: {match.group(0)} -> " \
                                                                          f"Mapped[{match.group(1)}]"
    if match:
        start = match.end() - len("True")
        return start, match.end(), "False", f"line {line}: {match.group(0)} -> False"
    return len(text), len(text), "\n# edited by workspace_latency\n", "a comment line appended"


async def dependents_republish(wire: Wire, root: Path, module: Path, models: Path, others: list[Path]) -> None:
    print(f"\n4. a models edit with its dependents open: {models.relative_to(root)} + {len(others)} other "
          f"importers (and the typed module)", flush=True)
    for path in others:
        print(f"    {path.relative_to(root)} ({path.read_bytes().count(NEWLINE)} lines)")
    texts = {path: path.read_bytes().decode("utf-8", "replace") for path in [models, *others]}
    opened = time.monotonic()
    uris = {path: open_document(wire, path, text) for path, text in texts.items()}
    waits = [await published(wire, uri, opened) for uri in uris.values()]
    done = [w for w in waits if w is not None]
    print(f"  first publishes of the {len(uris)} opened: all within {max(done, default=0):.2f} s"
          + (f", {len(waits) - len(done)} timeouts" if len(done) < len(waits) else ""), flush=True)
    # A document whose first publish came from the cache is published again once analysed: let
    # those land (no publish for SETTLE s, at most WAIT s), then count what comes while idle.
    settled = time.monotonic()
    while time.monotonic() - settled < WAIT and (not wire.publishes or time.monotonic() - max(
            settled, wire.publishes[-1].at) < SETTLE):
        await asyncio.sleep(0.05)
    print(f"  settled (no publish for {SETTLE:g} s) {time.monotonic() - settled:.2f} s later", flush=True)
    quiet_from = time.monotonic()
    await asyncio.sleep(IDLE)
    late = [p for p in wire.publishes if p.at >= quiet_from]
    firsts = {}  # how many publishes each of those documents had before the idle time
    for p in wire.publishes:
        if p.at < quiet_from:
            firsts[p.uri] = firsts.get(p.uri, 0) + 1
    print(f"  publishes during {IDLE:g} s of idle afterwards: {len(late)} (should be 0)"
          + "".join(f"\n    {Path(p.uri).name} version {p.version}, {p.at - quiet_from:.2f} s in, after "
                    f"{firsts.get(p.uri, 0)} publish(es) before" for p in late))

    start, end, replacement, description = model_edit(texts[models])
    model = TextModel(texts[models])
    change = {"range": lsp_range(model.position(start), model.position(end)), "text": replacement}
    print(f"  edit of {models.name}: {description}")
    sent = time.monotonic()
    wire.notify("textDocument/didChange", {"textDocument": {"uri": uris[models], "version": 2},
                                           "contentChanges": [change]})
    await wire.drain()
    own = await published(wire, uris[models], sent, 2)
    dependents = [file_uri(module), *(uris[path] for path in others)]
    times = [await published(wire, uri, sent) for uri in dependents]
    got = sorted(t for t in times if t is not None)
    print(f"  the models module's own publish: {seconds(own)}")
    if got:
        print(f"  open dependents republished: {len(got)} of {len(dependents)}; median {statistics.median(got):.2f} s, "
              f"max {got[-1]:.2f} s after the edit")
    if len(got) < len(dependents):
        print(f"  {len(dependents) - len(got)} dependents: no publish within {WAIT:g} s")


# --- the run --------------------------------------------------------------------------------------

def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def run(root: Path, module: Path, models: Path, others: list[Path], files: list[Path], edits: int) -> None:
    text = module.read_bytes().decode("utf-8")
    times = []
    for _ in range(5):
        begin = time.perf_counter()
        ast.parse(text)
        times.append(time.perf_counter() - begin)
    parse_median = statistics.median(times)
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    print(f"1. project: {root} ({len(files)} files, {lines:,} lines)")
    print(f"   module: {module.relative_to(root)} ({text.count(chr(10)):,} lines, "
          f"{len(QUERY_SITE.findall(text))} query call sites), imports {models.relative_to(root)}")
    print(f"   ast.parse of the module: {parse_median * 1000:.1f} ms (median of 5)", flush=True)

    print("\n2. time to first diagnostics after didOpen of the module (a fresh server each time)")
    cache = root / CACHE_DIR_NAME
    shutil.rmtree(cache, ignore_errors=True)
    wire = await first_diagnostics(root, module, text, f"cold (no {CACHE_DIR_NAME})")
    await wire.close()
    package = module.relative_to(root).parts[0]
    begin = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ormlens", "check", "--exit-zero", "-q", package], cwd=root,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) if cache.is_dir() else 0
    print(f"  `ormlens check {package}` (fills the cache): {time.monotonic() - begin:.1f} s, exit {done.returncode}, "
          f"cache {size / 2 ** 20:.1f} MB" + (f"\n{done.stderr[-2000:]}" if done.returncode else ""), flush=True)
    wire = await first_diagnostics(root, module, text, f"with the cache ({CACHE_DIR_NAME} filled by the CLI)")
    try:
        version = await keystrokes(wire, module, text, edits, parse_median, False, 2)
        await keystrokes(wire, module, text, edits, parse_median, True, version)
        await dependents_republish(wire, root, module, models, others)
        print(f"\n5. server RSS after all of it: {mb(rss_kb(wire.pid))}")
    finally:
        code = await wire.close()
    tracebacks = wire.stderr.decode("utf-8", "replace").count("Traceback")
    print(f"   tracebacks on the server's stderr: {tracebacks}; server exit code: {code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", default=DEFAULT_REQUIREMENT,
                        help=f"NAME==VERSION downloaded from PyPI (default {DEFAULT_REQUIREMENT})")
    parser.add_argument("--project", type=Path, help="a project directory to use instead of --requirement")
    parser.add_argument("--module", help="the module typed into, relative to the project (default: chosen)")
    parser.add_argument("--edits", type=int, default=40, help="measured one-character edits (default 40)")
    args = parser.parse_args()
    root = args.project.resolve() if args.project else fetch(args.requirement)
    mark_project_root(root)
    print(f"machine: {machine()}")
    print(f"load average at the start: {load()}", flush=True)
    files = discover([root], root)
    names = {dotted(path): path for path in files}
    module = (root / args.module).resolve() if args.module else choose_module(root, files, names)
    if not module.is_file():
        parser.error(f"no module {module}")
    models = choose_models(module, names)
    others = choose_dependents(root, files, names, models, module)
    asyncio.run(run(root, module, models, others, files, args.edits))
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
