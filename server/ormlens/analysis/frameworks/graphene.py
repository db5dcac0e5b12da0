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

Resolvers attached at run time (`setattr(schema_type, "resolve_tags", resolve_tags)`) count where
the class they are attached to is listed (below): a query they run is ORM001; the row's model is
`schema_type._meta.model`, known only at run time, so their reads, and methods called on the row,
say nothing. Types built with `type(name, bases, attrs)` are not listed (only classes written out are)."""

from __future__ import annotations

import ast
import re

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
    return project_scan(index, "graphene.usages", len(index.loaded()), affected_by,
                        lambda decl, found: scan(index, decl, found))


def project_scan(index: Index, name: str, key, wanted, scan_one) -> dict:
    """What `scan_one(decl, found)` fills in from every loaded module `wanted` says yes to, kept in
    the index's plugin caches under `name` while `key` (what the result depends on) is the same."""
    cache = index.plugin_caches.setdefault(name, {})
    if cache.get("key") == key:
        return cache["all"]
    found: dict = {}
    with index.dependencies.computing(ALL_MODELS):
        for path in index.loaded():
            decl = index.decl(path)
            if decl is not None and wanted(decl):
                scan_one(decl, found)
    cache["all"], cache["key"] = found, key
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
    return "graphene" in decl.source or "setattr" in decl.source


def forget(index: Index) -> None:
    index.plugin_caches.pop("graphene.usages", None)
    index.plugin_caches.pop("graphene.attached", None)


# --- resolvers attached at run time ------------------------------------------------------------------
#
# `setattr(T, "resolve_" + name, f)` (also an f-string, a variable holding one, a module constant
# prefix) makes `f` a method of class T, so graphene calls it as T's resolver: per object where T is
# listed. `f` is a def of the function that attaches it, a module-level def, or the def a project
# factory returns (`return inner`: calling the factory gives that inner function, with its closure).
# T is a type class named statically (listed, as above), or a parameter of the attaching function:
# then T is whatever its callers pass, followed through the project's calls of that function by
# name (parameters passed on, a few calls up) to a function that passes the same variable both to
# the attaching chain and to a list field (`graphene.List(v)`, directly or through project functions
# whose parameter it lists). The row is then of a model not known statically (`T._meta.model`): a
# query the resolver runs per object is still ORM001; its relation reads say nothing.

MAX_CALLS = 3      # project calls followed from the attaching function up to its callers / down to a list
MAX_MODULES = 40   # modules naming a function whose calls are read


def per_row_function(b: Interpreter, path: str, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> RowCallbacks | None:
    """A function graphene calls once per listed object (a resolver attached at run time)."""
    if not may_be_attached(b.decl.source, stmt):
        return None
    found = attached(b.project).get((path, stmt.lineno, stmt.col_offset))
    if found is None:
        return None
    where_decl, call, owner = found
    label = f"{ast.unparse(call)[:60]} ({owner}), resolved object by object"
    return RowCallbacks(None, None, {stmt.name: 0}, (), label, where_decl.path, Span.of(call))


def may_be_attached(source: str, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Could `stmt` be attached (what its module's text says, before reading the project): its module
    is about graphene, it takes (root, info), and its module attaches functions or returns it from a
    factory. (A module of decorators returns its inner defs too: the first test keeps those out.)"""
    return "graphene" in source and takes_root(stmt) and (
        "setattr" in source or re.search(rf"\breturn {stmt.name}\b", source) is not None)


RETURNED_DEF = re.compile(r"^\s+return (\w+)\s*$", re.MULTILINE)


def holds_per_row_function(b: Interpreter, path: str, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does `stmt` define (in its body) a function graphene calls per listed object?"""
    source = b.decl.source
    known = b.plugin_data.setdefault("graphene.returned", {})
    if id(source) not in known:
        known.clear()
        known[id(source)] = "graphene" in source and (
            "setattr" in source or any(f"def {name}(" in source for name in RETURNED_DEF.findall(source)))
    if not known[id(source)]:
        return False
    b.project.body(b.decl, stmt)
    inner = [node for node in ast.walk(stmt) if node is not stmt and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and may_be_attached(source, node)]
    if not inner:
        return False
    found = attached(b.project)
    return any((path, node.lineno, node.col_offset) in found for node in inner)


def attached(index: Index) -> dict:
    """By a resolver def's (path, line, column): (module, list field call, where) of a list of a type
    it is attached to at run time."""
    listed = usages(index)
    # Keyed by the texts read (an edit of a body moves the defs it finds), not only their number.
    texts = tuple((path, id(decl.source)) for path in index.loaded() if (decl := index.decl(path)) is not None
                  and ("setattr" in decl.source or "return " in decl.source))
    return project_scan(index, "graphene.attached", texts,
                        lambda decl: "setattr" in decl.source and PREFIX in decl.source,
                        lambda decl, found: scan_attaching(index, index.whole(decl), listed, found))


def functions_in(tree: ast.AST) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, list[ast.AST]]]:
    """Each function of the module (None: the module itself) with the nodes of its own body (not
    those of the functions and classes nested in it)."""
    out = []
    pending: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, ast.AST]] = [(None, tree)]
    while pending:
        function, root = pending.pop()
        nodes: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(root))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                pending.append((node, node))
                continue
            if isinstance(node, ast.ClassDef):
                pending.append((None, node))
                continue
            nodes.append(node)
            stack.extend(ast.iter_child_nodes(node))
        out.append((function, nodes))
    return out


