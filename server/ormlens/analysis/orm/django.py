"""Django: models' managers and querysets, related managers, `Prefetch`, `apps.get_model` (also
in migrations), and when a queryset runs (iterated, listed, counted, tested, indexed)."""

from __future__ import annotations

import ast
import functools
from dataclasses import replace

from ormlens.analysis.astutil import inside, is_none, last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.facts import InCall, LoopScope, RelationshipRead
from ormlens.analysis.flow import (
    UNKNOWN,
    Kind,
    QueryInfo,
    RelatedManager,
    Size,
    Value,
    eager_below,
    eager_covers,
    merge_deps,
    schema_collection,
    unknown,
)
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm import django_models
from ormlens.analysis.orm.api import Index, Interpreter, LazyLoadAdvice
from ormlens.analysis.orm.django_models import (
    DJANGO_CACHED_EVALUATIONS,
    DJANGO_GET_MODEL,
    DJANGO_GET_OR_404,
    DJANGO_HISTORICAL_APPS,
    DJANGO_IMPLICIT_MANAGERS,
    DJANGO_NULL_EXCLUDING_LOOKUPS,
    DJANGO_OPTIONS,
    DJANGO_PREFETCH,
    DJANGO_Q,
    DJANGO_QUERYSET_BUILDERS,
    DJANGO_QUERYSET_TERMINALS,
    DJANGO_RUN_PYTHON,
    DJANGO_VALUES_METHODS,
    DJANGO_WRITE_METHODS,
    SCHEMA_COLLECTION_METHODS,
    forget,  # noqa: F401 - a hook
)
from ormlens.findings import Span
from ormlens.fixes.plans import DjangoBatchPlan, DjangoBatchQuery, DjangoChunkPlan, DjangoEagerPlan

STYLE = "django"
# The kinds of values whose methods it answers, what it evaluates, the packages whose functions it knows.
METHOD_KINDS = frozenset({Kind.QUERY, Kind.SCHEMA})
EVALUATE_KINDS = SUBSCRIPT_KINDS = frozenset({Kind.QUERY})
PACKAGES = frozenset({"django", "django_tenants", "tenant_schemas"})
# GeoDjango's model module re-exports Django's (`from django.contrib.gis.db import models`).
MODULE_ALIASES = {"django.contrib.gis.db.models": "django.db.models"}
# Enumerations: a subclass's members are a closed set (model_index.is_enum_class), and so are the
# lists of them its class gives (`Status.choices`, `.values`, `.labels`, `.names`).
ENUM_BASES = frozenset(f"django.db.models{module}.{name}" for module in ("", ".enums")
                       for name in ("Choices", "TextChoices", "IntegerChoices"))
CHOICES_LISTS = frozenset({"choices", "values", "labels", "names"})


# --- the hooks (orm/__init__.py) ------------------------------------------------------------------


def method_call(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value],
                kwargs: dict[str | None, Value]) -> Value | None:
    if is_queryset(base):
        return django_method(b, node, base, method, args)
    if base.kind is Kind.SCHEMA and method in SCHEMA_COLLECTION_METHODS:  # `_meta.get_fields()`
        return schema_collection(base.deps)
    return None


# Calls that switch the connection to a tenant's schema (django-tenants, django-tenant-schemas):
# as a context manager for its block, or for what follows (`connection.set_tenant(tenant)`).
TENANT_SWITCHES = frozenset({
    *(f"{package}.utils.{name}" for package in ("django_tenants", "tenant_schemas")
      for name in ("schema_context", "tenant_context")),
    *(f"django.db.connection.{name}" for name in ("set_tenant", "set_schema")),
})


def function_call(b: Interpreter, node: ast.Call, name: str, args: list[Value]) -> Value | None:
    if name in TENANT_SWITCHES:
        # One schema per item: what runs in it cannot be batched across items.
        b.route(node, merge_deps([*args, *(b.values.get(id(kw.value), UNKNOWN) for kw in node.keywords)]))
        return None
    return django_call(b, node, name, args) if name.startswith("django.") else None


def attribute(b: Interpreter, node: ast.Attribute, base: Value, attr: str) -> Value | None:
    if attr == DJANGO_OPTIONS:  # a model's or a row's `_meta`: the schema, not data
        return Value(kind=Kind.SCHEMA, deps=base.deps)
    if attr in CHOICES_LISTS and base.kind is Kind.CLASS and isinstance(base.ref, tuple) and \
            b.project.is_enum_class(*base.ref):
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=base.deps)  # `Status.choices`
    if base.kind is Kind.MODEL_CLASS and base.model is not None and base.model.django:
        managers = base.model.managers
        if attr in managers or attr in DJANGO_IMPLICIT_MANAGERS:
            return django_manager(b, node, base.model, managers.get(attr, ()))
    if base.kind is Kind.EXTERNAL and (attr == "objects" or attr in DJANGO_IMPLICIT_MANAGERS):
        model = library_model(b.decl, base.name)
        if model is not None:
            return django_manager(b, node, model, ())
    return None


