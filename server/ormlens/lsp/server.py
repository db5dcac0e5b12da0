"""`ormlens server`: pygls handlers. Documents in, the engine's findings out as LSP diagnostics.

All analysis runs on one worker thread (the ProjectIndex is not shared across threads). Changes to
a document that arrive while it is being analysed are coalesced: when the run ends, the newest
version is analysed next. The finished result of an older version is still published (with its
version) once the user has waited STALE_PUBLISH_SECONDS without a publish, so a typist on a slow
project sees diagnostics move. A syntax error keeps the document's last good diagnostics; a module
written for a newer Python gets one diagnostic on the construct that needs it.
Nothing here raises into the editor: failures are logged."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import gc
import logging
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pygls.lsp.server import LanguageServer

from ormlens import __version__
from ormlens.analysis.sources import ParseFailure, read_source
from ormlens.analysis.syntax_versions import newer_syntax_of
from ormlens.cache import FirstLook, cache_directory
from ormlens.discovery import excluded, project_modules
from ormlens.one_off import is_one_off
from ormlens.engine import analyze, deep_recursion, fix_file
from ormlens.findings import Finding
from ormlens.noqa import template_noqa
from ormlens.fixes.registry import fix_for
from ormlens.fixes.base import SourceText
from ormlens.lsp import convert, templates
from ormlens.lsp.documents import Document, normalise_uri, units, uri_to_path
from ormlens.lsp.folders import Folder, folder_of, new_folder
from ormlens.lsp.protocol import OrmlensProtocol
from ormlens.positions import shared_lines, source_lines

log = logging.getLogger("ormlens.lsp")
# A version is published once its document has had no change for this long: edits sent in a
# burst arrive one message at a time, and only the last of them should be published. When the
# analysis takes longer than this (large files), it adds nothing.
QUIET_SECONDS = 0.02
# While the user keeps typing, the result of an older version is published once no publish has
# reached them for this long: a burst of edits still publishes once, continuous typing does not
# leave the diagnostics frozen until the user pauses.
STALE_PUBLISH_SECONDS = 0.5
# How often at most free heap memory is handed back to the system (glibc keeps what the worker
# thread's arena freed, so a long session's RSS would otherwise only grow).
TRIM_SECONDS = 5.0


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim this way
        return None


MALLOC_TRIM = _malloc_trim()
NOQA_CODE = re.compile(r"#\s*noqa:[^#]*", re.IGNORECASE)
CODE = re.compile(r"ORM\d{3}", re.IGNORECASE)
# The files whose changes outside the editor the server hears about: modules, and configuration
# (folders.CONFIG_NAMES).
WATCHED = ("**/*.py", "**/pyproject.toml", "**/ormlens.toml")


@dataclass
class Outcome:
    """One analysis of one document version (computed on the worker thread)."""

    diagnostics: list[lsp.Diagnostic] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = True
    error: str | None = None
    dependents: list[str] = field(default_factory=list)  # open documents importing this one
    newer: bool = False  # did not parse because it is written for a newer Python (published, not kept)
    # A module's: the templates its views render that it has findings in (their documents show them).
    templates: frozenset[str] = frozenset()
    # A template's: the views analysed for it, each with the text read (its quick fixes edit that text).
    views: dict[str, str] = field(default_factory=dict)


@dataclass
class DocumentState:
    uri: str  # as the client spells it: publishes go back under this URI
    path: str
    folder: Folder  # the workspace folder it belongs to: its project and settings
    task: asyncio.Task | None = None
    # Set when a request waits for this document: the debounce ends at once.
    wanted: asyncio.Event = field(default_factory=asyncio.Event)
    waiting_since: float | None = None  # loop time of the first change not yet published
    # Set by every schedule(): something this document reads may have changed (its own text, or
    # a module it imports), so a run that started before must not be the last word.
    rerun: bool = False
    # What was last published (or is served by pull): a good result, kept across syntax errors.
    version: int | None = None
    outcome: Outcome = field(default_factory=Outcome)
    analysed: int | None = None  # the last version analysed, good or not
    changed_at: float = 0.0      # event-loop time of the last change
    generation: int = 0  # bumped when settings change, so pull result ids change too
    template: bool = False  # a Django/Jinja2 template, checked through the views that render it (templates.py)

    @property
    def result_id(self) -> str:
        return f"{self.version}-{self.generation}"


class OrmlensServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ormlens", __version__, protocol_cls=OrmlensProtocol)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ormlens-analysis")
        # Reads the CLI's cache for a document just opened, while the worker may still be reading
        # the project: never touches the project index.
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ormlens-cache")
        # The workspace folders, each with its project and settings (folders.py); the first also
        # takes the documents outside all of them.
        self.folders: list[Folder] = [new_folder(None)]
        self.initialization_options: dict = {}
        self.editor_settings: dict = {}  # the initialization options, under the editor's configuration
        # Both keyed by the normalised URI (lsp/documents.py): the open texts, and their analysis.
        self.texts: dict[str, Document] = {}
        self.documents: dict[str, DocumentState] = {}
        self.pull = False
        self.trimmed_at = 0.0
        self.from_cache = 0  # documents whose first diagnostics came from the CLI's cache (ormlens.stats)
        self.stopping = False  # `exit` arrived: what is queued is dropped, a long read stops

    @property
    def root(self) -> Path | None:
        """The first workspace folder's root (where a document with no file is put)."""
        return self.folders[0].root

    def folder_of(self, path: str | None) -> Folder:
        return folder_of(self.folders, path)

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)

    def text(self, uri: str) -> Document | None:
        """The open document a URI names, however it is spelled."""
        return self.texts.get(normalise_uri(uri))

    # --- messages to the user -----------------------------------------------------------------

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        log.info(message)
        try:
            self.window_log_message(lsp.LogMessageParams(type=kind, message=f"ormlens: {message}"))
        except Exception:  # noqa: BLE001 - not connected yet (tests), nothing to tell
            pass

    def warn(self, message: str) -> None:
        self.log(message, lsp.MessageType.Warning)
        self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=f"ormlens: {message}"))

    def report_server_error(self, error: Exception, source) -> None:
        # pygls would show these to the user; a bad message from the editor is worth a log line.
        self.log(f"ignored a bad message ({type(error).__name__}: {error})", lsp.MessageType.Error)

    # --- settings -----------------------------------------------------------------------------

    def apply_settings(self, options: object = None, *, initialization: bool = False) -> None:
        """Settings of each workspace folder: its `[tool.ormlens]`, then the initialization options,
        then the `ormlens` section of the editor's configuration (each over the one before, key by key)."""
        warnings: list[str] = []
        table = options.get("ormlens") if isinstance(options, dict) and "ormlens" in options else options
        if initialization and isinstance(options, dict) and "ormlens" not in options:
            table = options  # initializationOptions are ours alone: the bare table is accepted
        elif not initialization and not (isinstance(options, dict) and "ormlens" in options):
            table = {}  # other tools' settings (`python`, ...) are not ours to judge
        if table is None:
            table = {}
        if not isinstance(table, dict):
            warnings.append(f"settings ignored: expected an object, got {type(table).__name__}")
            table = {}
        if initialization:
            self.initialization_options = table
        self.editor_settings = {**self.initialization_options, **({} if initialization else table)}
        for warning in dict.fromkeys(w for folder in self.folders for w in self.apply_to(folder)):
            self.warn(warning)  # (the editor's settings are the same in every folder: said once)

    def apply_to(self, folder: Folder) -> list[str]:
        """The folder's settings read again (its configuration file may have changed); the warnings."""
        return folder.apply(self.editor_settings)

    def set_folders(self, roots: list[Path | None]) -> None:
        """The workspace folders are these (a folder kept keeps its project index)."""
        kept = {folder.root: folder for folder in self.folders}
        self.folders = [kept.get(root) or new_folder(root) for root in dict.fromkeys(roots)] or [new_folder(None)]
        for folder in self.folders:
            if folder.root not in kept:
                for warning in self.apply_to(folder):
                    self.warn(warning)
        for state in self.documents.values():
            state.folder = self.folder_of(state.path)

    # --- analysis -----------------------------------------------------------------------------

    def state(self, key: str) -> DocumentState:
        """The analysis state of the open document kept under `key` (a normalised URI)."""
        if key not in self.documents:
            path = self.document_path(key)
            template = templates.is_template_document(self.texts[key].language, uri_to_path(key))
            self.documents[key] = DocumentState(self.texts[key].uri, path, self.folder_of(path), template=template)
        return self.documents[key]

    def document_path(self, key: str) -> str:
        """Where a document's module sits for the analysis: its file, or for a document with no
        file (`untitled:Untitled-1`) a name of its own in the workspace root, so that it is
        analysed as a new module of the project (as ruff's server checks unsaved buffers)."""
        path = uri_to_path(key)
        if path:
            return str(Path(path).resolve())
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", key.split(":", 1)[-1]).strip("_.") or "document"
        return str((self.root or Path.cwd()).resolve() / f"{name}.untitled.py")

    def schedule(self, key: str) -> asyncio.Task:
        state = self.state(key)
        state.rerun = True
        if state.task is None or state.task.done():
            state.task = asyncio.ensure_future(self.analyse_until_current(key, state))
        return state.task

    async def analyse_until_current(self, key: str, state: DocumentState) -> None:
        # Even with no debounce this yields once, so changes already received are applied first.
        # A request waiting for this document (code actions, pull diagnostics) ends the wait.
        try:
            await asyncio.wait_for(state.wanted.wait(), state.folder.settings.debounce_ms / 1000)
        except asyncio.TimeoutError:
            pass
        loop = asyncio.get_running_loop()
        document = self.texts.get(key)
        # Just opened: the CLI's cache may know it (a module's findings; a template has no entry).
        if state.analysed is None and document is not None and not state.template:
            version = document.version
            cached = await loop.run_in_executor(self.reader, self.first_look, state.folder, state.path,
                                                document.text, self.encoding, state.uri)
            if cached is not None and self.documents.get(key) is state and self.texts.get(key) is document \
                    and document.version == version and state.version is None:
                self.from_cache += 1
                self.publish(state, version, cached)
        while self.documents.get(key) is state and key in self.texts:
            document = self.texts[key]
            version, text = document.version, document.text
            state.rerun = False
            others = self.open_modules(besides=state)
            try:
                if state.template:
                    outcome = await loop.run_in_executor(self.worker, self.analyse_template, state.folder,
                                                         state.path, text, self.encoding, others, state.uri)
                else:
                    outcome = await loop.run_in_executor(self.worker, self.analyse, state.folder, state.path,
                                                         text, self.encoding, others, state.uri)
            except Exception as exc:  # noqa: BLE001 - an analysis bug must not take the server down
                log.exception("analysis failed")
                self.log(f"analysis of {state.uri} failed: {type(exc).__name__}: {exc}", lsp.MessageType.Error)
                state.analysed = version
                return
            quiet = QUIET_SECONDS - (loop.time() - state.changed_at)
            if quiet > 0 and not state.wanted.is_set():
                await asyncio.sleep(quiet)
            current = self.texts.get(key)
            if self.documents.get(key) is not state or current is None:
                return  # closed meanwhile
            if current.version != version or state.rerun:
                # A newer version (or a change of a module it imports) arrived: analyse again.
                # Show this result meanwhile when the user has waited long enough for one (its
                # version says which text it describes).
                waited = state.waiting_since is not None and loop.time() - state.waiting_since >= STALE_PUBLISH_SECONDS
                if waited and outcome.parsed and (state.version is None or version > state.version):
                    self.publish(state, version, outcome)
                continue
            text_changed = state.analysed != version
            state.analysed = version
            before = state.outcome.templates
            self.publish(state, version, outcome)
            state.wanted.clear()
            if not state.folder.project_read:
                state.folder.project_read = True
                asyncio.ensure_future(self.read_project(state.folder))
            # Only a change of this text changes what the modules importing it read: re-analysed
            # because of a change elsewhere, it has nothing new for them (and two open modules
            # importing each other would otherwise re-analyse each other forever).
            for other_key, other in list(self.documents.items()) if text_changed else []:
                if other.path in outcome.dependents:
                    self.schedule(other_key)
            if not state.template:
                self.republish_templates(state, before | outcome.templates, outcome.dependents if text_changed else [])
            return

    def open_modules(self, besides: DocumentState | None = None) -> list[str]:
        """The modules the open documents need kept: the open Python documents, and the views of the
        open templates."""
        paths: dict[str, None] = {}
        for other in self.documents.values():
            if other is besides or not other.path:
                continue
            paths.update(dict.fromkeys(other.outcome.views) if other.template else {other.path: None})
        return list(paths)

    def republish_templates(self, view: DocumentState, paths: frozenset[str], dependents: list[str]) -> None:
        """A module was analysed: the open templates it has (or had) findings in, or whose views read
        it, are analysed again (a fix in the view clears the template's diagnostics)."""
        changed = {view.path, *dependents}
        for key, other in list(self.documents.items()):
            if other.template and other.folder is view.folder and (
                    other.path in paths or changed.intersection(other.outcome.views)):
                other.generation += 1  # its text did not change, its result did: pull clients ask again
                self.schedule(key)

    def first_look(self, folder: Folder, path: str, text: str, encoding: str, uri: str | None) -> Outcome | None:
        """On the cache thread: the findings `ormlens check` left in its cache for this text, if it
        is the file on disk and nothing it read has changed (None otherwise)."""
        if folder.root is None or self.skipped(folder, path, text) is not None:
            return None
        try:
            if folder.first_looks is None:
                folder.first_looks = FirstLook(cache_directory(folder.settings, folder.root), folder.root,
                                               folder.settings)
            try:
                disk = read_source(path)
            except ParseFailure:
                return None
            findings = folder.first_looks.findings(path, text, disk)
        except Exception:  # noqa: BLE001 - a cache is an optimisation: never a failure
            log.exception("reading the cache failed")
            return None
        if findings is None:
            return None
        return Outcome(self.diagnostics(folder, findings, text, encoding, uri), findings)

    def diagnostics(self, folder: Folder, findings: list[Finding], text: str, encoding: str,
                    uri: str | None) -> list[lsp.Diagnostic]:
        lines = source_lines(text)
        one_off = bool(findings) and is_one_off(findings[0].path, folder.settings_base or Path(findings[0].path).parent,
                                                 folder.settings, source=text)
        # A finding in one-off code (one_off.py) is shown at `one-off-severity`: real, rarely worth fixing.
        severity = folder.settings.one_off_severity if one_off else None
        return [convert.to_diagnostic(f, lines, encoding, severity or folder.settings.severity_of(f.code),
                                      lambda path: self.lines_of(folder, path), uri)
                for f in findings]

    def skipped(self, folder: Folder, path: str, text: str) -> Outcome | None:
        """What a document the analysis skips gets instead (None: it is analysed): nothing when
        `exclude` names it, one diagnostic saying so when it is over `maxFileSize`."""
        settings = folder.settings
        if folder.settings_base and excluded(Path(path), folder.settings_base, settings.exclude):
            return Outcome()  # the project says: not this file
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > settings.max_file_size:
            return Outcome([convert.skipped_diagnostic(size, settings.max_file_size)])
        return None

    def analyse(self, folder: Folder, path: str, text: str, encoding: str, others: list[str],
                uri: str | None = None) -> Outcome:
        """On the worker thread: one document version through the engine, in its folder's project."""
        skipped = self.skipped(folder, path, text)
        if skipped is not None:
            return skipped
        project = folder.project
        project.set_source(path, text)
        if folder.views_of:
            templates.module_changed(folder, path)  # it may name another template now
        with deep_recursion():
            findings, error = analyze(project, path, folder.settings)
        parsed = project.decl(path) is not None
        # A view's findings in the templates it renders are those templates' diagnostics (shown when open).
        elsewhere = frozenset(f.path for f in findings if f.path != path)
        findings = [f for f in findings if f.path == path]
        diagnostics = self.diagnostics(folder, findings, text, encoding, uri)
        newer = newer_syntax_of(text) if not parsed and error and error.startswith(f"{path}: uses Python ") else None
        if newer is not None:
            # Written for a newer Python: not a half-typed line that the next keystroke fixes, so
            # the last good diagnostics are replaced by one on the construct.
            diagnostics, parsed = [convert.newer_syntax_diagnostic(text, newer, encoding)], True
            findings = []
        dependents = project.dependents(path, others)
        # Keep what the open files need (their import closure); collect the cycles this analysis left.
        project.release(project.closure([path, *others]))
        self.trim_memory()
        return Outcome(diagnostics, findings, parsed, error, dependents, newer is not None, templates=elsewhere)

    def analyse_template(self, folder: Folder, path: str, text: str, encoding: str, others: list[str],
                         uri: str | None = None) -> Outcome:
        """On the worker thread: a template document through the views that render it (templates.py)."""
        skipped = self.skipped(folder, path, text)
        if skipped is not None:
            return skipped
        if uri_to_path(uri or "") is None:
            return Outcome()  # no file: no view names it
        open_modules = [other for other in others if other.endswith(".py")]
        result = templates.analyse_template(folder, path, text, open_modules)
        error = "; ".join(result.errors) or None
        project = folder.project
        project.release(project.closure([*result.views, *others]))
        self.trim_memory()
        return Outcome(self.diagnostics(folder, result.findings, text, encoding, uri), result.findings,
                       error=error, views=result.views)

    def trim_memory(self) -> None:
        now = time.monotonic()
        if MALLOC_TRIM is not None and now - self.trimmed_at >= TRIM_SECONDS:
            MALLOC_TRIM(0)
            self.trimmed_at = now

    def resolves_edits(self) -> bool:
        """Does the client fill in a code action's edit later, through codeAction/resolve?"""
        action = self.client_capabilities.text_document and self.client_capabilities.text_document.code_action
        support = action and action.resolve_support
        return bool(support and "edit" in (support.properties or []))

    def build_fixes(self, folder: Folder, text: str, findings: list[Finding]) -> list:
        """On the worker thread: the fix each finding offers (None where none)."""
        source = SourceText(text)
        return [fix_for(finding, source, folder.settings) for finding in findings]

    def fix_all(self, folder: Folder, path: str | None, text: str) -> str | None:
        """On the worker thread: the document with every safe fix applied (as `check --fix`)."""
        if path is None or self.skipped(folder, path, text) is not None:
            return None  # what the analysis skips, fixing skips too
        folder.project.set_source(path, text)
        outcome = fix_file(folder.project, path, folder.settings)
        folder.project.set_source(path, text)  # fix_file let go of the buffer: it is still open
        return outcome.fixed

    def lines_of(self, folder: Folder, path: str) -> list[str]:
        """The lines of a module a diagnostic points into (related locations): those of the text
        the analysis parsed, split once for many keystrokes; else read now."""
        decl = folder.project.decl(path)
        if decl is not None:
            return shared_lines(decl.source)
        try:
            return source_lines(folder.project.read(path))
        except ParseFailure:
            return []

    def publish(self, state: DocumentState, version: int | None, outcome: Outcome) -> None:
        if outcome.error and not (outcome.newer and outcome.error == state.outcome.error):
            # Newer syntax is logged when it appears, not again on every keystroke (its
            # diagnostic stays); a syntax error is logged each time.
            self.log(outcome.error, lsp.MessageType.Warning)
        if not outcome.parsed:
            return  # keep the last good diagnostics
        state.version, state.outcome = version, outcome
        # Changes after `version` are still waiting: the clock restarts for them now.
        moved_on = self.text_version(state) != version
        state.waiting_since = asyncio.get_running_loop().time() if moved_on else None
        if not self.pull:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=state.uri, version=version, diagnostics=outcome.diagnostics))

    def view_text(self, path: str) -> tuple[str, int | None, str] | None:
        """A view's (URI, version, text): its open buffer's, else the file's (no version); None when
        it cannot be read."""
        for key, state in self.documents.items():
            if state.path == path and not state.template and key in self.texts:
                document = self.texts[key]
                return document.uri, document.version, document.text
        try:
            return uris.from_fs_path(path) or path, None, read_source(path)
        except ParseFailure:
            self.log(f"cannot read {path} to fix a template's finding in it", lsp.MessageType.Warning)
            return None

    def text_version(self, state: DocumentState) -> int | None:
        document = self.texts.get(normalise_uri(state.uri))
        return document.version if document else None

    async def current(self, uri: str) -> DocumentState | None:
        """The document's state once its newest version has been analysed (for requests).
        A version that does not parse counts as analysed: its last good result is served."""
        key = normalise_uri(uri)
        state = self.documents.get(key)
        while state is not None and key in self.texts:
            idle = state.task is None or state.task.done()
            if idle and state.analysed == self.texts[key].version:
                return state
            state.wanted.set()  # no debounce while a request waits
            await self.schedule(key)
            state = self.documents.get(key)
        return None

    async def read_project(self, folder: Folder) -> None:
        """Read the folder's other modules (load_project), then analyse its open documents again
        with what they declare."""
        await asyncio.get_running_loop().run_in_executor(self.worker, self.load_project, folder)
        for key, state in list(self.documents.items()):
            if state.folder is folder and state.path and not folder.project.analysed(state.path):
                state.generation += 1  # what it read changed
                self.schedule(key)

    def load_project(self, folder: Folder) -> None:
        """On the worker thread: read the declarations of every module of the folder's project, so
        that its models, relations and helpers count for an open file that does not import them (as
        in `ormlens check`)."""
        if folder.root is None or folder not in self.folders:
            return
        base = folder.settings_base or folder.root
        settings = folder.settings
        modules, warning = project_modules(folder.root, base, settings.exclude, settings.respect_gitignore)
        if warning:
            log.warning("ormlens: %s", warning)  # on the worker thread: not a message to the client
        started = time.monotonic()
        paths = [str(module) for module in modules]
        for start in range(0, len(paths), 200):  # in steps, so that `exit` need not wait for all
            if self.stopping:
                return
            folder.project.load_more(paths[start:start + 200])
        log.info("read the declarations of %d modules in %.1f s", len(modules), time.monotonic() - started)

    def reload_project(self, folder: Folder | None = None) -> None:
        """Files were created or deleted, or the settings changed: everything is read again (of
        one folder, or of all)."""
        for each in [folder] if folder is not None else self.folders:
            each.modules = None  # (which modules may render a template: listed again when asked)
            each.views_of.clear()
            self.worker.submit(each.project.refresh, None)
            if each.project_read:
                self.worker.submit(self.load_project, each)

    def reanalyse_open_documents(self) -> None:
        for key, state in list(self.documents.items()):
            state.generation += 1
            self.schedule(key)
        if self.pull:
            refresh = self.client_capabilities.workspace and self.client_capabilities.workspace.diagnostics
            if refresh and refresh.refresh_support:
                self.workspace_diagnostic_refresh(None)


server = OrmlensServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: OrmlensServer, params: lsp.InitializeParams) -> None:
    roots = [uri_to_path(folder.uri) for folder in params.workspace_folders or []]
    if not any(roots):
        roots = [uri_to_path(params.root_uri) if params.root_uri else params.root_path]
    # Each workspace folder is a root, markers or not (config.ROOT_MARKERS): it is where the user
    # runs `ormlens check`, and each file's import roots come from the markers above it anyway
    # (analysis/imports.py), as in the command line. Each has its own configuration and project.
    ls.folders = [new_folder(Path(root).resolve() if root else None) for root in dict.fromkeys(roots)]
    capabilities = params.capabilities.text_document
    ls.pull = bool(capabilities and capabilities.diagnostic)
    ls.apply_settings(params.initialization_options, initialization=True)
    ls.protocol.initialized = True


@server.feature(lsp.INITIALIZED)
def initialized(ls: OrmlensServer, params: lsp.InitializedParams) -> None:
    watching = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if watching and watching.dynamic_registration:
        # Hear about .py files changed outside the editor (git checkout, another tool), and about
        # the configuration files (their settings are read again).
        ls.client_register_capability(lsp.RegistrationParams(registrations=[lsp.Registration(
            id="ormlens-watch-python", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                watchers=[lsp.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED]))]))
    roots = ", ".join(str(folder.root) for folder in ls.folders)
    # ORMLENS_ORIGIN: set by the VS Code extension's launcher (which ormlens, on which interpreter).
    origin = f" ({os.environ['ORMLENS_ORIGIN']})" if os.environ.get("ORMLENS_ORIGIN") else ""
    ls.log(f"ormlens {__version__}{origin} ready; {'roots' if len(ls.folders) > 1 else 'root'} {roots}; "
           f"positions in {ls.workspace.position_encoding}; diagnostics by {'pull' if ls.pull else 'push'}")


