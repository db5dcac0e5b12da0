"""The language server, driven as an editor drives it (pytest-lsp starts the real process)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from helpers import locate
from ormlens.fixes.plans import BatchQueryPlan, from_json

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVER = [sys.executable, "-m", "ormlens", "server"]
WAIT = 10


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


async def start(client: LanguageClient, root: Path, *, encodings=None, pull=False,
                options=None) -> lsp.InitializeResult:
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.general = lsp.GeneralClientCapabilities(position_encodings=encodings)
    if pull:
        capabilities.text_document.diagnostic = lsp.DiagnosticClientCapabilities(related_document_support=True)
    else:
        capabilities.text_document.diagnostic = None
    return await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities, root_uri=uris.from_fs_path(str(root)), initialization_options=options))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    # Keep every publish, in order (the client itself keeps only the latest per document).
    lsp_client.published_log = []
    features = lsp_client.protocol.fm.features
    record = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recording(*args):  # (params), or (client, params): however pygls registered it
        lsp_client.published_log.append(args[-1])
        return record(*args)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording
    yield lsp_client
    await lsp_client.shutdown_session()


def open_file(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = uris.from_fs_path(str(path))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=version, text=path.read_text() if text is None else text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str, start=None, end=None) -> None:
    """Send an edit: the whole text, or an incremental replacement of `start`-`end` (line, char)."""
    if start is None:
        event = lsp.TextDocumentContentChangeWholeDocument(text=text)
    else:
        event = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(*start), end=lsp.Position(*(end or start))), text=text)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[event]))


def mark(client: LanguageClient) -> int:
    return len(client.published_log)


async def published(client: LanguageClient, uri: str, version: int | None = None, after: int = 0,
                    timeout: float = WAIT, where=None) -> list[lsp.Diagnostic]:
    """Wait for a publish of `uri` (at `version`, when given; the `after`-th publish or later;
    whose diagnostics satisfy `where`, when given) and return its diagnostics."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for params in client.published_log[after:]:
            if params.uri == uri and (version is None or params.version == version) and (
                    where is None or where(list(params.diagnostics))):
                return list(params.diagnostics)
        if asyncio.get_running_loop().time() > deadline:
            raise asyncio.TimeoutError(f"no publish of {uri} version {version}")
        await asyncio.sleep(0.01)


