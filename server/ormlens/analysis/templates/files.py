"""Template files: found, read (an editor's buffer first) and parsed once per content, for the
views' side (renders.py: does a view's template read its rows at all?) and the templates' side
(evaluate.py)."""

from __future__ import annotations

import hashlib
import os

from ormlens.analysis import templates as syntax
from ormlens.analysis.templates import ir, lookup

MAX_TEMPLATE_BYTES = 2_000_000  # a bigger "template" is generated output, not a page


def configured(project, cache: dict) -> tuple[str, ...]:
    """The template folders the project's modules configure, read again when modules come or go."""
    modules = project.loaded()
    key = ("configured", len(modules))
    if key not in cache:
        # (Read by a node of its own: a view's findings do not depend on every module's text.)
        with project.dependencies.computing("template-folders"):
            texts = [decl.source for path in modules if (decl := project.decl(path)) is not None]
        cache[key] = lookup.configured_folders(texts)
    return cache[key]


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def load(project, path: str, language: str | None, cache: dict) -> tuple[str, ir.Template] | None:
    """A template's text (an editor's buffer first) and its reading, cached by content."""
    project.dependencies.read(path)  # what reads it is computed again when it changes
    text = project.buffer(path)
    if text is None:
        text = disk_text(path, cache)
    if text is None or len(text) > MAX_TEMPLATE_BYTES:
        return None
    language = language or syntax.language_of(path, text)
    if language is None:
        return None
    key = ("parsed", path, language, digest(text))
    template = cache.get(key)
    if template is None:
        template = cache[key] = syntax.parse(text, language)
    return text, template


def disk_text(path: str, cache: dict) -> str | None:
    """A template file's text, read again only when its size or time changed (a keystroke in a view
    that renders many templates stats them, it does not read them)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = ("disk", path)
    held = cache.get(key)
    if held is not None and held[0] == (stat.st_mtime_ns, stat.st_size):
        return held[1]
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_TEMPLATE_BYTES + 1).decode("utf-8", "replace")
    except OSError:
        return None
    cache[key] = ((stat.st_mtime_ns, stat.st_size), text)
    return text


def find(project, name: str, near: str) -> str | None:
    """The file a view in `near` renders by template name `name` (lookup.find_template); a name
    found is kept for the views of that folder (lookup looks at every template folder)."""
    cache = project.plugin_caches.setdefault("templates", {})
    cache["live"] = project.keep_units  # (the editor's index lives long: new template folders appear)
    found = cache.setdefault("found", {})
    key = (name, os.path.dirname(near))
    if key not in found:
        root = str(project.root) if project.root is not None else None
        path = lookup.find_template(name, near, root, cache, configured(project, cache))
        if path is None:
            return None  # (not kept: a template made later is found by walking the folders again)
        found[key] = path
    return found[key]


def loader(project, language: str):
    """What translate.py loads the templates a template includes, extends or imports with."""
    cache = project.plugin_caches.setdefault("templates", {})

    def load_named(name: str, near: str):
        path = find(project, name, near)
        read = load(project, path, language, cache) if path is not None else None
        return (path, *read) if read is not None else None
    return load_named


def names_read(project, names: tuple[str, ...], near: str) -> set[str] | None:
    """The context names the first of `names` found reads, with what it includes, extends and
    imports (translate.py's free names); None when no such template is found or read."""
    from ormlens.analysis.templates.translate import Translator

    cache = project.plugin_caches.setdefault("templates", {})
    path = next((found for name in names if (found := find(project, name, near)) is not None), None)
    loaded = load(project, path, None, cache) if path is not None else None
    if loaded is None:
        return None
    text, template = loaded
    key = ("names read", path, digest(text))
    if key not in cache:
        cache[key] = Translator(path, text, template, loader(project, template.language), set()).free_names()
    return cache[key]
