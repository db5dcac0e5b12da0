"""ProjectIndex: every module's declarations and facts, parsed once per content, with import
resolution across files (imports.py: import roots, packages, relative imports), the models
(model_index.py) and function summaries (summaries.py: "runs a query, via these calls"). It reads files; it never
imports them."""

from __future__ import annotations

import ast
import builtins
import gc
from pathlib import Path

from ormlens.analysis import database as databases
from ormlens.analysis import frameworks
from ormlens.analysis import orm as hooks
from ormlens.analysis import callers
from ormlens.analysis.callers import mentioning
from ormlens.analysis.database import DATABASE
from ormlens.analysis.declarations import ImportRef, ModuleDecl, collect
from ormlens.analysis.dependencies import (
    ALL_MODELS, Dependencies, facts_node, imports_node, is_module, templates_node)
from ormlens.analysis.facts import FunctionRef, ModuleFacts
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value
from ormlens.analysis.imports import ImportResolver
from ormlens.analysis.interpreter import build_facts, function_arguments
from ormlens.analysis.jedi_names import StarExports
from ormlens.analysis.model_index import ModelIndex
from ormlens.analysis.models import (
    ModelInfo,
    RelationshipInfo,
    fingerprint_models,
)
from ormlens.analysis.residency import (
    WholeTrees,
    declared_functions,
    edit_bodies,
    is_released,
    release_bodies,
    restore_bodies,
    restore_body,
    whole_tree,
)
from ormlens.analysis.sources import ParseFailure, outline, read_source, same_tree
from ormlens.analysis.summaries import FunctionSummaries, QuerySummary, QueryTrace  # noqa: F401 - QueryTrace: what rules get
from ormlens.config import Settings
from ormlens.positions import shared_lines

BUILTIN_NAMES = frozenset(dir(builtins))


