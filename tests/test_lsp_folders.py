"""A multi-root workspace (issue #16): each workspace folder is a project of its own, with its own
configuration file and its own modules; a change of a configuration file is read again; folders
added or removed while the server runs are served. Driven as an editor drives the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import LanguageClient, client_capabilities
from helpers import AUTHOR_BOOK_MODELS

from test_lsp import client, mark, open_file, published  # noqa: F401 - `client` is the server fixture

# The same module names in both folders, different models: each folder must read its own.
MODELS = AUTHOR_BOOK_MODELS

VIEWS = '''\
from app.models import Book


def names():
    return [book.author.name for book in Book.objects.all()]
'''

# In the second folder, `author` is a plain column: reading it per row is no query.
PLAIN_MODELS = MODELS.replace("models.ForeignKey(Author, on_delete=models.CASCADE)", "models.CharField(max_length=10)")


def folder(root: Path, models: str, config: str = "") -> Path:
    for name, text in {"pyproject.toml": config, "app/__init__.py": "", "app/models.py": models,
                       "app/views.py": VIEWS}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


async def start(client: LanguageClient, *roots: Path) -> lsp.InitializeResult:  # noqa: F811
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.text_document.diagnostic = None
    capabilities.workspace.did_change_watched_files = None  # pytest-lsp cannot answer registerCapability
    return await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities, root_uri=uris.from_fs_path(str(roots[0])),
        workspace_folders=[lsp.WorkspaceFolder(uri=uris.from_fs_path(str(root)), name=root.name) for root in roots]))


def codes(diagnostics: list[lsp.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path, Path]:
    quiet = folder(tmp_path / "quiet", MODELS, '[tool.ormlens]\nignore = ["ORM002"]\n')
    loud = folder(tmp_path / "loud", MODELS, "")
    plain = folder(tmp_path / "plain", PLAIN_MODELS, "")
    return quiet, loud, plain


async def test_each_folder_has_its_own_settings_and_modules(client: LanguageClient, two) -> None:  # noqa: F811
    quiet, loud, plain = two
    result = await start(client, quiet, loud, plain)
    folders = result.capabilities.workspace.workspace_folders
    assert folders.supported and folders.change_notifications
    assert codes(await published(client, open_file(client, loud / "app/views.py"), 1)) == ["ORM002"]
    assert codes(await published(client, open_file(client, quiet / "app/views.py"), 1)) == []  # its ignore
    # `app.models` of this folder has no relationship: the first folder's models do not leak in.
    assert codes(await published(client, open_file(client, plain / "app/views.py"), 1)) == []


async def test_a_changed_configuration_file_is_read_again(client: LanguageClient, two) -> None:  # noqa: F811
    quiet, loud, _ = two
    await start(client, quiet, loud)
    uri = open_file(client, quiet / "app/views.py")
    assert codes(await published(client, uri, 1)) == []
    (quiet / "pyproject.toml").write_text('[tool.ormlens]\nignore = ["ORM001"]\n')
    before = mark(client)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(
        uri=uris.from_fs_path(str(quiet / "pyproject.toml")), type=lsp.FileChangeType.Changed)]))
    assert codes(await published(client, uri, after=before, where=lambda d: d != [])) == ["ORM002"]


async def test_folders_added_and_removed_while_running(client: LanguageClient, two) -> None:  # noqa: F811
    quiet, loud, _ = two
    await start(client, loud)
    uri = open_file(client, quiet / "app/views.py")  # outside every folder: the first folder's settings
    assert codes(await published(client, uri, 1)) == ["ORM002"]
    before = mark(client)
    client.workspace_did_change_workspace_folders(lsp.DidChangeWorkspaceFoldersParams(
        event=lsp.WorkspaceFoldersChangeEvent(
            added=[lsp.WorkspaceFolder(uri=uris.from_fs_path(str(quiet)), name="quiet")], removed=[])))
    assert codes(await published(client, uri, after=before, where=lambda d: d == [])) == []
    before = mark(client)
    client.workspace_did_change_workspace_folders(lsp.DidChangeWorkspaceFoldersParams(
        event=lsp.WorkspaceFoldersChangeEvent(
            added=[], removed=[lsp.WorkspaceFolder(uri=uris.from_fs_path(str(quiet)), name="quiet")])))
    assert codes(await published(client, uri, after=before, where=lambda d: d != [])) == ["ORM002"]
