"""ProjectIndex: every module's declarations and facts, parsed once per content, with import
resolution across files (imports.py: import roots, packages, relative imports), the ModelIndex, and
function summaries (summaries.py: "runs a query, via these calls"). It reads files; it never
imports them."""

from __future__ import annotations

import ast
import builtins
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ormlens.analysis import queries
from ormlens.analysis.declarations import ClassDecl, ImportRef, ModuleDecl, collect
from ormlens.analysis.dependencies import ALL_MODELS, Dependencies, facts_node, imports_node, is_module
from ormlens.analysis.flow import UNKNOWN, Kind, Size, Value
from ormlens.analysis.models import (
    ColumnInfo,
    ModelInfo,
    RelationshipInfo,
    default_table_name,
    fingerprint_models,
    is_mapping_call,
    read_attribute,
    read_django_field,
    read_sqlmodel_attribute,
)
from ormlens.analysis.imports import ImportResolver
from ormlens.analysis.jedi_names import StarExports
from ormlens.analysis.residency import (
    WholeTrees,
    declared_functions,
    edit_bodies,
    index_stats,
    is_released,
    release_bodies,
    release_outside,
    restore_bodies,
    restore_body,
    whole_tree,
)
from ormlens.analysis.sources import ParseFailure, outline, read_source, same_tree
from ormlens.analysis.summaries import FunctionSummaries, QuerySummary, QueryTrace  # noqa: F401 - QueryTrace: what rules get
from ormlens.config import Settings
from ormlens.positions import shared_lines

if TYPE_CHECKING:
    from ormlens.analysis.facts import FunctionRef, ModuleFacts

BUILTIN_NAMES = frozenset(dir(builtins))
# Flask-SQLAlchemy's `db` re-exports sqlalchemy and sqlalchemy.orm names.
ORM_NAMES = frozenset({
    "relationship", "relation", "backref", "mapped_column", "Mapped", "selectinload", "joinedload",
    "subqueryload", "contains_eager", "raiseload", "noload", "lazyload", "immediateload", "defaultload",
    "deferred", "column_property", "synonym", "aliased", "Session", "sessionmaker", "scoped_session",
})