def scan_attaching(index: Index, decl: ModuleDecl, listed: dict, found: dict) -> None:
    for function, nodes in functions_in(decl.tree):
        for call in nodes:
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr"
                    and len(call.args) == 3 and not call.keywords):
                continue
            target, name, given = call.args
            if not resolver_name(decl, function, nodes, name):
                continue
            defs = resolver_defs(index, decl, function, given)
            listing = reached_listing(index, decl, function, target, listed, 0) if defs else None
            if listing is not None:
                for path, node in defs:
                    found.setdefault((path, node.lineno, node.col_offset), listing)


def prefix_string(decl: ModuleDecl, node: ast.expr) -> bool:
    """`"resolve_"` itself, written out or as a module constant."""
    if isinstance(node, ast.Name):
        node = decl.assigns.get(node.id)
    return isinstance(node, ast.Constant) and node.value == PREFIX


def resolver_name(decl: ModuleDecl, function, nodes: list[ast.AST], node: ast.expr, depth: int = 0) -> bool:
    """Is `node` a string that starts with `resolve_` and names a field (`"resolve_tags"`,
    `f"resolve_{name}"`, `"resolve_" + name`, `f"{PREFIX}{name}"`, a variable assigned one once)?"""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith(PREFIX) and len(node.value) > len(PREFIX)
    if isinstance(node, ast.JoinedStr) and len(node.values) >= 2:
        first = node.values[0]
        if isinstance(first, ast.Constant):
            return isinstance(first.value, str) and first.value.startswith(PREFIX)
        return isinstance(first, ast.FormattedValue) and first.format_spec is None and prefix_string(decl, first.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = node.left
        return (isinstance(left, ast.Constant) and isinstance(left.value, str) and left.value.startswith(PREFIX)) \
            or prefix_string(decl, left)
    if isinstance(node, ast.Name) and depth == 0:
        values = assigned(nodes, node.id) if function is not None else [decl.assigns.get(node.id)]
        return len(values) == 1 and values[0] is not None and resolver_name(decl, function, nodes, values[0], 1)
    return False


def assigned(nodes: list[ast.AST], name: str) -> list[ast.expr | None]:
    """What a function's body binds `name` to (None for a binding that is not a plain assignment:
    a loop's target, unpacking, `+=`, `with ... as`)."""
    out: list[ast.expr | None] = []
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    out.append(node.value if len(node.targets) == 1 else None)
                elif binds(target, name):
                    out.append(None)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
                               ast.comprehension)) and binds(node.target, name):
            out.append(None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None and binds(node.optional_vars, name):
            out.append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name == name:
            out.append(None)
    return out


def binds(target: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(target))


def nested_defs(function) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """The defs directly in a function's body (at any statement depth, not in nested functions)."""
    out = {}
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.stmt) and not isinstance(node, ast.ClassDef):
            stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return out


