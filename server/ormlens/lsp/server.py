"""`ormlens server`: pygls handlers. Documents in, the engine's findings out as LSP diagnostics.

All analysis runs on one worker thread (the ProjectIndex is not shared across threads). Changes to
a document that arrive while it is being analysed are coalesced: when the run ends, a newer
version is analysed instead of publishing the stale result. A syntax error keeps the document's
last good diagnostics. Nothing here raises into the editor: failures are logged."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pygls.lsp.server import LanguageServer

from ormlens import __version__
from ormlens.analysis.project import ParseFailure, ProjectIndex
from ormlens.config import Settings, load_settings, settings_from_mapping
from ormlens.discovery import excluded
from ormlens.engine import analyze, deep_recursion, fix_file
from ormlens.findings import Finding
from ormlens.fixes import fix_for
from ormlens.fixes.base import SourceText
from ormlens.lsp import convert
from ormlens.positions import source_lines

log = logging.getLogger("ormlens.lsp")
# A version is published once its document has had no change for this long: edits sent in a
# burst arrive one message at a time, and only the last of them should be published. When the
# analysis takes longer than this (large files), it adds nothing.
QUIET_SECONDS = 0.02
NOQA_CODE = re.compile(r"#\s*noqa:[^#]*", re.IGNORECASE)
CODE = re.compile(r"ORM\d{3}", re.IGNORECASE)


@dataclass
class Outcome:
    """One analysis of one document version (computed on the worker thread)."""

    diagnostics: list[lsp.Diagnostic] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = True
    error: str | None = None
    dependents: list[str] = field(default_factory=list)  # open documents importing this one


@dataclass
class DocumentState:
    uri: str
    path: str | None
    task: asyncio.Task | None = None
    # What was last published (or is served by pull): a good result, kept across syntax errors.
    version: int | None = None
    outcome: Outcome = field(default_factory=Outcome)
    analysed: int | None = None  # the last version analysed, good or not
    changed_at: float = 0.0      # event-loop time of the last change
    generation: int = 0  # bumped when settings change, so pull result ids change too

    @property
    def result_id(self) -> str:
        return f"{self.version}-{self.generation}"


class OrmlensServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ormlens", __version__)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ormlens-analysis")
        self.project = ProjectIndex(None, Settings())
        self.settings = Settings()
        self.root: Path | None = None
        self.initialization_options: dict = {}
        self.documents: dict[str, DocumentState] = {}
        self.pull = False

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
        """Settings: `[tool.ormlens]`, then the initialization options, then the `ormlens` section
        of the editor's configuration (each over the one before, key by key)."""
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
        merged = {**self.initialization_options, **({} if initialization else table)}
        loaded = load_settings(self.root) if self.root else None
        settings, problems = settings_from_mapping(merged, loaded.settings if loaded else Settings())
        self.settings = settings
        self.project.settings = settings
        for warning in [*(loaded.warnings if loaded else []), *problems]:
            self.warn(warning)

    # --- analysis -----------------------------------------------------------------------------

    def state(self, uri: str) -> DocumentState:
        if uri not in self.documents:
            path = uris.to_fs_path(uri)
            self.documents[uri] = DocumentState(uri, str(Path(path).resolve()) if path else None)
        return self.documents[uri]

    def schedule(self, uri: str) -> asyncio.Task:
        state = self.state(uri)
        if state.task is None or state.task.done():
            state.task = asyncio.ensure_future(self.analyse_until_current(state))
        return state.task

    async def analyse_until_current(self, state: DocumentState) -> None:
        # Even with no debounce this yields once, so changes already received are applied first.
        await asyncio.sleep(self.settings.debounce_ms / 1000)
        loop = asyncio.get_running_loop()
        while state.uri in self.documents:
            document = self.workspace.get_text_document(state.uri)
            version, text = document.version, document.source
            encoding = str(self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)
            others = [s.path for s in self.documents.values() if s is not state and s.path]
            try:
                outcome = await loop.run_in_executor(self.worker, self.analyse, state.path, text, encoding, others)
            except Exception as exc:  # noqa: BLE001 - an analysis bug must not take the server down
                log.exception("analysis failed")
                self.log(f"analysis of {state.uri} failed: {type(exc).__name__}: {exc}", lsp.MessageType.Error)
                state.analysed = version
                return
            quiet = QUIET_SECONDS - (loop.time() - state.changed_at)
            if quiet > 0:
                await asyncio.sleep(quiet)
            current = self.workspace.text_documents.get(state.uri)
            if state.uri not in self.documents or current is None:
                return  # closed meanwhile
            if current.version != version:
                continue  # a newer version arrived: analyse that, never publish this one
            state.analysed = version
            self.publish(state, version, outcome)
            for uri in [s.uri for s in self.documents.values() if s.path in outcome.dependents]:
                self.schedule(uri)
            return

    def analyse(self, path: str | None, text: str, encoding: str, others: list[str]) -> Outcome:
        """On the worker thread: one document version through the engine."""
        if path is None:
            return Outcome(parsed=False, error="not a file: URI")
        if self.root and excluded(Path(path), self.root, self.settings.exclude):
            return Outcome()  # the project says: not this file
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.settings.max_file_size:
            return Outcome([convert.skipped_diagnostic(size, self.settings.max_file_size)])
        self.project.set_source(path, text)
        with deep_recursion():
            findings, error = analyze(self.project, path, self.settings)
        parsed = self.project.decl(path) is not None
        lines = source_lines(text)
        diagnostics = [convert.to_diagnostic(f, lines, encoding, self.settings.severity_of(f.code),
                                             self.lines_of) for f in findings]
        return Outcome(diagnostics, findings, parsed, error, self.project.dependents(path, others))

    def resolves_edits(self) -> bool:
        """Does the client fill in a code action's edit later, through codeAction/resolve?"""
        action = self.client_capabilities.text_document and self.client_capabilities.text_document.code_action
        support = action and action.resolve_support
        return bool(support and "edit" in (support.properties or []))

    def build_fixes(self, text: str, findings: list[Finding]) -> list:
        """On the worker thread: the fix each finding offers (None where none)."""
        source = SourceText(text)
        return [fix_for(finding, source, self.settings) for finding in findings]

    def fix_all(self, path: str | None, text: str) -> str | None:
        """On the worker thread: the document with every safe fix applied (as `check --fix`)."""
        if path is None or (self.root and excluded(Path(path), self.root, self.settings.exclude)) or \
                len(text.encode("utf-8", "surrogatepass")) > self.settings.max_file_size:
            return None  # what the analysis skips, fixing skips too
        self.project.set_source(path, text)
        outcome = fix_file(self.project, path, self.settings)
        self.project.set_source(path, text)  # fix_file let go of the buffer: it is still open
        return outcome.fixed

    def lines_of(self, path: str) -> list[str]:
        try:
            return source_lines(self.project.read(path))
        except ParseFailure:
            return []

    def publish(self, state: DocumentState, version: int | None, outcome: Outcome) -> None:
        if outcome.error:
            self.log(outcome.error, lsp.MessageType.Warning)
        if not outcome.parsed:
            return  # keep the last good diagnostics
        state.version, state.outcome = version, outcome
        if not self.pull:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=state.uri, version=version, diagnostics=outcome.diagnostics))

    async def current(self, uri: str) -> DocumentState | None:
        """The document's state once its newest version has been analysed (for pull requests).
        A version that does not parse counts as analysed: its last good result is served."""
        state = self.documents.get(uri)
        while state is not None and uri in self.workspace.text_documents:
            idle = state.task is None or state.task.done()
            if idle and state.analysed == self.workspace.text_documents[uri].version:
                return state
            await self.schedule(uri)
            state = self.documents.get(uri)
        return None

    def reanalyse_open_documents(self) -> None:
        for state in list(self.documents.values()):
            state.generation += 1
            self.schedule(state.uri)
        if self.pull:
            refresh = self.client_capabilities.workspace and self.client_capabilities.workspace.diagnostics
            if refresh and refresh.refresh_support:
                self.workspace_diagnostic_refresh(None)


server = OrmlensServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: OrmlensServer, params: lsp.InitializeParams) -> None:
    root = ls.workspace.root_path
    ls.root = Path(root).resolve() if root else None
    ls.project = ProjectIndex(ls.root, Settings())
    capabilities = params.capabilities.text_document
    ls.pull = bool(capabilities and capabilities.diagnostic)
    ls.apply_settings(params.initialization_options, initialization=True)


@server.feature(lsp.INITIALIZED)
def initialized(ls: OrmlensServer, params: lsp.InitializedParams) -> None:
    watching = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if watching and watching.dynamic_registration:
        # Hear about .py files changed outside the editor (git checkout, another tool).
        ls.client_register_capability(lsp.RegistrationParams(registrations=[lsp.Registration(
            id="ormlens-watch-python", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(
                watchers=[lsp.FileSystemWatcher(glob_pattern="**/*.py")]))]))
    ls.log(f"ormlens {__version__} ready; root {ls.root}; positions in {ls.workspace.position_encoding}; "
           f"diagnostics by {'pull' if ls.pull else 'push'}")


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: OrmlensServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: OrmlensServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri not in ls.workspace.text_documents:
        ls.log(f"didChange for {uri}, which is not open: ignored", lsp.MessageType.Warning)
        return
    ls.state(uri).changed_at = asyncio.get_running_loop().time()
    if ls.settings.run == "onType":
        ls.schedule(uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: OrmlensServer, params: lsp.DidSaveTextDocumentParams) -> None:
    if params.text_document.uri in ls.workspace.text_documents:
        ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: OrmlensServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    state = ls.documents.pop(uri, None)
    if state is not None and state.path:
        ls.worker.submit(ls.project.set_source, state.path, None)  # back to the file on disk
    if not ls.pull:
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: OrmlensServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    for change in params.changes:
        path = uris.to_fs_path(change.uri)
        if change.type == lsp.FileChangeType.Changed and path:
            ls.worker.submit(ls.project.refresh, path)
        else:  # created or deleted: what imports resolve to may change anywhere
            ls.worker.submit(ls.project.refresh, None)
    ls.reanalyse_open_documents()


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: OrmlensServer, params: lsp.DidChangeConfigurationParams) -> None:
    ls.apply_settings(params.settings)
    ls.worker.submit(ls.project.refresh, None)
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
    for uri in list(ls.workspace.text_documents):
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
    document = ls.workspace.text_documents.get(params.text_document.uri)
    state = ls.documents.get(params.text_document.uri)
    if document is None or state is None:
        return None
    position = params.position
    for diagnostic in state.outcome.diagnostics:
        start, end = diagnostic.range.start, diagnostic.range.end
        if (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character) \
                and isinstance(diagnostic.code, str):
            return convert.rule_hover(diagnostic.code)
    lines = document.lines
    if not 0 <= position.line < len(lines):
        return None
    line = lines[position.line]
    column = document.position_codec.position_from_client_units(lines, position).character
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
    document = ls.workspace.text_documents[params.text_document.uri]
    # The text and version the actions are built for: the document may change while they are.
    source, version, uri = document.source, document.version, document.uri
    if state.version != version:
        return []  # this version does not parse: its findings are an older version's
    wanted = params.context.only
    encoding = str(ls.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)
    lazy = ls.resolves_edits()
    loop = asyncio.get_running_loop()
    actions: list[lsp.CodeAction] = []
    if wanted is None or any(kind in (lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.QuickFix.value)
                             for kind in wanted):
        touched = [(index, finding, diagnostic) for index, (finding, diagnostic)
                   in enumerate(zip(state.outcome.findings, state.outcome.diagnostics))
                   if _overlaps(diagnostic.range, params.range)]
        fixes = await loop.run_in_executor(ls.worker, ls.build_fixes, source, [f for _, f, _ in touched])
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
        fixed = await loop.run_in_executor(ls.worker, ls.fix_all, state.path, source)
        if fixed is not None and fixed != source:
            end = convert.offset_position(source_lines(source), convert.line_starts(source), len(source), encoding)
            actions.append(lsp.CodeAction(title="ormlens: fix all (safe fixes)", kind=FIX_ALL, edit=versioned_edit(
                uri, version, [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                                            new_text=fixed)])))
    if ls.workspace.text_documents.get(uri) is not document or document.version != version:
        return []  # changed while the actions were built: the client asks again
    return actions


