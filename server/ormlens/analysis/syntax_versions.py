"""Which newer Python a module needs when the running one cannot parse it.

ormlens parses with the `ast` of the Python it runs under. A module written for a newer Python
(PEP 695 type parameters, 3.12's f-strings, ...) fails there with a SyntaxError that says nothing
useful ("expected '('"). `newer_syntax` tells such a module from a real syntax error, from facts
and without a newer interpreter:

1. a small scanner that knows the newest grammar's strings (PEP 701 f-strings, PEP 750 t-strings)
   finds the constructs the running Python lacks: type parameters (3.12; with defaults 3.13),
   the `type` statement (3.12), f-strings that reuse their quotes, or hold a backslash, a comment
   or a line break inside a replacement field (3.12), `except A, B:` without parentheses (3.14),
   t-strings (3.14), and `except*` (3.11);
2. each one is checked the way the newer grammar would (a type parameter's bound and default,
   the expressions inside a neutralised f-string, must parse), then replaced by something the
   running Python accepts (`def f[T](x)` -> `def f   (x)`, `type X = int` -> `X      = int`, an
   f-string -> a plain string, `except A, B:` -> `except (A, B):`);
3. the copy must parse completely, and the original error must lie on or after the first of
   them. Otherwise (a typo, also next to one of them) the answer is None and the caller keeps the
   plain syntax error.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import NamedTuple

Version = tuple[int, int]

TYPE_PARAMETERS = "type parameters"
TYPE_PARAMETER_DEFAULTS = "type parameter defaults"
TYPE_STATEMENT = "type statement"
FSTRING_QUOTES = "f-string reusing its quotes inside a replacement field"
FSTRING_NESTED = "nested f-string with the same quotes"
FSTRING_BACKSLASH = "backslash inside an f-string replacement field"
FSTRING_COMMENT = "comment inside an f-string replacement field"
FSTRING_LINES = "f-string replacement field over several lines"
EXCEPT_COMMA = "except with several exceptions without parentheses"
TEMPLATE_STRINGS = "template strings"
EXCEPT_STAR = "except*"

# The order f-string features are named in when one f-string has several.
_FSTRING_FEATURES = (FSTRING_NESTED, FSTRING_QUOTES, FSTRING_BACKSLASH, FSTRING_COMMENT, FSTRING_LINES)
_STRING_PREFIXES = {"r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"}


class NewerSyntax(NamedTuple):
    version: Version
    feature: str
    start: int  # character offsets of the construct in the source
    end: int

    @property
    def needs(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def message(self) -> str:
        return f"uses Python {self.needs} syntax ({self.feature}): run ormlens under Python ≥ {self.needs}"


def newer_syntax(source: str, error: SyntaxError, running: Version | None = None) -> NewerSyntax | None:
    """The newest Python version `source` needs and the construct that needs it, when the
    SyntaxError `ast.parse` raised on it is explained by syntax newer than `running` (default:
    this interpreter); None for a real syntax error."""
    running = running or sys.version_info[:2]
    try:
        found = _Scanner(source, running).constructs()
    except (_Invalid, RecursionError):
        return None
    found = [c for c in found if c.version > running]
    if not found:
        return None
    try:
        ast.parse(_apply(source, [c.edit for c in found if c.edit is not None]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # something else is wrong too (or instead)
    first = min(found, key=lambda c: c.start)
    if error.lineno is not None and error.lineno < len(_LINE_BREAK.findall(source, 0, first.start)) + 1:
        return None  # the parser gave up before the first of them: not what it stumbled on
    newest = max(c.version for c in found)
    best = min((c for c in found if c.version == newest), key=lambda c: c.start)
    return NewerSyntax(best.version, best.feature, best.start, best.end)


def newer_syntax_of(source: str, running: Version | None = None) -> NewerSyntax | None:
    """`newer_syntax` for a source that has not been parsed yet (None when it parses)."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        return newer_syntax(source, exc, running)
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


class _Invalid(Exception):
    """Not valid under the newest grammar either: a real syntax error."""


class _Construct(NamedTuple):
    version: Version
    feature: str
    start: int
    end: int
    edit: tuple[int, int, str] | None  # (start, end, replacement) making the running Python accept it


