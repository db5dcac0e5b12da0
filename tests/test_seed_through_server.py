"""The seed, end to end through the server: the offered quick fixes applied one by one (as a user
would, each followed by the editor's didChange) to original.py and batched_but_quadratic.py give
code that returns exactly what intended.py returns, with at most 2 queries per 1,000 distinct ids."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from test_fix_orm001 import NULL_FAR, NULL_ONLY, flask_env, seed_examples
from test_lsp import SERVER, apply_text_edits, change, edits_of, mark, open_file, published, start

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    lsp_client.published_log = []
    features = lsp_client.protocol.fm.features
    record = features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recording(*args):
        lsp_client.published_log.append(args[-1])
        return record(*args)

    features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording
    yield lsp_client
    await lsp_client.shutdown_session()


async def fix_one_by_one(client: LanguageClient, path: Path) -> tuple[str, list[str]]:
    """Take the first quick fix offered (not "Disable ..."), apply it, tell the server; repeat."""
    text = path.read_text()
    uri = open_file(client, path, text)
    diagnostics = await published(client, uri, 1)
    version, applied = 1, []
    for _ in range(12):
        fix = None
        for diagnostic in diagnostics:
            actions = await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
                context=lsp.CodeActionContext(diagnostics=[diagnostic])))
            fix = next((a for a in actions or [] if not a.title.startswith("Disable ")), None)
            if fix is not None:
                break
        if fix is None:
            assert diagnostics == [], [d.code for d in diagnostics]  # everything was fixed
            return text, applied
        if fix.edit is None:
            fix = await client.code_action_resolve_async(fix)
        text = apply_text_edits(text, edits_of(fix.edit, uri))
        applied.append(fix.title)
        version += 1
        before = mark(client)
        change(client, uri, version, text)
        diagnostics = await published(client, uri, version, after=before)
    raise AssertionError(f"still offering fixes after {applied}")


IDS = {
    "nulls-and-no-rows": [1, 2, NULL_ONLY, NULL_FAR, 10, 20, 2_600],
    "unknown": [999_999, 5, 1_000_000, -1],
    "empty": [],
    "repeated-in-a-chunk": [1, 2, 1, 3, 1, NULL_ONLY, NULL_ONLY],
    "repeated-across-chunks": list(range(1, 1_001)) + [1],
    "2500": list(range(1, 2_501)),
}


async def test_quick_fixes_through_the_server_give_the_intended_results(client: LanguageClient, tmp_path: Path):
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    await start(client, tmp_path)
    original, original_fixes = await fix_one_by_one(client, tmp_path / "original.py")
    batched, batched_fixes = await fix_one_by_one(client, tmp_path / "batched_but_quadratic.py")
    unsafe_order = "(unsafe: row order {} may differ: the query has no order_by)"
    assert original_fixes == [
        f"Batch the 2 queries in this loop (chunks of 1,000 ids) {unsafe_order.format('within a group')}",
        "Count NULL as 0: `(p.amount or 0)`"]
    assert batched_fixes == [
        "Group `sessions_by_user.values()` once by `s.user_id` before the loop",
        "Group `payments_by_user.values()` once by `p.user_id` before the loop",
        *[f"Query in chunks of 1,000 distinct values {unsafe_order.format('across chunks')}"] * 2,
        "Count NULL as 0: `(p.amount or 0)`"]
    (tmp_path / "original_via_server.py").write_text(original)
    (tmp_path / "batched_via_server.py").write_text(batched)
    with flask_env(tmp_path, "models", ["models", "intended", "original_via_server", "batched_via_server"]) as env:
        seed = seed_examples(env)
        for name, ids in IDS.items():
            intended, _ = env.run("intended", "get_user_analytics", ids)
            for module in ("original_via_server", "batched_via_server"):
                result, selects = env.run(module, "get_user_analytics", ids)
                assert result == intended == seed.expected(ids), (module, name)
                assert len(selects) <= 2 * math.ceil(len(dict.fromkeys(ids)) / 1_000), (module, name)
        ids = list(range(1, 40_001))
        for module in ("original_via_server", "batched_via_server"):
            result, selects = env.run(module, "get_user_analytics", ids)
            assert result == seed.expected(ids) and len(selects) == 80, module
