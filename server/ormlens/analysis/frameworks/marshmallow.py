"""marshmallow: a schema dumped with `many=True` dumps each object of the list in turn.

A schema class (a subclass of marshmallow's `Schema`, marshmallow-sqlalchemy's, Flask-Marshmallow's
`ma.Schema`, a `OneOfSchema`, through project bases too) runs per object when the project dumps it
with `many=True` (`S(many=True).dump(rows)`, `schema.dump(rows, many=True)`, `.jsonify(...)`, the
instance assigned to a local or module-level name first), when it is nested with `many=True` or in
a `fields.List(...)` in a schema that is dumped at all, nested in a schema dumped per object, or
listed in the `type_schemas` of a `OneOfSchema` that is. Per object, marshmallow calls each
`fields.Method("name")` method with it (`def name(self, obj)`), each `pre_dump` hook (and a
`post_dump` hook with its serialized data, or the object with `pass_original=True`) not declared
`pass_many=True`, and each declared field reads its attribute (`attribute="a.b"`, else its name)
on the object: a relationship, a property. Only the fields the dump includes count (`only=`,
`exclude=`, `load_only`, `Meta.fields`/`exclude`/`load_only`).

A query in such a method runs once per object: the model of the objects need not be known. A
relationship read needs it and what the objects' query loaded: the rows are those of a query the
dumping function runs (`S(many=True).dump(session.query(M).options(...).all())`, or a local name
assigned it once) as its facts record it (model and loader options), a Nested field's rows are its
relationship's, through the parent's. marshmallow-sqlalchemy's `class Meta: model = M` gives the
model alone: its reads are then evaluated with what they load not known, which reports nothing of
them (a property's query still runs per object). A schema nothing dumps per object says nothing.
A project decorator factory whose wrapper dumps the wrapped function's result with the schema one of
its parameters is (directly, or in a project helper it passes both to: `schema.dump(data["items"],
many=True)`) dumps what each view it decorates returns: the view's rows, or those of the project
functions whose result it returns (`{"items": rows, "total": n}` for an item of it), as those
functions' facts record the query they run, or, when none of them runs it (a helper paging the
query its caller passes it), as the values the view's `return`s give hold them (flow.Value.keyed
for the item). (Not yet: `fields.Function(lambda obj: ...)`, fields
generated from a model.)"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from ormlens.analysis.astutil import last_name
from ormlens.analysis.declarations import ClassDecl, ModuleDecl
from ormlens.analysis.dependencies import facts_node
from ormlens.analysis.facts import FunctionRef
from ormlens.analysis.flow import Kind, Size, eager_below
from ormlens.analysis.frameworks.api import DeclaredRead, RowCallbacks
from ormlens.analysis.frameworks.classes import MAX_DEPTH
from ormlens.analysis.frameworks.marshmallow_schemas import (
    ALL_FIELDS,
    DECORATED,
    DUMPS,
    Dump,
    Field,
    Key,
    Restriction,
    Usages,
    meta_model,
    meta_restriction,
    module_dumps,
    mro,
    schema_bases,
    usages,
)
from ormlens.analysis.models import ModelInfo
from ormlens.analysis.orm.api import Interpreter
from ormlens.analysis.queries import QUERY_TERMINALS
from ormlens.findings import Span

NAME = "marshmallow"
MAX_NESTING = 4
UNKNOWN_OBJECT = "<object>"  # the model named for objects whose model is not known (no class has the name)


@dataclass(frozen=True)
class Feed:
    """One way a schema is dumped: each object of a list (`per_object`) or one object; the objects'
    model and what their query loaded (None: not known); the loop to name; the fields dumped."""

    per_object: bool
    model: ModelInfo | None
    eager: frozenset[tuple[str, ...]] | None
    label: str
    path: str
    span: Span
    fields: Restriction


def per_row_class(b: Interpreter, cls: tuple[str, ClassDecl]) -> RowCallbacks | None:
    index = b.project
    path, schema = cls
    decl = index.decl(path)
    if decl is None or "chema" not in decl.source or schema_bases(index, decl, schema) is None:
        return None
    found = usages(index)
    key = (path, schema.name)
    if key not in found.schemas:
        return None
    # Per module pass: the dumps are read from the dumping modules' code, the objects' rows from
    # their facts (this module's facts then depend on them: an edit there walks it again).
    state = b.plugin_data.setdefault("marshmallow.pass", {"feeds": {}, "read": set(), "own": path})
    return callbacks(index, found, key, state)


def callbacks(index: Any, found: Usages, key: Key, state: dict) -> RowCallbacks | None:
    """What marshmallow calls `key`'s class for per object, over every schema dumped that has its
    fields and methods (the class itself and its subclasses)."""
    methods: dict[str, int] = {}
    hooks: dict[str, tuple[str, int]] = {}
    reads: dict[str, Field] = {}
    feeds: list[Feed] = []
    for dumped in [key, *descendants(found, key)]:
        order = mro(found.schemas, dumped)
        declared = meta_restriction(index, found.schemas, dumped)
        fields = effective_fields(found, order)
        definers = method_definers(found, order)
        for feed in feeds_of(index, found, dumped, 0, state):
            allowed = feed.fields & declared
            if not feed.per_object or not allowed.known:
                continue
            used = False
            for name, (owner, item) in fields.items():
                if item.load_only or not allowed.allows(name):
                    continue
                if item.kind == "method" and definers.get(item.method or "") == key:
                    methods[item.method or ""] = 1
                    used = True
                elif item.kind == "read" and owner == key:
                    reads[name] = item
                    used = True
            for name, owner in definers.items():
                if owner == key and name in found.schemas[key].hooks:
                    hooks[name] = found.schemas[key].hooks[name]
                    used = True
            if used:
                feeds.append(feed)
    if not feeds:
        return None
    model, eager, chosen = objects_of(feeds)
    for name, (hook, position) in hooks.items():
        if hook == "pre_dump" or position == 2 or model is None:
            methods[name] = position  # (a post_dump's data is a dict: the object's row only when unknown)
    declared_reads = tuple(DeclaredRead(item.path, item.many, item.at) for item in reads.values()) \
        if model is not None else ()
    if not methods and not declared_reads:
        return None
    places = {(feed.path, feed.span) for feed in feeds}
    label = chosen.label + (f" (and {len(places) - 1} more)" if len(places) > 1 else "")
    if model is None:
        model, eager = ModelInfo(name=UNKNOWN_OBJECT, module_path=key[0], line=0), frozenset()
    return RowCallbacks(model, eager, methods, declared_reads, label, chosen.path, chosen.span)


def objects_of(feeds: list[Feed]) -> tuple[ModelInfo | None, frozenset | None, Feed]:
    """The objects' model and what is loaded of them in every dump whose rows are known (when they
    are of one model), else the model every dump names (loads not known), else none; and the dump
    to name (the one that loads least)."""
    ordered = sorted(feeds, key=lambda feed: (feed.path, feed.span.line, feed.span.col))
    known = [feed for feed in ordered if feed.model is not None and feed.eager is not None]
    if known and len({model_key(feed.model) for feed in known}) == 1:
        eager = frozenset.intersection(*(feed.eager for feed in known if feed.eager is not None))
        return known[0].model, eager, min(known, key=lambda feed: len(feed.eager or ()))
    models = {model_key(feed.model) for feed in ordered}
    if len(models) == 1 and None not in models:
        return ordered[0].model, None, ordered[0]
    return None, None, ordered[0]


def model_key(model: ModelInfo | None) -> tuple[str, str] | None:
    return (model.module_path, model.name) if model is not None else None


def descendants(found: Usages, key: Key, depth: int = 0) -> list[Key]:
    out: list[Key] = []
    for sub in found.subclasses.get(key, []) if depth < MAX_DEPTH else ():
        if sub not in out:
            out += [sub, *(k for k in descendants(found, sub, depth + 1) if k not in out and k != sub)]
    return out


def effective_fields(found: Usages, order: list[Key]) -> dict[str, tuple[Key, Field]]:
    """Each field a schema has, with the class that declares the one it uses (the first in order)."""
    fields: dict[str, tuple[Key, Field]] = {}
    for key in order:
        for name, item in found.schemas[key].fields.items():
            fields.setdefault(name, (key, item))
    return fields


def method_definers(found: Usages, order: list[Key]) -> dict[str, Key]:
    definers: dict[str, Key] = {}
    for key in order:
        for name in found.schemas[key].cls.methods:
            definers.setdefault(name, key)
    return definers


# --- how a schema is dumped ------------------------------------------------------------------------


def feeds_of(index: Any, found: Usages, key: Key, depth: int, state: dict) -> list[Feed]:
    cache = state["feeds"]
    if key in cache:
        return cache[key]
    cache[key] = []  # (a cycle of nested schemas)
    feeds = []
    for dump in dumps_of(index, found, key, state):
        model, eager, bounded = dumped_objects(index, found, key, dump)
        feeds.append(Feed(dump.many is True and not bounded, model, eager, dump.label, dump.path, dump.span,
                          dump.fields))
    if depth < MAX_NESTING:
        feeds += nested_feeds(index, found, key, depth, state)
        for one_of in found.one_of.get(key, []):
            holders = [one_of, *(sub for sub in descendants(found, one_of)
                                 if found.schemas[sub].cls.attr_value("type_schemas") is None)]
            for holder in holders:  # each object is dumped with one of its type schemas
                feeds += [Feed(outer.per_object, None, None, outer.label, outer.path, outer.span, ALL_FIELDS)
                          for outer in feeds_of(index, found, holder, depth + 1, state)]
    cache[key] = feeds
    return feeds


def nested_feeds(index: Any, found: Usages, key: Key, depth: int, state: dict) -> list[Feed]:
    """The schema nested in a field of a schema that is dumped (or of a subclass that keeps it)."""
    feeds = []
    for parent, item in found.nested.get(key, []):
        for dumped in [parent, *descendants(found, parent)]:
            if effective_fields(found, mro(found.schemas, dumped)).get(item.name, (None, None))[1] is not item:
                continue
            declared = meta_restriction(index, found.schemas, dumped)
            for outer in feeds_of(index, found, dumped, depth + 1, state):
                allowed = outer.fields & declared
                if item.load_only or not allowed.allows(item.name):
                    continue
                model, eager = nested_objects(index, found, key, outer, item)
                if outer.per_object:
                    label, path, span = outer.label, outer.path, outer.span
                else:
                    label, path, span = f"{dumped[1]}.{item.name}, dumped item by item", parent[0], Span.of(item.node)
                feeds.append(Feed(outer.per_object or item.many, model, eager, label, path, span,
                                  item.target_fields & allowed.below(item.name)))
    return feeds


def dumps_of(index: Any, found: Usages, key: Key, state: dict) -> list[Dump]:
    """The dumps of a schema in the modules that may dump it, each module's code read as it is now:
    this pass reads that code (any edit of it walks this module again)."""
    dumps = []
    for path in found.dumpers.get(key, []):
        decl = index.decl(path)
        if decl is None:
            continue
        if path not in state["read"]:
            state["read"].add(path)
            if path == state["own"]:  # (its own functions, one by one: units.py)
                for qualname in [*decl.functions, *(f"{cls.name}.{name}" for cls in decl.classes.values()
                                                    for name in cls.methods)]:
                    index.read_function(FunctionRef(path, qualname))
            else:
                index.dependencies.read(facts_node(path))
        dumps += [dump for dumped, dump in module_dumps(index, decl, found) if dumped == key]
    return dumps


def nested_objects(index: Any, found: Usages, key: Key, outer: Feed, item: Field):
    """A nested schema's objects: those of the relationship it reads on the parent's, with what
    the parent's query loaded below it."""
    named = meta_model(index, found.schemas, key)
    model, eager = outer.model, outer.eager
    if model is None:
        return named, None
    for step in item.path:
        rel = index.relationship(model, step)
        target = index.find_model(rel.target, model.module_path, rel.app_label) if rel is not None else None
        if target is None:
            return named, None
        model, eager = target, eager_below(eager, step)
    return model, eager


