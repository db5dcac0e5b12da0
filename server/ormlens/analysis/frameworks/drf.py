"""Django REST framework: a serializer serializes each row a list view gives it.

A serializer class (a subclass of DRF's `Serializer`/`ModelSerializer`, through project bases too)
whose `Meta.model` is a model, used as the `serializer_class` of a view that lists (a `ListAPIView`,
`ModelViewSet`, `ListModelMixin`...), or nested with `many=True` (or as a forward relation) in
another serializer that is, runs per row of the view's queryset: its `SerializerMethodField`
methods (`get_<field>(self, obj)`) and `to_representation(self, instance)` take the row, and each
declared field reads its `source` (or its own name) on the row: a relation, a property, a nested
serializer's rows. What the rows' query loads is read from the view: the lookups its `queryset` and
`get_queryset()` give `select_related`/`prefetch_related`/`Prefetch` (every one written there, on any
path: a path they might load is never reported). A serializer no list view is known to use says
nothing."""

from __future__ import annotations

import ast

from ormlens.analysis.astutil import last_name
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind, Value
from ormlens.analysis.frameworks.api import DeclaredRead, RowCallbacks
from ormlens.analysis.frameworks.classes import MAX_DEPTH, derives_from, method_owner, project_bases
from ormlens.analysis.frameworks.django_lookups import literal_lookups
from ormlens.analysis.orm.api import Index, Interpreter
from ormlens.findings import Span

NAME = "drf"
PACKAGE = "rest_framework."
SERIALIZER_BASES = frozenset({"Serializer", "ModelSerializer", "HyperlinkedModelSerializer", "BaseSerializer"})
# Views whose list action serializes each row of the queryset.
LIST_VIEW_BASES = frozenset({"ListAPIView", "ListCreateAPIView", "ModelViewSet", "ReadOnlyModelViewSet",
                             "ListModelMixin"})
METHOD_FIELD = "SerializerMethodField"
# Fields that read no relation of the row (a method field is walked as its method; the primary key
# related fields read `<fk>_id` only: DRF's pk-only optimization).
NO_READ_FIELDS = frozenset({METHOD_FIELD, "HiddenField", "PrimaryKeyRelatedField", "HyperlinkedRelatedField",
                            "HyperlinkedIdentityField", "ReadOnlyField"})
# Relation fields that read only the related row's key (the foreign key column), not the row.
PK_ONLY_FIELDS = frozenset({"PrimaryKeyRelatedField", "HyperlinkedRelatedField"})
MAX_NESTING = 3


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    # Per module pass: what a view's get_queryset() loads is read from its body, which an edit may
    # change without changing any declaration.
    return rows_of(b.project, cls[0], cls[1], 0, b.plugin_data.setdefault("drf.rows", {}))


def rows_of(index: Index, path: str, cls: ClassDecl, depth: int, cache: dict) -> RowCallbacks | None:
    key = (path, cls.name)
    if key in cache:
        return cache[key]
    cache[key] = None  # (a cycle of nested serializers)
    decl = index.decl(path)
    if decl is None or "Serializer" not in decl.source or not derives(index, decl, cls, SERIALIZER_BASES):
        return None
    model = serializer_model(index, decl, cls)
    if model is None:
        return None
    feeds = [*view_feeds(index, path, cls),
             *(nested_feeds(index, path, cls, depth, cache) if depth < MAX_NESTING else []),
             *(subclass_feeds(index, path, cls, depth, cache) if depth < MAX_NESTING else [])]
    if not feeds:
        return None
    eager: frozenset[tuple[str, ...]] | None = None
    for feed_eager, _, _, _ in feeds:
        eager = feed_eager if eager is None else eager & feed_eager
    # Named by the feed that loads least (the one the finding is most likely about).
    _, label, feed_path, span = min(feeds, key=lambda feed: len(feed[0]))
    if len(feeds) > 1:
        label = label.split(" (and ")[0] + f" (and {len(feeds) - 1} more)"  # (one count, not one per level)
    declared = tuple(declared_reads(index, decl, cls))
    methods = {"to_representation": 1} if "to_representation" in cls.methods else {}
    for attr, _, value, _ in cls.attrs:
        if isinstance(value, ast.Call) and drf_name(index.eval_static(decl, value.func)) == METHOD_FIELD:
            given = [*value.args[:1], *(kw.value for kw in value.keywords if kw.arg == "method_name")]
            name = next((node.value for node in given if isinstance(node, ast.Constant)
                         and isinstance(node.value, str)), f"get_{attr}")
            if name in cls.methods:
                methods[name] = 1
    found = cache[key] = RowCallbacks(model, eager, methods, declared, label, feed_path, span)
    return found


