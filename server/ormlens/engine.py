"""The one entry point both the CLI and the server call: files in, findings out."""

from __future__ import annotations

import ast
import functools
import gc
import io
import logging
import os
import re
import sys
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ormlens.analysis.dependencies import facts_node, templates_node
from ormlens.config import Settings
from ormlens.discovery import excluded
from ormlens.findings import Finding
from ormlens.positions import shared_lines
from ormlens.rules import REGISTRY
from ormlens.rules.base import RuleContext

if TYPE_CHECKING:
    from ormlens.analysis.project import ProjectIndex

log = logging.getLogger("ormlens")

# `# noqa` silences every code on its line; `# noqa: ORM001, ORM002` only those (as in ruff).
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    # One line each: a file that could not be read or parsed (the run goes on without it).
    errors: list[str] = field(default_factory=list)
    # The modules analysed in this run (the others' findings came from the cache).
    analysed: list[str] = field(default_factory=list)


def check_files(files: list[Path], settings: Settings, root: Path | None = None, *,
                cache_dir: Path | None = None, jobs: int | None = 1,
                project_files: list[Path] = (), sources: dict[str, str] | None = None,
                honour_noqa: bool = True) -> Report:
    """Analyse `files` (already discovered) as one project rooted at `root`, with the declarations
    of `project_files` (the project's other modules) known too, in `jobs` processes
    (None: one per core, fewer for a small run),
    reusing what `cache_dir` holds for modules whose text and reads are unchanged (None: no cache).
    Applies select/ignore, `per-file-ignores` and `# noqa` (unless not `honour_noqa`: what
    `--report-unused-noqa` needs). `sources`: the text of some files (by resolved path) instead of
    the disk (`--stdin-filename`). Never imports or runs the files."""
    from ormlens.cache import NEEDS_MODELS, ResultCache

    if sources or not honour_noqa:
        cache_dir = None  # the cache holds what the files on disk give with `# noqa` honoured
    report = Report()
    paths = resolved(files)
    checked = set(paths)
    others = [path for path in resolved(project_files) if path not in checked]
    cache = ResultCache(cache_dir, root, settings, [*paths, *others]) if cache_dir is not None else None
    results: dict[str, tuple[list[Finding], str | None]] = {}
    uncertain: list[str] = []  # valid if the models are what they were
    unchanged = cache is not None and cache.modules_unchanged()  # every module read last time
    for path in paths if cache is not None else []:
        found = cache.lookup(path, models_unchanged=unchanged)
        if found == NEEDS_MODELS:
            uncertain.append(path)
        elif found is not None:
            results[path] = found
    pending = [path for path in dict.fromkeys(paths) if path not in results]
    if pending:
        with paused_collection():
            pending = _analyse_pending(results, pending, uncertain, paths, others, settings, root, cache, jobs,
                                       sources or {}, analyze if honour_noqa else analyze_unsuppressed)
    report.analysed = pending
    seen: set[tuple] = set()
    for path in paths:
        findings, error = results[path]
        for finding in findings:
            if finding.path != path:  # in a template: two views may render it
                key = finding.identity()
                if key in seen:
                    continue
                seen.add(key)
            report.findings.append(finding)
        if error:
            report.errors.append(error)
    report.findings.sort(key=Finding.sort_key)
    return report


def _analyse_pending(results: dict, pending: list[str], uncertain: list[str], paths: list[str], others: list[str],
                     settings: Settings, root: Path | None, cache, jobs: int | None,
                     sources: dict[str, str], analyse_one) -> list[str]:
    """Analyse the modules the cache did not answer (into `results`); the ones analysed."""
    # (Imported here: a run that the cache answers whole does not load the analysis.)
    from ormlens.analysis import project as projects
    from ormlens.workers import analyse_all

    project = projects.ProjectIndex(root, settings,
                                    whole_tree_lines=projects.cli_body_budget(_lines_of([*paths, *others])))
    for path, text in sources.items():
        project.set_source(path, text)
    # Every module's declarations first (the project's others, the checked ones, then what
    # they import), so that what is found by class name (relationship targets, backrefs)
    # depends neither on the order nor on which modules the cache answered. The checked
    # ones last: their function bodies are the ones kept whole (residency.py).
    project.load(others)
    project.load(paths)
    project.load_closure(paths)
    if not gc.isenabled():
        gc.freeze()  # what was loaded stays for the run: the young collections never scan it (unfrozen after)
    models = project.models_fingerprint()
    for path in uncertain:
        found = cache.lookup(path, models)
        if found is not None:
            results[path] = found
    pending = [path for path in pending if path not in results]
    for analysed in analyse_all(project, pending, settings, jobs, analyse_one, reads=cache is not None):
        results[analysed.path] = (analysed.findings, analysed.error)
        if cache is not None:
            cache.store(analysed.path, analysed.findings, analysed.error, analysed.reads,
                        models if analysed.all_models else None)
    if cache is not None:
        cache.save(list(project.loaded()))
    return pending


