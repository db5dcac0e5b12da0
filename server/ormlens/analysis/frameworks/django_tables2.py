"""django-tables2: a table renders each of its columns once per row of the data given to it.

A table class (a subclass of django-tables2's `Table`, through project bases too) whose `Meta.model`
is a model (its own `Meta` or an inherited one) renders every column for each row: a column
resolves its accessor on the row (`accessor="a__b"`, `Accessor("a.b")`, `A("a__b")`, else the
column's attribute name; a model method named there is called, a property's body runs), a
`ManyToManyColumn` (and a many-to-many field listed in `Meta.fields`) lists the related rows, the
model fields named in `Meta.fields` (every concrete field when the table's `Meta` names none) are
columns too, and the table's `render_<column>(self, value, record)` / `value_<column>` methods take
the row as their `record` parameter. A column hidden (`visible=False`), excluded (`Meta.exclude`)
or overridden in the subclass that renders the rows is left out; sorting means nothing here.

Which rows, and what their query loads: a view that declares the table (`table_class = T`, or a
project list view's `table = T`, with rows from its `queryset`, `model`, `get_queryset()` or
`get_table_data()`), a call `T(qs)` / `T(data=qs)` on a queryset of a model's manager, in a module
that imports the table (or declares it), or a subclass table that renders the rows. Every lookup
that the view's classes (or the calling function) give `select_related`/`prefetch_related`/
`Prefetch` counts as loaded (as in drf.py), and so does the parent of rows taken from a parent's
related manager (`event.talks.all()`: Django sets `talk.event`); a lookup computed at run time
there makes the rows not known. A table whose own methods add eager loading computed at run time
(a base table that loads what its visible columns name) loads every path its columns name. A table
no view or call is known to render says nothing."""

from __future__ import annotations

import ast
import re

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.dependencies import ALL_MODELS
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind, Value
from ormlens.analysis.frameworks.api import DeclaredRead, RowCallbacks
from ormlens.analysis.frameworks.classes import MAX_DEPTH, derives_from, meta_class, project_bases
from ormlens.analysis.frameworks.django_lookups import EAGER_METHODS, prefixes
from ormlens.analysis.module_names import global_expr
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm.api import Index, Interpreter
from ormlens.analysis.residency import declared_functions
from ormlens.findings import Span

NAME = "django_tables2"
PACKAGE = "django_tables2."
TABLE_BASES = frozenset({"Table"})
ACCESSORS = frozenset({"A", "Accessor"})
MANY_COLUMN = "ManyToManyColumn"
VIEW_TABLE_ATTRS = ("table_class", "table")
ROW_SOURCES = ("queryset", "model")  # class attributes that give a view its rows
ROW_METHODS = ("get_table_data", "get_queryset")
# Query methods whose rows are not model rows (the columns read dicts or tuples).
NOT_ROWS = frozenset({"values", "values_list", "raw", "none", "aggregate", "count", "exists"})
MAX_SUBCLASSES = 3
# A template's use of the cell's value whole (iterated, shown, tested), not of an attribute of it.
WHOLE_VALUE = re.compile(r"(?:\{\{|\{%[^%]*?\b(?:in|if))\s*value\s*(?:\||\}\}|%\})")
Feed = tuple  # (eager, label, path, span, shadowed column names)


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    # Per module pass: what a view's methods or a calling function load is read from their bodies,
    # which an edit may change without changing any declaration (they are read as function
    # dependencies).
    path, table = cls
    index = b.project
    decl = index.decl(path)
    if decl is None or "Table" not in decl.source and "tables" not in decl.source or \
            not is_table(index, decl, table):
        return None
    return rows_of(index, decl, table, b.plugin_data.setdefault("django_tables2", {}))


def tables2_name(value: Value) -> str:
    """The name of a django-tables2 library value (`django_tables2.Column` -> "Column"), or ""."""
    return value.name.rsplit(".", 1)[-1] if value.kind is Kind.EXTERNAL and value.name.startswith(PACKAGE) else ""


