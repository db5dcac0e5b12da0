"""ModelIndex entries: mapped classes with their columns (nullability as SQLAlchemy decides it)
and relationships (target, loading strategy)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ormlens.analysis import queries
from ormlens.analysis.astutil import is_none, last_name, unquote
from ormlens.analysis.flow import Kind, Value


@dataclass
class ColumnInfo:
    name: str
    nullable: bool
    line: int
    references: str | None = None  # the table a ForeignKey("table.col") points at
    primary_key: bool = False


@dataclass
class RelationshipInfo:
    name: str
    target: str            # class name as written ("User" or "app.models.User" -> "User")
    lazy: object           # "select", "joined", ..., True/False, as SQLAlchemy accepts
    uselist: bool | None   # None: decided by the direction (see ProjectIndex.uselist)
    line: int
    secondary: bool = False  # many-to-many through an association table
    # Django: "one" (forward ForeignKey / one-to-one, reverse one-to-one: reading it loads a row) or
    # "many" (reverse ForeignKey, many-to-many: reading it gives a related manager, a queryset).
    django: str = ""
    query_name: str = ""   # Django: the name in lookups and Count("..."): related_query_name
    app_label: str = ""    # Django: "app" of a "app.Model" target
    reverse_fk: bool = False  # Django: a ForeignKey's reverse manager (its rows know their parent)

    @property
    def loads_per_access(self) -> bool:
        """Reading it on a row runs a SELECT unless it was eager-loaded. Only the lazy strategies
        count: `lazy=None` is noload, and a `lazy=` we cannot read may be anything."""
        return self.lazy in queries.LAZY_STRATEGIES

    @property
    def returns_query(self) -> bool:
        return self.lazy in queries.QUERY_STRATEGIES


@dataclass(eq=False)
class ModelInfo:
    name: str
    module_path: str
    line: int
    table: str = ""
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    relationships: dict[str, RelationshipInfo] = field(default_factory=dict)
    # Backrefs this model declares on others: (target class name, relationship).
    extra_backrefs: list[tuple[str, RelationshipInfo]] = field(default_factory=list)
    style: str = "sqlalchemy"  # or "django"
    abstract: bool = False     # Django `class Meta: abstract = True`: fields for subclasses only
    # Django: manager attribute -> the project manager/queryset classes whose methods it has
    # ((module path, ClassDecl) pairs; empty for a plain models.Manager()).
    managers: dict[str, list] = field(default_factory=dict)
    # Django: a historical model (`apps.get_model(...)` in a data migration) stands for this
    # current model: its fields and relations, but none of its methods, properties or managers.
    current: ModelInfo | None = None

    @property
    def django(self) -> bool:
        return self.style == "django"

    @property
    def identity_map(self) -> bool:
        """Does the ORM look a row up by primary key in its session's identity map before loading
        it (SQLAlchemy), so a many-to-one read of a parent already loaded runs nothing?"""
        return not self.django

    def column_name(self, attr: str) -> str:
        """The column an attribute of a row names: Django's `pk` is the primary key."""
        return self.primary_key or attr if attr == "pk" and self.django else attr

    @property
    def primary_key(self) -> str | None:
        keys = [name for name, column in self.columns.items() if column.primary_key]
        return keys[0] if len(keys) == 1 else None

    def references(self, column: str, target: ModelInfo) -> bool:
        """Is `column` a foreign key to `target`'s table?"""
        info = self.columns.get(column)
        return info is not None and info.references in (target.table, target.name)

    def __repr__(self) -> str:
        return f"<ModelInfo {self.name}>"


# --- reading class bodies ----------------------------------------------------------------------

Resolver = Callable[[ast.expr], Value]


def external_name(value: Value) -> str:
    return value.name if value.kind is Kind.EXTERNAL else ""