@server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(ls: OrmlensServer, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
    removed = {Path(root).resolve() for root in map(uri_to_path, (f.uri for f in params.event.removed)) if root}
    added = [Path(root).resolve() for root in map(uri_to_path, (f.uri for f in params.event.added)) if root]
    roots = [folder.root for folder in ls.folders if folder.root not in removed and folder.root is not None]
    ls.set_folders([*roots, *added])
    ls.log(f"workspace folders: {', '.join(str(folder.root) for folder in ls.folders)}")
    ls.reanalyse_open_documents()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: OrmlensServer, params: lsp.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    key = normalise_uri(item.uri)
    previous = ls.documents.pop(key, None)
    if previous is not None and previous.task is not None:
        previous.task.cancel()  # opened again without a close: start over with this text
    ls.texts[key] = Document(item.uri, item.text, item.version, item.language_id)
    ls.schedule(key)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: OrmlensServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    key = normalise_uri(uri)
    document = ls.texts.get(key)
    if document is None:
        ls.log(f"didChange for {uri}, which is not open: ignored", lsp.MessageType.Warning)
        return
    for change in params.content_changes:
        document.apply(change, ls.encoding)
    document.version = params.text_document.version
    state = ls.state(key)
    state.changed_at = asyncio.get_running_loop().time()
    if state.waiting_since is None:
        state.waiting_since = state.changed_at
    if state.folder.settings.run == "onType":
        ls.schedule(key)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: OrmlensServer, params: lsp.DidSaveTextDocumentParams) -> None:
    key = normalise_uri(params.text_document.uri)
    if key in ls.texts:
        ls.schedule(key)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: OrmlensServer, params: lsp.DidCloseTextDocumentParams) -> None:
    key = normalise_uri(params.text_document.uri)
    document = ls.texts.pop(key, None)
    state = ls.documents.pop(key, None)
    if state is not None and state.path:
        project = state.folder.project
        ls.worker.submit(project.set_source, state.path, None)  # back to the file on disk
        open_paths = [path for path in ls.open_modules() if ls.folder_of(path) is state.folder]
        ls.worker.submit(lambda: project.release(project.closure(open_paths)))
    if not ls.pull and document is not None:
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=document.uri, diagnostics=[]))


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: OrmlensServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    for change in params.changes:
        path = uri_to_path(change.uri)
        configured = [folder for folder in ls.folders if path and folder.configures(path)]
        if configured:  # a configuration file: its folders' settings are read again
            for folder in configured:
                for warning in ls.apply_to(folder):
                    ls.warn(warning)
                ls.reload_project(folder)
                ls.log(f"settings of {folder.root} read again ({Path(path).name} changed)")
        elif not path or change.type == lsp.FileChangeType.Changed and not path.endswith(".py"):
            continue  # (a project's own pyproject.toml deeper down: only its creation moves import roots)
        elif change.type == lsp.FileChangeType.Changed:
            folder = ls.folder_of(path)
            ls.worker.submit(folder.project.refresh, path)
            ls.worker.submit(templates.module_changed, folder, path)
        else:  # created or deleted: what imports resolve to may change anywhere
            ls.reload_project(ls.folder_of(path))
    ls.reanalyse_open_documents()


