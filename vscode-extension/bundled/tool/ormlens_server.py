"""Starts the ormlens language server for the VS Code extension, on the interpreter the user
selected (the pattern of Microsoft's python-tools extension template): with the ormlens bundled in
the extension first on the path (`ormlens.importStrategy` = `useBundled`, the default), or the
interpreter's own ormlens when it has one (`fromEnvironment`; else the bundled one). The bundle
(scripts/bundle.py) holds ormlens and its pure-Python dependencies in `bundled/libs/common/`, and
the compiled ones (libcst, PyYAML) in `bundled/libs/cpXY/` for each CPython version. Nothing is installed into the user's environment."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import zipfile
from pathlib import Path

LIBS = Path(__file__).resolve().parent.parent / "libs"
ARCHIVE = LIBS.with_suffix(".zip")  # what the .vsix carries (scripts/bundle.py)


def unpacked() -> Path:
    """The bundle's folder: bundled/libs, unpacked from bundled/libs.zip on the first start (in the
    extension's folder; where that is not writable, in the temporary folder, one per archive)."""
    if LIBS.is_dir() or not ARCHIVE.is_file():
        return LIBS
    stamp = f"{ARCHIVE.stat().st_size}-{int(ARCHIVE.stat().st_mtime)}"
    for target in (LIBS, Path(tempfile.gettempdir()) / f"ormlens-bundled-{stamp}"):
        if target.is_dir():
            return target
        partial = target.with_name(f"{target.name}.part-{os.getpid()}")
        try:
            with zipfile.ZipFile(ARCHIVE) as archive:
                archive.extractall(partial)
            os.rename(partial, target)  # atomic: a second window starting at once unpacks its own copy
        except OSError:
            if target.is_dir():
                return target  # another start won the race
            continue
        return target
    return LIBS




def main() -> int:
    strategy = os.environ.get("ORMLENS_IMPORT_STRATEGY", "useBundled")
    own = strategy == "fromEnvironment" and importlib.util.find_spec("ormlens") is not None
    if not own:
        root = unpacked()
        libs = root / f"cp{sys.version_info[0]}{sys.version_info[1]}"
        if not libs.is_dir():
            have = ", ".join(sorted(p.name for p in root.glob("cp*"))) or "none"
            print(f"ormlens: the bundled ormlens has no build for Python {sys.version.split()[0]} (builds: {have}); "
                  "select another interpreter, set ormlens.importStrategy to fromEnvironment with ormlens "
                  "installed there, or set ormlens.path", file=sys.stderr)
            return 2
        sys.path[:0] = [str(libs), str(root / "common")]
    from ormlens.cli import main as ormlens_main

    # The server's "ready" log line says which ormlens runs, on which interpreter.
    os.environ["ORMLENS_ORIGIN"] = f"{'the environment' if own else 'bundled'} on {sys.executable}"
    return ormlens_main(["server", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
