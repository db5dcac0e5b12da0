"""What a rule reports. Plain data: the CLI formats it, the server converts it, fixes read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ormlens.fixes.plans import FixPlan
from ormlens.spans import Span  # noqa: F401 - where findings' users take it from

DOCS_BASE_URL = "https://github.com/ormlens/ormlens/blob/main/docs/rules"
# Codes that are not rules, with the page that documents them (ORM000: a noqa comment that suppresses nothing).
OTHER_PAGES = {"ORM000": "https://github.com/ormlens/ormlens/blob/main/docs/cli.md#suppressing-a-finding"}


@dataclass(frozen=True)
class Related:
    """A second place that explains a finding: the loop that repeats it, the query inside a helper."""

    path: str
    span: Span
    message: str


@dataclass
class Finding:
    code: str
    name: str
    path: str
    span: Span
    message: str
    related: list[Related] = field(default_factory=list)
    # What the finding found, for clients (the diagnostic's data); plain JSON-able data, never AST nodes.
    data: dict[str, Any] = field(default_factory=dict)
    # What its quick fix needs (fixes/plans.py), None when it offers none.
    fix: FixPlan | None = None
    # The message's first part, what happens, when a rule words it other than up to the first `; `
    # (see `summary`); "" for that default.
    said: str = ""
    # The file its fix edits when not its own: a template's finding is fixed in the view (None: `path`).
    fix_path: str | None = None

    @property
    def summary(self) -> str:
        """What happens, short enough for a terminal line (`ormlens check`'s text formats); the rest
        of the message (`advice`) says what to do. Every rule words its messages `what; what to do`,
        so this is the message up to its first `; ` outside code, unless the rule said otherwise."""
        if self.said and self.message.startswith(self.said):
            return self.said
        inside = False
        for index, char in enumerate(self.message):
            if char == "`":
                inside = not inside
            elif not inside and self.message.startswith("; ", index):
                return self.message[:index]
        return self.message

    @property
    def advice(self) -> str:
        return self.message[len(self.summary):].lstrip(";: ")

    @property
    def url(self) -> str:
        return OTHER_PAGES.get(self.code) or f"{DOCS_BASE_URL}/{self.code}.md"

    def identity(self) -> tuple:
        """What makes two reports one finding (a template two views render reports it twice)."""
        return (self.code, self.path, self.span, self.message)

    def sort_key(self) -> tuple:
        return (self.path, self.span, self.code)
