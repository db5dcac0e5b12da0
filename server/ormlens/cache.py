"""The persistent cache of `ormlens check`: each module's findings, with what they were computed from.

An entry holds a module's findings (or its one-line error) and the content hash of every module its
analysis read, directly or through others (ProjectIndex.reads: its imports, the functions it calls,
the models it uses). It is reused while every one of those hashes is unchanged, so an edit of a
model file re-analyses that file and the modules that read it, and an unchanged tree parses
nothing. An entry whose analysis looked for a model by class name among all modules also depends on
which files the run checks. The whole file is keyed by the ormlens build (its version and sources),
the settings and the project root; a corrupt or foreign file is ignored and written again.

Where: `<root>/.ormlens_cache/` (a `.gitignore` inside keeps it out of git, as ruff's), or the
`cache-dir` setting; `--no-cache` turns it off."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path

from ormlens import __version__
from ormlens.config import Settings
from ormlens.findings import Finding

log = logging.getLogger("ormlens")

CACHE_DIR_NAME = ".ormlens_cache"
FORMAT = 2  # of the file's contents (2: findings carry their fix plan in `fix`, not `data["fix"]`)


def cache_directory(settings: Settings, root: Path) -> Path:
    """Where the cache of a project is kept: the `cache-dir` setting, else `.ormlens_cache` in its root."""
    return Path(settings.cache_dir) if settings.cache_dir else root / CACHE_DIR_NAME


@dataclass(frozen=True)
class Entry:
    digest: str                  # of the module's own bytes
    findings: tuple[Finding, ...]
    error: str | None
    reads: tuple[str, ...]       # every module its analysis read (their digests: ResultCache.recorded)
    # It searched the list of all models (a model by class name, a backref): the digest of every
    # model then (ProjectIndex.models_fingerprint); None when it did not.
    models: str | None


# `lookup`'s answer for an entry that is valid if the models are what they were.
NEEDS_MODELS = "needs models"


def build_fingerprint() -> str:
    """This ormlens: its version and the size and modification time of each of its sources (a
    development checkout changes without a new version)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(f"{__version__}:{FORMAT}".encode(), digest_size=16)
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