def _lines_of(paths: list[str]) -> int:
    """About how many lines `paths` have (from their sizes: 33–42 bytes a line in the corpus projects)."""
    size = 0
    for path in paths:
        try:
            size += os.path.getsize(path)
        except OSError:
            pass
    return size // 38


def resolved(files: list[Path]) -> list[str]:
    """`str(file.resolve())` of each, resolving each folder once (thousands of files, a few hundred
    folders); a file that is itself a link is resolved whole."""
    folders: dict[str, str] = {}
    out = []
    for file in files:
        folder, name = os.path.split(os.path.abspath(file))
        if folder not in folders:
            folders[folder] = os.path.realpath(folder)
        path = os.path.join(folders[folder], name)
        out.append(os.path.realpath(path) if os.path.islink(path) else path)
    return out


def analyze(project: ProjectIndex, path: str, settings: Settings) -> tuple[list[Finding], str | None]:
    """Findings for one module of `project`, and a one-line error when it could not be analysed
    (or a rule failed on it: the other rules' findings are still returned)."""
    return _analyze(project, path, settings, honour_noqa=True)


def analyze_unsuppressed(project: ProjectIndex, path: str, settings: Settings) -> tuple[list[Finding], str | None]:
    """As `analyze`, with the findings `# noqa` comments suppress kept."""
    return _analyze(project, path, settings, honour_noqa=False)


def ignored_in(settings: Settings, path: str, root: Path | None) -> frozenset[str]:
    """The codes `per-file-ignores` turns off in the file at `path`."""
    if not settings.per_file_ignores:
        return frozenset()
    return _ignored_in(settings.per_file_ignores, path, root)


@functools.lru_cache(maxsize=4096)
def _ignored_in(per_file_ignores: tuple, path: str, root: Path | None) -> frozenset[str]:
    # Once per file and setting: the editor asks on every analysis, and matching resolves paths on disk.
    codes: set[str] = set()
    for folder, pattern, off in per_file_ignores:
        base = Path(folder) if folder else root
        if base is not None and excluded(Path(path), base, (pattern,)):
            codes |= off
    return frozenset(codes)


def _analyze(project: ProjectIndex, path: str, settings: Settings,
             honour_noqa: bool) -> tuple[list[Finding], str | None]:
    try:
        with deep_recursion():
            facts = project.facts(path)
    except RecursionError:
        return [], f"{path}: too deeply nested to analyse"
    except Exception as exc:  # noqa: BLE001 - an analysis bug costs this file's findings, not the run
        log.exception("ormlens: analysing %s failed", path)
        return [], f"{path}: internal error ({type(exc).__name__}: {exc}); nothing reported for it"
    if facts is None:
        return [], project.error(path) or f"{path}: cannot analyse"
    ctx = RuleContext(facts, project, settings)
    failures: list[str] = []
    off_here = ignored_in(settings, path, project.root)
    with project.dependencies.computing(facts_node(path)):  # what the rules ask the index is read by its facts too
        findings = run_rules(ctx, [code for code in REGISTRY if code not in off_here], path, failures)
    if honour_noqa:
        lines = shared_lines(facts.decl.source)
        findings = [f for f in findings if not suppressed(f, lines)]
    if facts.template_renders:
        project.dependencies.forget({templates_node(path)})  # (read anew: not what earlier texts read)
        with project.dependencies.computing(templates_node(path)):
            findings += template_findings(project, facts, settings, honour_noqa, failures)
    return findings, "; ".join(failures) or None


def run_rules(ctx: RuleContext, codes, where: str, failures: list[str]) -> list[Finding]:
    """The findings of the enabled rules of `codes` on `ctx`'s facts; a rule that fails loses its
    findings, not the others' (said in `failures`)."""
    findings: list[Finding] = []
    for code in codes:
        if not ctx.settings.enabled(code):
            continue
        try:
            findings.extend(REGISTRY[code].check(ctx))
        except Exception as exc:  # noqa: BLE001 - one rule's bug loses that rule's findings
            log.exception("ormlens: rule %s failed on %s", code, where)
            failures.append(f"{where}: rule {code} failed ({type(exc).__name__}: {exc}); its findings are missing")
    return findings


# The rules that read a template's facts: what a template does per row is read a relation or run a query.
TEMPLATE_RULES = ("ORM001", "ORM002")


