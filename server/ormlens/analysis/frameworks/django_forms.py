"""Django forms: a model choice field lists its queryset's rows, labelling each one.

A form field `forms.ModelChoiceField(queryset=Q)` (or `ModelMultipleChoiceField`), rendered with a
widget that lists its choices (the default `Select`/`SelectMultiple`, or `RadioSelect`,
`CheckboxSelectMultiple`), iterates `Q` and calls `field.label_from_instance(row)` once per row: by
default `str(row)`, so what the model's `__str__` (in Python 2 era code without one, `__unicode__`)
reads that `Q` does not load runs once per choice. A project subclass of those fields that overrides
`label_from_instance(self, obj)` has that method called per row instead (its rows: the querysets
the project's forms give it).

`Q` is the field's `queryset=` in the form's body, or what the form's `__init__` assigns to
`self.fields["name"].queryset` (the assignment wins). Only a query on a model's manager counts
(`Unit.objects.filter(...)`, or a name `__init__` binds to one); what it loads is what its
`select_related`/`prefetch_related` calls name (and the model's project manager methods it calls),
a lookup computed at run time making it not known. Silent: a widget that does not list the choices
(`HiddenInput`, a text input, any widget not Django's select-like ones), a `.none()` queryset never
replaced, fields a `ModelForm` generates for foreign keys (not declared)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind, Value
from ormlens.analysis.frameworks.api import DeclaredRead, RowCallbacks
from ormlens.analysis.frameworks.classes import class_attribute, derives_from, method_owner
from ormlens.analysis.frameworks.django_tables2 import Text, is_method, manager_model, restore, with_managers
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm.api import Index, Interpreter
from ormlens.findings import Span
from ormlens.positions import shared_lines

NAME = "django_forms"
PACKAGE = "django.forms."
CHOICE_FIELDS = frozenset({"ModelChoiceField", "ModelMultipleChoiceField"})
LISTING_WIDGETS = frozenset({"Select", "SelectMultiple", "RadioSelect", "CheckboxSelectMultiple"})
LABEL_METHOD = "label_from_instance"


@dataclass(frozen=True)
class Choices:
    """A choice field's rows: the form and field, the queryset node, its model and what it loads,
    and the project field class that labels the rows itself (None: `str(row)`)."""

    path: str  # the form's module
    form: str
    field: str
    node: ast.expr
    model: ModelInfo
    eager: frozenset[tuple[str, ...]]
    labeller: tuple[str, str] | None  # (path, class name) of a field class overriding label_from_instance


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    path, owner = cls
    index = b.project
    decl = index.decl(path)
    if decl is None or "queryset" not in decl.source and LABEL_METHOD not in decl.source:
        return None
    cache = b.plugin_data.setdefault(NAME, {})
    if LABEL_METHOD in owner.methods and is_choice_field(index, decl, owner):
        return labelled_rows(index, decl, owner, cache)
    found = []
    for choices in choice_lists(index, decl, owner, cache):
        if choices.labeller is not None:
            continue  # (its own label_from_instance is walked per row: labelled_rows)
        dunder = label_dunder(index, choices.model)
        if dunder is None:
            continue
        found.append(RowCallbacks(choices.model, choices.eager, {}, (DeclaredRead((dunder,), False, choices.node,
                                                                                  call=True),),
                                  label_of(choices), path, Span.of(choices.node)))
    if not found:
        return None
    first, *more = found
    return RowCallbacks(first.model, first.eager, first.methods, first.reads, first.label, first.path, first.span,
                        more=tuple(more))


def label_of(choices: Choices) -> str:
    return f"the choices of {choices.form}.{choices.field}, rendered one by one"


def forms_name(value: Value) -> str:
    """The name of a django.forms value (`django.forms.widgets.Select` -> "Select"), or ""."""
    return value.name.rsplit(".", 1)[-1] if value.kind is Kind.EXTERNAL and value.name.startswith(PACKAGE) else ""


def is_choice_field(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return derives_from(index, decl, cls, lambda value: forms_name(value) in CHOICE_FIELDS)


def label_dunder(index: Index, model: ModelInfo) -> str | None:
    """The method `str(row)` runs: the model's `__str__`, else (Python 2 era code) its `__unicode__`;
    None when the project declares neither (Django's own reads the primary key only)."""
    for name in ("__str__", "__unicode__"):
        if is_method(index, model, name):
            return name
    return None


# --- a form's choice fields ---------------------------------------------------------------------------


def field_class(index: Index, decl: ModuleDecl, call: ast.expr | None, cache: dict):
    """For a field declaration: ("library", None) for Django's model choice fields, ("project",
    (decl, class)) for a project subclass of them; None for any other value."""
    if not isinstance(call, ast.Call) or not isinstance(call.func, (ast.Name, ast.Attribute)):
        return None
    callee = index.eval_static(decl, call.func)
    if forms_name(callee) in CHOICE_FIELDS:
        return "library", None
    if callee.kind is not Kind.CLASS or not isinstance(callee.ref, tuple):
        return None
    key = ("field", callee.ref[0], callee.ref[1].name)
    if key not in cache:
        field_decl = index.decl(callee.ref[0])
        cache[key] = field_decl is not None and is_choice_field(index, field_decl, callee.ref[1])
    if not cache[key]:
        return None
    return "project", (index.decl(callee.ref[0]), callee.ref[1])


def field_key(target: ast.expr, attr: str) -> str | None:
    """`self.fields["unit"].<attr>` -> "unit"."""
    if not (isinstance(target, ast.Attribute) and target.attr == attr and isinstance(target.value, ast.Subscript)):
        return None
    fields, key = target.value.value, target.value.slice
    if isinstance(fields, ast.Attribute) and fields.attr == "fields" and isinstance(fields.value, ast.Name) and \
            fields.value.id == "self" and isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def init_assignments(index: Index, decl: ModuleDecl, form: ClassDecl):
    """What the form's own `__init__` assigns: {field: [queryset values]}, {field: [widget values]},
    and the names it binds (a queryset built first, then assigned)."""
    init = form.methods.get("__init__")
    querysets: dict[str, list[ast.expr]] = {}
    widgets: dict[str, list[ast.expr]] = {}
    if init is None:
        return querysets, widgets, {}
    index.read_function(FunctionRef(decl.path, f"{form.name}.__init__"))  # (an edit of it counts)
    if not any("fields[" in line for line in shared_lines(decl.source)[init.lineno - 1:init.end_lineno]):
        return querysets, widgets, {}  # (its body is not put back for nothing)
    restore(index, decl, init)
    for node in ast.walk(init):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            name = field_key(target, "queryset")
            if name is not None:
                querysets.setdefault(name, []).append(node.value)
            name = field_key(target, "widget")
            if name is not None:
                widgets.setdefault(name, []).append(node.value)
    return querysets, widgets, Text(init, function=True).assigned


def lists_choices(index: Index, decl: ModuleDecl, widget: ast.expr) -> bool:
    """Is the widget (a class or an instance) one of Django's that lists every choice?"""
    node = widget.func if isinstance(widget, ast.Call) else widget
    return isinstance(node, (ast.Name, ast.Attribute)) and forms_name(index.eval_static(decl, node)) in LISTING_WIDGETS


def choice_lists(index: Index, decl: ModuleDecl, form: ClassDecl, cache: dict) -> list[Choices]:
    """The choice fields of `form` whose rows are listed, one per queryset they may be given."""
    key = ("choices", decl.path, form.name)
    if key in cache:
        return cache[key]
    cache[key] = []
    querysets, widgets, assigned = init_assignments(index, decl, form)
    names = [attr for attr, _, value, _ in form.attrs if isinstance(value, ast.Call)] + \
        [name for name in querysets if form.attr_value(name) is None]
    found: list[Choices] = []
    for name in dict.fromkeys(names):
        declared = class_attribute(index, decl, form, name)
        if declared is None:
            continue  # (a field a ModelForm generates: not declared)
        field_decl, call = declared
        kind = field_class(index, field_decl, call, cache)
        if kind is None:
            continue
        assert isinstance(call, ast.Call)
        widget = widgets[name][-1] if name in widgets else \
            next((kw.value for kw in call.keywords if kw.arg == "widget"), None)
        widget_decl = decl if name in widgets else field_decl
        labeller = None
        if kind[0] == "project":
            sub_decl, sub = kind[1]
            owner = method_owner(index, sub_decl, sub, LABEL_METHOD)
            labeller = (owner[0].path, owner[1].name) if owner is not None else None
            if widget is None:
                own = class_attribute(index, sub_decl, sub, "widget")
                if own is not None:
                    widget_decl, widget = own
        if widget is not None and not lists_choices(index, widget_decl, widget):
            continue
        if name in querysets:
            given = [(decl, value, assigned) for value in querysets[name]]
        else:
            value = next((kw.value for kw in call.keywords if kw.arg == "queryset"), call.args[0] if call.args else None)
            given = [(field_decl, value, {})] if value is not None else []
        for where, value, names_bound in given:
            if where is not decl:
                continue  # (a base form's own field: reported with the base)
            model = manager_model(index, where, value, names_bound)
            if model is None:
                continue  # not a model manager's query (`.none()`, a related manager, a call)
            text = Text(value)
            if isinstance(value, ast.Name):
                for bound in names_bound.get(value.id, []):
                    more = Text(bound)
                    text.eager |= more.eager
                    text.called |= more.called
                    text.dynamic = text.dynamic or more.dynamic
                    text.everything = text.everything or more.everything
            loaded = with_managers(index, model, text.called | {"get_queryset"}, text.found)
            if loaded is None or loaded[1]:
                continue  # loads every relation, or what is computed at run time: not known
            found.append(Choices(decl.path, form.name, name, placed(value), model, loaded[0], labeller))
    cache[key] = found
    return found


def placed(node: ast.expr) -> ast.expr:
    """Where a finding about a queryset goes: the expression, or when it spans lines the callee of
    its outer call (`Unit.objects.filter` of `Unit.objects.filter(\n...)`)."""
    while node.end_lineno != node.lineno and isinstance(node, ast.Call):
        node = node.func
    return node


# --- a project field class labelling its rows itself -------------------------------------------------


def labelled_rows(index: Index, decl: ModuleDecl, field: ClassDecl, cache: dict) -> RowCallbacks | None:
    """The rows a project choice field's `label_from_instance` is called for: those of the querysets
    the project's forms give this field class (one model: its rows; several: a model not known)."""
    uses = [choices for choices in uses_of(index, decl, field, cache) if choices.labeller == (decl.path, field.name)]
    if not uses:
        return None
    models = {id(choices.model) for choices in uses}
    first = min(uses, key=lambda choices: len(choices.eager))
    label = label_of(first) if len(uses) == 1 else f"{label_of(first)} (and {len(uses) - 1} more)"
    if len(models) > 1:
        return RowCallbacks(None, None, {LABEL_METHOD: 1}, (), label, first.path, Span.of(first.node))
    eager = frozenset.intersection(*(choices.eager for choices in uses))
    return RowCallbacks(first.model, eager, {LABEL_METHOD: 1}, (), label, first.path, Span.of(first.node))


def forms_with(index: Index, name: str):
    """(path, decl) of each module read that may use a field class named `name`."""
    for path in index.loaded():
        decl = index.decl(path)
        if decl is not None and name in decl.source and "queryset" in decl.source:
            yield path, decl


def uses_in(index: Index, path: str, name: str, cache: dict) -> list[Choices]:
    decl = index.decl(path)
    if decl is None:
        return []
    return [choices for form in decl.classes.values() for choices in choice_lists(index, decl, form, cache)]


def uses_of(index: Index, decl: ModuleDecl, field: ClassDecl, cache: dict) -> list[Choices]:
    # (As the list of every model: it depends on every module read; see affected_by.)
    index.dependencies.read(ALL_MODELS)
    with index.dependencies.computing(ALL_MODELS):
        return [choices for path, _ in forms_with(index, field.name) for choices in uses_in(index, path, field.name,
                                                                                            cache)]


def affected_by(decl: ModuleDecl) -> bool:
    """A module that may give a project choice field class its rows (a form)."""
    return "queryset" in decl.source and "Field" in decl.source


def forget(index: Index) -> None:
    """(What is derived is kept for one pass only.)"""
