"""Regression tests, through the real server process, for the defects a black-box harness found
(issue 11): percent-encoded URIs, text sync off the specification, unanswered requests,
debounceMs delaying everything, nothing published under continuous typing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import LanguageClient

from test_lsp import (  # noqa: F401 - fixtures too
    EXAMPLES, SEED, change, client, expected, mark, open_file, published, start, summary, workspace)

ORIGINAL = (EXAMPLES / "original.py").read_text()
DEADLINE = 10  # seconds: every request is answered well within this


def seed_workspace(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, folder / path.name)
    return folder


# --- 1. percent-encoded URIs -----------------------------------------------------------------------

async def test_a_percent_encoded_uri_gets_diagnostics_and_code_actions(client: LanguageClient, tmp_path: Path):
    folder = seed_workspace(tmp_path / "with space" / "café")
    await start(client, folder)
    path = folder / "original.py"
    uri = "file://" + str(path).replace(" ", "%20").replace("é", "%C3%A9")  # as VS Code spells it
    assert "%20" in uri and "%C3%A9" in uri
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=ORIGINAL)))
    diagnostics = await published(client, uri, 1)
    assert summary(diagnostics) == sorted(expected(path, code, snippet) for code, snippet in SEED)
    # The same document, spelled with the characters themselves: one document, its actions.
    other_spelling = uris.from_fs_path(str(path)).replace("%20", " ").replace("%C3%A9", "é")
    actions = await asyncio.wait_for(client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=other_spelling), range=diagnostics[0].range,
        context=lsp.CodeActionContext(diagnostics=[diagnostics[0]]))), DEADLINE)
    assert any(action.title.startswith("Disable") for action in actions)


async def test_a_drive_letter_spelled_with_percent_3a_is_one_document(client: LanguageClient, tmp_path: Path):
    await start(client, seed_workspace(tmp_path / "ws"))
    uri = "file:///c%3A/project/original.py"  # VS Code on Windows
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=ORIGINAL)))
    assert [d.code for d in await published(client, uri, 1)].count("ORM001") == 2
    before = mark(client)
    # A change sent under the other spelling reaches the same document (and publishes under the
    # spelling it was opened with).
    change(client, "file:///C:/project/original.py", 2, "", (6, 0), (8, 0))  # drop the loop's two queries
    codes = [d.code for d in await published(client, uri, 2, after=before)]
    assert "ORM001" not in codes


async def test_an_untitled_document_is_analysed(client: LanguageClient, tmp_path: Path):
    await start(client, seed_workspace(tmp_path / "ws"))
    uri = "untitled:Untitled-1"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=ORIGINAL)))
    assert sorted(d.code for d in await published(client, uri, 1)) == ["ORM001", "ORM001", "ORM005"]


# --- 2. text sync as the specification says ---------------------------------------------------------

async def test_form_feed_and_unicode_separators_do_not_shift_lines(client: LanguageClient, tmp_path: Path):
    folder = seed_workspace(tmp_path / "ws")
    await start(client, folder)
    # A form feed and a U+2028 (inside a comment) on line 0: Python and the LSP count one line.
    text = "# page\f break \u2028 here\n" + ORIGINAL
    path = folder / "paged.py"
    path.write_text(text, encoding="utf-8")
    uri = open_file(client, path, text)
    first = summary(await published(client, uri, 1))
    assert [row[:2] for row in first if row[0] == "ORM001"] == [("ORM001", 7), ("ORM001", 8)]
    before = mark(client)
    change(client, uri, 2, "", (7, 0), (8, 0))  # delete line 7 (the `Session` query) as the user sees it
    second = summary(await published(client, uri, 2, after=before))
    assert [row[:2] for row in second if row[0] == "ORM001"] == [("ORM001", 7)]
    assert "Payment.query" in (folder / "paged.py").read_text().split("\n")[8]  # the disk is untouched


async def test_a_column_past_a_crlf_line_end_stays_on_that_line(client: LanguageClient, tmp_path: Path):
    folder = seed_workspace(tmp_path / "ws")
    await start(client, folder)
    text = ORIGINAL.replace("\n", "\r\n")
    uri = open_file(client, folder / "crlf.py", text)
    assert [d.code for d in await published(client, uri, 1)].count("ORM001") == 2
    before = mark(client)
    # Past the end of line 6 (`sessions = Session.query...`): append a comment there. pygls put it
    # between \r and \n, making a new line and shifting every finding after it.
    change(client, uri, 2, "  # one", (6, 500), (6, 500))
    diagnostics = await published(client, uri, 2, after=before)
    assert [row[:2] for row in summary(diagnostics)] == [("ORM001", 6), ("ORM001", 7), ("ORM005", 10)]


async def test_a_column_past_the_end_of_a_last_line_without_newline(client: LanguageClient, tmp_path: Path):
    folder = seed_workspace(tmp_path / "ws")
    await start(client, folder)
    text = ORIGINAL.rstrip("\n")  # ends with `    return result`, no newline
    uri = open_file(client, folder / "tail.py", text)
    await published(client, uri, 1)
    before = mark(client)
    # Past the end of the last line (`    return result`): a new last line. pygls put it one
    # character early (`return resul` + the new line + `t`), which does not parse.
    added = "\n    totals = sum(p.amount for p in Payment.query.all())"
    change(client, uri, 2, added, (12, 99), (12, 99))
    diagnostics = await published(client, uri, 2, after=before)
    column = len("    totals = ")
    assert ("ORM005", 13, column, 13, column + len("sum(p.amount for p in Payment.query.all())")) in summary(diagnostics)


# --- 3. every request answered ----------------------------------------------------------------------
# Malformed requests and requests before initialize need a raw client: test_lsp_fuzz.py.

async def test_requests_on_unknown_documents_and_wild_positions_are_answered(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    await published(client, uri, 1)
    far = lsp.Position(10 ** 6, 10 ** 6)
    nowhere = lsp.TextDocumentIdentifier(uri="file:///nowhere.py")
    assert await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(nowhere, far)), DEADLINE) is None
    assert await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri=uri), far)), DEADLINE) is None
    actions = await asyncio.wait_for(client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=lsp.Range(start=far, end=far),
        context=lsp.CodeActionContext(diagnostics=[]))), DEADLINE)
    assert list(actions) == []


# --- 4. debounceMs ------------------------------------------------------------------------------------

async def test_a_huge_debounce_is_capped_and_never_delays_code_actions(client: LanguageClient, workspace: Path):
    await start(client, workspace, options={"debounceMs": 10_000_000})
    warnings = [m.message for m in client.log_messages if m.type == lsp.MessageType.Warning]
    assert any("debounceMs' = 10000000 is over 2000 ms: 2000 used" in message for message in warnings)
    uri = open_file(client, workspace / "original.py")
    started = asyncio.get_running_loop().time()
    # Asked at once, before the debounce would have let the analysis start.
    actions = await asyncio.wait_for(client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(6, 30), end=lsp.Position(6, 30)),
        context=lsp.CodeActionContext(diagnostics=[]))), DEADLINE)
    assert asyncio.get_running_loop().time() - started < 1.5  # well under the 2 s debounce
    assert any(action.title == "Disable ORM001 for this line" for action in actions)


# --- 7. publishes while the user keeps typing ---------------------------------------------------------

async def test_continuous_typing_on_a_slow_module_still_publishes(client: LanguageClient, workspace: Path):
    head, body = ORIGINAL.split("\n\n\n", 1)
    # 1,500 functions: about a second of analysis per version on one core, slower than typing.
    text = head + "\n\n\n" + "\n\n".join(body.replace("get_user_analytics", f"analytics_{i}") for i in range(1500))
    await start(client, workspace)
    uri = open_file(client, workspace / "big.py", text)
    await published(client, uri, 1, timeout=60)
    before = mark(client)
    line = text.splitlines().index("    return result")
    version = 1
    for keystroke in range(40):  # 4 s of typing at 10 keystrokes a second, never pausing
        version += 1
        change(client, uri, version, "#", (line, 17 + keystroke), (line, 17 + keystroke))
        await asyncio.sleep(0.1)
    while_typing = [params.version for params in client.published_log[before:]]
    await published(client, uri, version, after=before, timeout=60)
    versions = [params.version for params in client.published_log[before:] if params.uri == uri]
    assert while_typing, "nothing was published while the user typed"
    assert versions == sorted(versions) and versions[-1] == version


async def test_open_modules_importing_each_other_settle(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    first, second = workspace / "orders.py", workspace / "billing.py"
    first.write_text("from models import Payment\nfrom billing import charge\n\n\ndef total(ids):\n"
                     "    return [charge(Payment.query.get(i)) for i in ids]\n")
    second.write_text("import orders\n\n\ndef charge(payment):\n    return payment\n\n\n"
                      "def again(ids):\n    return orders.total(ids)\n")
    first_uri, second_uri = open_file(client, first), open_file(client, second)
    assert [d.code for d in await published(client, first_uri, 1)] == ["ORM001"]
    await published(client, second_uri, 1)
    await asyncio.sleep(1.0)  # a loop of re-analyses would publish dozens of times in this second
    counts = {uri: sum(1 for p in client.published_log if p.uri == uri) for uri in (first_uri, second_uri)}
    assert all(count <= 2 for count in counts.values()), counts


# --- 6. memory over a long session ----------------------------------------------------------------------

async def stats(client: LanguageClient) -> dict:
    return await asyncio.wait_for(client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="ormlens.stats")), DEADLINE)


async def test_a_long_editing_session_holds_no_more_than_a_short_one(client: LanguageClient, workspace: Path):
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    await published(client, uri, 1)
    column = len(ORIGINAL.splitlines()[4])  # typing at the end of `    result = {}`, then deleting it

    async def type_and_delete(first_version: int, rounds: int) -> int:
        version = first_version
        for _ in range(rounds):
            for text, end in (("  # x", column), ("", column + 5)):
                version += 1
                change(client, uri, version, text, (4, column), (4, end))
                await published(client, uri, version)  # each version analysed (none coalesced)
        return version

    version = await type_and_delete(1, 20)
    after_short = await stats(client)
    await type_and_delete(version, 150)
    after_long = await stats(client)
    held = ("modules", "whole_trees", "facts", "summaries", "models", "resolved_names", "overrides")
    assert {key: after_long[key] for key in held} == {key: after_short[key] for key in held}
    # A closed file's facts go (it is outside every open file's import closure).
    other = open_file(client, workspace / "intended.py")
    await published(client, other, 1)
    with_both = await stats(client)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=other)))
    after_close = await stats(client)
    assert with_both["facts"] >= 1 and with_both["overrides"] == 2
    assert (after_close["facts"], after_close["overrides"]) == (with_both["facts"] - 1, 1)


async def test_notifications_leave_no_futures_behind(client: LanguageClient, workspace: Path):
    # pygls 2.1 filed a Future per didOpen/didChange/didClose notification and never took it out:
    # the RSS creep of a soak (about 1.5 MB per 1,000 keystrokes).
    await start(client, workspace)
    uri = open_file(client, workspace / "original.py")
    await published(client, uri, 1)
    before = await stats(client)
    column = len(ORIGINAL.splitlines()[4])
    for version in range(2, 302):  # 300 keystrokes, without waiting for any analysis
        if version % 2:
            change(client, uri, version, "", (4, column), (4, column + 1))
        else:
            change(client, uri, version, "#", (4, column), (4, column))
    await published(client, uri, 301)
    after = await stats(client)
    # What pygls holds while answering the stats request itself; without the fix, 300 more.
    assert before["pending_futures"] <= 2
    assert after["pending_futures"] == before["pending_futures"]


async def test_exit_is_prompt_and_says_whether_shutdown_came_first(tmp_path: Path):
    # The process ends with the specification's status (0 after shutdown, 1 without) at once, also
    # with a project index in memory (freeing it object by object took seconds on a large project).
    from lsp_wire import Wire, file_uri

    seed_workspace(tmp_path)
    for shutdown_first, status in ((True, 0), (False, 1)):
        wire = await Wire.start(cwd=tmp_path)
        await wire.initialize(tmp_path)
        uri = file_uri(tmp_path / "original.py")
        wire.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                              "text": ORIGINAL}})
        assert await wire.wait_for(lambda: wire.latest(uri) is not None, DEADLINE)
        if shutdown_first:
            await wire.request("shutdown")
        wire.notify("exit")
        await wire.drain()
        assert await asyncio.wait_for(wire.process.wait(), DEADLINE) == status
        await wire.close()


async def test_the_server_ends_without_a_traceback(tmp_path: Path):
    """shutdown, exit: the process ends with status 0 and nothing but log lines on stderr (the
    command line's final flush met the stdout pygls had closed: a traceback, seen by a benchmark)."""
    from lsp_wire import Wire

    (tmp_path / "app.py").write_text("x = 1\n")
    wire = await Wire.start(cwd=tmp_path)
    await wire.initialize(tmp_path)
    status = await wire.close()
    assert status == 0
    assert "Traceback" not in wire.stderr.decode("utf-8", "replace"), wire.stderr_tail()