def relationship(b: Interpreter, node: ast.Attribute, row: Value, rel, target) -> Value | None:
    if rel.django != "many":
        return None
    # A related manager: reading it runs nothing.
    if target is None:
        return unknown(row.deps)
    model = row.model
    manager = django_manager(b, node, target, target.managers.get("objects", ()))
    if manager.query is None:  # `objects` is not a manager the analysis knows (wger: a plain attribute)
        return unknown(row.deps)
    # A reverse ForeignKey manager's querysets (through any filter/select_related clone) give
    # rows whose parent is already set (Django's known related objects).
    # One row's collection: an IN list made from its rows is small (`capped`).
    return manager.but(deps=row.deps, via=model.name if rel.reverse_fk else None, capped=row.kind is Kind.ROW,
                       query=replace(manager.query, related=RelatedManager(row, model, rel)))


def evaluate(b: Interpreter, node: ast.AST, value: Value, how: str, expression: ast.AST,
             header: Span | None = None) -> Value | None:
    if not is_queryset(value):
        return None
    if how == "iter":  # iter(qs) / reversed(qs): its rows, as an iterator
        return django_execute(b, node, value, "list", expression).but(iterator=True)
    return django_execute(b, node, value, how, expression, header=header)


def subscript(b: Interpreter, node: ast.Subscript, base: Value, deps: frozenset[int]) -> Value | None:
    if not is_queryset(base) or not isinstance(node.ctx, ast.Load):
        return None
    if not isinstance(node.slice, ast.Slice):  # qs[0]: runs a query for one row
        if id(base) in b.evaluated_querysets:  # ... unless its result cache is filled
            return Value(kind=Kind.ROW, model=base.model, deps=deps) if base.model and not base.tuples \
                else unknown(deps)
        return django_execute(b, node, base.but(deps=deps), "index", node)
    if b.constant_width(node.slice):  # qs[:10]: still lazy, now bounded
        return base.but(size=Size.BOUNDED, deps=deps, query=replace(base.query, limited=True))
    return base.but(deps=deps)


def self_value(b: Interpreter, cls: tuple[str, ClassDecl]) -> Value | None:
    return queryset_self(b, cls) if django_models.is_queryset_class(b.project, *cls) else None


def parameter(b: Interpreter, function: ast.FunctionDef | ast.AsyncFunctionDef, index: int,
              arg: ast.arg) -> Value | None:
    """A data migration's `RunPython(f)`: f's first parameter is the registry of historical
    models (`apps.get_model(...)`)."""
    if index != 0 or b.decl.functions.get(function.name) is not function or \
            function.name not in run_python_functions(b):
        return None
    return Value(kind=Kind.EXTERNAL, name=DJANGO_HISTORICAL_APPS, label=arg.arg)


def run_python_functions(b: Interpreter) -> frozenset[str]:
    """The module's functions its migrations run with `RunPython(...)` (found once per module text:
    every walk of one of its functions asks)."""
    names = b.decl.derived.get("django.run_python")
    if names is None:
        names = b.decl.derived["django.run_python"] = _run_python_functions(b)
    return names


def _run_python_functions(b: Interpreter) -> frozenset[str]:
    if "RunPython" not in b.decl.source:
        return frozenset()
    names = set()
    for node in ast.walk(b.project.whole(b.decl).tree):
        if isinstance(node, ast.Call) and last_name(node.func) == "RunPython" and \
                b.project.eval_static(b.decl, node.func).name in DJANGO_RUN_PYTHON:
            given = [*node.args[:2], *(kw.value for kw in node.keywords if kw.arg in ("code", "reverse_code"))]
            names.update(arg.id for arg in given if isinstance(arg, ast.Name))
    return frozenset(names)


# How a long queryset expression evaluated whole is named in a message.
EVALUATION_LABELS = {"__iter__": "{}", "list": "list({})", "len": "len({})", "bool": "bool({})", "index": "{}[…]"}


# --- declarations ------------------------------------------------------------------------------


def declared_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    return django_models.build_django_model(index, decl, cls)


def model_label(index: Index, model: ModelInfo) -> str | None:
    return django_models.model_label(index, model)  # (any model: a namesake of another ORM too)


def module_label(index: Index, path: str) -> str | None:
    return django_models.app_label_of(index, path)


# --- querysets ------------------------------------------------------------------------------------


def is_queryset(value: Value) -> bool:
    return value.kind is Kind.QUERY and value.query is not None and value.query.django


def queryset_self(b: Interpreter, cls: tuple[str, ClassDecl]) -> Value:
    """`self` (or `super()`) in a method of a manager or queryset class: the caller's queryset,
    of a model known only at the call (see rebase)."""
    return Value(kind=Kind.QUERY, label="self", query=QueryInfo(
        None, orm="django", from_self=True, managers=(cls,), made_in=b.loop_ids()))


