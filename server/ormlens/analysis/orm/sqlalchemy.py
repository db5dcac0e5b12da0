"""SQLAlchemy (Core, ORM 1.x `Query` and 2.0 `select()`, async), Flask-SQLAlchemy and SQLModel:
sessions, queries and statements, results, loader options, schema objects."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from ormlens.analysis import queries
from ormlens.analysis.astutil import eq_compares, is_none, last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.facts import LoopScope, QueryCall
from ormlens.analysis.flow import UNKNOWN, Kind, QueryInfo, Size, Value, merge_deps, schema_collection, unknown
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm import sqlalchemy_models
from ormlens.analysis.orm.api import Index, Interpreter, LazyLoadAdvice
from ormlens.analysis.orm.sqlalchemy_models import (
    AND_FUNCTIONS,
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSION_FACTORIES,
    AWAITABLE_ATTRS,
    COLUMN_OPTIONS,
    DECLARATIVE_BASE_FACTORIES,
    EAGER_LOADERS,
    ENTITY_METHODS,
    FLASK_DB_QUERY_METHODS,
    FLASK_SQLALCHEMY,
    IS_NOT_METHODS,
    LAZY_LOADERS,
    LOADER_MODULES,
    NULL_EXCLUDING_METHODS,
    PATH_ONLY_LOADERS,
    QUERY_BUILDERS,
    RESULT_METHODS,
    SCHEMA_COLLECTIONS,
    SCHEMA_ENTRIES,
    SCHEMA_INSPECT,
    SCHEMA_OBJECTS,
    SELECT_CONSTRUCTORS,
    SESSION_CLASSES,
    SESSION_FACTORIES,
    SESSION_GET_METHODS,
    SESSION_STATEMENT_METHODS,
    SQLMODEL_BASES,
    SUBQUERY_METHODS,
    WRITE_CONSTRUCTORS,
    WRITE_ONLY_STATEMENTS,
    forget,  # noqa: F401 - a hook
)
from ormlens.findings import Span
from ormlens.fixes.plans import BatchQuery, BatchQueryPlan, ChunkInPlan, EagerLoadPlan

STYLE = "sqlalchemy"
# The kinds of values whose methods it answers, what it evaluates, the packages whose functions it knows.
METHOD_KINDS = frozenset({Kind.QUERY, Kind.SESSION, Kind.ORM_NAMESPACE, Kind.RESULT, Kind.LOADER_OPTION, Kind.UNKNOWN})
EVALUATE_KINDS = frozenset({Kind.QUERY})
PACKAGES = frozenset({"sqlalchemy", "sqlmodel"})


# --- the hooks (orm/__init__.py) ------------------------------------------------------------------


def _foreign(value: Value) -> bool:
    """Another ORM's query (a Django queryset...): not this plugin's to answer."""
    return value.query is not None and value.query.orm != "sqlalchemy"


def method_call(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value],
                kwargs: dict[str | None, Value]) -> Value | None:
    kind = base.kind
    if method in ("connection", "execution_options") and kind in (Kind.SESSION, Kind.UNKNOWN):
        translate_schema(b, node)
    if kind is Kind.UNKNOWN:
        # A connection, engine or session the analysis cannot see (a parameter, `self.db`,
        # `engine.connect()`): executing a statement of this library on it runs it all the same.
        first = args[0] if args else None
        if method in SESSION_STATEMENT_METHODS and method not in FLASK_DB_QUERY_METHODS and first is not None and \
                first.kind is Kind.QUERY and first.statement and not _foreign(first):
            return session_method(b, node, base.but(kind=Kind.SESSION), method, args)
        if method == "query" and first is not None and first.kind is Kind.MODEL_CLASS and first.model is not None \
                and first.model.style == "sqlalchemy":
            # `request.db.query(Build)`: a query of a mapped class is a session's, whatever holds it.
            return session_method(b, node, base.but(kind=Kind.SESSION, certain=False), method, args)
        return None
    if kind is Kind.QUERY and not _foreign(base):
        return query_method(b, node, base, method, args)
    if kind is Kind.SESSION:
        return session_method(b, node, base, method, args)
    if kind is Kind.ORM_NAMESPACE and method in FLASK_DB_QUERY_METHODS:
        return session_method(b, node, base.but(kind=Kind.SESSION), method, args)
    if kind is Kind.RESULT:
        produced = RESULT_METHODS.get(method)
        if produced == "result":
            return base if method == "unique" else base.but(kind=Kind.ROWS, size=Size.UNBOUNDED)
        if produced in ("rows", "row") and base.scalars:
            return base.but(kind=Kind.ROWS if produced == "rows" else Kind.ROW)
        return unknown(base.deps)
    if kind is Kind.LOADER_OPTION:
        return loader_option(b, method, node.args, args, base)
    return None


def translate_schema(b: Interpreter, node: ast.Call) -> None:
    """`session.connection(execution_options={"schema_translate_map": ...})`, a connection's
    `.execution_options(schema_translate_map=...)`: what runs on it uses the schema named there;
    one chosen per item (a tenant's) is a connection per item, which no query batches across."""
    for kw in node.keywords:
        if kw.arg == "schema_translate_map":
            b.route(node, b.values.get(id(kw.value), UNKNOWN).deps)
        elif kw.arg == "execution_options" and isinstance(kw.value, ast.Dict):
            for key, value in zip(kw.value.keys, kw.value.values):
                if isinstance(key, ast.Constant) and key.value == "schema_translate_map":
                    b.route(node, b.values.get(id(value), UNKNOWN).deps)


def function_call(b: Interpreter, node: ast.Call, name: str, args: list[Value]) -> Value | None:
    first = args[0] if args else UNKNOWN
    short = name.rsplit(".", 1)[-1]
    if name in SELECT_CONSTRUCTORS:
        model = first.model if first.kind in (Kind.MODEL_CLASS, Kind.COLUMN) else None
        entity = first.kind is Kind.MODEL_CLASS and len(args) == 1
        state = (TABLE_PER_ITEM,) if model is None and merge_deps(args) else ()
        return Value(kind=Kind.QUERY, model=model, query=QueryInfo(model, start=node, plugin_state=state),
                     statement=True, tuples=not entity, capped=from_capped_subquery(args))
    if name in WRITE_CONSTRUCTORS:
        return Value(write=WRITE_CONSTRUCTORS[name],
                     model=first.model if first.kind is Kind.MODEL_CLASS else None)
    if name.startswith(LOADER_MODULES) and short in (
            EAGER_LOADERS | PATH_ONLY_LOADERS | LAZY_LOADERS):
        return loader_option(b, short, node.args, args, None)
    if name.startswith(LOADER_MODULES) and short in COLUMN_OPTIONS:
        return Value(kind=Kind.LOADER_OPTION, eager=frozenset())
    if name in SCHEMA_INSPECT and first.kind in (Kind.MODEL_CLASS, Kind.ROW, Kind.SCHEMA):
        return Value(kind=Kind.SCHEMA, deps=first.deps)  # a Mapper / an InstanceState
    return None


def attribute(b: Interpreter, node: ast.Attribute, base: Value, attr: str) -> Value | None:
    kind = base.kind
    if kind is Kind.ROW and base.model is not None:
        if attr == AWAITABLE_ATTRS and not base.awaitable:  # `await row.awaitable_attrs.books`
            return base.but(awaitable=True)
        return None  # a row's relationships and columns: the interpreter reads them
    if kind is Kind.MODEL_CLASS and attr == "query" and base.model is not None and not base.model.django \
            and attr not in base.model.columns:
        return Value(kind=Kind.QUERY, model=base.model, query=QueryInfo(base.model, start=node))
    return schema_attribute(b, node, base, attr)


def evaluate(b: Interpreter, node: ast.AST, value: Value, how: str, expression: ast.AST,
             header: Span | None = None) -> Value | None:
    if value.kind is not Kind.QUERY or value.statement or _foreign(value):
        return None
    if how == "__iter__":  # iterating a Query runs it: its rows come from here
        record(b, node, value, "__iter__")
        return value.but(source=Span.of(node))
    if how in ("list", "iter"):
        return run_query(b, node, value, "all")
    return None


def annotation(b: Interpreter, value: Value) -> Value | None:
    if value.name in SESSION_CLASSES:  # `session: Session`
        return Value(kind=Kind.SESSION, asynchronous=value.name in ASYNC_SESSION_CLASSES)
    return None


def record(b: Interpreter, node: ast.AST, query: Value, terminal: str) -> QueryCall:
    """A query runs at `node`, with the column a batch rewrite of it would key on (ORM001's fix)."""
    loops = b.effective_loops()
    if query.query is not None and TABLE_PER_ITEM in query.query.plugin_state:
        # `select(func.count()).select_from(table)` for each table: one statement per table of the
        # schema, which no batching joins; not a query repeated per item of the data.
        loops = ()
    return b.record_query(node, query, terminal, loops, batch_column=batch_column(b, node, query, loops))


# QueryInfo.plugin_state: the statement's FROM (its table) changes with a loop's item.
TABLE_PER_ITEM = "table_per_item"


def batch_column(b: Interpreter, node: ast.AST, query: Value, loops: tuple[LoopScope, ...]) -> str | None:
    """The column of the query's model that its innermost repeating loop's item is compared to,
    alone (`filter_by(user_id=uid)`, `.get(uid)`, `session.get(M, uid)`)."""
    loop = next((candidate for candidate in reversed(loops) if candidate.repeats), None)
    info = query.query
    if loop is None or loop.target is None or info is None or query.model is None or query.tuples:
        return None
    item = lambda value: isinstance(value, ast.Name) and value.id == loop.target  # noqa: E731
    keyed = [(column, value) for column, value in info.varying
             if loop.id in b.values.get(id(value), UNKNOWN).deps]
    if isinstance(node, ast.Call) and last_name(node.func) == "get" and node.args:  # .get(uid)
        first = b.values.get(id(node.args[0]), UNKNOWN)
        keys = node.args[1:] if first.kind is Kind.MODEL_CLASS else node.args  # session.get(M, pk)
        if not keys or any(loop.id in b.values.get(id(a), UNKNOWN).deps for a in keys[1:]):
            return None
        keyed.append((query.model.primary_key, keys[0]))
    if len(keyed) == 1 and keyed[0][0] in query.model.columns and item(keyed[0][1]):
        return keyed[0][0]  # a column: `filter_by(user=u)` on a relationship is not one
    return None


# --- declarations ------------------------------------------------------------------------------

# Flask-SQLAlchemy's `db` re-exports sqlalchemy and sqlalchemy.orm names.
NAMESPACE_ORM_NAMES = frozenset({
    "relationship", "relation", "backref", "mapped_column", "Mapped", "selectinload", "joinedload",
    "subqueryload", "contains_eager", "raiseload", "noload", "lazyload", "immediateload", "defaultload",
    "deferred", "column_property", "synonym", "aliased", "Session", "sessionmaker", "scoped_session",
})


def declared_model(index: Index, decl: ModuleDecl, cls: ClassDecl) -> ModelInfo | None:
    return sqlalchemy_models.build_model(index, decl, cls)


def is_model_base(index: Index, decl: ModuleDecl, cls: ClassDecl) -> bool:
    return sqlalchemy_models.is_model_base(index, decl, cls)


def construct(index: Index, name: str, args: list[Value], keywords: dict[str | None, Value]) -> Value | None:
    """What calling a class or factory of the library gives: Flask-SQLAlchemy's `db`, a session
    factory, a session, a declarative base."""
    if name in FLASK_SQLALCHEMY:
        # `SQLAlchemy(model_class=declarative_base(cls=BaseModel))` / `model_class=BaseModel`:
        # every `db.Model` has the project class's methods.
        model_class = keywords.get("model_class")
        ref = model_class.ref if model_class is not None and model_class.kind in (Kind.MODEL_BASE, Kind.CLASS) \
            else index.class_of(model_class.model) if model_class is not None and model_class.kind is Kind.MODEL_CLASS \
            and model_class.model is not None else None
        return Value(kind=Kind.ORM_NAMESPACE, ref=ref)
    if name in SESSION_FACTORIES:
        # async_sessionmaker(engine), or the 1.4 spelling sessionmaker(engine, class_=AsyncSession)
        session_class = keywords.get("class_")
        return Value(kind=Kind.SESSION_FACTORY, asynchronous=name in ASYNC_SESSION_FACTORIES or (
            session_class is not None and session_class.name in ASYNC_SESSION_CLASSES))
    if name in SESSION_CLASSES:
        return Value(kind=Kind.SESSION, asynchronous=name in ASYNC_SESSION_CLASSES)
    if name in DECLARATIVE_BASE_FACTORIES:
        # `declarative_base(cls=ActiveRecordMixin)`: every model inherits the mixin's methods.
        # (A mixin declaring columns reads as a model class itself.)
        mixin = keywords.get("cls")
        ref = None
        if mixin is not None and mixin.kind is Kind.CLASS:
            ref = mixin.ref
        elif mixin is not None and mixin.kind is Kind.MODEL_CLASS and mixin.model is not None:
            ref = index.class_of(mixin.model)
        return Value(kind=Kind.MODEL_BASE, ref=ref)
    return None


def namespace_attribute(index: Index, attr: str, namespace: Value) -> Value | None:
    """`db.Model`, `db.session`, `db.relationship`...: Flask-SQLAlchemy's `db` re-exports the library."""
    if attr == "Model":  # (with the project class given as `SQLAlchemy(model_class=...)`, if any)
        return Value(kind=Kind.MODEL_BASE, ref=namespace.ref)
    if attr == "session":
        return Value(kind=Kind.SESSION, label="db.session")
    module = "sqlalchemy.orm" if attr in NAMESPACE_ORM_NAMES else "sqlalchemy"
    return Value(kind=Kind.EXTERNAL, name=f"{module}.{attr}")


# --- queries and sessions -------------------------------------------------------------------------


def query_method(b: Interpreter, node: ast.Call, base: Value, method: str, args: list[Value]) -> Value:
    info = base.query or QueryInfo(base.model)
    if method == "select_from" and base.model is None and merge_deps(args):
        info = replace(info, plugin_state=(*info.plugin_state, TABLE_PER_ITEM))
        base = base.but(query=info)
    if method in queries.QUERY_TERMINALS and not base.statement:
        # `.get(uid)`: the terminal's own arguments can tie the query to the loop item.
        return run_query(b, node, base.but(deps=base.deps | merge_deps(args)), method)
    if method in QUERY_BUILDERS:
        eager, equalities, limited, not_null = info.eager, list(info.equalities), info.limited, set(info.not_null)
        if method == "options":
            for arg_node, value in zip(node.args, args):
                if value.kind is Kind.LOADER_OPTION:
                    eager = eager | value.option_eager()
                else:
                    # `*LOADERS`, `Load(User).selectinload(...)`, an option from elsewhere: it may
                    # load anything, so no relationship of these rows is reported.
                    eager = eager | {("*",)}
        varying = list(info.varying)
        if method == "filter_by":
            equalities += [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
            varying += [(kw.arg, kw.value) for kw in node.keywords
                        if kw.arg and b.values.get(id(kw.value), UNKNOWN).deps]
        elif method in ("filter", "where"):
            in_filters = list(info.in_filters)
            for arg in node.args:
                if isinstance(arg, ast.Call) and last_name(arg.func) in queries.IN_METHODS:
                    in_filters.append(Span.of(arg))
                found = column_equalities(b, arg, info.model)
                equalities += found
                not_null |= not_null_columns(b, arg, info.model)
                if b.values.get(id(arg), UNKNOWN).deps:
                    simple = found if len(found) == 1 and isinstance(arg, ast.Compare) else []
                    varying += simple or [(None, arg)]
        else:
            varying += [(None, arg) for arg in [*node.args, *(kw.value for kw in node.keywords)]
                        if b.values.get(id(arg), UNKNOWN).deps]
            if method == "limit" and args and args[0].size is Size.BOUNDED:
                limited = True
            if method == "limit" and node.args and not is_none(node.args[0]):
                base = base.but(capped=True)
        if method in ENTITY_METHODS:
            base = base.but(tuples=True)
        return base.but(query=replace(info, eager=eager, equalities=tuple(equalities), limited=limited,
                                      not_null=frozenset(not_null), varying=tuple(varying),
                                      ordered=info.ordered or method == "order_by",
                                      in_filters=tuple(in_filters) if method in ("filter", "where")
                                      else info.in_filters))
    if method in SUBQUERY_METHODS:
        return base.but(statement=True)
    if base.statement and base.via is not None and method in WRITE_ONLY_STATEMENTS:
        # `author.notes.select()`: a select() of the notes; insert/update/delete return no rows.
        return base.but(tuples=method != "select", deps=base.deps | merge_deps(args))
    return unknown(base.deps)


def column_equalities(b: Interpreter, condition: ast.expr, model: ModelInfo | None) -> list[tuple[str, ast.expr]]:
    """`M.col == value` parts of a filter: (col, value node)."""
    found = []
    for compare in eq_compares(condition):
        for side, other in ((compare.left, compare.comparators[0]), (compare.comparators[0], compare.left)):
            column = b.values.get(id(side), UNKNOWN)
            if column.kind is Kind.COLUMN and column.model is model:
                found.append((column.name, other))
                break
    return found


def not_null_columns(b: Interpreter, condition: ast.expr, model: ModelInfo | None) -> set[str]:
    """Columns a SQL filter keeps NOT NULL: a comparison never matches NULL (`M.c >= 100`,
    `M.c == x`, `M.c.in_(...)`, `M.c.like(...)`), nor does `M.c.isnot(None)`; through `and_`."""
    found: set[str] = set()
    parts = [condition]
    while parts:
        part = parts.pop()
        if isinstance(part, ast.BoolOp) and isinstance(part.op, ast.And):
            parts.extend(part.values)
            continue
        if isinstance(part, ast.Call) and last_name(part.func) in AND_FUNCTIONS:
            parts.extend(part.args)
            continue
        column_node = None
        if isinstance(part, ast.Compare) and len(part.ops) == 1:
            op, other = part.ops[0], part.comparators[0]
            if is_none(other):  # `== None` means IS NULL; `!= None` means IS NOT NULL
                column_node = part.left if isinstance(op, (ast.NotEq, ast.IsNot)) else None
            elif not isinstance(op, (ast.Is, ast.IsNot)):
                column_node = part.left
        elif isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute):
            method = part.func.attr
            if method in IS_NOT_METHODS and part.args and is_none(part.args[0]):
                column_node = part.func.value
            elif method in NULL_EXCLUDING_METHODS:
                column_node = part.func.value
        column = b.values.get(id(column_node), UNKNOWN) if column_node is not None else UNKNOWN
        if column.kind is Kind.COLUMN and column.model is model:
            found.add(column.name)
    return found


def run_query(b: Interpreter, node: ast.Call, query: Value, terminal: str) -> Value:
    record(b, node, query, terminal)
    info = query.query or QueryInfo(query.model)
    produced = queries.QUERY_TERMINALS.get(terminal, "rows")
    # Columns every row shares (`filter_by(user_id=uid)`): their many-to-one parent is one row.
    fixed = frozenset(column for column, _ in info.equalities)
    common = dict(model=query.model, eager=info.eager, deps=query.deps,
                  source=Span.of(node), not_null=info.not_null, fixed=fixed, asynchronous=query.asynchronous)
    if query.model is None or query.tuples:
        rows = produced == "rows"
        return Value(kind=Kind.COLLECTION if rows else Kind.UNKNOWN, deps=query.deps, capped=rows and query.capped,
                     size=Size.BOUNDED if rows and info.limited else Size.UNBOUNDED)
    if produced == "rows":
        return Value(kind=Kind.ROWS, size=Size.BOUNDED if info.limited else Size.UNBOUNDED, capped=query.capped,
                     **common)
    if produced == "row":
        return Value(kind=Kind.ROW, **common)
    if produced == "page":
        return Value(kind=Kind.PAGE, size=Size.BOUNDED, **common)
    return Value(kind=Kind.SCALAR, deps=query.deps)


def session_method(b: Interpreter, node: ast.Call, session: Value, method: str, args: list[Value]) -> Value:
    first = b.as_query(args[0]) if args else UNKNOWN
    if method == "query":
        model = first.model if first.kind in (Kind.MODEL_CLASS, Kind.COLUMN) else None
        if model is None and not session.certain:
            return UNKNOWN
        # query(M.id) or query(A, B) return tuples: the query is about M, its rows are not Ms.
        entity = first.kind is Kind.MODEL_CLASS and len(args) == 1
        return Value(kind=Kind.QUERY, model=model, query=QueryInfo(model, start=node), tuples=not entity,
                     capped=from_capped_subquery(args))
    if method == "refresh" and node.args and isinstance(node.args[0], ast.Name) and first.kind is Kind.ROW:
        # `session.refresh(row, ["books"])` loads what it names: the row's eager loads are unknown now.
        b.rebind(node.args[0].id, first.but(eager=None))
        return UNKNOWN
    if method in SESSION_GET_METHODS and first.kind is Kind.MODEL_CLASS:
        eager: frozenset[tuple[str, ...]] = frozenset()
        for kw in node.keywords:
            if kw.arg == "options":  # session.get(M, pk, options=[selectinload(M.rel)])
                elements = kw.value.elts if isinstance(kw.value, (ast.List, ast.Tuple)) else None
                options = [b.values.get(id(e), UNKNOWN) for e in elements or ()]
                if elements is None or any(o.kind is not Kind.LOADER_OPTION for o in options):
                    eager = eager | {("*",)}
                for option in options:
                    eager = eager | option.option_eager()
        query = Value(kind=Kind.QUERY, model=first.model, query=QueryInfo(first.model, eager=eager, start=node),
                      deps=merge_deps(args), asynchronous=session.asynchronous)
        return run_query(b, node, query, "get")
    gives = SESSION_STATEMENT_METHODS.get(method)
    if gives is None:
        return UNKNOWN
    if first.kind is Kind.QUERY:
        # The session runs it: from here on it is an executed query, not a statement.
        executed = first.but(statement=False, deps=merge_deps(args), asynchronous=session.asynchronous)
        if gives == "scalars":
            rows = run_query(b, node, executed, "all")
            return rows.but(kind=Kind.RESULT, scalars=True) if rows.kind is Kind.ROWS else rows
        if gives == "result":
            record(b, node, executed, method)
            return Value(kind=Kind.RESULT, model=first.model, eager=first.query.eager if first.query
                         else frozenset(), deps=first.deps, source=Span.of(node),
                         asynchronous=session.asynchronous, capped=first.capped)
        return run_query(b, node, executed, gives)
    if session.certain and method not in FLASK_DB_QUERY_METHODS and not (node.args and reads_no_table(node.args[0])):
        # session.execute(text(...)), a statement we cannot read: still one round-trip.
        # Its parameters (`session.execute(stmt, rows)`) count: they may come from the item.
        record(b, node, Value(kind=Kind.QUERY, deps=merge_deps(args), write=first.write,
                                      model=first.model if first.write else None), method)
    return UNKNOWN


def reads_no_table(statement: ast.expr) -> bool:
    """`text("SELECT pg_advisory_xact_lock(:key)")`: literal SQL that calls functions and reads no
    table (a lock, a sequence, the clock). Per item it is the item's own work, not rows that one
    query for all items could have loaded."""
    if not (isinstance(statement, ast.Call) and last_name(statement.func) == "text" and statement.args and
            isinstance(statement.args[0], ast.Constant) and isinstance(statement.args[0].value, str)):
        return False
    sql = statement.args[0].value.upper()
    return sql.split(None, 1)[:1] == ["SELECT"] and re.search(r"\bFROM\b", sql) is None


def loader_option(b: Interpreter, method: str, nodes: list[ast.expr], args: list[Value],
                  base: Value | None) -> Value:
    """selectinload(User.posts).joinedload(Post.author) -> eager paths ("posts",), ("posts", "author")."""
    path = base.loader_path if base is not None else ()
    eager = set(base.option_eager()) if base is not None else set()
    if method == "options" and base is not None:
        for value in args:
            eager |= {path + sub for sub in value.option_eager()}
        return Value(kind=Kind.LOADER_OPTION, loader_path=path, eager=frozenset(eager))
    for node, value in zip(nodes, args):
        if value.kind is Kind.RELATIONSHIP_ATTR:
            path += (value.name,)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            path += tuple(node.value.split("."))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "of_type":
            inner = b.values.get(id(node.func.value), UNKNOWN)
            if inner.kind is Kind.RELATIONSHIP_ATTR:
                path += (inner.name,)
    if path and method in EAGER_LOADERS:
        eager.add(path)
    if method in LAZY_LOADERS:
        eager.discard(path)
    return Value(kind=Kind.LOADER_OPTION, loader_path=path, eager=frozenset(eager))


def from_capped_subquery(args: list[Value]) -> bool:
    """`query(sub.c.id)` / `select(sub.c.id)` where `sub` has a `.limit(n)`: at most n rows."""
    return bool(args) and all(a.kind is Kind.COLUMN and a.model is None and a.capped for a in args)


def schema_attribute(b: Interpreter, node: ast.Attribute, base: Value, attr: str) -> Value | None:
    """MetaData, Table, Mapper and what they hold: their collections are as large as the
    schema (the program's code), not the data, so loops over them are bounded."""
    kind = base.kind
    # Values are built only when returned: this runs on every attribute read.
    if kind is Kind.SCHEMA:
        if attr in SCHEMA_COLLECTIONS:
            return schema_collection(base.deps)
        return Value(kind=Kind.SCHEMA, deps=base.deps) if attr in SCHEMA_OBJECTS else unknown(base.deps)
    mapped = kind in (Kind.MODEL_CLASS, Kind.MODEL_BASE, Kind.ORM_NAMESPACE) or (
        kind is Kind.EXTERNAL and base.name in SQLMODEL_BASES)
    if (mapped and attr in SCHEMA_ENTRIES and (base.model is None or attr not in base.model.columns)) \
            or attr == "__table__":
        return Value(kind=Kind.SCHEMA, deps=base.deps)
    if attr == "sorted_tables" or (attr == "tables" and last_name(node.value) == "metadata"):
        return schema_collection(base.deps)
    return None


# --- what the rules advise (api.OrmPlugin) ----------------------------------------------------


def write_advice(query) -> str:
    """ORM001: one statement for all items instead of one write per item."""
    model = query.model.name if query.model else "M"
    # The column compared to the item (else the primary key; a composite one has no single name).
    column = next((c for c, _ in query.query.varying if c), None) if query.query is not None else None
    column = column or (query.model.primary_key if query.model else "id") or "<key>"
    key = f"{model}.{column}"
    if query.terminal == query.write:  # `query.filter_by(id=x).update(...)`: a Query's own bulk write
        return f"one `….filter({key}.in_(...)).{query.terminal}(...)` for all items (in chunks)"
    if query.write == "insert":
        return (f"insert the rows of all items with one `insert({model}).values([...])`, or "
                f"`session.execute(insert({model}), rows)` (one executemany)")
    if query.write == "update":
        return (f"update them all with one `update({model}).where({key}.in_(...))`, or "
                f"`session.execute(update({model}), rows)` with primary keys (one executemany)")
    return f"delete them all with one `delete({model}).where({key}.in_(...))` (in chunks)"


def batch_advice(query, loop) -> str | None:
    """ORM001: what replaces one query per item."""
    info = query.query
    model = query.model.name if query.model else None
    # The columns compared to the item first (a column fixed for the whole loop is no batch key).
    keyed = [column for column, _ in info.varying if column] + [column for column, _ in info.equalities] \
        if info is not None else []
    if model and keyed:
        return (f"load the rows for all items before the loop with `{model}.{keyed[0]}.in_(...)` in chunks "
                "and look them up by key")
    return None


def batch_query(query, loop) -> tuple[type, BatchQuery] | None:
    """ORM001's batch rewrite: this query's part, when it is keyed on the loop's item by a column."""
    if not query.batch_column:
        return None
    return BatchQueryPlan, BatchQuery(query.span, query.model.name, query.batch_column, query.terminal,
                                      bool(query.query and query.query.ordered))


def chunk_plan(call, query) -> ChunkInPlan | None:
    """ORM004's quick fix: `rows = <query>.filter(M.col.in_(xs)).all()` run per chunk of xs."""
    if call.method != "in_" or query.terminal != "all":
        return None
    return ChunkInPlan(query.span, call.span, call.argument_span, bool(query.query.ordered))


def lazy_load_advice(read, loop) -> LazyLoadAdvice | None:
    """ORM002: `selectinload` for a collection, `joinedload` for a many-to-one, in `.options()`;
    the quick fix adds it to the query that loads the rows."""
    loader = "joinedload" if read.uselist is False else "selectinload"
    rel = read.relationship
    # (Rows reached through a relationship (`rel_path`) need a chained loader: not written.)
    fix = EagerLoadPlan(read.source, read.model.name, rel.name, loader) \
        if read.source is not None and not read.rel_path else None
    return LazyLoadAdvice(loader, f"`.options({loader}({read.model.name}.{rel.name}))`", fix)


def summarize_returns(returns: list[Value]) -> Value:
    """What a function gives its callers when every `return` gives rows (or one row) of one model:
    the rows, with what every path's query loaded; else UNKNOWN (a returned query is followed by
    summaries.returned_query)."""
    first = returns[0]
    if first.kind not in (Kind.ROWS, Kind.ROW) or first.model is None or first.eager is None:
        return UNKNOWN
    eager, fixed = first.eager, first.fixed
    for other in returns[1:]:
        if other.kind is not first.kind or other.model is not first.model or other.eager is None:
            return UNKNOWN
        eager, fixed = eager & other.eager, fixed & other.fixed
    size = Size.BOUNDED if all(v.size is Size.BOUNDED for v in returns) else Size.UNBOUNDED
    # Loop ids, spans and the query's place belong to the function's own walk: not carried to callers.
    # The columns every path's query fixed by equality are (`user_id == uid`: one parent per row).
    return Value(kind=first.kind, model=first.model, size=size if first.kind is Kind.ROWS else Size.UNKNOWN,
                 eager=eager, fixed=fixed, asynchronous=first.asynchronous)
