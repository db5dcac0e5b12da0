"""ModelIndex entries: mapped classes with their columns (nullability as SQLAlchemy decides it)
and relationships (target, loading strategy)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ormlens.analysis import queries
from ormlens.analysis.astutil import is_none, last_name, unquote


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
    generic: bool = False     # Django: a GenericForeignKey (a row of any model; prefetch_related only)
    # SQLAlchemy: the declaring model's columns named by `foreign_keys=[...]` (the join's local side).
    foreign_keys: tuple[str, ...] = ()
    # SQLAlchemy, what else its own arguments say of its direction (ProjectIndex.uselist): the
    # target's columns `foreign_keys=` names; the columns of each side `primaryjoin=` compares; the
    # side ("local" / "remote") of the columns it wraps in `foreign()`; the names `remote_side=`
    # gives (None: not given); the target's relationship it mirrors (`back_populates=`, or the one
    # whose `backref=` declared it); `foreign_keys=` / `primaryjoin=` / `remote_side=` in a form not read.
    remote_foreign_keys: tuple[str, ...] = ()
    join_local: tuple[str, ...] = ()
    join_remote: tuple[str, ...] = ()
    foreign_side: str = ""
    remote_side: tuple[str, ...] | None = None
    back_populates: str = ""
    join_unread: bool = False

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
    style: str = "sqlalchemy"  # the ORM plugin that declared it (orm/): "sqlalchemy", "django", ...
    abstract: bool = False     # Django `class Meta: abstract = True`: fields for subclasses only
    # Django: manager attribute -> the project manager/queryset classes whose methods it has
    # ((module path, ClassDecl) pairs; empty for a plain models.Manager()).
    managers: dict[str, list] = field(default_factory=dict)
    # Django: a historical model (`apps.get_model(...)` in a data migration) stands for this
    # current model: its fields and relations, but none of its methods, properties or managers.
    current: ModelInfo | None = None
    # A model of an installed library app, known by name only (orm/django.py library_model): how
    # many rows its table holds is not known either.
    library: bool = False
    # Django: the concrete models it derives from (multi-table inheritance, proxies), whose reverse
    # accessors its rows have too.
    parents: tuple[ModelInfo, ...] = ()

    @property
    def django(self) -> bool:
        return self.style == "django"

    @property
    def identity_map(self) -> bool:
        """Does the ORM look a row up by primary key in its session's identity map before loading
        it (SQLAlchemy), so a many-to-one read of a parent already loaded runs nothing?"""
        return self.style == "sqlalchemy"

    def column_name(self, attr: str) -> str:
        """The column an attribute of a row names: Django's `pk` is the primary key."""
        return self.primary_key or attr if attr == "pk" and self.django else attr

    @property
    def primary_key(self) -> str | None:
        keys = [name for name, column in self.columns.items() if column.primary_key]
        return keys[0] if len(keys) == 1 else None

    def local_foreign_keys(self, rel: RelationshipInfo) -> bool:
        """Does `rel` join through `foreign_keys=` that are this model's own columns, each a foreign
        key to another table? Then it is many-to-one, whatever its target (a library's model)."""
        columns = [self.columns.get(name) for name in rel.foreign_keys]
        return bool(columns) and all(c is not None and c.references and c.references not in (self.table, self.name)
                                     for c in columns)

    def references(self, column: str, target: ModelInfo) -> bool:
        """Is `column` a foreign key to `target`'s table?"""
        info = self.columns.get(column)
        return info is not None and info.references in (target.table, target.name)

    def __repr__(self) -> str:
        return f"<ModelInfo {self.name}>"


# --- reading class bodies ----------------------------------------------------------------------


NOT_LITERAL = object()  # the keyword is given, as an expression we do not evaluate


def const_kw(call: ast.Call, name: str, default: object = None) -> object:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else NOT_LITERAL
    return default


def has_kw(call: ast.Call, name: str) -> bool:
    return any(kw.arg == name for kw in call.keywords)


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


def class_name_of(node: ast.expr | None) -> str:
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
        return class_name_of(node.body)
    inner = collection_item(node) if isinstance(node, ast.Subscript) else None
    if inner is not None:
        return class_name_of(inner)
    if isinstance(node, ast.Subscript):  # Optional["Parent"]
        return class_name_of(node.slice)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # "Parent" | None
        return class_name_of(node.right if is_none(node.left) else node.left)
    return ""


# --- SQLModel ------------------------------------------------------------------------------------


# --- Django fields -----------------------------------------------------------------------------------


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
