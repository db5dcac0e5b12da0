"""graphene-django: a `DjangoObjectType` resolves its fields once per object it is given.

A type class (a subclass of graphene-django's `DjangoObjectType`, or of a library's subclass of it
such as graphene-django-optimizer's `OptimizedDjangoObjectType`, through project bases too) whose
`Meta.model` is a model is a GraphQL object type: graphene calls each of its resolvers
`resolve_<field>(root, info, ...)` once for each object of that type it resolves, with the object
(a row of `Meta.model`) as the first argument, whatever that parameter is named (`self`, `root`,
`obj`). A resolver counts only for a field the type has: one it declares (in its body or a project
base's) or a field of the model that `Meta.fields`/`Meta.exclude` leave to it.

The type runs once per row only where a list of such objects is resolved: a field that lists the
type (`graphene.List(T)`, `graphene.List(graphene.NonNull(T))`, `DjangoListField(T)`,
`DjangoConnectionField(T)`, `DjangoFilterConnectionField(T)`, `relay.ConnectionField(T)`; `T` named
by its class, or by a dotted string `"app.types.T"`), anywhere in the project. A type no such field
lists (resolved one object at a time, or listed only through fields built at run time) says nothing.

What those rows' query loads is not known: it is whatever the list's resolver (often a root
`Query` resolver, a parent object's relation, or an optimizer that reads the GraphQL selection at
run time: graphene-django-optimizer) gives, so a relationship read in a resolver is never reported
(ORM002); a query a resolver runs (`.filter()`, `.get()`, `.count()`, a model method that queries)
runs once per object whatever was loaded (ORM001). A resolver that hands the object to a
DataLoader (`loader.load(self.pk)`) runs no query itself and says nothing.

Resolvers attached at run time (`setattr(schema_type, "resolve_tags", resolve_tags)` on a class
made with `type()`, for a model chosen at run time) are not followed: neither the type nor the
model is known."""

from __future__ import annotations

import ast

from ormlens.analysis.declarations import ClassDecl, ImportRef, ModuleDecl
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.flow import Kind, Value
from ormlens.analysis.frameworks.api import RowCallbacks
from ormlens.analysis.frameworks.classes import MAX_DEPTH, derives_from, meta_class, project_bases
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm.api import Index, Interpreter
from ormlens.findings import Span

NAME = "graphene"
TYPE_BASE = "DjangoObjectType"  # graphene_django's, and library subclasses named so (Optimized...)
# Fields whose first argument is a type resolved once per item of a list.
LIST_FIELDS = frozenset({"List", "DjangoListField", "DjangoConnectionField", "DjangoFilterConnectionField",
                         "ConnectionField", "DjangoPaginationConnectionField"})
WRAPPERS = frozenset({"NonNull"})
PREFIX = "resolve_"


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    path, type_cls = cls
    index = b.project
    decl = index.decl(path)
    if decl is None or "graphene" not in decl.source and TYPE_BASE not in decl.source or \
            not any(name.startswith(PREFIX) for name in type_cls.methods) or not is_type(index, decl, type_cls):
        return None
    model = type_model(index, decl, type_cls)
    if model is None:
        return None
    listed = usages(index).get((path, type_cls.name), [])
    if not listed:
        return None
    fields = type_fields(index, decl, type_cls, model)
    methods = {name: 0 for name, function in type_cls.methods.items()
               if name.startswith(PREFIX) and name[len(PREFIX):] in fields and takes_root(function)}
    if not methods:
        return None
    where_decl, call, owner = listed[0]
    label = f"{ast.unparse(call)[:60]} ({owner}), resolved object by object"
    if len(listed) > 1:
        label += f" (and {len(listed) - 1} more)"
    return RowCallbacks(model, None, methods, (), label, where_decl.path, Span.of(call))


def graphene_name(value: Value) -> str:
    """The class name of a graphene / graphene-django library value, or ""."""
    return value.name.rsplit(".", 1)[-1] if value.kind is Kind.EXTERNAL and value.name.startswith("graphene") else ""


def is_type(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return derives_from(index, decl, cls, lambda value: graphene_name(value).endswith(TYPE_BASE))


def meta_value(meta: ast.ClassDef, option: str) -> ast.expr | None:
    for stmt in meta.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == option for t in stmt.targets):
            return stmt.value
    return None