def summary(diagnostics: list[lsp.Diagnostic]) -> list[tuple]:
    return sorted((d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
                  for d in diagnostics)


def expected(path: Path, code: str, snippet: str) -> tuple:
    """The LSP range (0-based, UTF-16) of an ASCII-only line's snippet."""
    line, col, end_line, end_col = locate(path, snippet)
    return (code, line - 1, col, end_line - 1, end_col)


SEED = [
    ("ORM001", "Session.query.filter_by(user_id=uid).all()"),
    ("ORM001", "Payment.query.filter_by(user_id=uid).all()"),
    ("ORM005", "sum(p.amount for p in payments)"),
]


async def test_seed_diagnostics_on_open(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    original = workspace / "original.py"
    uri = open_file(client, original)
    diagnostics = await published(client, uri, 1)
    assert summary(diagnostics) == sorted(expected(original, code, snippet) for code, snippet in SEED)
    first = next(d for d in diagnostics if d.code == "ORM001")
    assert first.source == "ormlens" and first.severity == lsp.DiagnosticSeverity.Warning
    assert first.code_description.href.endswith("docs/rules/ORM001.md")
    assert "once per item of `user_ids`" in first.message
    loop = first.related_information[0]
    assert loop.location.uri == uri and loop.location.range.start.line == 5  # `for uid in user_ids:`
    assert first.data["code"] == "ORM001"
    # The fix plan travels in the diagnostic's data in its JSON form, and reads back as a plan.
    plan = from_json(first.data["fix"])
    assert isinstance(plan, BatchQueryPlan) and plan.target == "uid" and len(plan.queries) == 2


async def test_typed_edit_introduces_then_removes_an_n_plus_one(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    path = workspace / "views.py"
    text = "from models import User\n\n\ndef emails(ids):\n    return [i for i in ids]\n"
    path.write_text(text)
    uri = open_file(client, path)
    assert await published(client, uri, 1) == []
    # Type `User.query.get(i)` over the element `i` of the comprehension (line 4, columns 12-13).
    change(client, uri, 2, "User.query.get(i)", (4, 12), (4, 13))
    diagnostics = await published(client, uri, 2)
    assert summary(diagnostics) == [("ORM001", 4, 12, 4, 29)]
    change(client, uri, 3, "i", (4, 12), (4, 29))
    assert await published(client, uri, 3) == []


async def test_a_burst_of_changes_publishes_once_for_the_final_version(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    original = workspace / "original.py"
    uri = open_file(client, original)
    await published(client, uri, 1)
    before = mark(client)
    end = len(original.read_text().splitlines()[0])
    for version in range(2, 52):  # 50 one-character edits at the end of line 1: ` # # # ...`
        column = end + version - 2
        change(client, uri, version, " " if version % 2 == 0 else "#", (0, column), (0, column))
    await published(client, uri, 51, after=before)
    await asyncio.sleep(0.5)  # anything late would show up here
    assert [params.version for params in client.published_log[before:]] == [51]
    assert summary(client.diagnostics[uri]) == sorted(expected(original, c, s) for c, s in SEED)


async def test_changing_the_models_refreshes_a_file_that_imports_them(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    original_uri = open_file(client, workspace / "original.py")
    assert [d.code for d in await published(client, original_uri, 1)].count("ORM005") == 1
    models = workspace / "models.py"
    models_uri = open_file(client, models)
    await published(client, models_uri, 1)
    text = models.read_text().replace("db.Numeric(10, 2))", "db.Numeric(10, 2), nullable=False)")
    before = mark(client)
    change(client, models_uri, 2, text)
    without_orm005 = lambda diagnostics: "ORM005" not in [d.code for d in diagnostics]  # noqa: E731
    # The unsaved buffer of models.py wins over the file: Payment.amount is now NOT NULL.
    codes = [d.code for d in await published(client, original_uri, after=before, where=without_orm005)]
    assert sorted(codes) == ["ORM001", "ORM001"]


async def test_changed_file_on_disk_refreshes_open_files(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    await published(client, uri, 1)
    models = workspace / "models.py"
    models.write_text(models.read_text().replace("db.Numeric(10, 2))", "db.Numeric(10, 2), nullable=False)"))
    before = mark(client)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=uris.from_fs_path(str(models)), type=lsp.FileChangeType.Changed)]))
    without_orm005 = lambda diagnostics: "ORM005" not in [d.code for d in diagnostics]  # noqa: E731
    codes = [d.code for d in await published(client, uri, after=before, where=without_orm005)]
    assert sorted(codes) == ["ORM001", "ORM001"]


LINE = 'label = "é中😀"; rows = [User.query.get(i) for i in ids]'


@pytest.mark.parametrize("encoding, start", [
    # Before `User`: `label = "` (9), é (1 char, 2 bytes, 1 UTF-16 unit), 中 (1/3/1), 😀 (1/4/2), `"; rows = [` (11).
    (lsp.PositionEncodingKind.Utf16, 9 + 1 + 1 + 2 + 11),
    (lsp.PositionEncodingKind.Utf8, 9 + 2 + 3 + 4 + 11),
    (lsp.PositionEncodingKind.Utf32, 9 + 1 + 1 + 1 + 11),
])
async def test_positions_in_the_negotiated_encoding(client: LanguageClient, workspace: Path, encoding, start):
    await start_with(client, workspace, encoding)
    path = workspace / "emoji.py"
    path.write_text(f"from models import User\n\n\ndef f(ids):\n    {LINE}\n", encoding="utf-8")
    uri = open_file(client, path)
    [diagnostic] = await published(client, uri, 1)
    length = len("User.query.get(i)")
    assert (diagnostic.range.start.line, diagnostic.range.start.character, diagnostic.range.end.character) == (
        4, 4 + start, 4 + start + length)


async def start_with(client: LanguageClient, root: Path, encoding) -> None:
    result = await start(client, root, encodings=[encoding])
    assert result.capabilities.position_encoding == encoding


async def test_pull_diagnostics_with_result_ids(client: LanguageClient, workspace: Path):
    await start(client, workspace, pull=True)
    original = workspace / "original.py"
    uri = open_file(client, original)
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert report.kind == "full" and report.result_id
    assert summary(report.items) == sorted(expected(original, c, s) for c, s in SEED)
    again = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert again.kind == "unchanged" and again.result_id == report.result_id
    change(client, uri, 2, "", (10, 0), (11, 0))  # delete the `total_revenue` line
    after = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert after.kind == "full" and sorted(d.code for d in after.items) == ["ORM001", "ORM001"]
    everything = await client.workspace_diagnostic_async(lsp.WorkspaceDiagnosticParams(previous_result_ids=[]))
    assert [(item.uri, item.kind, len(item.items)) for item in everything.items] == [(uri, "full", 2)]
    assert uri not in client.diagnostics  # pull clients are not also pushed to


async def test_hover_shows_the_rule_documentation(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    path = workspace / "original.py"
    text = path.read_text().replace(".all()\n        payments", ".all()  # noqa: ORM001\n        payments", 1)
    uri = open_file(client, path, text)
    diagnostics = await published(client, uri, 1)
    payment_query = next(d for d in diagnostics if d.code == "ORM001")
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=payment_query.range.start))
    from ormlens.rules import REGISTRY

    assert hover.contents.value == REGISTRY["ORM001"].documentation()
    noqa_line = text.splitlines()[6]
    on_code = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=6, character=noqa_line.index("ORM001") + 2)))
    assert on_code.contents.value.startswith("# ORM001 n-plus-one-query")
    nothing = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=0)))
    assert nothing is None


