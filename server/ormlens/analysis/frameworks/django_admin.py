"""Django admin: the changelist renders each `list_display` entry once per row of the page.

A `ModelAdmin` registered for a model (`@admin.register(M)`, `admin.site.register(M, A)` in its
module) calls each method named in `list_display` with the row (`def author_name(self, obj)`),
reads each model attribute named there (a property's body runs; a model method is called), and
shows `str(row)` for `"__str__"` (the default `list_display`). What the changelist's query loads:
`list_select_related` when it names lookups, plus the lookups `get_queryset()` writes; when
`list_display` names a relation field itself (or `list_select_related = True`) Django adds a bare
`select_related()`, which loads every non-null relation: then nothing is reported (not known)."""

from __future__ import annotations

import ast

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind
from ormlens.analysis.frameworks.api import DeclaredRead, RowCallbacks
from ormlens.analysis.frameworks.classes import derives_from
from ormlens.analysis.frameworks.django_lookups import literal_lookups, prefixes
from ormlens.analysis.orm.api import Index, Interpreter
from ormlens.findings import Span

NAME = "django_admin"
ADMIN_BASES = frozenset({"django.contrib.admin.ModelAdmin", "django.contrib.admin.options.ModelAdmin"})


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    index = b.project
    path, admin = cls
    decl = index.decl(path)
    if decl is None or "admin" not in decl.source or not derives_admin(index, decl, admin):
        return None
    model = registered_model(index, decl, admin)
    if model is None:
        return None
    display = admin.attr_value("list_display")
    names: list[tuple[str, ast.expr]] = [("__str__", class_name(admin.node))]
    if display is not None:
        if not isinstance(display, (ast.List, ast.Tuple)):
            return None  # built at run time: not known
        names = [(e.value, e) for e in display.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    eager = changelist_eager(index, decl, admin, model, [name for name, _ in names])
    if eager is None:
        return None
    methods: dict[str, int] = {}
    reads = []
    model_class = index.class_of(model)
    for name, node in names:
        if name in admin.methods:
            methods[name] = 1
        elif name == "__str__" or (model_class is not None and name in model_class[1].methods):
            function = model_class[1].methods.get(name) if model_class is not None else None
            is_property = function is not None and any(last_name(d) in ("property", "cached_property")
                                                       for d in function.decorator_list)
            reads.append(DeclaredRead((name,), False, node, call=not is_property))
    if not methods and not reads:
        return None
    span = Span.of(display) if display is not None else Span(admin.node.lineno, admin.node.col_offset,
                                                                admin.node.lineno, admin.node.col_offset + 5)
    return RowCallbacks(model, eager, methods, tuple(reads), f"the {admin.name} changelist's rows", path, span)


def class_name(node: ast.ClassDef) -> ast.expr:
    """The class's name in its `class` line, as a node (where a finding about the class goes)."""
    name = ast.Name(id=node.name, ctx=ast.Load())
    name.lineno = name.end_lineno = node.lineno
    name.col_offset = node.col_offset + len("class ")
    name.end_col_offset = name.col_offset + len(node.name.encode())
    return name


def derives_admin(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return derives_from(index, decl, cls, lambda value: value.kind is Kind.EXTERNAL and value.name in ADMIN_BASES)


def registered_model(index: Index, decl: ModuleDecl, admin: ClassDecl):
    """The one model `admin` is registered for: `@admin.register(M)` or `admin.site.register(M, A)`
    at the module's top level."""
    candidates: list[ast.expr] = []
    for decorator in admin.node.decorator_list:
        if isinstance(decorator, ast.Call) and last_name(decorator.func) == "register":
            candidates += decorator.args
    for stmt in decl.tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and last_name(call.func) == "register" and len(call.args) >= 2 and \
                isinstance(call.args[1], ast.Name) and call.args[1].id == admin.name:
            candidates.append(call.args[0])
    models = []
    for node in candidates:
        value = index.eval_static(decl, node)
        if value.kind is Kind.MODEL_CLASS and value.model is not None:
            models.append(value.model)
    return models[0] if len(models) == 1 else None


def changelist_eager(index: Index, decl: ModuleDecl, admin: ClassDecl, model, names: list[str]):
    """The lookups the changelist's query loads; None when Django adds a bare `select_related()`."""
    chosen = admin.attr_value("list_select_related")
    if isinstance(chosen, ast.Constant) and chosen.value is True:
        return None
    eager: set[tuple[str, ...]] = set()
    if isinstance(chosen, (ast.List, ast.Tuple)):
        for element in chosen.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                eager.update(prefixes(element.value))
    elif chosen is not None and not (isinstance(chosen, ast.Constant) and chosen.value is False):
        return None
    elif any(name in model.relationships and model.relationships[name].django != "many" for name in names):
        return None  # a relation field shown: Django selects every relation
    if "get_queryset" in admin.methods:
        index.read_function(FunctionRef(decl.path, f"{admin.name}.get_queryset"))  # (an edit of it counts)
        index.whole(decl)
        found = literal_lookups([admin.methods["get_queryset"]])
        if found is None:
            return None
        eager |= found
    return frozenset(eager)


def affected_by(decl: ModuleDecl) -> bool:
    """(An admin's model and rows are read from its own module only.)"""
    return False


def forget(index: Index) -> None:
    """(Nothing derived is kept across passes.)"""
