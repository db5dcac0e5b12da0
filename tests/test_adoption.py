"""Adopting ormlens on an existing project, and configuring it as ruff (issue #16): rule codes
checked everywhere, `extend-select`, `extend-exclude`, `per-file-ignores`, `force-exclude`,
standard input, `ormlens config`, `--add-noqa`, `--report-unused-noqa`, baselines, and a closed
pipe. Through the real command on a little Django project with an N+1 in a loop."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ormlens import cli
from ormlens.config import RULE_CODES, load_settings, settings_from_mapping
from ormlens.rules import REGISTRY
from helpers import AUTHOR_BOOK_MODELS, AUTHOR_PER_BOOK_VIEW

MODELS = AUTHOR_BOOK_MODELS

VIEWS = AUTHOR_PER_BOOK_VIEW

# What the text output says of the view's N+1 (the summary: what to do is in `full` and JSON).
MESSAGE = "ORM002 `book.author` lazy-loads `Book.author` with a query once per item of `Book.objects.all()` " \
          "(N extra queries)"
FINDING = f"app/views.py:7:20: {MESSAGE}"
KNOWN = "(the codes are ORM001, ORM002, ORM003, ORM004, ORM005, or a prefix of them such as ORM)"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    for name, text in {"pyproject.toml": "[tool.ormlens]\n", "app/__init__.py": "", "app/models.py": MODELS,
                       "app/views.py": VIEWS}.items():
        write(root / name, text)
    monkeypatch.chdir(root)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def configure(root: Path, table: str) -> Path:
    return write(root / "pyproject.toml", f"[tool.ormlens]\n{table}\n")


def check(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    status = cli.main(["check", "--no-cache", *args])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


# --- rule codes ---------------------------------------------------------------------------


def test_the_known_codes_are_the_registrys() -> None:
    assert RULE_CODES == tuple(sorted(REGISTRY))


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
def test_an_unknown_code_on_the_command_line_is_a_usage_error(project: Path, capsys, flag: str) -> None:
    assert check(capsys, flag, "ORM001,ORM009") == (
        2, [], [f"ormlens: error: argument {flag}: not a rule code: ORM009 {KNOWN}"])


@pytest.mark.parametrize(("given", "status"), [("ORM", 1), ("ORM00", 1), ("orm002", 1), ("ORM001", 0)])
def test_a_code_or_a_prefix_selects(project: Path, capsys, given: str, status: int) -> None:
    code, out, _ = check(capsys, "--select", given)
    assert code == status
    assert out == ([FINDING, "Found 1 error."] if status else ["All checks passed!"])


@pytest.mark.parametrize("table", ['select = ["ORM009"]', 'ignore = ["E501"]', 'extend-select = ["ORM1"]',
                                   'per-file-ignores = {"app/*.py" = ["ORM0X"]}'])
def test_an_unknown_code_in_the_configuration_is_a_usage_error(project: Path, capsys, table: str) -> None:
    pyproject = configure(project, table)
    key = table.split(" = ")[0]
    bad = {"select": "ORM009", "ignore": "E501", "extend-select": "ORM1", "per-file-ignores": "ORM0X"}[key]
    assert check(capsys) == (
        2, [], [f"ormlens: error: {pyproject}: setting '{key}': not a rule code: {bad} {KNOWN}"])


def test_the_editor_only_warns_about_an_unknown_code(project: Path) -> None:
    # The server's path (lsp/server.py apply_settings): load_settings, then the editor's table on top.
    pyproject = configure(project, 'select = ["ORM009"]\nchunk-size = 10')
    loaded = load_settings(project)
    assert loaded.warnings == [f"{pyproject}: setting 'select' ignored: not a rule code: ORM009 {KNOWN}"]
    assert loaded.settings.select is None and loaded.settings.chunk_size == 10  # the rest applies
    settings, warnings = settings_from_mapping({"ignore": ["ORM2"]}, loaded.settings)
    assert warnings == [f"setting 'ignore' ignored: not a rule code: ORM2 {KNOWN}"]
    assert settings.chunk_size == 10


# --- configuration like ruff's ------------------------------------------------------------


def test_extend_select_adds_to_the_selection(project: Path, capsys) -> None:
    configure(project, 'select = ["ORM001"]')
    assert check(capsys)[0] == 0
    configure(project, 'select = ["ORM001"]\nextend-select = ["ORM002"]')
    assert check(capsys)[:2] == (1, [FINDING, "Found 1 error."])
    configure(project, 'select = ["ORM001"]')
    assert check(capsys, "--extend-select", "ORM00")[:2] == (1, [FINDING, "Found 1 error."])


def test_per_file_ignores_are_relative_to_the_configuration(project: Path, capsys, monkeypatch) -> None:
    write(project / "app" / "other.py", VIEWS)
    configure(project, '[tool.ormlens.per-file-ignores]\n"app/views.py" = ["ORM002"]\n"models.py" = ["ORM"]')
    assert check(capsys)[:2] == (1, [FINDING.replace("views", "other"), "Found 1 error."])
    monkeypatch.chdir(project / "app")  # the globs stay relative to pyproject.toml's folder
    assert check(capsys, ".")[:2] == (1, [FINDING.replace("app/views", "other"), "Found 1 error."])


def test_extend_exclude_and_force_exclude(project: Path, capsys) -> None:
    configure(project, 'extend-exclude = ["app/views.py"]')
    assert check(capsys, ".") == (0, ["All checks passed!"], [])
    # A file named is checked (as ruff) unless force-exclude says exclusions apply to it too.
    assert check(capsys, "app/views.py")[:2] == (1, [FINDING, "Found 1 error."])
    no_files = (0, ["No files checked."], ["ormlens: warning: No Python files found under the given path(s)"])
    assert check(capsys, "app/views.py", "--force-exclude") == no_files
    configure(project, 'extend-exclude = ["app/views.py"]\nforce-exclude = true')
    assert check(capsys, "app/views.py") == no_files
    assert check(capsys, "app/views.py", "--no-force-exclude")[0] == 1
    write(project / ".venv" / "lib.py", VIEWS)  # what a walk never enters is left out too
    assert check(capsys, ".venv/lib.py")[0] == 0


# --- standard input -----------------------------------------------------------------------


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_stdin_is_checked_as_the_file_named(project: Path, capsys, monkeypatch) -> None:
    stdin(monkeypatch, VIEWS)
    assert check(capsys, "--stdin-filename", "app/new.py") == (
        1, [FINDING.replace("views", "new"), "Found 1 error."], [])
    stdin(monkeypatch, VIEWS)
    assert check(capsys, "-") == (1, [f"-:7:20: {MESSAGE}", "Found 1 error."], [])
    stdin(monkeypatch, "x = 1\n")  # the text read, not the file on disk
    assert check(capsys, "--stdin-filename", "app/views.py") == (0, ["All checks passed!"], [])


def test_stdin_fix_prints_the_fixed_source(project: Path, capsys, monkeypatch) -> None:
    stdin(monkeypatch, VIEWS)
    status, out, err = check(capsys, "--fix", "--unsafe-fixes", "--stdin-filename", "app/views.py")
    assert "\n".join(out) + "\n" == VIEWS.replace("Book.objects.all()", 'Book.objects.all().select_related("author")')
    assert (status, err) == (0, ["All checks passed!", "Fixed 1 error."])
    assert (project / "app" / "views.py").read_text() == VIEWS  # nothing written


def test_stdin_excluded_by_force_exclude_passes_through(project: Path, capsys, monkeypatch) -> None:
    configure(project, 'exclude = ["app/views.py"]\nforce-exclude = true')
    stdin(monkeypatch, VIEWS)
    assert check(capsys, "--fix", "--stdin-filename", "app/views.py") == (0, VIEWS.splitlines(), [])


# --- ormlens config -----------------------------------------------------------------------


def test_config_says_where_each_setting_comes_from(project: Path, capsys) -> None:
    pyproject = configure(project, 'ignore = ["ORM005"]\nchunk-size = 500\nextend-exclude = ["legacy"]')
    assert cli.main(["config", "--select", "ORM00", "--force-exclude"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"# Settings for {project}", f"# Configuration: {pyproject}"]
    assert 'select = ["ORM001", "ORM002", "ORM003", "ORM004", "ORM005"]  # command line' in lines
    assert "ignore = []  # command line" in lines  # --select starts afresh, as in `check`
    assert f"chunk-size = 500  # {pyproject}" in lines
    assert f'exclude = ["legacy"]  # {pyproject}' in lines
    assert "force-exclude = true  # command line" in lines
    assert "respect-gitignore = true  # default" in lines
    assert "# database is unset  # default" in lines

    assert cli.main(["config", "app", "--output-format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["path"], report["configuration"]) == (str(project / "app"), str(pyproject))
    assert report["settings"]["ignore"] == {"value": ["ORM005"], "source": str(pyproject)}
    assert report["settings"]["select"] == {"value": list(RULE_CODES), "source": "default"}


def test_config_with_an_unknown_code_is_a_usage_error(project: Path, capsys) -> None:
    assert cli.main(["config", "--ignore", "X1"]) == 2
    assert capsys.readouterr().err == f"ormlens: error: argument --ignore: not a rule code: X1 {KNOWN}\n"


# --- --add-noqa ---------------------------------------------------------------------------

NOQA_BEFORE = '''\
from app.models import Book


def names():
    return [b.author.name for b in Book.objects.all()]  # noqa: E501


def more():
    return [b.author.name for b in Book.objects.all()]  # keep me


def text():
    return """
    for b in Book.objects.all(): b.author
    """
'''


def test_add_noqa_merges_and_is_idempotent(project: Path, capsys) -> None:
    views = write(project / "app" / "views.py", NOQA_BEFORE + "\n\n" + VIEWS.split("\n", 2)[2])

    assert check(capsys, "--add-noqa") == (0, [], ["Added 3 noqa directives."])

    assert views.read_text() == NOQA_BEFORE.replace("# noqa: E501", "# noqa: E501, ORM002").replace(
        "# keep me", "# keep me  # noqa: ORM002") + "\n\n" + VIEWS.split("\n", 2)[2].replace(
        "book.author.name)", "book.author.name)  # noqa: ORM002")
    assert check(capsys, "--add-noqa") == (0, [], ["Added 0 noqa directives."])
    assert check(capsys) == (0, ["All checks passed!"], [])


def test_add_noqa_counts_lines_as_the_parser_does(project: Path, capsys) -> None:
    # A form feed does not end a line for Python (str.splitlines would say it does).
    views = write(project / "app" / "views.py", "\x0c\n" + VIEWS.replace("import Book\n", "import Book  # \x0c\n"))
    assert check(capsys, "--add-noqa") == (0, [], ["Added 1 noqa directive."])
    assert "book.author.name)  # noqa: ORM002\n" in views.read_text()
    assert check(capsys) == (0, ["All checks passed!"], [])


# --- --report-unused-noqa -----------------------------------------------------------------


def test_unused_noqa_is_reported(project: Path, capsys) -> None:
    write(project / "app" / "views.py", VIEWS.replace("author.name)", "author.name)  # noqa: ORM002, ORM001"))
    write(project / "app" / "other.py", "x = 1  # noqa: F401, ORM009\ny = 2  # noqa: ORM005\nz = 3  # noqa\n")

    status, out, _ = check(capsys, "--report-unused-noqa")

    assert (status, out) == (1, [
        "app/other.py:1:8: ORM000 Unused `noqa` directive (unknown: `ORM009`)",
        "app/other.py:2:8: ORM000 Unused `noqa` directive (unused: `ORM005`)",
        "app/views.py:7:39: ORM000 Unused `noqa` directive (unused: `ORM001`)",
        "Found 3 errors.",
    ])
    # A rule that does not run cannot use its noqa: not reported.
    assert check(capsys, "--report-unused-noqa", "--ignore", "ORM001,ORM005")[1] == [
        "app/other.py:1:8: ORM000 Unused `noqa` directive (unknown: `ORM009`)", "Found 1 error."]
    assert check(capsys)[:2] == (0, ["All checks passed!"])  # without the flag, nothing about noqa
    # ORM000 is no rule: its documentation link leads to the page that documents it.
    status, out, _ = check(capsys, "--report-unused-noqa", "--output-format", "json")
    urls = {finding["url"] for finding in json.loads("\n".join(out))}
    assert urls == {"https://github.com/ormlens/ormlens/blob/main/docs/cli.md#suppressing-a-finding"}
    assert "\n## Suppressing a finding\n" in (Path(__file__).parents[1] / "docs" / "cli.md").read_text()
    # ... and `ormlens rule ORM000` documents it as it does a rule.
    assert cli.main(["rule", "ORM000"]) == 0
    documentation = capsys.readouterr().out
    assert documentation.startswith("# ORM000 unused-noqa\n\n## What it does\nWith `ormlens check --report-unused-noqa`")


# --- baselines ----------------------------------------------------------------------------

NEW_N_PLUS_ONE = '''

def again():
    return [book.author.name for book in Book.objects.all()]
'''


def test_baseline_hides_what_it_holds_and_survives_lines_inserted_above(project: Path, capsys) -> None:
    views = project / "app" / "views.py"
    assert check(capsys, "--write-baseline", "ormlens-baseline.json") == (
        0, [], ["Wrote 1 finding to ormlens-baseline.json."])
    assert json.loads((project / "ormlens-baseline.json").read_text()) == {
        "version": 1, "tool": "ormlens",
        "findings": [{"code": "ORM002", "path": "app/views.py", "source": "out.append(book.author.name)",
                      "occurrence": 0, "line": 7}]}
    held = ["All checks passed!", "1 finding in the baseline (ormlens-baseline.json) not shown."]
    assert check(capsys, "--baseline", "ormlens-baseline.json") == (0, held, [])

    views.write_text("import os\nimport sys\n\n" + VIEWS)
    assert check(capsys, "--baseline", "ormlens-baseline.json") == (0, held, [])

    views.write_text("import os\nimport sys\n\n" + VIEWS + NEW_N_PLUS_ONE)
    status, out, _ = check(capsys, "--baseline", "ormlens-baseline.json")
    assert (status, out) == (1, [
        "app/views.py:15:13: ORM002 `book.author` lazy-loads `Book.author` with a query once per item of "
        "`Book.objects.all()` (N extra queries)",
        "Found 1 error.", *held[1:]])


def test_baseline_counts_equal_lines_apart(project: Path, capsys) -> None:
    # Two findings on equal lines: the baseline holds two, so a third equal one is new.
    another = "\n\ndef {name}():\n    out = []\n    for book in Book.objects.all():\n" \
        "        out.append(book.author.name)\n    return out\n"
    write(project / "app" / "views.py", VIEWS + another.format(name="names2"))
    assert check(capsys, "--write-baseline", "b.json")[0] == 0
    write(project / "app" / "views.py", VIEWS + another.format(name="names2") + another.format(name="names3"))
    status, out, _ = check(capsys, "--baseline", "b.json", "-q")
    assert (status, out) == (1, [f"app/views.py:21:20: {MESSAGE}"])


def test_a_bad_baseline_is_a_usage_error(project: Path, capsys) -> None:
    write(project / "b.json", '{"version": 7, "findings": []}')
    assert check(capsys, "--baseline", "b.json") == (
        2, [], ["ormlens: error: b.json: not an ormlens baseline of version 1"])


def test_adoption_flags_do_not_combine_with_fixing(project: Path, capsys) -> None:
    assert check(capsys, "--add-noqa", "--fix") == (
        2, [], ["ormlens: error: --add-noqa and --fix cannot be combined"])


# --- a closed pipe ------------------------------------------------------------------------


def test_a_closed_pipe_ends_the_run_quietly(project: Path) -> None:
    # 1,500 findings: more output than a pipe holds.
    write(project / "app" / "many.py", "from app.models import Book\n" + "".join(
        f"\ndef f{n}():\n    return [b.author.name for b in Book.objects.all()]\n" for n in range(1500)))
    read, written = os.pipe()
    os.close(read)  # as `| head` does once it has its lines
    try:
        result = subprocess.run([sys.executable, "-m", "ormlens", "check", "--no-cache"], stdout=written,
                                stderr=subprocess.PIPE, text=True, check=False, cwd=project,
                                env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).parent.parent)})
    finally:
        os.close(written)
    assert (result.returncode, result.stderr) == (0, "")
