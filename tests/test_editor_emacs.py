"""A real editor against the real server: Emacs in batch mode (Debian's emacs-nox, Emacs 28.2, with
eglot 1.9 from elpa-eglot; both installed by scripts/install-test-system-deps.sh) starts ormlens with
the `eglot-server-programs` snippet from README.md ("## Editors"), as `M-x eglot` does, opens the
seed's original.py, and flymake must show exactly the seed's three findings: ORM001 on lines 7 and 8,
ORM005 on line 11. The driver is tests/editors/drive_eglot.el.

Emacs is a declared test requirement: when it or eglot is missing the test fails (it does not
skip), saying how to install them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import find_ormlens, run_editor

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DRIVER = Path(__file__).resolve().parent / "editors" / "drive_eglot.el"
INSTALL = "scripts/install-test-system-deps.sh"


def find_emacs() -> str:
    found = shutil.which("emacs")
    if found is None:
        pytest.fail(f"emacs not found on PATH: it is a declared test requirement (Debian's emacs-nox and "
                    f"elpa-eglot). Install them with `bash {INSTALL}` (as root, or with sudo); if that "
                    f"ran, its apt-get install failed: see its output.", pytrace=False)
    return found


def expected(path: Path) -> list[str]:
    """`<line>:<col>-<line>:<col> eglot-warning <code>` of the seed's findings (0-based; Emacs
    columns count characters), computed from the text."""
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = [
        (6, "Session.query.filter_by(user_id=uid).all()", "ORM001"),
        (7, "Payment.query.filter_by(user_id=uid).all()", "ORM001"),
        (10, "sum(p.amount for p in payments)", "ORM005"),
    ]
    result = []
    for lnum, snippet, code in wanted:
        start = lines[lnum].index(snippet)
        result.append(f"{lnum}:{start}-{lnum}:{start + len(snippet)} eglot-warning {code}")
    return result


def test_emacs_eglot_shows_seed_diagnostics(tmp_path: Path) -> None:
    emacs, ormlens = find_emacs(), find_ormlens()
    run, report = run_editor([emacs, "--batch", "-Q", "-l", str(DRIVER), "original.py"], tmp_path, ormlens, "emacs")
    if "FAIL: eglot is not installed" in run.stderr:
        pytest.fail(f"eglot is missing: it is a declared test requirement (Debian's elpa-eglot). Install it "
                    f"with `bash {INSTALL}` (as root, or with sudo).\n{report}", pytrace=False)
    assert run.returncode == 0, report
    out = run.stdout.splitlines()
    assert out[-1] == "OK", report

    # eglot started the command from the README snippet, made absolute.
    assert [line for line in out if line.startswith("SERVER ")] == [f"SERVER {ormlens} server"], report
    # Exactly the seed's findings, as flymake holds them: ORM001 on lines 7 and 8, ORM005 on line 11
    # (1-based), warnings, with the ranges the server sent.
    got = [" ".join(line.split(" ")[1:4]) for line in out if line.startswith("DIAG ")]
    assert got == expected(tmp_path / "original.py"), report
    assert got == ["6:19-6:61 eglot-warning ORM001", "7:19-7:61 eglot-warning ORM001",
                   "10:29-10:60 eglot-warning ORM005"], report
    texts = [line for line in out if line.startswith("DIAG ")]
    assert "ormlens [ORM005]: `sum(p.amount for p in payments)` adds `Payment.amount`" in texts[2], report
