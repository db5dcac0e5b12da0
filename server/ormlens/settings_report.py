"""`ormlens config`: the settings in effect for a folder and where each one comes from (the
defaults, the configuration file, the command line), as text (TOML lines, the source as a
comment) or JSON."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from ormlens.config import RULE_CODES, LoadedSettings, Settings

DEFAULT = "default"
COMMAND_LINE = "command line"
# Keys that add to another one: setting them in the file counts for that one.
EXTENDS = {"extend_select": "select", "extend_exclude": "exclude", "extend_one_off": "one_off"}


def effective(loaded: LoadedSettings, settings: Settings, from_flags: set[str]) -> dict[str, dict]:
    """`{key: {"value": ..., "source": ...}}` for every setting, in the order Settings declares them,
    keys as in a configuration file (`chunk-size`)."""
    from_file = {EXTENDS.get(key, key) for key in loaded.keys}
    report = {}
    for field in fields(Settings):
        name = field.name
        if name in from_flags:
            source = COMMAND_LINE
        elif name in from_file and loaded.source is not None:
            source = str(loaded.source)
        else:
            source = DEFAULT
        report[name.replace("_", "-")] = {"value": _plain(name, getattr(settings, name)), "source": source}
    return report


def _plain(name: str, value: object) -> object:
    """A JSON (and TOML) value for a setting."""
    if name == "select" and value is None:
        return list(RULE_CODES)  # every rule
    if name == "per_file_ignores":
        return {pattern: sorted(codes) for _, pattern, codes in value}
    if name == "severity":
        return dict(value)
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def as_json(path: Path, loaded: LoadedSettings, report: dict[str, dict]) -> str:
    return json.dumps({"path": str(path), "configuration": str(loaded.source) if loaded.source else None,
                       "settings": report}, indent=2)


def as_text(path: Path, loaded: LoadedSettings, report: dict[str, dict]) -> list[str]:
    lines = [f"# Settings for {path}", f"# Configuration: {loaded.source or 'none (defaults)'}"]
    for key, entry in report.items():
        value = entry["value"]
        if value is None:
            lines.append(f"# {key} is unset  # {entry['source']}")
        else:
            lines.append(f"{key} = {_toml(value)}  # {entry['source']}")
    return lines


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # strings, numbers and true/false are written alike
