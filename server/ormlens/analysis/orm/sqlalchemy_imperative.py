"""SQLAlchemy's classical (imperative) mapping: a plain class made a model by a module-level call,
`mapper(Class, table, properties={...})` (SQLAlchemy 1.x, often through a project alias such as
`meta.mapper = orm.mapper`) or `registry.map_imperatively(Class, table, properties={...})` (1.4 and
2.0). Its columns are the `Table(...)`'s, its relationships the `relationship(...)` calls of
`properties` (read as a declarative class body's).

Only a call in the class's own module maps it (where such calls usually are): a class mapped from
another module is not known as a model (finding that call would make every class depend on every
module)."""

from __future__ import annotations

import ast

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.flow import Kind, external_name
from ormlens.analysis.models import ModelInfo, RelationshipInfo
from ormlens.analysis.module_names import MAX_HOPS, global_expr
from ormlens.analysis.orm.api import Index

# SQLAlchemy 1.x's classical mapping function (removed in 2.0).
MAPPER_FUNCTIONS = frozenset({"sqlalchemy.orm.mapper"})

# `registry.map_imperatively(...)`, on a `sqlalchemy.orm.registry()`.
MAP_IMPERATIVELY = "map_imperatively"

REGISTRY_CLASSES = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})

TABLE_CONSTRUCTORS = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table", "sqlalchemy.sql.schema.Table"})


def _cache(index: Index) -> dict:
    return index.plugin_caches.setdefault("sqlalchemy.imperative", {})


def forget(index: Index, nodes: set[str] | None) -> None:
    """Drop what was derived from `nodes` (module paths; None: everything)."""
    cache = _cache(index)
    if nodes is None:
        cache.clear()
        return
    for path in [path for path in cache if path in nodes]:
        del cache[path]


def mapping_of(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ast.Call | None:
    """The module-level call of `decl` that maps class `cls` imperatively, or None."""
    index.dependencies.read(decl.path)
    cache = _cache(index)
    if decl.path not in cache:
        cache[decl.path] = {}  # cycle guard
        with index.dependencies.computing(decl.path):
            cache[decl.path] = _mapping_calls(index, decl)
    return cache[decl.path].get(cls.name)


def _statement_calls(body: list[ast.stmt]) -> list[ast.Call]:
    """The calls that are module-level statements (or assigned by one), also under `if` / `try`."""
    out: list[ast.Call] = []
    for stmt in body:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Call):
            out.append(value)
        elif isinstance(stmt, ast.If):
            out += _statement_calls(stmt.body) + _statement_calls(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += _statement_calls(stmt.body)
    return out


def _mapping_calls(index: Index, decl: ModuleDecl) -> dict[str, ast.Call]:
    """{class name: the call mapping it} for the classes of `decl` that `decl` maps."""
    out: dict[str, ast.Call] = {}
    for call in _statement_calls(decl.tree.body):
        if not call.args or not isinstance(call.args[0], ast.Name) or call.args[0].id not in decl.classes:
            continue
        if decl.classes[call.args[0].id].node.lineno > call.lineno:
            continue  # (a class of that name defined after the call is another class)
        if _is_mapping_call(index, decl, call):
            out.setdefault(call.args[0].id, call)
    return out


def _is_mapping_call(index: Index, decl: ModuleDecl, call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == MAP_IMPERATIVELY:
        built = _assigned_call(index, decl, func.value)
        if built is not None:  # `registry = orm.registry(metadata=metadata)`
            return _callee(index, *built) in REGISTRY_CLASSES
        # Else one the index cannot trace (`Base.registry`): anything but a project module, class
        # or function, or another library's object (SQLAlchemy's registry alone has that method).
        receiver = index.eval_static(decl, func.value)
        return receiver.kind is Kind.UNKNOWN or (
            receiver.kind is Kind.EXTERNAL and receiver.name.startswith("sqlalchemy."))
    return external_name(index.eval_static(decl, func)) in MAPPER_FUNCTIONS


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _assigned_call(index: Index, decl: ModuleDecl, node: ast.expr | None) -> tuple[ModuleDecl, ast.Call] | None:
    """The call that `node` (a module-level name, `module.name`, or the call itself) is bound to,
    with the module it is written in."""
    for _ in range(MAX_HOPS):
        if node is None:
            return None
        if isinstance(node, ast.Call):
            return decl, node
        found = global_expr(index, decl, node)
        if found is None:
            return None
        decl, node = found
    return None


def _callee(index: Index, decl: ModuleDecl, call: ast.Call) -> str:
    return external_name(index.eval_static(decl, call.func))


def _table_call(index: Index, decl: ModuleDecl, node: ast.expr | None) -> tuple[ModuleDecl, ast.Call] | None:
    """The `Table(...)` call that `node` stands for, with the module it is written in."""
    found = _assigned_call(index, decl, node)
    if found is None:
        return None
    full = _callee(index, *found)
    return found if full in TABLE_CONSTRUCTORS or (not full and last_name(found[1].func) == "Table") else None


def build_model(index: Index, decl: ModuleDecl, cls: ClassDecl, call: ast.Call, read_attribute) -> ModelInfo:
    """The model `call` maps `cls` to: the table's columns, then the relationships and columns
    of `properties` (`read_attribute`: how a declarative class body's attribute is read)."""
    found = _table_call(index, decl, _argument(call, 1, "local_table"))
    table = ""
    if found is not None:
        name = found[1].args[0] if found[1].args else None
        table = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else ""
    model = ModelInfo(cls.name, decl.path, cls.node.lineno, table)
    backrefs: list[tuple[str, RelationshipInfo]] = []
    inherits = next((kw.value for kw in call.keywords if kw.arg == "inherits"), None)
    if inherits is not None:
        parent = index.eval_static(decl, inherits)
        if parent.kind is Kind.MODEL_CLASS and parent.model is not None:
            model.columns.update(parent.model.columns)
            model.relationships.update(parent.model.relationships)
    if found is not None:
        table_decl, table_call = found
        resolve = lambda node: index.eval_static(table_decl, node)  # noqa: E731
        for column in table_call.args[2:]:
            if isinstance(column, ast.Call) and column.args and isinstance(column.args[0], ast.Constant) \
                    and isinstance(column.args[0].value, str):
                read_attribute(model, column.args[0].value, None, column, column.lineno, resolve, backrefs)
    resolve = lambda node: index.eval_static(decl, node)  # noqa: E731
    for key, value in _properties(call):
        read_attribute(model, key, None, value, value.lineno, resolve, backrefs)
    model.extra_backrefs = backrefs
    return model


def _properties(call: ast.Call) -> list[tuple[str, ast.expr]]:
    """`properties={"tags": relationship(...)}` (or `dict(tags=relationship(...))`): its literal
    entries."""
    value = next((kw.value for kw in call.keywords if kw.arg == "properties"), None)
    if isinstance(value, ast.Dict):
        return [(key.value, item) for key, item in zip(value.keys, value.values)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        return [(kw.arg, kw.value) for kw in value.keywords if kw.arg is not None]
    return []
