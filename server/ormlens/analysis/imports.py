"""Import resolution as Python sees it: which file `import a.b` or `from .c import d` names,
read from directory listings (never by importing anything).

An absolute import starts from the import roots of the importing file, in this order:

1. the parent of the file's top package (the first folder above it without `__init__.py`): for a
   module of a package that is the folder holding the package; for a script in a folder without
   `__init__.py` it is the script's own folder, as `python script.py` puts it on `sys.path`;
2. the file's project root: the nearest folder above it holding `pyproject.toml`, `setup.py`,
   `setup.cfg`, `manage.py` or `.git` (config.ROOT_MARKERS), else (or when the file's folder does
   not exist) the index's root;
3. that root's `src/`;
4. the `src` setting's folders (relative ones: relative to the index's root).

They depend on the file alone (and the `src` setting), not on how the run was started, so a file
resolves its imports the same when checked alone, in its folder, as `.` or in the editor. The
importing file's own folder is not a root unless one of these makes it one: `from flask import
request` inside the package `app/utils/` never means `app/utils/flask.py` (Python 3 has no implicit
relative imports). Relative imports start from the file's package, as in Python."""

from __future__ import annotations

import os
from pathlib import Path

from ormlens.analysis.declarations import ImportRef
from ormlens.config import ROOT_MARKERS


class ImportResolver:
    def __init__(self, root: Path | str | None = None, src: tuple[str, ...] = ()):
        self.root = str(root) if root else None
        self.src = self._absolute(src)
        self._module_files: dict[tuple[str, ImportRef], str | None] = {}
        self._listings: dict[str, frozenset[str]] = {}
        self._found: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self._roots: dict[str, list[str]] = {}

    # --- caches -------------------------------------------------------------------------------

    def clear(self) -> None:
        """Files were created or deleted anywhere: list every folder again."""
        self._listings.clear()
        self._forget_resolutions()

    def changed(self, path: str) -> None:
        """The file at `path` changed on disk; it may be new (a module, an `__init__.py`, a marker)."""
        self._listings.pop(os.path.dirname(path), None)
        self._forget_resolutions()

    def set_src(self, src: tuple[str, ...]) -> bool:
        """Use these `src` folders from now on; True when they differ from the ones in use."""
        absolute = self._absolute(src)
        if absolute == self.src:
            return False
        self.src = absolute
        self._forget_resolutions()
        return True

    def _forget_resolutions(self) -> None:
        self._module_files.clear()
        self._found.clear()
        self._roots.clear()

    def _absolute(self, src: tuple[str, ...]) -> tuple[str, ...]:
        # A relative folder (editor settings) is relative to the root; without a root it is unusable.
        return tuple(os.path.normpath(s if os.path.isabs(s) else os.path.join(self.root, s))
                     for s in src if os.path.isabs(s) or self.root)

    def entries(self, directory: str) -> frozenset[str]:
        """A directory's names, listed once (imports are resolved by thousands per project)."""
        entries = self._listings.get(directory)
        if entries is None:
            try:
                entries = frozenset(os.listdir(directory))
            except OSError:
                entries = frozenset()
            self._listings[directory] = entries
        return entries

    # --- roots --------------------------------------------------------------------------------

    def package_root(self, directory: str) -> str:
        """The parent of the top package that `directory` belongs to: the first folder, from
        `directory` up, without `__init__.py` (`directory` itself when it is not a package)."""
        while "__init__.py" in self.entries(directory):
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        return directory

    def project_root(self, directory: str) -> str | None:
        """The nearest folder at or above `directory` holding a root marker (config.find_root)."""
        while True:
            entries = self.entries(directory)
            if any(marker in entries for marker in ROOT_MARKERS):
                return directory
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent

    def roots_for(self, directory: str) -> list[str]:
        """The folders an absolute import in a module of `directory` starts from, in order."""
        roots = self._roots.get(directory)
        if roots is None:
            # A document whose folder is not on disk (an editor's path from another machine, a
            # folder not created yet) belongs to no project there: the index's root stands in.
            project = (self.project_root(directory) if os.path.isdir(directory) else None) or self.root
            found = [self.package_root(directory)]
            if project is not None:
                found += [project, os.path.join(project, "src")]
            found += self.src
            roots = self._roots[directory] = list(dict.fromkeys(found))
        return roots

    # --- modules ------------------------------------------------------------------------------

    def module_file(self, from_path: str, ref: ImportRef) -> str | None:
        """The file an import in `from_path` names (a module, or a package's `__init__.py`);
        None when it is not a project file (a library, or not found)."""
        directory = os.path.dirname(from_path)
        key = (directory, ref)
        if key not in self._module_files:
            parts = tuple(p for p in ref.module.split(".") if p)
            if ref.level:
                for _ in range(ref.level - 1):
                    directory = os.path.dirname(directory)
                candidates = [directory]
            else:
                candidates = self.roots_for(directory)
            self._module_files[key] = next(
                (found for base in candidates if (found := self._module_in(base, parts)) is not None), None)
        return self._module_files[key]

    def _module_in(self, base: str, parts: tuple[str, ...]) -> str | None:
        key = (base, parts)
        if key not in self._found:
            self._found[key] = self._find_module_in(base, parts)
        return self._found[key]

    def _find_module_in(self, base: str, parts: tuple[str, ...]) -> str | None:
        directory = base
        for part in parts[:-1]:
            if part not in self.entries(directory):
                return None
            directory = os.path.join(directory, part)
        last = parts[-1] if parts else None
        entries = self.entries(directory)
        if last is not None and f"{last}.py" in entries:
            return os.path.realpath(os.path.join(directory, f"{last}.py"))
        package = os.path.join(directory, last) if last is not None else directory
        if (last is None or last in entries) and "__init__.py" in self.entries(package):
            return os.path.realpath(os.path.join(package, "__init__.py"))
        return None
