"""`ormlens check`'s output formats (issue #16), `--output-file`, `--statistics`, `--show-fixes` and
the `severity` setting, through the real CLI and engine on a tiny real project: a Flask-SQLAlchemy
module with a query per loop item that has a safe fix, and a file that does not parse.

The SARIF schema, tests/sarif-schema-2.1.0.json, is the official SARIF 2.1.0 JSON schema (the
OASIS final, "2.1.0-rtm.5") as shipped in the npm package @microsoft/jest-sarif 1.0.0-beta.0
(MIT; lib/schemas/sarif-2.1.0-rtm.5.json), taken with `npm pack @microsoft/jest-sarif`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from ormlens import cli
from ormlens.output.ci import escape_data, escape_property

SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"
SERVER = Path(__file__).resolve().parent.parent / "server"

APP = '''\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, nullable=False)
    total = db.Column(db.Integer, nullable=False)


def orders_by_user(user_ids):
    result = {}
    for user_id in user_ids:
        result[user_id] = Order.query.filter(Order.user_id == user_id).order_by(Order.id).all()
    return result
'''
QUERY = "Order.query.filter(Order.user_id == user_id).order_by(Order.id).all()"
QUERY_LINE = 15
QUERY_COLUMN = APP.splitlines()[QUERY_LINE - 1].index(QUERY) + 1  # 27
# The text formats show what happens (the summary); the advice follows it in the whole message.
SUMMARY = "`Order.query….all()` runs once per item of `user_ids` (1 query per item, N round-trips)"
ADVICE = "load the rows for all items before the loop with `Order.user_id.in_(...)` in chunks and look them up by key"
MESSAGE = f"{SUMMARY}; {ADVICE}"
FIX_TITLE = "Batch the query in this loop (chunks of 1,000 ids)"
DOCS = "https://github.com/ormlens/ormlens/blob/main/docs/rules/ORM001.md"
BAD = "def broken(:\n    pass\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "bad.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    return tmp_path


def check(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["check", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def configure(project: Path, table: str) -> None:
    (project / "pyproject.toml").write_text(f'[project]\nname = "shop"\n\n[tool.ormlens]\n{table}\n')


# --- concise and full --------------------------------------------------------------------------


def test_concise_is_the_old_text_and_the_default_when_piped(project: Path, capsys) -> None:
    expected = f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}\nFound 2 errors.\n"
    for flags in (["--output-format", "concise"], ["--output-format", "text"], []):
        code, out, err = check(capsys, *flags, ".")
        assert (code, out) == (1, expected), flags
        assert err == f"ormlens: error: {project / 'bad.py'}:1:12: syntax error: invalid syntax\n"


def test_full_underlines_the_span_and_gives_the_fix_and_the_docs(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "full", "app.py")
    assert code == 1
    lines = out.splitlines()
    source = f"{QUERY_LINE} |         result[user_id] = {QUERY}"
    assert lines[:9] == [
        f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}",
        "   |",
        "13 |     result = {}",
        "14 |     for user_id in user_ids:",
        source,
        "   | " + " " * (QUERY_COLUMN - 1) + "^" * len(QUERY) + " ORM001",
        "16 |     return result",
        "   |",
        f"  = note: the loop that repeats it: `user_ids` (app.py:{QUERY_LINE - 1}:5)",
    ]
    caret = lines[5]
    assert source[caret.index("^"):caret.rindex("^") + 1] == QUERY  # under the exact span
    assert lines[9:] == [f"  = help: {ADVICE}", f"  = fix: {FIX_TITLE}", f"  = docs: {DOCS}", "", "Found 1 error."]
    assert "\x1b[" not in out  # not a terminal: no colour


def _on_terminal(project: Path, env: dict[str, str]) -> str:
    """`ormlens check app.py` with its stdout on a pseudo-terminal; what it printed there."""
    main, secondary = pty.openpty()
    environment = {**os.environ, "PYTHONPATH": str(SERVER), **env}
    process = subprocess.Popen([sys.executable, "-m", "ormlens", "check", "--no-cache", "app.py"], cwd=project,
                               stdout=secondary, stderr=subprocess.DEVNULL, env=environment)
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_full_is_the_default_on_a_terminal_coloured_unless_no_color(project: Path) -> None:
    coloured = _on_terminal(project, {"NO_COLOR": ""})
    assert "\x1b[" in coloured and "^^^" in coloured and f"help\x1b[0m: {ADVICE}" in coloured \
        and f"fix\x1b[0m: {FIX_TITLE}" in coloured
    plain = _on_terminal(project, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert plain.startswith(f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}\n   |\n13 |")
    assert f"  = help: {ADVICE}\n  = fix: {FIX_TITLE}\n" in plain


# --- json and json-lines -----------------------------------------------------------------------


def _apply(text: str, edits: list[dict]) -> str:
    """Apply JSON edits (1-based rows and character columns) from the last to the first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location: dict) -> int:
        return starts[location["row"] - 1] + location["column"] - 1

    for edit in sorted(edits, key=lambda e: (offset(e["location"]), offset(e["end_location"])), reverse=True):
        text = text[:offset(edit["location"])] + edit["content"] + text[offset(edit["end_location"]):]
    return text


