"""`ormlens check --jobs N` gives exactly what one process gives, on real projects (their released
sources, downloaded from PyPI into the benchmarks' cache at run time), with and without the cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from pypi_sources import fetch  # noqa: E402

# (requirement, the folder checked): one SQLAlchemy project, one Django project. (Flask-AppBuilder's
# package itself has no finding left since ORM004 follows what callers pass: its tests' fixtures do.)
PROJECTS = [("flask-appbuilder==5.3.0", "tests"), ("django-oscar==4.2.1", "src/oscar")]


def check(root: Path, folder: str, *args: str) -> str:
    # Every finding, one-off code's too: the comparison wants as many as the project has.
    result = subprocess.run([sys.executable, "-m", "ormlens", "check", folder, "--output-format", "json",
                             "--include", "one-off", *args],
                            cwd=root, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize(("requirement", "folder"), PROJECTS)
def test_two_processes_give_what_one_gives(requirement: str, folder: str, tmp_path: Path):
    root = fetch(requirement)
    one = check(root, folder, "--no-cache", "--jobs", "1")
    assert one.count('"code"') >= 5  # the project has findings to compare
    assert check(root, folder, "--no-cache", "--jobs", "2") == one
    cache = str(tmp_path / "cache")
    assert check(root, folder, "--jobs", "2", "--cache-dir", cache) == one  # filling the cache
    assert check(root, folder, "--jobs", "2", "--cache-dir", cache) == one  # answered from it
