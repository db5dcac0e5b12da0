"""Formats for CI systems: `github` (workflow commands: annotations on a pull request) and `junit`
(JUnit XML, which most CI systems show as test results)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ormlens.output.common import FAILING_SEVERITIES, Run, display_path
from ormlens.output.text import concise_line

GITHUB_LEVEL = {"error": "error", "warning": "warning", "information": "notice", "hint": "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (`escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (`escapeProperty`): `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, properties: dict[str, object], message: str) -> str:
    fields = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{level} {fields}::{escape_data(message)}"


def github(run: Run) -> list[str]:
    """`::warning title=ormlens (ORM001),file=...,line=...,col=...,endLine=...,endColumn=...::message`
    per finding (error, warning or notice from its severity); `::error` per file not checked."""
    lines = []
    for finding in run.findings:
        start, end = run.span_location(finding.path, finding.span)
        properties = {"title": f"ormlens ({finding.code})", "file": display_path(finding.path),
                      "line": start["row"], "col": start["column"], "endLine": end["row"], "endColumn": end["column"]}
        lines.append(_command(GITHUB_LEVEL.get(run.severity(finding), "warning"), properties,
                              concise_line(run, finding, whole=True)))  # an annotation has room for the advice
    for error in run.errors:
        properties = {"title": "ormlens (not checked)"}
        if error.path:
            properties.update(file=display_path(error.path), line=error.row, col=error.column)
        lines.append(_command("error", properties, error.display()))
    return lines


def junit(run: Run) -> str:
    """A testsuite per file, a testcase per finding: a `failure` when the finding fails the run
    (error, warning), else passing with the finding as its output; a file not checked is an
    `error`. A clean run is one passing testcase."""
    root = ET.Element("testsuites", name="ormlens")
    suites: dict[str, ET.Element] = {}

    def suite(path: str) -> ET.Element:
        if path not in suites:
            suites[path] = ET.SubElement(root, "testsuite", name=path, package="ormlens")
        return suites[path]

    for finding in run.findings:
        path = display_path(finding.path)
        start = run.sources.location(finding.path, finding.span.line, finding.span.col)
        severity = run.severity(finding)
        case = ET.SubElement(suite(path), "testcase", name=f"ormlens.{finding.code}", classname=path,
                             file=path, line=str(start["row"]), column=str(start["column"]))
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="severity", value=severity)
        text = f"line {start['row']}, col {start['column']}, {finding.message}"
        if severity in FAILING_SEVERITIES:
            ET.SubElement(case, "failure", message=finding.message, type=finding.code).text = text
        else:
            ET.SubElement(case, "system-out").text = text
    for error in run.errors:
        path = display_path(error.path) if error.path else "ormlens"
        case = ET.SubElement(suite(path), "testcase", name="ormlens.not-checked", classname=path,
                             file=path, line=str(error.row), column=str(error.column))
        ET.SubElement(case, "error", message=error.message, type="not-checked").text = error.display()
    if not suites:
        ET.SubElement(suite("ormlens"), "testcase", name="ormlens", classname="ormlens")
    for element in [*suites.values(), root]:
        cases = element.iter("testcase")
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for case in cases:
            counts["tests"] += 1
            counts["failures"] += case.find("failure") is not None
            counts["errors"] += case.find("error") is not None
        for key, value in counts.items():
            element.set(key, str(value))
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