class _Token(NamedTuple):
    kind: str  # NAME, NUMBER, STRING, OP, NEWLINE
    text: str
    start: int
    end: int


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    parts, at = [], 0
    for start, end, text in sorted(edits):
        if start < at:
            continue  # inside one already replaced
        parts += [source[at:start], text]
        at = end
    parts.append(source[at:])
    return "".join(parts)


def _blank(start: int, end: int, keep: str = "") -> tuple[int, int, str]:
    """Replace [start, end) by `keep` padded with spaces (line breaks inside are joined: the
    copy is only parsed, its positions are never reported)."""
    return start, end, keep + " " * max(0, end - start - len(keep))


_LINE_BREAK = re.compile(r"\r\n?|\n")
_NAME = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"\.?\d[\w.]*")
_OP = re.compile(r"\.\.\.|\*\*=?|//=?|>>=?|<<=?|->|:=|[=!<>]=|[-+*/%&|^@]=|[^\s\w]")


class _Scanner:
    def __init__(self, source: str, running: Version, base: int = 0) -> None:
        self.src = source
        self.running = running
        self.base = base  # offset of `source` in the module (for a replacement field's text)
        self.found: list[_Construct] = []

    # --- tokens ---------------------------------------------------------------------------

    def tokens(self) -> list[_Token]:
        src, n, i, depth = self.src, len(self.src), 0, 0
        out: list[_Token] = []
        while i < n:
            c = src[i]
            if c in "\r\n":
                if depth == 0:
                    out.append(_Token("NEWLINE", c, i, i + 1))
                i += 1
            elif c in " \t\f":
                i += 1
            elif c == "\\" and src[i + 1:i + 2] in ("\n", "\r"):
                i += 2
            elif c == "#":
                while i < n and src[i] not in "\r\n":
                    i += 1
            elif c in "'\"":
                i = self.string(out, i, i, "")
            elif (match := _NAME.match(src, i)) is not None:
                word = match.group()
                if match.end() < n and src[match.end()] in "'\"" and word.lower() in _STRING_PREFIXES:
                    i = self.string(out, i, match.end(), word.lower())
                else:
                    out.append(_Token("NAME", word, i, match.end()))
                    i = match.end()
            elif (match := _NUMBER.match(src, i)) is not None:
                out.append(_Token("NUMBER", match.group(), i, match.end()))
                i = match.end()
            else:
                match = _OP.match(src, i)
                text = match.group() if match else c
                depth = depth + 1 if text in "([{" else max(0, depth - 1) if text in ")]}" else depth
                out.append(_Token("OP", text, i, i + len(text)))
                i += len(text)
        return out

    def string(self, out: list[_Token], start: int, quote_at: int, prefix: str) -> int:
        src = self.src
        quote = src[quote_at] * 3 if src.startswith(src[quote_at] * 3, quote_at) else src[quote_at]
        raw = "r" in prefix
        if "f" in prefix or "t" in prefix:
            scan = _FString(src, quote_at + len(quote), quote, raw)
            end = scan.run()
            self.template(start, end, prefix, scan)
        else:
            end = _plain_string_end(src, quote_at + len(quote), quote)
        out.append(_Token("STRING", src[start:end], start, end))
        return end

    def template(self, start: int, end: int, prefix: str, scan: _FString) -> None:
        """An f-string or t-string: a construct when it is newer than the running Python, or
        holds one in a replacement field."""
        nested: list[_Construct] = []
        for field_start, field_end in scan.fields:
            inner = _Scanner(self.src[field_start:field_end], self.running, self.base + field_start)
            nested += inner.constructs()
        own: list[tuple[Version, str]] = []
        if "t" in prefix:
            own.append(((3, 14), TEMPLATE_STRINGS))
        features = [feature for feature in _FSTRING_FEATURES if feature in scan.features]
        if features:
            own.append(((3, 12), features[0]))
        newer = [c for c in nested if c.version > self.running]
        if not newer and not any(version > self.running for version, _ in own):
            return
        # Replaced by a plain string: what was inside must then be valid on its own.
        for field_start, field_end in scan.fields:
            if not _valid_expression(self.src[field_start:field_end], self.running):
                raise _Invalid
        at, to = self.base + start, self.base + end
        edit = _blank(at, to, '""')
        for version, feature in own:
            self.found.append(_Construct(version, feature, at, to, edit))
        for construct in newer:  # covered by this string's edit
            self.found.append(construct._replace(edit=edit))

    # --- constructs -----------------------------------------------------------------------

    def constructs(self) -> list[_Construct]:
        tokens = self.tokens()
        statement_start = True
        depth = 0
        for index, token in enumerate(tokens):
            if token.kind == "NAME" and token.text in ("def", "class") and len(tokens) > index + 2 \
                    and tokens[index + 1].kind == "NAME" and tokens[index + 2].text == "[":
                self.type_parameters(tokens, index + 2)
            elif token.kind == "NAME" and token.text == "type" and statement_start and depth == 0:
                self.type_statement(tokens, index)
            elif token.kind == "NAME" and token.text == "except":
                self.except_clause(tokens, index)
            if token.kind == "OP" and token.text in ("(", "[", "{"):
                depth += 1
            elif token.kind == "OP" and token.text in (")", "]", "}"):
                depth = max(0, depth - 1)
            statement_start = token.kind == "NEWLINE" or (depth == 0 and token.text in (";", ":"))
        return self.found

    def type_parameters(self, tokens: list[_Token], open_index: int) -> tuple[int, bool] | None:
        """Type parameters from the `[` at `open_index`: a construct, and (index of the `]`,
        whether any has a default); None when they are not valid type parameters."""
        close = _matching(tokens, open_index)
        if close is None:
            return None
        params = _split(tokens[open_index + 1:close])
        if not params:
            return None
        defaults = False
        for param in params:
            if not param:
                return None
            stars = param[0].text if param[0].text in ("*", "**") else ""
            rest = param[1:] if stars else param
            if not rest or rest[0].kind != "NAME":
                return None
            bound = default = None
            tail = rest[1:]
            if tail and tail[0].text == ":":
                if stars:
                    return None
                eq = next((k for k, t in enumerate(tail) if t.text == "=" and _depth_at(tail, k) == 0), None)
                bound = tail[1:eq] if eq is not None else tail[1:]
                tail = tail[eq:] if eq is not None else []
            if tail and tail[0].text == "=":
                default = tail[1:]
                tail = []
            if tail:
                return None
            for expression in (bound, default):
                if expression is None:
                    continue
                if not expression:
                    return None
                text = self.src[expression[0].start:expression[-1].end]
                if expression is default and stars == "*" and text.startswith("*"):
                    text = text[1:]  # `*Ts = *tuple[int, ...]`
                if not _valid_expression(text, self.running):
                    return None
            if default is not None:
                defaults = True
            elif defaults:
                return None  # a parameter without a default after one with a default
        start, end = self.base + tokens[open_index].start, self.base + tokens[close].end
        version, feature = ((3, 13), TYPE_PARAMETER_DEFAULTS) if defaults else ((3, 12), TYPE_PARAMETERS)
        self.found.append(_Construct(version, feature, start, end, _blank(start, end)))
        return close, defaults

    def type_statement(self, tokens: list[_Token], index: int) -> None:
        # type NAME [type parameters] = value
        if len(tokens) < index + 3 or tokens[index + 1].kind != "NAME":
            return
        name = tokens[index + 1]
        after = index + 2
        version = (3, 12)
        if tokens[after].text == "[":
            params = self.type_parameters(tokens, after)
            if params is None:
                return
            self.found.pop()  # reported as the type statement, with the parameters' version
            after, defaults = params[0] + 1, params[1]
            version = (3, 13) if defaults else version
        if after >= len(tokens) or tokens[after].text != "=":
            return
        start, end = self.base + tokens[index].start, self.base + tokens[after - 1].end
        feature = TYPE_PARAMETER_DEFAULTS if version == (3, 13) else TYPE_STATEMENT
        self.found.append(_Construct(version, feature, start, self.base + name.end,
                                     _blank(start, end, name.text)))

    def except_clause(self, tokens: list[_Token], index: int) -> None:
        at = index + 1
        star = tokens[at] if at < len(tokens) and tokens[at].text == "*" else None
        at += 1 if star else 0
        colon, depth = None, 0
        for k in range(at, len(tokens)):
            token = tokens[k]
            if token.kind == "NEWLINE" or (depth == 0 and token.text == ":"):
                colon = k if token.text == ":" else None
                break
            depth += 1 if token.text in ("(", "[", "{") else -1 if token.text in (")", "]", "}") else 0
        if colon is None or colon == at:
            return  # `except:` (and `except* :`, which no version accepts)
        if star is not None and self.running < (3, 11):
            start = self.base + tokens[index].start
            self.found.append(_Construct((3, 11), EXCEPT_STAR, start, self.base + star.end,
                                         _blank(self.base + star.start, self.base + star.end)))
        clause = tokens[at:colon]
        pieces = _split(clause)
        if len(pieces) < 2 or any(t.kind == "NAME" and t.text == "as" and _depth_at(clause, k) == 0
                                  for k, t in enumerate(clause)):
            return  # one exception, or several with `as` (which 3.14 still wants in parentheses)
        start, end = self.base + clause[0].start, self.base + clause[-1].end
        self.found.append(_Construct((3, 14), EXCEPT_COMMA, start, end,
                                     (start, end, "(" + self.src[clause[0].start:clause[-1].end] + ")")))


