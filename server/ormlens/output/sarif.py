"""SARIF 2.1.0 (what GitHub code scanning uploads): one run, the enabled rules with their
documentation, one result per finding with its related places and its fix; files not checked are
the invocation's notifications. Plain dicts: the format is a JSON document, tested against the
official schema (tests/sarif-schema-2.1.0.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ormlens import __version__
from ormlens.findings import DOCS_BASE_URL, Finding
from ormlens.output.common import Run, relative_to

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/ormlens/ormlens"
ROOT_ID = "%SRCROOT%"  # the uriBaseId of every path under the repository's root (as CodeQL names it)


def repository_root(root: Path) -> Path:
    """What SARIF paths are relative to: the git repository holding the project (its nearest
    ancestor with a `.git`, a folder or a worktree's file), as GitHub code scanning reads them;
    else the project root. A project under `backend/` of its repository gets `backend/app.py`."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return folder
    return root
LEVEL = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}


def sarif(run: Run) -> str:
    from ormlens.rules import REGISTRY  # the rules' documentation

    rules = [code for code in REGISTRY if run.settings.enabled(code)]
    index = {code: i for i, code in enumerate(rules)}
    seen: dict = {}
    results = [_result(run, finding, index, seen) for finding in run.findings]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ormlens",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(run, REGISTRY[code]) for code in rules],
            }},
            "invocations": [{
                "executionSuccessful": True,
                "toolExecutionNotifications": [_not_checked(run, error) for error in run.errors],
            }],
            "originalUriBaseIds": {ROOT_ID: {"uri": repository_root(run.root).as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",  # our columns count characters
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _rule(run: Run, rule) -> dict:
    sections = rule.sections()
    what = " ".join(sections.get("What it does", "").split())
    why = " ".join(sections.get("Why is this bad?", "").split())
    documentation = rule.documentation().strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": what.split(". ")[0].rstrip(".") + "." if what else rule.name},
        "fullDescription": {"text": f"{what} {why}".strip() or rule.name},
        "help": {"text": documentation, "markdown": documentation},
        "helpUri": f"{DOCS_BASE_URL}/{rule.code}.md",
        "defaultConfiguration": {"level": LEVEL.get(run.settings.severity_of(rule.code), "warning")},
    }


def _artifact(run: Run, path: str) -> dict:
    relative = relative_to(path, repository_root(run.root))
    if relative is None:
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": relative, "uriBaseId": ROOT_ID}


def _region(run: Run, path: str, span) -> dict:
    start, end = run.span_location(path, span)
    return {"startLine": start["row"], "startColumn": start["column"],
            "endLine": end["row"], "endColumn": end["column"]}


def _result(run: Run, finding: Finding, index: dict[str, int], seen: dict) -> dict:
    result = {
        "ruleId": finding.code,
        "level": LEVEL.get(run.severity(finding), "warning"),
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(run, finding.path),
            "region": _region(run, finding.path, finding.span),
        }}],
        # GitHub tracks an alert across commits by this (a line added above keeps it).
        "partialFingerprints": {"ormlens/v1": run.fingerprint(finding.path, finding.code, finding.span.line, seen)},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.related:
        result["relatedLocations"] = [{
            "id": number,
            "physicalLocation": {"artifactLocation": _artifact(run, place.path),
                                 "region": _region(run, place.path, place.span)},
            "message": {"text": place.message},
        } for number, place in enumerate(finding.related, 1)]
    fix = run.fix(finding)
    if fix is not None:
        result["fixes"] = [{
            "description": {"text": fix.fix.display_title},
            "artifactChanges": [{
                "artifactLocation": _artifact(run, finding.fix_path or finding.path),  # (a template's: its view)
                "replacements": [{
                    "deletedRegion": {"startLine": start["row"], "startColumn": start["column"],
                                      "endLine": end["row"], "endColumn": end["column"]},
                    "insertedContent": {"text": content},
                } for start, end, content in fix.edits],
            }],
        }]
    return result


def _not_checked(run: Run, error) -> dict:
    notification = {"level": "error", "message": {"text": error.message if error.path else error.text},
                    "descriptor": {"id": "not-checked"}}
    if error.path:
        notification["locations"] = [{"physicalLocation": {
            "artifactLocation": _artifact(run, error.path),
            "region": {"startLine": error.row, "startColumn": error.column},
        }}]
    return notification
