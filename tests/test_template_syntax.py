"""Templates read into the IR (ormlens.analysis.templates.ir) without running them: Django's syntax by
ormlens's own reader, Jinja2's by Jinja2's parser. Exact nodes and spans (UTF-8 byte columns)."""

from __future__ import annotations

import re

import pytest

from ormlens.analysis.templates import language_of, parse
from ormlens.analysis.templates.ir import (
    Bind, Block, Extends, Import, Include, Loop, Macro, MacroCall, Output, Read, Template)
from ormlens.spans import Span


def django(text: str) -> Template:
    return parse(text, "django")


def jinja(text: str) -> Template:
    return parse(text, "jinja2")


def at(line: int, col: int, end_col: int) -> Span:
    return Span(line, col, line, end_col)


def locate(text: str, context: str, part: str | None = None, k: int = 0) -> Span:
    """The span of `part` (default: all; a word) of the k-th occurrence of `context` in an ASCII `text`."""
    start = -1
    for _ in range(k + 1):
        start = text.index(context, start + 1)
    start += re.search(rf"(?<![\w.]){re.escape(part)}(?!\w)", context).start() if part else 0
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    line = text.count("\n", 0, start) + 1
    return at(line, start - line_start, start - line_start + len(part or context))


def R(text: str, context: str, path: str | None = None, k: int = 0, filters=(), called=(), names=None) -> Read:
    """The read of `path` (default: `context`) where it is in the k-th `context` of `text`."""
    path = path or context
    names = tuple(names or path.replace(" ", "").split("."))
    return Read(names, locate(text, context, path, k), tuple(filters), frozenset(called))


# -- Django ------------------------------------------------------------------------------------------


def test_django_variable_with_filters_and_a_filter_argument_path():
    text = '{{ order.customer.name|upper|default:o.alt|date:"Y" }}'
    assert django(text) == Template("django", (
        Output((R(text, "order.customer.name", filters=("upper", "default", "date")), R(text, "o.alt"))),))


def test_django_literals_are_not_reads():
    text = '{{ "x"|upper }}{{ 3 }}{{ _("hello") }}{{ None }}{{ x|default:"a b" }}'
    assert django(text) == Template("django", (Output((R(text, "{{ x|", "x", filters=("default",)),)),))


def test_django_nested_loops_with_empty_and_reversed():
    text = ("{% for o in orders reversed %}\n"
            "{% for a, b in o.items.all %}{{ a.name }}{% empty %}{{ o.none }}{% endfor %}\n"
            "{% endfor %}")
    assert django(text) == Template("django", (
        Loop(("o",), R(text, "orders"), locate(text, "{% for o in orders reversed %}"), (
            Loop(("a", "b"), R(text, "o.items.all"), locate(text, "{% for a, b in o.items.all %}"),
                 (Output((R(text, "a.name"),)),),
                 (Output((R(text, "o.none"),)),)),)),))


def test_django_if_elif_else_tests_come_before_their_bodies():
    text = "{% if a.b and not c.d|length > 2 %}{{ x }}{% elif e %}{{ y }}{% else %}{{ z }}{% endif %}"
    assert django(text) == Template("django", (
        Output((R(text, "a.b"), R(text, "c.d", filters=("length",))), shown=False),
        Output((R(text, "{{ x }}", "x"),)),
        Output((R(text, "elif e", "e"),), shown=False),
        Output((R(text, "{{ y }}", "y"),)),
        Output((R(text, "{{ z }}", "z"),)),
    ))


def test_django_ifchanged():
    text = "{% ifchanged o.day %}{{ o.x }}{% else %}-{% endifchanged %}"
    assert django(text) == Template("django", (Output((R(text, "o.day"),), shown=False), Output((R(text, "o.x"),))))


def test_django_with_both_forms():
    text = "{% with a=x.y b='s' %}{{ a }}{% endwith %}{% with x.z as c %}{{ c }}{% endwith %}"
    assert django(text) == Template("django", (
        Bind((("a", R(text, "x.y")), ("b", None)), (Output((R(text, "{{ a }}", "a"),)),)),
        Bind((("c", R(text, "x.z")),), (Output((R(text, "{{ c }}", "c"),)),)),
    ))


