"""Template documents in the language server (issue #17): a Django or Jinja2 template open in the
editor is checked through the views that render it. Its text becomes the project's source for it
(the template reader takes the project's buffers first), the views that may render it are found by
name (lookup.views_naming over the folder's modules), each is analysed, and the findings placed in
the template are its diagnostics. Their quick fixes edit the view (finding.fix_path), built against
the view's text the analysis read. Protocol-free: the server (server.py) calls these on its worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ormlens.analysis.templates.lookup import is_template, views_naming
from ormlens.discovery import root_modules
from ormlens.engine import analyze, deep_recursion
from ormlens.findings import Finding
from ormlens.fixes.base import SourceText
from ormlens.fixes.registry import fix_for
from ormlens.lsp.folders import Folder

log = logging.getLogger("ormlens.lsp")

# The language ids editors give template files (VS Code's Django and Jinja extensions, Vim/Neovim's
# `htmldjango` and `jinja` filetypes, plain HTML).
TEMPLATE_LANGUAGES = frozenset({"django-html", "htmldjango", "jinja", "jinja-html", "jinja2", "html"})


def is_template_document(language_id: str | None, path: str | None) -> bool:
    """Is an open document a template (checked through its views) rather than a Python module?"""
    if path is not None and path.endswith((".py", ".pyi")):
        return False
    return language_id in TEMPLATE_LANGUAGES or (path is not None and is_template(path))


@dataclass
class TemplateResult:
    findings: list[Finding] = field(default_factory=list)
    # The views analysed for it, each with the text the analysis read: a quick fix edits that text.
    views: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def folder_modules(folder: Folder) -> list[str]:
    """The folder's Python modules (listed once per folder; `reload_project` forgets the list)."""
    if folder.modules is None:
        modules: list[str] = []
        if folder.root is not None:
            settings = folder.settings
            modules = [str(module) for module in root_modules(folder.root, folder.settings_base or folder.root,
                                                             settings.exclude, settings.respect_gitignore)]
        folder.modules = modules
    return folder.modules


def _reader(folder: Folder):
    project = folder.project
    return lambda path: project.read(str(Path(path).resolve()))


def views_rendering(folder: Folder, template: str, open_modules: list[str]) -> list[str]:
    """The modules that may render `template`: of the folder's modules and the open Python documents
    (whose buffers are read, not the disk). Searched once per template: a keystroke in it does not
    change which views name it."""
    if template not in folder.views_of:
        modules = list(dict.fromkeys([*folder_modules(folder), *open_modules]))
        folder.views_of[template] = views_naming(template, modules, _reader(folder))
    return folder.views_of[template]


def module_changed(folder: Folder, path: str) -> None:
    """On the worker thread: the module at `path` has another text: whether it names each template
    searched before is decided again (it may start or stop rendering it)."""
    for template, views in folder.views_of.items():
        names = bool(views_naming(template, [path], _reader(folder)))
        if names and path not in views:
            views.append(path)
        elif not names and path in views:
            views.remove(path)


def analyse_template(folder: Folder, path: str, text: str, open_modules: list[str]) -> TemplateResult:
    """On the worker thread: the findings in the template at `path` (its text: `text`), from the
    analysis of every view that may render it (the first view's finding where two report one place)."""
    project = folder.project
    project.set_source(path, text)
    result = TemplateResult()
    seen: set[tuple] = set()
    for view in views_rendering(folder, path, open_modules):
        with deep_recursion():
            findings, error = analyze(project, view, folder.settings)
        if error:
            result.errors.append(error)
        decl = project.decl(view)  # (the text the analysis parsed: no second read of the file)
        if decl is None:
            continue
        result.views[view] = decl.source
        for finding in findings:
            key = finding.identity()
            if finding.path == path and key not in seen:
                seen.add(key)
                result.findings.append(finding)
    return result


def view_fix(folder: Folder, finding: Finding, view_text: str):
    """The quick fix of a template's finding, built against its view's text (None: it offers none)."""
    if finding.fix is None or finding.fix_path is None:
        return None
    return fix_for(finding, SourceText(view_text), folder.settings)
