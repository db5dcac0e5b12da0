"""Which files `ormlens check` looks at: `.py` files under the given paths, minus the usual
tool/venv directories, `.gitignore`d paths and `exclude` globs. Files named explicitly are
always kept, as ruff does: the user asked for them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from pathspec import GitIgnoreSpec

# Never worth walking into: environments, caches, build output, VCS metadata.
SKIP_DIRS = frozenset(
    {
        ".venv",
        "venv",
        "node_modules",
        ".git",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        "build",
        "dist",
        "site-packages",
    }
)

# A .gitignore applies to its own directory; deeper ones are consulted first.
_Specs = list[tuple[Path, GitIgnoreSpec]]


def discover(paths: Iterable[Path], root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """Absolute paths of the files to check, sorted and without duplicates.

    `root` is the project root: `exclude` patterns are relative to it, gitignore-style
    (`migrations` matches at any depth, `app/legacy/*.py` only there)."""
    root = _absolute(root)
    excluded = GitIgnoreSpec.from_lines(exclude)
    found: set[Path] = set()
    for given in paths:
        path = _absolute(given)
        if path.is_dir():
            _walk(path, _ancestor_specs(path, root), excluded, root, found)
        elif path.exists():
            found.add(path)
    return sorted(found)


def excluded(path: Path, root: Path, exclude: Sequence[str]) -> bool:
    """Does an `exclude` pattern (relative to `root`) match this file or a folder above it?"""
    if not exclude:
        return False
    path, root = _absolute(path), _absolute(root)
    spec = GitIgnoreSpec.from_lines(exclude)
    rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    parts = rel.parts
    folders = ("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return any(spec.match_file(p) for p in folders) or spec.match_file(rel.as_posix())


def _absolute(path: Path) -> Path:
    # Resolved like the pyproject.toml lookup and os.getcwd(), so paths compare with both.
    # Only the given paths: entries found while walking keep their (symlinked) names.
    return path.resolve()


def _walk(directory: Path, specs: _Specs, excluded: GitIgnoreSpec, root: Path, found: set[Path]) -> None:
    specs = specs + _load_gitignore(directory)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:  # unreadable directory: skip it rather than abort the run
        return
    for entry in entries:
        path = directory / entry.name
        # Directory symlinks are not followed: they can loop or leave the project.
        if entry.is_dir(follow_symlinks=False):
            if entry.name in SKIP_DIRS or _skipped(path, True, specs, excluded, root):
                continue
            _walk(path, specs, excluded, root, found)
        elif entry.name.endswith(".py") and entry.is_file():
            if not _skipped(path, False, specs, excluded, root):
                found.add(path)


def _skipped(path: Path, is_dir: bool, specs: _Specs, excluded: GitIgnoreSpec, root: Path) -> bool:
    suffix = "/" if is_dir else ""  # so that directory-only patterns (`build/`) match
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    if excluded.match_file(rel + suffix):
        return True
    # The deepest .gitignore with a matching pattern decides (it may re-include with `!`).
    for base, spec in reversed(specs):
        decision = spec.check_file(path.relative_to(base).as_posix() + suffix).include
        if decision is not None:
            return decision
    return False


def _ancestor_specs(top: Path, root: Path) -> _Specs:
    """The .gitignore files above `top` that still apply to it: up to the repository root
    (the nearest directory with `.git`), else up to the project root. Never beyond, so a
    stray ~/.gitignore does not hide a project outside any repository."""
    boundary = next((d for d in (top, *top.parents) if (d / ".git").exists()), None)
    if boundary is None:
        boundary = root if top.is_relative_to(root) else top
    ancestors = [d for d in top.parents if d.is_relative_to(boundary)]
    return [spec for d in reversed(ancestors) for spec in _load_gitignore(d)]


def _load_gitignore(directory: Path) -> _Specs:
    try:
        lines = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:  # usually: there is none
        return []
    return [(directory, GitIgnoreSpec.from_lines(lines))]