def library_model(decl: ModuleDecl, name: str | None) -> ModelInfo | None:
    """`Notification.objects` where `Notification` is a class of an installed Django app (a
    library, or `django.contrib`): its manager runs queries like a project model's, but its fields
    are not read (its source is not the project's), so rows of it have no known relations. Only in
    a module that uses Django, and for a name that is a class (capitalised)."""
    if not name or "." not in name or not name.rsplit(".", 1)[1][:1].isupper():
        return None
    if not any(ref.module.split(".")[0] == "django" for ref in decl.imports.values() if ref.level == 0):
        return None
    return _library_model(name)


@functools.lru_cache(maxsize=512)
def _library_model(name: str) -> ModelInfo:
    # One per name, so that rows of it compare as rows of one model across modules.
    return ModelInfo(name.rsplit(".", 1)[1], name, 0, style=STYLE, library=True)


def django_manager(b: Interpreter, node: ast.expr, model: ModelInfo, classes) -> Value:
    """`Book.objects`: a queryset of all rows; a custom manager's `get_queryset()` may narrow
    it or load relations, so its returned queryset is what the manager starts from."""
    info = QueryInfo(model, start=node, orm="django", managers=tuple(classes), made_in=b.loop_ids())
    manager = Value(kind=Kind.QUERY, model=model, query=info)
    for cls in classes:
        method = b.method_value(cls, "get_queryset")
        if method is not None:
            return rebase(b, manager, b.returned(method.ref), node)
    return manager


def rebase(b: Interpreter, base: Value, returned: Value, node: ast.expr) -> Value:
    """What a manager/queryset method returned, seen from the queryset it was called on."""
    info = base.query
    assert info is not None
    if is_queryset(returned) and returned.query.from_self:
        inner = returned.query
        return base.but(tuples=base.tuples or returned.tuples, query=replace(
            info, eager=info.eager | inner.eager, ordered=info.ordered or inner.ordered,
            limited=info.limited or inner.limited, made_in=b.loop_ids(), related=None, custom=True))
    if is_queryset(returned) or (returned.is_rowlike and returned.model.django):
        return returned
    if returned.kind is Kind.INSTANCE and isinstance(returned.ref, tuple) and \
            django_models.is_queryset_class(b.project, *returned.ref):
        # `return OrderQuerySet(self.model, using=self._db)`: a queryset of all the rows, with that
        # class's methods.
        return base.but(query=replace(info, managers=(*info.managers, returned.ref), made_in=b.loop_ids(),
                                      related=None, custom=True))
    # Anything else: a queryset that may load anything, or not a queryset at all.
    return unknown(base.deps)


# Django's text helpers: they format each argument with str().
DJANGO_STR_CALLS = frozenset({
    "django.utils.html.escape", "django.utils.html.conditional_escape", "django.utils.html.format_html",
    "django.utils.encoding.force_str", "django.utils.encoding.smart_str",
})


def django_call(b: Interpreter, node: ast.Call, full: str, args: list[Value]) -> Value | None:
    """Django functions that matter here: `Prefetch(...)`, `Q(...)`, `get_object_or_404(...)`."""
    if full in DJANGO_PREFETCH:
        return prefetch_option(b, node, args)
    if full in DJANGO_STR_CALLS:
        # `escape(obj)`, `format_html("{}", obj)`, `force_str(obj)`: str() of each row passed.
        for arg_node, value in zip(node.args, args):
            if value.kind is Kind.ROW and value.model is not None:
                b.calls_dunder_str(arg_node, value)
        return None
    if full in DJANGO_GET_MODEL:
        return django_get_model(b, node, historical=DJANGO_GET_MODEL[full])
    if full in DJANGO_Q:
        django_lookups(b, node, QueryInfo(None, orm="django"), "filter")
        return UNKNOWN
    terminal = DJANGO_GET_OR_404.get(full)
    if terminal is not None and args:
        first = args[0]
        if first.kind is Kind.MODEL_CLASS and first.model is not None and first.model.django:
            first = django_manager(b, node.args[0], first.model, first.model.managers.get("objects", ()))
        if is_queryset(first):
            info = django_lookups(b, node, first.query, "get")
            keywords = [b.values.get(id(kw.value), UNKNOWN) for kw in node.keywords]
            query = first.but(query=info, deps=first.deps | merge_deps([*args, *keywords]))
            return django_execute(b, node, query, terminal, node)
    return None