def resolver_defs(index: Index, decl: ModuleDecl, function, node: ast.expr) -> list[tuple[str, ast.AST]]:
    """The def(s) `node` is: a def of the attaching function or of the module, or what a project
    factory returns (every `return` of it gives one of its own defs)."""
    if isinstance(node, ast.Name):
        local = nested_defs(function).get(node.id) if function is not None else None
        if local is not None:
            return [(decl.path, local)]
        value = index.eval_static(decl, node)
    elif isinstance(node, ast.Call):
        value = index.eval_static(decl, node.func)
    else:
        return []
    if value.kind is not Kind.FUNCTION or value.ref is None:
        return []
    target = index.decl(value.ref.path)
    factory = target.function_node(value.ref.qualname)[0] if target is not None else None
    if factory is None:
        return []
    if isinstance(node, ast.Name):
        return [(target.path, factory)]
    inner = nested_defs(index.whole(target).function_node(value.ref.qualname)[0])
    returns = [n for _, nodes in functions_in(factory)[:1] for n in nodes if isinstance(n, ast.Return)]
    if not returns or not all(isinstance(r.value, ast.Name) and r.value.id in inner for r in returns):
        return []
    return [(target.path, inner[r.value.id]) for r in returns]


def parameter_index(function, name: str) -> int | None:
    positional = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    return positional.index(name) if name in positional else None


def reached_listing(index: Index, decl: ModuleDecl, function, target: ast.expr, listed: dict, depth: int):
    """A list field of a type class `target` is (see above), or None when none is known."""
    position = parameter_index(function, target.id) if function is not None and isinstance(target, ast.Name) else None
    if position is None:
        if function is not None and isinstance(target, ast.Name) and (
                target.id in function_names(function) or not decl.assigns.get(target.id) and target.id not in
                decl.classes and target.id not in decl.imports):
            return None  # a local of the function
        value = index.eval_static(decl, target)
        if value.kind is not Kind.CLASS or not isinstance(value.ref, tuple):
            return None
        cls_decl = index.decl(value.ref[0])
        if cls_decl is None or not is_type(index, cls_decl, value.ref[1]):
            return None
        found = listed.get((value.ref[0], value.ref[1].name))
        return found[0] if found else None
    nodes = functions_in(function)[0][1]
    if same_object(index, decl, nodes, target.id):  # the object it is given throughout: listed here?
        found = listing_in(index, decl, function, nodes, target.id)
        if found is not None:
            return found
    for caller_decl, caller, call, argument in calls_of(index, decl, function, position):
        if not isinstance(argument, ast.Name) or depth >= MAX_CALLS:
            continue
        nodes = functions_in(caller)[0][1]
        if parameter_index(caller, argument.id) is not None and same_object(index, caller_decl, nodes, argument.id):
            found = reached_listing(index, caller_decl, caller, argument, listed, depth + 1)
        else:
            loop = next((node for node in nodes if isinstance(node, (ast.For, ast.AsyncFor))
                         and isinstance(node.target, ast.Name) and node.target.id == argument.id
                         and any(inner is call for stmt in node.body for inner in ast.walk(stmt))), None)
            found = listing_in(index, caller_decl, caller, body_nodes(loop), argument.id) if loop else None
        if found is not None:
            return found
    return None


def same_object(index: Index, decl: ModuleDecl, nodes: list[ast.AST], name: str, depth: int = 0) -> bool:
    """Does `name` hold one object throughout `nodes`: rebound, if at all, only to what a call that
    returns its argument gives back (`v = extend(v)`)?"""
    return all(isinstance(value, ast.Call) and passes_through(index, decl, value, name, depth)
               for value in assigned(nodes, name))


def body_nodes(loop: ast.For | ast.AsyncFor) -> list[ast.AST]:
    """The nodes of a loop's body, not those of functions or classes defined in it."""
    out: list[ast.AST] = []
    for stmt in loop.body:
        out += functions_in(ast.Module(body=[stmt], type_ignores=[]))[0][1]
    return out