async def test_settings_severity_and_a_bad_setting(client: LanguageClient, workspace: Path):
    await start(client, workspace, options={"ormlens": {"severity": {"ORM005": "error"}, "bogus": 1,
                                                        "chunkSize": "many"}})
    await asyncio.sleep(0.1)
    warnings = [m.message for m in client.messages if m.type == lsp.MessageType.Warning]
    assert any("unknown setting 'bogus'" in m for m in warnings)
    assert any("setting 'chunkSize' ignored" in m for m in warnings)
    uri = open_file(client, workspace / "original.py")
    severities = {d.code: d.severity for d in await published(client, uri, 1)}
    assert severities == {"ORM001": lsp.DiagnosticSeverity.Warning, "ORM005": lsp.DiagnosticSeverity.Error}
    before = mark(client)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"ormlens": {"ignore": ["ORM001"]}}))
    only_orm005 = lambda diagnostics: [d.code for d in diagnostics] == ["ORM005"]  # noqa: E731
    assert [d.code for d in await published(client, uri, after=before, where=only_orm005)] == ["ORM005"]


async def test_on_save_mode_waits_for_the_save(client: LanguageClient, workspace: Path):
    await start(client, workspace, options={"run": "onSave"})
    path = workspace / "original.py"
    uri = open_file(client, path)
    assert len(await published(client, uri, 1)) == 3
    change(client, uri, 2, "", (10, 0), (11, 0))
    with pytest.raises(asyncio.TimeoutError):
        await published(client, uri, 2, timeout=0.5)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert sorted(d.code for d in await published(client, uri, 2)) == ["ORM001", "ORM001"]


async def still_answers(client: LanguageClient, uri: str) -> None:
    hover = await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=0))), WAIT)
    assert hover is None