def test_django_include_extends_block():
    text = ('{% extends "base.html" %}{% block content %}{% include "row.html" with o=order.x n=1 only %}'
            '{% include tpl %}{% endblock content %}')
    assert django(text) == Template("django", (
        Extends("base.html", locate(text, '{% extends "base.html" %}')),
        Block("content", (
            Include("row.html", locate(text, '{% include "row.html" with o=order.x n=1 only %}'),
                    (("o", R(text, "order.x")), ("n", None)), True),
            Output((R(text, "tpl"),), shown=False),
            Include(None, locate(text, "{% include tpl %}")),
        )),
    ))


def test_django_regroup_is_a_loop_reading_the_key_then_binds_its_name():
    text = "{% regroup people by gender as grouped %}{{ grouped.x }}"
    assert django(text) == Template("django", (
        Loop(("__regroup_item",), R(text, "people"), locate(text, "{% regroup people by gender as grouped %}"),
             (Output((R(text, "gender", names=("__regroup_item", "gender")),)),)),
        Bind((("grouped", None),), (Output((R(text, "grouped.x"),)),)),
    ))


def test_django_custom_tags_read_their_variable_arguments():
    text = ('{% my_tag o.customer "x" 3 k=v.w as y %}{{ y.z }}'
            '{% box o.title %}{{ o.body }}{% endbox %}{% odd o.x+1 %}')
    assert django(text) == Template("django", (
        Output((R(text, "o.customer"), R(text, "v.w")), shown=False),
        Bind((("y", None),), (
            Output((R(text, "y.z"),)),
            Output((R(text, "o.title"),), shown=False),
            Output((R(text, "o.body"),)),
            Output((R(text, "o.x+1", "o.x"),), shown=False),
        )),
    ), unknown=(locate(text, "{% odd o.x+1 %}"),))


def test_django_builtin_tags_with_arguments():
    text = ("{% url 'detail' o.pk as u %}{% firstof a.b c 'd' %}{% cycle 'x' o.y as row silent %}"
            "{% widthratio a b 100 %}{% csrf_token %}{% load static %}{% now 'Y' %}{% static 'a.css' %}"
            "{% querystring page=p.n %}{% templatetag openblock %}{% lorem 2 w %}")
    assert django(text) == Template("django", (
        Output((R(text, "o.pk"),), shown=False),
        Bind((("u", None),), (
            Output((R(text, "a.b"), R(text, " c ", "c")), shown=False),
            Output((R(text, "o.y"),), shown=False),
            Bind((("row", None),), (
                Output((R(text, "widthratio a b", "a", k=0), R(text, "widthratio a b", "b")), shown=False),
                Output((R(text, "p.n"),), shown=False),
            )),
        )),
    ))


def test_django_blocktrans_binds_its_with_values_for_the_placeholders():
    text = "{% blocktrans with n=o.name count c=items|length %}{{ n }}{% plural %}{{ c }}{% endblocktrans %}"
    assert django(text) == Template("django", (
        Bind((("n", R(text, "o.name")), ("c", R(text, "items", filters=("length",)))), (
            Output((R(text, "{{ n }}", "n"),)), Output((R(text, "{{ c }}", "c"),)))),))


def test_django_comments_and_verbatim_are_not_read():
    text = ("{# {{ a.b }} #}{% comment 'why' %}{{ c.d }}{% endcomment %}"
            "{% verbatim x %}{{ e.f }}{% endverbatim %}{% endverbatim x %}{{ g }}")
    assert django(text) == Template("django", (Output((R(text, "g"),)),))


def test_django_filter_spaceless_autoescape_bodies_are_read_in_place():
    text = "{% filter cut:x.y|lower %}{% spaceless %}{% autoescape off %}{{ a }}{% endautoescape %}" \
           "{% endspaceless %}{% endfilter %}"
    assert django(text) == Template("django", (Output((R(text, "x.y"),), shown=False), Output((R(text, "{{ a }}", "a"),))))


def test_django_spans_are_utf8_byte_columns_and_crlf_ends_a_line():
    text = "<p>Größe €</p> {{ o.customer.name }}\r\n{% for x in o.items %}\r\n{{ x.y }}{% endfor %}"
    assert len("<p>Größe €</p> {{ ".encode()) == 22  # 18 characters
    assert django(text) == Template("django", (
        Output((Read(("o", "customer", "name"), at(1, 22, 37)),)),
        Loop(("x",), Read(("o", "items"), at(2, 12, 19)), at(2, 0, 22), (Output((Read(("x", "y"), at(3, 3, 6)),)),)),
    ))