@server.feature(lsp.EXIT)
def exit_server(ls: OrmlensServer, *args) -> None:
    # The worker threads are joined when the process ends: drop what is queued, stop a long read.
    ls.stopping = True
    ls.worker.shutdown(wait=False, cancel_futures=True)
    ls.reader.shutdown(wait=False, cancel_futures=True)
    # Ending normally, the interpreter would then collect and free a large project's index object
    # by object (seconds on 850k lines, past a client's patience): end the process once pygls has
    # closed the stream and the worker has finished what it was doing, with pygls's exit status.
    atexit.register(_end_now, 0 if getattr(ls.protocol, "_shutdown", False) else 1)


def _end_now(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


@server.command("ormlens.stats")
async def stats(ls: OrmlensServer, *args) -> dict:
    """What the project index holds, the server's RSS, and how many unreachable objects a full
    collection finds (the memory a long session keeps; for tests, benchmarks and bug reports)."""
    def measure() -> dict:
        garbage = gc.collect()
        return {**ls.folders[0].project.stats(), "garbage": garbage, "rss_kb": _rss_kb(), "open": len(ls.texts),
                "pending_futures": ls.protocol.pending(), "from_cache": ls.from_cache}

    return await asyncio.get_running_loop().run_in_executor(ls.worker, measure)


def _rss_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return None  # not Linux


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: OrmlensServer, params: lsp.DidChangeConfigurationParams) -> None:
    ls.apply_settings(params.settings)
    ls.reload_project()
    ls.reanalyse_open_documents()