def drf_name(value: Value) -> str:
    """The class name of a DRF library value (`rest_framework.serializers.ModelSerializer` ->
    "ModelSerializer"), or ""."""
    return value.name.rsplit(".", 1)[-1] if value.kind is Kind.EXTERNAL and value.name.startswith(PACKAGE) else ""


def derives(index: Index, decl: ModuleDecl, cls: ClassDecl, names: frozenset[str]) -> bool:
    """Does `cls` derive from one of DRF's classes `names` (through project classes too)? A
    serializer may derive from a library's serializer base (drf-writable-nested's
    `WritableNestedModelSerializer`, i18nfield's): it counts only where a DRF list view (or a
    serializer such a view lists) uses it, which is what feeds it rows."""
    if names is SERIALIZER_BASES:
        return derives_from(index, decl, cls, lambda value: drf_name(value) in names or library_serializer(value))
    return derives_from(index, decl, cls, lambda value: drf_name(value) in names)


def library_serializer(value: Value) -> bool:
    return value.kind is Kind.EXTERNAL and not value.name.startswith(PACKAGE) and \
        value.name.rsplit(".", 1)[-1].endswith("Serializer")


def serializer_model(index: Index, decl: ModuleDecl, cls: ClassDecl, depth: int = 0):
    """`class Meta: model = Book` (or a serializer base class's)."""
    for stmt in cls.node.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "model"
                                                         for t in inner.targets):
                    value = index.eval_static(decl, inner.value)
                    return value.model if value.kind is Kind.MODEL_CLASS else None
    for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
        model = serializer_model(index, base_decl, base, depth + 1)
        if model is not None:
            return model
    return None


def declared_reads(index: Index, decl: ModuleDecl, cls: ClassDecl):
    """What each declared field reads on the row: its `source` (or its name), a nested
    serializer's rows with many=True listed."""
    for attr, _, value, _ in cls.attrs:
        if not isinstance(value, ast.Call):
            continue
        callee = index.eval_static(decl, value.func)
        name = drf_name(callee)
        nested = callee.kind is Kind.CLASS and isinstance(callee.ref, tuple) and \
            serializer_class(index, callee.ref)
        keyword = next((kw for kw in value.keywords if kw.arg == "source"), None)
        source = keyword.value if keyword is not None else None
        if source is not None and not (isinstance(source, ast.Constant) and isinstance(source.value, str)):
            continue
        path = tuple(source.value.split(".")) if source is not None else (attr,)
        if "*" in path or not all(part.isidentifier() for part in path):
            continue
        if not nested and name in PK_ONLY_FIELDS and len(path) > 1:
            # The pk-only shortcut skips loading the last step only: `source="category.user"`
            # still loads `category` on each row.
            yield DeclaredRead(path[:-1], False, keyword)
            continue
        if not nested and (not name or name in NO_READ_FIELDS or name.endswith("Serializer")):
            continue
        many = any(kw.arg == "many" and isinstance(kw.value, ast.Constant) and kw.value.value is True
                   for kw in value.keywords)
        # Found at `source="a.b"` when given (it names the read), else at the field.
        yield DeclaredRead(path, many, keyword if keyword is not None else value)


def serializer_class(index: Index, ref: tuple[str, ClassDecl]) -> bool:
    decl = index.decl(ref[0])
    return decl is not None and derives(index, decl, ref[1], SERIALIZER_BASES)


# --- who feeds a serializer rows ---------------------------------------------------------------------


def usages(index: Index) -> dict:
    """Every use of a serializer class the project's modules declare, by the serializer's
    (path, name): ("view", view decl, view class, the `serializer_class` value), ("nested",
    serializer decl, serializer class, field call, attribute) and ("subclass", decl, class)."""
    # (As the list of every model: it depends on every module read; see affected_by.)
    index.dependencies.read(ALL_MODELS)
    cache = index.plugin_caches.setdefault("drf.usages", {})
    if "all" in cache:
        return cache["all"]
    found: dict = {}
    with index.dependencies.computing(ALL_MODELS):  # (what it reads is read by the list, as models are)
        scan_usages(index, found)
    cache["all"] = found
    return found


