"""Builds the extension's bundled ormlens: ormlens (a wheel built from this repository) and its
dependencies for one VS Code target platform, the pure-Python ones in `bundled/libs/common/`, the
compiled ones (libcst, PyYAML) in `bundled/libs/cpXY/` for each CPython version (each platform
gets its own .vsix, `vsce package --target T`). bundled/tool/ormlens_server.py puts the running
interpreter's folder and `common` on its path. The same folder is written as one archive,
`bundled/libs.zip`, which is what the .vsix carries (its thousands of files, jedi's typeshed stubs
among them, would take vsce's per-file secret scan minutes and the install as long): the launcher
unpacks it on its first start.

    python3 scripts/bundle.py                        # this machine's platform, Python 3.10-3.13
    python3 scripts/bundle.py --target win32-x64     # another platform (only binary wheels)
    python3 scripts/bundle.py --pythons current      # only the running Python (tests)
    python3 scripts/bundle.py --out DIR              # elsewhere than bundled/libs (a build copy)

Everything comes from PyPI (pip); nothing of it is committed (bundled/libs is ignored by git)."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

EXTENSION = Path(__file__).resolve().parent.parent
REPOSITORY = EXTENSION.parent
LIBS = EXTENSION / "bundled" / "libs"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# pip evaluates the dependencies' markers (`python_version < "3.11"`) for the running Python, not
# for --python-version: what older versions need besides, named here.
BACKPORTS = {"3.10": ["tomli>=2.0", "exceptiongroup>=1.1"]}
# pip's platform tags of each VS Code target (`vsce package --target`).
PLATFORMS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    "linux-arm64": ["manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"],
    "darwin-x64": ["macosx_10_13_x86_64", "macosx_10_12_x86_64", "macosx_10_9_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
}


def this_target() -> str:
    machine = platform.machine().lower()
    arch = "arm64" if machine in ("arm64", "aarch64") else "x64"
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    return f"{system}-{arch}"


def build_wheel(into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(into), str(REPOSITORY)],
                   check=True)
    [wheel] = into.glob("ormlens-*.whl")
    return wheel


def install(wheel: Path, python: str, target: str, here: bool, libs: Path) -> Path:
    """ormlens and its dependencies for one CPython version, into bundled/libs/cpXY."""
    folder = libs / f"cp{python.replace('.', '')}"
    shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(folder)]
    if not here:  # another Python or platform than this one: its binary wheels only
        command += ["--only-binary", ":all:", "--implementation", "cp", "--python-version", python]
        command += [arg for tag in PLATFORMS[target] for arg in ("--platform", tag)]
    subprocess.run([*command, str(wheel), *BACKPORTS.get(python, [])], check=True)
    for leftover in folder.glob("bin"):  # console scripts: the launcher imports, it runs nothing else
        shutil.rmtree(leftover)
    return folder


def share_pure(folders: list[Path], libs: Path) -> None:
    """Moves the distributions that are pure Python (a `py3-none-any` wheel: the same for every
    version) from each version's folder to bundled/libs/common, once."""
    common = libs / "common"
    for folder in folders:
        for info in folder.glob("*.dist-info"):
            tags = [line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines()
                    if line.startswith("Tag:")]
            if not tags or not all(tag.endswith("-none-any") for tag in tags):
                continue
            for line in (info / "RECORD").read_text().splitlines():
                name = line.split(",", 1)[0]
                source, destination = folder / name, common / name
                if not source.is_file():
                    continue
                if not destination.exists():
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(source), destination)
                else:
                    source.unlink()
        for empty in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            if not any(empty.iterdir()):
                empty.rmdir()


def archive(libs: Path) -> Path:
    """`libs` as one zip beside it (`libs.zip`), its files in a stable order."""
    path = libs.with_suffix(".zip")
    partial = path.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for file in sorted(p for p in libs.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            out.write(file, file.relative_to(libs).as_posix())
    os.replace(partial, path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=sorted(PLATFORMS), default=this_target(),
                        help="the VS Code target platform (default: this machine's)")
    parser.add_argument("--pythons", default=",".join(PYTHONS),
                        help="comma-separated CPython versions, or `current` for the running one")
    parser.add_argument("--out", type=Path, default=LIBS, help="the folder to fill (default: bundled/libs)")
    args = parser.parse_args()
    libs = args.out.resolve()
    current = f"{sys.version_info[0]}.{sys.version_info[1]}"
    pythons = [current] if args.pythons == "current" else args.pythons.split(",")
    shutil.rmtree(libs, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        wheel = build_wheel(Path(scratch))
        folders = []
        for python in pythons:
            folders.append(install(wheel, python, args.target,
                                   here=python == current and args.target == this_target(), libs=libs))
            print(f"bundle.py: {folders[-1]} ({args.target}, Python {python})")
    share_pure(folders, libs)
    print(f"bundle.py: {archive(libs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
