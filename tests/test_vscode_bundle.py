"""The VS Code extension's bundled ormlens (issue #16): vscode-extension/scripts/bundle.py builds
ormlens and its dependencies (pure-Python ones shared, compiled ones per CPython version) as the
one archive the .vsix carries; bundled/tool/ormlens_server.py unpacks it on its first start and
serves LSP on an interpreter that has no ormlens, as the extension starts it (`useBundled`); with
`fromEnvironment` an interpreter's own ormlens is used. The real VS Code test
(tests/test_editor_vscode.py) runs the packaged .vsix the same way."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lsp_wire import Wire, file_uri

EXTENSION = Path(__file__).resolve().parents[1] / "vscode-extension"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VERSION = f"cp{sys.version_info[0]}{sys.version_info[1]}"


@pytest.fixture(scope="module")
def extension(tmp_path_factory) -> Path:
    """A copy of the extension's bundled/ as the .vsix installs it: the launcher and libs.zip only."""
    root = tmp_path_factory.mktemp("extension")
    libs = root / "bundled" / "libs"
    subprocess.run([sys.executable, str(EXTENSION / "scripts" / "bundle.py"), "--pythons", "current",
                    "--out", str(libs)], check=True, capture_output=True)
    shutil.rmtree(libs)  # the .vsix carries the archive (.vscodeignore), not the folder
    shutil.copytree(EXTENSION / "bundled" / "tool", root / "bundled" / "tool")
    return root


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def test_the_archive_holds_shared_pure_python_and_this_versions_compiled_code(extension: Path) -> None:
    with zipfile.ZipFile(extension / "bundled" / "libs.zip") as archive:
        names = archive.namelist()
    assert "common/ormlens/cli.py" in names and "common/pygls/__init__.py" in names
    assert any(n.startswith(f"{VERSION}/libcst/") and n.endswith(".so") for n in names)  # compiled: per version
    assert not any(n.startswith("common/libcst/") for n in names)
    assert not any("__pycache__" in n for n in names)


async def serve(command: list[str], root: Path, env: dict) -> tuple[list[str], str]:
    """Open the seed's original.py through the launcher's server; its diagnostics' codes, and its log."""
    wire = await Wire.start(command, cwd=root, env=env)
    try:
        await wire.initialize(root)
        path = root / "original.py"
        uri = file_uri(path)
        wire.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": path.read_text()}})
        assert await wire.wait_for(lambda: any(p.uri == uri for p in wire.publishes), deadline=30), wire.stderr_tail()
        [publish] = [p for p in wire.publishes if p.uri == uri][:1]
        logged = "\n".join(str(n.get("params", {}).get("message")) for n in wire.notifications
                           if n.get("method") == "window/logMessage")
        return sorted(d["code"] for d in publish.diagnostics), logged
    finally:
        await wire.close()


def test_the_launcher_serves_on_an_interpreter_without_ormlens(extension: Path, bare_python: str,
                                                               tmp_path: Path) -> None:
    for path in EXAMPLES.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    clean = {"PYTHONPATH": "", "ORMLENS_IMPORT_STRATEGY": "useBundled"}
    launcher = str(extension / "bundled" / "tool" / "ormlens_server.py")
    codes, logged = asyncio.run(serve([bare_python, launcher], tmp_path, clean))
    assert codes == ["ORM001", "ORM001", "ORM005"]
    assert f"(bundled on {bare_python}) ready" in logged
    assert (extension / "bundled" / "libs" / VERSION).is_dir()  # unpacked beside the archive, once
    # fromEnvironment: an interpreter that has ormlens runs its own.
    codes, logged = asyncio.run(serve([sys.executable, launcher], tmp_path,
                                      {"ORMLENS_IMPORT_STRATEGY": "fromEnvironment"}))
    assert codes == ["ORM001", "ORM001", "ORM005"]
    assert f"(the environment on {sys.executable}) ready" in logged


def test_an_interpreter_the_bundle_has_no_build_for_is_told_so(extension: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bundled"
    shutil.copytree(extension / "bundled" / "tool", fake / "tool")
    (fake / "libs" / "cp39").mkdir(parents=True)
    done = subprocess.run([sys.executable, str(fake / "tool" / "ormlens_server.py")], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 2
    assert f"the bundled ormlens has no build for Python {sys.version.split()[0]} (builds: cp39)" in done.stderr