def django_get_model(b: Interpreter, node: ast.Call, historical: bool) -> Value:
    """`apps.get_model("app_label", "Model")` / `apps.get_model("app_label.Model")`: the project's
    model of that app label and class name; in a migration, its historical model."""
    given = {kw.arg: kw.value for kw in node.keywords if kw.arg in ("app_label", "model_name")}
    texts = [_literal(arg) for arg in [*node.args[:2], *given.values()]]
    if not texts or not all(isinstance(text, str) for text in texts):
        return UNKNOWN
    if len(texts) == 1:
        app_label, _, name = texts[0].rpartition(".")
    else:
        app_label, name = texts[0], texts[1]
    model = django_models.django_model_by_label(b.project, app_label, name, b.decl.path) if app_label else None
    if model is None:
        return UNKNOWN
    return Value(kind=Kind.MODEL_CLASS, model=b.project.historical(model) if historical else model,
                 label=b.short(node))


def prefetch_option(b: Interpreter, node: ast.Call, args: list[Value]) -> Value:
    """`Prefetch("books", queryset=Book.objects.select_related("author"))`: the lookup and what
    its queryset loads below it. With `to_attr`, the rows go to that attribute, not the manager."""
    lookup = node.args[0] if node.args else next((kw.value for kw in node.keywords if kw.arg == "lookup"), None)
    if not (isinstance(lookup, ast.Constant) and isinstance(lookup.value, str)):
        return Value(kind=Kind.LOADER_OPTION, eager=frozenset({("*",)}))
    path = tuple(lookup.value.split("__"))
    eager = set(_prefixes(path[:-1]))
    to_attr = any(kw.arg == "to_attr" for kw in node.keywords)
    if not to_attr:
        eager.add(path)
        queryset = next((kw.value for kw in node.keywords if kw.arg == "queryset"), None)
        inner = b.values.get(id(queryset), UNKNOWN) if queryset is not None else UNKNOWN
        if is_queryset(inner):
            eager |= {path + sub for sub in inner.query.eager}
        elif queryset is not None:
            eager.add(path + ("*",))
    return Value(kind=Kind.LOADER_OPTION, eager=frozenset(eager))


def django_method(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value]) -> Value:
    info = base.query
    assert info is not None
    if method in DJANGO_WRITE_METHODS:
        # A write, one statement by design (like session.add()); create() gives the new row.
        if method in ("create", "acreate") and base.model is not None:
            return Value(kind=Kind.ROW, model=base.model, deps=base.deps)
        return unknown(base.deps)
    if method in DJANGO_QUERYSET_TERMINALS:
        args = [*args, *(b.values.get(id(kw.value), UNKNOWN) for kw in node.keywords)]
        if method in ("get", "aget", "get_or_create", "aget_or_create", "update_or_create",
                      "aupdate_or_create"):
            info = django_lookups(b, node, info, "filter")
        return django_execute(b, node, base.but(query=info, deps=base.deps | merge_deps(args)),
                                   method.removeprefix("a") if method.startswith("a") and
                                   method[1:] in DJANGO_QUERYSET_TERMINALS else method, node)
    if method in DJANGO_QUERYSET_BUILDERS:
        return base.but(tuples=base.tuples or method in DJANGO_VALUES_METHODS,
                        via=None if method in DJANGO_VALUES_METHODS else base.via,
                        size=Size.BOUNDED if method == "none" or one_row(node, method, base.model) else base.size,
                        query=django_builder(b, node, info, method, args))
    # A method of the project's own manager or queryset class.
    for cls in info.managers:
        callee = b.method_value(cls, method)
        if callee is not None and not callee.is_property:
            b.record_call(node, callee)
            return rebase(b, base, b.returned(callee.ref), node)
    return unknown(base.deps)


def distinct_choices(b: Interpreter, node: ast.Call, method: str, model: ModelInfo | None) -> bool:
    """`values_list("status", flat=True).distinct()` of a field declared with `choices=`: at most
    one row per choice."""
    inner = node.func.value if isinstance(node.func, ast.Attribute) else None
    if method != "distinct" or node.args or model is None or not (
            isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and
            inner.func.attr in ("values", "values_list") and len(inner.args) == 1 and
            isinstance(inner.args[0], ast.Constant) and isinstance(inner.args[0].value, str)):
        return False
    cls = b.project.class_of(model)
    field = cls[1].attr_value(inner.args[0].value) if cls is not None else None
    return isinstance(field, ast.Call) and any(kw.arg == "choices" for kw in field.keywords)


def one_row(node: ast.Call, method: str, model: ModelInfo | None) -> bool:
    """`filter(pk=...)` (or the model's primary key by name): a queryset of one row at most."""
    if method != "filter":
        return False
    keys = {"pk", *(name for name, column in model.columns.items() if column.primary_key)} if model else {"pk"}
    return any(kw.arg in keys for kw in node.keywords)


