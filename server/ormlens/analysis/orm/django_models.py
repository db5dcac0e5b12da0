"""Django, what its declarations mean: which classes are models (and abstract ones), their fields
and managers, manager and queryset classes, app labels (`apps.get_model("app", "Model")`)."""

from __future__ import annotations

import ast
import os

from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind, Resolver, Value, external_name
from ormlens.analysis.models import NOT_LITERAL, ColumnInfo, ModelInfo, RelationshipInfo, const_kw
from ormlens.analysis.orm.api import Index

# --- the library's names -------------------------------------------------------------------------

# Django's model options: `X._meta` on anything is the Options of a model class or instance (the
# name is Django's API), whose collections are as large as the code.
DJANGO_OPTIONS = "_meta"

DJANGO_MODEL_CLASSES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})

# Subclassing these makes a manager or queryset class: `self` in its methods is a queryset.
DJANGO_QUERYSET_CLASSES = frozenset({
    "django.db.models.Manager", "django.db.models.manager.Manager", "django.db.models.manager.BaseManager",
    "django.db.models.QuerySet", "django.db.models.query.QuerySet",
})

DJANGO_MODULE_PREFIXES = ("django.db.models", "django.contrib.postgres.fields", "django.contrib.gis.db.models")

# Relation fields, by what reading the attribute gives: one row ("one") or a related manager ("many").
DJANGO_GENERIC_FOREIGN_KEYS = frozenset({"django.contrib.contenttypes.fields.GenericForeignKey",
                                         "django.contrib.contenttypes.generic.GenericForeignKey"})
DJANGO_RELATION_FIELDS = {"ForeignKey": "one", "OneToOneField": "one", "ManyToManyField": "many"}

# Managers every model has besides the declared ones (`objects` only when none is declared).
DJANGO_IMPLICIT_MANAGERS = frozenset({"_default_manager", "_base_manager"})

# QuerySet (and Manager) methods that return another QuerySet without running it.
DJANGO_QUERYSET_BUILDERS = frozenset({
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "annotate", "alias",
    "values", "values_list", "only", "defer", "distinct", "using", "none", "union", "intersection",
    "difference", "reverse", "extra", "select_for_update", "dates", "datetimes", "complex_filter",
    "get_queryset", "db_manager",
})

# ... after which rows are dicts, tuples or values, not model instances.
DJANGO_VALUES_METHODS = frozenset({"values", "values_list", "dates", "datetimes"})

# Methods that run the query, by what they give back ("rows", "row", "scalar", "dict", "pair").
DJANGO_QUERYSET_TERMINALS = {
    "get": "row", "first": "row", "last": "row", "earliest": "row", "latest": "row",
    "count": "scalar", "exists": "scalar", "contains": "scalar", "aggregate": "scalar", "explain": "scalar",
    "update": "scalar", "delete": "scalar", "in_bulk": "dict", "iterator": "rows",
    "get_or_create": "pair", "update_or_create": "pair",
}
# The async spellings (`aget`, `acount`...): the same terminals.
DJANGO_QUERYSET_TERMINALS.update({f"a{name}": gives for name, gives in list(DJANGO_QUERYSET_TERMINALS.items())})

# Writes: like session.add(), one statement each by design; not what ORM001 reports.
DJANGO_WRITE_METHODS = frozenset({"create", "bulk_create", "bulk_update", "add", "remove", "set", "clear",
                                  "acreate", "abulk_create", "abulk_update", "aadd", "aremove", "aset", "aclear"})

# Evaluations a related manager answers from the prefetch cache (`prefetch_related`): iterating,
# list()/len()/bool(), and count()/exists() (QuerySet.count() is len() of a filled cache).
DJANGO_CACHED_EVALUATIONS = frozenset({"__iter__", "list", "len", "bool", "count", "exists"})

DJANGO_PREFETCH = frozenset({"django.db.models.Prefetch", "django.db.models.query.Prefetch"})

DJANGO_Q = frozenset({"django.db.models.Q", "django.db.models.query_utils.Q"})

DJANGO_APP_CONFIG_CLASSES = frozenset({"django.apps.AppConfig", "django.apps.config.AppConfig"})

DJANGO_RUN_PYTHON = frozenset({"django.db.migrations.RunPython", "django.db.migrations.operations.RunPython",
                               "django.db.migrations.operations.special.RunPython"})

# What a RunPython function's first parameter is: the registry of historical models.
DJANGO_HISTORICAL_APPS = "django.db.migrations.state.StateApps"

# `get_model(...)` of an app registry: True when it gives a historical model (a migration's).
DJANGO_GET_MODEL = {"django.apps.apps.get_model": False, "django.apps.registry.apps.get_model": False,
                    f"{DJANGO_HISTORICAL_APPS}.get_model": True}

