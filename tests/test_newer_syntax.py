"""A module written for a newer Python than the one running ormlens: reported once, in one line,
with the version it needs (analysis/syntax_versions.py); a real syntax error keeps its message."""

from __future__ import annotations

import ast
import glob
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from ormlens import cli
from ormlens.analysis.syntax_versions import newer_syntax, newer_syntax_of
from test_lsp import EXAMPLES, change, client, open_file, published, start  # noqa: F401 - client: a fixture

RUNNING = sys.version_info[:2]


def message(version: str, feature: str) -> str:
    return f"uses Python {version} syntax ({feature}): run ormlens under Python ≥ {version}"


# (source, version, feature, the construct's text the answer points at)
NEWER = {
    "def type parameters": (
        "import os\n\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n",
        "3.12", "type parameters", "[T]"),
    "class type parameters": (
        "class Box[T: (int, str), *Ts, **P](Base):\n    pass\n", "3.12", "type parameters", "[T: (int, str), *Ts, **P]"),
    "async def type parameters": (
        "async def get[K, V](key: K) -> V:\n    ...\n", "3.12", "type parameters", "[K, V]"),
    "type statement": (
        "from typing import Callable\n\ntype Handler = Callable[[int], None]\n", "3.12", "type statement", "type Handler"),
    "generic type statement in a class": (
        "class A:\n    type Pair[T] = tuple[T, T]\n", "3.12", "type statement", "type Pair"),
    "f-string reusing its quotes": (
        'def f(row):\n    return f"{row["name"]} ({row["id"]})"\n',
        "3.12", "f-string reusing its quotes inside a replacement field", 'f"{row["name"]} ({row["id"]})"'),
    "f-string with a backslash": (
        "lines = ['a', 'b']\ntext = f\"{'\\n'.join(lines)}\"\n",
        "3.12", "backslash inside an f-string replacement field", "f\"{'\\n'.join(lines)}\""),
    "f-string with a comment": (
        'total = 3\ntext = f"""{\n    total  # the sum\n}"""\n',
        "3.12", "comment inside an f-string replacement field", 'f"""{\n    total  # the sum\n}"""'),
    "f-string field over several lines": (
        'a = b = 1\ntext = f"{a +\n    b}"\n', "3.12", "f-string replacement field over several lines", 'f"{a +\n    b}"'),
    "nested f-string with the same quotes": (
        'x = 1\ntext = f"{f"{x}"!r:>10}"\n', "3.12", "nested f-string with the same quotes", 'f"{f"{x}"!r:>10}"'),
    "type parameter defaults": (
        "def f[T = int](x: T) -> T:\n    return x\n", "3.13", "type parameter defaults", "[T = int]"),
    "type statement with a default": (
        "type Pair[T = int] = tuple[T, T]\n", "3.13", "type parameter defaults", "type Pair"),
    "except without parentheses": (
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
        "3.14", "except with several exceptions without parentheses", "ValueError, TypeError"),
    "except* without parentheses": (
        "try:\n    pass\nexcept* ValueError, TypeError:\n    pass\n",
        "3.14", "except with several exceptions without parentheses", "ValueError, TypeError"),
    "template string": (
        'name = "x"\ngreeting = t"Hello {name!r:>{10}}"\n', "3.14", "template strings", 't"Hello {name!r:>{10}}"'),
    "raw template string inside an f-string": (
        "name = 'x'\ntext = f'{Rt\"{name}\"}'\n", "3.14", "template strings", 'Rt"{name}"'),
    "the newest of several is named": (
        "def f[T](x):\n    return x\n\ntry:\n    pass\nexcept A, B:\n    pass\n\ntype X = int\n",
        "3.14", "except with several exceptions without parentheses", "A, B"),
    "CRLF line ends": (
        'def f[T](x):\r\n    return f"{x["a"]}"\r\n', "3.12", "type parameters", "[T]"),
}