def dumped_objects(index: Any, found: Usages, key: Key, dump: Dump) -> tuple[ModelInfo | None, frozenset | None, bool]:
    """The model of what a dump is given and what its query loaded, when it is the result of a
    query the dumping function runs (and whether that query is limited: a bounded number of
    rows); else the schema's `Meta.model` (loads not known)."""
    named = meta_model(index, found.schemas, key)
    rows = query_rows(index, dump) if dump.function is not None and (dump.candidates or dump.sources) else None
    if rows is None and dump.returned:
        rows = returned_rows(index, dump)
    if rows is not None and rows[2] == (dump.many is True):
        return rows[0], rows[1], rows[3]
    return named, None, False


def query_rows(index: Any, dump: Dump) -> tuple[ModelInfo, frozenset, bool, bool] | None:
    """(model, loaded paths, a list?, limited?) of the query whose result the dump is given, as
    the facts of the dumping function (or of the project function whose result it is) record it."""
    assert dump.function is not None
    for path, function, candidates in [(dump.path, dump.function, dump.candidates), *dump.sources]:
        if candidates:
            found = function_rows(index, path, function, candidates)
            if found is not None:
                return found
    return None


def returned_rows(index: Any, dump: Dump) -> tuple[ModelInfo, frozenset, bool, bool] | None:
    """(model, loaded paths, a list?, limited?) of the rows the dumping function's `return`s give
    (their `dump.key` item: `{"items": rows}`), as its facts record the values, through the
    project functions it returns the result of; None when no return gives rows of a known query,
    or they differ in model or shape."""
    assert dump.function is not None
    facts = index.function_facts(FunctionRef(dump.path, dump.function))
    if facts is None:
        return None
    rows = []
    for value in facts.returns:
        if dump.key is not None:
            value = next((held for name, held in value.keyed if name == dump.key), None)
        if value is not None and value.is_rowlike:
            rows.append(value)
    if not rows or any(value.eager is None or value.kind is not rows[0].kind or value.model is not rows[0].model
                       for value in rows):
        return None
    eager = frozenset.intersection(*(value.eager for value in rows if value.eager is not None))
    return rows[0].model, eager, rows[0].kind is Kind.ROWS, all(value.size is Size.BOUNDED for value in rows)