def scan_usages(index: Index, found: dict) -> None:
    for path in index.loaded():
        decl = index.decl(path)
        if decl is None or "rest_framework" not in decl.source and "serializer" not in decl.source.lower():
            continue
        for cls in decl.classes.values():
            for base_decl, base in project_bases(index, decl, cls):
                found.setdefault((base_decl.path, base.name), []).append(("subclass", decl, cls))
            if "get_serializer_class" in cls.methods:
                index.whole(decl)  # (its body may have been released: memory.py)
            listed = list_serializers(cls)
            for value in listed:
                target = index.eval_static(decl, value)
                if target.kind is Kind.CLASS and isinstance(target.ref, tuple):
                    found.setdefault((target.ref[0], target.ref[1].name), []).append(("view", decl, cls, value))
            for attr, _, value, _ in cls.attrs:
                if attr == "serializer_class" and listed:
                    continue  # get_serializer_class() gives the list action another class
                if attr == "serializer_class" and isinstance(value, (ast.Name, ast.Attribute)):
                    target = index.eval_static(decl, value)
                    if target.kind is Kind.CLASS and isinstance(target.ref, tuple):
                        found.setdefault((target.ref[0], target.ref[1].name), []).append(("view", decl, cls, value))
                elif isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)) and \
                        "Serializer" in last_name(value.func):
                    target = index.eval_static(decl, value.func)
                    if target.kind is Kind.CLASS and isinstance(target.ref, tuple):
                        found.setdefault((target.ref[0], target.ref[1].name), []).append(
                            ("nested", decl, cls, value, attr))


def list_serializers(view: ClassDecl) -> list[ast.expr]:
    """The classes a view's `get_serializer_class()` gives its list action: those returned under a
    test of `self.action` against "list", else the one class it always returns."""
    function = view.methods.get("get_serializer_class")
    if function is None:
        return []
    listed: list[ast.expr] = []
    returned: list[ast.expr | None] = []
    for node in ast.walk(function):
        if isinstance(node, ast.If) and tests_list_action(node.test):
            listed += [r.value for r in node.body if isinstance(r, ast.Return) and
                       isinstance(r.value, (ast.Name, ast.Attribute)) and not is_self_attribute(r.value)]
        elif isinstance(node, ast.Return):
            returned.append(node.value)
    if listed:
        return listed
    # Every return gives one class: that one. (`return super().get_serializer_class()` or
    # `self.serializer_class` on some path: the declared one may list.)
    if returned and all(isinstance(r, (ast.Name, ast.Attribute)) and not is_self_attribute(r) for r in returned) \
            and len({ast.dump(r) for r in returned}) == 1:
        return [returned[0]]
    return []


def tests_list_action(test: ast.expr) -> bool:
    """`self.action == "list"`, `self.action in ("list", ...)`."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Attribute)
            and test.left.attr == "action"):
        return False
    right = test.comparators[0]
    if isinstance(test.ops[0], ast.Eq):
        return isinstance(right, ast.Constant) and right.value == "list"
    if isinstance(test.ops[0], ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        return any(isinstance(e, ast.Constant) and e.value == "list" for e in right.elts)
    return False


def is_self_attribute(node: ast.expr) -> bool:
    """`self.serializer_class`: the view's declared class (read from its attribute)."""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def view_feeds(index: Index, path: str, cls: ClassDecl):
    for use in usages(index).get((path, cls.name), []):
        if use[0] != "view":
            continue
        _, decl, view, value = use
        if not derives(index, decl, view, LIST_VIEW_BASES) or not lists_rows(view):
            continue
        eager = view_eager(index, decl, view)
        if eager is None:
            continue
        model = serializer_model(index, index.decl(path), cls)
        if model is not None:
            eager = eager | parents_set_by_manager(index, decl, view, model)
        rows = f"{view.name}.get_queryset()" if has_method(index, decl, view, "get_queryset") else f"{view.name}.queryset"
        yield eager, f"{rows}, serialized row by row", decl.path, Span.of(value)


def lists_rows(view: ClassDecl) -> bool:
    """Does the view answer GET with its rows? Not with `http_method_names` lacking "get", nor
    with `queryset = M.objects.none()` and no `get_queryset()` of its own."""
    methods = view.attr_value("http_method_names")
    if isinstance(methods, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in methods.elts) and \
            "get" not in {e.value for e in methods.elts}:
        return False
    queryset = view.attr_value("queryset")
    return not (isinstance(queryset, ast.Call) and last_name(queryset.func) == "none" and
                "get_queryset" not in view.methods)


def has_method(index: Index, decl: ModuleDecl, cls: ClassDecl, name: str) -> bool:
    """Does `cls` or a project base class of it define method `name`?"""
    return method_owner(index, decl, cls, name) is not None


