"""Django templates read into ir.py's terms without Django: Django's own tokenizing (its tag regex,
`smart_split`, the filter-expression regex of django/template/base.py) and a block parser that
knows the built-in tags' shapes. A project's own tags are read by their arguments: every argument
that is a variable path is a read, and a tag with a matching `{% end<name> %}` later is a block.

Malformed input never raises: a stray end tag is recorded in `unknown` and skipped; an unclosed
block (Django refuses such a template, and what follows it would be read as nested in it) sets
`error`, with the nodes read so far."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import NamedTuple

from ormlens.analysis.templates import ir
from ormlens.analysis.templates.sequence import Sequence
from ormlens.analysis.templates.text_spans import TextSpans

# django/template/base.py: tags, variables and comments do not span lines (`.` stops at \n).
_TOKEN = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}")
# django/utils/text.py smart_split: words, with quoted strings (and `_("a b")`) kept whole.
_BIT = re.compile(r"""((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')[^\s'"]*)+)|\S+)""")
_CONSTANT = r"""(?:_\("[^"\\]*(?:\\.[^"\\]*)*"\)|_\('[^'\\]*(?:\\.[^'\\]*)*'\)|"[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*')"""
_NUMBER = r"[-+.]?\d[\d.e]*"
# django/template/base.py filter_re: a constant or a variable, then `|filter:arg`s.
_FILTER_EXPRESSION = re.compile(
    rf"""^(?P<constant>{_CONSTANT})|^(?P<var>[\w.]+|{_NUMBER})|
    (?:\s*\|\s*(?P<filter_name>\w+)(?::(?:(?P<constant_arg>{_CONSTANT})|(?P<var_arg>[\w.]+|{_NUMBER})))?)""",
    re.VERBOSE)
_NUMBER_START = frozenset("0123456789+-.")
_KWARG = re.compile(r"(\w+)=(.+)")
_TARGETS = re.compile(r" *, *")

# Names Django's context always has (`{% if x is None %}`): not reads of a view's value.
_BUILTIN_NAMES = frozenset({"True", "False", "None"})
# `{% if %}` operators (django/template/smartif.py).
_OPERATORS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="})
# Words a project's tag uses as keywords, not variables.
_KEYWORDS = frozenset({"as", "with", "only", "by", "in", "and", "or", "not"})
_INTERMEDIATE = frozenset({"empty", "else", "elif", "plural"})
# Built-in tags that have an end tag.
_BLOCK_TAGS = frozenset({
    "for", "if", "ifchanged", "with", "block", "comment", "verbatim", "filter", "spaceless", "autoescape",
    "blocktrans", "blocktranslate", "language", "localize", "localtime", "timezone", "cache", "partialdef"})
# Built-in tags whose arguments are never variables (an `as name` they end with is still bound).
_NO_READS = frozenset({
    "csrf_token", "load", "debug", "templatetag", "lorem", "resetcycle", "partial", "get_static_prefix",
    "get_media_prefix", "get_current_language", "get_available_languages", "get_current_language_bidi",
    "get_current_timezone", "now"})
# Built-in tags whose body is rendered in place, once: read as part of the enclosing sequence.
_FLAT_BLOCKS = {"spaceless": (), "autoescape": (), "localize": (), "localtime": (), "partialdef": (),
                "language": None, "timezone": None}  # None: the arguments are reads


class _Token(NamedTuple):
    kind: str       # "var" | "block"
    start: int      # offsets of the whole `{% ... %}` in the text
    end: int
    contents: str   # stripped, as Django's Token.contents
    at: int         # offset of contents in the text
    name: str       # a tag's name: its first word


class _Bit(NamedTuple):
    text: str
    at: int


def parse(text: str) -> ir.Template:
    parser = _Parser(text)
    try:
        nodes = parser.parse()
    except RecursionError:
        return ir.Template("django", error="nested too deeply to read")
    return ir.Template("django", nodes, parser.error, tuple(parser.unknown))


def _unread(names) -> tuple[tuple[str, None], ...]:
    """Names bound to what no read gives (a URL, a tag's result)."""
    return tuple((name, None) for name in names)


def _is_constant(text: str) -> bool:
    return bool(re.fullmatch(_CONSTANT, text))


def _literal_name(text: str) -> str | None:
    """The string of a quoted literal (`"base.html"`), else None."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and _is_constant(text):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return None


def _is_number(text: str) -> bool:
    if text[:1] not in _NUMBER_START and text.lower() not in ("nan", "inf", "infinity"):
        return False  # the common case, without raising
    try:
        float(text)  # as django.template.base.Variable: `nan`, `1e3` are numbers too
    except ValueError:
        return False
    return True


class _Parser:
    def __init__(self, text: str) -> None:
        self.spans = TextSpans(text)
        self.error: str | None = None
        self.unknown: list = []
        self.tokens = self._tokenize(text)
        self.position = 0
        # Indexes of the tokens of each block tag name: is there an `{% end<name> %}` after a tag?
        self.indexes_by_name: dict[str, list[int]] = defaultdict(list)
        for index, token in enumerate(self.tokens):
            if token.kind == "block":
                self.indexes_by_name[token.name].append(index)
        self.stack: list[tuple[frozenset[str], bool]] = []  # open blocks: (their end tags, a project's tag)

    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def line(self, offset: int) -> int:
        return self.spans.position(offset)[0]

    def _tokenize(self, text: str) -> list[_Token]:
        """Variable and block tokens; comments and verbatim text left out (Django's lexer ends
        `{% verbatim x %}` only at the exact `{% endverbatim x %}`, `{% comment %}` at the exact
        `{% endcomment %}`)."""
        tokens = []
        skipping_until = None
        opened_at = 0
        for match in _TOKEN.finditer(text):
            token_text = match.group()
            if token_text[1] == "#":
                continue
            inner = token_text[2:-2]
            contents = inner.strip()
            if skipping_until is not None:
                if token_text[1] == "%" and contents == skipping_until:
                    skipping_until = None
                continue
            kind = "block" if token_text[1] == "%" else "var"
            name = contents.split(None, 1)[0] if contents else ""
            if kind == "block":
                if name == "verbatim":
                    skipping_until, opened_at = "end" + contents, match.start()
                    continue
                if name == "comment":
                    skipping_until, opened_at = "endcomment", match.start()
                    continue
            at = match.start() + 2 + (len(inner) - len(inner.lstrip()))
            tokens.append(_Token(kind, match.start(), match.end(), contents, at, name))
        if skipping_until is not None:
            self.fail(f"line {self.line(opened_at)}: no {{% {skipping_until} %}} closes the tag opened here")
        return tokens

    def parse(self) -> tuple[ir.Node, ...]:
        sequence = Sequence()
        self._read_into(sequence, frozenset())
        return sequence.folded()

    # -- the sequence of nodes of a body ------------------------------------------------------------

    def _read_into(self, sequence: Sequence, until: frozenset[str], custom: bool = False) -> _Token | None:
        """Reads tokens into `sequence` up to one of the tags `until`, which it returns (consumed);
        None at the end of the text or at an end tag of an enclosing block (not consumed)."""
        self.stack.append((until, custom))
        try:
            while self.position < len(self.tokens):
                token = self.tokens[self.position]
                if token.kind == "var":
                    self.position += 1
                    self._variable(sequence, token)
                    continue
                name = token.name
                if name in until:
                    self.position += 1
                    return token
                if any(name in outer for outer, _ in self.stack[:-1]) and (
                        name.startswith("end") or not custom):
                    return None  # closes an enclosing block: this one was never closed
                self.position += 1
                if name in _INTERMEDIATE and not custom or \
                        name.startswith("end") and (name[3:] in _BLOCK_TAGS or name[3:] in self.indexes_by_name):
                    self.unknown.append(self.tag_span(token))  # stray: `{% endfor %}` without a `{% for %}`
                    continue
                self._tag(sequence, token)
            return None
        finally:
            self.stack.pop()

    def _body(self, token: _Token, until: frozenset[str], custom: bool = False) -> tuple[Sequence, _Token | None]:
        body = Sequence()
        end = self._read_into(body, until, custom)
        if end is None:
            ends = " or ".join(f"{{% {name} %}}" for name in sorted(until) if name.startswith("end"))
            self.fail(f"line {self.line(token.start)}: {{% {token.name} %}} is not closed by {ends}")
        return body, end

    # -- reading expressions --------------------------------------------------------------------------

    def tag_span(self, token: _Token):
        return self.spans.span(token.start, token.end)

    def bits(self, token: _Token) -> list[_Bit]:
        return [_Bit(match.group(), token.at + match.start()) for match in _BIT.finditer(token.contents)]

    def path(self, text: str, at: int, filters: tuple[str, ...] = ()) -> ir.Read | None:
        """The read of a variable's text (`o.customer.name`), None for a literal."""
        if _is_number(text) or text in _BUILTIN_NAMES:
            return None
        return ir.Read(tuple(text.split(".")), self.spans.span(at, at + len(text)), filters)

    def expression(self, text: str, at: int) -> tuple[ir.Read | None, list[ir.Read], bool]:
        """A filter expression (`o.items|slice:n|length`): the read of its variable (with its
        filters; None for a literal), the reads of its filters' arguments, and whether all of
        it could be read (Django's FilterExpression: no characters left over)."""
        variable = None
        arguments = []
        filters = []
        upto = 0
        for match in _FILTER_EXPRESSION.finditer(text):
            if match.start() != upto:
                return self._expression_read(variable, filters, at), arguments, False
            upto = match.end()
            if match.group("var") is not None:
                variable = (match.group("var"), at + match.start("var"))
            elif match.group("filter_name") is not None:
                filters.append(match.group("filter_name"))
                if match.group("var_arg") is not None:
                    argument = self.path(match.group("var_arg"), at + match.start("var_arg"))
                    if argument is not None:
                        arguments.append(argument)
        return self._expression_read(variable, filters, at), arguments, upto == len(text)

    def _expression_read(self, variable, filters, at) -> ir.Read | None:
        return None if variable is None else self.path(variable[0], variable[1], tuple(filters))

    def reads_of(self, text: str, at: int, token: _Token | None = None) -> list[ir.Read]:
        """All reads of an expression; a part it cannot read makes `token` an unknown tag."""
        read, arguments, complete = self.expression(text, at)
        if not complete and token is not None:
            self.unknown.append(self.tag_span(token))
        return ([read] if read is not None else []) + arguments

    def arguments(self, token: _Token, bits: list[_Bit], keywords: frozenset[str] = _KEYWORDS
                  ) -> tuple[list[ir.Read], tuple[str, ...]]:
        """A tag's arguments read as a project's tag's are: every variable is a read, `key=value`
        reads the value, words in `keywords` are not variables; the names after `as` are bound (as
        `{% url ... as u %}`, Django's simple tags). A tag with an argument it cannot read is an
        unknown tag (its other reads are kept)."""
        reads: list[ir.Read] = []
        complete = True
        for index, (text, at) in enumerate(bits):
            if text == "as":
                return self._known(token, reads, complete), tuple(bit.text for bit in bits[index + 1:])
            if text in keywords:
                continue
            keyword = _KWARG.fullmatch(text)
            if keyword:
                text, at = keyword.group(2), at + keyword.start(2)
            read, filter_arguments, readable = self.expression(text, at)
            complete = complete and readable
            reads.extend(([read] if read is not None else []) + filter_arguments)
        return self._known(token, reads, complete), ()

    def _known(self, token: _Token, reads: list[ir.Read], complete: bool) -> list[ir.Read]:
        if not complete:
            self.unknown.append(self.tag_span(token))
        return reads

    def bindings(self, token: _Token, bits: list[_Bit]) -> tuple[tuple[tuple[str, ir.Read | None], ...], list[ir.Read]]:
        """`a=x.y b=z` or the legacy `x.y as a and z as b` (django.template.base.token_kwargs):
        each name with the read it is bound to (None: a literal), and the filters' arguments."""
        names = []
        extra: list[ir.Read] = []
        index = 0
        while index < len(bits):
            text, at = bits[index]
            keyword = _KWARG.fullmatch(text)
            if keyword:
                name, text, at = keyword.group(1), keyword.group(2), at + keyword.start(2)
                index += 1
            elif index + 2 < len(bits) and bits[index + 1].text == "as":
                name = bits[index + 2].text
                index += 4 if index + 3 < len(bits) and bits[index + 3].text == "and" else 3
            else:
                break
            read, arguments, complete = self.expression(text, at)
            if not complete:
                self.unknown.append(self.tag_span(token))
            names.append((name, read))
            extra.extend(arguments)
        return tuple(names), extra

    # -- tags -------------------------------------------------------------------------------------------

    def _variable(self, sequence: Sequence, token: _Token) -> None:
        sequence.output(self.reads_of(token.contents, token.at, token), shown=True)

    def _tag(self, sequence: Sequence, token: _Token) -> None:
        name = token.name
        if not name:
            self.unknown.append(self.tag_span(token))
            return
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, sequence, token, self.bits(token))
        elif name in _NO_READS:
            bits = self.bits(token)
            names = [bit.text for bit in bits]
            if "as" in names:
                sequence.bind_rest(_unread(names[names.index("as") + 1:]))
        elif name in _FLAT_BLOCKS:
            if _FLAT_BLOCKS[name] is None:
                sequence.output(self.arguments(token, self.bits(token)[1:])[0])
            body, _ = self._body(token, frozenset({"end" + name}))
            sequence.extend(body)
        else:
            self._project_tag(sequence, token)

    def _project_tag(self, sequence: Sequence, token: _Token) -> None:
        """A tag of the project's own: its variable arguments are reads; with an `{% end<name> %}`
        after it, a block whose body is rendered in place."""
        name = token.name
        keywords = _KEYWORDS | {"for"} if name in ("get_language_info", "get_language_info_list") else _KEYWORDS
        reads, bound = self.arguments(token, self.bits(token)[1:], keywords)
        sequence.output(reads)
        ends = self.indexes_by_name.get("end" + name, ())
        if ends and ends[-1] >= self.position:
            body, _ = self._body(token, frozenset({"end" + name}), custom=True)
            sequence.extend(body)
        sequence.bind_rest(_unread(bound))

    def _for(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        # django/template/defaulttags.py do_for
        backwards = len(bits) > 1 and bits[-1].text == "reversed"
        in_index = len(bits) - (3 if backwards else 2)
        if in_index < 2 or bits[in_index].text != "in":
            self.unknown.append(self.tag_span(token))
            iterable, extra, targets = None, [], ()
        else:
            targets = tuple(t for t in _TARGETS.split(" ".join(bit.text for bit in bits[1:in_index])) if t)
            iterable, extra, complete = self.expression(*bits[in_index + 1])
            if not complete:
                self.unknown.append(self.tag_span(token))
        sequence.output(extra)
        body, end = self._body(token, frozenset({"empty", "endfor"}))
        orelse = Sequence()
        if end is not None and end.name == "empty":
            orelse, _ = self._body(token, frozenset({"endfor"}))
        sequence.nodes.append(ir.Loop(targets, iterable, self.tag_span(token), body.folded(), orelse.folded()))

    def _if(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """The tests are reads where they stand; the branches follow them in order."""
        until = frozenset({"elif", "else", "endif"}) if token.name == "if" else frozenset({"else", "end" + token.name})
        test = token
        while True:
            sequence.output(self._operands(test, self.bits(test)[1:]))
            body, end = self._body(token, until)
            sequence.extend(body)
            if end is None or end.name.startswith("end"):
                return
            if end.name == "else":
                body, _ = self._body(token, frozenset({"end" + token.name}))
                sequence.extend(body)
                return
            test = end

    def _operands(self, token: _Token, bits: list[_Bit]) -> list[ir.Read]:
        reads: list[ir.Read] = []
        for text, at in bits:
            if text not in _OPERATORS:
                reads.extend(self.reads_of(text, at, token))
        return reads

    def _with(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        names, extra = self.bindings(token, bits[1:])
        if not names:
            self.unknown.append(self.tag_span(token))
        sequence.output(extra)
        body, _ = self._body(token, frozenset({"endwith"}))
        sequence.nodes.append(ir.Bind(names, body.folded()))

    def _template_name(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> str | None:
        """`{% include/extends "name" %}`: the literal name; a variable (`{% include t %}`) is read."""
        if len(bits) < 2:
            self.unknown.append(self.tag_span(token))
            return None
        literal = _literal_name(bits[1].text)
        if literal is None:
            sequence.output(self.reads_of(bits[1].text, bits[1].at, token))
        return literal

    def _include(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        name = self._template_name(sequence, token, bits)
        names: tuple = ()
        only = False
        extra: list[ir.Read] = []
        index = 2
        while index < len(bits):
            if bits[index].text == "only":
                only = True
                index += 1
            elif bits[index].text == "with":
                rest = [bit for bit in bits[index + 1:]]
                count = next((i for i, bit in enumerate(rest) if not _KWARG.fullmatch(bit.text)), len(rest))
                found, found_extra = self.bindings(token, rest[:count])
                names += found
                extra += found_extra
                index += 1 + count
            else:
                self.unknown.append(self.tag_span(token))
                break
        sequence.output(extra)
        sequence.nodes.append(ir.Include(name, self.tag_span(token), names, only))

    def _extends(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        sequence.nodes.append(ir.Extends(self._template_name(sequence, token, bits), self.tag_span(token)))

    def _block(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        body, _ = self._body(token, frozenset({"endblock"}))
        sequence.nodes.append(ir.Block(bits[1].text if len(bits) > 1 else "", body.folded()))

    def _regroup(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """`{% regroup people by gender as grouped %}` reads `gender` of each row of `people`: a loop
        over `people` reading `__regroup_item.gender`. `grouped` (its groups, not rows of `people`)
        is bound to None for the rest of the scope."""
        if len(bits) != 6 or bits[2].text != "by" or bits[4].text != "as":
            self.unknown.append(self.tag_span(token))
            return
        iterable, extra, complete = self.expression(*bits[1])
        key, key_extra, key_complete = self.expression(*bits[3])
        if not (complete and key_complete):
            self.unknown.append(self.tag_span(token))
        sequence.output(extra + key_extra)
        body: tuple[ir.Node, ...] = ()
        if key is not None:
            body = (ir.Output((ir.Read(("__regroup_item",) + key.names, key.span, key.filters),)),)
        sequence.nodes.append(ir.Loop(("__regroup_item",), iterable, self.tag_span(token), body))
        sequence.bind_rest(_unread([bits[5].text]))

    def _arguments_tag(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """`{% url 'x' o.pk as u %}`, `{% firstof a b %}`, `{% cycle a b as c silent %}`, ...: variable
        arguments are reads, an `as` name bound for the rest of the scope."""
        keywords = _TAG_KEYWORDS.get(token.name, frozenset())
        reads, bound = self.arguments(token, bits[1:], keywords)
        sequence.output(reads)
        sequence.bind_rest(_unread([name for name in bound if name != "silent"]))

    def _filter(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """`{% filter force_escape|cut:x %}`: filters alone; their arguments are reads."""
        if len(bits) > 1:
            text = token.contents[len("filter"):].lstrip()
            at = token.at + len(token.contents) - len(text)
            _, arguments, complete = self.expression("_|" + text, at - 2)
            if not complete:
                self.unknown.append(self.tag_span(token))
            sequence.output(arguments)
        body, _ = self._body(token, frozenset({"endfilter"}))
        sequence.extend(body)

    def _cache(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """`{% cache 500 fragment_name o.pk using="x" %}`: the fragment's name is a word, not a variable."""
        arguments = bits[1:2] + bits[3:]
        sequence.output(self.arguments(token, arguments, frozenset())[0])
        body, _ = self._body(token, frozenset({"endcache"}))
        sequence.extend(body)

    def _blocktrans(self, sequence: Sequence, token: _Token, bits: list[_Bit]) -> None:
        """`{% blocktrans with n=o.name count c=items|length asvar v %}...{{ n }}...{% plural %}...`:
        the options' values are reads bound to their names for the body; the body's placeholders
        are reads of those names (or of the context)."""
        names: tuple = ()
        extra: list[ir.Read] = []
        bound: tuple[str, ...] = ()
        index = 1
        while index < len(bits):
            option = bits[index].text
            index += 1
            if option in ("with", "count"):
                count = 0
                while index + count < len(bits) and bits[index + count].text not in _BLOCKTRANS_OPTIONS:
                    count += 1
                found, found_extra = self.bindings(token, bits[index:index + count])
                names += found
                extra += found_extra
                index += count
            elif option == "context" and index < len(bits):
                extra += self.reads_of(bits[index].text, bits[index].at, token)
                index += 1
            elif option == "asvar" and index < len(bits):
                bound = (bits[index].text,)
                index += 1
            elif option != "trimmed":
                self.unknown.append(self.tag_span(token))
        sequence.output(extra)
        ends = frozenset({"endblocktrans", "endblocktranslate"})
        body, end = self._body(token, ends | {"plural"})
        if end is not None and end.name == "plural":
            plural, _ = self._body(token, ends)
            body.extend(plural)
        if names:
            sequence.nodes.append(ir.Bind(names, body.folded()))
        else:
            sequence.extend(body)
        sequence.bind_rest(_unread(bound))


_BLOCKTRANS_OPTIONS = frozenset({"with", "count", "context", "trimmed", "asvar"})
_TAG_KEYWORDS = {
    "cycle": frozenset({"silent"}),
    "trans": frozenset({"noop", "context"}),
    "translate": frozenset({"noop", "context"}),
    "get_language_info": frozenset({"for"}),
    "get_language_info_list": frozenset({"for"}),
}
_HANDLERS = {
    "for": _Parser._for,
    "if": _Parser._if,
    "ifchanged": _Parser._if,
    "with": _Parser._with,
    "include": _Parser._include,
    "extends": _Parser._extends,
    "block": _Parser._block,
    "regroup": _Parser._regroup,
    "filter": _Parser._filter,
    "cache": _Parser._cache,
    "blocktrans": _Parser._blocktrans,
    "blocktranslate": _Parser._blocktrans,
    **{name: _Parser._arguments_tag for name in (
        "cycle", "firstof", "url", "widthratio", "static", "querystring", "trans", "translate",
        "get_language_info", "get_language_info_list")},
}
