"""Which code renders which template with which values: a view's `render(request, "orders/list.html",
{"orders": qs})`, `TemplateResponse`, `render_to_string`, Flask's `render_template("x.html",
orders=rows)`, Pyramid's `@view_config(renderer="x.jinja2")` returning a dict, and Django's generic
class-based views (`ListView`, `DetailView`, ... with `model` / `queryset` / `get_queryset()` /
`context_object_name` / `template_name` / `get_context_data()`).

The interpreter records a TemplateRender where it meets one (its values are the interpreter's own, so
what a view's queryset eager-loads is known); evaluate.py reads the template with them. A context
the code builds other than as a literal (a dict filled by a helper, a context processor) gives the
names it can see and no others: a template name it cannot see means silence."""

from __future__ import annotations

import ast
import functools
import logging
import re
from dataclasses import dataclass

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.templates import files
from ormlens.analysis.flow import UNKNOWN, Kind, Value
from ormlens.findings import Span

# Library functions and classes that render a template: (index, keyword) of the template's name and
# of its context (None: the call's other keywords are the context, as Flask's).
RENDER_CALLS: dict[str, tuple[tuple[int, str], tuple[int, str] | None]] = {
    "django.shortcuts.render": ((1, "template_name"), (2, "context")),
    "django.shortcuts.render_to_response": ((0, "template_name"), (1, "context")),
    "django.template.response.TemplateResponse": ((1, "template"), (2, "context")),
    "django.template.response.SimpleTemplateResponse": ((0, "template"), (1, "context")),
    "django.template.loader.render_to_string": ((0, "template_name"), (1, "context")),
    "flask.render_template": ((0, "template_name_or_list"), None),
    "flask.templating.render_template": ((0, "template_name_or_list"), None),
    "quart.render_template": ((0, "template_name_or_list"), None),
    "quart.templating.render_template": ((0, "template_name_or_list"), None),
}
# Words in a function's text that make its body worth walking in the module's pass (interpreter.MAY_REPORT).
# (A template's name written out: what a render this analysis can follow needs. A generic view's
# `get_context_data()` is walked when its class is read, record_class_view.)
WORDS = r"""["'][\w./:-]+\.(?:html?|jinja2?|j2|txt|xml|pt)["']"""

# Django's generic views: the rows they put in the context, and the default template's suffix.
LIST_VIEWS = frozenset({"ListView", "MultipleObjectTemplateResponseMixin", "BaseListView", "ArchiveIndexView",
                        "YearArchiveView", "MonthArchiveView", "WeekArchiveView", "DayArchiveView",
                        "TodayArchiveView"})
OBJECT_VIEWS = {"DetailView": "_detail", "UpdateView": "_form", "DeleteView": "_confirm_delete",
                "DateDetailView": "_detail"}
TEMPLATE_VIEWS = frozenset({"TemplateView", "FormView", "CreateView", *LIST_VIEWS, *OBJECT_VIEWS})
GENERIC_PACKAGE = "django.views.generic"
PYRAMID_VIEW_CONFIG = frozenset({"pyramid.view.view_config"})
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja2", ".jinja", ".j2", ".txt", ".xml", ".pt")


log = logging.getLogger("ormlens")


def never_fails(record):
    """What a render records is a template's facts: a failure loses them, never the module's pass."""
    @functools.wraps(record)
    def guarded(b, *args):
        try:
            record(b, *args)
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("ormlens: reading a template render in %s failed", b.decl.path)
    return guarded


@dataclass(frozen=True, eq=False)
class ContextEntry:
    """A name the template sees, its value, and the expression in the view that gives it (where a
    quick fix adds a loader; None when the code builds it elsewhere)."""

    name: str
    value: Value
    span: Span | None = None


@dataclass(eq=False)
class TemplateRender:
    names: tuple[str, ...]            # the template names, the first found is rendered
    span: Span                        # where the view names the template (or the class, by default)
    context: tuple[ContextEntry, ...]
    label: str                        # how findings name the view
    language: str | None = None       # "jinja2" when the caller says so (Flask, a .jinja2 renderer)
    function: str | None = None       # the view function's qualname (None: a class's declaration)