def nested_feeds(index: Index, path: str, cls: ClassDecl, depth: int, cache: dict):
    for use in usages(index).get((path, cls.name), []):
        if use[0] != "nested":
            continue
        _, decl, parent, value, attr = use
        outer = rows_of(index, decl.path, parent, depth + 1, cache)
        if outer is None or outer.eager is None:
            continue
        source = next((kw.value.value for kw in value.keywords if kw.arg == "source"
                       and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)), attr)
        steps = tuple(source.split("."))
        eager = frozenset(p[len(steps):] for p in outer.eager if p[:len(steps)] == steps and len(p) > len(steps))
        # Rows of a reverse foreign key's manager (`item.variations`) have their parent set.
        model, parent_model = serializer_model(index, index.decl(path), cls), serializer_model(index, decl, parent)
        if len(steps) == 1 and model is not None and parent_model is not None:
            eager |= {(name,) for name in set_by_accessor(index, model, steps[0], parent_model)}
        yield eager, f"{parent.name}.{attr} of each row", decl.path, Span.of(value)


def subclass_feeds(index: Index, path: str, cls: ClassDecl, depth: int, cache: dict):
    """A serializer's methods run per row of what its subclasses serialize (they inherit them)."""
    for use in usages(index).get((path, cls.name), []):
        if use[0] != "subclass":
            continue
        _, decl, sub = use
        rows = rows_of(index, decl.path, sub, depth + 1, cache)
        if rows is not None and rows.eager is not None:
            yield rows.eager, rows.label, rows.path, rows.span


def view_eager(index: Index, decl: ModuleDecl, view: ClassDecl, depth: int = 0) -> frozenset | None:
    """The lookups a view's `queryset` and `get_queryset()` (its own or a project base class's)
    load; None when one loads everything it can (a bare `select_related()`)."""
    nodes: list[ast.AST] = []
    value = view.attr_value("queryset")
    if value is not None:
        nodes.append(value)
        nodes += helpers_called(index, decl, view, value)  # `queryset = Entry.listed()`
    if "get_queryset" in view.methods:
        index.read_function(FunctionRef(decl.path, f"{view.name}.get_queryset"))  # (an edit of it counts)
        index.whole(decl)  # (its body may have been released: memory.py)
        nodes.append(view.methods["get_queryset"])
        nodes += helpers_called(index, decl, view, view.methods["get_queryset"])
    found = literal_lookups(nodes)
    if found is None:
        return None
    eager = set(found)
    for base_decl, base in project_bases(index, decl, view) if depth < MAX_DEPTH else ():
        inherited = view_eager(index, base_decl, base, depth + 1)
        if inherited is None:
            return None
        eager |= inherited
    return frozenset(eager)


HELPER_DEPTH = 2  # calls followed from a view's queryset code (a helper's own helpers: one more)


def helpers_called(index: Index, decl: ModuleDecl, view: ClassDecl | None, function: ast.AST,
                   seen: set | None = None, depth: int = 0) -> list[ast.AST]:
    """The project functions `get_queryset()` (or the `queryset` expression) calls to build its
    queryset, and those they call (two calls deep): a module function (`_positions_queryset(...)`),
    a method of the view or of a project base (`self.base_queryset()`), a classmethod or a
    manager's method of a model (`Entry.for_user(u)`, `Entry.objects.visible()`), a method of a
    project object made there (`search = Search(...); search.apply(qs)`): what they load counts too."""
    found: list[ast.AST] = []
    seen = seen if seen is not None else {id(function)}
    made = made_instances(index, decl, function)
    for call in ast.walk(function):
        if not isinstance(call, ast.Call):
            continue
        target = helper_of(index, decl, view, call.func, made)
        if target is None:
            continue
        target_decl, ref = target
        index.whole(target_decl)  # (its body may have been released: memory.py)
        node, owner = target_decl.function_node(ref.qualname)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        index.read_function(ref)
        found.append(node)
        if depth + 1 < HELPER_DEPTH:
            found += helpers_called(index, target_decl, owner, node, seen, depth + 1)
    return found