async def test_syntax_error_keeps_the_last_good_diagnostics(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    original = workspace / "original.py"
    uri = open_file(client, original)
    good = await published(client, uri, 1)
    change(client, uri, 2, "    for uid in user_ids\n", (5, 0), (6, 0))  # drop the colon: half-typed
    with pytest.raises(asyncio.TimeoutError):
        await published(client, uri, 2, timeout=1)
    assert list(client.diagnostics[uri]) == good
    assert any("syntax error" in m.message for m in client.log_messages)
    await still_answers(client, uri)
    change(client, uri, 3, "    for uid in user_ids:\n", (5, 0), (6, 0))
    assert summary(await published(client, uri, 3)) == summary(good)


async def test_a_file_over_the_size_limit_gets_one_information_diagnostic(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    path = workspace / "huge.py"
    text = "x = 1\n" * 900_000  # 5.4 MB
    path.write_text(text)
    uri = open_file(client, path, text)
    [diagnostic] = await published(client, uri, 1)
    assert diagnostic.severity == lsp.DiagnosticSeverity.Information
    assert "over the 2 MB limit" in diagnostic.message and "not analysed" in diagnostic.message
    await still_answers(client, uri)


async def test_bad_inputs_leave_the_server_answering(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    await published(client, uri, 1)
    # Bad UTF-8 on disk, in a module the open file imports.
    (workspace / "models.py").write_bytes(b"x = '\xff\xfe'\n")
    before = mark(client)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=uris.from_fs_path(str(workspace / "models.py")), type=lsp.FileChangeType.Changed)]))
    # The models are unreadable now: nothing is known to be a query any more.
    assert await published(client, uri, after=before, where=lambda diagnostics: not diagnostics) == []
    # A change whose range lies outside the document.
    change(client, uri, 2, "x", (500, 3), (501, 0))
    # A change for a document that was never opened.
    change(client, uris.from_fs_path(str(workspace / "never_opened.py")), 1, "x = 1")
    # Requests about unknown documents.
    unknown = uris.from_fs_path(str(workspace / "nowhere.py"))
    assert await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=unknown), position=lsp.Position(line=3, character=4))) is None
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=unknown)))
    assert report.kind == "full" and list(report.items) == []
    # A position past the end of a line and of the document.
    assert await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=9999, character=9999))) is None
    await still_answers(client, uri)
    assert not [m for m in client.messages if m.type == lsp.MessageType.Error]  # nothing shown as an error


def test_tcp_mode_answers_on_the_given_port(tmp_path: Path):
    import json
    import socket
    import subprocess
    import time

    with socket.socket() as probe:  # a free port on the loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([*SERVER, "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("the server did not listen")
        with connection:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "rootUri": uris.from_fs_path(str(tmp_path)), "capabilities": {}}}).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            data = b""
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
                    data.split(b"Content-Length: ")[1].split(b"\r\n")[0]):
                data += connection.recv(65536)
            answer = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "ormlens"
        assert answer["result"]["capabilities"]["positionEncoding"] == "utf-16"
    finally:
        process.terminate()
        process.wait(5)


async def test_close_clears_and_related_information_points_into_other_files(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    (tmp_path / "models.py").write_text((EXAMPLES / "models.py").read_text())
    services = tmp_path / "services.py"
    services.write_text("from models import Session\n\n\ndef sessions_for(uid):\n"
                        "    return Session.query.filter_by(user_id=uid).all()\n")
    views = tmp_path / "views.py"
    views.write_text("from services import sessions_for\n\n\ndef page(user_ids):\n"
                     "    return [sessions_for(uid) for uid in user_ids]\n")
    uri = open_file(client, views)
    [diagnostic] = await published(client, uri, 1)
    assert diagnostic.code == "ORM001" and "sessions_for" in diagnostic.message
    query = next(r for r in diagnostic.related_information if r.location.uri != uri)
    assert query.location.uri == uris.from_fs_path(str(services.resolve()))
    assert (query.location.range.start.line, query.location.range.start.character) == (4, 11)
    before = mark(client)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert await published(client, uri, after=before) == []


def edits_of(edit: lsp.WorkspaceEdit, uri: str) -> list[lsp.TextEdit]:
    """The text edits a workspace edit makes to `uri` (plain `changes` or versioned `documentChanges`)."""
    if edit.changes:
        return list(edit.changes[uri])
    return [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]


def apply_text_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions; these files are ASCII) the way an editor does."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    offset = lambda p: starts[p.line] + p.character  # noqa: E731
    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def actions_at(client: LanguageClient, uri: str, diagnostic: lsp.Diagnostic, only=None):
    return await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=lsp.CodeActionContext(diagnostics=[diagnostic], only=only)))