def django_builder(b: Interpreter, node: ast.Call, info: QueryInfo, method: str, args: list[Value]) -> QueryInfo:
    changes: dict = dict(made_in=b.loop_ids())
    if method != "all":
        changes["related"] = None  # a new query: the prefetch cache no longer answers it
    if method in ("filter", "exclude", "get_queryset", "complex_filter"):
        info = django_lookups(b, node, info, method)
        if one_row(node, method, info.model):
            changes["limited"] = True
    elif distinct_choices(b, node, method, info.model):
        changes["limited"] = True
    elif method in ("using", "db_manager"):
        # `.using(db)` per item of `settings.DATABASES`: each database its own query (ROUTED_BY).
        changes["plugin_state"] = (merge_deps(args) & b.loop_ids(),)
    elif method in ("select_related", "prefetch_related"):
        eager = set(info.eager)
        if method == "select_related" and not node.args:
            eager.add(("*",))  # every non-null ForeignKey: we do not follow which
        for arg_node, value in zip(node.args, args):
            if isinstance(arg_node, ast.Constant) and isinstance(arg_node.value, str):
                eager |= _prefixes(tuple(arg_node.value.split("__")))
            elif value.kind is Kind.LOADER_OPTION:
                eager |= value.option_eager()
            elif not is_none(arg_node):
                eager.add(("*",))  # a lookup we cannot read may load anything
        changes["eager"] = frozenset(eager)
    else:
        varying = [(None, arg) for arg in [*node.args, *(kw.value for kw in node.keywords)]
                   if b.values.get(id(arg), UNKNOWN).deps]
        changes["varying"] = info.varying + tuple(varying)
        if method == "order_by":
            changes["ordered"] = True
    return replace(info, **changes)


def django_lookups(b: Interpreter, node: ast.Call, info: QueryInfo, method: str) -> QueryInfo:
    """The keyword lookups of filter()/exclude()/get()/Q(): equalities (`author_id=a.id`),
    what changes per loop item, `__in` lists (ORM004), and fields kept NOT NULL."""
    equalities, varying = list(info.equalities), list(info.varying)
    in_filters, not_null = list(info.in_filters), set(info.not_null)
    negated = method == "exclude"
    for arg in node.args:  # Q(...), expressions
        if b.values.get(id(arg), UNKNOWN).deps:
            varying.append((None, arg))
    for kw in node.keywords:
        value = b.values.get(id(kw.value), UNKNOWN)
        if kw.arg is None:  # **lookups
            if value.deps:
                varying.append((None, kw.value))
            continue
        parts = kw.arg.split("__")
        operator = parts[-1] if len(parts) > 1 and parts[-1] in _LOOKUP_OPERATORS else "exact"
        field = parts[:-1] if operator != "exact" or parts[-1] == "exact" else parts
        lookup = "__".join(field)
        # Django turns a queryset given to `__in` into a subquery: an unannotated parameter may
        # be one (callers often pass one), so it is not taken for an unbounded list.
        if operator == "in" and method != "get_queryset":
            span = Span.of(kw)
            if id(value) not in b.untyped_parameters:
                b.facts.in_calls.append(InCall(
                    span, b.short(kw), b.short(kw.value), b.in_list_size(value), value.kind, "__in",
                    Span.of(kw.value), keyword=kw.arg, values=b.segment(kw.value)))
            in_filters.append(span)
        if operator == "exact" and not negated:
            equalities.append((lookup, kw.value))
        if value.deps:
            varying.append((lookup if operator == "exact" and not negated else None, kw.value))
        if len(field) == 1:
            keeps_set = _literal(kw.value) is negated if operator == "isnull" \
                else (not negated and operator in DJANGO_NULL_EXCLUDING_LOOKUPS
                      and not is_none(kw.value)) or (negated and operator == "exact" and is_none(kw.value))
            if keeps_set:
                not_null.add(field[0])
    return replace(info, equalities=tuple(equalities), varying=tuple(varying), in_filters=tuple(in_filters),
                   not_null=frozenset(not_null))