@dataclass(frozen=True)
class RenderParameters:
    """A project function that renders the template its parameter `name` names (a `render(...)`
    helper of the project's own), with the context its parameter `context` holds (a dict, or a
    `**context` it passes on), and the language the library it calls says."""

    name: str
    context: str | None
    language: str | None


@never_fails
def record_call(b, node: ast.Call, full: str, args: list[Value], kwargs: dict) -> None:
    """At a call of a library function that renders a template: what it renders with what."""
    name_at, context_at = RENDER_CALLS[full]
    names = template_names(_argument(node, *name_at))
    if not names:
        return  # (a name a parameter gives: the function is a render helper, see helper_of)
    if context_at is None:  # Flask: `render_template("x.html", orders=rows, **more)`
        entries = [ContextEntry(kw.arg, b.values.get(id(kw.value), UNKNOWN), Span.of(kw.value))
                   for kw in node.keywords if kw.arg is not None and kw.arg != name_at[1]]
        for kw in node.keywords:
            if kw.arg is None:
                entries += context_entries(b, kw.value)
        language = "jinja2"
    else:
        context = _argument(node, *context_at)
        entries = context_entries(b, context) if context is not None else []
        language = None
    function = b.frame.qualname or None
    label = f"{last_name(node.func) or full.rsplit('.', 1)[-1]}(...) in {function or 'the module'}"
    b.facts.template_renders.append(TemplateRender(names, Span.of(node), _known(entries), label, language, function))


def _context_node(node: ast.Call, context_at: tuple[int, str] | None) -> ast.expr | None:
    """The expression a render call takes its context from: its context argument, or (Flask)
    the one `**spread` of its keywords (`**(extra_vars or {})` too)."""
    if context_at is not None:
        found = _argument(node, *context_at)
    else:
        spreads = [kw.value for kw in node.keywords if kw.arg is None]
        found = spreads[0] if len(spreads) == 1 else None
    if isinstance(found, ast.BoolOp) and isinstance(found.op, ast.Or):
        found = found.values[0]
    return found


RENDERING = re.compile(r"render|TemplateResponse")
MAX_HELPER_DEPTH = 3  # a helper of a helper of a helper


def helper_of(index, decl, function: ast.FunctionDef | ast.AsyncFunctionDef, depth: int = 0) -> RenderParameters | None:
    """Is `function` a render helper of the project's (it passes a parameter of its own as the
    template's name to a library render call, or to another helper): which parameters give the
    name and the context. Read from its text and the names it imports (no facts pass: a call of it
    costs no walk of its module), once per text."""
    cache = decl.derived.setdefault("renders.helpers", {})
    key = (function.name, function.lineno)
    if key in cache:
        return cache[key]
    cache[key] = None  # (a recursion through another path finds none)
    found = None
    index.body(decl, function)  # (put back if released)
    if any(isinstance(node, ast.Call) and RENDERING.search(last_name(node.func) or "") for node in ast.walk(function)):
        found = _helper_call(index, decl, function, depth)
    cache[key] = found
    return found