DJANGO_GET_OR_404 = {"django.shortcuts.get_object_or_404": "get", "django.shortcuts.get_list_or_404": "list"}

# Lookups that never match NULL (`price__gt=0`), so the field is NOT NULL in the rows.
DJANGO_NULL_EXCLUDING_LOOKUPS = frozenset({
    "exact", "iexact", "gt", "gte", "lt", "lte", "in", "range", "contains", "icontains", "startswith",
    "istartswith", "endswith", "iendswith", "regex", "iregex",
})

# Methods of a schema object that return one of its collections (Django `_meta.get_fields()`).
SCHEMA_COLLECTION_METHODS = frozenset({"get_fields"})


def _cache(index: Index, name: str) -> dict:
    return index.plugin_caches.setdefault(name, {})


def forget(index: Index, nodes: set[str] | None) -> None:
    """Drop what was derived from `nodes` (module paths; None: everything)."""
    classes, labels = _cache(index, "django.queryset_classes"), _cache(index, "django.app_labels")
    if nodes is None:
        classes.clear()
        labels.clear()
        return
    for key in [key for key in classes if key[0] in nodes]:
        del classes[key]
    for app in [app for app in labels if os.path.join(app, "apps.py") in nodes]:
        del labels[app]


def build_django_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    concrete: list[ModelInfo] = []
    abstract: list[tuple[ModuleDecl, ClassDecl]] = []
    rooted = library_base = False
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.EXTERNAL and value.name in DJANGO_MODEL_CLASSES:
            rooted = True
        elif value.kind is Kind.EXTERNAL and not value.name.startswith(("builtins.", "typing.", "abc.")):
            library_base = True
        elif value.kind is Kind.MODEL_CLASS and value.model is not None and value.model.django:
            concrete.append(value.model)
        elif value.kind is Kind.MODEL_BASE and value.ref is not None:
            base_decl = index.decl(value.ref[0])
            if base_decl is not None and is_django_model(index.declared_model(base_decl, value.ref[1])):
                abstract.append((base_decl, value.ref[1]))
    if not (rooted or concrete or abstract):
        # A library's model base (django-parler's TranslatableModel, MPTTModel, PolymorphicModel...):
        # a class on it that declares Django fields is a model.
        if not (library_base and declares_django_fields(index, decl, cls)):
            return None
    model = ModelInfo(cls.name, decl.path, cls.node.lineno, cls.name.lower(), style="django",
                      abstract=cls.meta_option("abstract") is True)
    model.parents = tuple(concrete)
    for parent in concrete:  # multi-table inheritance and proxies: the parent's fields
        model.columns.update(parent.columns)
        model.relationships.update(parent.relationships)
        model.managers.update(parent.managers)
    backrefs: list[tuple[str, RelationshipInfo]] = []
    for base_decl, base_cls in abstract:  # an abstract base's fields, as this model's own
        read_django_body(index, model, base_decl, base_cls, backrefs, depth=0)
    if not any(column.primary_key for column in model.columns.values()):
        model.columns["id"] = ColumnInfo("id", False, cls.node.lineno, primary_key=True)
    read_django_body(index, model, decl, cls, backrefs, depth=None)
    if not model.managers:
        model.managers["objects"] = []
    model.extra_backrefs = backrefs
    return model


def is_django_model(model: ModelInfo | None) -> bool:
    """(A SQLAlchemy `declarative_base(cls=Mixin)` base also carries its mixin class.)"""
    return model is not None and model.django


