"""SQLAlchemy, Flask-SQLAlchemy and SQLModel, what their declarations mean: declarative bases,
mapped classes and their columns and relationships, sessions and session factories."""

from __future__ import annotations

import ast
import re

from ormlens.analysis.astutil import last_name, unquote
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind, Resolver, external_name
from ormlens.analysis.models import (
    NOT_LITERAL,
    ColumnInfo,
    ModelInfo,
    RelationshipInfo,
    annotation_is_optional,
    class_name_of,
    collection_item,
    const_kw,
    has_kw,
)
from ormlens.analysis.orm import sqlalchemy_imperative
from ormlens.analysis.orm.api import Index

# --- the library's names -------------------------------------------------------------------------

# Fully qualified names of things imported from the ORMs, by what they are.
SESSION_CLASSES = frozenset({
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.orm.scoping.scoped_session",
    "sqlalchemy.orm.scoped_session",
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.ext.asyncio.async_scoped_session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
    "flask_sqlalchemy.session.Session",
})

# Sessions whose lazy loads cannot run: reading an unloaded relationship raises MissingGreenlet.
ASYNC_SESSION_CLASSES = frozenset({
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.ext.asyncio.async_scoped_session",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
})

SESSION_FACTORIES = frozenset({
    "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.orm.session.sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker",
})

ASYNC_SESSION_FACTORIES = frozenset({
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker",
})

# AsyncAttrs: `await row.awaitable_attrs.rel` loads `rel` (one query) without MissingGreenlet.
AWAITABLE_ATTRS = "awaitable_attrs"

FLASK_SQLALCHEMY = frozenset({
    "flask_sqlalchemy.SQLAlchemy",
    "flask_sqlalchemy.extension.SQLAlchemy",
})

# Calling these gives a declarative base class.
DECLARATIVE_BASE_FACTORIES = frozenset({
    "sqlalchemy.ext.declarative.declarative_base",
    "sqlalchemy.orm.declarative_base",
})

# Subclassing these gives a declarative base (the subclass itself is not mapped).
DECLARATIVE_BASE_CLASSES = frozenset({
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
})

COLUMN_CONSTRUCTORS = frozenset({
    "sqlalchemy.Column",
    "sqlalchemy.schema.Column",
    "sqlalchemy.sql.schema.Column",
    "sqlalchemy.orm.mapped_column",
})

RELATIONSHIP_CONSTRUCTORS = frozenset({
    "sqlalchemy.orm.relationship",
    "sqlalchemy.orm.relation",
})

BACKREF_CONSTRUCTORS = frozenset({"sqlalchemy.orm.backref"})

# SQLModel: subclasses of SQLModel with `table=True` are mapped; every annotated field is a column
# (Field(...) says how) unless it is a Relationship(...).
SQLMODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})

SQLMODEL_FIELDS = frozenset({"sqlmodel.Field", "sqlmodel.main.Field"})

SQLMODEL_RELATIONSHIPS = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship"})

# Wrappers whose first argument is the real column.
COLUMN_WRAPPERS = frozenset({"sqlalchemy.orm.deferred"})

SELECT_CONSTRUCTORS = frozenset({
    "sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select", "sqlmodel.select",
    "sqlmodel.sql.expression.select",
})

# Loader options, by effect on a relationship read later.
EAGER_LOADERS = frozenset({
    "selectinload", "joinedload", "subqueryload", "contains_eager", "immediateload",
    # These stop a lazy load from happening at all (raise or return nothing).
    "raiseload", "noload",
})

PATH_ONLY_LOADERS = frozenset({"defaultload"})

LAZY_LOADERS = frozenset({"lazyload"})

LOADER_MODULES = ("sqlalchemy.orm", "sqlalchemy.orm.strategy_options")

COLUMN_OPTIONS = frozenset({"defer", "undefer", "undefer_group", "load_only", "with_expression",
                            "selectin_polymorphic", "with_loader_criteria"})

# Annotations that choose one of those strategies (whatever `lazy=` says).
QUERY_ANNOTATIONS = {"WriteOnlyMapped": "write_only", "DynamicMapped": "dynamic"}

