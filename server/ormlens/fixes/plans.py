"""Fix plans: what a rule found that its fix needs (where things are, what they are), one frozen
dataclass per fix kind. A rule puts one in `Finding.fix`; the builder of that kind (registry.py)
reads it with the source text and renders the edits. Spans are in findings' form: 1-based lines,
0-based UTF-8 byte columns.

Only `ormlens.findings` is imported here, so the rules use these without loading libcst.

`to_json` gives the JSON form a diagnostic carries in its `data` (`{"kind": "batch_query",
"loop": [line, col, end_line, end_col], ...}`); `from_json` reads it back, checking every value's
type, and gives None for anything else: what comes back from a client may be anything. Whether
the plan fits the code (a name that is an identifier, a terminal the builder handles) is for the
builder to decide; it refuses with UnfixableError."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from ormlens.spans import Span


@dataclass(frozen=True)
class FixPlan:
    """The base of every plan; `kind` is the "kind" of its JSON form."""

    kind: ClassVar[str]


# --- ORM001: the queries of a `for` loop batched before it --------------------------------------


@dataclass(frozen=True)
class BatchQuery:
    """A SQLAlchemy query in the loop keyed by equality on the loop's item: `model.column == item`."""

    span: Span
    model: str
    column: str
    terminal: str   # the method that runs it: all, first, count, get...
    ordered: bool   # it has an order_by: the rows keep their order when grouped


@dataclass(frozen=True)
class BatchQueryPlan(FixPlan):
    """ORM001 (SQLAlchemy): every query of the loop moves before it into one chunk loop over the
    distinct items, and becomes a lookup in the rows grouped by key."""

    kind: ClassVar[str] = "batch_query"
    loop: Span        # the whole `for` statement
    iterable: Span
    target: str | None  # the loop's target when it is one name (None: the builder refuses)
    reiterable: bool  # the iterable can be read twice (a list, not an iterator)
    queries: tuple[BatchQuery, ...]


@dataclass(frozen=True)
class DjangoBatchQuery:
    """A Django query in the loop filtered by `<lookup>=<key>`, the key read from the loop's item.
    The last two fields are left out of the JSON form while they have their defaults."""

    span: Span        # the queryset expression that runs (`Book.objects.filter(...)` in `list(...)`)
    model: str
    manager: str      # source text the queryset starts from (`Book.objects`)
    lookup: str
    key: str          # source text of the key (`a.id`)
    terminal: str     # iterate, first, last, get, count, exists
    ordered: bool
    key_is_instance: bool = False  # `author=a` with `a` a row: the lookup compares `a.pk`
    attribute: str | None = None   # the rows' attribute the lookup compares, when its name does not say


@dataclass(frozen=True)
class DjangoBatchPlan(FixPlan):
    """ORM001 (Django): as BatchQueryPlan, with `<lookup>__in=chunk` querysets."""

    kind: ClassVar[str] = "django_batch"
    loop: Span
    iterable: Span
    target: str | None
    reiterable: bool
    queries: tuple[DjangoBatchQuery, ...]


# --- ORM002: the relationship loaded with the rows ----------------------------------------------


@dataclass(frozen=True)
class EagerLoadPlan(FixPlan):
    """ORM002 (SQLAlchemy): `.options(<loader>(Model.relationship))` on the query that loads the rows."""

    kind: ClassVar[str] = "eager_load"
    query: Span
    model: str
    relationship: str
    loader: str       # selectinload or joinedload


@dataclass(frozen=True)
class DjangoEagerPlan(FixPlan):
    """ORM002 (Django): `.select_related("relation")` / `.prefetch_related(...)` on the queryset."""

    kind: ClassVar[str] = "django_eager"
    query: Span
    model: str
    relation: str
    loader: str       # select_related or prefetch_related
    # `query` is a name or attribute known to hold a queryset (what a view passes a template): the
    # loader is added to it as it stands. Left out of the JSON form while False.
    queryset: bool = False


# --- ORM003: a scan per item grouped once --------------------------------------------------------


@dataclass(frozen=True)
class GroupOncePlan(FixPlan):
    """ORM003: `[x for x in xs if <key of x> == <outer value>]` in a loop -> an index built once."""

    kind: ClassVar[str] = "group_once"
    scan: Span        # the list comprehension
    loop: Span        # the outer `for` statement
    collection: Span  # what the comprehension scans
    item: str         # the comprehension's target
    item_side: Span   # the side of the `==` computed from the item (the group key)
    outer_side: Span  # the side computed from the outer loop's item


# --- ORM004: an unbounded IN list queried in chunks ----------------------------------------------