def django_execute(b: Interpreter, node: ast.AST, query: Value, terminal: str, expression: ast.AST,
                   header: Span | None = None) -> Value:
    """A Django queryset runs here (`terminal`: "__iter__", "list", "len", "bool", "index", or a
    QuerySet method). Records the query (or, for a related manager a prefetch may answer, the
    relationship read) and gives what it returns."""
    info = query.query
    assert info is not None
    model = query.model
    if info.related is not None and terminal in DJANGO_CACHED_EVALUATIONS | {"first", "last"}:
        return related_evaluation(b, node, query, terminal, expression)
    loops = b.effective_loops()
    cached = False
    if info.plugin_state:  # `.using(db)`: the loops whose item chose the database repeat nothing batchable
        loops = tuple(loop for loop in loops if loop.id not in info.plugin_state[0])
    if isinstance(expression, ast.Name) and terminal in ("__iter__", "list", "len", "bool"):
        # A queryset in a variable fills its result cache on the first evaluation: it runs
        # again only in the loops that build it anew, and `qs[0]` after it reads the cache.
        loops = tuple(loop for loop in loops if loop.id in info.made_in)
        mark = b.filled_at.get(id(query))
        # `if qs:` then `for x in qs:`: the truth test filled the cache, the loop reads it.
        cached = mark is not None and b.evaluated_querysets.get(id(query)) is query and b.dominates(mark)
        b.evaluated_querysets[id(query)] = query
        if not cached:
            b.filled_at[id(query)] = b.path_mark()
    statement, shape = None, None
    if terminal == "__iter__" and header is not None:
        statement, shape = header, "iterate"
    elif terminal == "list" and b.assignment is not None and b.assignment.value is node \
            and isinstance(node, ast.Call) and last_name(node.func) == "list":
        statement, shape = Span.of(b.assignment), "list"
    if not cached:
        key = django_key(b, query, loops)
        b.record_query(node, query, terminal, loops, EVALUATION_LABELS.get(terminal), expression=Span.of(expression),
                       statement=statement, shape=shape, django_key=key,
                       count_name=annotatable_count(b, query, key, loops)
                       if terminal == "count" and _only_filter(node) else None)
    gives = {"__iter__": "rows", "list": "rows", "index": "row"}.get(
        terminal, DJANGO_QUERYSET_TERMINALS.get(terminal, "scalar"))
    if model is None or query.tuples:
        size = Size.BOUNDED if info.limited else \
            Size.UNKNOWN if model is not None and model.library else Size.UNBOUNDED
        return Value(kind=Kind.COLLECTION, size=size, deps=query.deps, capped=query.capped) if gives == "rows" \
            else unknown(query.deps)
    fixed = frozenset(column for column, _ in info.equalities)
    # The rows come from here when the queryset is built here (what a rewrite can extend).
    built_here = info.local and info.start is not None and inside(info.start, expression)
    # Built elsewhere: where the queryset says it was given, if it says (templates/evaluate.py: the
    # view's expression that passes it to a template); a queryset built in the code walked never does.
    common = dict(model=model, eager=info.eager, deps=query.deps, via=query.via,
                  source=Span.of(expression) if built_here else query.source, not_null=info.not_null, fixed=fixed)
    if gives == "rows":
        size = Size.BOUNDED if info.limited else Size.UNKNOWN if model.library else Size.UNBOUNDED
        return Value(kind=Kind.ROWS, size=size, capped=query.capped, **common)
    if gives == "row":
        return Value(kind=Kind.ROW, **common)
    if gives == "dict":
        return Value(kind=Kind.DICT_OF_ROWS, size=Size.UNBOUNDED, **common)
    if gives == "pair":  # (obj, created)
        return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=query.deps,
                     items=(Value(kind=Kind.ROW, **common), Value(kind=Kind.SCALAR)))
    return Value(kind=Kind.SCALAR, deps=query.deps)


def related_evaluation(b: Interpreter, node: ast.AST, query: Value, terminal: str, expression: ast.AST) -> Value:
    """`author.books.all()` iterated, listed, counted: answered by `prefetch_related("books")`
    when the rows were loaded with it; else a query per row. Iterating is the lazy load ORM002
    reports; a count or exists() per row is ORM001's."""
    related = query.query.related
    row, rel, owner = related.row, related.relationship, related.owner
    path = row.rel_path + (rel.name,)
    rows = Value(kind=Kind.ROWS, model=query.model, size=Size.UNBOUNDED, deps=query.deps,
                 via=owner.name if rel.reverse_fk else None, rel_path=path, through_many=True)
    if row.eager is None:
        return rows  # rows of unknown origin: they may have been prefetched
    if eager_covers(row.eager, rel.name):
        return rows.but(eager=eager_below(row.eager, rel.name))
    if row.loop is None:
        # One row from a query that did not prefetch it: this runs its own queryset, whose
        # rows load nothing else (what `.select_related()` on it would add).
        rows = rows.but(eager=query.query.eager, rel_path=(), through_many=False,
                        source=None if isinstance(expression, ast.Name) else Span.of(expression))
    else:
        # Per row of a loop, not prefetched: each runs this queryset, whose rows load what it
        # selects and nothing else (a read on them is named from the loop's rows: `books__author`).
        rows = rows.but(eager=query.query.eager)
    if terminal in ("__iter__", "list", "len", "bool"):
        b.facts.relationship_reads.append(RelationshipRead(
            Span.of(expression), b.short(expression), owner, rel, True, row.eager, row.loop,
            b.effective_loops(), row.source, False, rel_path=row.rel_path,
            through_many=row.through_many, conditional=b.conditional(), row_state=b.only_row_state(),
            exceptional=b._handling > 0))
    else:
        b.record_query(node, query, terminal, evaluation=EVALUATION_LABELS.get(terminal),
                       expression=Span.of(expression), count_name=rel.query_name if terminal == "count" else None)
    return rows


