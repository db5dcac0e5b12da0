"""Roots as Python sees them: the project root (markers), the configuration (nearest
`[tool.ormlens]` or `ormlens.toml`, `--config`), and the import roots (the parent of a file's top
package, the project root, `<root>/src`, the `src` setting). Each project below has a real
cross-module N+1: the model in one module, the loop in another, so a finding proves the import
was resolved (and its absence in the controls that it was not)."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from ormlens import cli
from ormlens.analysis.declarations import ImportRef
from ormlens.analysis.imports import ImportResolver
from ormlens.analysis.project import ProjectIndex

FLASK_MODELS = """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String(120), nullable=False)
"""

# ORM001 on line 6: a query per item, with the model imported from `{module}`.
VIEW = """
    from {module} import User


    def emails(user_ids):
        for uid in user_ids:
            print(User.query.filter_by(id=uid).first())
"""
VIEW_LINE = 6

DJANGO_MODELS = """
    from django.db import models


    class Customer(models.Model):
        name = models.CharField(max_length=80)


    class Order(models.Model):
        customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
"""

# ORM002 on line 6: a lazy foreign key read per order.
DJANGO_VIEW = """
    from shop.models import Order


    def names():
        for order in Order.objects.all():
            print(order.customer.name)
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def check(capsys, monkeypatch, cwd: Path, *args: str) -> list[tuple[str, str, int]]:
    """`ormlens check ARGS` run in `cwd`: (code, file relative to cwd, row) of each finding."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    status = cli.main(["check", "--output-format", "json", *args])
    out = capsys.readouterr().out
    found = [(f["code"], Path(f["filename"]).relative_to(cwd.resolve()).as_posix(), f["location"]["row"])
             for f in json.loads(out)]
    assert status == (1 if found else 0)
    return found


# --- the project root -----------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["setup.py", "setup.cfg", "pyproject.toml", ".git"])
def test_a_marker_makes_the_root_for_a_file_checked_alone(tmp_path: Path, capsys, monkeypatch, marker) -> None:
    # `app/` is not a package, so only the project root can find `shop`: checked from outside
    # the repository (the current directory gives no root), the marker alone must.
    write(tmp_path / "repo", {"shop/__init__.py": "", "shop/models.py": FLASK_MODELS,
                              "app/views.py": VIEW.format(module="shop.models")})
    if marker == ".git":
        (tmp_path / "repo" / ".git").mkdir()
    else:
        (tmp_path / "repo" / marker).write_text("")
    assert check(capsys, monkeypatch, tmp_path, "repo/app/views.py") == [
        ("ORM001", "repo/app/views.py", VIEW_LINE)]


def test_without_a_marker_the_import_is_not_found(tmp_path: Path, capsys, monkeypatch) -> None:
    """Control for the test above: the same tree, no marker, checked from outside it."""
    write(tmp_path / "repo", {"shop/__init__.py": "", "shop/models.py": FLASK_MODELS,
                              "app/views.py": VIEW.format(module="shop.models")})
    assert check(capsys, monkeypatch, tmp_path, "repo/app/views.py") == []
    # From inside it, the current directory is the root.
    assert check(capsys, monkeypatch, tmp_path / "repo", "app/views.py") == [("ORM001", "app/views.py", VIEW_LINE)]


def test_manage_py_site(tmp_path: Path, capsys, monkeypatch) -> None:
    site = tmp_path / "repo" / "site"
    write(site, {"manage.py": "", "shop/__init__.py": "", "shop/models.py": DJANGO_MODELS,
                 "shop/apps.py": "", "pages/views.py": DJANGO_VIEW})
    (tmp_path / "repo" / ".git").mkdir()  # the repository is above the site: manage.py is nearer
    expected = [("ORM002", "site/pages/views.py", 6)]
    assert check(capsys, monkeypatch, tmp_path / "repo", "site/pages/views.py") == expected
    assert check(capsys, monkeypatch, tmp_path / "repo", ".") == expected


def test_src_layout(tmp_path: Path, capsys, monkeypatch) -> None:
    # `shop` lives in src/ (a namespace package: no __init__.py); a module outside src/ imports it.
    write(tmp_path / "repo", {"pyproject.toml": "[project]\nname = 'shop'\n", "src/shop/models.py": FLASK_MODELS,
                              "src/shop/views.py": VIEW.format(module="shop.models"),
                              "reports/weekly.py": VIEW.format(module="shop.models")})
    assert check(capsys, monkeypatch, tmp_path, "repo/reports/weekly.py", "repo/src/shop/views.py") == [
        ("ORM001", "repo/reports/weekly.py", VIEW_LINE), ("ORM001", "repo/src/shop/views.py", VIEW_LINE)]


def test_package_under_server(tmp_path: Path, capsys, monkeypatch) -> None:
    # The repository's root has only .git; the Python project (pyproject.toml) is server/.
    repo = tmp_path / "repo"
    write(repo, {"server/pyproject.toml": "", "server/shop/__init__.py": "", "server/shop/models.py": FLASK_MODELS,
                 "server/api/views.py": VIEW.format(module="shop.models"), "web/build.py": "print('web')\n"})
    (repo / ".git").mkdir()
    expected = [("ORM001", "server/api/views.py", VIEW_LINE)]
    assert check(capsys, monkeypatch, repo, "server/api/views.py") == expected
    assert check(capsys, monkeypatch, repo, "server") == expected
    assert check(capsys, monkeypatch, repo, ".") == expected
    assert check(capsys, monkeypatch, repo, "web/build.py", "server/api/views.py") == expected


def test_namespace_packages(tmp_path: Path, capsys, monkeypatch) -> None:
    # No __init__.py anywhere: `acme.shop.models` is found from the project root, both as
    # `from acme.shop.models import User` and as `from acme.shop import models`.
    write(tmp_path / "repo", {"setup.py": "", "acme/shop/models.py": FLASK_MODELS,
                              "acme/web/views.py": VIEW.format(module="acme.shop.models"),
                              "acme/web/pages.py": VIEW.format(module="acme.shop.models").replace(
                                  "from acme.shop.models import User", "from acme.shop import models")
                              .replace("User.query", "models.User.query")})
    assert check(capsys, monkeypatch, tmp_path, "repo/acme/web") == [
        ("ORM001", "repo/acme/web/pages.py", VIEW_LINE), ("ORM001", "repo/acme/web/views.py", VIEW_LINE)]


def test_root_of_several_paths_does_not_depend_on_their_order(tmp_path: Path) -> None:
    write(tmp_path, {"repo/a/pyproject.toml": "", "repo/a/x.py": "", "repo/b/setup.py": "", "repo/b/y.py": ""})
    (tmp_path / "repo" / ".git").mkdir()
    a, b = tmp_path / "repo" / "a" / "x.py", tmp_path / "repo" / "b" / "y.py"
    assert cli.project_root([a], tmp_path) == (tmp_path / "repo" / "a").resolve()
    assert cli.project_root([a, b], tmp_path) == cli.project_root([b, a], tmp_path) == (tmp_path / "repo").resolve()


# --- import roots ---------------------------------------------------------------------------


def test_a_project_module_does_not_shadow_a_library(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "", "app/__init__.py": "", "app/utils/__init__.py": "",
                     "app/utils/flask.py": "", "app/utils/x.py": "from flask import request\n"})
    project = ProjectIndex(tmp_path)
    importer = str((tmp_path / "app/utils/x.py").resolve())
    assert project.module_file(importer, ImportRef("flask", "request")) is None
    # What does resolve: the module by its full name, and relatively.
    flask = str((tmp_path / "app/utils/flask.py").resolve())
    assert project.module_file(importer, ImportRef("app.utils.flask", "x")) == flask
    assert project.module_file(importer, ImportRef("flask", "x", 1)) == flask


def test_a_sibling_module_does_not_capture_an_absolute_import(tmp_path: Path, capsys, monkeypatch) -> None:
    # In the package app.utils, `from models import User` is the top-level models.py (Python 3 has
    # no implicit relative imports), not app/utils/models.py next to it, whose User is no model.
    write(tmp_path, {"setup.py": "", "models.py": FLASK_MODELS, "app/__init__.py": "", "app/utils/__init__.py": "",
                     "app/utils/models.py": "class User:\n    query = None\n",
                     "app/utils/report.py": VIEW.format(module="models")})
    assert check(capsys, monkeypatch, tmp_path, "app/utils/report.py") == [("ORM001", "app/utils/report.py", VIEW_LINE)]


def test_a_script_folder_is_the_root_of_its_scripts(tmp_path: Path, capsys, monkeypatch) -> None:
    # `python tools/report.py` puts tools/ on sys.path: `from models import User` is tools/models.py.
    write(tmp_path, {"setup.py": "", "tools/models.py": FLASK_MODELS, "tools/report.py": VIEW.format(module="models")})
    assert check(capsys, monkeypatch, tmp_path, "tools/report.py") == [("ORM001", "tools/report.py", VIEW_LINE)]


def test_import_roots_order(tmp_path: Path) -> None:
    write(tmp_path, {"repo/setup.py": "", "repo/pkg/__init__.py": "", "repo/pkg/sub/__init__.py": "",
                     "repo/pkg/sub/mod.py": "", "repo/scripts/run.py": ""})
    repo = str((tmp_path / "repo").resolve())
    resolver = ImportResolver(None, (str(tmp_path / "lib"),))
    assert resolver.roots_for(f"{repo}/pkg/sub") == [repo, f"{repo}/src", str(tmp_path / "lib")]
    assert resolver.roots_for(f"{repo}/scripts") == [f"{repo}/scripts", repo, f"{repo}/src", str(tmp_path / "lib")]


def test_a_folder_not_on_disk_has_the_index_root(tmp_path: Path) -> None:
    # An editor's document from another machine (`file:///c%3A/project/x.py` on Linux) resolves
    # under the server's current folder, which may be inside some other project: the workspace wins.
    write(tmp_path, {"repo/setup.py": "", "ws/models.py": ""})
    ws, missing = str((tmp_path / "ws").resolve()), str((tmp_path / "repo" / "c:" / "project").resolve())
    assert ImportResolver(ws).roots_for(missing) == [missing, ws, f"{ws}/src"]


def test_src_setting(tmp_path: Path, capsys, monkeypatch) -> None:
    files = {"lib/shop/__init__.py": "", "lib/shop/models.py": FLASK_MODELS,
             "app/views.py": VIEW.format(module="shop.models")}
    write(tmp_path, {**files, "pyproject.toml": "[tool.ormlens]\n"})
    assert check(capsys, monkeypatch, tmp_path, "app/views.py") == []  # lib/ is no import root
    write(tmp_path, {"pyproject.toml": '[tool.ormlens]\nsrc = ["lib"]\n'})
    assert check(capsys, monkeypatch, tmp_path, "app/views.py") == [("ORM001", "app/views.py", VIEW_LINE)]
    # Relative to the configuration file, not to the current directory.
    assert check(capsys, monkeypatch, tmp_path / "app", "views.py") == [("ORM001", "views.py", VIEW_LINE)]


# --- the same findings however the file is checked -------------------------------------------

SHOP = {
    "setup.cfg": "",
    "shop/__init__.py": "",
    "shop/models.py": FLASK_MODELS,
    "shop/web/__init__.py": "",
    "shop/web/views.py": VIEW.format(module="shop.models"),
    "shop/web/pages.py": VIEW.format(module="..models").replace("from ..models", "from ..models"),
}


def test_file_folder_and_dot_give_the_same_findings(tmp_path: Path, capsys, monkeypatch) -> None:
    write(tmp_path, SHOP)
    expected = [("ORM001", "shop/web/pages.py", VIEW_LINE), ("ORM001", "shop/web/views.py", VIEW_LINE)]
    assert check(capsys, monkeypatch, tmp_path, ".") == expected
    assert check(capsys, monkeypatch, tmp_path, "shop/web") == expected
    assert check(capsys, monkeypatch, tmp_path, "shop/web/views.py", "shop/web/pages.py") == expected
    assert check(capsys, monkeypatch, tmp_path, "shop/web/pages.py", "shop/web/views.py") == expected
    # From inside the package, one file at a time.
    web = tmp_path / "shop" / "web"
    assert check(capsys, monkeypatch, web, "views.py") == [("ORM001", "views.py", VIEW_LINE)]
    assert check(capsys, monkeypatch, web, "pages.py") == [("ORM001", "pages.py", VIEW_LINE)]


def test_check_a_b_equals_check_b_a_with_two_configurations(tmp_path: Path, capsys, monkeypatch) -> None:
    # Two projects, each with its configuration: one ignores ORM001. Named together, one
    # configuration applies (the one found from their common root: none here) and a warning
    # names the others, whatever the order.
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"a/pyproject.toml": '[tool.ormlens]\nignore = ["ORM001"]\n', "a/models.py": FLASK_MODELS,
                     "a/views.py": VIEW.format(module="models"),
                     "b/setup.py": "", "b/models.py": FLASK_MODELS, "b/views.py": VIEW.format(module="models")})
    assert check(capsys, monkeypatch, tmp_path, "a/views.py") == []  # its own configuration
    monkeypatch.chdir(tmp_path)
    runs = []
    for order in (["a/views.py", "b/views.py"], ["b/views.py", "a/views.py"]):
        status = cli.main(["check", "--output-format", "json", *order])
        runs.append((status, capsys.readouterr()))
    assert runs[0] == runs[1]
    found = [(f["code"], Path(f["filename"]).relative_to(tmp_path.resolve()).as_posix()) for f in json.loads(runs[0][1].out)]
    assert found == [("ORM001", "a/views.py"), ("ORM001", "b/views.py")]
    pyproject = (tmp_path / "a" / "pyproject.toml").resolve()
    assert runs[0][1].err == (f"ormlens: warning: the paths given have different configurations: {pyproject} is not "
                              "used for this run (default settings is); check each project on its own, or pass --config\n")


# --- the configuration ------------------------------------------------------------------------


def test_config_option_names_the_file(tmp_path: Path, capsys, monkeypatch) -> None:
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n", "models.py": FLASK_MODELS,
                     "views.py": VIEW.format(module="models"),
                     "conf/ormlens.toml": 'ignore = ["ORM001"]\n',
                     "conf/pyproject.toml": '[tool.ormlens]\nselect = ["ORM005"]\n'})
    assert check(capsys, monkeypatch, tmp_path, "views.py") == [("ORM001", "views.py", VIEW_LINE)]
    assert check(capsys, monkeypatch, tmp_path, "--config", "conf/ormlens.toml", "views.py") == []
    assert check(capsys, monkeypatch, tmp_path, "--config", "conf/pyproject.toml", "views.py") == []
    assert cli.main(["check", "--config", "conf/missing.toml", "views.py"]) == 2
    assert "conf/missing.toml: no such configuration file" in capsys.readouterr().err


def test_nearest_configuration_is_ormlens_toml_or_a_pyproject_with_the_table(tmp_path: Path, capsys,
                                                                              monkeypatch) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.ormlens]\nignore = ["ORM001"]\n', "app/models.py": FLASK_MODELS,
                     "app/views.py": VIEW.format(module="models"),
                     "app/pyproject.toml": "[tool.black]\n"})  # no [tool.ormlens]: not a configuration
    assert check(capsys, monkeypatch, tmp_path, "app/views.py") == []
    write(tmp_path, {"app/ormlens.toml": 'select = ["ORM001"]\n'})
    assert check(capsys, monkeypatch, tmp_path, "app/views.py") == [("ORM001", "app/views.py", VIEW_LINE)]


# --- the editor -------------------------------------------------------------------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ormlens", "server"]))
async def client(lsp_client: LanguageClient):
    yield lsp_client
    await lsp_client.shutdown_session()


async def diagnostics_of(client: LanguageClient, uri: str) -> list[tuple[str, int]]:
    deadline = asyncio.get_running_loop().time() + 10
    while uri not in client.diagnostics:
        assert asyncio.get_running_loop().time() < deadline, f"no diagnostics for {uri}"
        await asyncio.sleep(0.01)
    return [(d.code, d.range.start.line + 1) for d in client.diagnostics[uri]]


async def open_in_editor(client: LanguageClient, folder: Path, file: Path) -> list[tuple[str, int]]:
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.text_document.diagnostic = None
    await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities, root_uri=uris.from_fs_path(str(folder))))
    uri = uris.from_fs_path(str(file))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=file.read_text())))
    return await diagnostics_of(client, uri)


@pytest.mark.parametrize("folder", [".", "server", "server/api"])
async def test_the_editor_finds_what_the_command_line_finds(client: LanguageClient, tmp_path: Path, folder: str):
    # The workspace may be the repository, the project (pyproject.toml in server/), or a folder
    # inside it: the file's import roots are the same (server/, where `shop` is).
    repo = tmp_path / "repo"
    write(repo, {"server/pyproject.toml": "", "server/shop/__init__.py": "", "server/shop/models.py": FLASK_MODELS,
                 "server/api/views.py": VIEW.format(module="shop.models")})
    (repo / ".git").mkdir()
    assert await open_in_editor(client, repo / folder, repo / "server/api/views.py") == [("ORM001", VIEW_LINE)]


async def test_the_editor_reads_the_src_setting(client: LanguageClient, tmp_path: Path):
    write(tmp_path, {"pyproject.toml": '[tool.ormlens]\nsrc = ["lib"]\n', "lib/shop/models.py": FLASK_MODELS,
                     "api/views.py": VIEW.format(module="shop.models")})
    assert await open_in_editor(client, tmp_path, tmp_path / "api/views.py") == [("ORM001", VIEW_LINE)]


# --- the whole project's declarations ---------------------------------------------------------------

SITE = {
    "manage.py": "",
    "library/__init__.py": "",
    "library/models.py": """
        from django.db import models


        class Writer(models.Model):
            name = models.CharField(max_length=80)
    """,
    "library/views.py": """
        from library.models import Writer


        def bibliography():
            out = []
            for writer in Writer.objects.all():
                out.append([novel.title for novel in writer.novels.all()])
            return out
    """,
    # Another app declares the reverse accessor `Writer.novels`; the view never imports it.
    "catalogue/__init__.py": "",
    "catalogue/models.py": """
        from django.db import models

        from library.models import Writer


        class Novel(models.Model):
            title = models.CharField(max_length=120)
            writer = models.ForeignKey(Writer, on_delete=models.CASCADE, related_name="novels")
    """,
}


def test_a_reverse_relation_declared_in_a_module_the_file_does_not_import(tmp_path: Path, capsys,
                                                                           monkeypatch) -> None:
    write(tmp_path, SITE)
    expected = [("ORM002", "library/views.py", 7)]
    assert check(capsys, monkeypatch, tmp_path, "library/views.py", "--no-cache") == expected
    assert check(capsys, monkeypatch, tmp_path, "library", "--no-cache") == expected
    assert check(capsys, monkeypatch, tmp_path, ".", "--no-cache") == expected
    # The cache of a whole-project run answers for the file checked alone, and the other way round.
    assert check(capsys, monkeypatch, tmp_path, ".") == expected
    assert check(capsys, monkeypatch, tmp_path, "library/views.py") == expected


async def test_the_editor_knows_the_reverse_relation_too(client: LanguageClient, tmp_path: Path):
    # The project's other modules are read after the first publish; then the document is
    # published again with what they declare.
    write(tmp_path, SITE)
    await open_in_editor(client, tmp_path, tmp_path / "library/views.py")
    uri = uris.from_fs_path(str(tmp_path / "library/views.py"))
    deadline = asyncio.get_running_loop().time() + 10
    while [(d.code, d.range.start.line + 1) for d in client.diagnostics[uri]] != [("ORM002", 7)]:
        assert asyncio.get_running_loop().time() < deadline, client.diagnostics[uri]
        await asyncio.sleep(0.01)
