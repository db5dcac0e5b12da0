"""`ormlens check`'s output formats (ruff's names): which one a run uses and where it goes.
text.py has the formats for people, json_formats.py the JSON ones, sarif.py SARIF, ci.py GitHub's
workflow commands and JUnit; common.py what they share (the run, positions, fixes, severities)."""

from __future__ import annotations

import json
import os
from typing import TextIO

from ormlens.config import OUTPUT_FORMAT_ALIASES, OUTPUT_FORMATS
from ormlens.output import ci, json_formats, sarif, text
from ormlens.output.common import Run, parse_error

__all__ = ["OUTPUT_FORMATS", "Run", "choose_format", "colours", "parse_error", "render"]


def choose_format(flag: str | None, setting: str | None, terminal: bool) -> str:
    """The flag, else the `output-format` setting, else `full` on a terminal and `concise` when
    piped or written to a file (as ruff). `text` is `concise`."""
    chosen = flag or setting or ("full" if terminal else "concise")
    return OUTPUT_FORMAT_ALIASES.get(chosen, chosen)


def colours(stream: TextIO) -> bool:
    """Colour only on a terminal, and not when NO_COLOR is set (no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def render(run: Run, output_format: str, *, statistics: bool = False, show_fixes: bool = False,
           fix_applied: bool = False, colour: bool = False) -> str:
    """The whole output of a run, ending with a newline unless it is empty."""
    if statistics:
        if output_format in ("json", "json-lines"):
            return json.dumps(text.statistics_json(run), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        return _lines(text.statistics(run))
    if output_format == "json":
        return json_formats.json_array(run) + "\n"
    if output_format == "json-lines":
        return _lines(json_formats.json_lines(run))
    if output_format == "gitlab":
        return json_formats.gitlab(run) + "\n"
    if output_format == "sarif":
        return sarif.sarif(run) + "\n"
    if output_format == "github":
        return _lines(ci.github(run))
    if output_format == "junit":
        return ci.junit(run) + "\n"
    if output_format == "full":
        lines = text.full(run, text.Style(colour))
    else:
        lines = text.concise(run)
    if show_fixes:
        lines += ([""] if lines and lines[-1] else []) + text.show_fixes(run) + [""]
    closing = text.closing(run, fix_applied)
    while not closing and lines and not lines[-1]:  # --quiet: no blank line at the end
        lines.pop()
    return _lines(lines + closing)


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)
