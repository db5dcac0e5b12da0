"""What every rule is: a code, a name, documentation in fixed sections, and a check over facts."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ormlens.analysis.facts import ModuleFacts
from ormlens.config import Settings
from ormlens.findings import Finding, Related, Span
from ormlens.fixes.plans import FixPlan

if TYPE_CHECKING:  # (the project is only passed through: a cached run does not load it)
    from ormlens.analysis.database import Database
    from ormlens.analysis.project import ProjectIndex

DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")


@dataclass
class RuleContext:
    facts: ModuleFacts
    project: ProjectIndex
    settings: Settings

    @property
    def path(self) -> str:
        return self.facts.path

    @property
    def database(self) -> Database | None:
        """The database the project runs on: the `database` setting, else what the project's text
        says (analysis/database.py); None when neither says. Asked only by what needs it: the
        findings of a module that asks depend on the modules that could name it."""
        from ormlens.analysis import database

        if self.settings.database is not None:
            return database.from_setting(self.settings.database)
        return self.project.database()


class Rule:
    code: str = ""
    name: str = ""

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(self, ctx: RuleContext, span: Span, message: str, related: list[Related] | None = None,
                fix: FixPlan | None = None, said: str = "", fix_path: str | None = None, **data) -> Finding:
        """`said`: the message's first part (Finding.summary), when it is not up to its first `; `;
        `fix_path`: the file the fix edits when not the finding's (a template's, fixed in its view)."""
        return Finding(self.code, self.name, ctx.path, span, message, related or [], data, fix, said, fix_path)

    # --- documentation: the class docstring, shared by `ormlens rule`, hover and docs/ ----------

    @classmethod
    def sections(cls) -> dict[str, str]:
        doc = inspect.cleandoc(cls.__doc__ or "")
        parts = re.split(r"^## (.+)$", doc, flags=re.MULTILINE)
        return {title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2])}

    @classmethod
    def documentation(cls) -> str:
        return f"# {cls.code} {cls.name}\n\n" + inspect.cleandoc(cls.__doc__ or "").strip() + "\n"

    @classmethod
    def examples_path(cls, suffix: str = ".cases.py") -> Path:
        module = inspect.getfile(cls)
        return Path(module).with_suffix("").with_name(Path(module).stem + suffix)

    @classmethod
    def style_examples(cls) -> list[Path]:
        """Examples per ORM style beside the main ones: `<module>.<style>.cases.py` (for
        instance `orm002_n_plus_one_lazy_load.django.cases.py`)."""
        main = cls.examples_path()
        return sorted(main.parent.glob(main.name.removesuffix(".cases.py") + ".*.cases.py"))


def loop_related(path: str, loop, message: str = "the loop that repeats it") -> Related:
    return Related(loop.path or path, loop.span, f"{message}: `{loop.label}`")


FACTORS = "NMKPQR"


def repetition(loops, inner) -> tuple[str, str, list]:
    """How often something in `inner` runs, through the repeating loops around it: the phrase
    ("once per item of `group` for each item of `groups`"), the product ("N·M") and those
    outer loops, innermost first."""
    position = next((i for i, loop in enumerate(loops) if loop is inner), len(loops))
    # A loop over groups does not multiply a loop over one of its groups (`inner` iterates its item).
    outer = [loop for loop in loops[:position] if loop.repeats and not (
        loop.partitioned and inner is not None and loop.id in inner.iter_deps)][::-1]
    phrase = f"once per item of `{inner.label}`" + "".join(f" for each item of `{loop.label}`" for loop in outer)
    product = "·".join(FACTORS[i] if i < len(FACTORS) else f"N{i}" for i in range(len(outer) + 1))
    return phrase, product, outer


def loops_related(path: str, inner, outer: list) -> list[Related]:
    """The loop that repeats a finding, then each enclosing loop that repeats it too."""
    return [loop_related(path, inner)] + [
        loop_related(path, loop, "the outermost loop that repeats it" if loop is outer[-1]
                     else "an enclosing loop that repeats it") for loop in outer]