@server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC,
                lsp.DiagnosticOptions(identifier="ormlens", inter_file_dependencies=True,
                                      workspace_diagnostics=True))
async def document_diagnostic(ls: OrmlensServer, params: lsp.DocumentDiagnosticParams):
    state = await ls.current(params.text_document.uri)
    if state is None:
        ls.log(f"diagnostics asked for {params.text_document.uri}, which is not open", lsp.MessageType.Warning)
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == state.result_id:
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=state.result_id)
    return lsp.RelatedFullDocumentDiagnosticReport(items=state.outcome.diagnostics, result_id=state.result_id)


@server.feature(lsp.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostic(ls: OrmlensServer, params: lsp.WorkspaceDiagnosticParams):
    previous = {item.uri: item.value for item in params.previous_result_ids or []}
    items = []
    for document in list(ls.texts.values()):
        uri = document.uri
        state = await ls.current(uri)
        if state is None:
            continue
        if previous.get(uri) == state.result_id:
            items.append(lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                uri=uri, version=state.version, result_id=state.result_id))
        else:
            items.append(lsp.WorkspaceFullDocumentDiagnosticReport(
                uri=uri, version=state.version, items=state.outcome.diagnostics, result_id=state.result_id))
    return lsp.WorkspaceDiagnosticReport(items=items)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: OrmlensServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """The rule's documentation over a finding, or over a code in `# noqa: ORM001`."""
    key = normalise_uri(params.text_document.uri)
    document, state = ls.texts.get(key), ls.documents.get(key)
    if document is None or state is None:
        return None
    position = params.position
    for diagnostic in state.outcome.diagnostics:
        start, end = diagnostic.range.start, diagnostic.range.end
        if (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character) \
                and isinstance(diagnostic.code, str):
            return convert.rule_hover(diagnostic.code)
    if not 0 <= position.line < len(document.line_starts):
        return None
    line = document.line(position.line)
    column = document.offset(position, ls.encoding) - document.line_starts[position.line]
    for comment in NOQA_CODE.finditer(line):
        for code in CODE.finditer(comment.group(0)):
            if comment.start() + code.start() <= column <= comment.start() + code.end():
                return convert.rule_hover(code.group(0).upper())
    return None


