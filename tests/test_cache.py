"""The persistent cache of `ormlens check` (cache.py): an unchanged tree analyses nothing, an edit
re-analyses the edited module and the modules that read it, damage is never fatal."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from ormlens.cache import CACHE_DIR_NAME
from ormlens.config import Settings
from ormlens.engine import check_files

from test_incremental import MODELS, SERVICES, make_project

SETTINGS = Settings()


def run(root: Path, paths: dict[str, str], cache: Path | None, jobs: int = 1):
    files = [Path(path) for path in sorted(paths.values())]
    return check_files(files, SETTINGS, root, cache_dir=cache, jobs=jobs)


def names(report, paths: dict[str, str]) -> list[str]:
    by_path = {path: name for name, path in paths.items()}
    return sorted(by_path[path] for path in report.analysed)


def found(report) -> list[tuple[str, str, int]]:
    return [(Path(f.path).name, f.code, f.span.line) for f in report.findings]


def test_a_second_run_on_an_unchanged_tree_analyses_nothing(tmp_path: Path):
    paths = make_project(tmp_path)
    cache = tmp_path / CACHE_DIR_NAME
    first = run(tmp_path, paths, cache)
    assert names(first, paths) == ["models", "reports", "services", "unrelated", "views"]
    assert found(first) == [("reports.py", "ORM005", 8), ("views.py", "ORM001", 9), ("views.py", "ORM005", 10)]
    second = run(tmp_path, paths, cache)
    assert second.analysed == []
    assert second.findings == first.findings
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_edit_re_analyses_the_module_and_what_read_it(tmp_path: Path):
    paths = make_project(tmp_path)
    cache = tmp_path / CACHE_DIR_NAME
    run(tmp_path, paths, cache)
    Path(paths["services"]).write_text(SERVICES.replace("return session.get(Customer, customer_id)",
                                                        "return customer_id"))
    after = run(tmp_path, paths, cache)
    assert names(after, paths) == ["services", "views"]
    assert found(after) == [("reports.py", "ORM005", 8), ("views.py", "ORM005", 10)]
    Path(paths["models"]).write_text(MODELS.replace("amount: Mapped[Optional[int]]", "amount: Mapped[int]"))
    after = run(tmp_path, paths, cache)
    assert names(after, paths) == ["models", "reports", "services", "views"]
    assert found(after) == []
    assert run(tmp_path, paths, cache).analysed == []


def test_the_cache_gives_what_a_run_without_it_gives(tmp_path: Path):
    paths = make_project(tmp_path)
    cache = tmp_path / CACHE_DIR_NAME
    for edit in [("models", "amount: Mapped[Optional[int]]", "amount: Mapped[int]"),
                 ("views", "total = sum(o.amount for o in orders)", "total = 0"),
                 ("models", "amount: Mapped[int]", "amount: Mapped[Optional[int]]"),
                 ("unrelated", "return", "return  "),
                 ("services", "def customer_of", "def customer_for")]:
        name, old, new = edit
        Path(paths[name]).write_text(Path(paths[name]).read_text().replace(old, new))
        cached = run(tmp_path, paths, cache)
        assert cached.findings == run(tmp_path, paths, None).findings, edit


def test_a_new_file_makes_every_module_be_analysed_again(tmp_path: Path):
    # It may be what an import now resolves to, anywhere.
    paths = make_project(tmp_path)
    cache = tmp_path / CACHE_DIR_NAME
    run(tmp_path, paths, cache)
    extra = tmp_path / "shop" / "extra.py"
    extra.write_text("X = 1\n")
    after = run(tmp_path, {**paths, "extra": str(extra.resolve())}, cache)
    assert names(after, {**paths, "extra": str(extra.resolve())}) == [
        "extra", "models", "reports", "services", "unrelated", "views"]


@pytest.mark.parametrize("damage", [b"", b"not a pickle at all", pickle.dumps(("another", "format"))])
def test_a_damaged_or_foreign_cache_file_is_ignored_and_written_again(tmp_path: Path, damage: bytes, caplog):
    paths = make_project(tmp_path)
    cache = tmp_path / CACHE_DIR_NAME
    first = run(tmp_path, paths, cache)
    [stored] = list(cache.glob("results-*.pickle"))
    stored.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="ormlens"):
        again = run(tmp_path, paths, cache)
    assert again.findings == first.findings and len(again.analysed) == 5
    assert "ignored" in caplog.text and str(stored) in caplog.text
    assert run(tmp_path, paths, cache).analysed == []  # rewritten, readable again


def test_an_unwritable_cache_directory_is_a_warning(tmp_path: Path, caplog):
    paths = make_project(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory would be")
    with caplog.at_level(logging.WARNING, logger="ormlens"):
        report = run(tmp_path, paths, blocker / "cache")
    assert len(report.findings) == 3
    assert "cannot write the cache" in caplog.text


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ormlens", "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_cli_flags_and_setting(tmp_path: Path):
    make_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ormlens]\ncache-dir = 'build/lens'\n")
    result = cli("shop", cwd=tmp_path)
    assert result.returncode == 1 and "Found 3 errors." in result.stdout
    assert list((tmp_path / "build" / "lens").glob("results-*.pickle"))
    assert not (tmp_path / CACHE_DIR_NAME).exists()
    assert cli("shop", "--cache-dir", "elsewhere", cwd=tmp_path).returncode == 1
    assert list((tmp_path / "elsewhere").glob("results-*.pickle"))
    (tmp_path / "pyproject.toml").write_text("[tool.ormlens]\n")
    result = cli("shop", "--no-cache", cwd=tmp_path)
    assert "Found 3 errors." in result.stdout and not (tmp_path / CACHE_DIR_NAME).exists()
    cli("shop", cwd=tmp_path)
    assert list((tmp_path / CACHE_DIR_NAME).glob("results-*.pickle"))
    assert cli("shop", "--jobs", "0", cwd=tmp_path).returncode == 2


# --- the language server's first look ------------------------------------------------------------

from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import LanguageClient  # noqa: E402

from test_lsp import client, open_file, published, start  # noqa: E402,F401 - the fixture too


async def server_stats(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="ormlens.stats"))


async def test_the_server_shows_the_cached_findings_of_an_unchanged_file_first(client: LanguageClient,
                                                                             tmp_path: Path):
    paths = make_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    assert cli("shop", cwd=tmp_path).returncode == 1  # fills .ormlens_cache
    await start(client, tmp_path)
    views = open_file(client, Path(paths["views"]))
    first = await published(client, views, 1)
    assert sorted((d.code, d.range.start.line) for d in first) == [("ORM001", 8), ("ORM005", 9)]
    assert (await server_stats(client))["from_cache"] == 1
    # A buffer that differs from the disk, and a file changed since the check: analysed, not cached.
    unrelated = open_file(client, Path(paths["unrelated"]), text=Path(paths["unrelated"]).read_text() + "\n")
    Path(paths["reports"]).write_text(Path(paths["reports"]).read_text() + "\n# changed after the check\n")
    reports = open_file(client, Path(paths["reports"]))
    await published(client, unrelated, 1)
    assert [d.code for d in await published(client, reports, 1)] == ["ORM005"]
    assert (await server_stats(client))["from_cache"] == 1


def test_random_edits_across_real_case_files_give_what_no_cache_gives(tmp_path: Path):
    # The rules' case files and the seed review (models of every ORM, many same-named models):
    # lines deleted, repeated, swapped, nullability flipped; after each round the cached run must
    # equal a run without the cache, finding for finding.
    import ast
    import random

    from test_lsp_fuzz import make_workspace

    root = make_workspace(tmp_path / "ws")
    files = sorted(root.glob("*.py"))
    cache = root / CACHE_DIR_NAME
    rng = random.Random(2)
    reused = 0
    for _ in range(15):
        for _ in range(rng.randrange(1, 4)):
            file = rng.choice(files)
            lines = file.read_text().split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            edits = [lines[:i] + lines[i + 1:], lines[:i] + [lines[i]] + lines[i:],
                     [line.replace("nullable=True", "nullable=False").replace("null=True", "null=False")
                      if n == i else line for n, line in enumerate(lines)],
                     [lines[j] if n == i else lines[i] if n == j else line for n, line in enumerate(lines)]]
            text = "\n".join(rng.choice(edits))
            try:
                ast.parse(text)
            except SyntaxError:
                continue
            file.write_text(text)
        cached = check_files(files, SETTINGS, root, cache_dir=cache, project_files=files)
        fresh = check_files(files, SETTINGS, root, cache_dir=None, project_files=files)
        assert (cached.findings, cached.errors) == (fresh.findings, fresh.errors)
        reused += len(files) - len(cached.analysed)
    assert reused > 0  # the cache answered for some modules