def test_django_malformed_input_never_raises():
    text = "{% for o in orders %}{{ o.x }}{% if o %}"
    assert django(text) == Template("django", (
        Loop(("o",), R(text, "orders"), locate(text, "{% for o in orders %}"), (
            Output((R(text, "o.x"),)), Output((R(text, "if o", "o"),), shown=False))),),
        error="line 1: {% if %} is not closed by {% endif %}")
    text = "{{ a }}{% endfor %}{{ b }}"
    assert django(text) == Template("django", (Output((R(text, "a"),)), Output((R(text, "b"),))),
                                    unknown=(locate(text, "{% endfor %}"),))
    text = "{% for o in x %}{% if o %}{% endfor %}{{ c }}"
    assert django(text) == Template("django", (
        Loop(("o",), R(text, "x"), locate(text, "{% for o in x %}"), (Output((R(text, "if o", "o"),), shown=False),)),
        Output((R(text, "c"),))), error="line 1: {% if %} is not closed by {% endif %}")
    text = "{{ a.b }} {{ c.d"
    assert django(text) == Template("django", (Output((R(text, "a.b"),)),))
    assert django("{% comment %}{{ a }}") == Template(
        "django", error="line 1: no {% endcomment %} closes the tag opened here")
    text = "{% %}{{ o.x + 1 }}"
    assert django(text) == Template("django", (Output((R(text, "o.x"),)),),
                                    unknown=(locate(text, "{% %}"), locate(text, "{{ o.x + 1 }}")))