def _helper_call(index, decl, function, depth: int) -> RenderParameters | None:
    args = function.args
    parameters = {arg.arg for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    if args.kwarg is not None:
        parameters.add(args.kwarg.arg)
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        callee = index.eval_static(decl, node.func)
        if callee.kind is Kind.EXTERNAL and callee.name in RENDER_CALLS:
            name_at, context_at = RENDER_CALLS[callee.name]
            name, context = _argument(node, *name_at), _context_node(node, context_at)
            language = "jinja2" if context_at is None else None
        elif callee.kind is Kind.FUNCTION and isinstance(callee.ref, FunctionRef) and depth < MAX_HELPER_DEPTH:
            inner_decl = index.decl(callee.ref.path)
            inner = inner_decl.function_node(callee.ref.qualname)[0] if inner_decl is not None else None
            helper = helper_of(index, inner_decl, inner, depth + 1) if inner is not None else None
            if helper is None:
                continue
            passed = _bind(inner, node, bound="." in callee.ref.qualname and isinstance(node.func, ast.Attribute))
            name = passed.get(helper.name)
            context = passed.get(helper.context) if helper.context else None
            if context is None and helper.context is not None and inner.args.kwarg is not None and \
                    inner.args.kwarg.arg == helper.context:
                spreads = [kw.value for kw in node.keywords if kw.arg is None]
                context = spreads[0] if len(spreads) == 1 else None
            language = helper.language
        else:
            continue
        if isinstance(name, ast.Name) and name.id in parameters:
            given = context.id if isinstance(context, ast.Name) and context.id in parameters else None
            return RenderParameters(name.id, given, language)
    return None


@never_fails
def record_helper_call(b, node: ast.Call, callee: Value) -> None:
    """A call of a project render helper (helper_of) with a literal template name: the render it
    makes, with this call's values."""
    if not any(isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.endswith(TEMPLATE_SUFFIXES)
               for arg in [*node.args, *(kw.value for kw in node.keywords)]):
        return
    ref = callee.ref
    decl = b.project.decl(ref.path)
    if decl is None or not RENDERING.search(decl.source):
        return
    function = decl.function_node(ref.qualname)[0]
    helper = helper_of(b.project, decl, function) if function is not None else None
    if helper is None:
        return
    passed = _bind(function, node, bound=isinstance(node.func, ast.Attribute) and "." in ref.qualname)
    names = template_names(passed.get(helper.name))
    if not names:
        return
    entries: list[ContextEntry] = []
    if helper.context is not None:
        given = passed.get(helper.context)
        if given is not None:
            entries = context_entries(b, given)
        elif function.args.kwarg is not None and function.args.kwarg.arg == helper.context:
            entries = [ContextEntry(kw.arg, b.values.get(id(kw.value), UNKNOWN), Span.of(kw.value))
                       for kw in node.keywords if kw.arg is not None and kw.arg not in passed]
    function_name = b.frame.qualname or None
    label = f"{last_name(node.func)}(...) in {function_name or 'the module'}"
    b.facts.template_renders.append(TemplateRender(names, Span.of(node), _known(entries), label, helper.language,
                                                   function_name))


def _bind(function: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.Call, bound: bool) -> dict[str, ast.expr]:
    """The argument expression each parameter of `function` gets from call `node` (a method
    called on an object: its first parameter is the object)."""
    positional = [*function.args.posonlyargs, *function.args.args][1 if bound else 0:]
    passed: dict[str, ast.expr] = {}
    for param, arg in zip(positional, node.args):
        if isinstance(arg, ast.Starred):
            break
        passed[param.arg] = arg
    names = {arg.arg for arg in [*positional, *function.args.kwonlyargs]}
    for kw in node.keywords:
        if kw.arg in names:
            passed[kw.arg] = kw.value
    return passed


def _argument(node: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The argument a call gives the parameter at `index` / named `keyword` (not after a `*spread`)."""
    if index < len(node.args) and not any(isinstance(arg, ast.Starred) for arg in node.args[:index + 1]):
        return node.args[index]
    return next((kw.value for kw in node.keywords if kw.arg == keyword), None)


def template_names(node: ast.expr | None) -> tuple[str, ...]:
    """The literal template name(s) an argument gives: a string, or a list/tuple of strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and \
            all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return ()


def context_entries(b, node: ast.expr) -> list[ContextEntry]:
    """The names a context expression gives the template: a dict display (`{"orders": qs}`),
    `dict(orders=qs)`, or a name bound to one (and filled by `context["orders"] = qs`: the
    interpreter keeps what the dict holds, keyed.py), each with its expression when it is there."""
    if isinstance(node, ast.Dict):
        entries = []
        for key, value in zip(node.keys, node.values):
            if key is None:
                entries += context_entries(b, value)
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                value = _unless_none(value)
                entries.append(ContextEntry(key.value, b.values.get(id(value), UNKNOWN), Span.of(value)))
        return entries
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return [ContextEntry(kw.arg, b.values.get(id(kw.value), UNKNOWN), Span.of(kw.value))
                for kw in node.keywords if kw.arg is not None]
    value = b.values.get(id(node), UNKNOWN)
    spans = _assigned_spans(b, node.id) if isinstance(node, ast.Name) else {}
    return [ContextEntry(key, held, spans.get(key)) for key, held in value.keyed]


def _unless_none(node: ast.expr) -> ast.expr:
    """`qs if cond else None`: the queryset (a template loop over None renders nothing)."""
    if isinstance(node, ast.IfExp):
        if isinstance(node.orelse, ast.Constant) and node.orelse.value is None:
            return node.body
        if isinstance(node.body, ast.Constant) and node.body.value is None:
            return node.orelse
    return node


def _assigned_spans(b, name: str) -> dict[str, Span]:
    """Where the enclosing function puts each key into the dict `name` (keyed_spans)."""
    function = _function_node(b)
    return keyed_spans(function, name) if function is not None else {}


def keyed_spans(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str | None) -> dict[str, Span]:
    """Where `function` puts each key into the dict `name` (`name = {"k": v}`, `name["k"] = v`; None:
    the dict it returns, `return {"k": v}` or the name it returns): the expression a fix edits, when
    the key is put there once."""
    if name is None:
        returned = [node.value for node in ast.walk(function) if isinstance(node, ast.Return)]
        names = {value.id for value in returned if isinstance(value, ast.Name)}
        name = names.pop() if len(names) == 1 else None
    found: dict[str, list[Span]] = {}

    def display(value: ast.expr) -> None:
        for key, item in zip(value.keys, value.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.setdefault(key.value, []).append(Span.of(item))

    for node in ast.walk(function):
        if name is None:
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
                display(node.value)
            continue
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name and isinstance(node.value, ast.Dict):
            display(node.value)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name \
                and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
            found.setdefault(target.slice.value, []).append(Span.of(node.value))
    return {key: spans[0] for key, spans in found.items() if len(spans) == 1}


def _function_node(b) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    qualname = b.frame.qualname
    if not qualname:
        return None
    return b.decl.function_node(qualname)[0]


def _known(entries: list[ContextEntry]) -> tuple[ContextEntry, ...]:
    """The entries that hold rows or a query of a known model (the only ones a template read can
    be judged on); a name given twice keeps its last."""
    held: dict[str, ContextEntry] = {}
    for entry in entries:
        held[entry.name] = entry
    return tuple(entry for entry in held.values()
                 if entry.value.kind in (Kind.ROWS, Kind.ROW, Kind.QUERY, Kind.PAGE) and entry.value.model is not None)


# --- Pyramid: a view function whose renderer is a template -----------------------------------------


def renderer_of(b, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """`@view_config(renderer="templates/x.jinja2")` (a template, not "json"/"string")."""
    for decorator in stmt.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        callee = b.values.get(id(decorator.func), UNKNOWN)
        if callee.kind is not Kind.EXTERNAL or callee.name not in PYRAMID_VIEW_CONFIG and \
                not callee.name.endswith(".view_config"):
            continue
        for kw in decorator.keywords:
            if kw.arg == "renderer" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str) and \
                    kw.value.value.endswith(TEMPLATE_SUFFIXES):
                return kw.value.value
    return None


@never_fails
def record_returned_dict(b, stmt: ast.FunctionDef | ast.AsyncFunctionDef, renderer: str) -> None:
    """A Pyramid view returning a dict renders it with its renderer."""
    entries: list[ContextEntry] = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Return) and node.value is not None:
            entries += context_entries(b, node.value)
    if not entries:
        return
    # `package:templates/x.jinja2` asset specs: the part after the package.
    name = renderer.split(":", 1)[-1]
    language = "jinja2" if name.endswith((".jinja2", ".jinja", ".j2")) else None
    b.facts.template_renders.append(TemplateRender((name,), Span.of(stmt), _known(entries),
                                                   f"{stmt.name} (renderer={renderer!r})", language, b.frame.qualname))


# --- Django's generic class-based views --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClassView:
    """A generic view class, as its module's walk saw it: which generic views it derives from, and
    its own `queryset = ...` as the walk evaluated it. What it renders with what is resolved with
    the templates (resolve_class_view): whether its rows are worth reading depends on what its
    template reads, so an edit of the template does not walk the view again."""

    path: str
    name: str
    span: Span
    kinds: frozenset[str]
    queryset: Value | None


@never_fails
def record_class_view(b, cls: tuple[str, ClassDecl], node: ast.ClassDef) -> None:
    """A generic view class (ClassView), recorded for resolve_class_view."""
    from ormlens.analysis.frameworks.classes import class_attribute, derives_from

    index = b.project
    path, decl_cls = cls
    decl = index.decl(path)
    if decl is None:
        return
    kinds: set[str] = set()

    def generic(value: Value) -> bool:
        if value.kind is Kind.EXTERNAL and value.name.startswith(GENERIC_PACKAGE):
            kinds.add(value.name.rsplit(".", 1)[-1])
        return False  # (look at every base: the kinds seen are what counts)

    derives_from(index, decl, decl_cls, generic)
    if not kinds & TEMPLATE_VIEWS:
        return
    given = class_attribute(index, decl, decl_cls, "queryset")
    # (This module's class body was just walked: its `queryset` as the interpreter saw it.)
    queryset = b.values.get(id(given[1])) if given is not None and given[0].path == decl.path else None
    b.facts.template_renders.append(ClassView(path, decl_cls.name, Span.of(node), frozenset(kinds), queryset))


def resolve_class_view(index, functions: dict, view: ClassView) -> TemplateRender | None:
    """A generic view's render: its template (`template_name`, else `<app>/<model>_list.html`...)
    with the rows it puts in the context (`object_list` / `<model>_list` / `context_object_name`, or
    `object` / `<model>` for a single-object view) and what its `get_context_data` adds
    (`functions`: its module's facts' functions)."""
    from ormlens.analysis.frameworks.classes import class_attribute, method_owner

    decl = index.decl(view.path)
    decl_cls = decl.classes.get(view.name) if decl is not None else None
    if decl_cls is None:
        return None
    kinds = view.kinds
    given = class_attribute(index, decl, decl_cls, "template_name")
    if given is not None and template_names(given[1]):
        # Its rows (a walk of `get_queryset()`, maybe of a base's module) only for a template that
        # reads what a generic view gives: `object_list`, `object`, `<model>_list`, `<model>`, its
        # `context_object_name`, or what its own `get_context_data()` adds.
        read = files.names_read(index, template_names(given[1]), view.path)
        names = _view_names(index, decl, decl_cls, functions)
        if read is None or names is not None and not read & names:
            return None
    rows, span = _view_rows(index, decl, decl_cls, view.queryset)
    model = rows.model if rows is not None else None
    entries: list[ContextEntry] = []
    suffix = None
    if rows is not None and model is not None:
        own = class_attribute(index, decl, decl_cls, "context_object_name")
        own_name = own[1].value if own is not None and isinstance(own[1], ast.Constant) and \
            isinstance(own[1].value, str) else None
        lower = model.name.lower()
        if kinds & LIST_VIEWS:
            suffix = "_list"
            for name in ("object_list", f"{lower}_list", own_name):
                if name:
                    entries.append(ContextEntry(name, rows, span))
        elif kinds & set(OBJECT_VIEWS):
            suffix = next(OBJECT_VIEWS[kind] for kind in OBJECT_VIEWS if kind in kinds)
            row = Value(kind=Kind.ROW, model=model, eager=rows.query.eager if rows.query is not None else rows.eager,
                        label=f"{decl_cls.name}.object")
            getter = method_owner(index, decl, decl_cls, "get_object")
            if getter is not None:  # its own `get_object()`: the row it returns (what it loads), else not known
                given = index.returns(FunctionRef(getter[0].path, f"{getter[1].name}.get_object"))
                row = given if given.kind is Kind.ROW and given.model is model else row.but(eager=None)
            for name in ("object", lower, own_name):
                if name:
                    entries.append(ContextEntry(name, row, None))
    names = _template_names(index, decl_cls, decl, model, suffix)
    if not names:
        return None
    owner = method_owner(index, decl, decl_cls, "get_context_data")
    if owner is not None and owner[0].path == decl.path:  # (a base's in another module: rarely rows, a walk of it)
        entries += _context_data(functions, owner[1])
    return TemplateRender(names, view.span, _known(entries), decl_cls.name, None, None) if _known(entries) else None


def _view_names(index, decl, cls: ClassDecl, functions: dict) -> set[str] | None:
    """The context names a generic view may give rows by; None when they cannot be told (the
    rows' model is not declared: `<model>_list` may be any)."""
    from ormlens.analysis.frameworks.classes import class_attribute

    names = {"object_list", "object", "page_obj"}
    own = class_attribute(index, decl, cls, "context_object_name")
    if own is not None and isinstance(own[1], ast.Constant) and isinstance(own[1].value, str):
        names.add(own[1].value)
    model = class_attribute(index, decl, cls, "model")
    value = index.eval_static(model[0], model[1]) if model is not None else None
    if value is not None and value.kind is Kind.MODEL_CLASS and value.model is not None:
        names |= {value.model.name.lower(), f"{value.model.name.lower()}_list"}
    elif class_attribute(index, decl, cls, "queryset") is not None or "get_queryset" in cls.methods:
        return None
    own_context = functions.get(f"{cls.name}.get_context_data") if "get_context_data" in cls.methods else None
    for value in own_context.returns if own_context is not None else ():
        names |= {key for key, _ in value.keyed}
    return names


def _template_names(index, cls: ClassDecl, decl, model, suffix: str | None) -> tuple[str, ...]:
    from ormlens.analysis.frameworks.classes import class_attribute

    given = class_attribute(index, decl, cls, "template_name")
    if given is not None:
        return template_names(given[1])
    if model is None or suffix is None:
        return ()
    from ormlens.analysis.orm import django_models

    label = django_models.model_label(index, model)
    if not label:
        return ()
    return (f"{label.lower()}/{model.name.lower()}{suffix}.html",)


def _view_rows(index, decl, cls: ClassDecl, queryset: Value | None) -> tuple[Value | None, Span | None]:
    """The rows a generic view works on: `get_queryset()`'s return (one `return <expr>`: the
    expression), `queryset = <expr>`, or `model = M` (all its rows); with the expression a fix edits."""
    from ormlens.analysis.frameworks.classes import class_attribute, method_owner

    owner = method_owner(index, decl, cls, "get_queryset")
    declared = class_attribute(index, decl, cls, "model") is not None or \
        class_attribute(index, decl, cls, "queryset") is not None
    if owner is not None and owner[0].path != decl.path and not declared:
        # A base class's `get_queryset()` in another module, on a view that names no model: a
        # generic base working on `self.model` set at run time (reading it would walk that module).
        return None, None
    if owner is not None:
        owner_decl, owner_cls = owner
        value = index.returns(FunctionRef(owner_decl.path, f"{owner_cls.name}.get_queryset"))
        if value.kind is not Kind.QUERY or value.model is None:
            return None, None
        function = owner_cls.methods["get_queryset"]
        index.body(owner_decl, function)  # (put back if released)
        returns = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
        span = Span.of(returns[0].value) if len(returns) == 1 and owner_decl.path == decl.path else None
        return value, span
    given = class_attribute(index, decl, cls, "queryset")
    if given is not None and not (isinstance(given[1], ast.Constant) and given[1].value is None):
        # (This module's class body was just walked: its value as the interpreter saw it.)
        value = queryset if given[0].path == decl.path else None
        if value is None or value.kind is not Kind.QUERY:
            value = index.eval_static(given[0], given[1])
        if value.kind is Kind.QUERY and value.model is not None:
            return value, Span.of(given[1]) if given[0].path == decl.path else None
        return None, None
    given = class_attribute(index, decl, cls, "model")
    if given is not None:
        value = index.eval_static(given[0], given[1])
        if value.kind is Kind.MODEL_CLASS and value.model is not None:
            from ormlens.analysis.flow import QueryInfo

            return Value(kind=Kind.QUERY, model=value.model,
                         query=QueryInfo(value.model, orm=value.model.style)), None
    return None, None


def _context_data(functions: dict, cls: ClassDecl) -> list[ContextEntry]:
    """What `get_context_data` puts in the context: the names its returned dict holds."""

    own = functions.get(f"{cls.name}.get_context_data")  # (this module's: the caller sees to it)
    # Walked in this pass: what each `return` gives, as the interpreter saw it. (Not walked: its text
    # names no query, interpreter.MAY_REPORT, so it adds no rows; walking it would read its bases.)
    value = next((v for v in own.returns if v.keyed), UNKNOWN) if own is not None else UNKNOWN
    if not value.keyed:
        return []
    spans = keyed_spans(cls.methods["get_context_data"], None)
    return [ContextEntry(key, held, spans.get(key)) for key, held in value.keyed]