@dataclass(frozen=True)
class ChunkInPlan(FixPlan):
    """ORM004 (SQLAlchemy): `rows = <query>.filter(M.col.in_(xs)).all()` run once per chunk of xs."""

    kind: ClassVar[str] = "chunk_in"
    query: Span
    in_call: Span     # `M.col.in_(xs)`
    argument: Span    # `xs`
    ordered: bool
    chunk_size: int | None = None  # fitted to the database (ORM004's message); None: the chunk-size setting


@dataclass(frozen=True)
class DjangoChunkPlan(FixPlan):
    """ORM004 (Django): `list(<qs>.filter(x__in=xs))` or `for r in <qs>...` run per chunk of xs."""

    kind: ClassVar[str] = "django_chunk"
    statement: Span   # the assignment or the `for` statement the queryset is the whole of
    query: Span
    keyword: Span     # `x__in=xs`
    lookup: str       # `x__in`
    values: str       # source text of `xs`
    terminal: str     # list or iterate
    chunk_size: int | None = None  # fitted to the database (ORM004's message); None: the chunk-size setting


# --- ORM005 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrZeroPlan(FixPlan):
    """ORM005: the summed element `p.amount` -> `(p.amount or 0)`."""

    kind: ClassVar[str] = "or_zero"
    element: Span


@dataclass(frozen=True)
class PeeweeLoadPlan(FixPlan):
    """ORM002 (Peewee): on the query the loop iterates, select and join the related model (a
    foreign key), or `.prefetch()` it (a backref)."""

    kind: ClassVar[str] = "peewee_load"
    query: Span
    model: str
    relation: str
    target: str       # the related model's class name
    loader: str       # "join" or "prefetch"


PLANS: dict[str, type[FixPlan]] = {plan.kind: plan for plan in (
    BatchQueryPlan, DjangoBatchPlan, EagerLoadPlan, DjangoEagerPlan, GroupOncePlan, ChunkInPlan,
    DjangoChunkPlan, OrZeroPlan, PeeweeLoadPlan)}


# --- the JSON form -------------------------------------------------------------------------------


def to_json(plan: FixPlan) -> dict[str, Any]:
    """`{"kind": ..., <each field>: ...}` in field order: spans as `[line, col, end_line, end_col]`,
    tuples of records as lists of objects."""
    return {"kind": plan.kind, **_fields_to_json(plan)}


def from_json(data: Any) -> FixPlan | None:
    """The plan `to_json` gave `data` for, or None when `data` is not one (an unknown kind, a
    missing field, a value of the wrong type). Keys it does not know are ignored. Never raises."""
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    plan = PLANS.get(kind) if isinstance(kind, str) else None
    if plan is None:
        return None
    read = _record(plan, data)
    return None if read is _MALFORMED else read


def _fields_to_json(record) -> dict[str, Any]:
    out = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if field.default is not dataclasses.MISSING and value == field.default:
            continue  # an optional extension of the record (DjangoBatchQuery's last two)
        out[field.name] = _value_to_json(value)
    return out


def _value_to_json(value):
    if isinstance(value, Span):
        return list(value)
    if isinstance(value, tuple):
        return [_value_to_json(item) for item in value]
    if dataclasses.is_dataclass(value):
        return _fields_to_json(value)
    return value


_MALFORMED = object()


def _record(cls: type, data: Any):
    """An instance of the dataclass `cls` from its JSON object, or _MALFORMED."""
    if not isinstance(data, dict):
        return _MALFORMED
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            if field.default is dataclasses.MISSING:
                return _MALFORMED
            continue
        value = _value(_HINTS[cls][field.name], data[field.name])
        if value is _MALFORMED:
            return _MALFORMED
        values[field.name] = value
    return cls(**values)


def _value(hint, value):
    """`value` read as the type `hint` (Span, str, bool, an optional, a tuple of records), or _MALFORMED."""
    if hint is Span:
        # (bool is an int, but not a line or a column)
        if isinstance(value, list) and len(value) == 4 and all(type(item) is int for item in value):
            return Span(*value)
        return _MALFORMED
    if hint in (str, bool, int):  # (a bool is not an int here)
        return value if type(value) is hint else _MALFORMED
    if isinstance(hint, types.UnionType):  # `X | None`
        if value is None:
            return None if type(None) in typing.get_args(hint) else _MALFORMED
        [inner] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(inner, value)
    if typing.get_origin(hint) is tuple:  # tuple[Record, ...]
        if not isinstance(value, list):
            return _MALFORMED
        items = tuple(_record(typing.get_args(hint)[0], item) for item in value)
        return _MALFORMED if any(item is _MALFORMED for item in items) else items
    return _MALFORMED  # a field type this reader does not know yet: the round-trip tests catch it


# Each record's field types, resolved once (the annotations are strings: `from __future__ import annotations`).
_HINTS: dict[type, dict[str, Any]] = {
    cls: typing.get_type_hints(cls) for cls in (*PLANS.values(), BatchQuery, DjangoBatchQuery)}