def test_json_carries_the_fix_that_fix_applies_and_the_unparsable_file(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "json", ".")
    assert code == 1
    finding, error = json.loads(out)
    assert finding["code"] == "ORM001" and finding["message"] == MESSAGE and finding["severity"] == "warning"
    assert finding["location"] == {"row": QUERY_LINE, "column": QUERY_COLUMN}
    assert finding["end_location"] == {"row": QUERY_LINE, "column": QUERY_COLUMN + len(QUERY)}
    assert finding["fix"]["applicability"] == "safe" and finding["fix"]["message"] == FIX_TITLE
    assert error == {
        "cell": None, "code": None, "end_location": {"column": 12, "row": 1},
        "filename": str(project / "bad.py"), "fix": None, "location": {"column": 12, "row": 1},
        "message": "syntax error: invalid syntax", "noqa_row": None, "related": [], "severity": "error", "url": None,
    }

    fixed_by_json = _apply(APP, finding["fix"]["edits"])
    assert fixed_by_json != APP
    assert cli.main(["check", "--no-cache", "--fix", "app.py"]) == 0  # nothing left in app.py
    capsys.readouterr()
    assert (project / "app.py").read_text() == fixed_by_json


def test_json_lines_are_the_json_objects_one_per_line(project: Path, capsys) -> None:
    _, array, _ = check(capsys, "--output-format", "json", ".")
    code, out, _ = check(capsys, "--output-format", "json-lines", ".")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2 and [json.loads(line) for line in lines] == json.loads(array)


# --- sarif -------------------------------------------------------------------------------------


def test_sarif_is_valid_sarif_2_1_0_with_rules_results_related_places_and_fixes(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "sarif", ".")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ormlens" and driver["informationUri"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert sorted(rules) == ["ORM001", "ORM002", "ORM003", "ORM004", "ORM005"]
    assert rules["ORM001"]["name"] == "n-plus-one-query" and rules["ORM001"]["helpUri"] == DOCS
    assert rules["ORM001"]["help"]["markdown"].startswith("# ORM001 n-plus-one-query\n\n## What it does")
    assert rules["ORM001"]["defaultConfiguration"] == {"level": "warning"}
    (result,) = run["results"]
    assert result["ruleId"] == "ORM001" and result["level"] == "warning" and result["message"]["text"] == MESSAGE
    assert driver["rules"][result["ruleIndex"]]["id"] == "ORM001"
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": QUERY_LINE, "startColumn": QUERY_COLUMN,
                                   "endLine": QUERY_LINE, "endColumn": QUERY_COLUMN + len(QUERY)}}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    (related,) = result["relatedLocations"]
    assert related["message"]["text"] == "the loop that repeats it: `user_ids`"
    assert related["physicalLocation"]["region"]["startLine"] == QUERY_LINE - 1
    (fix,) = result["fixes"]
    assert fix["description"]["text"] == FIX_TITLE
    (change,) = fix["artifactChanges"]
    edits = [{"location": {"row": r["deletedRegion"]["startLine"], "column": r["deletedRegion"]["startColumn"]},
              "end_location": {"row": r["deletedRegion"]["endLine"], "column": r["deletedRegion"]["endColumn"]},
              "content": r["insertedContent"]["text"]} for r in change["replacements"]]
    _, array, _ = check(capsys, "--output-format", "json", "app.py")
    assert _apply(APP, edits) == _apply(APP, json.loads(array)[0]["fix"]["edits"])
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "error" and notification["message"]["text"] == "syntax error: invalid syntax"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.py"


