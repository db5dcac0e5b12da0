"""The relation lookups Django code written in a class names for eager loading, read from its
text: `select_related("a__b")`, `prefetch_related("c", Prefetch("d"), GenericPrefetch("e", [...]))`. Used where the rows a
framework hands over come from a queryset the analysis does not evaluate (a view's `queryset`, a
`get_queryset()` override): every path named anywhere there counts as loaded, so what they might
load is never reported."""

from __future__ import annotations

import ast

from ormlens.analysis.astutil import last_name

EAGER_METHODS = frozenset({"select_related", "prefetch_related"})


def literal_lookups(nodes: list[ast.AST], context: list[ast.AST] | None = None) -> frozenset[tuple[str, ...]] | None:
    """Every lookup path (and its prefixes) the eager-loading calls in `nodes` name; None when one
    of them is a bare `select_related()` (it loads every non-null relation)."""
    eager: set[tuple[str, ...]] = set()
    lists = named_lists(context if context is not None else nodes)  # (context: where names are bound)
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
                elif isinstance(arg, (ast.Starred, ast.Name)):
                    # `select_related(*related)` with `related = ["a", "b__c"]` written here;
                    # anything else may load anything: not known.
                    named = arg.value if isinstance(arg, ast.Starred) else arg
                    if not isinstance(named, ast.Name) or named.id not in lists:
                        return None
                    for lookup in lists[named.id]:
                        eager.update(prefixes(lookup))
            if prefetch and call.args and isinstance(call.args[0], ast.Constant) and \
                    isinstance(call.args[0].value, str):
                # `Prefetch("lines", queryset=Line.objects.select_related("product"))`: the
                # prefetched rows load "product", so "lines__product" is loaded.
                inner = next((kw.value for kw in call.keywords if kw.arg == "queryset"),
                             call.args[1] if len(call.args) > 1 else None)
                if isinstance(inner, ast.Name):  # `tracks = Track.objects.select_related(...)` above
                    inner = next((stmt.value for node in context or nodes for stmt in ast.walk(node)
                                  if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and
                                  isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == inner.id), None)
                below = literal_lookups([inner], context or nodes) if inner is not None else frozenset()
                if below is None:
                    return None
                outer = tuple(call.args[0].value.split("__"))
                eager.update(outer + path for path in below)
    return frozenset(eager)


def named_lists(nodes: list[ast.AST]) -> dict[str, list[str]]:
    """Names bound (anywhere in `nodes`) to a literal list/tuple of strings, and what they add
    (`related += ["x"]`); a name bound to anything else is left out (not known)."""
    found: dict[str, list[str]] = {}
    other: set[str] = set()
    for node in nodes:
        for stmt in ast.walk(node):
            if isinstance(stmt, (ast.Assign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = stmt.value
                strings = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)] \
                    if isinstance(value, (ast.List, ast.Tuple)) else None
                for target in targets:
                    if not isinstance(target, ast.Name):
                        continue
                    if strings is None or len(strings) != len(value.elts):
                        other.add(target.id)
                    else:
                        found.setdefault(target.id, []).extend(strings)
    return {name: lookups for name, lookups in found.items() if name not in other}


def prefixes(lookup: str) -> list[tuple[str, ...]]:
    """`"a__b"` -> [("a",), ("a", "b")]: loading a path loads each relation along it."""
    parts = tuple(lookup.split("__"))
    return [parts[:i] for i in range(1, len(parts) + 1)]
