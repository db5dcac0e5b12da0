"""Which files `ormlens check` looks at: `.py` files under the given paths, minus the usual
tool/venv directories, `.gitignore`d paths and `exclude` globs. Files named explicitly are
always kept, as ruff does: the user asked for them. A named folder that yields no file is
reported with the rules that emptied it, so that an ignored folder is never a silent pass."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

from ormlens.config import find_root

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


@dataclass(frozen=True)
class IgnoreRule:
    """One pattern that leaves a path out: from a `.gitignore` file, or (source None) from the
    `exclude` setting."""

    source: Path | None
    pattern: str


@dataclass(frozen=True)
class EmptyFolder:
    """A folder named on the command line in which discovery found no file to check."""

    folder: Path
    ignored_itself: bool  # a rule matches the folder, not only what is inside it
    rules: tuple[IgnoreRule, ...]  # what leaves its Python files out; () when it has none


@dataclass
class Discovery:
    files: list[Path]
    empty_folders: list[EmptyFolder] = field(default_factory=list)


def discover(paths: Iterable[Path], root: Path, exclude: Sequence[str] = (),
             respect_gitignore: bool = True) -> list[Path]:
    """Absolute paths of the files to check, sorted and without duplicates.

    `root` is the project root: `exclude` patterns are relative to it, gitignore-style
    (`migrations` matches at any depth, `app/legacy/*.py` only there)."""
    return find_files(paths, root, exclude, respect_gitignore).files


def find_files(paths: Iterable[Path], root: Path, exclude: Sequence[str] = (),
               respect_gitignore: bool = True) -> Discovery:
    """As `discover`, and which named folders gave nothing, and why."""
    root = _absolute(root)
    excluded = GitIgnoreSpec.from_lines(exclude)
    found: set[Path] = set()
    empty: list[EmptyFolder] = []
    for given in paths:
        path = _absolute(given)
        if path.is_dir():
            specs = _ancestor_specs(path, root) if respect_gitignore else []
            before = len(found)
            _walk(path, specs, excluded, root, found, respect_gitignore)
            # Nothing new, and nothing already found under it (the folder may be named twice).
            if len(found) == before and not any(f.is_relative_to(path) for f in found):
                empty.append(_why_empty(path, specs, excluded, root, respect_gitignore))
        elif path.exists():
            found.add(path)
    return Discovery(sorted(found), empty)


def root_modules(root: Path, base: Path, exclude: Sequence[str] = (), respect_gitignore: bool = True) -> list[Path]:
    """The Python modules of a project root: project_modules, else (no marker makes it a project)
    every `.py` file `check <root>` would read. (Where the views of a template are looked for.)"""
    modules, _ = project_modules(root, base, exclude, respect_gitignore)
    found = modules or find_files([root], base, exclude, respect_gitignore).files
    return [module for module in found if module.suffix == ".py"]


# A project's modules are all read (declarations) up to this many; past it, only the imports.
MAX_PROJECT_MODULES = 20_000


def project_modules(root: Path, base: Path, exclude: Sequence[str] = (),
                    respect_gitignore: bool = True) -> tuple[list[Path], str | None]:
    """Every module of the project (walked as `check <root>` would, `exclude` relative to `base`):
    their models, relations and helpers count for the files analysed, also those the files do not
    import (a reverse relation declared in another app). None for a root that no marker makes (it
    may be any folder), and none past MAX_PROJECT_MODULES, with a warning to show."""
    if find_root(root) != root:
        return [], None
    modules = find_files([root], base, exclude, respect_gitignore).files
    if len(modules) > MAX_PROJECT_MODULES:
        return [], (f"{root} holds {len(modules):,} Python files (over {MAX_PROJECT_MODULES:,}): only the "
                    "files analysed and what they import are read")
    return modules, None


def excluded(path: Path, root: Path, exclude: Sequence[str]) -> bool:
    """Does an `exclude` pattern (relative to `root`) match this file or a folder above it?"""
    if not exclude:
        return False
    path, root = _absolute(path), _absolute(root)
    spec = _spec(tuple(exclude))
    rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    parts = rel.parts
    folders = ("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return any(spec.match_file(p) for p in folders) or spec.match_file(rel.as_posix())


def force_excluded(path: Path, base: Path, exclude: Sequence[str]) -> bool:
    """With `force-exclude`: is a file named on the command line left out anyway, as a walk would
    leave it out (an `exclude` pattern, or a folder never walked: `.venv`, `build`, ...)?"""
    path, base = _absolute(path), _absolute(base)
    folders = path.relative_to(base).parts[:-1] if path.is_relative_to(base) else ()
    return any(folder in SKIP_DIRS for folder in folders) or excluded(path, base, exclude)


@functools.lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines(patterns)


def _absolute(path: Path) -> Path:
    # Resolved like the pyproject.toml lookup and os.getcwd(), so paths compare with both.
    # Only the given paths: entries found while walking keep their (symlinked) names.
    return path.resolve()


def _walk(directory: Path, specs: _Specs, excluded: GitIgnoreSpec, root: Path, found: set[Path],
          respect_gitignore: bool) -> None:
    if respect_gitignore:
        specs = specs + _load_gitignore(directory)
    for path, is_dir in _entries(directory):
        if is_dir:
            if path.name in SKIP_DIRS or _rule(path, True, specs, excluded, root):
                continue
            _walk(path, specs, excluded, root, found, respect_gitignore)
        elif not _rule(path, False, specs, excluded, root):
            found.add(path)


def _entries(directory: Path) -> list[tuple[Path, bool]]:
    """The subdirectories and `.py` files of `directory`, by name, each with `is_dir`."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:  # unreadable directory: skip it rather than abort the run
        return []
    # Directory symlinks are not followed: they can loop or leave the project.
    return [(directory / entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries
            if entry.is_dir(follow_symlinks=False) or (entry.name.endswith(".py") and entry.is_file())]


def _why_empty(folder: Path, specs: _Specs, excluded: GitIgnoreSpec, root: Path,
               respect_gitignore: bool) -> EmptyFolder:
    itself = _rule(folder, True, specs, excluded, root)
    if itself:
        return EmptyFolder(folder, True, (itself,))
    rules: dict[IgnoreRule, None] = {}  # in walk order, without duplicates
    _ignoring_rules(folder, specs, excluded, root, None, rules, respect_gitignore)
    return EmptyFolder(folder, False, tuple(rules))


def _ignoring_rules(directory: Path, specs: _Specs, excluded: GitIgnoreSpec, root: Path,
                    inherited: IgnoreRule | None, rules: dict[IgnoreRule, None], respect_gitignore: bool) -> None:
    """Walk as `_walk` does but into ignored directories too, collecting the rule that leaves
    out each Python file (its own, or the one of the directory it is in). Only run for a folder
    that gave nothing, to tell an ignored folder from one without Python files."""
    if respect_gitignore:
        specs = specs + _load_gitignore(directory)
    for path, is_dir in _entries(directory):
        if is_dir and path.name in SKIP_DIRS:
            continue
        rule = inherited or _rule(path, is_dir, specs, excluded, root)
        if is_dir:
            _ignoring_rules(path, specs, excluded, root, rule, rules, respect_gitignore)
        elif rule:
            rules[rule] = None


def _rule(path: Path, is_dir: bool, specs: _Specs, excluded: GitIgnoreSpec, root: Path) -> IgnoreRule | None:
    """The rule that leaves `path` out, or None when it is kept."""
    suffix = "/" if is_dir else ""  # so that directory-only patterns (`build/`) match
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    hit = excluded.check_file(rel + suffix)
    if hit.include and path != root:  # patterns are below the root (`*` is not the root itself)
        return IgnoreRule(None, excluded.patterns[hit.index].pattern)
    # The deepest .gitignore with a matching pattern decides (it may re-include with `!`).
    for base, spec in reversed(specs):
        hit = spec.check_file(path.relative_to(base).as_posix() + suffix)
        if hit.include is not None:
            return IgnoreRule(base / ".gitignore", spec.patterns[hit.index].pattern) if hit.include else None
    return None


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
