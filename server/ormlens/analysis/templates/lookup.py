"""Where a template name points: the project's template folders, as Django and Flask look them up.

Django's app loader looks in each app's `templates/` (and `jinja2/` for its Jinja2 backend),
`TEMPLATES["DIRS"]` are most often a `templates/` folder at the project's root, Flask looks in the
application's (or a blueprint's) `templates/`, Pyramid resolves a renderer's path from the view's
package. So: every folder named `templates` or `jinja2` under the root, and the view's own folders.
When one name is found in several places (an app's template overridden by the project's) the one
nearest the view is taken; two at the same distance mean not known (silence)."""

from __future__ import annotations

import os
import re
import time

TEMPLATE_FOLDERS = frozenset({"templates", "jinja2"})
# Folders never searched: version control, environments, dependencies, caches, built files.
SKIPPED = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
                     "site-packages", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".ormlens_cache", "build",
                     "dist", "static"})
MAX_FOLDERS = 2_000
REWALK_SECONDS = 5.0


def template_folders(root: str, cache: dict, configured: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every folder named `templates`/`jinja2` under `root`, and those whose path ends with a
    folder the project's code configures (`configured`: see configured_folders), found once per
    project index and configuration."""
    key = ("folders", root, configured)
    if key not in cache:
        found: list[str] = []
        suffixes = tuple("/" + name.strip("/") for name in configured)
        for folder, subfolders, _ in os.walk(root):
            subfolders[:] = [name for name in subfolders if name not in SKIPPED and not name.startswith(".")]
            if os.path.basename(folder) in TEMPLATE_FOLDERS or suffixes and \
                    folder.replace(os.sep, "/").endswith(suffixes):
                found.append(folder)
                if len(found) >= MAX_FOLDERS:
                    break
        cache[key] = tuple(found)
        cache.setdefault(("walked", key), time.monotonic())
    return cache[key]


# Where the project's code names its template folders: Django's `TEMPLATES[...]["DIRS"]`, Flask's and
# blueprints' `template_folder=`, Jinja2's `FileSystemLoader(...)` / `searchpath=`.
CONFIGURING = re.compile(r"""["']DIRS["']\s*:\s*[\[(](?P<dirs>[^\])]*)[\])]|template_folder\s*=\s*(?P<folder>["'][^"']+["'])|"""
                         r"""FileSystemLoader\(\s*(?:searchpath\s*=\s*)?[\[(]?(?P<loader>[^)\]]*)""")
LITERAL = re.compile(r"""["']([\w./-]+)["']""")


def configured_folders(texts) -> tuple[str, ...]:
    """The folder names (a literal path's last parts: `BASE_DIR / "frontend" / "html"` gives
    `frontend/html`) the project's code configures as template folders."""
    found: set[str] = set()
    for text in texts:
        if "DIRS" not in text and "template_folder" not in text and "FileSystemLoader" not in text:
            continue
        for match in CONFIGURING.finditer(text):
            given = match.group("dirs") or match.group("folder") or match.group("loader") or ""
            # One entry per comma: its string literals joined as a path (`os.path.join(BASE, "a", "b")`).
            for entry in re.split(r",\s*(?![^(]*\))", given):
                parts = [part for literal in LITERAL.findall(entry) for part in literal.split("/") if part and part != "."]
                if parts and ".." not in parts:
                    found.add("/".join(parts))
    return tuple(sorted(found))


def find_template(name: str, near: str, root: str | None, cache: dict,
                  configured: tuple[str, ...] = ()) -> str | None:
    """The file template `name` is, for a view in file `near` (None: not found, or not one);
    `configured`: the folders the project's code names (configured_folders)."""
    if not name or name.startswith("/") or ".." in name.split("/"):
        return None
    relative = name.split(":", 1)[-1]  # `package:templates/x.jinja2` (a Pyramid asset spec)
    candidates: list[str] = []
    folders = template_folders(root, cache, configured) if root else ()
    for folder in folders:
        path = os.path.join(folder, relative)
        if os.path.isfile(path):
            candidates.append(path)
    # Relative to the view's package and the folders above it (Pyramid, a Flask app's own folder).
    folder = os.path.dirname(near)
    while True:
        path = os.path.join(folder, relative)
        if os.path.isfile(path) and path not in candidates:
            candidates.append(path)
        parent = os.path.dirname(folder)
        if parent == folder or (root and not parent.startswith(root)):
            break
        folder = parent
    if not candidates:
        # A folder made since the walk (an editor's session is long, cache["live"]): walked again, at
        # most every few seconds.
        key = ("folders", root, configured)
        walked = cache.get(("walked", key), 0.0)
        if root and cache.get("live") and key in cache and time.monotonic() - walked > REWALK_SECONDS:
            del cache[key]
            cache.pop("found", None)  # (names found before may have a nearer file now)
            cache[("walked", key)] = time.monotonic()
            return find_template(name, near, root, cache, configured)
        return None
    if len(candidates) == 1:
        return os.path.realpath(candidates[0])
    ranked = sorted(candidates, key=lambda path: -len(os.path.commonpath([path, near])))
    if len(os.path.commonpath([ranked[0], near])) == len(os.path.commonpath([ranked[1], near])):
        return None  # two as near as each other: which one Django takes depends on the settings
    return os.path.realpath(ranked[0])


# A generic view's default template: `<app>/<model>_list.html` (detail, form, confirm_delete).
DEFAULT_NAME = re.compile(r"^[\w.]+/(?P<model>\w+?)_(?:list|detail|form|confirm_delete)\.html$")


def names_of(template: str) -> list[str]:
    """The names a view may render `template` by: its path after each template folder above it."""
    parts = template.replace(os.sep, "/").split("/")
    return ["/".join(parts[i + 1:]) for i, part in enumerate(parts[:-1]) if part in TEMPLATE_FOLDERS]


def views_naming(template: str, modules: list[str], read) -> list[str]:
    """The modules (of `modules`; `read(path)` gives a text) that may render `template`: those whose
    text names it, or that declare a generic view of the model its default name is made of."""
    names = names_of(template) or [os.path.basename(template)]
    models = [found.group("model") for name in names if (found := DEFAULT_NAME.match(name))]
    model_words = re.compile(r"\b(?:%s)\b" % "|".join(models), re.IGNORECASE) if models else None
    out = []
    for path in modules:
        try:
            text = read(path)
        except Exception:  # noqa: BLE001 - an unreadable module names nothing
            continue
        if any(name in text for name in names) or \
                model_words is not None and "View" in text and model_words.search(text):
            out.append(path)
    return out


def is_template(path: str) -> bool:
    """A file `ormlens check` reads as a template when named: a template's suffix, not Python."""
    return path.endswith(TEMPLATE_FILE_SUFFIXES)


TEMPLATE_FILE_SUFFIXES = (".html", ".htm", ".jinja2", ".jinja", ".j2", ".txt", ".xml", ".djhtml")