# Methods of a write-only collection that build a statement (run by session.execute/scalars).
WRITE_ONLY_STATEMENTS = frozenset({"select", "insert", "update", "delete"})

# Methods of a 1.x Query that return another Query.
QUERY_BUILDERS = frozenset({
    "filter", "filter_by", "where", "order_by", "join", "outerjoin", "options", "limit", "offset",
    "group_by", "having", "distinct", "with_entities", "add_columns", "add_entity", "select_from",
    "execution_options", "enable_eagerloads", "populate_existing", "with_for_update", "yield_per",
    "union", "union_all", "params", "correlate", "reset_joinpoint", "autoflush", "with_parent",
    "from_self", "with_labels", "set_label_style", "slice",
})

# Session (and Flask-SQLAlchemy `db`) methods that run a statement, by what they give back:
# "result" a Result of tuples, "scalars" rows, else the Query terminal with the same meaning.
SESSION_STATEMENT_METHODS = {
    "execute": "result",
    "scalars": "scalars",
    "exec": "scalars",          # SQLModel
    "scalar": "first",
    "first_or_404": "first",    # Flask-SQLAlchemy 3 `db.first_or_404(stmt)`
    "one_or_404": "one",
    "paginate": "paginate",
    "stream": "result",         # AsyncSession: an AsyncResult, read with `async for`
    "stream_scalars": "scalars",
}

# Write statement constructors, by what they write; a session runs them like a select().
WRITE_CONSTRUCTORS = {
    f"{module}.{verb}": verb
    for module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlalchemy.sql.dml", "sqlmodel")
    for verb in ("insert", "update", "delete")
} | {f"sqlalchemy.dialects.{dialect}.insert": "insert" for dialect in ("postgresql", "sqlite", "mysql")}

# Session methods that load one row by primary key: session.get(Model, pk).
SESSION_GET_METHODS = frozenset({"get", "get_or_404"})

FLASK_DB_QUERY_METHODS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})

# Query methods that turn it into a SQL construct for another statement (not run).
SUBQUERY_METHODS = frozenset({"subquery", "scalar_subquery", "as_scalar", "cte", "exists", "label",
                              "alias", "statement"})

# Query methods after which its rows are tuples, not model instances.
ENTITY_METHODS = frozenset({"with_entities", "add_columns", "add_entity"})

# Column methods and functions in a filter that never match NULL (so the column is NOT NULL).
IS_NOT_METHODS = frozenset({"isnot", "is_not"})

NULL_EXCLUDING_METHODS = frozenset({"in_", "like", "ilike", "between", "startswith", "endswith",
                                    "contains"})

AND_FUNCTIONS = frozenset({"and_"})

# What the rows that a 2.0 Result yields become, by method.
RESULT_METHODS = {
    "scalars": "result",
    "all": "rows",
    "first": "row",
    "one": "row",
    "one_or_none": "row",
    "scalar": "scalar",
    "scalar_one": "row",
    "scalar_one_or_none": "row",
    "unique": "result",
    "fetchall": "rows",
}

# Attributes of a mapped class (or declarative base, SQLModel, Flask-SQLAlchemy `db`) that are
# schema objects: its MetaData, Table, Mapper.
SCHEMA_ENTRIES = frozenset({"metadata", "__table__", "__mapper__"})

# Collections a schema object (MetaData, Table, Column, Constraint, Mapper, InstanceState) holds:
# tables, columns, keys, constraints, mapped attributes. Their items are schema objects too.
SCHEMA_COLLECTIONS = frozenset({
    "tables", "sorted_tables", "columns", "c", "foreign_keys", "constraints", "indexes", "primary_key",
    "foreign_key_constraints", "attrs", "relationships", "column_attrs", "all_orm_descriptors",
    "synonyms", "composites", "iterate_properties", "elements", "remote_side", "local_columns",
    # Django's Options (`Model._meta`): the model's fields and relations.
    "fields", "concrete_fields", "local_fields", "local_concrete_fields", "many_to_many",
    "local_many_to_many", "related_objects", "private_fields", "parents", "fields_map",
})