def _matching(tokens: list[_Token], open_index: int) -> int | None:
    depth = 0
    for k in range(open_index, len(tokens)):
        text = tokens[k].text
        if tokens[k].kind == "OP" and text in ("(", "[", "{"):
            depth += 1
        elif tokens[k].kind == "OP" and text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return k if text == "]" else None
    return None


def _depth_at(tokens: list[_Token], index: int, start: int = 0) -> int:
    depth = 0
    for token in tokens[start:index]:
        if token.kind == "OP" and token.text in ("(", "[", "{"):
            depth += 1
        elif token.kind == "OP" and token.text in (")", "]", "}"):
            depth -= 1
    return depth


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    """Split at top-level separators; a trailing comma leaves no empty last piece."""
    pieces: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "NEWLINE":
            continue  # inside brackets in the source: the scanner saw depth 0 within a slice
        if token.kind == "OP" and token.text in ("(", "[", "{"):
            depth += 1
        elif token.kind == "OP" and token.text in (")", "]", "}"):
            depth -= 1
        if depth == 0 and token.kind == "OP" and token.text == ",":
            pieces.append([])
        else:
            pieces[-1].append(token)
    if pieces and not pieces[-1] and len(pieces) > 1:
        pieces.pop()
    return [] if pieces == [[]] else pieces


