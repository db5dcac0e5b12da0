"""Helpers shared by the test modules."""

from __future__ import annotations

from pathlib import Path


def locate(path: Path, snippet: str, occurrence: int = 0) -> tuple[int, int, int, int]:
    """(line, col, end_line, end_col) of `snippet` in `path`: 1-based lines, UTF-8 byte columns,
    as `ast` and ormlens's findings count them. Computed from the text, never from the tool."""
    text = path.read_text(encoding="utf-8")
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(snippet, start + 1)

    def position(offset: int) -> tuple[int, int]:
        line_start = text.rfind("\n", 0, offset) + 1
        return text.count("\n", 0, offset) + 1, len(text[line_start:offset].encode("utf-8"))

    return (*position(start), *position(start + len(snippet)))


# --- real editors ------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def find_ormlens() -> str:
    """The `ormlens` command installed next to the Python running pytest (or on PATH)."""
    import shutil
    import sys

    import pytest

    local = Path(sys.executable).parent / "ormlens"
    found = str(local) if local.is_file() else shutil.which("ormlens")
    if found is None:
        pytest.fail("the ormlens command is not installed next to the Python running pytest")
    return str(Path(found).resolve())


def run_editor(command: list[str], workspace: Path, ormlens: str, what: str, timeout: int = 60):
    """Run a headless editor in a writable copy of examples/ (examples/ is read-only), with HOME
    and the XDG directories inside `workspace` (editors write logs, state and caches there).
    Returns the finished process and a report of its output for assertion messages."""
    import os
    import shutil
    import subprocess

    import pytest

    for path in EXAMPLES.glob("*.py"):
        shutil.copyfile(path, workspace / path.name)
    home = workspace / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
           "XDG_CACHE_HOME": str(home / ".cache"), "ORMLENS_CMD": ormlens}
    try:
        run = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} did not finish within {timeout} s; stdout:\n{exc.stdout}\nstderr:\n{exc.stderr}")
    return run, f"exit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"


# A little Django project's models (a book and its author) and a view that reads each book's
# author once per row (ORM002): what the tests of the command line's adoption features, the
# pre-commit hooks, one-off code and the editor's folders run on.
AUTHOR_BOOK_MODELS = '''\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=10)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
'''

AUTHOR_PER_BOOK_VIEW = '''\
from app.models import Book


def names():
    out = []
    for book in Book.objects.all():
        out.append(book.author.name)
    return out
'''
