"""The JSON formats: `json` (an array in the shape of ruff's `--output-format json`), `json-lines`
(the same objects, one per line) and `gitlab` (GitLab's Code Quality report)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ormlens.findings import Finding
from ormlens.output.common import ReportedError, Run, relative_to

# GitLab's Code Quality severities (info, minor, major, critical, blocker) for ours: `warning`, the
# default, is `major` as ruff reports everything; `error` is the one above it.
GITLAB_SEVERITY = {"error": "critical", "warning": "major", "information": "minor", "hint": "info"}


def finding_object(run: Run, finding: Finding) -> dict:
    """Ruff's keys (sorted when dumped, as ruff's are), with `related` and `severity` of ours."""
    start, end = run.span_location(finding.path, finding.span)
    related = []
    for place in finding.related:
        place_start, place_end = run.span_location(place.path, place.span)
        related.append({"end_location": place_end, "filename": os.path.abspath(place.path),
                        "location": place_start, "message": place.message})
    return {
        "cell": None,
        "code": finding.code,
        "end_location": end,
        "filename": os.path.abspath(finding.path),
        "fix": _fix_object(run, finding),
        "location": start,
        "message": finding.message,
        "noqa_row": finding.span.line,
        "related": related,
        "severity": run.severity(finding),
        "url": finding.url,
    }


def _fix_object(run: Run, finding: Finding) -> dict | None:
    fix = run.fix(finding)
    if fix is None:
        return None
    found = {
        "applicability": fix.applicability,
        "edits": [{"content": content, "end_location": end, "location": start} for start, end, content in fix.edits],
        "message": fix.fix.title,
    }
    if finding.fix_path is not None and finding.fix_path != finding.path:
        found["filename"] = os.path.abspath(finding.fix_path)  # a template's finding is fixed in its view
    return found


def error_object(error: ReportedError) -> dict:
    """A file not checked, as ruff reports a syntax error: no code, no fix, no url."""
    location = {"column": error.column, "row": error.row}
    return {
        "cell": None,
        "code": None,
        "end_location": location,
        "filename": os.path.abspath(error.path) if error.path else None,
        "fix": None,
        "location": location,
        "message": error.message,
        "noqa_row": None,
        "related": [],
        "severity": "error",
        "url": None,
    }


def objects(run: Run) -> list[dict]:
    """Findings and files not checked, by file, row and column."""
    found = [finding_object(run, finding) for finding in run.findings] + [error_object(e) for e in run.errors]
    return sorted(found, key=lambda o: (o["filename"] or "", o["location"]["row"], o["location"]["column"],
                                        o["code"] or ""))


def json_array(run: Run) -> str:
    return json.dumps(objects(run), indent=2, ensure_ascii=False, sort_keys=True)


def json_lines(run: Run) -> list[str]:
    return [json.dumps(o, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for o in objects(run)]


def gitlab(run: Run) -> str:
    """GitLab Code Quality (`artifacts:reports:codequality`). Paths are relative to the repository
    as GitLab wants them: to $CI_PROJECT_DIR, else the current folder (as ruff). The fingerprint
    stays when lines are added above."""
    base = Path(os.environ.get("CI_PROJECT_DIR") or Path.cwd()).resolve()
    seen: dict = {}
    issues = []
    for finding in run.findings:
        start, end = run.span_location(finding.path, finding.span)
        issues.append({
            "check_name": finding.code,
            "description": f"{finding.code}: {finding.message}",
            "fingerprint": run.fingerprint(finding.path, finding.code, finding.span.line, seen, base),
            "location": {"lines": {"begin": start["row"], "end": end["row"]},
                         "path": relative_to(finding.path, base) or os.path.abspath(finding.path)},
            "severity": GITLAB_SEVERITY.get(run.severity(finding), "major"),
        })
    for error in run.errors:  # a file not checked: critical, GitLab has nothing above but blocker
        path = error.path or ""
        issues.append({
            "check_name": "not-checked",
            "description": f"not checked: {error.message}",
            "fingerprint": run.fingerprint(path, "not-checked", error.row, seen, base),
            "location": {"lines": {"begin": error.row},
                         "path": (relative_to(path, base) or os.path.abspath(path)) if path else ""},
            "severity": "critical",
        })
    return json.dumps(issues, indent=2, ensure_ascii=False)
