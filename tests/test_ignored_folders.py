"""A folder named on the command line that discovery leaves empty (a .gitignore or `exclude`
excludes it or all it holds, or it has no Python file) is reported, never a silent pass.
Through the real command (a subprocess) and, for an open document, the real language server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from test_lsp import EXAMPLES, SEED, client, expected, open_file, published, start, summary  # noqa: F401

NOT_CHECKED = "no files checked there; name the files, or pass --no-respect-gitignore"
NO_FILES = "ormlens: warning: No Python files found under the given path(s)"


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check(cwd: Path, *args: str | Path) -> tuple[int, list[str], list[str]]:
    """`ormlens check ARGS` in `cwd`: exit status, stdout lines, stderr lines."""
    result = subprocess.run([sys.executable, "-m", "ormlens", "check", *map(str, args)],
                            cwd=cwd, capture_output=True, text=True, check=False)
    return result.returncode, result.stdout.splitlines(), result.stderr.splitlines()


def repository(tmp_path: Path, gitignore: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / ".gitignore", gitignore)
    return repo


def test_folder_ignored_by_the_enclosing_repository_warns_and_does_not_pass(tmp_path: Path) -> None:
    # A vendored checkout: the folder named sits inside what the repository's .gitignore excludes.
    repo = repository(tmp_path, "vendor/\n")
    write(repo / "vendor" / "lib" / "pkg" / "mod.py")
    lib = repo / "vendor" / "lib"

    status, out, err = check(tmp_path, lib)

    assert err == [f"ormlens: warning: {lib} is ignored by {repo / '.gitignore'} (pattern `vendor/`): {NOT_CHECKED}",
                   NO_FILES]
    assert out == ["No files checked."]
    assert status == 0  # as ruff, which exits 0 after "No Python files found"


def test_named_relative_folder_is_reported_by_its_absolute_path(tmp_path: Path) -> None:
    repo = repository(tmp_path, "vendor/\n")
    write(repo / "vendor" / "lib" / "mod.py")

    status, out, err = check(repo, "vendor/lib", "-q")

    assert err == [f"ormlens: warning: {repo / 'vendor' / 'lib'} is ignored by {repo / '.gitignore'} "
                   f"(pattern `vendor/`): {NOT_CHECKED}", NO_FILES]
    assert (status, out) == (0, [])  # -q: no closing line either


def test_every_file_in_the_folder_ignored_by_an_anchored_pattern(tmp_path: Path) -> None:
    # The folder is not excluded; each file in it is (a pattern with `/` is relative to its .gitignore).
    repo = repository(tmp_path, "/app/gen/*.py\n")
    write(repo / "app" / "gen" / "a_pb2.py")
    write(repo / "app" / "gen" / "b_pb2.py")
    write(repo / "app" / "models.py")
    gen = repo / "app" / "gen"

    status, out, err = check(repo, gen)

    assert err == [f"ormlens: warning: every Python file in {gen} is ignored by {repo / '.gitignore'} "
                   f"(pattern `/app/gen/*.py`): {NOT_CHECKED}", NO_FILES]
    assert (status, out) == (0, ["No files checked."])

    # The same pattern read from a deeper directory means nothing there: the folder is checked.
    nested = tmp_path / "nested"
    (nested / ".git").mkdir(parents=True)
    write(nested / "sub" / ".gitignore", "/app/gen/*.py\n")
    write(nested / "app" / "gen" / "a_pb2.py")
    assert check(nested, "app/gen") == (0, ["All checks passed!"], [])


def test_rules_from_several_gitignore_files_are_all_named(tmp_path: Path) -> None:
    repo = repository(tmp_path, "*_pb2.py\n")
    write(repo / "api" / ".gitignore", "local/\n")
    write(repo / "api" / "user_pb2.py")
    write(repo / "api" / "local" / "settings.py")
    api = repo / "api"

    status, _, err = check(repo, "api")

    # Listed in walk order, by name: `local/` comes before `user_pb2.py`.
    assert err == [f"ormlens: warning: every Python file in {api} is ignored by {api / '.gitignore'} "
                   f"(pattern `local/`), {repo / '.gitignore'} (pattern `*_pb2.py`): {NOT_CHECKED}", NO_FILES]
    assert status == 0


def test_negated_pattern_re_includes_a_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path, "/third_party/*\n!/third_party/ours/\n")
    write(repo / "third_party" / "ours" / "mod.py")
    write(repo / "third_party" / "theirs" / "mod.py")
    theirs = repo / "third_party" / "theirs"

    assert check(repo, "third_party/ours") == (0, ["All checks passed!"], [])
    status, out, err = check(repo, "third_party/theirs")
    assert err == [f"ormlens: warning: {theirs} is ignored by {repo / '.gitignore'} (pattern `/third_party/*`): "
                   f"{NOT_CHECKED}", NO_FILES]
    assert (status, out) == (0, ["No files checked."])


def test_folder_excluded_by_the_exclude_setting(tmp_path: Path) -> None:
    repo = repository(tmp_path, "")
    pyproject = write(repo / "pyproject.toml", '[tool.ormlens]\nexclude = ["legacy"]\n')
    write(repo / "legacy" / "old.py")
    legacy = repo / "legacy"

    status, out, err = check(repo, "legacy")

    assert err == [f"ormlens: warning: {legacy} is ignored by {pyproject} (exclude pattern `legacy`): "
                   "no files checked there; name the files, or change `exclude`", NO_FILES]
    assert (status, out) == (0, ["No files checked."])
    # Not a .gitignore: the flag changes nothing here.
    assert check(repo, "legacy", "--no-respect-gitignore")[2] == err


def test_only_the_empty_folder_is_reported_when_other_paths_have_files(tmp_path: Path) -> None:
    repo = repository(tmp_path, "vendor/\n")
    write(repo / "vendor" / "lib" / "mod.py")
    write(repo / "app" / "views.py")
    (repo / "empty").mkdir()
    write(repo / "docs" / "index.md", "# docs\n")

    status, out, err = check(repo, "vendor/lib", "app", "empty", "docs")

    assert err == [f"ormlens: warning: {repo / 'vendor' / 'lib'} is ignored by {repo / '.gitignore'} "
                   f"(pattern `vendor/`): {NOT_CHECKED}",
                   f"ormlens: warning: No Python files found under {repo / 'empty'}",
                   f"ormlens: warning: No Python files found under {repo / 'docs'}"]
    assert (status, out) == (0, ["All checks passed!"])  # app/views.py was checked


def test_folder_without_python_files_gets_the_plain_warning(tmp_path: Path) -> None:
    repo = repository(tmp_path, "")
    write(repo / "docs" / "index.md", "# docs\n")
    (repo / "empty").mkdir()

    assert check(repo, "docs", "empty") == (0, ["No files checked."], [NO_FILES])
    status, out, err = check(repo, "empty", "--output-format", "json")
    assert (status, out, err) == (0, ["[]"], [NO_FILES])  # stdout stays valid JSON


def test_no_respect_gitignore_flag_and_setting_check_the_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path, "vendor/\n")
    write(repo / "vendor" / "lib" / "models.py", (EXAMPLES / "models.py").read_text())
    write(repo / "vendor" / "lib" / "original.py", (EXAMPLES / "original.py").read_text())

    status, out, err = check(repo, "vendor/lib", "--no-respect-gitignore")
    assert (status, out[-1], err) == (1, "Found 3 errors.", [])

    write(repo / "pyproject.toml", "[tool.ormlens]\nrespect-gitignore = false\n")
    status, out, err = check(repo, "vendor/lib")
    assert (status, out[-1], err) == (1, "Found 3 errors.", [])
    # The flag wins over the setting, either way.
    status, out, err = check(repo, "vendor/lib", "--respect-gitignore")
    assert (status, out) == (0, ["No files checked."]) and err[-1] == NO_FILES


def test_bad_respect_gitignore_setting_is_a_warning(tmp_path: Path) -> None:
    repo = repository(tmp_path, "")
    pyproject = write(repo / "pyproject.toml", '[tool.ormlens]\nrespect-gitignore = "no"\n')
    write(repo / "app.py")

    assert check(repo, ".") == (0, ["All checks passed!"], [
        f"ormlens: warning: {pyproject}: setting 'respect-gitignore' ignored: expected true or false"])


def test_named_files_in_an_ignored_folder_are_checked(tmp_path: Path) -> None:
    repo = repository(tmp_path, "vendor/\n")
    write(repo / "vendor" / "lib" / "models.py", (EXAMPLES / "models.py").read_text())
    write(repo / "vendor" / "lib" / "original.py", (EXAMPLES / "original.py").read_text())

    status, out, err = check(repo, "vendor/lib/original.py", "vendor/lib/models.py")

    assert (status, out[-1], err) == (1, "Found 3 errors.", [])


def test_normal_folder_is_unchanged(tmp_path: Path) -> None:
    repo = repository(tmp_path, "build/\n*.log\n")
    write(repo / "app" / "views.py")
    write(repo / "app" / "build" / "gen.py")

    assert check(repo, "app") == (0, ["All checks passed!"], [])
    assert check(repo) == (0, ["All checks passed!"], [])


async def test_open_document_in_an_ignored_folder_is_analysed(client: LanguageClient, tmp_path: Path) -> None:
    # An open file is like a file named on the command line: the .gitignore does not hide it.
    repo = repository(tmp_path, "vendor/\n")
    lib = repo / "vendor" / "lib"
    lib.mkdir(parents=True)
    for name in ("models.py", "original.py"):
        shutil.copy(EXAMPLES / name, lib / name)
    await start(client, repo)

    uri = open_file(client, lib / "original.py")

    diagnostics = await published(client, uri, 1)
    assert summary(diagnostics) == sorted(expected(lib / "original.py", code, snippet) for code, snippet in SEED)
    assert len(diagnostics) == 3