def type_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    found = meta_class(index, decl, cls)
    node = meta_value(found[1], "model") if found is not None else None
    if node is None:
        return None
    value = index.eval_static(found[0], node)
    return value.model if value.kind is Kind.MODEL_CLASS else None


def literal_names(node: ast.expr | None) -> set[str] | None:
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def type_fields(index: Index, decl: ModuleDecl, cls: ClassDecl, model: ModelInfo) -> set[str]:
    """The fields the type has: declared in its body (or a project base's), and the model's fields
    that `Meta.fields` names (all of them for `"__all__"` or no `fields`) and `Meta.exclude` does not."""
    declared: set[str] = set()
    pending, depth = [(decl, cls)], 0
    while pending and depth <= MAX_DEPTH:
        here, current = pending.pop()
        declared |= {attr for attr, _, value, _ in current.attrs if isinstance(value, ast.Call)}
        pending += list(project_bases(index, here, current))
        depth += 1
    found = meta_class(index, decl, cls)
    meta = found[1] if found is not None else None
    named = literal_names(meta_value(meta, "fields")) if meta is not None else None
    excluded = (literal_names(meta_value(meta, "exclude")) or set()) if meta is not None else set()
    model_fields = set(model.columns) | set(model.relationships)
    if named is not None:
        model_fields &= named
    elif meta is not None and meta_value(meta, "fields") is not None and not (
            isinstance(meta_value(meta, "fields"), ast.Constant) and meta_value(meta, "fields").value == "__all__"):
        model_fields = set()  # computed at run time: not known
    return declared | (model_fields - excluded)


def takes_root(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A resolver graphene calls with (root, info, ...): two positional parameters at least, not a
    classmethod (its first parameter is the class)."""
    if any(isinstance(d, ast.Name) and d.id == "classmethod" for d in function.decorator_list):
        return False
    return len([*function.args.posonlyargs, *function.args.args]) >= 2


# --- which types are listed --------------------------------------------------------------------------


def usages(index: Index) -> dict:
    """By a type class's (path, name): (module, list field call, where it is declared) of each
    field that lists it."""
    index.dependencies.read(ALL_MODELS)
    cache = index.plugin_caches.setdefault("graphene.usages", {})
    loaded = len(index.loaded())
    if cache.get("loaded") == loaded:
        return cache["all"]
    found: dict = {}
    with index.dependencies.computing(ALL_MODELS):
        for path in index.loaded():
            decl = index.decl(path)
            if decl is not None and affected_by(decl):
                scan(index, decl, found)
    cache["all"], cache["loaded"] = found, loaded
    return found


def scan(index: Index, decl: ModuleDecl, found: dict) -> None:
    """The list fields declared in the module's class bodies and module-level assignments."""
    places = [(f"{cls.name}.{attr}", value) for cls in decl.classes.values() for attr, _, value, _ in cls.attrs]
    places += list(decl.assigns.items())
    for owner, value in places:
        for call in ast.walk(value) if isinstance(value, ast.Call) else ():
            if not isinstance(call, ast.Call) or not call.args or \
                    graphene_name(index.eval_static(decl, call.func)) not in LIST_FIELDS:
                continue
            target = listed_type(index, decl, call.args[0])
            if target is not None:
                found.setdefault(target, []).append((decl, call, owner))


def listed_type(index: Index, decl: ModuleDecl, node: ast.expr) -> tuple[str, str] | None:
    """(path, class name) of the type a list field names: the class, `NonNull(T)`, `lambda: T`,
    or a dotted string."""
    while True:
        if isinstance(node, ast.Call) and node.args and graphene_name(index.eval_static(decl, node.func)) in WRAPPERS:
            node = node.args[0]
        elif isinstance(node, ast.Lambda):
            node = node.body
        else:
            break
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        module, _, name = node.value.rpartition(".")
        path = index.module_file(decl.path, ImportRef(module, None)) if module else decl.path
        target = index.decl(path) if path is not None else None
        return (target.path, name) if target is not None and name in target.classes else None
    if isinstance(node, (ast.Name, ast.Attribute)):
        value = index.eval_static(decl, node)
        if value.kind is Kind.CLASS and isinstance(value.ref, tuple):
            return value.ref[0], value.ref[1].name
    return None


def affected_by(decl: ModuleDecl) -> bool:
    """A module that may declare or list graphene types."""
    return "graphene" in decl.source


def forget(index: Index) -> None:
    index.plugin_caches.pop("graphene.usages", None)