def _callee_kind(call: ast.Call, resolve: Resolver) -> str:
    """'column' | 'relationship' | 'backref' | 'wrapper' | '' for the constructor called."""
    full = external_name(resolve(call.func))
    if full in queries.COLUMN_CONSTRUCTORS:
        return "column"
    if full in queries.RELATIONSHIP_CONSTRUCTORS:
        return "relationship"
    if full in queries.BACKREF_CONSTRUCTORS:
        return "backref"
    if full in queries.COLUMN_WRAPPERS:
        return "wrapper"
    if full:
        return ""
    # Unresolvable receiver (e.g. `db` imported from outside the project): the constructor's own
    # name is distinctive enough inside a class body that is already a model candidate.
    last = last_name(call.func)
    return {"Column": "column", "mapped_column": "column", "relationship": "relationship",
            "relation": "relationship", "backref": "backref", "deferred": "wrapper"}.get(last, "")


NOT_LITERAL = object()  # the keyword is given, as an expression we do not evaluate


def _const_kw(call: ast.Call, name: str, default: object = None) -> object:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else NOT_LITERAL
    return default


def _has_kw(call: ast.Call, name: str) -> bool:
    return any(kw.arg == name for kw in call.keywords)


def _mapped_inner(annotation: ast.expr | None) -> ast.expr | None:
    """`Mapped[X]` (also `so.Mapped[X]`, or as a string) -> X."""
    if annotation is None:
        return None
    annotation = unquote(annotation)
    if isinstance(annotation, ast.Subscript):
        if last_name(annotation.value) == "Mapped":
            return annotation.slice
    return None


def _query_strategy(annotation: ast.expr | None) -> str | None:
    """`WriteOnlyMapped[X]` / `DynamicMapped[X]` choose the relationship's loader: "write_only" /
    "dynamic" (reading the attribute gives a collection to query, not the rows)."""
    if annotation is None:
        return None
    annotation = unquote(annotation)
    if isinstance(annotation, ast.Subscript):
        return queries.QUERY_ANNOTATIONS.get(last_name(annotation.value))
    return None


def annotation_is_optional(node: ast.expr) -> bool:
    node = unquote(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return any(annotation_is_optional(side) or is_none(side) for side in (node.left, node.right))
    if isinstance(node, ast.Subscript):
        name = last_name(node.value)
        if name == "Optional":
            return True
        if name == "Union":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return any(is_none(item) for item in items)
    return False


def collection_item(node: ast.expr) -> ast.expr | None:
    """`list["Child"]`, `List[Child]`, `set[Child]` -> Child."""
    node = unquote(node)
    if isinstance(node, ast.Subscript):
        if last_name(node.value) in ("list", "List", "set", "Set", "Sequence", "Iterable", "Iterator", "Generator",
                                     "Collection", "WriteOnlyMapped",
                    "DynamicMapped", "frozenset", "FrozenSet", "tuple", "Tuple"):
            inner = node.slice
            if isinstance(inner, ast.Tuple):
                inner = inner.elts[0] if inner.elts else None
            return inner
    return None


def _class_name_of(node: ast.expr | None) -> str:
    if node is None:
        return ""
    node = unquote(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1]
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Lambda):
        return _class_name_of(node.body)
    inner = collection_item(node) if isinstance(node, ast.Subscript) else None
    if inner is not None:
        return _class_name_of(inner)
    if isinstance(node, ast.Subscript):  # Optional["Parent"]
        return _class_name_of(node.slice)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # "Parent" | None
        return _class_name_of(node.right if is_none(node.left) else node.left)
    return ""


def is_mapping_call(value: ast.expr | None, resolve: Resolver) -> bool:
    return isinstance(value, ast.Call) and _callee_kind(value, resolve) in ("column", "relationship", "wrapper")