def function_names(function) -> set[str]:
    return {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def calls_of(index: Index, decl: ModuleDecl, function, position: int):
    """(module, calling function, argument passed at `position`) for each call of a module-level
    `function` in a project function (found by name, resolved to it)."""
    name = function.name
    if decl.functions.get(name) is not function:
        return
    mentioning = [m for m in map(index.decl, index.loaded()) if m is not None and name in m.source]
    if len(mentioning) > MAX_MODULES:
        return
    for module in mentioning:
        whole = index.whole(module)
        for caller, nodes in functions_in(whole.tree):
            if caller is None:
                continue
            for call in nodes:
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name and \
                        position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
                    value = index.eval_static(whole, call.func)
                    if value.kind is Kind.FUNCTION and value.ref is not None and value.ref.path == decl.path \
                            and value.ref.qualname == name:
                        yield whole, caller, call, call.args[position]


def listing_in(index: Index, decl: ModuleDecl, function, nodes: list[ast.AST], name: str):
    """A list field of what `name` holds in `nodes` (a function's body, or a loop's whose target it
    is): `List(name)` there, or `name` passed to a project function whose parameter is listed; `name`
    rebound there only by calls that return what they are given (`v = extend(v)`)."""
    if not same_object(index, decl, nodes, name):
        return None
    return listed_name(index, decl, function, nodes, name, 0)


def listed_name(index: Index, decl: ModuleDecl, function, nodes: list[ast.AST], name: str, depth: int):
    """(module, list field call, function) of `List(name)` among `nodes` (the body of `function`),
    or of the list a project function it passes `name` to makes of its parameter (`depth` calls
    down, at most MAX_CALLS)."""
    for call in nodes:
        if not isinstance(call, ast.Call):
            continue
        for position, argument in enumerate(call.args):
            if not (isinstance(argument, ast.Name) and argument.id == name):
                continue
            if position == 0 and graphene_name(index.eval_static(decl, call.func)) in LIST_FIELDS:
                return decl, call, function.name
            found = lists_parameter(index, decl, call, position, depth) if depth <= MAX_CALLS else None
            if found is not None:
                return found
    return None


def project_function(index: Index, decl: ModuleDecl, func: ast.expr):
    """(module, def) of the module-level project function `func` names."""
    value = index.eval_static(decl, func) if isinstance(func, ast.Name) else None
    if value is None or value.kind is not Kind.FUNCTION or value.ref is None or "." in value.ref.qualname:
        return None
    target = index.decl(value.ref.path)
    if target is None or value.ref.qualname not in target.functions:
        return None
    whole = index.whole(target)
    return whole, whole.functions[value.ref.qualname]


def callee_parameter(index: Index, decl: ModuleDecl, call: ast.Call, position: int):
    """(module, def, parameter name, the nodes of its own body) of the module-level project
    function `call` calls, for the parameter its argument at `position` binds."""
    found = project_function(index, decl, call.func)
    if found is None:
        return None
    callee_decl, callee = found
    positional = [a.arg for a in [*callee.args.posonlyargs, *callee.args.args]]
    if position >= len(positional):
        return None
    return callee_decl, callee, positional[position], functions_in(callee)[0][1]


def passes_through(index: Index, decl: ModuleDecl, call: ast.Call, name: str, depth: int) -> bool:
    """Does `call` (`extend(name, ...)`) return the very object it is given as `name`?"""
    position = next((i for i, a in enumerate(call.args) if isinstance(a, ast.Name) and a.id == name), None)
    found = callee_parameter(index, decl, call, position) if position is not None and depth < MAX_CALLS else None
    if found is None:
        return False
    callee_decl, _, parameter, nodes = found
    returns = [n for n in nodes if isinstance(n, ast.Return)]
    if not returns or not all(isinstance(r.value, ast.Name) and r.value.id == parameter for r in returns):
        return False
    return same_object(index, callee_decl, nodes, parameter, depth + 1)


def lists_parameter(index: Index, decl: ModuleDecl, call: ast.Call, position: int, depth: int):
    """A list field of the argument `call` passes at `position` to a project function (which lists
    its parameter, or passes it on to one that does)."""
    found = callee_parameter(index, decl, call, position)
    if found is None:
        return None
    callee_decl, callee, parameter, nodes = found
    if assigned(nodes, parameter):
        return None
    return listed_name(index, callee_decl, callee, nodes, parameter, depth + 1)
