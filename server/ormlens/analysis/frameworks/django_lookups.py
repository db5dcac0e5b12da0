"""The relation lookups Django code written in a class names for eager loading, read from its
text: `select_related("a__b")`, `prefetch_related("c", Prefetch("d"), GenericPrefetch("e", [...]))`. Used where the rows a
framework hands over come from a queryset the analysis does not evaluate (a view's `queryset`, a
`get_queryset()` override): every path named anywhere there counts as loaded, so what they might
load is never reported."""

from __future__ import annotations

import ast

from ormlens.analysis.astutil import last_name

EAGER_METHODS = frozenset({"select_related", "prefetch_related"})


def literal_lookups(nodes: list[ast.AST]) -> frozenset[tuple[str, ...]] | None:
    """Every lookup path (and its prefixes) the eager-loading calls in `nodes` name; None when one
    of them is a bare `select_related()` (it loads every non-null relation)."""
    eager: set[tuple[str, ...]] = set()
    for node in nodes:
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            name = last_name(call.func)
            if name in EAGER_METHODS and not call.args and not call.keywords:
                return None
            prefetch = name.endswith("Prefetch")  # Prefetch, GenericPrefetch
            if name not in EAGER_METHODS and not prefetch:
                continue
            for arg in call.args[:1] if prefetch else call.args:
                if isinstance(arg, ast.Call) and last_name(arg.func).endswith("Prefetch") and arg.args:
                    arg = arg.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    eager.update(prefixes(arg.value))
    return frozenset(eager)


def prefixes(lookup: str) -> list[tuple[str, ...]]:
    """`"a__b"` -> [("a",), ("a", "b")]: loading a path loads each relation along it."""
    parts = tuple(lookup.split("__"))
    return [parts[:i] for i in range(1, len(parts) + 1)]