def versioned_edit(uri: str, version: int, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
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
    document = ls.workspace.text_documents.get(data.get("uri", ""))
    state = ls.documents.get(data.get("uri", ""))
    version = data.get("version")

    def current() -> bool:
        return document is not None and state is not None and document.version == version == state.version \
            and state.generation == data.get("generation")

    if not current() or action.edit is not None:
        return action  # stale (the document or the settings changed): the client asks again
    source, findings, index = document.source, state.outcome.findings, data.get("fix")
    if not isinstance(index, int) or not 0 <= index < len(findings):
        return action
    [fix] = await asyncio.get_running_loop().run_in_executor(ls.worker, ls.build_fixes, source, [findings[index]])
    if fix is not None and current():
        encoding = str(ls.workspace.position_encoding or lsp.PositionEncodingKind.Utf16)
        action.edit = versioned_edit(document.uri, version, convert.text_edits(source, fix.edits, encoding))
    return action


def noqa_edit(lines: list[str], line: int, code: str, encoding: str) -> lsp.TextEdit:
    """Append `# noqa: CODE` to a line, or add the code to the `# noqa: ...` already there."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    match = NOQA_CODE.search(text)
    if match:
        end = match.end() - (len(match.group(0)) - len(match.group(0).rstrip()))
        position = convert.encoded_length(text[:end], encoding)
        return lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=line - 1, character=position),
                                            end=lsp.Position(line=line - 1, character=position)),
                            new_text=f", {code}")
    position = convert.encoded_length(text, encoding)
    return lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=line - 1, character=position),
                                        end=lsp.Position(line=line - 1, character=position)),
                        new_text=f"  # noqa: {code}")


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
