"""`ormlens check --jobs N`: modules analysed in N processes forked from one that has read every
module's declarations (so each worker starts with the same project, shared copy-on-write, and
gives the findings one process would). Where fork is not available, one process does it all."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ormlens.analysis.project import ProjectIndex
from ormlens.config import Settings
from ormlens.findings import Finding


# engine.analyze: (project, path, settings) -> (findings, one-line error)
Analyze = Callable[[ProjectIndex, str, Settings], tuple[list[Finding], "str | None"]]


@dataclass
class Analysed:
    path: str
    findings: list[Finding]
    error: str | None
    reads: tuple[str, ...]  # the modules its analysis read (ProjectIndex.reads), when asked
    all_models: bool        # it searched every module


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


LINES_PER_JOB = 30_000

# What a forked worker analyses with (project, settings, analyze, reads): set just before the
# fork, inherited by the children.
_WORK: tuple | None = None


def analyse_all(project: ProjectIndex, paths: list[str], settings: Settings, jobs: int | None,
                analyze: Analyze, reads: bool = False) -> Iterator[Analysed]:
    """Analyse `paths` (the project's declarations already loaded) in `jobs` processes (None: one
    per core, fewer for a small run)."""
    if jobs is None:
        # A process costs its start and the facts of the modules several workers import: worth
        # it from about LINES_PER_JOB lines to analyse on.
        jobs = min(default_jobs(), sum(_lines(project, path) for path in paths) // LINES_PER_JOB)
    if jobs <= 1 or len(paths) < 2 or not can_fork():
        yield from _analyse(project, paths, settings, analyze, reads)
        return
    global _WORK
    _WORK = (project, settings, analyze, reads)
    # Every worker gets a share of the lines to analyse: largest modules first, each to the
    # share with the fewest lines so far.
    shares: list[list[str]] = [[] for _ in range(jobs * 4)]
    sizes = [0] * len(shares)
    for path in sorted(paths, key=lambda p: -_lines(project, p)):
        smallest = sizes.index(min(sizes))
        shares[smallest].append(path)
        sizes[smallest] += _lines(project, path) + 1
    gc.collect()
    gc.freeze()  # the loaded project is never collected: its pages stay shared with the workers
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for share in pool.imap_unordered(_analyse_share, [s for s in shares if s]):
                yield from share
    finally:
        gc.unfreeze()
        _WORK = None


def _lines(project: ProjectIndex, path: str) -> int:
    decl = project.decl(path)
    return decl.source.count("\n") if decl is not None else 0


# While the cycle collector is paused (engine.paused_collection), what an analysis leaves in
# reference cycles is collected every this many modules.
COLLECT_EVERY = 200


def collect_young() -> None:
    """Collect the youngest generation when the collector is paused: what was allocated since the
    last time (the first time, everything since the pause), so its garbage cycles do not pile up."""
    if not gc.isenabled():
        gc.collect(0)


def _analyse_share(paths: list[str]) -> list[Analysed]:
    assert _WORK is not None
    project, settings, analyze, reads = _WORK
    project.star_exports.forked()
    return list(_analyse(project, paths, settings, analyze, reads))


def _analyse(project: ProjectIndex, paths: list[str], settings: Settings, analyze: Analyze,
             reads: bool) -> Iterator[Analysed]:
    # Analysed while their trees are still whole when possible (each other one is parsed again).
    done = []
    for count, path in enumerate(project.whole_first(paths), start=1):
        done.append((path, *analyze(project, path, settings)))
        if count % COLLECT_EVERY == 0:
            collect_young()
    # What each one read, for the cache: all at once at the end (a superset of what each read
    # when it was analysed, as the graph only grows in a run).
    read = project.reads_of([path for path, _, _ in done]) if reads else {}
    for path, findings, error in done:
        modules, all_models = read.get(path, ((), False))
        yield Analysed(path, findings, error, modules, all_models)