# Attributes of a schema object that are other schema objects (a key's column, a column's table).
SCHEMA_OBJECTS = frozenset({"table", "column", "parent", "mapper", "metadata", "mapped_table",
                            "local_table", "persist_selectable", "__table__", "property",
                            "_meta", "concrete_model", "model", "remote_field", "related_model"})

# inspect(Model) gives its Mapper, inspect(row) its InstanceState: schema objects.
SCHEMA_INSPECT = frozenset({"sqlalchemy.inspect", "sqlalchemy.inspection.inspect"})


def _cache(index: Index) -> dict:
    return index.plugin_caches.setdefault("sqlalchemy.model_bases", {})


def forget(index: Index, nodes: set[str] | None) -> None:
    """Drop what was derived from `nodes` (module paths; None: everything)."""
    sqlalchemy_imperative.forget(index, nodes)
    bases = _cache(index)
    if nodes is None:
        bases.clear()
        return
    for key in [key for key in bases if key[0] in nodes]:
        del bases[key]


def is_model_base(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    key = (decl.path, cls.name)
    index.dependencies.read(decl.path)
    if key not in _cache(index):
        _cache(index)[key] = False
        with index.dependencies.computing(decl.path):
            _cache(index)[key] = any(
                index.eval_static(decl, base).name in DECLARATIVE_BASE_CLASSES for base in cls.bases
            ) or (is_abstract(decl, cls) and has_model_base(index, decl, cls))
    return _cache(index)[key]


def is_abstract(decl: ModuleDecl, cls: ClassDecl) -> bool:
    value = cls.attr_value("__abstract__")
    return isinstance(value, ast.Constant) and value.value is True


def has_model_base(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return any(index.eval_static(decl, b).kind in (Kind.MODEL_BASE, Kind.MODEL_CLASS) for b in cls.bases)


def is_sqlmodel(index: Index, decl: ModuleDecl, cls: ClassDecl, depth: int = 0) -> bool:
    """A subclass of sqlmodel.SQLModel (directly, or through project classes such as `HeroBase`)."""
    if depth > 8:
        return False
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.EXTERNAL and value.name in SQLMODEL_BASES:
            return True
        if value.kind is Kind.CLASS and value.ref is not None:
            base_decl = index.decl(value.ref[0])
            if base_decl is not None and is_sqlmodel(index, base_decl, value.ref[1], depth + 1):
                return True
    return False


def build_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    parents: list[ModelInfo] = []
    mixins: list[tuple[ModuleDecl, ClassDecl]] = []
    mapped_base = False
    sqlmodel = is_sqlmodel(index, decl, cls)
    if sqlmodel:
        # Only `class Hero(SQLModel, table=True)` is mapped; the other SQLModel classes are
        # pydantic models (HeroCreate, HeroPublic), whose fields are plain values.
        table = cls.keyword("table")
        if not (isinstance(table, ast.Constant) and table.value is True):
            return None
        mapped_base = True
    for base in cls.bases:
        value = index.eval_static(decl, base)
        if value.kind is Kind.MODEL_CLASS and value.model is not None:
            if value.model.style != "sqlalchemy":
                return None  # another ORM's model class (its plugin reads it)
            parents.append(value.model)
        elif value.kind is Kind.MODEL_BASE:
            mapped_base = True
        elif value.kind is Kind.EXTERNAL and value.name in DECLARATIVE_BASE_CLASSES:
            return None  # a declarative base itself is not mapped
        elif value.kind is Kind.CLASS and value.ref is not None:
            mixins.append(value.ref)
    resolve = lambda node: index.eval_static(decl, node)  # noqa: E731
    declares = cls.attr_value("__tablename__") is not None or any(
        is_mapping_call(value, resolve) for _, _, value, _ in cls.attrs
    )
    if is_abstract(decl, cls):
        return None
    if not (parents or mapped_base or declares):
        # A plain class, unless a call of its module maps it: `mapper(Cls, table, properties=...)`.
        mapping = sqlalchemy_imperative.mapping_of(index, decl, cls)
        return None if mapping is None else \
            sqlalchemy_imperative.build_model(index, decl, cls, mapping, read_attribute)
    table = cls.attr_value("__tablename__")
    model = ModelInfo(cls.name, decl.path, cls.node.lineno,
                      table.value if isinstance(table, ast.Constant) and isinstance(table.value, str)
                      else cls.name.lower() if sqlmodel  # SQLModel's default: the class name, lower-cased
                      else default_table_name(cls.name))
    read = read_sqlmodel_attribute if sqlmodel else read_attribute
    for parent in parents:
        model.columns.update(parent.columns)
        model.relationships.update(parent.relationships)
    backrefs: list[tuple[str, RelationshipInfo]] = []
    for mixin_path, mixin in mixins:
        mixin_decl = index.decl(mixin_path)
        if mixin_decl is not None:
            mixin_resolve = lambda node, d=mixin_decl: index.eval_static(d, node)  # noqa: E731
            for attr, annotation, value, line in mixin.attrs:
                read(model, attr, annotation, value, line, mixin_resolve, backrefs)
    for attr, annotation, value, line in cls.attrs:
        read(model, attr, annotation, value, line, resolve, backrefs)
    model.extra_backrefs = backrefs
    return model


# --- reading class bodies -------------------------------------------------------------------------


def _callee_kind(call: ast.Call, resolve: Resolver) -> str:
    """'column' | 'relationship' | 'backref' | 'wrapper' | '' for the constructor called."""
    full = external_name(resolve(call.func))
    if full in COLUMN_CONSTRUCTORS:
        return "column"
    if full in RELATIONSHIP_CONSTRUCTORS:
        return "relationship"
    if full in BACKREF_CONSTRUCTORS:
        return "backref"
    if full in COLUMN_WRAPPERS:
        return "wrapper"
    if full:
        return ""
    # Unresolvable receiver (e.g. `db` imported from outside the project): the constructor's own
    # name is distinctive enough inside a class body that is already a model candidate.
    last = last_name(call.func)
    return {"Column": "column", "mapped_column": "column", "relationship": "relationship",
            "relation": "relationship", "backref": "backref", "deferred": "wrapper"}.get(last, "")


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
        return QUERY_ANNOTATIONS.get(last_name(annotation.value))
    return None


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
        target = class_name_of(value.args[0]) if value.args else class_name_of(mapped)
        lazy = strategy or const_kw(value, "lazy", "select")
        lazy = "select" if lazy is True else lazy
        uselist = const_kw(value, "uselist")
        if uselist is NOT_LITERAL:
            uselist = None
        if uselist is None and mapped is not None:
            uselist = collection_item(mapped) is not None
        model.relationships[attr] = RelationshipInfo(attr, target, lazy, uselist, line,
                                                     secondary=has_kw(value, "secondary"),
                                                     **join_facts(value, model.name, target))
        _read_backref(model, attr, value, resolve, line, backrefs_out)
        return
    if kind == "column":
        nullable = const_kw(value, "nullable")
        if nullable is NOT_LITERAL:
            nullable = False  # cannot tell: say nothing
        if not isinstance(nullable, bool):
            if const_kw(value, "primary_key") is True:
                nullable = False
            elif mapped is not None:
                nullable = annotation_is_optional(mapped)
            else:
                nullable = True  # Column() is nullable unless told otherwise
        model.columns[attr] = ColumnInfo(attr, nullable, line, _foreign_table(value),
                                         const_kw(value, "primary_key") is True)
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


def join_facts(call: ast.Call, model_name: str, target: str) -> dict:
    """What a `relationship(...)` (or `backref(...)`) of `model_name` to `target` says of its own
    join, as RelationshipInfo's fields: the columns `foreign_keys=` names on each side, the columns
    `primaryjoin=` compares and the side of those in `foreign()`, `remote_side=`, `back_populates=`;
    `join_unread` when one of them is in a form not read (then no guess from the tables' keys)."""
    facts: dict = {}
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    back = keywords.get("back_populates")
    if isinstance(back, ast.Constant) and isinstance(back.value, str):
        facts["back_populates"] = back.value
    self_ref = target == model_name
    remote_side: tuple[str, ...] | None = None
    if "remote_side" in keywords:
        named = _named_columns(keywords["remote_side"], model_name, target)
        if named is None:
            facts["join_unread"] = True
        else:
            remote_side = facts["remote_side"] = named[0] + named[1]
    if "foreign_keys" in keywords:
        named = _named_columns(keywords["foreign_keys"], model_name, target)
        if named is None or (self_ref and named[1]):
            facts["join_unread"] = True
        else:
            local, remote = named
            if not remote:
                facts["foreign_keys"] = local  # (self-referential: both sides' columns are "local")
            else:
                facts["remote_foreign_keys"] = remote
            if not self_ref and bool(local) != bool(remote):
                facts["foreign_side"] = "local" if local else "remote"
    if "primaryjoin" in keywords:
        columns = _join_columns(keywords["primaryjoin"], model_name, target)
        if columns is None:
            facts["join_unread"] = True
        else:
            annotated = any(remote for _, _, _, remote in columns)
            sides = []
            for owner, name, foreign, remote in columns:
                if owner == "self":  # which side is remote: remote() or remote_side= says; else unknown
                    if not (annotated or remote_side is not None):
                        continue
                    owner = "remote" if remote or (not annotated and name in remote_side) else "local"
                sides.append((owner, name, foreign))
            facts["join_local"] = tuple(name for owner, name, _ in sides if owner == "local")
            facts["join_remote"] = tuple(name for owner, name, _ in sides if owner == "remote")
            foreign_sides = {owner for owner, _, foreign in sides if foreign}
            if len(foreign_sides) == 1:
                facts["foreign_side"] = foreign_sides.pop()
    return facts


def _spelled(value: ast.expr) -> ast.expr:
    """A string or a lambda of what SQLAlchemy evaluates later: the expression it gives."""
    value = unquote(value)
    return value.body if isinstance(value, ast.Lambda) else value


def _column_owner(node: ast.expr, model_name: str, target: str) -> tuple[str, str] | None:
    """("local" | "remote" | "self", column name) for `col` (a column of the class body),
    `Cls.col`, `Cls.__table__.c.col`, `module.Cls.col`; None for anything else."""
    if isinstance(node, ast.Name):
        return "local", node.id
    if not isinstance(node, ast.Attribute):
        return None
    owner = node.value
    if isinstance(owner, ast.Attribute) and owner.attr == "c" and \
            isinstance(owner.value, ast.Attribute) and owner.value.attr == "__table__":
        owner = owner.value.value
    cls = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
    if cls == model_name:
        return ("self" if cls == target else "local"), node.attr
    if cls == target:
        return "remote", node.attr
    return None


def _named_columns(value: ast.expr, model_name: str, target: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The columns `foreign_keys=` / `remote_side=` name: (the declaring class's, the target's);
    a self-referential relationship's are all the first. None when any is something else."""
    value = _spelled(value)
    items = value.elts if isinstance(value, (ast.List, ast.Tuple, ast.Set)) else [value]
    local, remote = [], []
    for item in items:
        found = _column_owner(item, model_name, target)
        if found is None:
            return None
        (remote if found[0] == "remote" else local).append(found[1])
    return (tuple(local), tuple(remote)) if local or remote else None


ANNOTATIONS = ("foreign", "remote")


def _join_columns(value: ast.expr, model_name: str, target: str) -> list[tuple[str, str, bool, bool]] | None:
    """The columns a `primaryjoin=` compares: (owner as _column_owner says, name, in foreign(), in
    remote()); None when it holds what is not read (an `or_`, a function of a column...)."""
    out: list[tuple[str, str, bool, bool]] = []

    def operand(node: ast.expr, foreign: bool = False, remote: bool = False) -> bool:
        if isinstance(node, ast.Call) and last_name(node.func) in ANNOTATIONS and len(node.args) == 1:
            return operand(node.args[0], foreign or last_name(node.func) == "foreign",
                           remote or last_name(node.func) == "remote")
        if isinstance(node, ast.Constant):
            return True  # `Child.kind == "x"`: a filter, no column of the join
        found = _column_owner(node, model_name, target)
        if found is None:
            return False
        out.append((*found, foreign, remote))
        return True

    def condition(node: ast.expr) -> bool:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            return all(condition(v) for v in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
            return condition(node.left) and condition(node.right)
        if isinstance(node, ast.Call) and last_name(node.func) == "and_":
            return all(condition(arg) for arg in node.args)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return operand(node.left) and operand(node.comparators[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                _column_owner(node.func.value, model_name, target) is not None:
            return True  # `Child.deleted.is_(False)`: a filter on one column
        return False

    return out if condition(_spelled(value)) else None


def default_table_name(class_name: str) -> str:
    """Flask-SQLAlchemy's default `__tablename__`: CamelCase -> camel_case."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_name).lower()


def _read_backref(model: ModelInfo, attr: str, call: ast.Call, resolve: Resolver, line: int,
                  backrefs_out: list[tuple[str, RelationshipInfo]]) -> None:
    """`relationship(..., backref="owner")` adds `Target.owner`, lazily loaded unless `backref(...)`
    says otherwise; its direction is the inverse of `attr`'s unless `backref(...)` says it."""
    for kw in call.keywords:
        if kw.arg != "backref":
            continue
        name, lazy, uselist, facts = None, "select", None, {}
        target = class_name_of(call.args[0]) if call.args else ""
        if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            name = kw.value.value
        elif isinstance(kw.value, ast.Call) and _callee_kind(kw.value, resolve) == "backref":
            if kw.value.args and isinstance(kw.value.args[0], ast.Constant):
                name = kw.value.args[0].value
            lazy = const_kw(kw.value, "lazy", "select")
            lazy = "select" if lazy is True else lazy
            uselist = const_kw(kw.value, "uselist")
            uselist = uselist if isinstance(uselist, bool) else None
            facts = join_facts(kw.value, target, model.name)
        if isinstance(name, str):
            facts.setdefault("back_populates", attr)
            backrefs_out.append((target, RelationshipInfo(name, model.name, lazy, uselist, line,
                                                          secondary=has_kw(call, "secondary"), **facts)))


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
    if isinstance(value, ast.Call) and (full in SQLMODEL_RELATIONSHIPS or
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
        # Its join, as relationship() reads it: `back_populates=`, and `sa_relationship_kwargs`'s.
        join = ast.Call(value.func, [], [kw for kw in value.keywords if kw.arg == "back_populates"])
        if isinstance(options, ast.Dict):
            join.keywords += [ast.keyword(key.value, item) for key, item in zip(options.keys, options.values)
                              if isinstance(key, ast.Constant) and isinstance(key.value, str)]
        target = class_name_of(annotation)
        model.relationships[attr] = RelationshipInfo(attr, target, lazy, uselist, line,
                                                     secondary=has_kw(value, "link_model"),
                                                     **join_facts(join, model.name, target))
        return
    if isinstance(value, ast.Call) and (full in SQLMODEL_FIELDS or (not full and last_name(value.func) == "Field")):
        column = next((kw.value for kw in value.keywords if kw.arg == "sa_column"), None)
        if isinstance(column, ast.Call):  # Field(sa_column=Column(...)): that Column says it all
            read_attribute(model, attr, None, column, line, resolve, backrefs_out)
            return
        primary_key = const_kw(value, "primary_key") is True
        nullable = const_kw(value, "nullable")
        if nullable is NOT_LITERAL:
            nullable = False  # cannot tell: say nothing
        if not isinstance(nullable, bool):
            nullable = not primary_key and annotation_is_optional(annotation)
        foreign = const_kw(value, "foreign_key")
        references = foreign.rsplit(".", 1)[0] if isinstance(foreign, str) and "." in foreign else None
        model.columns[attr] = ColumnInfo(attr, nullable, line, references, primary_key)
        return
    model.columns[attr] = ColumnInfo(attr, annotation_is_optional(annotation), line)