class ResultCache:
    def __init__(self, directory: Path, root: Path | None, settings: Settings, files: list[str] | None) -> None:
        self.directory = directory
        key = hashlib.blake2b(f"{build_fingerprint()}|{root}|{settings.analysis_key()}".encode(),
                              digest_size=8).hexdigest()
        self.file = directory / f"results-{key}.pickle"
        # Another set of files (one added, deleted, or another selection) may resolve imports
        # differently anywhere: then nothing is reused. None: whatever set the last run checked
        # (the editor's first look, see `first_look`).
        self.files = None if files is None else \
            hashlib.blake2b("\n".join(sorted(files)).encode(), digest_size=16).hexdigest()
        self._digests: dict[str, str | None] = {}
        # The digest of each module an entry read, as it was then (entries are stored only while
        # every module they read is unchanged, so one digest per module serves them all).
        self.recorded: dict[str, str | None] = {}
        self.modules: list[str] = []  # every module the last run read: the checked files and their imports
        self._entries: dict[str, Entry] = {}
        self._read_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._changed: set[str] | None = None  # recorded modules whose digest differs now
        self._sets: dict[int, bool] = {}       # id of a tuple of reads -> unchanged
        self._load()

    def digest(self, path: str) -> str | None:
        """The content hash of a file as it is on disk now (None: it cannot be read)."""
        if path not in self._digests:
            try:
                self._digests[path] = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
            except OSError:
                self._digests[path] = None
        return self._digests[path]

    def forget_digests(self) -> None:
        self._digests.clear()
        self._changed = None

    def _unchanged(self, reads: tuple[str, ...]) -> bool:
        """Is every module in `reads` as recorded? (The modules that changed are found once; many
        entries share one tuple of reads.)"""
        if self._changed is None:
            self._changed = {path for path, digest in self.recorded.items() if self.digest(path) != digest}
            self._sets = {}
        if not self._changed:
            return True  # every read is in the table, as stored
        known = self._sets.get(id(reads))
        if known is None:
            known = self._sets[id(reads)] = all(read in self.recorded and read not in self._changed
                                                for read in reads)
        return known

    def modules_unchanged(self) -> bool:
        """Is every module the last run read as it was (so the models are too)?"""
        return bool(self.modules) and all(self.digest(path) == self.recorded.get(path, "?") for path in self.modules)

    def lookup(self, path: str, models: str | None = None,
               models_unchanged: bool = False) -> tuple[list[Finding], str | None] | str | None:
        """The cached (findings, error) of `path`; None when something it read changed;
        NEEDS_MODELS when that depends on the models, which may have changed, and `models` (their
        digest now) is not given. `models_unchanged`: every module read last time is unchanged
        (every stored entry was computed or checked against the last run's models)."""
        entry = self._entries.get(path)
        if entry is None or entry.digest != self.digest(path) or not self._unchanged(entry.reads):
            return None
        if entry.models is not None and not models_unchanged and entry.models != models:
            return NEEDS_MODELS if models is None else None
        return list(entry.findings), entry.error

    def store(self, path: str, findings: list[Finding], error: str | None, reads: tuple[str, ...],
              models: str | None) -> None:
        """`reads`: sorted (many modules read the same set: it is kept once)."""
        digest = self.digest(path)
        if digest is None:
            return  # not readable: nothing to key it by
        known = self._read_sets.get(reads)
        if known is None:
            self._read_sets[reads] = known = reads
            for read in reads:
                self.recorded[read] = self.digest(read)
        reads = known
        self._entries[path] = Entry(digest, tuple(findings), error, reads, models)

    def save(self, modules: list[str]) -> None:
        """Write the entries, and the digests of `modules` (what this run read). Atomically: a
        concurrent or interrupted run never leaves half a file."""
        for path in modules:
            self.recorded[path] = self.digest(path)
        self.modules = list(modules)
        # Compact: module paths once, each entry's reads as an index into a table of distinct sets
        # of table positions (many modules read the same set).
        table = sorted(self.recorded)
        position = {path: index for index, path in enumerate(table)}
        sets: dict[bytes, int] = {}
        entries = {}
        for path, entry in self._entries.items():
            packed = array("I", sorted(position[read] for read in entry.reads)).tobytes()
            entries[path] = (entry.digest, entry.findings, entry.error, sets.setdefault(packed, len(sets)),
                             entry.models)
        data = (FORMAT, self.files, table, [self.recorded[path] for path in table], list(sets),
                array("I", sorted(position[path] for path in modules)).tobytes(), entries)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by ormlens automatically.\n*\n")
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".results-", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.file)
        except OSError as exc:
            log.warning("ormlens: cannot write the cache in %s: %s", self.directory, exc.strerror or exc)

    def _load(self) -> None:
        try:
            with open(self.file, "rb") as handle:
                data = pickle.load(handle)
            if not (isinstance(data, tuple) and len(data) == 7 and data[0] == FORMAT):
                log.warning("ormlens: ignored a cache file of another format: %s", self.file)
                return
            _, files, table, digests, sets, modules, entries = data
            if self.files is not None and files != self.files:
                return
            reads = [tuple(map(table.__getitem__, array("I", packed))) for packed in sets]
            self._entries = {path: Entry(digest, findings, error, reads[read_set], models)
                             for path, (digest, findings, error, read_set, models) in entries.items()}
            self.recorded = dict(zip(table, digests, strict=True))
            self.modules = [table[index] for index in array("I", modules)]
        except FileNotFoundError:
            return
        except Exception as exc:  # noqa: BLE001 - any damage: start afresh, the file is rewritten
            log.warning("ormlens: ignored an unreadable cache file %s (%s)", self.file, type(exc).__name__)
            self._entries, self.recorded, self.modules = {}, {}, []


class FirstLook:
    """The language server's read-only view of the CLI's cache: the findings of a document just
    opened, while its own analysis (which a large project needs seconds for) is running. Only for
    a text equal to the file on disk, and only while every module the cached analysis read is
    unchanged; the server's own analysis replaces it moments later in any case."""

    def __init__(self, directory: Path, root: Path | None, settings: Settings) -> None:
        self.cache = ResultCache(directory, root, settings, None)

    def findings(self, path: str, text: str, disk_text: str | None) -> list[Finding] | None:
        if text != disk_text:
            return None
        self.cache.forget_digests()  # the files may have changed since the last look
        found = self.cache.lookup(path)
        if found == NEEDS_MODELS:
            found = self.cache.lookup(path, models_unchanged=self.cache.modules_unchanged())
        return found[0] if isinstance(found, tuple) and found[1] is None else None
