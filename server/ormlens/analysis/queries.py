"""What any ORM's code looks like, in tables: the methods that run or build a query, IN lists,
containers, decorators. Each ORM's own names are in its plugin (orm/)."""

from __future__ import annotations

import ast
import re

from ormlens.analysis.astutil import last_name

# relationship(lazy=...) values under which reading the attribute runs a SELECT per row (True is
# normalised to "select"). Everything else is eager ("joined", "selectin", "subquery",
# "immediate"), refuses ("raise", "raise_on_sql"), loads nothing ("noload", None) or returns a
# query ("dynamic", "write_only").
LAZY_STRATEGIES = frozenset({"select"})
# Strategies that return a query object instead of loading (reading it is not the load).
QUERY_STRATEGIES = frozenset({"dynamic", "write_only"})

# Terminal methods: calling one runs the query. Value is what it returns.
QUERY_TERMINALS = {
    "all": "rows",
    "first": "row",
    "one": "row",
    "one_or_none": "row",
    "scalar": "scalar",
    "count": "scalar",
    "get": "row",
    "get_or_404": "row",
    "first_or_404": "row",
    "one_or_404": "row",
    "paginate": "page",
    "delete": "scalar",
    "update": "scalar",
}
# Query / QuerySet terminals that write (a bulk UPDATE/DELETE), by what they write.
WRITE_TERMINALS = {"update": "update", "delete": "delete", "aupdate": "update", "adelete": "delete"}
# Column methods that bind one parameter per item of their argument.
IN_METHODS = frozenset({"in_", "not_in", "notin_"})

# Builtins that keep a collection's size (and its rows' model).
SIZE_PRESERVING_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"})
# Functions that split an iterable into chunks (loops over them are batched, not per item).
DEFAULT_CHUNK_FUNCTIONS = frozenset({
    "batched", "chunked", "ichunked", "chunks", "chunker", "partition_all", "grouper", "sliced",
    "batch", "batches", "chunk", "iter_chunks", "in_chunks", "chunkify",
})
# Decorators after which a call does not rerun the body: lru_cache, ttl_cache, cachedmethod,
# memoize, dogpile's cache_on_arguments... matched on the words of the decorator's name, so that
# never_cache or track_memory are not taken for caches.
CACHE_WORDS = frozenset({"cache", "cached", "cachedmethod", "memoize", "memoized", "memo", "lru"})
NOT_CACHE_WORDS = frozenset({"never", "no", "skip", "invalidate", "clear", "bust", "evict"})


# Keywords of a caching decorator that make its entries expire.
EXPIRY_KEYWORDS = frozenset({"timeout", "ttl", "expire", "expires", "expiration_time", "ttl_seconds", "maxage",
                             "max_age"})


def is_expiring_cache(decorator) -> bool:
    """`@cache.memoize(timeout=120)`, `@cached(ttl=60)`, `@ttl_cache(...)`: a cache whose entries
    expire, so the body runs again for each argument once its entry is gone."""
    last = last_name(decorator)
    if not is_caching_decorator(last):
        return False
    if "ttl" in last.lower():
        return True
    return isinstance(decorator, ast.Call) and any(kw.arg in EXPIRY_KEYWORDS for kw in decorator.keywords)


def is_caching_decorator(name: str) -> bool:
    words = {word.lower() for word in re.split(r"_|(?<=[a-z])(?=[A-Z])", name) if word}
    return bool(words & CACHE_WORDS) and not words & NOT_CACHE_WORDS


# Reading an attribute defined with these runs the function's body.
PROPERTY_DECORATORS = frozenset({"property", "hybrid_property", "cached_property"})
# Decorators known to call the function with the arguments its caller gave (guards.py binds a
# call's arguments to the parameters only then: others may add or fill some, e.g. a task's `bind=True`).
PASS_THROUGH_DECORATORS = PROPERTY_DECORATORS | frozenset({
    "staticmethod", "classmethod", "setter", "deleter", "abstractmethod", "override", "overload",
    "atomic", "wraps"})
# Taking the next item out of a collection: `while` loops that do one per turn consume it item by
# item (a work-list, a queue, an iterator, a cursor), so they repeat once per item.
DRAIN_METHODS = frozenset({"pop", "popleft", "popitem"})    # list/deque/set/dict; pop() or pop(<int>)
RESULT_DRAIN_METHODS = frozenset({"fetchone"})               # a Result (a query's rows), row by row
DRAIN_FUNCTIONS = frozenset({"builtins.next", "heapq.heappop"})
# Adding to a collection in the loop that drains it: it is a work-list that grows with the data.
GROW_METHODS = frozenset({"append", "appendleft", "extend", "extendleft", "add", "insert", "update"})
GROW_FUNCTIONS = frozenset({"heapq.heappush"})
# Iterables whose length is fixed by something other than the data.
RETRY_ITERATORS = frozenset({"tenacity.Retrying", "tenacity.AsyncRetrying"})
# Classes whose subclasses are enumerations: a value made from one is one of a fixed set of members.
ENUM_CLASSES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
# Request-parameter and field declarations (FastAPI, pydantic) whose `max_length`/`max_items`
# makes the framework reject longer lists: the value is bounded by validation.
VALIDATING_DECLARATIONS = frozenset({
    "fastapi.Body", "fastapi.Query", "fastapi.Form", "fastapi.Path", "fastapi.Header", "fastapi.Cookie",
    "fastapi.params.Body", "fastapi.params.Query", "fastapi.params.Form",
    "fastapi.param_functions.Body", "fastapi.param_functions.Query", "fastapi.param_functions.Form",
    "pydantic.Field", "pydantic.fields.Field", "pydantic.conlist", "pydantic.types.conlist",
    "pydantic.conset", "pydantic.types.conset", "sqlmodel.Field",
})
LENGTH_LIMIT_KEYWORDS = frozenset({"max_length", "max_items"})

# Yields (key, group) pairs whose groups split its iterable (calls.py; loops over it are `partitioned`).
GROUPBY = "itertools.groupby"
