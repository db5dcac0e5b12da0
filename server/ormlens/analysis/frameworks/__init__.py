"""Framework plugins: what web frameworks call once per row (DRF serializer methods, Django admin
`list_display` callables, template loops, pydantic `model_validate` per row...), told to the
interpreter the way analysis/orm/ tells it what an ORM's calls mean (see docs/architecture.md and
api.py). One module each and one line below."""

from __future__ import annotations

from typing import Any

from ormlens.analysis.frameworks import django_admin, django_forms, django_tables2, drf, graphene, marshmallow
from ormlens.analysis.frameworks.api import FrameworkPlugin, RowCallbacks

FRAMEWORKS: tuple[FrameworkPlugin, ...] = (
    drf,  # type: ignore[assignment]  # a module implementing api.FrameworkPlugin
    django_admin,  # type: ignore[assignment]
    marshmallow,  # type: ignore[assignment]
    django_tables2,  # type: ignore[assignment]
    graphene,  # type: ignore[assignment]
    django_forms,  # type: ignore[assignment]
)


def per_row_class(b: Any, cls: tuple) -> RowCallbacks | None:
    """The first framework's answer: the rows it calls this class once each for."""
    for framework in FRAMEWORKS:
        found = framework.per_row_class(b, cls)
        if found is not None:
            return found
    return None


# The plugins that have the optional hooks (asked for every function walked: looked up once).
FUNCTION_HOOKS = tuple(hook for framework in FRAMEWORKS
                       if (hook := getattr(framework, "per_row_function", None)) is not None)
HOLDING_HOOKS = tuple(hook for framework in FRAMEWORKS
                      if (hook := getattr(framework, "holds_per_row_function", None)) is not None)


def per_row_function(b: Any, path: str, stmt: Any) -> RowCallbacks | None:
    """The first framework's answer for a function (not a method: one attached to a class at run
    time): the rows it is called once each for."""
    for hook in FUNCTION_HOOKS:
        found = hook(b, path, stmt)
        if found is not None:
            return found
    return None


def holds_per_row_function(b: Any, path: str, stmt: Any) -> bool:
    """Does a function define one that a framework calls once per row?"""
    return any(hook(b, path, stmt) for hook in HOLDING_HOOKS)


def forget(index: Any) -> None:
    """A module changed (or files came and went): what the plugins derived from declarations goes."""
    for framework in FRAMEWORKS:
        framework.forget(index)


def affected_by(decl: Any) -> bool:
    """Does a module hold what a plugin derives for other modules (who uses which class per row)?"""
    return any(framework.affected_by(decl) for framework in FRAMEWORKS)
