"""The abstract values the facts pass computes for expressions: which names hold rows of which
model, what is a query, what is bounded. Unknown stays unknown, so rules can stay silent."""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ormlens.analysis.models import ModelInfo


class Size(enum.Enum):
    BOUNDED = "bounded"      # a literal, range(<const>), a constant-width slice, a chunk
    UNBOUNDED = "unbounded"  # from a parameter, a query result, or derived from one
    UNKNOWN = "unknown"      # anything else: rules that need a size say nothing


class Kind(enum.Enum):
    UNKNOWN = "unknown"
    MODEL_CLASS = "model_class"      # a mapped class
    MODEL_BASE = "model_base"        # db.Model, declarative_base(), DeclarativeBase subclasses
    COLUMN = "column"                # Model.column (class attribute, a SQL expression)
    RELATIONSHIP_ATTR = "relationship_attr"  # Model.relationship (for loader options)
    QUERY = "query"                  # an unexecuted Query / select() (model may be None)
    ROWS = "rows"                    # a collection of rows of `model`
    ROW = "row"                      # one row of `model`
    COLUMN_VALUE = "column_value"    # row.column: a Python value read from a row
    DICT_OF_ROWS = "dict_of_rows"    # a dict whose values are rows (dict comprehension)
    DICT_OF_LISTS = "dict_of_lists"  # defaultdict(list) whose values are lists of rows
    RESULT = "result"                # a 2.0 Result / ScalarResult
    PAGE = "page"                    # Flask-SQLAlchemy Pagination (.items are rows)
    SESSION = "session"
    SESSION_FACTORY = "session_factory"
    ORM_NAMESPACE = "orm_namespace"  # a namespace of ORM names that is a session too: Flask-SQLAlchemy `db`
    EXTERNAL = "external"            # something imported from outside the project, by full name
    MODULE = "module"                # a project module
    FUNCTION = "function"            # a project function or method
    CLASS = "class"                  # a project class that is not a model
    INSTANCE = "instance"            # an instance of a project class (`self`, `Service()`)
    LOADER_OPTION = "loader_option"  # selectinload(...) and friends
    COLLECTION = "collection"        # a list/set/tuple/dict of non-rows (only its size is known)
    ENUMERATE = "enumerate"          # enumerate(x) / x.items(): pairs whose `inner` is x
    SCALAR = "scalar"                # a number or string
    SCHEMA = "schema"                # MetaData / Table / Column / Mapper: its collections are bounded by code


@dataclass(frozen=True, eq=False)
class QueryInfo:
    """What is known of an unexecuted query: its model, eager-loaded paths, equality filters."""

    model: ModelInfo | None
    # Relationship paths loaded eagerly (or made to raise), relative to the model's rows.
    eager: frozenset[tuple[str, ...]] = frozenset()
    # (column name, value expression node) for `filter_by(col=v)` and `filter(M.col == v)`.
    equalities: tuple[tuple[str, Any], ...] = ()
    limited: bool = False  # .limit(<const>) / .first()-like: a bounded number of rows
    start: Any = None      # the ast node where the query chain starts (for ranges and labels)
    # Columns the query filters to NOT NULL (`M.c.isnot(None)`, `M.c != None`).
    not_null: frozenset[str] = frozenset()
    # Every builder argument that changes with some loop: (column, value node) when it is an
    # equality `M.column == value` / `filter_by(column=value)`, else (None, the argument node).
    varying: tuple[tuple[str | None, Any], ...] = ()
    ordered: bool = False  # has an order_by()
    in_filters: tuple[Any, ...] = ()  # Spans of the `.in_(...)` calls among its filters
    # The ORM plugin it belongs to (orm/: "sqlalchemy", "django", ...), and what that plugin
    # keeps of it besides (hashable).
    orm: str = "sqlalchemy"
    plugin_state: tuple = ()
    # Django: a QuerySet (or Manager). Its project manager/queryset classes (methods to look up),
    # the loops it was built in (a queryset in a variable is evaluated once, then cached), and the
    # related manager it comes from (`author.books.all()`), which a prefetch may answer.
    managers: tuple[Any, ...] = ()
    made_in: frozenset[int] = frozenset()
    related: RelatedManager | None = None
    from_self: bool = False  # `self` in a manager/queryset method: the caller's queryset
    local: bool = True       # built in this module's code (not a function's return value)
    # Returned by a project function: where its chain starts there ((path, Span); findings name it).
    origin: tuple[str, Any] | None = None
    custom: bool = False     # went through a method of the project's manager/queryset class

    @property
    def django(self) -> bool:
        return self.orm == "django"