def annotatable_count(b: Interpreter, query: Value, key: tuple | None, loops: tuple[LoopScope, ...]) -> str | None:
    """`for a in Author.objects.all(): Book.objects.filter(author=a).count()`: the reverse
    relation (`book`) that `.annotate(n=Count("book"))` on the loop's queryset would count;
    None unless the loop's rows are of the model the foreign key points to, and that model has
    exactly one reverse relation from it."""
    loop = next((candidate for candidate in reversed(loops) if candidate.repeats), None)
    if key is None or loop is None or loop.target is None or query.model is None:
        return None
    field = key[0].split("__")[0]
    rel = query.model.relationships.get(field) or query.model.relationships.get(field.removesuffix("_id"))
    row = b.lookup(loop.target)
    if rel is None or rel.django != "one" or row.kind is not Kind.ROW or row.model is None or \
            row.model.name != rel.target:
        return None
    reverse = [other for other in query.model.relationships.values()
               if other.django == "one" and other.target == rel.target]
    if len(reverse) != 1:
        return None  # two foreign keys to that model: which reverse relation is not clear
    backref = next((b for target, b in query.model.extra_backrefs if target == rel.target), None)
    return backref.query_name if backref is not None else None


def django_key(b: Interpreter, query: Value, loops: tuple[LoopScope, ...]) -> tuple[str, str] | None:
    """When the query depends on its innermost repeating `for` loop through one lookup whose
    value is the loop item or an attribute of it: (lookup, value source). What a batch
    rewrite keys on."""
    loop = next((candidate for candidate in reversed(loops) if candidate.repeats), None)
    info = query.query
    if loop is None or loop.target is None or loop.kind != "for" or info is None or \
            query.model is None or query.tuples or info.related is not None or not info.local or \
            info.custom or info.limited:
        return None
    keyed = [(lookup, value) for lookup, value in info.varying
             if loop.id in b.values.get(id(value), UNKNOWN).deps]
    if len(keyed) != 1 or keyed[0][0] is None:
        return None
    lookup, value = keyed[0]
    item = value.value if isinstance(value, ast.Attribute) else value
    if isinstance(item, ast.Name) and item.id == loop.target and isinstance(info.start, ast.Attribute):
        key = b.values.get(id(value), UNKNOWN)
        return (lookup, b.segment(value), b.segment(info.start), _row_attribute(query.model, lookup),
                key.kind is Kind.ROW and key.model is not None)
    return None


def _only_filter(node: ast.AST) -> bool:
    """`Book.objects.filter(author=a).count()`: the chain before the terminal has exactly one
    condition (other conditions would need `Count(..., filter=Q(...))`, not a plain count)."""
    conditions = 0
    call = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
    while isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        conditions += len(call.args) + len(call.keywords)
        call = call.func.value
    return conditions == 1


def _row_attribute(model: ModelInfo, lookup: str) -> str | None:
    """The attribute of a row a lookup compares: `pk` -> the primary key, `author` / `author__id`
    (a ForeignKey) -> `author_id`, a column -> itself."""
    parts = lookup.split("__")
    if parts[0] == "pk":
        parts[0] = model.primary_key or ""
    if len(parts) == 1 and parts[0] in model.columns:
        return parts[0]
    rel = model.relationships.get(parts[0])
    if rel is not None and rel.django == "one" and f"{parts[0]}_id" in model.columns and \
            (len(parts) == 1 or parts[1:] in (["id"], ["pk"])):
        return f"{parts[0]}_id"
    return None


_LOOKUP_OPERATORS = frozenset({
    "exact", "iexact", "contains", "icontains", "in", "gt", "gte", "lt", "lte", "startswith", "istartswith",
    "endswith", "iendswith", "range", "date", "year", "iso_year", "month", "day", "week", "week_day",
    "iso_week_day", "quarter", "time", "hour", "minute", "second", "isnull", "regex", "iregex",
    "contained_by", "overlap", "has_key", "has_keys", "has_any_keys", "search", "trigram_similar",
    "unaccent",
})


def _prefixes(path: tuple[str, ...]) -> set[tuple[str, ...]]:
    """("a", "b") -> {("a",), ("a", "b")}: loading `a__b` loads `a` too."""
    return {path[:i] for i in range(1, len(path) + 1)}