def read_attribute(model: ModelInfo, attr: str, annotation: ast.expr | None, value: ast.expr | None,
                   line: int, resolve: Resolver, backrefs_out: list[tuple[str, RelationshipInfo]]) -> None:
    """One class-body attribute: add the column or relationship it declares to `model`."""
    mapped = _mapped_inner(annotation)
    kind = _callee_kind(value, resolve) if isinstance(value, ast.Call) else ""
    if kind == "wrapper" and value.args and isinstance(value.args[0], ast.Call):
        value = value.args[0]
        kind = _callee_kind(value, resolve)
    if kind == "relationship":
        strategy = _query_strategy(annotation)
        if strategy is not None:
            mapped = annotation  # WriteOnlyMapped["Note"]: a collection of Notes
        target = _class_name_of(value.args[0]) if value.args else _class_name_of(mapped)
        lazy = strategy or _const_kw(value, "lazy", "select")
        lazy = "select" if lazy is True else lazy
        uselist = _const_kw(value, "uselist")
        if uselist is NOT_LITERAL:
            uselist = None
        if uselist is None and mapped is not None:
            uselist = collection_item(mapped) is not None
        model.relationships[attr] = RelationshipInfo(attr, target, lazy, uselist, line,
                                                     secondary=_has_kw(value, "secondary"))
        _read_backref(model, value, resolve, line, backrefs_out)
        return
    if kind == "column":
        nullable = _const_kw(value, "nullable")
        if nullable is NOT_LITERAL:
            nullable = False  # cannot tell: say nothing
        if not isinstance(nullable, bool):
            if _const_kw(value, "primary_key") is True:
                nullable = False
            elif mapped is not None:
                nullable = annotation_is_optional(mapped)
            else:
                nullable = True  # Column() is nullable unless told otherwise
        model.columns[attr] = ColumnInfo(attr, nullable, line, _foreign_table(value),
                                         _const_kw(value, "primary_key") is True)
        return
    if value is None and mapped is not None:
        # `x: Mapped[Optional[int]]` alone declares a column; `Mapped[list["B"]]` needs relationship().
        if collection_item(mapped) is None:
            model.columns[attr] = ColumnInfo(attr, annotation_is_optional(mapped), line)