@dataclass(frozen=True, eq=False)
class RelatedManager:
    """`author.books`: the row it hangs on and the relationship (Django reverse FK / M2M)."""

    row: Value
    owner: ModelInfo
    relationship: Any  # RelationshipInfo


@dataclass(frozen=True, eq=False)
class Value:
    kind: Kind = Kind.UNKNOWN
    model: ModelInfo | None = None
    size: Size = Size.UNKNOWN
    # For rows: paths eager-loaded by the query they came from; None means the source is unknown.
    # For a LOADER_OPTION: the paths it loads eagerly (see option_eager).
    eager: frozenset[tuple[str, ...]] | None = None
    # Ids of the LoopScopes this value changes with (a loop target, or computed from one).
    deps: frozenset[int] = frozenset()
    # For ROW values bound per item of a loop: that loop's id.
    loop: int | None = None
    query: QueryInfo | None = None
    name: str = ""          # EXTERNAL: full dotted name; FUNCTION: qualified name; COLUMN: column
    ref: Any = None         # FUNCTION: FunctionRef; MODULE: module path; CLASS: (module, ClassDecl)
    inner: Value | None = None  # ENUMERATE / DICT_* values: the collection or row value inside
    label: str = ""         # how to name it in a message: the source text it came from
    certain: bool = True    # SESSION: False when only the receiver's name suggests a session
    # QUERY: a select() or subquery; only session.execute() and friends run it, iterating does not.
    statement: bool = False
    tuples: bool = False    # QUERY: it yields tuples or columns (`query(A, B)`, `select(M.id)`), not rows
    # ROW/ROWS: where the rows came from (see provenance); QUERY: where a queryset was given, when
    # the walk did not build it (a view's expression a template is rendered with).
    source: Any = None                # Span of the query call that loaded them
    not_null: frozenset[str] = frozenset()  # columns a filter kept NOT NULL (in SQL or a comprehension)
    fixed: frozenset[str] = frozenset()     # columns the query fixed by equality (`filter_by(user_id=uid)`)
    via: str | None = None  # the model whose relationship reached them (`author.books`: "Author")
    maybe_rows: bool = False  # ROW: through a relationship of unknown uselist, so maybe a collection
    scalars: bool = False   # RESULT: from session.scalars(), so it yields rows, not tuples
    nullable: bool = False  # COLUMN_VALUE: the column is nullable and no filter kept it NOT NULL
    is_property: bool = False  # FUNCTION: a @property, whose body runs when it is read
    batched: bool = False   # COLLECTION: of chunks or pages, so a loop over it is batched
    iterator: bool = False            # can be read once only: a generator, map(), zip(), Iterable[...]
    zipped: tuple[Value, ...] | None = None  # COLLECTION from zip(): the iterables zipped
    items: tuple[Value, ...] = ()  # a loop item that is a tuple: its parts, for `for i, row in ...`
    # LOADER_OPTION: the relationship path it is at (`selectinload(A.b).joinedload(B.c)`: ("b", "c")).
    loader_path: tuple[str, ...] = ()
    # SESSION / SESSION_FACTORY: an AsyncSession; RESULT / ROWS / ROW: loaded through one, so a
    # lazy load on them raises MissingGreenlet instead of running.
    asynchronous: bool = False
    awaitable: bool = False  # ROW: `row.awaitable_attrs` (AsyncAttrs), whose relationships are awaited loads
    # UNKNOWN: the result of calling this project function (a FunctionRef). Read only when the
    # result is used as a query (run, iterated, executed), to see if the function returns one.
    call_of: Any = None
    # ROW/ROWS reached through relationships from the rows of a loop's query: the path (Django
    # names it in select_related("author__publisher")).
    rel_path: tuple[str, ...] = ()
    through_many: bool = False  # ... and that path goes through a collection (prefetch_related then)
    # ROWS/COLLECTION/QUERY: capped by a `.limit(n)` whose n is not a constant (a batch size), an
    # `xs[:n]` slice, an `if len(xs) > MAX: raise` before, or the rows of one row's collection
    # (`team.members`): not bounded for loops (a page of N+1 is still N+1), but an IN list made
    # from it has the size the author chose. QUERY (a subquery) and COLUMN (`subquery.c.id`): the capped query.
    capped: bool = False
    # An INSERT/UPDATE/DELETE statement being built (`insert(M).values(...)`): "insert", "update",
    # "delete"; `model` is its table's model when known.
    write: str = ""
    # COLLECTION: a dict display or `dict(k=v)` whose string keys hold rows or a query: (key, value).
    keyed: tuple[tuple[str, Value], ...] = ()

    def but(self, **changes: Any) -> Value:
        """A copy with these fields changed. (dataclasses.replace re-runs __init__ and is ~10x
        slower; the facts pass makes thousands of these per file.)"""
        copy = object.__new__(Value)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy

    def provenance(self) -> dict[str, Any]:
        """Where rows came from: it travels from a query's rows to each row, and back into lists."""
        return dict(source=self.source, not_null=self.not_null, fixed=self.fixed, via=self.via,
                    asynchronous=self.asynchronous, rel_path=self.rel_path, through_many=self.through_many)

    def option_eager(self) -> frozenset[tuple[str, ...]]:
        """The paths a LOADER_OPTION loads eagerly; none for any other value."""
        return (self.eager or frozenset()) if self.kind is Kind.LOADER_OPTION else frozenset()

    @property
    def is_rowlike(self) -> bool:
        return self.kind in (Kind.ROWS, Kind.ROW) and self.model is not None

    @property
    def project_methods(self) -> bool:
        """A query object that is an instance of the project's classes too (a Django manager or
        queryset: the project's own methods are called on it, with it as `self`)."""
        return self.kind is Kind.QUERY and self.query is not None and self.query.django