async def test_quick_fix_and_noqa_actions(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    path = workspace / "original.py"
    text = path.read_text()
    uri = open_file(client, path, text)
    total = next(d for d in await published(client, uri, 1) if d.code == "ORM005")
    actions = await actions_at(client, uri, total)
    assert [a.title for a in actions] == ["Count NULL as 0: `(p.amount or 0)`", "Disable ORM005 for this line"]
    fix, noqa = actions
    assert fix.is_preferred and fix.kind == lsp.CodeActionKind.QuickFix
    if fix.edit is None:  # this client resolves edits lazily
        fix = await client.code_action_resolve_async(fix)
    fixed = apply_text_edits(text, edits_of(fix.edit, uri))
    assert '"total_revenue": sum((p.amount or 0) for p in payments),' in fixed
    change(client, uri, 2, fixed)
    assert sorted(d.code for d in await published(client, uri, 2)) == ["ORM001", "ORM001"]
    silenced = apply_text_edits(text, edits_of(noqa.edit, uri))
    assert '"total_revenue": sum(p.amount for p in payments),  # noqa: ORM005' in silenced
    change(client, uri, 3, silenced)
    assert sorted(d.code for d in await published(client, uri, 3)) == ["ORM001", "ORM001"]


async def test_fix_all_and_lazily_resolved_edits(client: LanguageClient, workspace: Path):
    capabilities = client_capabilities("visual_studio_code")
    capabilities.text_document.diagnostic = None
    capabilities.workspace.did_change_watched_files = None  # pytest-lsp cannot answer registerCapability
    capabilities.text_document.code_action.resolve_support = lsp.ClientCodeActionResolveOptions(properties=["edit"])
    await client.initialize_session(lsp.InitializeParams(capabilities=capabilities,
                                                         root_uri=uris.from_fs_path(str(workspace))))
    path = workspace / "original.py"
    text = path.read_text()
    uri = open_file(client, path, text)
    total = next(d for d in await published(client, uri, 1) if d.code == "ORM005")
    [fix, _] = await actions_at(client, uri, total)
    assert fix.edit is None and fix.data  # the edit comes on resolve
    resolved = await client.code_action_resolve_async(fix)
    assert "(p.amount or 0)" in apply_text_edits(text, edits_of(resolved.edit, uri))
    [fix_all] = await actions_at(client, uri, total, only=["source.fixAll.ormlens"])
    assert fix_all.kind == "source.fixAll.ormlens"
    assert "(p.amount or 0)" in apply_text_edits(text, edits_of(fix_all.edit, uri))


async def test_no_actions_for_a_version_that_does_not_parse(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    [first, *_] = await published(client, uri, 1)
    change(client, uri, 2, "x = (\n\n", (0, 0), (0, 0))  # the old findings no longer match the text
    await asyncio.sleep(0.3)
    assert list(await actions_at(client, uri, first) or []) == []


async def test_quick_fix_edits_in_a_crlf_file(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    path = workspace / "original.py"
    text = path.read_text().replace("\n", "\r\n")
    path.write_bytes(text.encode())
    uri = open_file(client, path, text)
    total = next(d for d in await published(client, uri, 1) if d.code == "ORM005")
    [fix, _] = await actions_at(client, uri, total)
    if fix.edit is None:
        fix = await client.code_action_resolve_async(fix)
    assert apply_text_edits(text, edits_of(fix.edit, uri)) == text.replace(
        "sum(p.amount for p", "sum((p.amount or 0) for p")


@pytest.mark.parametrize("encoding", [lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf32])
async def test_noqa_edit_in_the_negotiated_encoding(client: LanguageClient, workspace: Path, encoding):
    await start(client, workspace, encodings=[encoding])
    path = workspace / "emoji.py"
    line = '    rows = [(User.query.get(i), "héllo😀") for i in ids]'
    text = f"from models import User\n\n\ndef f(ids):\n{line}\n"
    path.write_text(text, encoding="utf-8")
    uri = open_file(client, path, text)
    [diagnostic] = await published(client, uri, 1)
    [*_, noqa] = await actions_at(client, uri, diagnostic)
    [edit] = edits_of(noqa.edit, uri)
    units = len(line.encode("utf-8")) if encoding == lsp.PositionEncodingKind.Utf8 else len(line)
    assert (edit.range.start.line, edit.range.start.character, edit.new_text) == (4, units, "  # noqa: ORM001")


DJANGO_MODELS = '''\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Book(models.Model):
    title = models.CharField(max_length=80)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
'''

DJANGO_VIEWS = '''\
from shop.models import Author, Book


def titles():
    out = []
    for book in Book.objects.filter(title__startswith="A"):
        out.append((book.title, book.author.name))
    return out


def counts(author_ids: list[int]):
    return {aid: Book.objects.filter(author_id=aid).count() for aid in author_ids}
'''


async def test_django_findings_and_quick_fix_through_the_server(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(DJANGO_MODELS)
    path = tmp_path / "shop" / "views.py"
    path.write_text(DJANGO_VIEWS)
    await start(client, tmp_path)
    uri = open_file(client, path)
    diagnostics = await published(client, uri, 1)
    assert summary(diagnostics) == sorted([
        expected(path, "ORM002", "book.author"),
        expected(path, "ORM001", "Book.objects.filter(author_id=aid).count()"),
    ])
    lazy = next(d for d in diagnostics if d.code == "ORM002")
    assert '`.select_related("author")`' in lazy.message
    fix, _noqa = await actions_at(client, uri, lazy)
    assert fix.title == "Load Book.author with select_related" and fix.is_preferred
    if fix.edit is None:  # this client resolves edits lazily
        fix = await client.code_action_resolve_async(fix)
    fixed = apply_text_edits(DJANGO_VIEWS, edits_of(fix.edit, uri))
    assert 'for book in Book.objects.filter(title__startswith="A").select_related("author"):' in fixed
    change(client, uri, 2, fixed)
    assert [d.code for d in await published(client, uri, 2)] == ["ORM001"]


PEEWEE_APP = '''\
from peewee import CharField, ForeignKeyField, Model


class PsUser(Model):
    name = CharField()


class PsTweet(Model):
    user = ForeignKeyField(PsUser, backref="tweets")
    body = CharField()


def authors():
    return [t.user.name for t in PsTweet.select().where(PsTweet.body != "")]
'''


async def test_peewee_findings_and_quick_fix_through_the_server(client: LanguageClient, tmp_path: Path):
    """The third ORM's plugin through the editor: its finding, in Peewee's terms, and its quick fix."""
    (tmp_path / "pyproject.toml").write_text("")
    path = tmp_path / "app.py"
    path.write_text(PEEWEE_APP)
    await start(client, tmp_path)
    uri = open_file(client, path)
    diagnostics = await published(client, uri, 1)
    assert summary(diagnostics) == [expected(path, "ORM002", "t.user")]
    assert "`PsTweet.select(PsTweet, PsUser).join(PsUser)`" in diagnostics[0].message
    fix, _noqa = await actions_at(client, uri, diagnostics[0])
    assert fix.title == "Load PsTweet.user with a join" and fix.is_preferred
    if fix.edit is None:  # this client resolves edits lazily
        fix = await client.code_action_resolve_async(fix)
    fixed = apply_text_edits(PEEWEE_APP, edits_of(fix.edit, uri))
    assert ("for t in PsTweet.select(PsTweet, PsUser).join(PsUser, JOIN.LEFT_OUTER).switch(PsTweet)"
            '.where(PsTweet.body != "")]') in fixed
    assert "from peewee import JOIN" in fixed
    change(client, uri, 2, fixed)
    assert await published(client, uri, 2) == []