def declares_django_fields(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    """Does the class body assign a Django model field (`name = models.CharField(...)`)?"""
    for _, _, value, _ in cls.attrs:
        if isinstance(value, ast.Call) and \
                external_name(django_field_base(index, index.eval_static(decl, value.func))).startswith(
                    DJANGO_MODULE_PREFIXES):
            return True
    return False


def read_django_body(index: Index, model: ModelInfo, decl: ModuleDecl, cls: ClassDecl,
                      backrefs: list[tuple[str, RelationshipInfo]], depth: int | None) -> None:
    if depth is not None:  # an abstract base: its own abstract bases first
        for base in cls.bases:
            value = index.eval_static(decl, base)
            if value.kind is Kind.MODEL_BASE and value.ref is not None and depth < 8:
                base_decl = index.decl(value.ref[0])
                if base_decl is not None and is_django_model(index.declared_model(base_decl, value.ref[1])):
                    read_django_body(index, model, base_decl, value.ref[1], backrefs, depth + 1)
    resolve = lambda node: django_field_base(index, index.eval_static(decl, node))  # noqa: E731
    for attr, _, value, line in cls.attrs:
        managed = django_manager(index, decl, value)
        if managed is not None:
            model.managers[attr] = managed
        else:
            read_django_field(model, attr, value, line, resolve, backrefs)


def django_manager(index: Index, decl: ModuleDecl, node: ast.expr | None) -> list | None:
    """`models.Manager()`, `MyManager()`, `MyQuerySet.as_manager()`,
    `Manager.from_queryset(MyQuerySet)()`: the project classes whose methods the manager has
    (empty for Django's own); None when `node` is not a manager."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "as_manager" and not node.args:
        classes = queryset_class_refs(index, decl, [func.value])
        return classes if classes is not None else None
    if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and \
            func.func.attr == "from_queryset" and len(func.args) == 1:
        return queryset_class_refs(index, decl, [func.func.value, func.args[0]])
    return queryset_class_refs(index, decl, [func])


def queryset_class_refs(index: Index, decl: ModuleDecl, nodes: list[ast.expr]) -> list | None:
    refs = []
    for node in nodes:
        value = index.eval_static(decl, node)
        if value.kind is Kind.EXTERNAL and value.name in DJANGO_QUERYSET_CLASSES:
            continue
        if value.kind is Kind.CLASS and value.ref is not None and is_queryset_class(index, *value.ref):
            refs.append(value.ref)
            continue
        return None
    return refs


def is_queryset_class(index: Index, path: str, cls: ClassDecl) -> bool:
    """Does this project class derive from Django's Manager or QuerySet?"""
    key = (path, cls.name)
    index.dependencies.read(path)
    if key not in _cache(index, "django.queryset_classes"):
        _cache(index, "django.queryset_classes")[key] = False  # cycle guard
        with index.dependencies.computing(path):
            _cache(index, "django.queryset_classes")[key] = derives_from_queryset(index, path, cls)
    return _cache(index, "django.queryset_classes")[key]


def derives_from_queryset(index: Index, path: str, cls: ClassDecl) -> bool:
    decl = index.decl(path)
    for base in cls.bases if decl is not None else []:
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and \
                base.func.attr == "from_queryset":  # class M(Manager.from_queryset(QS))
            base = base.func.value
        value = index.eval_static(decl, base)
        if (value.kind is Kind.EXTERNAL and value.name in DJANGO_QUERYSET_CLASSES) or (
                value.kind is Kind.CLASS and value.ref is not None and is_queryset_class(index, *value.ref)):
            return True
    return False


def django_field_base(index: Index, value: Value, depth: int = 0) -> Value:
    """A project's own field class (`class ForeignKey(ActivityMixin, models.ForeignKey)`) stands for
    the Django field it derives from; any other value is itself."""
    if value.kind is not Kind.CLASS or not isinstance(value.ref, tuple) or depth > 4:
        return value
    path, cls = value.ref
    decl = index.decl(path)
    for base in cls.bases if decl is not None else []:
        found = django_field_base(index, index.eval_static(decl, base), depth + 1)
        short = found.name.rsplit(".", 1)[-1]
        if found.kind is Kind.EXTERNAL and found.name.startswith(DJANGO_MODULE_PREFIXES) and \
                (short.endswith("Field") or short in DJANGO_RELATION_FIELDS):
            return found
    return value


def django_model_by_label(index: Index, app_label: str, name: str, near_path: str) -> ModelInfo | None:
    """`apps.get_model("app_label", "Model")`: the concrete Django model of that app label and
    class name (Django matches the name case-insensitively); None unless exactly one."""
    app = app_dir(near_path)
    if app_label_of(index, os.path.join(app, "models.py")) == app_label:
        # The migration's own app: read its models (the editor may not have opened them).
        for models in (os.path.join(app, "models.py"), os.path.join(app, "models", "__init__.py")):
            if os.path.basename(models) in index.entries(os.path.dirname(models)) and \
                    index.decl(models) is not None:
                index.imports(models)
    lower = name.lower()
    matches = [m for m in index.models_named(lower) if m.django and model_label(index, m) == app_label]
    return matches[0] if len(matches) == 1 else None


def model_label(index: Index, model: ModelInfo) -> str:
    """A Django model's app label: its `Meta.app_label`, else its app's."""
    found = index.class_of(model.current or model)
    label = found[1].meta_option("app_label") if found is not None else None
    return label if isinstance(label, str) else app_label_of(index, model.module_path)


def app_label_of(index: Index, module_path: str) -> str:
    """The label of the Django app a module belongs to: the `label` of the AppConfig in the
    app's apps.py, else the app package's name (the package of `models.py`, `models/`,
    `migrations/`)."""
    app = app_dir(module_path)
    node = os.path.join(app, "apps.py")
    index.dependencies.read(node)
    if app not in _cache(index, "django.app_labels"):
        _cache(index, "django.app_labels")[app] = ""  # cycle guard
        with index.dependencies.computing(node):
            _cache(index, "django.app_labels")[app] = read_app_label(index, app)
    return _cache(index, "django.app_labels")[app]


def read_app_label(index: Index, app: str) -> str:
    labels: set[object] = set()
    config = index.decl(os.path.join(app, "apps.py")) if "apps.py" in index.entries(app) else None
    for cls in config.classes.values() if config is not None else []:
        if any(index.eval_static(config, base).name in DJANGO_APP_CONFIG_CLASSES
               for base in cls.bases):
            label = cls.attr_value("label")
            labels.add(label.value if isinstance(label, ast.Constant) else None)
    found = next(iter(labels)) if len(labels) == 1 else None
    return found if isinstance(found, str) else os.path.basename(app)


def app_dir(module_path: str) -> str:
    """The Django app package of a module: the package holding `models.py` (or the `models/` or
    `migrations/` package)."""
    parent = os.path.dirname(module_path)
    return os.path.dirname(parent) if os.path.basename(parent) in ("models", "migrations") else parent


# --- reading model fields ----------------------------------------------------------------------------


def django_field_type(call: ast.Call, resolve: Resolver) -> str:
    """`models.ForeignKey(...)` -> "ForeignKey"; "" when the callee is not one of Django's fields."""
    full = external_name(resolve(call.func))
    if full.startswith(DJANGO_MODULE_PREFIXES):
        return full.rsplit(".", 1)[-1]
    return ""


def _django_target(call: ast.Call, model_name: str) -> tuple[str, str]:
    """(class name, app label) of a relation field's target: a class, "Model", "app.Model", "self"."""
    node = call.args[0] if call.args else next((kw.value for kw in call.keywords if kw.arg == "to"), None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value == "self":
            return model_name, ""
        app, _, name = node.value.rpartition(".")
        return name, app
    if isinstance(node, ast.Name):
        return node.id, ""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id != "settings":
        return node.attr, ""   # `other_app.models.Author`; not settings.AUTH_USER_MODEL
    return "", ""


def read_django_field(model: ModelInfo, attr: str, value: ast.expr | None, line: int, resolve: Resolver,
                      backrefs_out: list[tuple[str, RelationshipInfo]]) -> None:
    """One class-body attribute of a Django model: a field (a column, or a relation with its
    `<name>_id` column and its reverse accessor on the target)."""
    if not isinstance(value, ast.Call):
        return
    if external_name(resolve(value.func)) in DJANGO_GENERIC_FOREIGN_KEYS:
        # Reading it loads the content type, then the row (of any model): prefetch_related only.
        model.relationships[attr] = RelationshipInfo(attr, "", "select", False, line, django="one",
                                                     query_name=attr, generic=True)
        return
    field_type = django_field_type(value, resolve)
    if not field_type.endswith("Field") and field_type not in DJANGO_RELATION_FIELDS:
        return
    null = const_kw(value, "null", False) is True
    reading = DJANGO_RELATION_FIELDS.get(field_type)
    if const_kw(value, "primary_key") is True:
        if model.columns.get("id") is not None and model.columns["id"].primary_key:
            model.columns.pop("id")  # no automatic `id` then
        if reading is None:
            model.columns[attr] = ColumnInfo(attr, False, line, primary_key=True)
            return
    if reading is None:
        model.columns[attr] = ColumnInfo(attr, null, line)
        return
    target, app_label = _django_target(value, model.name)
    if not target:
        return
    many = reading == "many"
    model.relationships[attr] = RelationshipInfo(attr, target, "select", many, line, secondary=many,
                                                 django=reading, query_name=attr, app_label=app_label)
    if not many:
        model.columns[f"{attr}_id"] = ColumnInfo(f"{attr}_id", null, line, references=target)
    related = const_kw(value, "related_name")
    if related is NOT_LITERAL or (isinstance(related, str) and related.endswith("+")):
        return  # no reverse accessor, or one we cannot name
    lower = model.name.lower()
    one_to_one = field_type == "OneToOneField"
    if isinstance(related, str):
        name = related.replace("%(class)s", lower)
        if "%(" in name:
            return  # %(app_label)s: the app is not known here
    else:
        name = lower if one_to_one else f"{lower}_set"
    query_name = const_kw(value, "related_query_name")
    if not isinstance(query_name, str):
        query_name = name if isinstance(related, str) else lower
    backrefs_out.append((target, RelationshipInfo(
        name, model.name, "select", not one_to_one, line, secondary=many,
        django="one" if one_to_one else "many", query_name=query_name,
        reverse_fk=field_type == "ForeignKey")))