def template_findings(project: ProjectIndex, facts, settings: Settings, honour_noqa: bool = True,
                      failures: list[str] | None = None) -> list[Finding]:
    """The findings in the templates a module's views render (analysis/templates/), each placed in
    its template file, naming the view; a fix only where it edits the view (the loader on its query)."""
    from ormlens.analysis.templates.evaluate import template_facts
    from ormlens.findings import Related

    out: list[Finding] = []
    seen: set[tuple] = set()
    for rendered in template_facts(project, facts):
        ctx = RuleContext(rendered.facts, project, settings)
        texts = dict(rendered.files)
        render = rendered.render
        for finding in run_rules(ctx, TEMPLATE_RULES, f"{rendered.files[0][0]} (rendered by {facts.path})",
                                 [] if failures is None else failures):
            path, span = rendered.place(finding.span)
            if finding.code in ignored_in(settings, path, project.root):
                continue
            related = [Related(*rendered.place(r.span), r.message) if r.path == rendered.facts.path else r
                       for r in finding.related if r.span.line >= 0]
            related.append(Related(facts.path, render.span, f"the view that renders it: {render.label}"))
            finding.path, finding.span, finding.related = path, span, related
            if finding.fix_path is None:
                finding.fix = None  # (a rewrite of the template's loop: not Python)
            key = finding.identity()
            if key in seen or honour_noqa and suppressed(finding, shared_lines(texts.get(path, ""))):
                continue
            seen.add(key)
            out.append(finding)
    return out


@contextmanager
def paused_collection():
    """A one-shot run allocates mostly what it keeps (trees, declarations, facts): the cycle
    collector would traverse that growing heap again and again and find next to no garbage (a
    quarter of a cold run on saleor, with the same peak memory without it). Paused for the run;
    the workers collect what is young from time to time (workers.collect_young)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


@contextmanager
def deep_recursion(limit: int = 20_000):
    """The facts pass recurses with the tree: generated code (a 500-term concatenation, hundreds
    of elifs) is deeper than Python's default 1,000 frames, which CPython itself compiles fine."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def suppressed(finding: Finding, lines: list[str]) -> bool:
    index = finding.span.line - 1
    if not 0 <= index < len(lines) or "noqa" not in lines[index].lower():
        return False
    for match in NOQA.finditer(lines[index]):
        codes = match.group("codes")
        if codes is None or finding.code in {c.upper() for c in re.split(r"[,\s]+", codes) if c}:
            return True
    return False


@dataclass
class FixOutcome:
    path: str
    original: str
    fixed: str
    applied: int = 0
    error: str | None = None
    encoding: str = "utf-8"  # as read (PEP 263 line, BOM): write it back the same way
    # (rule code, title) of each fix applied, in order: what `--fix --show-fixes` lists.
    fixes: list[tuple[str, str]] = field(default_factory=list)

    def write(self) -> None:
        Path(self.path).write_bytes(self.fixed.encode(self.encoding))


def fix_file(project: ProjectIndex, path: str, settings: Settings, unsafe: bool = False,
             rounds: int = 5, source: str | None = None) -> FixOutcome:
    """Apply fixes to one file until none is left (or `rounds`), each round built from that
    round's findings: a fix whose edits touch another one's of the same round (registry.fix_text)
    is built again in the next round, from the code as the first left it, never stacked on a stale
    plan. A round whose result would not parse is dropped. Nothing is written. `source`: the
    file's text when it is not the disk's (standard input)."""
    from ormlens.fixes.registry import fix_text

    try:
        if source is not None:
            original, encoding = source, "utf-8"
        else:
            original = project.read(path)
            encoding = tokenize.detect_encoding(io.BytesIO(Path(path).read_bytes()).readline)[0]
    except Exception as exc:  # noqa: BLE001 - ParseFailure and friends: one line, no fix
        return FixOutcome(path, "", "", error=str(exc))
    text, applied, titles = original, 0, []
    try:
        for _ in range(rounds):
            project.set_source(path, text)
            findings, error = analyze(project, path, settings)
            if project.decl(path) is None:
                break
            try:
                fixed, fixes = fix_text(text, findings, settings, unsafe)
            except ValueError as exc:  # edits that would overlap: stop rather than guess
                log.error("ormlens: fixes for %s were refused: %s", path, exc)
                break
            if not fixes or fixed == text:
                break
            try:
                ast.parse(fixed)
            except SyntaxError as exc:
                log.error("ormlens: fixes for %s gave code that does not parse (%s): not applied", path, exc)
                break
            text, applied = fixed, applied + len(fixes)
            titles += [(fix.code, fix.display_title) for fix in fixes]
    finally:
        project.set_source(path, None)
    return FixOutcome(path, original, text, applied, encoding=encoding, fixes=titles)


def fix_files(files: list[Path], settings: Settings, root: Path | None = None,
              unsafe: bool = False, project_files: list[Path] = (),
              sources: dict[str, str] | None = None) -> list[FixOutcome]:
    """`fix_file` for each file of one project (what `ormlens check --fix/--diff` runs), with the
    declarations of `project_files` known too (as `check_files`); `sources` as check_files'."""
    from ormlens.analysis.project import ProjectIndex

    sources = sources or {}
    project = ProjectIndex(root, settings)
    paths = [str(Path(file).resolve()) for file in files]
    for path, text in sources.items():
        project.set_source(path, text)
    project.load([str(Path(file).resolve()) for file in project_files])
    project.load(paths)
    project.load_closure(paths)
    return [fix_file(project, path, settings, unsafe, source=sources.get(path)) for path in paths]