def _valid_expression(text: str, running: Version) -> bool:
    """Does `text` parse as one expression under the newest grammar (its own newer constructs
    neutralised)?"""
    if not text.strip():
        return False
    source = "(" + text + "\n)"
    try:
        found = [c for c in _Scanner(source, running).constructs() if c.version > running]
        ast.parse(_apply(source, [c.edit for c in found if c.edit is not None]), mode="eval")
    except (_Invalid, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _plain_string_end(src: str, i: int, quote: str) -> int:
    n = len(src)
    while True:
        if i >= n:
            raise _Invalid
        if src.startswith(quote, i):
            return i + len(quote)
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c in "\r\n" and len(quote) == 1:
            raise _Invalid
        i += 1


class _FString:
    """One f-string or t-string under PEP 701's grammar: where it ends, the text of each
    replacement field's expression, and what the running 3.11 grammar would reject in it."""

    def __init__(self, src: str, i: int, quote: str, raw: bool) -> None:
        self.src, self.i, self.quote, self.raw = src, i, quote, raw
        self.fields: list[tuple[int, int]] = []
        self.features: set[str] = set()

    def run(self) -> int:
        self.literal(closing=self.quote)
        return self.i

    def literal(self, closing: str) -> None:
        """Literal text up to `closing` (the string's quote, or "}" for a format spec)."""
        src, n = self.src, len(self.src)
        while True:
            i = self.i
            if i >= n:
                raise _Invalid
            if src.startswith(closing, i) and closing != "}":
                self.i = i + len(closing)
                return
            c = src[i]
            if closing == "}" and c == "}":
                return  # the field's own "}": left for field()
            if closing == "}" and src.startswith(self.quote, i):
                raise _Invalid
            if c == "\\":
                if not self.raw and src.startswith("N{", i + 1):
                    end = src.find("}", i)
                    if end < 0:
                        raise _Invalid
                    self.i = end + 1
                else:
                    self.i = i + (1 if src[i + 1:i + 2] in ("{", "}") else 2)
                continue
            if c in "\r\n" and len(self.quote) == 1:
                raise _Invalid
            if c == "{":
                if closing != "}" and src.startswith("{{", i):
                    self.i = i + 2
                    continue
                self.i = i + 1
                self.field()
                continue
            if c == "}":
                if src.startswith("}}", i):
                    self.i = i + 2
                    continue
                raise _Invalid
            self.i = i + 1

    def field(self) -> None:
        """A replacement field, from after its "{" to after its "}"."""
        src, n = self.src, len(self.src)
        start = self.i
        depth = 0
        end = None
        while True:
            i = self.i
            if i >= n:
                raise _Invalid
            c = src[i]
            if c in "'\"":
                self.nested_string(i, i, "")
                continue
            match = _NAME.match(src, i)
            if match is not None:
                word = match.group()
                if match.end() < n and src[match.end()] in "'\"" and word.lower() in _STRING_PREFIXES:
                    self.nested_string(i, match.end(), word.lower())
                else:
                    self.i = match.end()
                continue
            if c == "\\":
                self.features.add(FSTRING_BACKSLASH)
                self.i = i + 1
                continue
            if c == "#":
                self.features.add(FSTRING_COMMENT)
                while self.i < n and src[self.i] not in "\r\n":
                    self.i += 1
                continue
            if c in "\r\n":
                if len(self.quote) == 1:
                    self.features.add(FSTRING_LINES)
                self.i = i + 1
                continue
            if c in "([{":
                depth += 1
            elif c in ")]" or (c == "}" and depth > 0):
                depth -= 1
                if depth < 0:
                    raise _Invalid
            elif depth == 0 and c == "}":
                end = i if end is None else end
                break
            elif depth == 0 and c == "!" and not src.startswith("!=", i):
                end = i if end is None else end
                self.i = i + 1
                conversion = _NAME.match(src, self.i)
                if conversion is None or conversion.group() not in ("r", "s", "a"):
                    raise _Invalid
                self.i = conversion.end()
                if src.startswith(":", self.i):
                    self.i += 1
                    self.literal(closing="}")
                if not src.startswith("}", self.i):
                    raise _Invalid
                break
            elif depth == 0 and c == ":":
                end = i if end is None else end
                self.i = i + 1
                self.literal(closing="}")
                break
            elif depth == 0 and c == "=" and src[i - 1] not in "=!<>" and not src.startswith("==", i):
                end = i  # `{x=}`: the expression ends here; a conversion or spec may follow
            self.i = i + 1
        self.fields.append((start, end if end is not None else self.i))
        self.i += 1  # the "}"

    def nested_string(self, start: int, quote_at: int, prefix: str) -> None:
        src = self.src
        quote = src[quote_at] * 3 if src.startswith(src[quote_at] * 3, quote_at) else src[quote_at]
        same = quote == self.quote or (len(self.quote) == 1 and quote[0] == self.quote)
        if "f" in prefix or "t" in prefix:
            inner = _FString(src, quote_at + len(quote), quote, "r" in prefix)
            end = inner.run()
            self.features |= inner.features
            if same and "f" in prefix:
                self.features.add(FSTRING_NESTED)
        else:
            end = _plain_string_end(src, quote_at + len(quote), quote)
        if "\\" in src[quote_at:end]:
            self.features.add(FSTRING_BACKSLASH)
        if same:
            self.features.add(FSTRING_QUOTES)
        if len(self.quote) == 1 and ("\n" in src[quote_at:end] or "\r" in src[quote_at:end]):
            self.features.add(FSTRING_LINES)
        self.i = end