FIX_ALL = "source.fixAll.ormlens"


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
    code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True))
async def code_action(ls: OrmlensServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    state = await ls.current(params.text_document.uri)
    if state is None:
        return None
    document = ls.text(params.text_document.uri)
    if document is None:
        return None
    # The text and version the actions are built for: the document may change while they are.
    source, version, uri = document.text, document.version, document.uri
    if state.version != version:
        return []  # this version does not parse: its findings are an older version's
    if state.template:
        return await template_code_actions(ls, state, document, params)
    wanted = params.context.only
    encoding = ls.encoding
    lazy = ls.resolves_edits()
    loop = asyncio.get_running_loop()
    actions: list[lsp.CodeAction] = []
    if wanted is None or any(kind in (lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.QuickFix.value)
                             for kind in wanted):
        touched = [(index, finding, diagnostic) for index, (finding, diagnostic)
                   in enumerate(zip(state.outcome.findings, state.outcome.diagnostics))
                   if _overlaps(diagnostic.range, params.range)]
        fixes = await loop.run_in_executor(ls.worker, ls.build_fixes, state.folder, source,
                                           [f for _, f, _ in touched])
        lines = source_lines(source)
        for (index, finding, diagnostic), fix in zip(touched, fixes):
            if fix is not None:
                action = lsp.CodeAction(title=fix.display_title, kind=lsp.CodeActionKind.QuickFix,
                                        diagnostics=[diagnostic], is_preferred=fix.safe,
                                        data={"uri": uri, "version": version, "generation": state.generation,
                                              "fix": index})
                if not lazy:
                    action.edit = versioned_edit(uri, version, convert.text_edits(source, fix.edits, encoding))
                actions.append(action)
            actions.append(lsp.CodeAction(
                title=f"Disable {finding.code} for this line", kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=versioned_edit(uri, version, [noqa_edit(lines, finding.span.line, finding.code, encoding)])))
    if wanted is not None and any(kind in (FIX_ALL, lsp.CodeActionKind.SourceFixAll, lsp.CodeActionKind.Source)
                                  for kind in wanted):
        fixed = await loop.run_in_executor(ls.worker, ls.fix_all, state.folder, state.path, source)
        if fixed is not None and fixed != source:
            end = Document("", source).position(len(source), encoding)
            actions.append(lsp.CodeAction(title="ormlens: fix all (safe fixes)", kind=FIX_ALL, edit=versioned_edit(
                uri, version, [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                                            new_text=fixed)])))
    if ls.text(uri) is not document or document.version != version:
        return []  # changed while the actions were built: the client asks again
    return actions