def _star_exported(decl: ModuleDecl) -> frozenset[str] | None:
    """The names `from <decl> import *` binds, when a literal `__all__` lists them; else None."""
    node = decl.assigns.get("__all__")
    if isinstance(node, (ast.List, ast.Tuple)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return frozenset(e.value for e in node.elts)
    return None


def cli_body_budget(project_lines: int) -> int:
    """The function-body lines a one-shot run keeps parsed for a project of `project_lines` lines:
    as many as fit beside the rest of its memory under about 500 MB (the declarations and facts
    of a project cost about half a kilobyte a line, a kept body about a kilobyte a line), never
    fewer than the editor's budget. Every body is then parsed once, not once more when its
    facts are made (a quarter of a cold run on a 200k-line project); findings do not depend on it."""
    return max(ProjectIndex.WHOLE_TREE_LINES, 400_000 - project_lines // 2)


class ProjectIndex(FunctionSummaries, ModelIndex):
    # Lines of source whose function bodies are kept parsed (about 1 KB of memory a line); past
    # it, the least recently used modules keep only their declarations (residency.py).
    WHOLE_TREE_LINES = 50_000

    def __init__(self, root: Path | None = None, settings: Settings = Settings(), whole_tree_lines: int | None = None):
        """`whole_tree_lines`: the budget of function-body lines kept parsed (WHOLE_TREE_LINES by
        default: the editor's; the CLI sizes it to the project, see cli_body_budget)."""
        self.root = root.resolve() if root else None
        self.whole_tree_lines = whole_tree_lines if whole_tree_lines is not None else self.WHOLE_TREE_LINES
        self.settings = settings
        self._overrides: dict[str, str] = {}   # unsaved editor buffers win over the disk
        self._decls: dict[str, ModuleDecl | None] = {}  # parsed once per text; None: does not parse
        self._facts: dict[str, ModuleFacts] = {}
        self._errors: dict[str, str] = {}
        self._models: dict[tuple[str, str], ModelInfo | None] = {}
        self._globals: dict[tuple[str, str], Value] = {}
        self._backrefs: dict[str, list[tuple[RelationshipInfo, ModelInfo]]] | None = None
        self._all_models: list[ModelInfo] | None = None
        self._loads = 0  # modules parsed so far: a new one may declare models
        self._parsed: set[str] = set()
        self._models_named: dict[str, list[ModelInfo]] | None = None
        # What each derived entry read (dependencies.py): an edit drops only what it can change.
        self.dependencies = Dependencies()
        self._traces: dict[FunctionRef, QuerySummary | None] = {}
        self._chunkers: dict[FunctionRef, bool] = {}
        self._returned_queries: dict[FunctionRef, Value | None] = {}
        self._historical: dict[tuple[str, str], ModelInfo] = {}
        self.plugin_caches: dict[str, dict] = {}  # what ORM plugins derive from declarations (orm/)
        self._returns: dict[FunctionRef, Value] = {}
        # (callers.py) answers, with the texts of the modules that named the function then
        self._parameter_bounds: dict[tuple[FunctionRef, str, bool], tuple[str, dict[str, str]]] = {}
        # Every module read for the first time, forgotten or changed, in order; and per name, the
        # modules whose text names it (callers.mentioning) with how much of that list it has seen:
        # an edit rechecks the edited module only, not every module.
        self.text_changes: list[str] = []
        self.mentioned: dict[str, tuple[dict[str, str], int]] = {}
        self._argument_sizes: dict[FunctionRef, tuple[dict, str]] = {}
        self._walking: list[str] = []  # modules a function of which is walked for what it passes (callers.py)
        self._building: set[str] = set()  # modules whose facts pass is running
        # Record each module's facts function by function, and keep an edited module's previous
        # facts for its next pass to take unchanged functions back (units.py): the editor's index.
        self.keep_units = False
        self.passes: dict[str, ModuleFacts] = {}
        self._previous: dict[str, ModuleFacts] = {}
        self.resolver = ImportResolver(self.root, settings.src)  # which file an import names
        self._imported: dict[str, frozenset[str]] = {}
        self._whole = WholeTrees(self.whole_tree_lines)
        # Names that library star imports bind, asked of jedi; kept across edits (see jedi_names).
        self.star_exports = StarExports(self.root)
        self._database: tuple[databases.Database | None] | None = None  # (database.py), once computed
        self._database_scans: dict[str, tuple[str, list[databases.Found]]] = {}  # per module: (its text, found)

    # --- sources and caches -------------------------------------------------------------------

    def set_source(self, path: str | Path, text: str | None) -> None:
        """Use `text` for `path` instead of the disk (None: back to the disk)."""
        key = str(Path(path).resolve())
        if self._overrides.get(key) == text:
            return  # same text: keep its parse and facts
        before = self._decls.get(key)
        if text is None:
            self._overrides.pop(key, None)
        else:
            self._overrides[key] = text
        if before is not None and before.source == (text if text is not None else self.disk_text(key)):
            return  # the text it was parsed from (a buffer opened unchanged, a fix that changed nothing)
        if not key.endswith((".py", ".pyi")):
            # Not a module (a template): what read it is made again; no module's text, names or
            # declarations changed (the module machinery would parse it, and rescan names).
            self._drop(self.dependencies.affected(key))
            return
        # An editor buffer changes one module's text, not which files exist: the directory
        # listings and import paths stay (no I/O on the keystroke path).
        self._changed(key)

    def set_settings(self, settings: Settings) -> None:
        """Analyse with `settings` from now on; what was derived with other chunk functions is
        dropped (the rest of the settings choose rules and how findings are shown)."""
        before = (self.settings.chunk_size, self.settings.chunk_functions)
        self.settings = settings
        if (settings.chunk_size, settings.chunk_functions) != before:
            self._invalidate()

    def refresh(self, path: str | Path | None = None) -> None:
        """The file at `path` changed on disk (None: files were created or deleted anywhere)."""
        if path is None:
            self.resolver.clear()
            self._decls.clear()
            self._parsed.clear()
            self._whole = WholeTrees(self.whole_tree_lines)
            self._invalidate()
            return
        key = str(Path(path).resolve())
        self.resolver.changed(key)  # an edit of an existing file: what imports resolve to stays
        self._changed(key)

    def _forget(self, path: str) -> None:
        self._text_changed(path)
        self._decls.pop(path, None)
        self._whole.forget(path)

    def disk_text(self, path: str) -> str | None:
        """The text of `path` on disk (not an editor buffer); None when it cannot be read."""
        try:
            return read_source(path)
        except ParseFailure:
            return None

    def _changed(self, path: str) -> None:
        """The text of `path` changed: drop what was derived from it, and what read that, and so
        on (dependencies.py); the rest stays. The list of all models is kept when the module
        declared no model before and declares none now."""
        self._text_changed(path)
        before = self._decls.get(path)
        if self._database is not None and self._names_other_database(path, before):
            self._drop(self.dependencies.affected(DATABASE))
        declared = self._feeds_all_models(path)
        self._forget(path)
        after = self.decl(path) if before is not None and before.outline else None
        if after is not None and after.outline == before.outline:
            edited = edit_bodies(before, after)
            if edited is not None:
                # Only function bodies changed: the declarations, and all that other modules
                # derived from them, stay; what was derived from the bodies (these facts, the
                # summaries of its functions and what read them) is made again, unless no body's
                # code changed (comments).
                self._decls[path] = before
                if edited:
                    self._keep_previous(path)
                    self._drop(self.dependencies.affected(facts_node(path)))
                # else: the same trees, positions included: the facts are what they were (they
                # hold no text but that of nodes; noqa comments are read from the text by the engine)
                return
        if before is not None and self.dependencies.readers(path) - {ALL_MODELS, facts_node(path)}:
            after = after or self.decl(path)
            for decl in (before, after) if after is not None else ():
                if not whole_tree(decl.tree):  # its released bodies, to compare the trees
                    restore_bodies(decl.tree, decl.source, path)
            if after is not None and same_tree(before.tree, after.tree, before.source, after.source):
                # Comments or spacing inside a line: the tree, positions included, is what it was,
                # and so is everything the modules that read it derived. Only its own facts (which
                # read its text: noqa comments, fix plans) are made again.
                before.source = after.source
                self._decls[path] = before
                self._keep_previous(path)
                return
        self._keep_previous(path)
        affected = self.dependencies.affected(path, skip=[(ALL_MODELS, path)])
        self._drop(affected)
        if declared or self._feeds_all_models(path):
            self._drop(self.dependencies.affected(ALL_MODELS))

    def _keep_previous(self, path: str) -> None:
        """Drop the facts of `path`, keeping them for its next pass when units are recorded."""
        facts = self._facts.pop(path, None)
        if facts is not None and self.keep_units:
            facts.dropped = set()
            self._previous[path] = facts

    def _drop(self, nodes: set[str]) -> None:
        """Forget what was derived for `nodes` (module paths, import closures, ALL_MODELS)."""
        self.dependencies.forget(nodes)
        for previous in self._previous.values():
            previous.dropped |= nodes
        for path in [path for path in self._facts if facts_node(path) in nodes]:
            del self._facts[path]
        for path in [path for path in self._imported if imports_node(path) in nodes]:
            del self._imported[path]
        for cache in (self._models, self._globals, self._historical):
            for key in [key for key in cache if key[0] in nodes]:
                del cache[key]
        for cache in (self._traces, self._chunkers, self._returned_queries, self._returns):
            for ref in [ref for ref in cache if facts_node(ref.path) in nodes]:
                del cache[ref]
        for forget in hooks.FORGET:
            forget(self, nodes)
        if DATABASE in nodes:
            self._database = None
        if ALL_MODELS in nodes:  # (a module that feeds them changed: model_index._feeds_all_models)
            frameworks.forget(self)
        if ALL_MODELS in nodes:
            self._all_models = self._models_named = self._backrefs = None

    def _invalidate(self) -> None:
        # Files were created or deleted: any name may now resolve elsewhere. Drop everything
        # derived (facts, models, resolved names); the other modules' parses are kept.
        self.dependencies.clear()
        self._previous.clear()
        self._parameter_bounds.clear()
        self.mentioned.clear()
        self._argument_sizes.clear()
        self._all_models = self._models_named = None
        self._facts.clear()
        self._imported.clear()
        self._models.clear()
        self._globals.clear()
        self._backrefs = None
        self._traces.clear()
        self._chunkers.clear()
        self._returned_queries.clear()
        self._historical.clear()
        for forget in hooks.FORGET:
            forget(self, None)
        frameworks.forget(self)
        self._returns.clear()
        self._database = None
        self._database_scans.clear()

    def _names_other_database(self, path: str, before: ModuleDecl | None) -> bool:
        """Does the new text of `path` name other databases than its text before (database.py)?
        (Each compared where it is said, not on which line: typing elsewhere in it changes nothing.)"""
        try:
            text = self.read(path)
        except ParseFailure:
            text = ""
        old = self._database_scans.get(path)
        if old is None or before is None or old[0] is not before.source:
            return databases.mentions(text) or (before is not None and databases.mentions(before.source))
        found = databases.found_in_module(path, text, self.root)
        self._database_scans[path] = (text, found)
        return databases.said(found) != databases.said(old[1])

    def buffer(self, path: str) -> str | None:
        """The text given for `path` instead of the disk's (an editor's buffer), if any."""
        return self._overrides.get(path)

    def read(self, path: str) -> str:
        if path in self._overrides:
            return self._overrides[path]
        return read_source(path)

    def decl(self, path: str) -> ModuleDecl | None:
        """Declarations of a module (parsed once per content); None when it does not parse."""
        self.dependencies.read(path)
        if path in self._decls:  # until refresh()/set_source() says the text changed
            return self._decls[path]
        self._decls[path] = None
        self._text_changed(path)
        try:
            text = self.read(path)
        except ParseFailure as exc:
            self._errors[path] = str(exc)
            return None
        collecting = gc.isenabled()
        gc.disable()  # a parse allocates a whole tree: the cycle collector would rescan it repeatedly
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as exc:
            from ormlens.analysis.syntax_versions import newer_syntax  # only when a module fails to parse

            newer = newer_syntax(text, exc)  # written for a newer Python, or a real syntax error?
            self._errors[path] = f"{path}: {newer.message}" if newer else \
                f"{path}:{exc.lineno or 0}:{(exc.offset or 0)}: syntax error: {exc.msg}"
            return None
        except (ValueError, RecursionError, MemoryError) as exc:
            self._errors[path] = f"{path}: cannot parse: {exc}"
            return None
        finally:
            if collecting:
                gc.enable()
        self._errors.pop(path, None)
        decl = collect(path, text, tree)
        if self.keep_units:  # an edit inside function bodies keeps the declarations (_changed)
            decl.outline, decl.bodies = outline(tree, shared_lines(text), declared_functions(tree.body))
        self._decls[path] = decl
        if path not in self._parsed:  # a new module may declare models, and backrefs onto known ones
            self._parsed.add(path)
            self._backrefs = self._all_models = self._models_named = None
            self._loads += 1
        self._whole.use(path, text.count("\n") + 1)
        self._release_over_budget()
        return decl

    def whole(self, decl: ModuleDecl) -> ModuleDecl:
        """`decl` with all its function bodies (re-parsed if any was released)."""
        if not whole_tree(decl.tree):
            restore_bodies(decl.tree, decl.source, decl.path)
        self._whole.use(decl.path, decl.source.count("\n") + 1)
        self._release_over_budget(decl.path)
        return decl

    def body(self, decl: ModuleDecl, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Put back the body of one of `decl`'s functions if it was released: from a parse of that
        function's lines alone (the module's other bodies stay released)."""
        if not is_released(function):
            return
        if not restore_body(function, shared_lines(decl.source), decl.path):
            restore_bodies(decl.tree, decl.source, decl.path)
        self._whole.use(decl.path, function.end_lineno - function.lineno + 1, add=True)
        self._release_over_budget(decl.path)

    def _release_over_budget(self, *pinned: str) -> None:
        # Never the modules whose facts pass is running: it is walking their bodies.
        for path in self._whole.over_budget([*self._building, *self._walking, *pinned]):
            self._whole.forget(path)
            decl = self._decls.get(path)
            if decl is not None:
                release_bodies(decl.tree)

    def release(self, keep: set[str]) -> None:
        """Drop the facts, function summaries and function bodies of the modules outside `keep`.
        All of it is computed again, the same, when asked: no text changed. Declarations, models and
        resolved names stay (objects other modules' facts hold, compared by identity), as does what
        the project's files are (import paths, directory listings).

        Then collect the youngest generation: an analysis leaves a few hundred reference cycles (each
        `ast.dump` call makes one), and a server's high GC threshold (100,000 net allocations, which
        an analysis that frees what it allocates rarely reaches) lets them pile up for hundreds of
        analyses: the RSS creep of a long editing session."""
        for facts in (self._facts, self._previous):
            for path in [path for path in facts if path not in keep]:
                del facts[path]
        for summaries in (self._traces, self._returns, self._returned_queries, self._chunkers):
            for ref in [ref for ref in summaries if ref.path not in keep]:
                del summaries[ref]
        for path in self._whole.paths():
            decl = self._decls.get(path)
            if path not in keep and path not in self._building and decl is not None:
                self._whole.forget(path)
                release_bodies(decl.tree)
        gc.collect(0)

    def closure(self, paths: list[str]) -> set[str]:
        """`paths` and the project modules they import: what a server keeps across a release."""
        return set(paths).union(*(self.imports(path) for path in paths))

    def whole_first(self, paths: list[str]) -> list[str]:
        """`paths` (once each), those whose trees are whole first, the most recently used first."""
        return self._whole.first(paths)

    def stats(self) -> dict[str, int]:
        """Counts of what the index holds (for tests, benchmarks and a server's log)."""
        parsed = sum(1 for decl in self._decls.values() if decl is not None)
        return {
            "modules": parsed,                    # parsed modules (declarations held)
            "unparsable": len(self._decls) - parsed,
            "whole_trees": len(self._whole),   # of which some function bodies are held (whole_lines: how many lines)
            "whole_lines": self._whole.lines,
            "facts": len(self._facts),
            "summaries": len(self._traces) + len(self._returns) + len(self._returned_queries),
            "models": sum(1 for model in self._models.values() if model is not None),
            "resolved_names": len(self._globals),
            "overrides": len(self._overrides),  # editor buffers
        }

    def imports(self, path: str) -> set[str]:
        """The project modules `path` imports, directly or through other project modules."""
        node = imports_node(path)
        self.dependencies.read(node)
        if path not in self._imported:  # asked per open file on every keystroke (dependents, closure)
            with self.dependencies.computing(node):
                self._imported[path] = frozenset(self._walk_imports(path))
        return set(self._imported[path])

    def _walk_imports(self, path: str, limit: int | None = 500) -> set[str]:
        """The project modules `path` imports, directly or not (at most `limit` of them)."""
        return self._reach([path], limit) - {path}

    def _reach(self, paths: list[str], limit: int | None = None) -> set[str]:
        """`paths` and the project modules they import, directly or not (reading each; at most
        `limit` beyond them)."""
        seen: set[str] = set(paths)
        pending = list(paths)
        while pending and (limit is None or len(seen) - len(paths) < limit):
            decl = self.decl(pending.pop())
            for module in self._imported_modules(decl) if decl is not None else ():
                if module not in seen:
                    seen.add(module)
                    pending.append(module)
        return seen

    def _imported_modules(self, decl: ModuleDecl) -> list[str]:
        found = []
        for ref in [*decl.imports.values(), *decl.star_imports]:
            found.append(self.module_file(decl.path, ref))
            if ref.name is not None:  # `from pkg import module`
                found.append(self.module_file(decl.path, ImportRef(f"{ref.module}.{ref.name}".strip("."),
                                                                   None, ref.level)))
        return [module for module in found if module is not None]

    def dependents(self, path: str, candidates: list[str]) -> list[str]:
        """Those of `candidates` (analysed before) whose facts a change of `path` dropped: what
        they read changed (dependencies.py). Call it after analysing `path`."""
        return [candidate for candidate in candidates if candidate != path and candidate not in self._facts]

    def reads(self, path: str) -> set[str]:
        """The modules whose text the analysis of `path` used, directly or through others
        (after `path` was analysed): what a cached result for `path` depends on."""
        return {node for start in (facts_node(path), templates_node(path))
                for node in self.dependencies.reads(start, stop=ALL_MODELS) if is_module(node)} | {path}

    def reads_of(self, paths: list[str]) -> dict[str, tuple[tuple[str, ...], bool]]:
        """`reads` of each of `paths` (sorted), computed at once, and whether the analysis searched
        every module (a model by class name, backrefs): then it depends on every model too
        (models_fingerprint)."""
        return self.dependencies.modules_read(paths)

    def load_closure(self, paths: list[str]) -> None:
        """`load` these modules and every project module they import, directly or not: then
        nothing is read for the first time while analysing (which would add models to the list
        of all models halfway through, and make findings depend on the order)."""
        self._reach(paths)

    def parameter_bound(self, ref: FunctionRef, parameter: str, depth: int = 0, seen: frozenset = frozenset(),
                        written_out: bool = False) -> str:
        """How long the lists every known caller passes `parameter` of `ref` are: "bounded",
        "unbounded" or "unknown" (callers.parameter_bound; `written_out`: bounded only by literals
        and enumerations); once per parameter while the texts that name the function are the same."""
        texts = mentioning(self, ref)
        if not written_out:
            # What a call passes is read from a walk of its function (facts): an edit of any
            # module's bodies counts (recorded once per walk). What callers write out is read from
            # their text, which `mentioning` records: a keystroke elsewhere re-walks nothing here.
            self.dependencies.read_many(("facts of", len(self._decls)),
                                        lambda: [facts_node(path) for path in self.loaded()])
        if texts is None:
            return callers.UNKNOWN
        if depth > 0:  # (asked for a caller's parameter: its answer may be cut by the depth; not kept)
            return callers.parameter_bound(self, ref, parameter, texts, depth, seen, written_out)
        key = (ref, parameter, written_out)
        known = self._parameter_bounds.get(key)
        if known is None or known[1].keys() != texts.keys() or any(known[1][path] is not text
                                                                   for path, text in texts.items()):
            self._parameter_bounds[key] = (callers.UNKNOWN, texts)  # in progress: a cycle
            known = self._parameter_bounds[key] = (
                callers.parameter_bound(self, ref, parameter, texts, depth, seen, written_out), texts)
        return known[0]

    def argument_sizes(self, ref: FunctionRef) -> dict:
        """The sizes of the arguments of every call in function `ref` (callers.argument_sizes), once
        per text of its module."""
        decl = self.decl(ref.path)
        if decl is None:
            return {}
        known = self._argument_sizes.get(ref)
        if known is None or known[1] is not decl.source:
            self._argument_sizes[ref] = ({}, decl.source)  # in progress: a cycle sees nothing
            self._walking.append(ref.path)  # its bodies stay while it is walked
            try:
                known = self._argument_sizes[ref] = (function_arguments(decl, ref.qualname, self), decl.source)
            finally:
                self._walking.pop()
        return known[0]

    def loaded(self) -> list[str]:
        """Every module read so far (parsed or not)."""
        return list(self._decls)

    MAX_TEXT_CHANGES = 10_000

    def _text_changed(self, path: str) -> None:
        """A module read for the first time, forgotten or changed (what `mentioning` rechecks); a
        long editing session starts the list afresh (each name is then looked up whole once)."""
        if len(self.text_changes) >= self.MAX_TEXT_CHANGES:
            self.text_changes.clear()
            self.mentioned.clear()
        self.text_changes.append(path)

    def is_loaded(self, path: str) -> bool:
        return path in self._decls

    def loaded_count(self) -> int:
        return len(self._decls)

    def models_fingerprint(self) -> str:
        """A digest of every model of the modules read so far (all that ALL_MODELS readers see), and
        of the database they run on (which any module may name: its readers read ALL_MODELS too)."""
        return fingerprint_models(self.all_models()) + repr(self.database())

    def database(self) -> databases.Database | None:
        """The database the project runs on, read from the modules read so far and the files at
        its root (database.py); None when none names one. Computed once, until a module that names
        one (or did) changes. What asks depends on every module (ALL_MODELS: the cache checks it
        against models_fingerprint) and on the root files (read here: their digests are checked)."""
        self.dependencies.read(DATABASE)
        self.dependencies.read(ALL_MODELS)
        if self._database is None:
            with self.dependencies.computing(DATABASE):
                found, files = databases.found_in_root_files(self.root)
                for file in files:
                    self.dependencies.read(str(file))  # present or not: a file created later counts
                for path, decl in self._decls.items():
                    scan = self._database_scans.get(path)
                    if decl is not None and (scan is None or scan[0] is not decl.source):
                        scan = self._database_scans[path] = (decl.source, databases.found_in_module(
                            path, decl.source, self.root))
                    found += scan[1] if decl is not None else []
                self._database = (databases.choose(found),)
        return self._database[0]

    def load(self, paths: list[str]) -> None:
        """Read the declarations of all these modules before analysing any, so that what is
        found by class name (relationship targets, backrefs) does not depend on the order."""
        for path in paths:
            self.decl(path)

    def load_more(self, paths: list[str]) -> None:
        """`load` modules after others were analysed: what searched every model (a relationship
        target by class name, backrefs) is computed again with theirs."""
        new = [path for path in paths if path not in self._decls]
        self.load(new)
        if any(self._feeds_all_models(path) for path in new):
            self._drop(self.dependencies.affected(ALL_MODELS))
        if self._database is not None and any(databases.mentions(decl.source) for decl in map(self._decls.get, new)
                                              if decl is not None):
            self._drop(self.dependencies.affected(DATABASE))  # one may name the database

    def analysed(self, path: str) -> bool:
        """Are the facts of `path` at hand (not dropped by a change since they were made)?"""
        return path in self._facts

    def error(self, path: str) -> str | None:
        return self._errors.get(path)

    def facts(self, path: str) -> ModuleFacts | None:
        self.dependencies.read(facts_node(path))
        cached = self._facts.get(path)  # dropped when something it read changes: valid while here
        if cached is not None:
            return cached
        path = str(Path(path).resolve())
        decl = self.decl(path)
        if decl is None:
            return None
        self._building.add(path)
        try:
            with self.dependencies.computing(facts_node(path)):
                self.dependencies.read(path)  # its own text
                # Restoring the bodies it walks (self.body); taking back units of its previous facts.
                facts = build_facts(decl, self, self._previous.pop(path, None))
        finally:
            self._building.discard(path)
        self.dependencies.facts_built[path] += 1
        self._facts[path] = facts
        self._release_over_budget()  # its bodies too, now that the facts are made
        return facts

    # --- import resolution --------------------------------------------------------------------

    def module_file(self, from_path: str, ref: ImportRef) -> str | None:
        return self.resolver.module_file(from_path, ref)

    def entries(self, directory: str) -> frozenset[str]:
        return self.resolver.entries(directory)

    def resolve_import(self, decl: ModuleDecl, ref: ImportRef, depth: int = 0) -> Value:
        if ref.name is not None:
            # `from pkg import sub` may name a submodule rather than a symbol in pkg/__init__.py.
            module = self.module_file(decl.path, ref)
            if module is not None:
                target = self.decl(module)
                if target is not None:
                    value = self.resolve_global(target, ref.name, depth + 1)
                    if value is not UNKNOWN:
                        return value
            sub = self.module_file(decl.path, ImportRef(f"{ref.module}.{ref.name}".strip("."), None, ref.level))
            if sub is not None:
                return Value(kind=Kind.MODULE, ref=sub, name=ref.name)
            if ref.level or module is not None:
                return UNKNOWN
            return Value(kind=Kind.EXTERNAL, name=f"{hooks.ALIASES.get(ref.module, ref.module)}.{ref.name}")
        module = self.module_file(decl.path, ref)
        if module is not None:
            return Value(kind=Kind.MODULE, ref=module, name=ref.module)
        return Value(kind=Kind.EXTERNAL, name=hooks.ALIASES.get(ref.module, ref.module))

    def resolve_global(self, decl: ModuleDecl, name: str, depth: int = 0) -> Value:
        """What a module-level name is, from declarations only (order-independent)."""
        key = (decl.path, name)
        self.dependencies.read(decl.path)
        if key in self._globals:
            return self._globals[key]
        if depth > 20:
            return UNKNOWN
        self._globals[key] = UNKNOWN  # cycle guard
        with self.dependencies.computing(decl.path):
            value = self._resolve_global(decl, name, depth)
        self._globals[key] = value
        return value

    def _resolve_global(self, decl: ModuleDecl, name: str, depth: int) -> Value:
        if name in decl.classes:
            return self.class_value(decl, decl.classes[name])
        if name in decl.functions:
            return Value(kind=Kind.FUNCTION, ref=FunctionRef(decl.path, name), name=name)
        if name in decl.assigns:
            return self.eval_static(decl, decl.assigns[name], depth + 1, label=name)
        if name in decl.imports:
            return self.resolve_import(decl, decl.imports[name], depth)
        if name in decl.annotations:
            return UNKNOWN
        for star in decl.star_imports:
            module = self.module_file(decl.path, star)
            target = self.decl(module) if module else None
            if target is not None:
                exported = _star_exported(target)
                if exported is not None and name not in exported:
                    continue  # `__all__` says what `import *` binds
                value = self.resolve_global(target, name, depth + 1)
                if value is UNKNOWN and exported is not None and module.endswith("__init__.py"):
                    # `__all__ = ["models"]` in a package: `import *` imports that submodule.
                    sub = self.module_file(module, ImportRef(name, None, 1))
                    value = Value(kind=Kind.MODULE, ref=sub, name=name) if sub is not None else UNKNOWN
                if value is not UNKNOWN:
                    return value
            elif module is None and not star.level and name not in BUILTIN_NAMES and \
                    self.star_exports.exports(star.module, name):
                # A library star import (`from sqlalchemy.orm import *`): the index cannot read it,
                # jedi can tell whether it binds the name.
                return Value(kind=Kind.EXTERNAL, name=f"{hooks.ALIASES.get(star.module, star.module)}.{name}")
        if name in BUILTIN_NAMES:
            return Value(kind=Kind.EXTERNAL, name=f"builtins.{name}")
        return UNKNOWN

    def eval_static(self, decl: ModuleDecl, node: ast.expr, depth: int = 0, label: str = "") -> Value:
        """Evaluate a module- or class-level expression well enough to know what it binds."""
        if isinstance(node, ast.Name):
            return self.resolve_global(decl, node.id, depth + 1)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.eval_static(decl, node.value, depth + 1), node.attr)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, label=label)
        if isinstance(node, ast.Constant):
            return Value(kind=Kind.SCALAR, size=Size.BOUNDED, label=label)
        if isinstance(node, ast.Call):
            callee = self.eval_static(decl, node.func, depth + 1)
            keywords = {kw.arg: self.eval_static(decl, kw.value, depth + 1) for kw in node.keywords
                        if kw.arg in ("class_", "cls", "model_class")}
            return self.construct(callee, [self.eval_static(decl, a, depth + 1) for a in node.args[:1]], keywords)
        return UNKNOWN

    def attribute(self, base: Value, attr: str) -> Value:
        """Attribute semantics that need no flow facts: modules, externals, an ORM's namespace object."""
        if base.kind is Kind.EXTERNAL:
            return Value(kind=Kind.EXTERNAL, name=f"{hooks.ALIASES.get(base.name, base.name)}.{attr}")
        if base.kind is Kind.MODULE:
            target = self.decl(base.ref)
            if target is None:
                return UNKNOWN
            value = self.resolve_global(target, attr)
            if value is UNKNOWN:
                sub = self.module_file(base.ref, ImportRef(attr, None, 1))
                if sub is not None and sub != base.ref:
                    return Value(kind=Kind.MODULE, ref=sub, name=attr)
            return value
        if base.kind is Kind.ORM_NAMESPACE:
            value = hooks.ask(hooks.NAMESPACE_ATTRIBUTE, self, attr, base)
            if value is not None:
                return value
        if base.kind is Kind.MODEL_CLASS and base.model is not None:
            model = base.model
            if attr in model.columns:
                return Value(kind=Kind.COLUMN, model=model, name=attr, label=f"{model.name}.{attr}")
            if self.relationship(model, attr) is not None:
                return Value(kind=Kind.RELATIONSHIP_ATTR, model=model, name=attr)
        return UNKNOWN

    # --- the ModelIndex -----------------------------------------------------------------------

    # --- Django models ------------------------------------------------------------------------