def _literal(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else None


# --- what the rules advise (api.OrmPlugin) ----------------------------------------------------


def write_advice(query) -> str:
    """ORM001: one statement for all items instead of one write per item."""
    if query.write == "delete":
        return "delete them all with one `filter(pk__in=...).delete()` after the loop"
    return ("update them all with one `filter(pk__in=...).update(...)`, or `bulk_update(objs, fields)` "
            "for values that differ per item")


def batch_advice(query, loop) -> str | None:
    """ORM001: what replaces one query per item."""
    if query.count_name:
        return (f"count them in the query that loads the rows instead: "
                f"`.annotate(n=Count(\"{query.count_name}\"))`")
    if query.django_key:
        return (f"load the rows for all items before the loop with "
                f"`{query.django_key[2]}.filter({query.django_key[0]}__in=...)` in chunks and look them "
                "up by key")
    return None


# Django evaluations a batch rewrite turns into lookups, by the name its plan gives them.
BATCH_TERMINALS = {"__iter__": "iterate", "list": "iterate", "first": "first", "last": "last",
                   "get": "get", "count": "count", "exists": "exists"}


def batch_query(query, loop) -> tuple[type, DjangoBatchQuery] | None:
    """ORM001's batch rewrite: this queryset's part, when it is keyed on the loop's item."""
    terminal = BATCH_TERMINALS.get(query.terminal)
    if not query.django_key or terminal is None:
        return None
    lookup, key, manager, attribute, key_is_instance = query.django_key
    # What the lookup alone does not say (the fix helper's extension of the contract): the key is
    # a row (`author=a`: compare `a.pk`), or the rows' attribute compared (`author=a.author_id`).
    if key_is_instance or attribute == lookup or lookup == "pk" or lookup.endswith(("__id", "__pk")):
        attribute = None
    return DjangoBatchPlan, DjangoBatchQuery(
        query.expression or query.span, query.model.name, manager, lookup, key, terminal,
        bool(query.query and query.query.ordered) or terminal == "get", bool(key_is_instance), attribute)


def chunk_plan(call, query) -> DjangoChunkPlan | None:
    """ORM004's quick fix: the queryset evaluated whole (`list(qs)`, a `for` header) in chunks."""
    if call.method != "__in" or query.shape is None:
        return None
    return DjangoChunkPlan(query.statement, query.expression, call.span, call.keyword, call.values,
                           "list" if query.shape == "list" else "iterate")


def summarize_returns(returns: list[Value]) -> Value:
    """What a function gives its callers when every `return` gives a queryset (or rows) of one
    model: loaded relations only when every path loads them; else UNKNOWN."""
    first = returns[0]
    django_query = is_queryset(first)
    if not (django_query or (first.is_rowlike and first.model.django)):
        return UNKNOWN
    if any(value.query is not None and value.query.related is not None for value in returns):
        # `return self.books.all()`: a prefetch on the caller's rows may answer it; cannot tell.
        return UNKNOWN
    eager = first.query.eager if django_query else first.eager
    for other in returns[1:]:
        if other.kind is not first.kind or other.model is not first.model or other.tuples != first.tuples:
            return UNKNOWN
        if django_query and not (other.query is not None and other.query.django
                                 and other.query.from_self == first.query.from_self):
            return UNKNOWN
        other_eager = other.query.eager if django_query else other.eager
        eager = None if eager is None or other_eager is None else eager & other_eager
    # Loop ids, nodes and spans belong to the function's own walk: not carried to callers.
    if django_query:
        return Value(kind=Kind.QUERY, model=first.model, tuples=first.tuples, size=first.size, query=replace(
            first.query, eager=eager, equalities=(), varying=(), in_filters=(), start=None, made_in=frozenset(),
            related=None, local=False))
    return Value(kind=first.kind, model=first.model, size=first.size, eager=eager, not_null=first.not_null)


def lazy_load_advice(read, loop) -> LazyLoadAdvice | None:
    """ORM002: `select_related` for a ForeignKey / one-to-one, `prefetch_related` for a collection
    (or any path through one), named by its lookup from the loop's rows; the quick fix adds it to
    the queryset the loop iterates."""
    rel = read.relationship
    many = rel.django == "many" or read.through_many or rel.generic  # (select_related cannot follow a generic one)
    loader = "prefetch_related" if many else "select_related"
    lookup = "__".join((*read.rel_path, rel.name))
    what = "evaluates" if rel.django == "many" else "lazy-loads"
    # Django 5 refuses prefetch_related() with iterator() unless a chunk size is given.
    chunked = ", and give `.iterator()` a `chunk_size` (prefetching needs one)" \
        if many and loop.label.endswith(".iterator()") else ""

    def message(per_item: str, product: str) -> str:
        if loop.asynchronous:  # Django's async ORM: a lazy load in async code raises instead of querying
            return (f"`{read.label}` {what} `{read.model.name}.{rel.name}` {per_item}, which raises "
                    "SynchronousOnlyOperation in async code; load it with the rows: "
                    f"`.{loader}(\"{lookup}\")` on the queryset that loads them{chunked}")
        return (f"`{read.label}` {what} `{read.model.name}.{rel.name}` with a query {per_item} "
                f"({product} extra queries); load it with the rows: `.{loader}(\"{lookup}\")` "
                f"on the queryset that loads them{chunked}")

    fix = None
    if read.source is not None and read.source == loop.iterable and not read.rel_path:
        fix = DjangoEagerPlan(read.source, read.model.name, rel.name, loader)
    elif read.source is not None and read.source_path is not None and lookup.isidentifier():
        # Rows a view passed to a template: the loader goes on the view's expression that gives them.
        fix = DjangoEagerPlan(read.source, read.model.name, lookup, loader, queryset=True)
    return LazyLoadAdvice(loader, f"`.{loader}(\"{lookup}\")`", fix, message, {"lookup": lookup})
