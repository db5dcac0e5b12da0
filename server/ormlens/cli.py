"""The `ormlens` command: `check` reports findings like ruff, `rule` prints a rule's docs.
Exit codes as ruff: 0 clean (also when no file was found to check: a warning says so),
1 findings (or files that could not be checked), 2 usage error."""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import sys
from dataclasses import replace
from pathlib import Path

from ormlens import __version__
from ormlens.baseline import Baseline, BaselineError, load_baseline, not_in_baseline, write_baseline
from ormlens.config import (OUTPUT_FORMAT_ALIASES, OUTPUT_FORMATS, LoadedSettings, Settings, UnknownCode, find_config,
                            find_root, load_config, parse_codes)
from ormlens.discovery import EmptyFolder, IgnoreRule, find_files, force_excluded, project_modules, root_modules
from ormlens.engine import FixOutcome, check_files, fix_files, resolved  # module-level names: tests monkeypatch them
from ormlens.cache import cache_directory
from ormlens.noqa import UNUSED_NOQA, UNUSED_NOQA_DOCUMENTATION, add_noqa, split_suppressed
from ormlens.one_off import is_one_off, split_one_off
from ormlens.output import Run, choose_format, colours, parse_error, render
from ormlens.output.common import SourceLines, display_path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # --help, --version and usage errors: return argparse's status rather than raise,
        # so main() always returns an int (0, or 2 for bad usage).
        return int(exc.code or 0)
    # A batch run keeps every module's tree alive: collect cycles less often (mypy does the same).
    gc.set_threshold(100_000, 50, 100)
    try:
        status = args.run(args)
        if not sys.stdout.closed:  # (the language server closes it when its client goes)
            sys.stdout.flush()  # inside the try: a closed pipe shows here, not at exit
    except BrokenPipeError:
        # The reader is gone (`ormlens check | head`): stop quietly, as the Python docs advise
        # (stdout pointed at devnull so that the exit's flush fails no more), with ruff's status 0.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ormlens", description="Find ORM performance bugs in Python code, without importing it."
    )
    parser.add_argument("--version", action="version", version=f"ormlens {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="check files or directories for ORM performance bugs",
                                parents=[settings_flags()])
    check.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH",
                       help="files or directories to check (default: .; `-`: standard input)")
    check.add_argument("--output-format", choices=(*OUTPUT_FORMATS, *OUTPUT_FORMAT_ALIASES), metavar="FORMAT",
                       help=f"one of {', '.join(OUTPUT_FORMATS)} (text: concise); default: the output-format "
                            "setting, else full on a terminal and concise otherwise")
    check.add_argument("--output-file", type=Path, metavar="FILE",
                       help="write the output to FILE (its folders are made) instead of stdout")
    check.add_argument("--statistics", action="store_true",
                       help="print the number of findings per rule ([*]: --fix fixes some) instead of the findings")
    check.add_argument("--show-fixes", action="store_true",
                       help="after the findings, list the fixes --fix would apply (with --fix: it applied), per file")
    check.add_argument("-q", "--quiet", action="store_true", help="do not print the summary line")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--include", action="append", choices=("one-off",), default=[],
                       help="one-off: also report (and fix) findings in one-off code (migrations, management "
                            "commands, scripts, tests: the one-off setting), counted in the exit status")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left")
    check.add_argument("--diff", action="store_true",
                       help="print the fixes as a unified diff and change nothing (exit 1 if there are any)")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff, apply unsafe fixes too (see each rule's Fix safety)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where to keep the cache (default: .ormlens_cache in the project root)")
    check.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                       help="analyse in N processes (default: one per core, fewer for a small project)")
    check.add_argument("--stdin-filename", type=Path, metavar="PATH",
                       help="check the source read from standard input as the file PATH of the project "
                            "(with --fix, print the fixed source)")
    check.add_argument("--add-noqa", action="store_true",
                       help="add a `# noqa: CODE` comment on each line with a finding")
    check.add_argument("--report-unused-noqa", action="store_true",
                       help="report `# noqa: ORM...` codes that suppress nothing (as ORM000)")
    check.add_argument("--write-baseline", type=Path, metavar="FILE",
                       help="write the current findings to FILE (a baseline) and report nothing")
    check.add_argument("--baseline", type=Path, metavar="FILE",
                       help="report only the findings that the baseline FILE does not hold")
    check.set_defaults(run=run_check)

    config = commands.add_parser("config", help="print the settings in effect and where each comes from",
                                 parents=[settings_flags()])
    config.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="a file or folder of the project (default: .)")
    config.add_argument("--output-format", choices=("text", "json"), default="text")
    config.set_defaults(run=run_config)

    rule = commands.add_parser("rule", help="print the documentation of a rule")
    which = rule.add_mutually_exclusive_group(required=True)
    which.add_argument("code", nargs="?", help="a rule code, e.g. ORM001")
    which.add_argument("--all", action="store_true", help="print every rule's documentation")
    rule.set_defaults(run=run_rule)

    serve = commands.add_parser("server", help="run the language server (stdio, for an editor)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP port instead (for debugging)")
    serve.set_defaults(run=run_server)
    return parser


