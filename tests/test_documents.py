"""The server's document model (lsp/documents.py) against the LSP specification.

The reference model below is the specification read literally and written as plainly as
possible: a text is a list of lines, each with its own line break (only `\\n`, `\\r\\n`, `\\r`);
a position's character counts code units of the negotiated encoding; past a line's length it
means the line's end; a line past the last means the end of the text. hypothesis drives both
models with the same random edits and compares the texts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp

from ormlens.lsp.documents import Document, normalise_uri, uri_to_path

UTF16, UTF8, UTF32 = lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf32


# --- the reference model ---------------------------------------------------------------------------

def reference_lines(text: str) -> list[tuple[str, str]]:
    """(content, line break) per line; the last line has no break (it may be empty)."""
    lines, content, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == "\r" and text[index + 1:index + 2] == "\n":
            lines.append((content, "\r\n"))
            content, index = "", index + 2
        elif char in "\r\n":
            lines.append((content, char))
            content, index = "", index + 1
        else:
            content, index = content + char, index + 1
    lines.append((content, ""))
    return lines


def unit_width(char: str, encoding: str) -> int:
    if encoding == UTF8:
        return len(char.encode("utf-8", "surrogatepass"))
    if encoding == UTF32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def reference_offset(text: str, line: int, character: int, encoding: str) -> int:
    lines = reference_lines(text)
    if line >= len(lines):
        return len(text)
    offset = sum(len(content) + len(brk) for content, brk in lines[:line])
    used = 0
    for char in lines[line][0]:
        if used + unit_width(char, encoding) > character:
            break  # the position is before this character (or inside its units)
        used += unit_width(char, encoding)
        offset += 1
    return offset


def reference_apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str, encoding: str) -> str:
    begin = reference_offset(text, *start, encoding)
    finish = max(begin, reference_offset(text, *end, encoding))
    return text[:begin] + new + text[finish:]


# --- the random material ---------------------------------------------------------------------------

# Line breaks the specification knows, characters it does not count as breaks (form feed,
# vertical tab, U+2028/U+2029, NEL, file separator), multi-byte and astral characters.
PIECES = ["a", "b", " ", "x = 1", "é", "中", "😀", "\n", "\r\n", "\r", "\f", "\v", "\u2028", "\u2029",
          "\x85", "\x1c", "\t", "#"]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
positions = st.tuples(st.integers(0, 8), st.integers(0, 12))
encodings = st.sampled_from([UTF16, UTF8, UTF32])


def partial(start, end, text: str) -> lsp.TextDocumentContentChangePartial:
    return lsp.TextDocumentContentChangePartial(
        range=lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end)), text=text)


@settings(max_examples=400, deadline=None)
@given(texts, st.lists(st.tuples(positions, positions, texts), min_size=1, max_size=6), encodings)
def test_incremental_edits_follow_the_specification(text, edits, encoding):
    document = Document("file:///m.py", text, 1)
    expected = text
    for start, end, new in edits:
        document.apply(partial(start, end, new), encoding)
        expected = reference_apply(expected, start, end, new, encoding)
        assert document.text == expected


@settings(max_examples=300, deadline=None)
@given(texts, positions, encodings)
def test_offset_and_position_are_inverse_on_positions_inside_the_text(text, position, encoding):
    document = Document("file:///m.py", text, 1)
    offset = document.offset(lsp.Position(*position), encoding)
    assert offset == reference_offset(text, *position, encoding)
    back = document.position(offset, encoding)
    assert document.offset(back, encoding) == offset


# --- the defects pygls's model had, one by one ------------------------------------------------------

def test_form_feed_vertical_tab_and_unicode_separators_are_not_line_breaks():
    text = "a\fb\vc\u2028d\x85e\nsecond\n"
    document = Document("file:///m.py", text, 1)
    document.apply(partial((1, 0), (1, 6), "2nd"), UTF16)  # line 1 is `second`, not `b`
    assert document.text == "a\fb\vc\u2028d\x85e\n2nd\n"


def test_a_column_past_the_line_end_stays_on_that_line_before_its_crlf():
    document = Document("file:///m.py", "ab\r\ncd\r\n", 1)
    document.apply(partial((0, 99), (0, 99), "!"), UTF16)
    assert document.text == "ab!\r\ncd\r\n"
    document.apply(partial((0, 5), (1, 0), ""), UTF16)  # from past the end of line 0: joins the lines
    assert document.text == "ab!cd\r\n"


def test_a_column_past_the_end_of_a_last_line_without_newline_is_the_end():
    document = Document("file:///m.py", "x = 1\ny = 2", 1)
    document.apply(partial((1, 50), (1, 50), "0"), UTF16)
    assert document.text == "x = 1\ny = 20"
    document.apply(partial((7, 0), (9, 3), "\n"), UTF16)  # lines past the last: the end
    assert document.text == "x = 1\ny = 20\n"


def test_utf16_columns_count_surrogate_pairs_as_two():
    document = Document("file:///m.py", "s = '😀x'\n", 1)
    document.apply(partial((0, 7), (0, 8), "y"), UTF16)  # 😀 is units 5-6, x is unit 7
    assert document.text == "s = '😀y'\n"
    document.apply(partial((0, 10), (0, 10), "z"), UTF8)  # 😀 is bytes 5-8, y is byte 9
    assert document.text == "s = '😀yz'\n"


# --- URIs ------------------------------------------------------------------------------------------

def test_one_key_for_every_spelling_of_a_uri():
    assert normalise_uri("file:///tmp/with%20space/m.py") == normalise_uri("file:///tmp/with space/m.py")
    assert normalise_uri("file:///tmp/caf%C3%A9/m.py") == normalise_uri("file:///tmp/café/m.py")
    assert normalise_uri("file:///c%3A/Users/m.py") == normalise_uri("file:///C:/Users/m.py")
    assert normalise_uri("FILE:///c:/Users/m.py") == normalise_uri("file:///c%3a/Users/m.py")
    assert normalise_uri("file://Server/share/m.py") == normalise_uri("file://server/share/m.py")
    assert normalise_uri("untitled:Untitled-1") == "untitled:Untitled-1"
    assert normalise_uri("file:///a/m.py") != normalise_uri("file:///b/m.py")


def test_paths_from_uris():
    assert uri_to_path("file:///tmp/with%20space/caf%C3%A9/m.py") == "/tmp/with space/café/m.py"
    assert uri_to_path("file:///c%3A/Users/m.py") == "c:/Users/m.py"
    assert uri_to_path("file:///C:/Users/m.py") == "c:/Users/m.py"
    assert uri_to_path("file://server/share/m.py") == "//server/share/m.py"
    assert uri_to_path("file://localhost/tmp/m.py") == "/tmp/m.py"
    assert uri_to_path("untitled:Untitled-1") is None