async def template_code_actions(ls: OrmlensServer, state: DocumentState, document: Document,
                                params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """A template's quick fixes edit the view that renders it (built against the view's text the
    analysis read: a view changed since offers none until the template is analysed again); a
    `{# noqa: CODE #}` comment at the line's end silences one. No fix-all: a template is not fixed."""
    wanted = params.context.only
    if wanted is not None and not any(kind in (lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.QuickFix.value)
                                      for kind in wanted):
        return []
    source, version, uri, encoding = document.text, document.version, document.uri, ls.encoding
    touched = [(finding, diagnostic) for finding, diagnostic in zip(state.outcome.findings, state.outcome.diagnostics)
               if _overlaps(diagnostic.range, params.range)]
    analysed = state.outcome.views
    views = {view: ls.view_text(view) for view in {f.fix_path for f, _ in touched if f.fix_path in analysed}}
    current = {view: found for view, found in views.items() if found is not None and found[2] == analysed[view]}
    fixes = await asyncio.get_running_loop().run_in_executor(ls.worker, lambda: [
        templates.view_fix(state.folder, finding, analysed[finding.fix_path]) if finding.fix_path in current else None
        for finding, _ in touched])
    lines = source_lines(source)
    actions: list[lsp.CodeAction] = []
    for (finding, diagnostic), fix in zip(touched, fixes):
        if fix is not None:
            view_uri, view_version, view_source = current[finding.fix_path]
            actions.append(lsp.CodeAction(
                title=fix.display_title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                is_preferred=fix.safe,
                edit=versioned_edit(view_uri, view_version, convert.text_edits(view_source, fix.edits, encoding))))
        actions.append(lsp.CodeAction(
            title=f"Disable {finding.code} for this line", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            edit=versioned_edit(uri, version, [noqa_edit(lines, finding.span.line, finding.code, encoding,
                                                         template_noqa([finding.code]))])))
    if ls.text(uri) is not document or document.version != version:
        return []  # changed while the actions were built: the client asks again
    return actions


def versioned_edit(uri: str, version: int | None, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    """Edits for one version of a document: a client that supports `documentChanges` rejects them
    if the text has moved on; others get plain `changes`."""
    workspace = server.client_capabilities.workspace
    if workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes:
        return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits)])
    return lsp.WorkspaceEdit(changes={uri: edits})


