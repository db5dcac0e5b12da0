"""The workspace folders the language server checks, each a project of its own: its root, the
settings of its own configuration file (`[tool.ormlens]` in its pyproject.toml, or ormlens.toml)
under the editor's settings, and its own project index (the analysis of one folder never reads
another's modules). A document belongs to the innermost folder that holds it; a document outside
every folder (or with no file) to the first folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ormlens.analysis.project import ProjectIndex
from ormlens.cache import FirstLook
from ormlens.config import CONFIG_FILE, Settings, load_settings, settings_from_mapping

# The files whose change may change a folder's settings (config.find_config reads them).
CONFIG_NAMES = (CONFIG_FILE, "pyproject.toml")


@dataclass(eq=False)
class Folder:
    root: Path | None
    project: ProjectIndex
    settings: Settings = field(default_factory=Settings)
    # `exclude` and `one-off` patterns are relative to the configuration file's folder, else to the root.
    settings_base: Path | None = None
    config_file: Path | None = None  # where its settings were read (None: defaults)
    first_looks: FirstLook | None = None  # the CLI's cache, read when a document opens
    # Its other modules are read after its first document's first publish (a large project takes
    # seconds): then its open documents are analysed again.
    project_read: bool = False
    # Its Python modules, listed once when a template document needs the views that render it
    # (lsp/templates.py); None: not listed yet, or forgotten since files were created or deleted.
    modules: list[str] | None = None
    # Template path -> the modules that may render it (kept across keystrokes; a module's change
    # updates its own entries, templates.module_changed).
    views_of: dict[str, list[str]] = field(default_factory=dict)

    def holds(self, path: str | Path) -> bool:
        return self.root is not None and Path(path).is_relative_to(self.root)

    def apply(self, editor_settings: dict) -> list[str]:
        """Read its configuration file again, with the editor's settings over it (key by key);
        the warnings of both, to show the user."""
        loaded = load_settings(self.root) if self.root else None
        settings, problems = settings_from_mapping(editor_settings, loaded.settings if loaded else Settings())
        self.settings = settings
        self.project.set_settings(settings)
        self.first_looks = None  # another cache file may answer for these settings
        self.config_file = loaded.source if loaded else None
        self.settings_base = loaded.source.parent if loaded and loaded.source else self.root
        if self.project.resolver.set_src(settings.src):
            self.project.refresh()  # other import roots: every resolved import may change
        return [*(loaded.warnings if loaded else []), *problems]

    def configures(self, path: str | Path) -> bool:
        """Could this file change its settings: its configuration file, or a configuration file
        in it that may now be the nearest one above its root?"""
        path = Path(path)
        if self.config_file is not None and path == self.config_file:
            return True
        return path.name in CONFIG_NAMES and self.root is not None and self.root.is_relative_to(path.parent)


def new_folder(root: Path | None) -> Folder:
    project = ProjectIndex(root, Settings())
    project.keep_units = True  # an edit re-walks the functions it changed (units.py)
    return Folder(root, project)


def folder_of(folders: list[Folder], path: str | Path | None) -> Folder:
    """The innermost folder holding `path`; the first folder for a path outside all of them."""
    holding = [folder for folder in folders if path is not None and folder.holds(path)]
    if not holding:
        return folders[0]
    return max(holding, key=lambda folder: len(folder.root.parts))  # type: ignore[union-attr]