UNKNOWN = Value()


def unknown(deps: frozenset[int] = frozenset(), size: Size = Size.UNKNOWN) -> Value:
    return Value(deps=deps, size=size) if deps or size is not Size.UNKNOWN else UNKNOWN


def merge_deps(values) -> frozenset[int]:
    out: frozenset[int] = frozenset()
    for value in values:
        if value.deps:
            out = out | value.deps
    return out


def keyed_rows(pairs) -> tuple[tuple[str, Value], ...]:
    """Of a dict's (string key, value) pairs, those that hold rows or a query of a known model
    (what `d[key]` gives back: Value.keyed); a repeated key is its last value's."""
    held: dict[str, Value] = {}
    for key, value in pairs:
        held[key] = value
    return tuple((key, value) for key, value in held.items()
                 if value.kind in (Kind.ROWS, Kind.ROW, Kind.QUERY) and value.model is not None)


def eager_below(eager: frozenset[tuple[str, ...]] | None, attr: str) -> frozenset[tuple[str, ...]] | None:
    """Eager paths relative to the rows reached through relationship `attr`."""
    if eager is None:
        return None
    below = {path[1:] for path in eager if len(path) > 1 and path[0] in (attr, "*")}
    if ("*",) in eager:
        below.add(("*",))  # lookups not read (or a bare select_related()): may reach any depth
    return frozenset(below)


def eager_covers(eager: frozenset[tuple[str, ...]], attr: str) -> bool:
    return (attr,) in eager or ("*",) in eager


def schema_collection(deps: frozenset[int]) -> Value:
    """A collection of schema objects (a model's fields, a MetaData's tables): as large as the
    program's code, not the data."""
    return Value(kind=Kind.COLLECTION, size=Size.BOUNDED, deps=deps, inner=Value(kind=Kind.SCHEMA, deps=deps))


# What a class body's expression is, as the project index resolves it (ProjectIndex.eval_static):
# what the ORM plugins' model readers are given.
Resolver = Callable[[ast.expr], Value]


def external_name(value: Value) -> str:
    """The dotted name of a library value (`sqlalchemy.orm.relationship`), or ""."""
    return value.name if value.kind is Kind.EXTERNAL else ""