def test_django_five_megabytes():
    chunk = '<div class="row">é ' + "lorem ipsum " * 40 + '</div>{% for x in o.items %}{{ x.c }}{% endfor %}\n'
    template = django(chunk * (5_000_000 // len(chunk)))
    assert template.error is None and len(template.nodes) == 5_000_000 // len(chunk)


# -- Jinja2 ------------------------------------------------------------------------------------------


def test_jinja_output_filters_calls_and_items():
    text = '{{ o.customer.name|upper|default(o.alt) }} {{ o.items.all() }} {{ o["k"].filter(a=b.c).d }}'
    assert jinja(text) == Template("jinja2", (
        Output((R(text, "o.customer.name", filters=("upper", "default")), R(text, "o.alt"))),
        Output((R(text, "o.items.all()", called={2}, names=("o", "items", "all")),)),
        Output((R(text, 'o["k"].filter', names=("o", "k", "filter"), called={2}), R(text, "b.c"))),
    ))


def test_jinja_nested_loops_with_else_test_and_loop_variable():
    text = ("{% for o in orders if o.ok %}\n"
            "{% for a, b in o.pairs %}{{ a.x }}{{ loop.index }}{% endfor %}\n"
            "{% else %}{{ nothing.y }}{% endfor %}")
    assert jinja(text) == Template("jinja2", (
        Loop(("o",), R(text, "orders"), locate(text, "{% for o in orders if o.ok %}"), (
            Output((R(text, "o.ok"),), shown=False),
            Loop(("a", "b"), R(text, "o.pairs"), locate(text, "{% for a, b in o.pairs %}"),
                 (Output((R(text, "a.x"),)),)),
        ), (Output((R(text, "nothing.y"),)),)),))


def test_jinja_if_elif_else_and_tests():
    text = "{% if a.b is defined and c|default(d.e) %}1{% elif f %}{{ g }}{% else %}{% do h.append(1) %}{% endif %}"
    assert jinja(text) == Template("jinja2", (
        Output((R(text, "a.b", filters=("defined",)), R(text, "c", filters=("default",)), R(text, "d.e")), shown=False),
        Output((R(text, "elif f", "f"),), shown=False),
        Output((R(text, "g"),)),
        Output((R(text, "h.append", called={1}),), shown=False),
    ))


def test_jinja_set_binds_for_the_rest_of_the_scope_and_with_for_its_body():
    text = "{% set t = o.total %}{{ t.x }}{% with u = o.u, v = 1 %}{{ u }}{% endwith %}"
    assert jinja(text) == Template("jinja2", (
        Bind((("t", R(text, "o.total")),), (
            Output((R(text, "t.x"),)),
            Bind((("u", R(text, "o.u")), ("v", None)), (Output((R(text, "{{ u }}", "u"),)),)),
        )),))


def test_jinja_macro_and_its_calls():
    text = ('{% macro row(o, size=3) %}{{ o.customer.name }}{% endmacro %}\n'
            '{{ row(x.y, size=x.s) }}{% call row(z) %}{{ x.inner }}{% endcall %}')
    assert jinja(text) == Template("jinja2", (
        Macro("row", ("o", "size"), (Output((R(text, "o.customer.name"),)),),
              locate(text, "{% macro row(o, size=3) %}")),
        MacroCall("row", (R(text, "x.y"), R(text, "x.s")), R(text, "row", k=1).span),
        MacroCall("row", (R(text, "row(z)", "z"),), R(text, "row", k=2).span),
        Output((R(text, "x.inner"),)),
    ))


def test_jinja_imports_and_imported_macro_calls():
    text = ('{% import "forms.html" as forms %}{% from "m.html" import a, b as c %}'
            '{{ forms.input(o.name) }}{{ c(o) }}')
    assert jinja(text) == Template("jinja2", (
        Import("forms.html", alias="forms"),
        Import("m.html", names=(("a", "a"), ("b", "c"))),
        MacroCall("input", (R(text, "o.name"),), locate(text, "forms.input"), module="forms"),
        MacroCall("c", (R(text, "c(o)", "o"),), locate(text, "c(o)", "c")),
    ))


def test_jinja_extends_block_include():
    text = ('{% extends "base.html" %}{% block body %}{% include "a.html" ignore missing without context %}'
            '{% include name.x %}{% endblock %}')
    assert jinja(text) == Template("jinja2", (
        Extends("base.html", locate(text, '{% extends "base.html" %}')),
        Block("body", (
            Include("a.html", locate(text, '{% include "a.html" ignore missing without context %}'), only=True),
            Output((R(text, "name.x"),), shown=False),
            Include(None, locate(text, "{% include name.x %}")),
        )),
    ))


def test_jinja_spans_are_utf8_byte_columns_the_kth_occurrence_and_crlf():
    text = "<p>Größe €</p> {{ o.a }} {{ o.a|upper }}\r\n{{ o . b }}"
    assert len("<p>Größe €</p> {{ ".encode()) == 22  # 18 characters
    assert jinja(text) == Template("jinja2", (
        Output((Read(("o", "a"), at(1, 22, 25)),)),
        Output((Read(("o", "a"), at(1, 32, 35), ("upper",)),)),
        Output((Read(("o", "b"), at(2, 3, 8)),)),
    ))


def test_jinja_syntax_errors_are_an_error_not_an_exception():
    assert jinja("{% for x in y %}") == Template(
        "jinja2", error="line 1: Unexpected end of template. Jinja was looking for the following tags: "
                        "'endfor' or 'else'. The innermost block that needs to be closed is 'for'.")


def test_jinja_extension_tags_are_read_as_comments_their_bodies_kept():
    # A project's extension tag (what it does with its arguments is not known): its body is read.
    assert jinja("{{ a }}\n{% my_tag x.y %}{{ o.b }}{% endmy_tag %}") == Template("jinja2", (
        Output((Read(("a",), at(1, 3, 4)),)),
        Output((Read(("o", "b"), at(2, 19, 22)),)),
    ))


def test_jinja_five_megabytes():
    chunk = '<div class="row">é ' + "lorem ipsum " * 40 + '</div>{% for x in o.items %}{{ x.c }}{% endfor %}\n'
    template = jinja(chunk * (5_000_000 // len(chunk)))
    assert template.error is None and len(template.nodes) == 5_000_000 // len(chunk)


# -- languages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "text", "language"), [
    ("app/templates/a.jinja2", "", "jinja2"),
    ("x/a.j2", "", "jinja2"),
    ("x/a.html.jinja", "", "jinja2"),
    ("app/jinja2/app/a.html", "{{ a }}", "jinja2"),
    ("app/templates/app/a.html", "{% for a in b %}{{ a }}{% endfor %}", "django"),
    ("app/templates/a.txt", '{{ _("x") }}', "django"),
    ("app/templates/a.html", "{% set x = 1 %}", "jinja2"),
    ("app/templates/a.html", "{{ url_for('x') }}", "jinja2"),
    ("app/templates/a.html", "{%- if a %}{% endif %}", "jinja2"),
    ("static/a.html", "{{ a }}", None),
    ("app/templates/a.py", "", None),
])
def test_language_of(path, text, language):
    assert language_of(path, text) == language
