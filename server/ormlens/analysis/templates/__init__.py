"""Templates (Django, Jinja2): read without running them (ir.py, django_syntax.py, jinja_syntax.py),
found from the views that render them, and evaluated with the values those views pass."""

from __future__ import annotations

import re
from pathlib import PurePath

from ormlens.analysis.templates.ir import Template

JINJA_SUFFIXES = frozenset({".jinja2", ".j2", ".jinja"})
SHARED_SUFFIXES = frozenset({".html", ".htm", ".txt", ".xml"})
# Syntax Django templates do not have (a whitespace-control dash, a tag of Jinja2's own, a call in
# `{{ }}` other than Django's `_("...")`); `{% for %}`, `{% if %}`, `{% block %}` are both languages'.
_JINJA_ONLY = re.compile(
    r"\{%-|-%\}|\{\{-|-\}\}|\{%\s*(?:set|macro|call|import|from|do|raw)\b"
    r"|\{\{[^}\n]*?(?<![\w.])(?!_\s*\()[A-Za-z_][\w.]*\s*\(")


def parse(text: str, language: str) -> Template:
    """`text` read as a template of `language` ("django" or "jinja2"); never raises."""
    if language == "jinja2":
        from ormlens.analysis.templates import jinja_syntax  # imports Jinja2: only when asked
        return jinja_syntax.parse(text)
    if language == "django":
        from ormlens.analysis.templates import django_syntax
        return django_syntax.parse(text)
    return Template(language, error=f"unknown template language {language!r}")


def language_of(path: str, text: str) -> str | None:
    """The language of a template file, by its name and then by its text: `.jinja2`, `.j2`,
    `.jinja` are Jinja2; `.html`, `.htm`, `.txt`, `.xml` are Jinja2 under a folder named `jinja2`
    (Django's Jinja2 backend's folder), else Django under a folder named `templates` unless the
    text uses syntax only Jinja2 has (Flask's templates are in `templates/` too). Anything else
    is not a template: None."""
    pure = PurePath(path)
    if JINJA_SUFFIXES.intersection(pure.suffixes):
        return "jinja2"
    if pure.suffix.lower() not in SHARED_SUFFIXES:
        return None
    folders = pure.parts[:-1]
    if "jinja2" in folders:
        return "jinja2"
    if "templates" in folders:
        return "jinja2" if _JINJA_ONLY.search(text) else "django"
    return None