@server.feature(lsp.CODE_ACTION_RESOLVE)
async def resolve_code_action(ls: OrmlensServer, action: lsp.CodeAction) -> lsp.CodeAction:
    """Build the edit of a quick fix offered without one."""
    data = action.data if isinstance(action.data, dict) else {}
    key = normalise_uri(str(data.get("uri", "")))
    document, state = ls.texts.get(key), ls.documents.get(key)
    version = data.get("version")

    def current() -> bool:
        return document is not None and state is not None and document.version == version == state.version \
            and state.generation == data.get("generation")

    if not current() or action.edit is not None:
        return action  # stale (the document or the settings changed): the client asks again
    source, findings, index = document.text, state.outcome.findings, data.get("fix")
    if not isinstance(index, int) or not 0 <= index < len(findings):
        return action
    [fix] = await asyncio.get_running_loop().run_in_executor(ls.worker, ls.build_fixes, state.folder, source,
                                                             [findings[index]])
    if fix is not None and current():
        encoding = ls.encoding
        action.edit = versioned_edit(document.uri, version, convert.text_edits(source, fix.edits, encoding))
    return action


def noqa_edit(lines: list[str], line: int, code: str, encoding: str, comment: str | None = None) -> lsp.TextEdit:
    """Append `# noqa: CODE` (or `comment`) to a line, or add the code to the `# noqa: ...` already there."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    match = NOQA_CODE.search(text)
    if match:
        end = match.end() - (len(match.group(0)) - len(match.group(0).rstrip()))
        position = units(text[:end], encoding)
        return lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=line - 1, character=position),
                                            end=lsp.Position(line=line - 1, character=position)),
                            new_text=f", {code}")
    position = units(text, encoding)
    return lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=line - 1, character=position),
                                        end=lsp.Position(line=line - 1, character=position)),
                        new_text=comment or f"  # noqa: {code}")


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and \
        (b.start.line, b.start.character) <= (a.end.line, a.end.character)


def start(tcp: str | None = None) -> None:
    """Serve on stdio, or on HOST:PORT for debugging."""
    logging.basicConfig(level=logging.WARNING)
    # The index keeps every module's tree alive: collect cycles less often (as the CLI does).
    gc.set_threshold(100_000, 50, 100)
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