def helper_of(index: Index, decl: ModuleDecl, view: ClassDecl | None, func: ast.expr,
              made: dict[str, tuple[ModuleDecl, ClassDecl]]) -> tuple[ModuleDecl, FunctionRef] | None:
    """The project function a call in a view's queryset code reaches, with its module."""
    if not isinstance(func, (ast.Name, ast.Attribute)):
        return None
    value = index.eval_static(decl, func)  # a module function, by name or through its module (`utils.f`)
    if value.kind is Kind.FUNCTION and isinstance(value.ref, FunctionRef):
        target = index.decl(value.ref.path)
        return (target, value.ref) if target is not None else None
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    classes: list[tuple[ModuleDecl, ClassDecl]] = []
    if isinstance(owner, ast.Name) and owner.id == "self":
        classes = [(decl, view)] if view is not None else []
    elif isinstance(owner, ast.Name) and owner.id in made:
        classes = [made[owner.id]]
    elif isinstance(owner, (ast.Name, ast.Attribute)):
        value = index.eval_static(decl, owner)
        classes = [found for found in [class_of(index, value)] if found is not None]
        if not classes and isinstance(owner, ast.Attribute):  # `Entry.objects.visible()`
            model = index.eval_static(decl, owner.value)
            if model.kind is Kind.MODEL_CLASS and model.model is not None:
                classes = [(d, c) for d, c in (index_pair(index, pair) for pair in
                                               model.model.managers.get(owner.attr, ())) if d is not None]
    for cls_decl, cls in classes:
        defined = method_owner(index, cls_decl, cls, func.attr)
        if defined is not None:
            return defined[0], FunctionRef(defined[0].path, f"{defined[1].name}.{func.attr}")
    return None


def index_pair(index: Index, pair) -> tuple[ModuleDecl | None, ClassDecl]:
    """A (module path, ClassDecl) pair (a model's manager classes) with its module."""
    return index.decl(pair[0]), pair[1]


def class_of(index: Index, value: Value) -> tuple[ModuleDecl, ClassDecl] | None:
    """The project class a static value names: a class, or a model class."""
    if value.kind is Kind.CLASS and isinstance(value.ref, tuple):
        target = index.decl(value.ref[0])
        return (target, value.ref[1]) if target is not None else None
    if value.kind is Kind.MODEL_CLASS and value.model is not None:
        target = index.decl(value.model.module_path)
        cls = target.classes.get(value.model.name) if target is not None else None
        return (target, cls) if cls is not None else None
    return None


def made_instances(index: Index, decl: ModuleDecl, function: ast.AST) -> dict[str, tuple[ModuleDecl, ClassDecl]]:
    """Names bound in `function` to an instance of a project class (`search = Search(request)`),
    each bound once."""
    bound: dict[str, list[ast.expr]] = {}
    for stmt in ast.walk(function):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(stmt.value)
    made = {}
    for name, values in bound.items():
        value = values[0]
        if len(values) == 1 and isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
            callee = index.eval_static(decl, value.func)
            if callee.kind is Kind.CLASS:
                found = class_of(index, callee)
                if found is not None:
                    made[name] = found
    return made


def parents_set_by_manager(index: Index, decl: ModuleDecl, view: ClassDecl, model) -> frozenset:
    """A view whose rows come from a related manager (`self.request.event.orders.filter(...)`):
    Django sets each row's parent (`order.event`) to the object the manager hangs from, so reading
    it runs no query. The forward relations of `model` whose reverse accessor is named so."""
    nodes = [view.attr_value("queryset")]
    function = view.methods.get("get_queryset")
    if function is not None:
        index.whole(decl)  # (its body may have been released: memory.py)  # what it returns, and what it builds that in (`qs = ...; return qs`)
        nodes += [node.value for node in ast.walk(function) if isinstance(node, (ast.Return, ast.Assign))]
    accessors = set()
    for node in nodes:
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value  # strip `.filter(...)`, `.all()`, `.select_related(...)`
        if isinstance(node, ast.Attribute):
            accessors.add(node.attr)
    return frozenset((name,) for accessor in accessors for name in set_by_accessor(index, model, accessor))


def set_by_accessor(index: Index, model, accessor: str, parent=None) -> list[str]:
    """The forward relations of `model` whose reverse accessor is `accessor` (on `parent`, when
    known): rows reached through that accessor have them set to the object it hangs from."""
    found = []
    for rel in model.relationships.values():
        if rel.django != "one":
            continue
        target = index.find_model(rel.target, model.module_path, rel.app_label)
        if target is None or (parent is not None and target is not parent):
            continue
        reverse = index.relationship(target, accessor)
        # The reverse accessor declared by this very field (same line, same model).
        if reverse is not None and reverse.reverse_fk and reverse.target == model.name and reverse.line == rel.line:
            found.append(rel.name)
    return found


def affected_by(decl: ModuleDecl) -> bool:
    """A module that declares or uses serializers (a class, a view's `serializer_class`, a nested
    serializer field)."""
    return "Serializer" in decl.source


def forget(index: Index) -> None:
    """Any module changed: who uses which serializer may have changed too."""
    index.plugin_caches.pop("drf.usages", None)