def function_rows(index: Any, path: str, function: str, candidates: tuple) -> tuple | None:
    facts = index.function_facts(FunctionRef(path, function))
    decl = index.decl(path)
    if facts is None or decl is None:
        return None
    by_span = {query.span: query for query in facts.query_calls}
    for span, shape in candidates:
        query = by_span.get(span)
        if query is None:
            continue
        produced = QUERY_TERMINALS.get(query.terminal)
        if shape == "items":
            produced = "rows" if query.terminal == "paginate" else None
        elif shape == "scalars":
            produced = "rows" if query.terminal == "execute" else None
        elif produced == "page":
            produced = None
        if produced not in ("rows", "row") or query.model is None or query.query is None or query.write or \
                not entity_query(index, decl, query.query.start):
            return None
        return query.model, query.query.eager, produced == "rows", query.query.limited
    return None


def entity_query(index: Any, decl: ModuleDecl, start: Any) -> bool:
    """Does the query give model objects (`query(M)`, `select(M)`), not tuples (`query(M.id, M.name)`)?"""
    if isinstance(start, ast.Call) and last_name(start.func) in ("query", "select"):
        return len(start.args) == 1 and not isinstance(start.args[0], ast.Starred) and \
            index.eval_static(decl, start.args[0]).kind is Kind.MODEL_CLASS
    return True


def affected_by(decl: ModuleDecl) -> bool:
    """A module that declares schemas, or may declare an instance of one or dump one (a schema's
    name, and `many=` or a dump call)."""
    source = decl.source
    return "marshmallow" in source or ("chema" in source and ("many=" in source or DUMPS.search(source) is not None
                                                              or DECORATED.search(source) is not None))


def forget(index: Any) -> None:
    """Any module changed: who dumps and nests which schema may have changed too."""
    index.plugin_caches.pop("marshmallow.usages", None)
    index.plugin_caches.pop("marshmallow.dumps", None)
    index.plugin_caches.pop("marshmallow.decorators", None)
