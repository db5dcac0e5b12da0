"""A baseline: the findings a project had when it adopted ormlens, so that a run reports only the
new ones (`--write-baseline FILE`, then `--baseline FILE`).

The file is JSON, versioned:

    {"version": 1, "tool": "ormlens",
     "findings": [{"code": "ORM001", "path": "app/views.py", "source": "for b in Book.objects.all(): ...",
                   "occurrence": 0, "line": 12}, ...]}

A finding is matched by its rule, its file (relative to the baseline's folder, `/`-separated) and
its fingerprint: the text of the line it starts on, stripped, and its occurrence among the
findings of that rule and file with the same text (0 for the first, by line). Line numbers are
kept for people only: the baseline survives lines inserted or removed elsewhere in the file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ormlens.findings import Finding
from ormlens.output.common import SourceLines, line_fingerprint

VERSION = 1

Key = tuple[str, str, str, int]  # code, path, source, occurrence


class BaselineError(ValueError):
    """A baseline file that cannot be read or is not one."""


@dataclass
class Baseline:
    path: Path
    keys: set[Key]


def _fingerprints(findings: list[Finding], folder: Path, texts: SourceLines) -> list[tuple[Key, Finding]]:
    seen: dict = {}
    keyed = []
    for finding in sorted(findings, key=lambda f: (f.path, f.span.line, f.span.col, f.code)):
        relative = Path(os.path.relpath(finding.path, folder)).as_posix()
        name, code, source, occurrence = line_fingerprint(texts, relative, finding.path, finding.code,
                                                          finding.span.line, seen)
        keyed.append(((code, name, source, occurrence), finding))
    return keyed


def write_baseline(path: Path, findings: list[Finding], texts: SourceLines) -> int:
    """Write the baseline of `findings` to `path`; how many it holds."""
    folder = path.resolve().parent
    entries = [{"code": code, "path": relative, "source": source, "occurrence": occurrence,
                "line": finding.span.line}
               for (code, relative, source, occurrence), finding in _fingerprints(findings, folder, texts)]
    document = {"version": VERSION, "tool": "ormlens", "findings": entries}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def load_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION \
            or not isinstance(document.get("findings"), list):
        raise BaselineError(f"{path}: not an ormlens baseline of version {VERSION}")
    try:
        keys = {(entry["code"], entry["path"], entry["source"], int(entry["occurrence"]))
                for entry in document["findings"]}
    except (TypeError, KeyError, ValueError) as exc:
        raise BaselineError(f"{path}: a baseline entry lacks {exc}") from None
    return Baseline(path.resolve(), keys)


def not_in_baseline(findings: list[Finding], baseline: Baseline, texts: SourceLines) -> tuple[list[Finding], int]:
    """(the findings the baseline does not hold, how many it does)."""
    new = [finding for key, finding in _fingerprints(findings, baseline.path.parent, texts)
           if key not in baseline.keys]
    return new, len(findings) - len(new)