def _star_exported(decl: ModuleDecl) -> frozenset[str] | None:
    """The names `from <decl> import *` binds, when a literal `__all__` lists them; else None."""
    node = decl.assigns.get("__all__")
    if isinstance(node, (ast.List, ast.Tuple)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return frozenset(e.value for e in node.elts)
    return None


class ProjectIndex(FunctionSummaries):
    # Lines of source whose function bodies are kept parsed (about 1 KB of memory a line); past
    # it, the least recently used modules keep only their declarations (residency.py).
    WHOLE_TREE_LINES = 50_000

    def __init__(self, root: Path | None = None, settings: Settings = Settings()):
        self.root = root.resolve() if root else None
        self.settings = settings
        self._overrides: dict[str, str] = {}   # unsaved editor buffers win over the disk
        self._decls: dict[str, ModuleDecl | None] = {}  # parsed once per text; None: does not parse
        self._facts: dict[str, ModuleFacts] = {}
        self._errors: dict[str, str] = {}
        self._models: dict[tuple[str, str], ModelInfo | None] = {}
        self._bases: dict[tuple[str, str], bool] = {}
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
        self._django: dict[tuple[str, str], ModelInfo | None] = {}
        self._queryset_classes: dict[tuple[str, str], bool] = {}
        self._historical: dict[tuple[str, str], ModelInfo] = {}
        self._app_labels: dict[str, str] = {}
        self._returns: dict[FunctionRef, Value] = {}
        self._building: set[str] = set()  # modules whose facts pass is running
        # Record each module's facts function by function, and keep an edited module's previous
        # facts for its next pass to take unchanged functions back (units.py): the editor's index.
        self.keep_units = False
        self.passes: dict[str, ModuleFacts] = {}
        self._previous: dict[str, ModuleFacts] = {}
        self.resolver = ImportResolver(self.root, settings.src)  # which file an import names
        self._imported: dict[str, frozenset[str]] = {}
        self._whole = WholeTrees(self.WHOLE_TREE_LINES)
        # Names that library star imports bind, asked of jedi; kept across edits (see jedi_names).
        self.star_exports = StarExports(self.root)

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
            self._whole = WholeTrees(self.WHOLE_TREE_LINES)
            self._invalidate()
            return
        key = str(Path(path).resolve())
        self.resolver.changed(key)  # an edit of an existing file: what imports resolve to stays
        self._changed(key)

    def _forget(self, path: str) -> None:
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
        before = self._decls.get(path)
        declared = self._declares_models(path)
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
        if declared or self._declares_models(path):
            self._drop(self.dependencies.affected(ALL_MODELS))

    def _keep_previous(self, path: str) -> None:
        """Drop the facts of `path`, keeping them for its next pass when units are recorded."""
        facts = self._facts.pop(path, None)
        if facts is not None and self.keep_units:
            facts.dropped = set()
            self._previous[path] = facts

    def _declares_models(self, path: str) -> bool:
        decl = self.decl(path)
        return decl is not None and any(
            self.model_of(decl, cls) is not None or self.django_model(decl, cls) is not None
            for cls in decl.classes.values())

    def _drop(self, nodes: set[str]) -> None:
        """Forget what was derived for `nodes` (module paths, import closures, ALL_MODELS)."""
        self.dependencies.forget(nodes)
        for previous in self._previous.values():
            previous.dropped |= nodes
        for path in [path for path in self._facts if facts_node(path) in nodes]:
            del self._facts[path]
        for path in [path for path in self._imported if imports_node(path) in nodes]:
            del self._imported[path]
        for cache in (self._models, self._bases, self._globals, self._django, self._queryset_classes,
                      self._historical):
            for key in [key for key in cache if key[0] in nodes]:
                del cache[key]
        for cache in (self._traces, self._chunkers, self._returned_queries, self._returns):
            for ref in [ref for ref in cache if facts_node(ref.path) in nodes]:
                del cache[ref]
        for app in [app for app in self._app_labels if os.path.join(app, "apps.py") in nodes]:
            del self._app_labels[app]
        if ALL_MODELS in nodes:
            self._all_models = self._models_named = self._backrefs = None

    def _invalidate(self) -> None:
        # Files were created or deleted: any name may now resolve elsewhere. Drop everything
        # derived (facts, models, resolved names); the other modules' parses are kept.
        self.dependencies.clear()
        self._previous.clear()
        self._all_models = self._models_named = None
        self._facts.clear()
        self._imported.clear()
        self._models.clear()
        self._bases.clear()
        self._globals.clear()
        self._backrefs = None
        self._traces.clear()
        self._chunkers.clear()
        self._returned_queries.clear()
        self._django.clear()
        self._queryset_classes.clear()
        self._historical.clear()
        self._app_labels.clear()
        self._returns.clear()

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
        for path in self._whole.over_budget([*self._building, *pinned]):
            self._whole.forget(path)
            decl = self._decls.get(path)
            if decl is not None:
                release_bodies(decl.tree)

    def release(self, keep: set[str]) -> None:
        """Let go of what was derived for modules outside `keep` (residency.release_outside)."""
        release_outside(self, keep)

    def closure(self, paths: list[str]) -> set[str]:
        """`paths` and the project modules they import: what a server keeps across a release."""
        return set(paths).union(*(self.imports(path) for path in paths))

    def whole_first(self, paths: list[str]) -> list[str]:
        """`paths` (once each), those whose trees are whole first, the most recently used first."""
        return self._whole.first(paths)

    def stats(self) -> dict[str, int]:
        return index_stats(self)

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
        return {node for node in self.dependencies.reads(facts_node(path), stop=ALL_MODELS) if is_module(node)} | {path}

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

    def loaded(self) -> list[str]:
        """Every module read so far (parsed or not)."""
        return list(self._decls)

    def models_fingerprint(self) -> str:
        """A digest of every model of the modules read so far (all that ALL_MODELS readers see)."""
        return fingerprint_models(self.all_models())

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
        if any(self._declares_models(path) for path in new):
            self._drop(self.dependencies.affected(ALL_MODELS))

    def analysed(self, path: str) -> bool:
        """Are the facts of `path` at hand (not dropped by a change since they were made)?"""
        return path in self._facts

    def error(self, path: str) -> str | None:
        return self._errors.get(path)

    def facts(self, path: str) -> ModuleFacts | None:
        from ormlens.analysis.interpreter import build_facts

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

    def _entries(self, directory: str) -> frozenset[str]:
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
            return Value(kind=Kind.EXTERNAL, name=f"{ref.module}.{ref.name}")
        module = self.module_file(decl.path, ref)
        if module is not None:
            return Value(kind=Kind.MODULE, ref=module, name=ref.module)
        return Value(kind=Kind.EXTERNAL, name=ref.module)

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
        from ormlens.analysis.facts import FunctionRef

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
                return Value(kind=Kind.EXTERNAL, name=f"{star.module}.{name}")
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
                        if kw.arg == "class_"}
            return self.construct(callee, [self.eval_static(decl, a, depth + 1) for a in node.args[:1]], keywords)
        return UNKNOWN

    def construct(self, callee: Value, args: list[Value], keywords: dict[str | None, Value] | None = None) -> Value:
        """What calling a class or factory of the ORMs gives (shared with the facts pass)."""
        if callee.kind is Kind.EXTERNAL:
            full = callee.name
            if full in queries.FLASK_SQLALCHEMY:
                return Value(kind=Kind.ORM_NAMESPACE)
            if full in queries.SESSION_FACTORIES:
                # async_sessionmaker(engine), or the 1.4 spelling sessionmaker(engine, class_=AsyncSession)
                session_class = (keywords or {}).get("class_")
                return Value(kind=Kind.SESSION_FACTORY, asynchronous=full in queries.ASYNC_SESSION_FACTORIES or (
                    session_class is not None and session_class.name in queries.ASYNC_SESSION_CLASSES))
            if full in queries.SESSION_CLASSES:
                return Value(kind=Kind.SESSION, asynchronous=full in queries.ASYNC_SESSION_CLASSES)
            if full in queries.DECLARATIVE_BASE_FACTORIES:
                return Value(kind=Kind.MODEL_BASE)
        if callee.kind is Kind.SESSION_FACTORY:
            return Value(kind=Kind.SESSION, asynchronous=callee.asynchronous)
        return UNKNOWN

    def attribute(self, base: Value, attr: str) -> Value:
        """Attribute semantics that need no flow facts: modules, externals, Flask-SQLAlchemy."""
        if base.kind is Kind.EXTERNAL:
            return Value(kind=Kind.EXTERNAL, name=f"{base.name}.{attr}")
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
            if attr == "Model":
                return Value(kind=Kind.MODEL_BASE)
            if attr == "session":
                return Value(kind=Kind.SESSION, label="db.session")
            module = "sqlalchemy.orm" if attr in ORM_NAMES else "sqlalchemy"
            return Value(kind=Kind.EXTERNAL, name=f"{module}.{attr}")
        if base.kind is Kind.MODEL_CLASS and base.model is not None:
            model = base.model
            if attr in model.columns:
                return Value(kind=Kind.COLUMN, model=model, name=attr, label=f"{model.name}.{attr}")
            if self.relationship(model, attr) is not None:
                return Value(kind=Kind.RELATIONSHIP_ATTR, model=model, name=attr)
        return UNKNOWN

    # --- the ModelIndex -----------------------------------------------------------------------

    def class_value(self, decl: ModuleDecl, cls: ClassDecl) -> Value:
        model = self.model_of(decl, cls)
        if model is not None:
            return Value(kind=Kind.MODEL_CLASS, model=model, label=cls.name)
        if self.django_model(decl, cls) is not None:  # an abstract Django model
            return Value(kind=Kind.MODEL_BASE, ref=(decl.path, cls), label=cls.name)
        if self._is_model_base(decl, cls):
            return Value(kind=Kind.MODEL_BASE, label=cls.name)
        # An Enum class iterates its members: a fixed, small number.
        enum = any(self.eval_static(decl, base).name.startswith("enum.") for base in cls.bases)
        return Value(kind=Kind.CLASS, ref=(decl.path, cls), name=cls.name, label=cls.name,
                     size=Size.BOUNDED if enum else Size.UNKNOWN)

    def _is_model_base(self, decl: ModuleDecl, cls: ClassDecl) -> bool:
        key = (decl.path, cls.name)
        self.dependencies.read(decl.path)
        if key not in self._bases:
            self._bases[key] = False
            with self.dependencies.computing(decl.path):
                self._bases[key] = any(
                    self.eval_static(decl, base).name in queries.DECLARATIVE_BASE_CLASSES for base in cls.bases
                ) or (self._is_abstract(decl, cls) and self._has_model_base(decl, cls))
        return self._bases[key]

    @staticmethod
    def _is_abstract(decl: ModuleDecl, cls: ClassDecl) -> bool:
        value = cls.attr_value("__abstract__")
        return isinstance(value, ast.Constant) and value.value is True

    def _has_model_base(self, decl: ModuleDecl, cls: ClassDecl) -> bool:
        return any(self.eval_static(decl, b).kind in (Kind.MODEL_BASE, Kind.MODEL_CLASS) for b in cls.bases)

    def is_enum_class(self, path: str, cls: ClassDecl, depth: int = 0) -> bool:
        """Does the class derive (through project classes) from enum.Enum and its kin? Then
        `Cls[name]` / `Cls(value)` is one of its members: a closed set."""
        decl = self.decl(path)
        if decl is None or depth > 8:
            return False
        for base in cls.bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.EXTERNAL and value.name in queries.ENUM_CLASSES:
                return True
            if value.kind is Kind.CLASS and isinstance(value.ref, tuple) and \
                    self.is_enum_class(value.ref[0], value.ref[1], depth + 1):
                return True
        return False

    def model_of(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        key = (decl.path, cls.name)
        self.dependencies.read(decl.path)
        if key in self._models:
            return self._models[key]
        self._models[key] = None  # cycle guard
        with self.dependencies.computing(decl.path):
            django = self.django_model(decl, cls)
            if django is not None:
                model = None if django.abstract else django
            else:
                model = self._build_model(decl, cls)
        self._models[key] = model
        return model

    def is_sqlmodel(self, decl: ModuleDecl, cls: ClassDecl, depth: int = 0) -> bool:
        """A subclass of sqlmodel.SQLModel (directly, or through project classes such as `HeroBase`)."""
        if depth > 8:
            return False
        for base in cls.bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.EXTERNAL and value.name in queries.SQLMODEL_BASES:
                return True
            if value.kind is Kind.CLASS and value.ref is not None:
                base_decl = self.decl(value.ref[0])
                if base_decl is not None and self.is_sqlmodel(base_decl, value.ref[1], depth + 1):
                    return True
        return False

    # --- Django models ------------------------------------------------------------------------

    def django_model(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        """The Django model a class declares (abstract ones too), None when it is not one: it
        derives from `django.db.models.Model`, directly or through other models of the project."""
        key = (decl.path, cls.name)
        self.dependencies.read(decl.path)
        if key not in self._django:
            self._django[key] = None  # cycle guard
            with self.dependencies.computing(decl.path):
                self._django[key] = self._build_django_model(decl, cls)
        return self._django[key]

    def _build_django_model(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        concrete: list[ModelInfo] = []
        abstract: list[tuple[ModuleDecl, ClassDecl]] = []
        rooted = False
        for base in cls.bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.EXTERNAL and value.name in queries.DJANGO_MODEL_CLASSES:
                rooted = True
            elif value.kind is Kind.MODEL_CLASS and value.model is not None and value.model.django:
                concrete.append(value.model)
            elif value.kind is Kind.MODEL_BASE and value.ref is not None:
                base_decl = self.decl(value.ref[0])
                if base_decl is not None and self.django_model(base_decl, value.ref[1]) is not None:
                    abstract.append((base_decl, value.ref[1]))
        if not (rooted or concrete or abstract):
            return None
        model = ModelInfo(cls.name, decl.path, cls.node.lineno, cls.name.lower(), style="django",
                          abstract=_django_meta(cls, "abstract") is True)
        for parent in concrete:  # multi-table inheritance and proxies: the parent's fields
            model.columns.update(parent.columns)
            model.relationships.update(parent.relationships)
            model.managers.update(parent.managers)
        backrefs: list[tuple[str, RelationshipInfo]] = []
        for base_decl, base_cls in abstract:  # an abstract base's fields, as this model's own
            self._read_django_body(model, base_decl, base_cls, backrefs, depth=0)
        if not any(column.primary_key for column in model.columns.values()):
            model.columns["id"] = ColumnInfo("id", False, cls.node.lineno, primary_key=True)
        self._read_django_body(model, decl, cls, backrefs, depth=None)
        if not model.managers:
            model.managers["objects"] = []
        model.extra_backrefs = backrefs
        return model

    def _read_django_body(self, model: ModelInfo, decl: ModuleDecl, cls: ClassDecl,
                          backrefs: list[tuple[str, RelationshipInfo]], depth: int | None) -> None:
        if depth is not None:  # an abstract base: its own abstract bases first
            for base in cls.bases:
                value = self.eval_static(decl, base)
                if value.kind is Kind.MODEL_BASE and value.ref is not None and depth < 8:
                    base_decl = self.decl(value.ref[0])
                    if base_decl is not None and self.django_model(base_decl, value.ref[1]) is not None:
                        self._read_django_body(model, base_decl, value.ref[1], backrefs, depth + 1)
        resolve = lambda node: self.eval_static(decl, node)  # noqa: E731
        for attr, _, value, line in cls.attrs:
            managed = self._django_manager(decl, value)
            if managed is not None:
                model.managers[attr] = managed
            else:
                read_django_field(model, attr, value, line, resolve, backrefs)

    def _django_manager(self, decl: ModuleDecl, node: ast.expr | None) -> list | None:
        """`models.Manager()`, `MyManager()`, `MyQuerySet.as_manager()`,
        `Manager.from_queryset(MyQuerySet)()`: the project classes whose methods the manager has
        (empty for Django's own); None when `node` is not a manager."""
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "as_manager" and not node.args:
            classes = self._queryset_class_refs(decl, [func.value])
            return classes if classes is not None else None
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and \
                func.func.attr == "from_queryset" and len(func.args) == 1:
            return self._queryset_class_refs(decl, [func.func.value, func.args[0]])
        return self._queryset_class_refs(decl, [func])

    def _queryset_class_refs(self, decl: ModuleDecl, nodes: list[ast.expr]) -> list | None:
        refs = []
        for node in nodes:
            value = self.eval_static(decl, node)
            if value.kind is Kind.EXTERNAL and value.name in queries.DJANGO_QUERYSET_CLASSES:
                continue
            if value.kind is Kind.CLASS and value.ref is not None and self.is_queryset_class(*value.ref):
                refs.append(value.ref)
                continue
            return None
        return refs

    def is_queryset_class(self, path: str, cls: ClassDecl) -> bool:
        """Does this project class derive from Django's Manager or QuerySet?"""
        key = (path, cls.name)
        self.dependencies.read(path)
        if key not in self._queryset_classes:
            self._queryset_classes[key] = False  # cycle guard
            with self.dependencies.computing(path):
                self._queryset_classes[key] = self._derives_from_queryset(path, cls)
        return self._queryset_classes[key]

    def _derives_from_queryset(self, path: str, cls: ClassDecl) -> bool:
        decl = self.decl(path)
        for base in cls.bases if decl is not None else []:
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and \
                    base.func.attr == "from_queryset":  # class M(Manager.from_queryset(QS))
                base = base.func.value
            value = self.eval_static(decl, base)
            if (value.kind is Kind.EXTERNAL and value.name in queries.DJANGO_QUERYSET_CLASSES) or (
                    value.kind is Kind.CLASS and value.ref is not None and self.is_queryset_class(*value.ref)):
                return True
        return False

    def _build_model(self, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
        parents: list[ModelInfo] = []
        mixins: list[tuple[ModuleDecl, ClassDecl]] = []
        mapped_base = False
        sqlmodel = self.is_sqlmodel(decl, cls)
        if sqlmodel:
            # Only `class Hero(SQLModel, table=True)` is mapped; the other SQLModel classes are
            # pydantic models (HeroCreate, HeroPublic), whose fields are plain values.
            table = cls.keyword("table")
            if not (isinstance(table, ast.Constant) and table.value is True):
                return None
            mapped_base = True
        for base in cls.bases:
            value = self.eval_static(decl, base)
            if value.kind is Kind.MODEL_CLASS and value.model is not None:
                parents.append(value.model)
            elif value.kind is Kind.MODEL_BASE:
                mapped_base = True
            elif value.kind is Kind.EXTERNAL and value.name in queries.DECLARATIVE_BASE_CLASSES:
                return None  # a declarative base itself is not mapped
            elif value.kind is Kind.CLASS and value.ref is not None:
                mixins.append(value.ref)
        resolve = lambda node: self.eval_static(decl, node)  # noqa: E731
        declares = cls.attr_value("__tablename__") is not None or any(
            is_mapping_call(value, resolve) for _, _, value, _ in cls.attrs
        )
        if self._is_abstract(decl, cls) or not (parents or mapped_base or declares):
            return None
        table = cls.attr_value("__tablename__")
        model = ModelInfo(cls.name, decl.path, cls.node.lineno,
                          table.value if isinstance(table, ast.Constant) and isinstance(table.value, str)
                          else cls.name.lower() if sqlmodel  # SQLModel's default: the class name, lower-cased
                          else default_table_name(cls.name))
        read = read_sqlmodel_attribute if sqlmodel else read_attribute
        for parent in parents:
            model.columns.update(parent.columns)
            model.relationships.update(parent.relationships)
        backrefs: list[tuple[str, RelationshipInfo]] = []
        for mixin_path, mixin in mixins:
            mixin_decl = self.decl(mixin_path)
            if mixin_decl is not None:
                mixin_resolve = lambda node, d=mixin_decl: self.eval_static(d, node)  # noqa: E731
                for attr, annotation, value, line in mixin.attrs:
                    read(model, attr, annotation, value, line, mixin_resolve, backrefs)
        for attr, annotation, value, line in cls.attrs:
            read(model, attr, annotation, value, line, resolve, backrefs)
        model.extra_backrefs = backrefs
        return model

    def class_of(self, model: ModelInfo) -> tuple[str, ClassDecl] | None:
        if model.current is not None:
            return None  # a historical model has none of the class's methods or properties
        decl = self.decl(model.module_path)
        cls = decl.classes.get(model.name) if decl is not None else None
        return (model.module_path, cls) if cls is not None else None

    def all_models(self) -> list[ModelInfo]:
        """Every model of the modules read so far (computed once until one of them changes)."""
        self.dependencies.read(ALL_MODELS)
        if self._all_models is not None:
            return self._all_models
        loads = self._loads
        out = []
        with self.dependencies.computing(ALL_MODELS):
            for decl in list(self._decls.values()):
                if decl is None:
                    continue
                for cls in decl.classes.values():
                    model = self.model_of(decl, cls)
                    if model is not None:
                        out.append(model)
        if loads == self._loads:  # else a module read meanwhile may declare more: not kept
            self._all_models = out
        return out

    def models_named(self, name: str) -> list[ModelInfo]:
        """The models whose class name is `name`, case-insensitively (Django's `get_model`)."""
        models = self.all_models()
        if self._models_named is None or self._all_models is not models:
            named: dict[str, list[ModelInfo]] = {}
            for model in models:
                named.setdefault(model.name.lower(), []).append(model)
            if self._all_models is not models:
                return named.get(name.lower(), [])
            self._models_named = named
        return self._models_named.get(name.lower(), [])

    def find_model(self, name: str, near_path: str, app_label: str = "") -> ModelInfo | None:
        """A relationship target named by class name, as SQLAlchemy's registry resolves it (and
        Django's "app_label.Model": by class name, the app label choosing among namesakes)."""
        near = self.decl(near_path)
        if app_label and near is not None and self.app_label(near_path) != app_label:
            near = None
        if near is not None and name in near.classes:
            model = self.model_of(near, near.classes[name])
            if model is not None:
                return model
        if near is not None and name in near.imports:
            value = self.resolve_global(near, name)
            if value.kind is Kind.MODEL_CLASS:
                return value.model
        matches = [m for m in self.models_named(name) if m.name == name]
        if len(matches) > 1 and app_label:
            matches = [m for m in matches if self.model_label(m) == app_label]
        return matches[0] if len(matches) == 1 else None

    def django_model_by_label(self, app_label: str, name: str, near_path: str) -> ModelInfo | None:
        """`apps.get_model("app_label", "Model")`: the concrete Django model of that app label and
        class name (Django matches the name case-insensitively); None unless exactly one."""
        app = _app_dir(near_path)
        if self.app_label(os.path.join(app, "models.py")) == app_label:
            # The migration's own app: read its models (the editor may not have opened them).
            for models in (os.path.join(app, "models.py"), os.path.join(app, "models", "__init__.py")):
                if os.path.basename(models) in self._entries(os.path.dirname(models)) and \
                        self.decl(models) is not None:
                    self.imports(models)
        lower = name.lower()
        matches = [m for m in self.models_named(lower) if m.django and self.model_label(m) == app_label]
        return matches[0] if len(matches) == 1 else None

    def historical(self, model: ModelInfo) -> ModelInfo:
        """The model a data migration gets from `apps.get_model(...)`: today's fields and relations
        (an approximation of that migration's state), none of the class's methods, properties or
        custom managers (only `objects`, a plain Manager), so nothing of them is followed."""
        if model.current is not None:
            return model
        key = (model.module_path, model.name)
        self.dependencies.read(model.module_path)
        copy = self._historical.get(key)
        if copy is None or copy.current is not model:
            copy = ModelInfo(model.name, model.module_path, model.line, model.table, columns=model.columns,
                             relationships=model.relationships, style=model.style,
                             managers={"objects": []}, current=model)
            self._historical[key] = copy
        return copy

    def model_label(self, model: ModelInfo) -> str:
        """A Django model's app label: its `Meta.app_label`, else its app's."""
        found = self.class_of(model.current or model)
        label = _django_meta(found[1], "app_label") if found is not None else None
        return label if isinstance(label, str) else self.app_label(model.module_path)

    def app_label(self, module_path: str) -> str:
        """The label of the Django app a module belongs to: the `label` of the AppConfig in the
        app's apps.py, else the app package's name (the package of `models.py`, `models/`,
        `migrations/`)."""
        app = _app_dir(module_path)
        node = os.path.join(app, "apps.py")
        self.dependencies.read(node)
        if app not in self._app_labels:
            self._app_labels[app] = ""  # cycle guard
            with self.dependencies.computing(node):
                self._app_labels[app] = self._read_app_label(app)
        return self._app_labels[app]

    def _read_app_label(self, app: str) -> str:
        labels: set[object] = set()
        config = self.decl(os.path.join(app, "apps.py")) if "apps.py" in self._entries(app) else None
        for cls in config.classes.values() if config is not None else []:
            if any(self.eval_static(config, base).name in queries.DJANGO_APP_CONFIG_CLASSES
                   for base in cls.bases):
                label = cls.attr_value("label")
                labels.add(label.value if isinstance(label, ast.Constant) else None)
        found = next(iter(labels)) if len(labels) == 1 else None
        return found if isinstance(found, str) else os.path.basename(app)

    def relationship(self, model: ModelInfo, attr: str) -> RelationshipInfo | None:
        rel = model.relationships.get(attr)
        if rel is not None:
            return rel
        model = model.current or model  # a historical model: the reverse accessors of today's
        self.dependencies.read(ALL_MODELS)
        backrefs = self._backrefs
        if backrefs is None:
            # Built aside: building models may read a module for the first time, which resets
            # the table (a new module may declare backrefs).
            backrefs = {}
            for other in self.all_models():
                for target, backref in other.extra_backrefs:
                    backrefs.setdefault(target, []).append((backref, other))
            self._backrefs = backrefs if self._all_models is not None else None
        return next((b for b, other in backrefs.get(model.name, [])
                     if b.name == attr and self._reverse_of(b, other, model)), None)

    def _reverse_of(self, backref: RelationshipInfo, declaring: ModelInfo, model: ModelInfo) -> bool:
        """A Django reverse accessor belongs to the model its field's target resolves to (not to
        every model of that class name)."""
        if not backref.django:
            return True
        forward = next((rel for rel in declaring.relationships.values()
                        if rel.line == backref.line and rel.django), None)
        return forward is not None and self.find_model(forward.target, declaring.module_path,
                                                       forward.app_label) is model

    def uselist(self, model: ModelInfo, rel: RelationshipInfo, target: ModelInfo | None) -> bool | None:
        """Does `model.rel` hold a collection? As SQLAlchemy decides it: `uselist=`, `Mapped[list[...]]`,
        an association table, else the direction of the foreign key between the two tables."""
        if rel.uselist is not None:
            return rel.uselist
        if rel.secondary:
            return True
        if target is None:
            return None
        if any(model.references(column, target) for column in model.columns):
            return False  # the foreign key is here: many-to-one
        if any(target.references(column, model) for column in target.columns):
            return True   # the foreign key is on the target: one-to-many
        return None

def _django_meta(cls: ClassDecl, option: str) -> object:
    """A literal option of a Django model's inner `class Meta`."""
    for stmt in cls.node.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == option for t in inner.targets):
                    return inner.value.value if isinstance(inner.value, ast.Constant) else None
    return None


def _app_dir(module_path: str) -> str:
    """The Django app package of a module: the package holding `models.py` (or the `models/` or
    `migrations/` package)."""
    parent = os.path.dirname(module_path)
    return os.path.dirname(parent) if os.path.basename(parent) in ("models", "migrations") else parent
