"""The package as a release would ship it (issue #16): a wheel built from this checkout carries its
metadata (license file, project URLs, classifiers, the `ormlens` command) and nothing but the
package, and `uvx` / `pipx run` run ormlens from that wheel alone, in environments of their own
(dependencies from PyPI), with the same output as this checkout's ormlens."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # (pip builds it in an isolated environment, with the build backend the project asks for)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPOSITORY)],
                   check=True, capture_output=True)
    [built] = out.glob("ormlens-*.whl")
    return built


def expected_output() -> str:
    done = subprocess.run([sys.executable, "-m", "ormlens", "check", "--no-cache", "examples"], cwd=REPOSITORY,
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout.endswith("Found 10 errors.\n")
    return done.stdout


def test_the_wheel_carries_what_a_release_needs(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert metadata["License-Expression"] == "MIT"
    assert f"{info}/licenses/LICENSE" in names
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Documentation", "Rules", "Changelog", "Issues"}
    assert urls["Changelog"].endswith("/CHANGELOG.md") and (REPOSITORY / "CHANGELOG.md").is_file()
    classifiers = metadata.get_all("Classifier")
    assert "Topic :: Software Development :: Quality Assurance" in classifiers
    assert metadata["Requires-Python"] == ">=3.10"
    assert "ormlens = ormlens.cli:main" in entry_points
    # The package and its rules' documentation, never the repository's tests or benchmarks.
    assert {"ormlens/cli.py", "ormlens/lsp/server.py", "ormlens/rules/orm001_n_plus_one_query.py"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/"))]


@pytest.mark.parametrize("runner", ["uvx", "pipx"])
def test_uvx_and_pipx_run_ormlens_from_the_wheel(wheel: Path, runner: str, tmp_path: Path) -> None:
    environment = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv"), "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
                   "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "pipx-bin")}
    environment.pop("PYTHONPATH", None)  # nothing of this checkout: the wheel alone
    tool = shutil.which("uv", path=str(BIN)) if runner == "uvx" else shutil.which("pipx", path=str(BIN))
    assert tool, f"{runner} is installed by the test extra"
    prefix = [tool, "tool", "run", "--from", str(wheel)] if runner == "uvx" else [tool, "run", "--spec", str(wheel)]
    done = subprocess.run([*prefix, "ormlens", "check", "--no-cache", "examples"], cwd=REPOSITORY,
                          capture_output=True, text=True, env=environment, timeout=600)
    assert (done.returncode, done.stdout) == (1, expected_output()), done.stderr[-2000:]