def needs(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


@pytest.mark.parametrize("name", NEWER)
def test_newer_syntax_is_named_with_its_version(name: str) -> None:
    source, version, feature, construct = NEWER[name]
    if RUNNING >= needs(version):
        pytest.skip(f"Python {version} parses it")
    with pytest.raises(SyntaxError) as failure:
        ast.parse(source)
    found = newer_syntax(source, failure.value)
    assert found is not None
    assert found.message == message(version, feature)
    assert (found.version, found.feature) == (needs(version), feature)
    assert source[found.start:found.end] == construct


def test_a_running_python_that_has_it_only_names_what_it_lacks() -> None:
    # As if running under 3.12: the type parameters parse there, the t-string does not.
    source = 'def f[T](x):\n    return t"{x}"\n'
    with pytest.raises(SyntaxError) as failure:
        ast.parse(source)
    assert newer_syntax(source, failure.value, running=(3, 12)) is None  # this 3.11 cannot check it
    assert newer_syntax(source, failure.value, running=(3, 11)).message == message("3.14", "template strings")
    assert newer_syntax_of("x = 1\n") is None


TYPOS = {
    "missing parameter": "def f(:\n    pass\n",
    "typo on a line with an f-string": 'def f(row):\n    return f"{row}" +\n',
    "typo on a line with a 3.12 f-string": 'def f(row):\n    return f"{row["id"]}" +\n',
    "typo after type parameters": "def f[T](x):\n    return x +\n",
    "type parameter without a bound": "def f[T: ](x):\n    pass\n",
    "empty type parameters": "def f[](x):\n    pass\n",
    "type parameter without a default after one with": "def f[T = int, U](x):\n    pass\n",
    "starred type parameter with a bound": "def f[*Ts: int](x):\n    pass\n",
    "unclosed type parameters": "class C[T:\n    pass\n",
    "type statement without a value": "type X =\n",
    "type with two names": "type X Y = int\n",
    "bad expression in a reused-quote f-string": 'x = f"{d["k" +]}"\n',
    "unterminated f-string": 'x = f"{a["k"]}\n',
    "empty replacement field": 'x = f"{}" + f"{d["k"]}"\n',
    "lone closing brace in an f-string": 'x = f"}}}" + f"{d["k"]}"\n',
    "except with a comma and as": "try:\n    pass\nexcept A, B as e:\n    pass\n",
    "except* without an exception": "try:\n    pass\nexcept* :\n    pass\n",
    "python 2 print": 'print "hello"\n',
    "bad code in a template string": 'x = t"{a +}"\n',
    "template string then a typo": 'x = t"{a}" +\n',
    "newer syntax after a typo": "x = (\ndef f[T](x):\n    pass\n",
}


@pytest.mark.parametrize("name", TYPOS)
def test_a_real_syntax_error_is_not_newer_syntax(name: str) -> None:
    source = TYPOS[name]
    with pytest.raises(SyntaxError) as failure:
        ast.parse(source)
    assert newer_syntax(source, failure.value) is None


def interpreter(version: str) -> str | None:
    """A Python `version` on this machine (on PATH, or under pyenv), if any."""
    candidates = [shutil.which(f"python{version}"), *glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python"))]
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == str(needs(version)):
            return candidate
    return None


@pytest.mark.parametrize("name", NEWER)
def test_the_version_named_really_parses_it(name: str) -> None:
    """The claim checked against a real interpreter of that version, when this machine has one."""
    source, version, _, _ = NEWER[name]
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    done = subprocess.run([python, "-c", "import ast, sys; ast.parse(sys.stdin.buffer.read())"],
                          input=source.encode(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


# --- through the CLI ---------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(EXAMPLES / "models.py", app / "models.py")
    shutil.copy(EXAMPLES / "original.py", app / "report.py")  # two ORM001 and one ORM005
    (app / "views.py").write_text("def first[T](items: list[T]) -> T:\n    return items[0]\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_reports_the_file_once_and_checks_the_rest(project: Path, capsys) -> None:
    assert cli.main(["check", "app"]) == 1
    out, err = capsys.readouterr()
    views = project / "app" / "views.py"
    assert err == f"ormlens: error: {views}: {message('3.12', 'type parameters')}\n"
    lines = out.splitlines()
    assert [line.split(" ")[:2] for line in lines[:-1]] == [
        ["app/report.py:7:20:", "ORM001"], ["app/report.py:8:20:", "ORM001"], ["app/report.py:11:30:", "ORM005"]]
    assert lines[-1] == "Found 4 errors."  # the three findings and the skipped file


def test_cli_exit_status_for_a_skipped_file_alone(project: Path, capsys) -> None:
    assert cli.main(["check", "app/views.py"]) == 1  # not a pass: a file was not checked
    assert capsys.readouterr() == ("Found 1 error.\n",
                                   f"ormlens: error: {project / 'app' / 'views.py'}: {message('3.12', 'type parameters')}\n")
    assert cli.main(["check", "--exit-zero", "app/views.py"]) == 0


def test_cli_keeps_the_plain_message_for_a_typo(project: Path, capsys) -> None:
    source = 'def first(items):\n    return f"{items["a"]}" +\n'  # a 3.12 f-string, and a typo
    (project / "app" / "views.py").write_text(source)
    with pytest.raises(SyntaxError) as failure:
        ast.parse(source)
    error = failure.value
    assert cli.main(["check", "-q", "app/views.py"]) == 1
    assert capsys.readouterr().err == \
        f"ormlens: error: {project / 'app' / 'views.py'}:{error.lineno}:{error.offset}: syntax error: {error.msg}\n"


def test_cli_process_exit_status(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "ormlens", "check", "app"], capture_output=True, text=True,
                          cwd=project)
    assert done.returncode == 1
    assert done.stderr.count("uses Python 3.12 syntax") == 1
    assert done.stdout.count(" ORM001 ") == 2


# --- through the server ------------------------------------------------------------------------


async def test_server_shows_one_diagnostic_on_the_construct(client: LanguageClient, project: Path):
    await start(client, project)
    path = project / "app" / "views.py"
    uri = open_file(client, path)
    diagnostics = await published(client, uri, 1)
    assert [(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
             d.severity, d.source, d.message) for d in diagnostics] == [
        (0, 9, 0, 12, lsp.DiagnosticSeverity.Warning, "ormlens",
         f"ormlens: this file {message('3.12', 'type parameters')} (not analysed)")]
    change(client, uri, 2, "    # first item\n", (1, 0), (1, 0))  # an edit elsewhere: still one message
    assert len(await published(client, uri, 2)) == 1
    logged = [m.message for m in client.log_messages if "uses Python" in m.message]
    assert logged == [f"ormlens: {path}: {message('3.12', 'type parameters')}"]
    # Removing the construct brings the analysis back.
    change(client, uri, 3, "def first(items):\n    return items[0]\n")
    assert await published(client, uri, 3) == []
