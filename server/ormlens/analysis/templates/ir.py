"""What a template says, in the few terms the analysis needs (both template languages read into
these: django_syntax.py, jinja_syntax.py): which names it loops over, which attribute paths it
reads on them (and where), what it binds, includes, extends and defines. Nothing here knows models:
evaluate.py gives the names the values a view passes.

Spans are findings' spans (1-based lines, 0-based UTF-8 byte columns) in the template's text."""

from __future__ import annotations

from dataclasses import dataclass, field

from ormlens.spans import Span


@dataclass(frozen=True)
class Read:
    """A variable read: `o.customer.name|upper` is names ("o", "customer", "name"), filters ("upper",).
    `called`: indexes of the steps called explicitly (Jinja2 `o.items.all()`: {2}; Django calls any
    callable step itself, so its reads leave this empty and evaluate.py decides). `span`: the path's
    text (`o.customer.name`, without the filters). A step that is not a plain name (`o[0]`,
    `o["k"]`, `o.items()[0]`) ends the path."""

    names: tuple[str, ...]
    span: Span
    filters: tuple[str, ...] = ()
    called: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Output:
    """Reads evaluated once where they stand: `{{ ... }}`, an `{% if %}` test, a tag's arguments.
    `shown`: the value is rendered as text (`{{ ... }}`: a row's `__str__` runs), not only tested or
    passed on."""

    reads: tuple[Read, ...]
    shown: bool = True


@dataclass(frozen=True)
class Loop:
    """`{% for a, b in <iterable> %}body{% empty %}/{% else %}orelse{% endfor %}`."""

    targets: tuple[str, ...]
    iterable: Read | None     # None: not a plain path (a literal list, a call with arguments)
    span: Span                # the tag `{% for ... %}`
    body: tuple[Node, ...]
    orelse: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Bind:
    """Names bound for `body`: `{% with a=x.y %}...{% endwith %}`, Jinja2 `{% set a = x.y %}` (body:
    the rest of its scope), `{% regroup %}`'s `as` name (value None: not a read of a row)."""

    names: tuple[tuple[str, Read | None], ...]
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Include:
    """`{% include "name" with a=x only %}` (Jinja2: `{% include "name" %}`, `{% import %}` not)."""

    name: str | None          # None: not a literal name
    span: Span
    names: tuple[tuple[str, Read | None], ...] = ()
    only: bool = False


@dataclass(frozen=True)
class Extends:
    name: str | None
    span: Span


@dataclass(frozen=True)
class Block:
    """`{% block name %}body{% endblock %}`: a child template's block replaces its parent's."""

    name: str
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Macro:
    """Jinja2 `{% macro name(a, b) %}body{% endmacro %}`."""

    name: str
    params: tuple[str, ...]
    body: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class MacroCall:
    """Jinja2 `{{ name(x, y) }}` / `{% call name(x) %}` of a macro defined in the template (or
    imported: `module` is the `{% import "m.html" as module %}` name, `{% from ... import %}` gives
    the name alone). Arguments that are not plain paths are None."""

    name: str
    args: tuple[Read | None, ...]
    span: Span
    module: str | None = None


@dataclass(frozen=True)
class Import:
    """Jinja2 `{% import "macros.html" as forms %}` (alias set) / `{% from "m.html" import a, b as c %}`
    (names: (imported, bound))."""

    name: str | None
    alias: str | None = None
    names: tuple[tuple[str, str], ...] = ()


Node = Output | Loop | Bind | Include | Extends | Block | Macro | MacroCall | Import


@dataclass(frozen=True)
class Template:
    """A template read: its nodes in order, or `error` (one line) when it could not be read."""

    language: str             # "django" | "jinja2"
    nodes: tuple[Node, ...] = ()
    error: str | None = None
    # Tags it could not read (a custom tag whose arguments are not paths): their spans.
    unknown: tuple[Span, ...] = field(default=())
