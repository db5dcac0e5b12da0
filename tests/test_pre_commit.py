"""The hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` on a scratch repository: the
hook repository is a commit of this checkout's package (what pre-commit installs with pip into the
hook's environment, dependencies from PyPI: about a minute, once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import AUTHOR_BOOK_MODELS, AUTHOR_PER_BOOK_VIEW


CHECKOUT = Path(__file__).resolve().parent.parent
# What `pip install <hook repository>` needs of the checkout.
PACKAGE = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "server"]

MODELS = AUTHOR_BOOK_MODELS

VIEWS = AUTHOR_PER_BOOK_VIEW


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def hook_repository(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "hooks"
    repo.mkdir()
    for name in PACKAGE:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ormlens")
    return repo, git(repo, "rev-parse", "HEAD")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_hooks_fail_on_an_n_plus_one_fix_it_and_skip_excluded_files(tmp_path: Path) -> None:
    hooks, rev = hook_repository(tmp_path)
    project = tmp_path / "project"
    write(project / "pyproject.toml", '[tool.ormlens]\nexclude = ["app/legacy.py"]\n')
    write(project / "app" / "__init__.py", "")
    write(project / "app" / "models.py", MODELS)
    write(project / "app" / "views.py", VIEWS)
    write(project / "app" / "legacy.py", VIEWS)  # excluded: pre-commit names it, force-exclude skips it
    write(project / ".pre-commit-config.yaml",
          f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n"
          "      - id: ormlens-check\n      - id: ormlens-fix\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH", None)  # the hook runs the ormlens pre-commit installed, not this checkout's

    def run(hook: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"],
                              cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600)

    failed = run("ormlens-check")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "app/views.py:7:20: ORM002 `book.author` lazy-loads `Book.author`" in failed.stdout
    assert "legacy" not in failed.stdout
    assert "Found 1 error." in failed.stdout

    fixed = run("ormlens-fix")
    assert fixed.returncode == 1  # pre-commit fails a hook that changed files
    assert "Fixed 1 error." in fixed.stdout and "files were modified by this hook" in fixed.stdout
    assert (project / "app" / "views.py").read_text() == VIEWS.replace(
        "Book.objects.all()", 'Book.objects.all().select_related("author")')
    assert (project / "app" / "legacy.py").read_text() == VIEWS

    passed = run("ormlens-check")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "ormlens check" in passed.stdout and "Passed" in passed.stdout