def run_server(args: argparse.Namespace) -> int:
    from ormlens.lsp.server import start  # pygls is only needed here

    start(args.tcp)
    return EXIT_OK


def settings_flags() -> argparse.ArgumentParser:
    """The flags that change settings, shared by `check` and `config`."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--select", metavar="CODES",
                       help="comma-separated rule codes (or prefixes: ORM) to enable, replacing the configured "
                            "selection")
    flags.add_argument("--extend-select", metavar="CODES",
                       help="comma-separated rule codes to enable on top of the selection")
    flags.add_argument("--ignore", metavar="CODES",
                       help="comma-separated rule codes to disable, on top of the configured ones")
    flags.add_argument("--config", type=Path, metavar="FILE",
                       help="read the settings from this file: a pyproject.toml ([tool.ormlens]) or an "
                            "ormlens.toml, instead of the configuration found above the paths")
    flags.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, default=None,
                       help="skip what .gitignore files exclude when walking folders "
                            "(default: the respect-gitignore setting, true)")
    flags.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, default=None,
                       help="apply `exclude` to files named on the command line too (default: the "
                            "force-exclude setting, false)")
    return flags


def _flag_codes(args: argparse.Namespace) -> dict[str, frozenset[str]]:
    """The codes --select, --extend-select and --ignore give. Raises UnknownCode naming the flag."""
    codes = {}
    for flag in ("select", "extend_select", "ignore"):
        value = getattr(args, flag)
        if value is not None:
            try:
                codes[flag] = parse_codes(value)
            except UnknownCode as exc:
                raise UnknownCode(f"argument --{flag.replace('_', '-')}: {exc}") from None
    return codes


def run_check(args: argparse.Namespace) -> int:
    stdin_path = _stdin_path(args)
    paths: list[Path] = [stdin_path] if stdin_path is not None else args.paths
    problem = _usage_problem(args, paths, stdin_path)
    if problem:
        _error(problem)
        return EXIT_USAGE
    flag_codes = _flag_codes(args)
    try:
        baseline = load_baseline(args.baseline) if args.baseline is not None else None
    except BaselineError as exc:
        _error(str(exc))
        return EXIT_USAGE

    root = project_root(paths, Path.cwd())
    loaded, warnings = _configuration(paths, root, args.config)
    if loaded.errors:  # unknown rule codes: as ruff, no run on a configuration that says what it cannot mean
        for message in loaded.errors:
            _error(message)
        return EXIT_USAGE
    for warning in [*warnings, *loaded.warnings]:
        print(f"ormlens: warning: {warning}", file=sys.stderr)
    settings, _ = apply_flags(loaded.settings, args, flag_codes)

    # `exclude` patterns are relative to the configuration file's folder (as ruff's).
    base = loaded.source.parent if loaded.source is not None else root
    if settings.force_exclude:
        paths = [path for path in paths if path.is_dir() or not force_excluded(path, base, settings.exclude)]
    if stdin_path is not None:
        return _check_stdin(args, paths, settings, root, base, baseline)
    discovery = find_files(paths, base, settings.exclude, settings.respect_gitignore)
    files = discovery.files
    for message in _empty_folder_warnings(discovery.empty_folders, bool(files), loaded.source):
        print(f"ormlens: warning: {message}", file=sys.stderr)
    files, for_templates = _templates_named(files, root, base, settings)
    outcomes: list[FixOutcome] = []
    include_one_off = "one-off" in args.include
    if args.fix or args.diff:
        fixable = [f for f in files if f not in for_templates]  # (a view found for a template is reported, not edited)
        fixable = fixable if include_one_off else [f for f in fixable if not is_one_off(f, base, settings)]
        outcomes = fix_files(fixable, settings, root, args.unsafe_fixes, _project_modules(root, base, settings))
        if args.diff:
            return _print_diff(outcomes)
        for outcome in outcomes:
            if outcome.fixed != outcome.original:
                outcome.write()
    return _report(args, files, {}, settings, root, base, baseline, outcomes if args.fix else None,
                   for_templates=for_templates)


def _templates_named(files: list[Path], root: Path, base: Path, settings: Settings) -> tuple[list[Path], dict]:
    """Templates named on the command line are checked through the views that render them: (the
    files to analyse, {a view added for them: the templates whose findings it reports})."""
    from ormlens.analysis.templates.lookup import is_template, views_naming

    templates = [file for file in files if is_template(str(file))]
    if not templates:
        return files, {}
    modules = [str(module) for module in root_modules(root, base, settings.exclude, settings.respect_gitignore)]
    read = lambda path: Path(path).read_text(errors="replace")  # noqa: E731
    rest = [file for file in files if file not in templates]
    added: dict[Path, set[str]] = {}
    for template in templates:
        wanted = resolved([template])[0]
        for view in views_naming(wanted, modules, read):
            if Path(view) not in rest:
                added.setdefault(Path(view), set()).add(wanted)
    return sorted({*rest, *added}), added


def _report(args: argparse.Namespace, files: list[Path], sources: dict[str, str], settings: Settings,
            root: Path, base: Path, baseline: Baseline | None, fixed: list[FixOutcome] | None, out=None,
            for_templates: dict | None = None) -> int:
    """Check `files` (`sources`: the text of some, not the disk's) and report, or write what the
    adoption flags ask for (`--add-noqa`, `--write-baseline`). `fixed`: what --fix did.
    `for_templates`: views checked for the templates named (only those templates' findings shown)."""
    include_one_off = "one-off" in args.include
    report = check_files(files, settings, root, cache_dir=_cache_dir(args, settings, root),
                         jobs=args.jobs, project_files=_project_modules(root, base, settings),
                         **({"sources": sources} if sources else {}),
                         **({"honour_noqa": False} if args.report_unused_noqa else {}))

    for message in report.errors:
        _error(message)
    texts = SourceLines()  # each file read once, for the baseline, the noqa report and the output
    texts.given(sources)
    findings = report.findings
    if for_templates:  # the views found for named templates: those templates' findings only
        views = set(resolved(list(for_templates)))
        wanted = set().union(*for_templates.values())
        others_asked = len(files) > len(for_templates)
        findings = [f for f in findings if f.path in wanted or others_asked and f.path not in views]
    if args.report_unused_noqa:
        kept, unused = split_suppressed(findings, resolved(files), settings, root, texts)
        findings = kept + unused
    shown, one_off = (findings, []) if include_one_off else split_one_off(findings, base, settings)
    if args.add_noqa:
        return _add_noqa(shown)
    if args.write_baseline is not None:
        count = write_baseline(args.write_baseline, shown, texts)
        print(f"Wrote {count} finding{'s' if count != 1 else ''} to {args.write_baseline}.", file=sys.stderr)
        return EXIT_OK
    in_baseline = 0
    if baseline is not None:
        shown, in_baseline = not_in_baseline(shown, baseline, texts)
    checked = resolved(files) if report.errors else []  # how the engine names the files in its errors
    run = Run(shown, [parse_error(error, checked) for error in report.errors], settings, root,
              unsafe_fixes=args.unsafe_fixes, files_checked=len(files), one_off_hidden=len(one_off),
              quiet=args.quiet, fixed=fixed, baseline_hidden=in_baseline, baseline=args.baseline, sources=texts)
    _write_output(run, args, settings, out)
    # A finding at `information` or `hint` severity is shown but does not fail the run.
    return EXIT_FINDINGS if run.failing() and not args.exit_zero else EXIT_OK


def _write_output(run: Run, args: argparse.Namespace, settings: Settings, out=None) -> None:
    stream = (out or sys.stdout) if args.output_file is None else None
    output_format = choose_format(args.output_format, settings.output_format,
                                  terminal=stream is not None and stream.isatty())
    output = render(run, output_format, statistics=args.statistics, show_fixes=args.show_fixes,
                    fix_applied=args.fix, colour=stream is not None and colours(stream))
    if stream is not None:
        stream.write(output)
        stream.flush()
        return
    args.output_file.parent.mkdir(parents=True, exist_ok=True)
    args.output_file.write_text(output, encoding="utf-8")


def _stdin_path(args: argparse.Namespace) -> Path | None:
    """The path the source on standard input is checked as (`--stdin-filename`, or `-` as the
    path: then `-` in the current folder, as ruff names it); None when nothing is read from it."""
    if args.stdin_filename is not None:
        return args.stdin_filename
    return Path("-") if [str(path) for path in args.paths] == ["-"] else None


def _usage_problem(args: argparse.Namespace, paths: list[Path], stdin_path: Path | None) -> str | None:
    """What makes the command line unusable (exit 2), checked before anything runs."""
    if stdin_path is None:
        missing = next((path for path in paths if not path.exists()), None)
        if missing is not None:
            return f"{missing}: no such file or directory"
    elif args.stdin_filename is not None and [str(path) for path in args.paths] not in (["."], ["-"]):
        return "--stdin-filename checks standard input: name no other path"
    if args.config is not None and not args.config.is_file():
        return f"{args.config}: no such configuration file"
    writes = [flag for flag, given in (("--add-noqa", args.add_noqa), ("--write-baseline", args.write_baseline),
                                       ("--fix", args.fix), ("--diff", args.diff)) if given]
    if len(writes) > 1 and writes != ["--fix", "--diff"]:
        return f"{' and '.join(writes)} cannot be combined"
    if stdin_path is not None and (args.add_noqa or args.write_baseline):
        return f"{writes[0]} edits files: it cannot check standard input"
    try:
        _flag_codes(args)
    except UnknownCode as exc:
        return str(exc)
    return None


def _add_noqa(findings: list) -> int:
    added = add_noqa(findings)
    for where in added.skipped:
        print(f"ormlens: warning: {where}: no `# noqa` added: the line goes on (in a string or after `\\`)",
              file=sys.stderr)
    print(f"Added {added.added} noqa directive{'s' if added.added != 1 else ''}.", file=sys.stderr)
    return EXIT_OK


def _check_stdin(args: argparse.Namespace, paths: list[Path], settings: Settings, root: Path, base: Path,
                 baseline: Baseline | None) -> int:
    """Check (or fix) the source on standard input as the file it is named (`paths`: that one,
    or none when `force-exclude` leaves it out). With --fix, the fixed source goes to stdout and
    the findings left to stderr, as ruff does."""
    text = sys.stdin.read()
    path = resolved(paths)[0] if paths else None
    if path is None:
        if args.fix:
            sys.stdout.write(text)  # an excluded file passes through unchanged
        return EXIT_OK
    sources = {path: text}
    if args.fix or args.diff:
        outcomes = fix_files([Path(path)], settings, root, args.unsafe_fixes, _project_modules(root, base, settings),
                             sources=sources)
        outcome = outcomes[0]
        if args.diff:
            return _print_diff(outcomes)
        sources = {path: outcome.fixed if not outcome.error else text}
        sys.stdout.write(sources[path])
        return _report(args, [Path(path)], sources, settings, root, base, baseline, outcomes if args.fix else None,
                       out=sys.stderr)
    return _report(args, [Path(path)], sources, settings, root, base, baseline, None)


def _empty_folder_warnings(empty: list[EmptyFolder], found_any: bool, settings_file: Path | None) -> list[str]:
    """Why each named folder gave no file, then ruff's warning when no file at all was found."""
    warnings = []
    for folder in empty:
        if folder.rules:
            where = f"{folder.folder} is" if folder.ignored_itself else f"every Python file in {folder.folder} is"
            warnings.append(f"{where} ignored by {_rules_text(folder.rules, settings_file)}: no files checked "
                            f"there; {_remedy(folder.rules)}")
        elif found_any:  # else the warning below says it for every path
            warnings.append(f"No Python files found under {folder.folder}")
    if not found_any:
        warnings.append("No Python files found under the given path(s)")
    return warnings


def _rules_text(rules: tuple[IgnoreRule, ...], settings_file: Path | None) -> str:
    shown = 3  # a pyenv tree can have many; the first few say enough
    texts = [f"{rule.source} (pattern `{rule.pattern}`)" if rule.source else
             f"{settings_file or 'the settings'} (exclude pattern `{rule.pattern}`)" for rule in rules[:shown]]
    more = f" and {len(rules) - shown} more" if len(rules) > shown else ""
    return ", ".join(texts) + more


def _remedy(rules: tuple[IgnoreRule, ...]) -> str:
    ways = ["name the files"]
    if any(rule.source for rule in rules):
        ways.append("pass --no-respect-gitignore")
    if any(rule.source is None for rule in rules):
        ways.append("change `exclude`")
    return ", ".join(ways[:-1]) + ", or " + ways[-1]


def _print_diff(outcomes: list[FixOutcome]) -> int:
    changed = [o for o in outcomes if o.fixed != o.original]
    for outcome in changed:
        name = display_path(outcome.path)
        sys.stdout.writelines(difflib.unified_diff(
            outcome.original.splitlines(keepends=True), outcome.fixed.splitlines(keepends=True),
            fromfile=f"a/{name}", tofile=f"b/{name}"))
    count = sum(o.applied for o in changed)
    print(f"Would fix {count} error{'s' if count != 1 else ''}." if count else "No fixes available.",
          file=sys.stderr)
    return EXIT_FINDINGS if changed else EXIT_OK


def _project_modules(root: Path, base: Path, settings: Settings) -> list[Path]:
    modules, warning = project_modules(root, base, settings.exclude, settings.respect_gitignore)
    if warning:
        print(f"ormlens: warning: {warning}", file=sys.stderr)
    return modules


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of processes, not {value!r}")
    return jobs


def _cache_dir(args: argparse.Namespace, settings: Settings, root: Path) -> Path | None:
    if args.no_cache:
        return None
    if args.cache_dir is not None:
        return args.cache_dir.resolve()
    return cache_directory(settings, root)


def apply_flags(settings: Settings, args: argparse.Namespace,
                codes: dict[str, frozenset[str]]) -> tuple[Settings, set[str]]:
    """The settings with the command line's flags applied (`codes`: _flag_codes), and the
    settings they changed (for `ormlens config`)."""
    changed = set()
    # As in ruff: --select starts a fresh selection (so it can re-enable a rule the
    # configuration ignores); --extend-select adds to it; --ignore adds to whatever is ignored already.
    if "select" in codes:
        settings = replace(settings, select=codes["select"], ignore=frozenset())
        changed |= {"select", "ignore"}
    if "extend_select" in codes and settings.select is not None:
        settings = replace(settings, select=settings.select | codes["extend_select"])
        changed.add("select")
    if codes.get("ignore"):
        settings = replace(settings, ignore=settings.ignore | codes["ignore"])
        changed.add("ignore")
    for flag in ("respect_gitignore", "force_exclude"):
        if getattr(args, flag) is not None:
            settings = replace(settings, **{flag: getattr(args, flag)})
            changed.add(flag)
    return settings, changed


def project_root(paths: list[Path], cwd: Path) -> Path:
    """The root of a run. Each path's root is the nearest folder at or above it with a root marker
    (config.find_root); a path with none has the current directory as its root when it is inside
    it, else its own folder. When the paths have different roots, the run's root is the root of
    their common folder (or that folder). The order of the paths never matters."""
    cwd = cwd.resolve()
    roots = set()
    for folder, found in _per_folder(find_root, paths).items():
        if found is None:
            found = cwd if folder.is_relative_to(cwd) else folder
        roots.add(found)
    if len(roots) == 1:
        return roots.pop()
    common = Path(os.path.commonpath([str(r) for r in roots]))
    return find_root(common) or common


def _per_folder(find, paths: list[Path]) -> dict[Path, Path | None]:
    """`find` (find_root, find_config) of each path's folder (resolved), once per folder: a
    pre-commit run names thousands of files in a few hundred folders."""
    folders = {path if path.is_dir() else path.parent for path in paths}
    return {folder: find(folder) for folder in {folder.resolve() for folder in folders}}


def _configuration(paths: list[Path], root: Path, named: Path | None) -> tuple[LoadedSettings, list[str]]:
    """The run's settings: the file `--config` names, else the configuration nearest the paths
    (config.find_config) when they all share one, else the one found from the root, with a
    warning naming those left unused. One configuration per run, whatever the order of the paths."""
    if named is not None:
        return load_config(named), []
    found = set(_per_folder(find_config, paths).values())
    if len(found) == 1:
        config = found.pop()
        return (load_config(config) if config else LoadedSettings(Settings())), []
    config = find_config(root)
    unused = sorted(str(c) for c in found if c is not None and c != config)
    warnings = [f"the paths given have different configurations: {', '.join(unused)} "
                f"{'is' if len(unused) == 1 else 'are'} not used for this run "
                f"({config or 'default settings'} is); check each project on its own, or pass --config"]
    return (load_config(config) if config else LoadedSettings(Settings())), warnings


def run_config(args: argparse.Namespace) -> int:
    """The settings `ormlens check PATH` would use, each with where it comes from."""
    from ormlens.settings_report import as_json, as_text, effective

    if not args.path.exists():
        _error(f"{args.path}: no such file or directory")
        return EXIT_USAGE
    if args.config is not None and not args.config.is_file():
        _error(f"{args.config}: no such configuration file")
        return EXIT_USAGE
    try:
        codes = _flag_codes(args)
    except UnknownCode as exc:
        _error(str(exc))
        return EXIT_USAGE
    loaded, _ = _configuration([args.path], project_root([args.path], Path.cwd()), args.config)
    if loaded.errors:
        for message in loaded.errors:
            _error(message)
        return EXIT_USAGE
    for warning in loaded.warnings:
        print(f"ormlens: warning: {warning}", file=sys.stderr)
    settings, from_flags = apply_flags(loaded.settings, args, codes)
    report = effective(loaded, settings, from_flags)
    path = args.path.resolve()
    print(as_json(path, loaded, report) if args.output_format == "json" else "\n".join(as_text(path, loaded, report)))
    return EXIT_OK


def run_rule(args: argparse.Namespace) -> int:
    # Imported on use: `check` does not need the rules' documentation.
    from ormlens.rules import REGISTRY

    if args.all:
        docs = [REGISTRY[code].documentation().strip("\n") for code in sorted(REGISTRY)]
        print("\n\n".join(docs))
        return EXIT_OK
    code = args.code.strip().upper()
    rule = REGISTRY.get(code)
    if rule is None and code == UNUSED_NOQA:  # not a rule: what --report-unused-noqa reports
        print(UNUSED_NOQA_DOCUMENTATION)
        return EXIT_OK
    if rule is None:
        _error(f"unknown rule code: {args.code} (known: {', '.join(sorted(REGISTRY))}, and {UNUSED_NOQA} for "
               "--report-unused-noqa)")
        return EXIT_USAGE
    print(rule.documentation().rstrip("\n"))
    return EXIT_OK


def _error(message: str) -> None:
    print(f"ormlens: error: {message}", file=sys.stderr)
