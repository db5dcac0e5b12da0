"""A real editor against the real server: Emacs in batch mode (Debian's emacs-nox, Emacs 28.2, with
eglot 1.9 from elpa-eglot; both installed by scripts/install-test-system-deps.sh) starts ormlens with
the `eglot-server-programs` snippet from README.md ("## Editors"), as `M-x eglot` does, opens the
seed's original.py, and flymake must show exactly the seed's three findings: ORM001 on lines 7 and 8,
ORM005 on line 11. The driver is tests/editors/drive_eglot.el.

Emacs is a declared test requirement: when it or eglot is missing the test fails (it does not
skip), saying how to install them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DRIVER = Path(__file__).resolve().parent / "editors" / "drive_eglot.el"
BIN = Path(sys.executable).parent
INSTALL = "scripts/install-test-system-deps.sh"


def find_emacs() -> str:
    found = shutil.which("emacs")
    if found is None:
        pytest.fail(f"emacs not found on PATH: it is a declared test requirement (Debian's emacs-nox and "
                    f"elpa-eglot). Install them with `bash {INSTALL}` (as root, or with sudo); if that "
                    f"ran, its apt-get install failed: see its output.", pytrace=False)
    return found


def find_ormlens() -> str:
    local = BIN / "ormlens"
    found = str(local) if local.is_file() else shutil.which("ormlens")
    if found is None:
        pytest.fail("the ormlens command is not installed next to the Python running pytest")
    return str(Path(found).resolve())


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
    for path in EXAMPLES.glob("*.py"):  # copyfile: writable copies (examples/ is read-only)
        shutil.copyfile(path, tmp_path / path.name)
    home = tmp_path / "home"  # Emacs may write ~/.emacs.d (eln-cache, eglot's state): keep it here
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
           "XDG_CACHE_HOME": str(home / ".cache"), "ORMLENS_CMD": ormlens}
    try:
        run = subprocess.run([emacs, "--batch", "-Q", "-l", str(DRIVER), "original.py"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"emacs did not finish within 60 s; stdout:\n{exc.stdout}\nstderr:\n{exc.stderr}")
    report = f"exit {run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
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