# --- github, gitlab, junit ---------------------------------------------------------------------

GITHUB = re.compile(r"::(?P<level>error|warning|notice) title=(?P<title>[^,:]*),file=(?P<file>[^,:]*),"
                    r"line=(?P<line>\d+),col=(?P<col>\d+),endLine=(?P<end_line>\d+),endColumn=(?P<end_col>\d+)"
                    r"::(?P<message>[^\r\n]*)")


def test_sarif_paths_are_relative_to_the_repository_holding_the_project(tmp_path: Path, monkeypatch, capsys) -> None:
    # GitHub code scanning reads paths from the repository's root: a project under backend/.
    (tmp_path / ".git").mkdir()
    backend = tmp_path / "backend"
    backend.mkdir()
    (backend / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    (backend / "app.py").write_text(APP)
    monkeypatch.chdir(backend)
    code, out, _ = check(capsys, "--output-format", "sarif", ".")
    (run,) = json.loads(out)["runs"]
    (result,) = run["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "backend/app.py",
                                                                               "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_github_workflow_commands_escape_percent_and_comma(project: Path, capsys) -> None:
    (project / "app.py").rename(project / "50%,off.py")
    code, out, _ = check(capsys, "--output-format", "github", "50%,off.py")
    assert code == 1
    (line,) = out.splitlines()
    match = GITHUB.fullmatch(line)
    assert match, line
    assert match.groupdict() == {
        "level": "warning", "title": "ormlens (ORM001)", "file": "50%25%2Coff.py", "line": str(QUERY_LINE),
        "col": str(QUERY_COLUMN), "end_line": str(QUERY_LINE), "end_col": str(QUERY_COLUMN + len(QUERY)),
        "message": f"50%25,off.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {MESSAGE}",
    }
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_reports_the_unparsable_file_as_an_error(project: Path, capsys) -> None:
    _, out, _ = check(capsys, "--output-format", "github", "bad.py")
    assert out == "::error title=ormlens (not checked),file=bad.py,line=1,col=12::bad.py:1:12: syntax error: invalid syntax\n"


def test_gitlab_code_quality_with_a_fingerprint_that_survives_a_line_added_above(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "gitlab", ".")
    assert code == 1
    issue, error = json.loads(out)
    assert issue["description"] == f"ORM001: {MESSAGE}" and issue["check_name"] == "ORM001"
    assert issue["severity"] == "major" and issue["location"]["path"] == "app.py"
    assert issue["location"]["lines"]["begin"] == QUERY_LINE
    assert re.fullmatch(r"[0-9a-f]{16}", issue["fingerprint"])
    assert error["check_name"] == "not-checked" and error["location"] == {"lines": {"begin": 1}, "path": "bad.py"}
    assert error["severity"] == "critical"

    (project / "app.py").write_text("# a comment\n" + APP)
    _, moved, _ = check(capsys, "--output-format", "gitlab", "app.py")
    (moved_issue,) = json.loads(moved)
    assert moved_issue["location"]["lines"]["begin"] == QUERY_LINE + 1
    assert moved_issue["fingerprint"] == issue["fingerprint"]


def test_junit_has_a_suite_per_file_and_a_case_per_finding(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "junit", ".")
    assert code == 1
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuites" and (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert sorted(suites) == ["app.py", "bad.py"]
    (case,) = suites["app.py"].findall("testcase")
    assert (case.get("name"), case.get("line"), case.get("column")) == ("ormlens.ORM001", str(QUERY_LINE),
                                                                       str(QUERY_COLUMN))
    failure = case.find("failure")
    assert failure.get("message") == MESSAGE and failure.text == f"line {QUERY_LINE}, col {QUERY_COLUMN}, {MESSAGE}"
    assert case.find("properties/property").attrib == {"name": "severity", "value": "warning"}
    (not_checked,) = suites["bad.py"].findall("testcase")
    assert not_checked.find("error").get("message") == "syntax error: invalid syntax"


def test_junit_clean_run_is_one_passing_case(project: Path, capsys) -> None:
    (project / "clean.py").write_text("x = 1\n")
    code, out, _ = check(capsys, "--output-format", "junit", "clean.py")
    assert code == 0
    root = ET.fromstring(out.encode())
    (suite,) = root.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert list(case) == [] and (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")


# --- statistics, show-fixes, output-file -------------------------------------------------------


def test_statistics_counts_per_rule_and_nothing_else(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--statistics", ".")
    assert code == 1
    assert out == "1\t      \t[ ] not-checked\n1\tORM001\t[*] n-plus-one-query\n"
    (project / "more.py").write_text(APP.replace("def orders_by_user", "def other"))
    _, out, _ = check(capsys, "--statistics", "app.py", "more.py")
    assert out == "2\tORM001\t[*] n-plus-one-query\n"


def test_show_fixes_lists_what_fix_would_apply_then_what_it_applied(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--show-fixes", "app.py")
    assert code == 1
    assert out == (f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}\n\nWould fix 1 error:\n- app.py:\n"
                   f"    1 × ORM001 (n-plus-one-query): {FIX_TITLE}\n\nFound 1 error.\n")
    code, out, _ = check(capsys, "--fix", "--show-fixes", "app.py")
    assert code == 0
    assert out == (f"Fixed 1 error:\n- app.py:\n    1 × ORM001 (n-plus-one-query): {FIX_TITLE}\n\n"
                   "All checks passed!\nFixed 1 error.\n")


def test_output_file_gets_the_output_in_new_folders(project: Path, capsys) -> None:
    code, out, _ = check(capsys, "--output-format", "json", "--output-file", "reports/ci/ormlens.json", ".")
    assert (code, out) == (1, "")
    assert [o["code"] for o in json.loads((project / "reports/ci/ormlens.json").read_text())] == ["ORM001", None]
    code, out, _ = check(capsys, "--output-file", "reports/plain.txt", "app.py")  # a file is not a terminal
    assert (code, out) == (1, "")
    assert (project / "reports/plain.txt").read_text() == f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}\nFound 1 error.\n"


# --- settings: severity and output-format ------------------------------------------------------


def test_information_severity_is_printed_but_does_not_fail(project: Path, capsys) -> None:
    configure(project, 'severity = {ORM001 = "information"}')
    code, out, _ = check(capsys, "app.py")
    assert code == 0
    assert out == f"app.py:{QUERY_LINE}:{QUERY_COLUMN}: ORM001 {SUMMARY}\nFound 1 error.\n"
    assert json.loads(check(capsys, "--output-format", "json", "app.py")[1])[0]["severity"] == "information"
    assert check(capsys, "--output-format", "github", "app.py")[1].startswith("::notice title=ormlens (ORM001),")
    sarif = json.loads(check(capsys, "--output-format", "sarif", "app.py")[1])
    assert sarif["runs"][0]["results"][0]["level"] == "note"
    assert json.loads(check(capsys, "--output-format", "gitlab", "app.py")[1])[0]["severity"] == "minor"
    junit = ET.fromstring(check(capsys, "--output-format", "junit", "app.py")[1].encode())
    assert junit.get("failures") == "0" and junit.find("testsuite/testcase/system-out") is not None
    assert check(capsys, ".")[0] == 1  # the file that does not parse still fails the run


def test_error_severity_fails_and_is_shown(project: Path, capsys) -> None:
    configure(project, 'severity = {ORM001 = "error"}')
    code, out, _ = check(capsys, "--output-format", "sarif", "app.py")
    assert code == 1
    run = json.loads(out)["runs"][0]
    assert run["results"][0]["level"] == "error"
    assert {rule["id"]: rule["defaultConfiguration"]["level"] for rule in run["tool"]["driver"]["rules"]}["ORM001"] == "error"
    assert check(capsys, "--output-format", "gitlab", "app.py")[1].count('"severity": "critical"') == 1


def test_output_format_setting_and_the_flag_over_it(project: Path, capsys) -> None:
    configure(project, 'output-format = "json-lines"')
    code, out, _ = check(capsys, "app.py")
    assert code == 1 and json.loads(out)["code"] == "ORM001" and len(out.splitlines()) == 1
    _, out, _ = check(capsys, "--output-format", "concise", "app.py")
    assert out.startswith("app.py:15:27: ORM001 ")
    configure(project, 'output-format = "xml"')
    _, out, err = check(capsys, "app.py")
    assert "setting 'output-format' ignored: expected one of full, concise, json" in err
    assert out.startswith("app.py:15:27: ORM001 ")


def test_unknown_format_is_a_usage_error(project: Path, capsys) -> None:
    assert cli.main(["check", "--output-format", "xml", "app.py"]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
