"""Reading a module's text as Python does, and telling whether two texts of it parse alike."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path


class ParseFailure(Exception):
    """A module that cannot be read or parsed; the message is one line for the user."""


def same_tree(old: ast.Module, new: ast.Module, old_source: str, new_source: str) -> bool:
    """Do two texts of a module parse to the same tree, positions included? Cheap for an edit
    within lines: the top-level statements must keep their places, and only those over the lines
    that differ are compared (the others have the same text at the same place)."""
    old_lines, new_lines = old_source.splitlines(), new_source.splitlines()
    if len(old_lines) != len(new_lines) or len(old.body) != len(new.body):
        return False
    first = next((i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b), None)
    if first is None:
        return True
    last = next(i for i in range(len(old_lines) - 1, -1, -1) if old_lines[i] != new_lines[i])
    for a, b in zip(old.body, new.body):
        if (a.lineno, a.col_offset, a.end_lineno, a.end_col_offset) != \
                (b.lineno, b.col_offset, b.end_lineno, b.end_col_offset):
            return False
        if a.lineno - 1 <= last and (a.end_lineno or a.lineno) - 1 >= first and \
                ast.dump(a, include_attributes=True) != ast.dump(b, include_attributes=True):
            return False
    return True


def outline(tree: ast.Module, lines: list[str], functions: list) -> tuple[int, list[tuple[int, int] | None]]:
    """A hash of a module's text with the lines of its function bodies emptied (`functions`:
    residency.declared_functions of the whole tree), and those lines per function. Two texts
    with the same outline differ only inside function bodies: same declarations, same lines."""
    outside = list(lines)
    bodies: list[tuple[int, int] | None] = []
    for function in functions:
        first = function.body[0]
        line = lines[first.lineno - 1] if first.lineno <= len(lines) else ""
        if first.lineno > function.lineno and not line[:first.col_offset].strip():
            bodies.append((first.lineno, function.end_lineno))
            for index in range(first.lineno - 1, function.end_lineno):
                outside[index] = ""
        else:
            bodies.append(None)
    return hash("\n".join(outside)), bodies


def same_code(old: list, new: list, first: int, last: int) -> bool:
    """Do two lists of nodes (a function body) parse alike, positions included, given that their
    texts differ only on lines `first`..`last`? A node that lies outside those lines at the same
    place on both sides has the same text there, so it is not compared further."""
    if len(old) != len(new):
        return False
    for a, b in zip(old, new):
        if type(a) is not type(b):
            return False
        if not isinstance(a, ast.AST):
            if a != b:
                return False
            continue
        line = getattr(a, "lineno", None)
        if line is not None:
            if (line, a.col_offset, a.end_lineno, a.end_col_offset) != \
                    (b.lineno, b.col_offset, b.end_lineno, b.end_col_offset):
                return False
            if a.end_lineno < first or line > last:
                continue
        for name in a._fields:
            x, y = getattr(a, name, None), getattr(b, name, None)
            if isinstance(x, list) or isinstance(y, list):
                if not (isinstance(x, list) and isinstance(y, list) and same_code(x, y, first, last)):
                    return False
            elif not same_code([x], [y], first, last):
                return False
    return True


def read_source(path: str) -> str:
    """A file's text, decoded as Python does: a BOM, or a PEP 263 coding line, else UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ParseFailure(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise ParseFailure(f"{path}: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseFailure(f"{path}: not valid {encoding.upper()} (byte {exc.start})") from None
    except LookupError:
        raise ParseFailure(f"{path}: unknown encoding {encoding!r}") from None


def read_text(path: str) -> tuple[str, str]:
    """(text with its line endings kept, encoding), decoded as read_source does, for code that
    writes the file back (`--add-noqa`); never fails: undecodable bytes are replaced, and a file
    that cannot be read is ("", "utf-8")."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return "", "utf-8"
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        return raw.decode(encoding), encoding
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace"), "utf-8"