def is_table(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return derives_from(index, decl, cls, lambda value: tables2_name(value) in TABLE_BASES)


def rows_of(index: Index, decl: ModuleDecl, table: ClassDecl, cache: dict) -> RowCallbacks | None:
    model = table_model(index, decl, table)
    if model is None:
        return None
    feeds = feeds_of(index, decl, table, model, 0, cache)
    # What is reported must be rendered without being loaded for one feed at least: the feeds that
    # render every column when there are some, else every feed and only what none of them drops.
    feeds = [feed for feed in feeds if not feed[4]] or feeds
    if not feeds:
        return None
    eager: frozenset[tuple[str, ...]] | None = None
    shadowed: set[str] = set()
    for feed_eager, _, _, _, feed_shadowed in feeds:
        eager = feed_eager if eager is None else eager & feed_eager
        shadowed |= feed_shadowed
    _, label, feed_path, span, _ = min(feeds, key=lambda feed: len(feed[0]))
    if len(feeds) > 1:
        label = label.split(" (and ")[0] + f" (and {len(feeds) - 1} more)"
    columns = own_columns(index, decl, table, model, cache)
    reads = tuple(read for name, read in columns if name not in shadowed)
    known = column_names(index, decl, table, model)
    methods: dict[str, int] = {}
    for name, function in table.methods.items():
        prefix, _, column = name.partition("_")
        if prefix in ("render", "value") and column in known and name not in shadowed:
            positional = [*function.args.posonlyargs, *function.args.args]
            where = next((i for i, arg in enumerate(positional) if arg.arg == "record"), None)
            if where is not None and where > 0:
                methods[name] = where
    if not reads and not methods:
        return None
    return RowCallbacks(model, eager, methods, reads, label, feed_path, span)


# --- the table: its model, its columns and what they read ------------------------------------------


def meta_option(index: Index, decl: ModuleDecl, meta: ast.ClassDef, option: str, depth: int = 0):
    """(module, value node) of `option` in a `Meta` class or the `Meta` classes it derives from
    (`class Meta(BaseTable.Meta)`); None when not set."""
    for stmt in meta.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if \
            isinstance(stmt, ast.AnnAssign) and stmt.value is not None else []
        if any(isinstance(t, ast.Name) and t.id == option for t in targets):
            return decl, stmt.value
    for base in meta.bases if depth < MAX_DEPTH else ():
        if isinstance(base, ast.Attribute) and base.attr == "Meta":
            owner = index.eval_static(decl, base.value)
            if owner.kind is Kind.CLASS and isinstance(owner.ref, tuple):
                base_decl = index.decl(owner.ref[0])
                found = meta_class(index, base_decl, owner.ref[1]) if base_decl is not None else None
                if found is not None:
                    value = meta_option(index, found[0], found[1], option, depth + 1)
                    if value is not None:
                        return value
    return None


def table_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    meta = meta_class(index, decl, cls)
    found = meta_option(index, meta[0], meta[1], "model") if meta is not None else None
    if found is None:
        return None
    value = index.eval_static(found[0], found[1])
    return value.model if value.kind is Kind.MODEL_CLASS else None


def own_meta(cls: ClassDecl) -> ast.ClassDef | None:
    return next((stmt for stmt in cls.node.body if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"), None)


def names_in(node: ast.expr | None) -> list[tuple[str, ast.expr]] | None:
    """The strings of a literal tuple or list (None when it is not one)."""
    if not isinstance(node, (ast.Tuple, ast.List)):
        return None
    return [(e.value, e) for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def excluded(index: Index, decl: ModuleDecl, cls: ClassDecl) -> set[str]:
    """The columns the table's own `Meta.exclude` leaves out (django-tables2 reads its own `Meta`)."""
    meta = own_meta(cls)
    found = meta_option(index, decl, meta, "exclude") if meta is not None else None
    return {name for name, _ in names_in(found[1]) or []} if found is not None else set()


def column_call(index: Index, decl: ModuleDecl, value: ast.expr | None, cache: dict) -> tuple[str, bool] | None:
    """For a column declaration (`tables.Column(...)`, a project column class): the django-tables2
    column class it is or derives from, and whether the project class chooses its own accessor
    (its `__init__` names one); None when `value` declares no column."""
    if not isinstance(value, ast.Call) or not isinstance(value.func, (ast.Name, ast.Attribute)):
        return None
    callee = index.eval_static(decl, value.func)
    name = tables2_name(callee)
    if name:
        return (name, False) if name.endswith("Column") else None
    if callee.kind is not Kind.CLASS or not isinstance(callee.ref, tuple):
        return None
    key = ("column", callee.ref[0], callee.ref[1].name)
    if key not in cache:
        cache[key] = library_column(index, callee.ref[0], callee.ref[1], 0)
    return cache[key]


def library_column(index: Index, path: str, cls: ClassDecl, depth: int) -> tuple[str, bool] | None:
    decl = index.decl(path)
    if decl is None:
        return None
    init = cls.methods.get("__init__")
    custom = init is not None and text_of(index, decl, ("function", f"{cls.name}.__init__"), init).accessor
    for base in cls.bases:
        name = tables2_name(index.eval_static(decl, base))
        if name.endswith("Column"):
            return name, custom
    for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
        found = library_column(index, base_decl.path, base, depth + 1)
        if found is not None:
            return found[0], custom or found[1]
    return None


def accessor_of(index: Index, decl: ModuleDecl, value: ast.expr) -> str | None:
    """The text of an accessor: `"a__b"`, `Accessor("a.b")`, `A("a__b")`; None when not literal."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Constant) and \
            isinstance(value.args[0].value, str) and tables2_name(index.eval_static(decl, value.func)) in ACCESSORS:
        return value.args[0].value
    return None


def accessor_steps(text: str) -> tuple[str, ...]:
    """The attributes an accessor reads, in order (up to a list index or anything else)."""
    steps: list[str] = []
    for part in text.split("." if "." in text else "__"):
        if not part.isidentifier():
            break
        steps.append(part)
    return tuple(steps)


def declared_columns(index: Index, decl: ModuleDecl, cls: ClassDecl, cache: dict):
    """(name, accessor steps or None when not known, column class, keyword or call node) of each
    column the class body declares."""
    for attr, _, value, _ in cls.attrs:
        found = column_call(index, decl, value, cache)
        if found is None:
            continue
        assert isinstance(value, ast.Call)
        if any(kw.arg == "visible" and isinstance(kw.value, ast.Constant) and kw.value.value is False
               for kw in value.keywords):
            continue
        keyword = next((kw for kw in value.keywords if kw.arg == "accessor"), None)
        given = keyword.value if keyword is not None else None
        if given is None and len(value.args) > 1 and found[0] == "Column" and not found[1]:
            given = value.args[1]  # Column(verbose_name, accessor, ...)
        if given is not None:
            text = accessor_of(index, decl, given)
            yield attr, accessor_steps(text) if text is not None else None, found[0], keyword or value
        else:
            yield attr, None if found[1] else (attr,), found[0], value


def own_columns(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo, cache: dict):
    """(column name, DeclaredRead) of each column this class declares: in its body, by its own
    `Meta.fields`, or every concrete field when its own `Meta` names the model and no fields."""
    gone = excluded(index, decl, table)
    declared = {}
    calls = {attr: value for attr, _, value, _ in table.attrs}
    for name, steps, kind, node in declared_columns(index, decl, table, cache):
        declared[name] = steps
        if name in gone or not steps:
            continue
        shown = renders_value(index, decl, table, name, calls.get(name))
        read = row_read(index, model, steps, kind == MANY_COLUMN, node, cache, shown)
        if read is not None:
            yield name, read
    meta = own_meta(table)
    if meta is None:
        return
    inherited = {name for base_decl, base in project_bases(index, decl, table)
                 for name in all_declared(index, base_decl, base, cache, 1)}
    fields = meta_option(index, decl, meta, "fields")
    if fields is not None:
        if not any(getattr(stmt, "value", None) is fields[1] for stmt in meta.body):
            return  # named in a base table's Meta: found there, not here
        for name, node in names_in(fields[1]) or []:
            if name in declared or name in inherited or name in gone:
                continue
            steps = accessor_steps(name)
            if steps:
                # (not a model field: django-tables2 makes it a plain `Column`, which shows its value)
                shown = not any(f"render_{name}" in cls.methods for cls in [table, *(
                    base for _, base in project_bases(index, decl, table))])
                read = row_read(index, model, steps, many_field(index, model, steps), node, cache, shown)
                if read is not None:
                    yield name, read
        return
    model_node = next((stmt.value for stmt in meta.body if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "model" for t in stmt.targets)), None)
    if model_node is None:
        return
    for name, rel in model.relationships.items():
        if rel.django == "one" and f"{name}_id" in model.columns and not (
                name in declared or name in inherited or name in gone):
            yield name, DeclaredRead((name,), False, model_node)


def all_declared(index: Index, decl: ModuleDecl, cls: ClassDecl, cache: dict, depth: int) -> set[str]:
    names = {name for name, _, _, _ in declared_columns(index, decl, cls, cache)}
    for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
        names |= all_declared(index, base_decl, base, cache, depth + 1)
    return names


def column_names(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo) -> set[str]:
    """Every column the table has (declared here or in a base table, or named by `Meta.fields`)."""
    names = all_declared(index, decl, table, {}, 0)
    meta = meta_class(index, decl, table)
    fields = meta_option(index, meta[0], meta[1], "fields") if meta is not None else None
    if fields is not None:
        names |= {name for name, _ in names_in(fields[1]) or []}
    else:
        names |= set(model.columns) | set(model.relationships)
    return names - excluded(index, decl, table)


def column_paths(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo) -> set[tuple[str, ...]]:
    """Every path (and its prefixes) the table's columns read."""
    paths: set[tuple[str, ...]] = set()
    cache: dict = {}
    pending = [(decl, table, 0)]
    while pending:
        cls_decl, cls, depth = pending.pop()
        for name, steps, _, _ in declared_columns(index, cls_decl, cls, cache):
            path = steps or (name,)
            paths.update(path[:i] for i in range(1, len(path) + 1))
        meta = own_meta(cls)
        fields = meta_option(index, cls_decl, meta, "fields") if meta is not None else None
        for name, _ in names_in(fields[1]) or [] if fields is not None else []:
            steps = accessor_steps(name)
            paths.update(steps[:i] for i in range(1, len(steps) + 1))
        if depth < MAX_DEPTH:
            pending += [(base_decl, base, depth + 1) for base_decl, base in project_bases(index, cls_decl, cls)]
    meta = meta_class(index, decl, table)
    if meta is not None and meta_option(index, meta[0], meta[1], "fields") is None:
        paths |= {(name,) for name in model.relationships}  # (every concrete field is a column)
    return paths


def row_read(index: Index, model: ModelInfo, steps: tuple[str, ...], many: bool, node: ast.AST,
             cache: dict, shown: bool = False) -> DeclaredRead | None:
    """The read an accessor makes on a row: a method named on the way is called (the accessor calls
    what it finds callable); what follows it is not followed. A column that shows its value whole
    (`shown`: renders_value) evaluates what a model property or method at the end of the path
    gives: a query it returns unevaluated runs there (read as listing it)."""
    current: ModelInfo | None = model
    for i, step in enumerate(steps):
        if current is None:
            break
        rel = current.relationships.get(step)
        if rel is not None:
            targets = index.models_named(rel.target)
            current = targets[0] if len(targets) == 1 else None
            continue
        key = ("method", id(current), step)
        if key not in cache:
            cache[key] = is_method(index, current, step)
        if cache[key]:
            return DeclaredRead(steps[:i + 1], shown and i == len(steps) - 1, node, call=True)
        if shown and i == len(steps) - 1 and step not in current.columns:
            return DeclaredRead(steps, True, node)  # a property (its value evaluated: .all() of a list is nothing)
        current = None
    return DeclaredRead(steps, many, node)


def renders_value(index: Index, decl: ModuleDecl, table: ClassDecl, name: str, call: ast.expr | None) -> bool:
    """Does the column show its value whole, so that a query given as the value runs? django-tables2's
    own `Column` renders it as text (`str()` of a queryset runs it); a `TemplateColumn` whose literal
    template uses `value` other than by an attribute (`{% for x in value %}`, `{{ value }}`). Not a
    project column class (its `render` may do anything) nor a table's `render_<column>`."""
    if not isinstance(call, ast.Call) or f"render_{name}" in table.methods:
        return False
    kind = tables2_name(index.eval_static(decl, call.func))
    if kind == "Column":
        return not any(f"render_{name}" in base.methods for _, base in project_bases(index, decl, table))
    if kind != "TemplateColumn":
        return False
    given = next((kw.value for kw in call.keywords if kw.arg == "template_code"), call.args[0] if call.args else None)
    found = global_expr(index, decl, given) if isinstance(given, (ast.Name, ast.Attribute)) else (decl, given)
    template = found[1] if found is not None else None
    return isinstance(template, ast.Constant) and isinstance(template.value, str) and \
        WHOLE_VALUE.search(template.value) is not None


def is_method(index: Index, model: ModelInfo, name: str) -> bool:
    """Is `name` a method of the model class (not a property: the accessor calls a method)?"""
    found = index.class_of(model)
    pending = [found] if found is not None else []
    for _ in range(MAX_DEPTH * 2):
        if not pending:
            break
        path, cls = pending.pop(0)
        function = cls.methods.get(name)
        if function is not None:
            return not any(last_name(d) in ("property", "cached_property") for d in function.decorator_list)
        decl = index.decl(path)
        if decl is not None:
            pending += [(base_decl.path, base) for base_decl, base in project_bases(index, decl, cls)]
    return False


def many_field(index: Index, model: ModelInfo, steps: tuple[str, ...]) -> bool:
    """Does a `Meta.fields` entry name a many-to-many field (django-tables2 lists it)?"""
    current: ModelInfo | None = model
    for step in steps[:-1]:
        rel = current.relationships.get(step) if current is not None else None
        targets = index.models_named(rel.target) if rel is not None else []
        current = targets[0] if len(targets) == 1 else None
    rel = current.relationships.get(steps[-1]) if current is not None else None
    return rel is not None and rel.django == "many" and not rel.reverse_fk


# --- what is loaded: eager-loading calls read from code ------------------------------------------------


class Text:
    """What is read of a piece of code (a class body, a function), in one walk, as plain data (a
    body may be released once read): the lookups its eager-loading calls name (`eager`), whether
    one is computed at run time (`dynamic`: a name, a starred list, a project helper around them)
    or is a bare `select_related()` (`everything`), the attribute and call names it writes, and
    for a function the values assigned to each name and the values it returns."""

    def __init__(self, node: ast.AST, function: bool = False) -> None:
        self.eager: set[tuple[str, ...]] = set()
        self.dynamic = self.everything = False
        self.attrs: set[str] = set()
        self.called: set[str] = set()
        self.assigned: dict[str, list[ast.expr]] = {}
        self.returns: list[ast.expr] = []
        self.accessor = False  # an `accessor=` or "accessor" is written (a column class choosing its own)
        for child in ast.walk(node):
            if isinstance(child, ast.Attribute):
                self.attrs.add(child.attr)
            elif isinstance(child, ast.keyword) and child.arg == "accessor" or \
                    isinstance(child, ast.Constant) and child.value == "accessor":
                self.accessor = True
            elif isinstance(child, ast.Call):
                self.call(child)
            elif function and isinstance(child, ast.Assign):
                for target in child.targets:
                    # (not `qs = self.filter_queryset(qs)`: that keeps the rows of one model)
                    if isinstance(target, ast.Name) and not any(
                            isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(child.value)):
                        self.assigned.setdefault(target.id, []).append(child.value)
            elif function and isinstance(child, ast.Return) and child.value is not None:
                self.returns.append(child.value)

    def call(self, call: ast.Call) -> None:
        name = last_name(call.func)
        self.called.add(name)
        prefetch = name.endswith("Prefetch")  # Prefetch, GenericPrefetch
        if name not in EAGER_METHODS and not prefetch:
            self.dynamic = self.dynamic or "select_related" in name or "prefetch_related" in name
            return
        if not call.args and not call.keywords and not prefetch:
            self.everything = True  # a bare select_related(): every non-null relation
        for arg in call.args[:1] if prefetch else call.args:
            if isinstance(arg, ast.Call) and last_name(arg.func).endswith("Prefetch"):
                continue  # (read as a call of its own)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.eager.update(prefixes(arg.value))
            elif not (isinstance(arg, ast.Constant) and arg.value is None):  # (None clears)
                self.dynamic = True

    @property
    def found(self) -> tuple[frozenset[tuple[str, ...]], bool] | None:
        """(lookups, dynamic); None for a bare `select_related()`."""
        return None if self.everything else (frozenset(self.eager), self.dynamic)


def text_of(index: Index, decl: ModuleDecl, key: tuple, node: ast.AST, function: bool = False) -> Text:
    """The Text of a node of `decl`, kept across passes while the module's text is the same
    (what reads it still reads it as a dependency of its own pass: read_function)."""
    cache = index.plugin_caches.setdefault("django_tables2.text", {})
    hit = cache.get((decl.path, key))
    if hit is not None and hit[0] is decl.source:
        return hit[1]
    restore(index, decl, node)
    text = Text(node, function)
    cache[(decl.path, key)] = (decl.source, text)
    return text


def restore(index: Index, decl: ModuleDecl, node: ast.AST) -> None:
    """Put back the bodies of the functions in `node` that were released (memory.py): each from
    its own lines when the index can (a large module is not parsed again whole for one class)."""
    body = getattr(index, "body", None)
    if body is None:
        index.whole(decl)
        return
    for function in [node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
            declared_functions(getattr(node, "body", [])):
        body(decl, function)


def parents_known(model: ModelInfo, names: set[str]) -> set[tuple[str, ...]]:
    """The forward relations of rows taken from their parent's related manager (`event.talks`):
    Django sets the parent on each row. Any attribute named (`names`) as a reverse accessor counts."""
    found = set()
    for _, backref in model.extra_backrefs:
        if backref.reverse_fk and backref.name in names:
            forward = next((name for name, rel in model.relationships.items()
                            if rel.line == backref.line and rel.django == "one"), None)
            if forward is not None:
                found.add((forward,))
    return found


def class_eager(index: Index, decl: ModuleDecl, cls: ClassDecl, cache: dict, depth: int = 0):
    """What the eager-loading calls in a class's body and its project bases' name (Text.found), and
    the attribute and call names written there; their methods are read as function dependencies
    (an edit of one counts)."""
    key = ("class", decl.path, cls.name)
    if key in cache:
        return cache[key]
    cache[key] = (frozenset(), False), set(), set()  # (a cycle)
    for name in cls.methods:
        index.read_function(FunctionRef(decl.path, f"{cls.name}.{name}"))
    text = text_of(index, decl, ("class", cls.name), cls.node)
    found, attrs, called = text.found, set(text.attrs), set(text.called)
    if found is not None:
        eager, dynamic = set(found[0]), found[1]
        for base_decl, base in project_bases(index, decl, cls) if depth < MAX_DEPTH else ():
            inherited, base_attrs, base_called = class_eager(index, base_decl, base, cache, depth + 1)
            attrs, called = attrs | base_attrs, called | base_called
            if inherited is None:
                found = None
                break
            eager |= inherited[0]
            dynamic = dynamic or inherited[1]
        else:
            found = frozenset(eager), dynamic
    cache[key] = found, attrs, called
    return cache[key]


def table_eager(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo, cache: dict):
    """What the table itself loads: the lookups its methods (and its base tables') name, and every
    path its columns read when one of them loads what is computed at run time."""
    found, _, _ = class_eager(index, decl, table, cache)
    if found is None:
        return None
    eager, dynamic = found
    return eager | column_paths(index, decl, table, model) if dynamic else eager


# --- who renders a table's rows --------------------------------------------------------------------


def usages(index: Index) -> dict:
    """By a table class's (path, name): ("view", view decl, view class, the `table_class` value),
    ("subclass", decl, class); by ("importer", path, name) or ("module", path): the modules that
    import that class, or that module (they may call the table)."""
    # (As the list of every model: it depends on every module read; see affected_by.)
    index.dependencies.read(ALL_MODELS)
    cache = index.plugin_caches.setdefault("django_tables2.usages", {})
    loaded = len(index.loaded())  # (a module read for the first time may use a table)
    if cache.get("loaded") == loaded:
        return cache["all"]
    found: dict = {}
    with index.dependencies.computing(ALL_MODELS):  # (what it reads is read by the list, as models are)
        scan_usages(index, found)
    cache["all"], cache["loaded"] = found, loaded
    return found


def scan_usages(index: Index, found: dict) -> None:
    decls = [decl for decl in map(index.decl, index.loaded()) if decl is not None and affected_by(decl)]
    if not any("django_tables2" in decl.source for decl in decls):
        return
    known: dict = {}
    found["names"] = {cls.name for decl in decls for cls in decl.classes.values()
                      if derives_table(index, decl, cls, known, 0)}
    for decl in decls:
        for cls in decl.classes.values():
            for base_decl, base in project_bases(index, decl, cls):
                found.setdefault((base_decl.path, base.name), []).append(("subclass", decl, cls))
            for attr, _, value, _ in cls.attrs:
                if attr in VIEW_TABLE_ATTRS and isinstance(value, (ast.Name, ast.Attribute)):
                    target = index.eval_static(decl, value)
                    if target.kind is Kind.CLASS and isinstance(target.ref, tuple):
                        found.setdefault((target.ref[0], target.ref[1].name), []).append(("view", decl, cls, value))
        for local, ref in decl.imports.items():
            if "table" not in f"{ref.module}.{ref.name}".lower():
                continue
            target = index.eval_static(decl, ast.Name(id=local, ctx=ast.Load()))
            if target.kind is Kind.CLASS and isinstance(target.ref, tuple):
                found.setdefault(("importer", target.ref[0], target.ref[1].name), set()).add(decl.path)
            elif target.kind is Kind.MODULE and isinstance(target.ref, str):
                found.setdefault(("module", target.ref), set()).add(decl.path)


def derives_table(index: Index, decl: ModuleDecl, cls: ClassDecl, known: dict, depth: int) -> bool:
    """is_table, remembered for each class (the scan asks it of every class)."""
    key = (decl.path, cls.name)
    if key not in known:
        known[key] = False  # (a cycle)
        known[key] = any(tables2_name(index.eval_static(decl, base)) in TABLE_BASES for base in cls.bases) or \
            depth < MAX_DEPTH and any(derives_table(index, base_decl, base, known, depth + 1)
                                      for base_decl, base in project_bases(index, decl, cls))
    return known[key]


def feeds_of(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo, depth: int,
             cache: dict) -> list[Feed]:
    """The rows the table is rendered for: (eager, label, path, span, columns the renderer drops)."""
    key = ("feeds", decl.path, table.name)
    if key in cache:
        return cache[key]
    cache[key] = []  # (a cycle)
    own = table_eager(index, decl, table, model, cache)
    found: list[Feed] = []
    if own is not None:
        found += [(eager | own, label, path, span, gone) for eager, label, path, span, gone in
                  [*view_feeds(index, decl, table, model, cache), *call_feeds(index, decl, table, model, cache)]]
    subclasses = [use for use in usages(index).get((decl.path, table.name), []) if use[0] == "subclass"]
    for _, sub_decl, sub in subclasses[:MAX_SUBCLASSES * 10] if depth < MAX_SUBCLASSES else ():
        if table_model(index, sub_decl, sub) not in (None, model):
            continue  # the subclass renders another model's rows
        shadowed = {attr for attr, _, _, _ in sub.attrs} | set(sub.methods) | excluded(index, sub_decl, sub)
        for eager, label, path, span, more in feeds_of(index, sub_decl, sub, model, depth + 1, cache):
            found.append((eager, label, path, span, shadowed | more))
    cache[key] = found
    return found


def view_feeds(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo, cache: dict):
    for use in usages(index).get((decl.path, table.name), []):
        if use[0] != "view":
            continue
        _, view_decl, view, value = use
        rows = view_rows(index, view_decl, view, model)
        if rows is None:
            continue
        found, attrs, called = class_eager(index, view_decl, view, cache)
        found = with_managers(index, model, called, found)
        if found is None or found[1]:
            continue  # loads everything, or what is computed at run time: not known
        label = f"the {model.name} rows of {view.name}" if rows == "model" else f"{view.name}.{rows}"
        yield (found[0] | parents_known(model, attrs), f"{label}, rendered row by row", view_decl.path,
               Span.of(value), set())


def view_rows(index: Index, decl: ModuleDecl, view: ClassDecl, model: ModelInfo, depth: int = 0) -> str | None:
    """Where a view that declares a table takes its rows (`get_queryset()`, `queryset`, `model`);
    None when it is no such view, or its rows are another model's or not a query's."""
    if depth == 0 and is_table(index, decl, view):
        return None
    if view.attr_value("table_data") is not None:
        return None  # rows given as they are (a list)
    if "get_table" in view.methods:
        index.read_function(FunctionRef(decl.path, f"{view.name}.get_table"))
        text = text_of(index, decl, ("function", f"{view.name}.get_table"), view.methods["get_table"])
        if "get_table" not in text.called:
            return None  # it makes the table itself, of data of its own (a call of the table is read as such)
    for name in ROW_METHODS:
        if name in view.methods:
            return f"{name}()" if returns_model(index, decl, view, name) in (None, model) else None
    for name in ROW_SOURCES:
        value = view.attr_value(name)
        if value is None and any(attr == name for attr, _, _, _ in view.attrs):
            return name  # declared (`queryset: QuerySet`), set at run time
        if value is None or isinstance(value, ast.Constant) and value.value is None:
            continue
        if name == "model":
            given = index.eval_static(decl, value)
            rows_model = given.model if given.kind is Kind.MODEL_CLASS else None
        else:
            rows_model = manager_model(index, decl, value, None)
        return name if rows_model is None or rows_model is model else None
    for base_decl, base in project_bases(index, decl, view) if depth < MAX_DEPTH else ():
        found = view_rows(index, base_decl, base, model, depth + 1)
        if found is not None:
            return found
    return None


def returns_model(index: Index, decl: ModuleDecl, view: ClassDecl, name: str):
    """The model of the rows a view's method returns, when its returns are built on one model's
    manager; None when not known; False when they are of several models."""
    index.read_function(FunctionRef(decl.path, f"{view.name}.{name}"))  # (an edit of it counts)
    text = text_of(index, decl, ("function", f"{view.name}.{name}"), view.methods[name], function=True)
    found = {manager_model(index, decl, value, text.assigned) for value in text.returns}
    found.discard(None)
    return found.pop() if len(found) == 1 else None if not found else False


def manager_model(index: Index, decl: ModuleDecl, node: ast.expr, assigned: dict[str, list[ast.expr]] | None,
                  depth: int = 0) -> ModelInfo | None:
    """The model of a query built on a model's manager (`Book.objects.filter(...)`, or a name
    `assigned` one in its function); None for anything else (a related manager, a call's result, dicts)."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in NOT_ROWS:
                return None
            node = node.func.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            owner = index.eval_static(decl, node.value)
            return owner.model if owner.kind is Kind.MODEL_CLASS else None
        elif isinstance(node, ast.Name) and assigned is not None and depth < 3:
            values = assigned.get(node.id, [])
            models = {manager_model(index, decl, value, assigned, depth + 1) for value in values}
            return models.pop() if len(models) == 1 else None
        else:
            return None


def with_managers(index: Index, model: ModelInfo, called: set[str], found):
    """`found` (Text.found), with what the model's project manager and queryset methods `called`
    load (`Book.objects.with_authors()`)."""
    if found is None:
        return None
    eager, dynamic = set(found[0]), found[1]
    pending = [(path, cls, 0) for classes in model.managers.values() for path, cls in classes]
    seen = set()
    while pending:
        path, cls, depth = pending.pop()
        if (path, cls.name) in seen:
            continue
        seen.add((path, cls.name))
        decl = index.decl(path)
        if decl is None:
            continue
        for name in called & set(cls.methods):
            index.read_function(FunctionRef(path, f"{cls.name}.{name}"))
            more = text_of(index, decl, ("function", f"{cls.name}.{name}"), cls.methods[name]).found
            if more is None:
                return None
            eager |= more[0]
            dynamic = dynamic or more[1]
        if depth < MAX_DEPTH:
            pending += [(base_decl.path, base, depth + 1) for base_decl, base in project_bases(index, decl, cls)]
    return frozenset(eager), dynamic


def call_feeds(index: Index, decl: ModuleDecl, table: ClassDecl, model: ModelInfo, cache: dict):
    """`T(qs)` / `T(data=qs)` in a function of a module that imports the table (or declares it)."""
    uses = usages(index)
    callers = {decl.path} | uses.get(("importer", decl.path, table.name), set()) | uses.get(("module", decl.path), set())
    for path in sorted(callers):
        caller = index.decl(path)
        if caller is None or table.name not in caller.source:
            continue
        names = {table.name} | {local for local, ref in caller.imports.items() if ref.name == table.name}
        for qualname, call in calls_in(index, caller, uses.setdefault("names", set()), cache):
            if last_name(call.func) not in names:
                continue
            target = index.eval_static(caller, call.func)
            if not (target.kind is Kind.CLASS and isinstance(target.ref, tuple) and target.ref[0] == decl.path
                    and target.ref[1].name == table.name):
                continue
            data = call.args[0] if call.args else next((kw.value for kw in call.keywords if kw.arg == "data"), None)
            function = caller.function_node(qualname)[0]
            if data is None or function is None:
                continue
            text = text_of(index, caller, ("function", qualname), function, function=True)
            if manager_model(index, caller, data, text.assigned) is not model:
                continue
            found = with_managers(index, model, text.called, text.found)
            if found is None or found[1]:
                continue
            rows = ast.unparse(data)
            rows = rows if len(rows) <= 60 else rows[:57] + "..."
            gone = next(({name for name, _ in names_in(kw.value) or []} for kw in call.keywords
                         if kw.arg == "exclude"), set())  # (columns this call leaves out)
            yield (found[0] | parents_known(model, text.attrs), f"the rows of {last_name(call.func)}({rows})",
                   path, Span.of(call), gone)


def calls_in(index: Index, decl: ModuleDecl, tables: set[str], cache: dict) -> list[tuple[str, ast.Call]]:
    """(qualname of its function, call) of each call of a table class (by the names `tables` of
    every table class, or an import's alias of one) in the module's functions and methods, kept
    across passes while the module's text is the same; each function is read as a dependency of
    this pass (an edit of one counts, a call added there too)."""
    if ("calls", decl.path) not in cache:
        cache[("calls", decl.path)] = True
        for qualname, _ in functions(decl):
            index.read_function(FunctionRef(decl.path, qualname))
    texts = index.plugin_caches.setdefault("django_tables2.text", {})
    hit = texts.get((decl.path, ("calls",)))
    if hit is not None and hit[0] is decl.source and hit[1] is tables:
        return hit[2]
    names = tables | {local for local, ref in decl.imports.items() if ref.name in tables}
    index.whole(decl)  # (its bodies may have been released: memory.py)
    found = [(qualname, node) for qualname, function in functions(decl) for node in ast.walk(function)
             if isinstance(node, ast.Call) and last_name(node.func) in names and
             isinstance(node.func, (ast.Name, ast.Attribute))]
    texts[(decl.path, ("calls",))] = (decl.source, tables, found)
    return found


def functions(decl: ModuleDecl):
    """(qualname, node) of the module's functions and its classes' methods."""
    yield from decl.functions.items()
    for cls in decl.classes.values():
        for name, method in cls.methods.items():
            yield f"{cls.name}.{name}", method


def affected_by(decl: ModuleDecl) -> bool:
    """A module that may declare, use or import tables (a class, a view's `table_class`, an import)."""
    return "table" in decl.source.lower()


def forget(index: Index) -> None:
    """Any module changed: who uses which table may have changed too (and so which calls of a
    table are kept: calls_in)."""
    index.plugin_caches.pop("django_tables2.usages", None)
    index.plugin_caches.pop("django_tables2.text", None)