def _foreign_table(call: ast.Call) -> str | None:
    """`Column(Integer, ForeignKey("user.id"))` -> "user"."""
    for arg in call.args:
        if isinstance(arg, ast.Call) and arg.args and last_name(arg.func) == "ForeignKey":
            target = arg.args[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str) and "." in target.value:
                return target.value.rsplit(".", 1)[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                return target.value.id  # ForeignKey(User.id): the class name stands for its table
    return None


def default_table_name(class_name: str) -> str:
    """Flask-SQLAlchemy's default `__tablename__`: CamelCase -> camel_case."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_name).lower()


def _read_backref(model: ModelInfo, call: ast.Call, resolve: Resolver, line: int,
                  backrefs_out: list[tuple[str, RelationshipInfo]]) -> None:
    """`relationship(..., backref="owner")` adds `Target.owner`, lazily loaded unless `backref(...)`
    says otherwise."""
    for kw in call.keywords:
        if kw.arg != "backref":
            continue
        name, lazy = None, "select"
        if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            name = kw.value.value
        elif isinstance(kw.value, ast.Call) and _callee_kind(kw.value, resolve) == "backref":
            if kw.value.args and isinstance(kw.value.args[0], ast.Constant):
                name = kw.value.args[0].value
            lazy = _const_kw(kw.value, "lazy", "select")
            lazy = "select" if lazy is True else lazy
        if isinstance(name, str):
            target = _class_name_of(call.args[0]) if call.args else ""
            backrefs_out.append((target, RelationshipInfo(name, model.name, lazy, None, line)))


# --- SQLModel ------------------------------------------------------------------------------------


def read_sqlmodel_attribute(model: ModelInfo, attr: str, annotation: ast.expr | None, value: ast.expr | None,
                            line: int, resolve: Resolver, backrefs_out: list[tuple[str, RelationshipInfo]]) -> None:
    """One field of a `table=True` SQLModel class, as sqlmodel maps it: `Relationship(...)` is a
    relationship, anything else annotated is a column (nullable when the annotation is Optional and
    it is not the primary key, unless `nullable=` says otherwise)."""
    if annotation is None or attr.startswith("_") or attr == "model_config":
        return
    declared = unquote(annotation)
    if isinstance(declared, ast.Subscript) and last_name(declared.value) == "ClassVar":
        return
    full = external_name(resolve(value.func)) if isinstance(value, ast.Call) else ""
    if isinstance(value, ast.Call) and (full in queries.SQLMODEL_RELATIONSHIPS or
                                        (not full and last_name(value.func) == "Relationship")):
        explicit = next((kw.value for kw in value.keywords if kw.arg == "sa_relationship"), None)
        if isinstance(explicit, ast.Call):  # Relationship(sa_relationship=relationship(...))
            read_attribute(model, attr, None, explicit, line, resolve, backrefs_out)
            return
        options = next((kw.value for kw in value.keywords if kw.arg == "sa_relationship_kwargs"), None)
        lazy: object = "select"
        uselist: object = None
        if isinstance(options, ast.Dict):
            for key, item in zip(options.keys, options.values):
                if isinstance(key, ast.Constant) and key.value in ("lazy", "uselist"):
                    literal = item.value if isinstance(item, ast.Constant) else NOT_LITERAL
                    if key.value == "lazy":
                        lazy = "select" if literal is True else literal
                    else:
                        uselist = None if literal is NOT_LITERAL else literal
        elif options is not None:
            lazy = NOT_LITERAL  # kwargs built elsewhere: the strategy is unknown
        if uselist is None:
            uselist = collection_item(annotation) is not None
        model.relationships[attr] = RelationshipInfo(attr, _class_name_of(annotation), lazy, uselist, line,
                                                     secondary=_has_kw(value, "link_model"))
        return
    if isinstance(value, ast.Call) and (full in queries.SQLMODEL_FIELDS or (not full and last_name(value.func) == "Field")):
        column = next((kw.value for kw in value.keywords if kw.arg == "sa_column"), None)
        if isinstance(column, ast.Call):  # Field(sa_column=Column(...)): that Column says it all
            read_attribute(model, attr, None, column, line, resolve, backrefs_out)
            return
        primary_key = _const_kw(value, "primary_key") is True
        nullable = _const_kw(value, "nullable")
        if nullable is NOT_LITERAL:
            nullable = False  # cannot tell: say nothing
        if not isinstance(nullable, bool):
            nullable = not primary_key and annotation_is_optional(annotation)
        foreign = _const_kw(value, "foreign_key")
        references = foreign.rsplit(".", 1)[0] if isinstance(foreign, str) and "." in foreign else None
        model.columns[attr] = ColumnInfo(attr, nullable, line, references, primary_key)
        return
    model.columns[attr] = ColumnInfo(attr, annotation_is_optional(annotation), line)
# --- Django fields -----------------------------------------------------------------------------------


def django_field_type(call: ast.Call, resolve: Resolver) -> str:
    """`models.ForeignKey(...)` -> "ForeignKey"; "" when the callee is not one of Django's fields."""
    full = external_name(resolve(call.func))
    if full.startswith(queries.DJANGO_MODULE_PREFIXES):
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
    field_type = django_field_type(value, resolve)
    if not field_type.endswith("Field") and field_type not in queries.DJANGO_RELATION_FIELDS:
        return
    null = _const_kw(value, "null", False) is True
    reading = queries.DJANGO_RELATION_FIELDS.get(field_type)
    if _const_kw(value, "primary_key") is True:
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
    related = _const_kw(value, "related_name")
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
    query_name = _const_kw(value, "related_query_name")
    if not isinstance(query_name, str):
        query_name = name if isinstance(related, str) else lower
    backrefs_out.append((target, RelationshipInfo(
        name, model.name, "select", not one_to_one, line, secondary=many,
        django="one" if one_to_one else "many", query_name=query_name,
        reverse_fk=field_type == "ForeignKey")))


def fingerprint_models(models: list[ModelInfo]) -> str:
    """A digest of what the analysis can learn from these models (names, tables, fields,
    relations, backrefs, managers, positions): equal digests, equal answers."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for model in sorted(models, key=lambda m: (m.module_path, m.line, m.name)):
        managers = sorted((name, [(path, cls.name) for path, cls in classes])
                          for name, classes in model.managers.items())
        digest.update(repr((model.name, model.module_path, model.line, model.table, model.style, model.abstract,
                            sorted(model.columns.items()), sorted(model.relationships.items()),
                            model.extra_backrefs, managers)).encode())
    return digest.hexdigest()
