"""ORM plugins: what the interpreter (analysis/interpreter.py) asks when it meets a value, a call
or an attribute that Python alone does not explain. The protocol is in api.py.

Adding an ORM: a module here with the hooks of api.OrmPlugin it answers (a hook it leaves out is
never asked), and one line in PLUGINS. The first plugin to answer a question wins, in this order.
"""

from __future__ import annotations

from typing import Any

from ormlens.analysis.flow import Kind
from ormlens.analysis.orm import django, peewee, sqlalchemy
from ormlens.analysis.orm.api import OrmPlugin

PLUGINS: tuple[OrmPlugin, ...] = (
    django,  # type: ignore[assignment]  # a module implementing api.OrmPlugin
    sqlalchemy,  # type: ignore[assignment]
    peewee,  # type: ignore[assignment]
)


def _hooks(name: str) -> tuple:
    """The plugins' functions for hook `name`, in the registry's order (those that have it)."""
    return tuple(getattr(plugin, name) for plugin in PLUGINS if hasattr(plugin, name))


def _by_kind(name: str, kinds: str) -> dict[Kind, tuple]:
    """Hook `name`'s functions by the kind of value they answer for (a plugin's `kinds` set; all
    kinds when it declares none)."""
    return {kind: tuple(getattr(plugin, name) for plugin in PLUGINS if hasattr(plugin, name) and
                        kind in getattr(plugin, kinds, Kind)) for kind in Kind}


def _by_package(name: str) -> tuple[dict[str, tuple], tuple]:
    """Hook `name`'s functions by the top-level package of the library names they know, and those
    of the plugins that do not say (asked for every package)."""
    answers = lambda plugin, package: hasattr(plugin, name) and (  # noqa: E731
        not hasattr(plugin, "PACKAGES") or package in plugin.PACKAGES)
    packages = {package for plugin in PLUGINS for package in getattr(plugin, "PACKAGES", ())}
    return ({package: tuple(getattr(plugin, name) for plugin in PLUGINS if answers(plugin, package))
             for package in packages},
            tuple(getattr(plugin, name) for plugin in PLUGINS if answers(plugin, None)))


# Each hook's functions, looked up once: the interpreter asks some of them for every node (by the
# kind of value, or the package of the library function, when the plugins say which they answer).
METHOD_CALL_BY_KIND = _by_kind("method_call", "METHOD_KINDS")
EVALUATE_BY_KIND = _by_kind("evaluate", "EVALUATE_KINDS")
SUBSCRIPT_BY_KIND = _by_kind("subscript", "SUBSCRIPT_KINDS")
FUNCTION_CALL_BY_PACKAGE, FUNCTION_CALL_ANY_PACKAGE = _by_package("function_call")
ATTRIBUTE, RELATIONSHIP, SELF_VALUE, PARAMETER, ANNOTATION = (
    _hooks("attribute"), _hooks("relationship"), _hooks("self_value"), _hooks("parameter"), _hooks("annotation"))
DECLARED_MODEL, IS_MODEL_BASE, CONSTRUCT, NAMESPACE_ATTRIBUTE = (
    _hooks("declared_model"), _hooks("is_model_base"), _hooks("construct"), _hooks("namespace_attribute"))
MODEL_LABEL, MODULE_LABEL, FORGET = _hooks("model_label"), _hooks("module_label"), _hooks("forget")
# Library modules that re-export another's names, as the plugins declare them (MODULE_ALIASES):
# a name imported from one is the other's (GeoDjango's `models.Model` is Django's).
ALIASES: dict[str, str] = {alias: module for plugin in PLUGINS
                           for alias, module in getattr(plugin, "MODULE_ALIASES", {}).items()}
# Library classes whose subclasses are enumerations, as the plugins declare them (ENUM_BASES:
# Django's `TextChoices`): a closed set of members, like `enum.Enum`'s.
ENUM_BASES: frozenset[str] = frozenset(name for plugin in PLUGINS for name in getattr(plugin, "ENUM_BASES", ()))


def ask(functions: tuple, *args: Any) -> Any:
    """The first answer (not None) of a hook's `functions` called with `args`, in the registry's
    order; None when none of them answers."""
    for function in functions:
        answer = function(*args)
        if answer is not None:
            return answer
    return None


def plugin_for(style: str) -> OrmPlugin:
    """The plugin of models and queries of `style` (ModelInfo.style, QueryInfo.orm)."""
    return next((plugin for plugin in PLUGINS if plugin.STYLE == style), sqlalchemy)  # type: ignore[return-value]


def owner_of(query: Any) -> OrmPlugin:
    """The plugin a recorded query (facts.QueryCall) belongs to."""
    info = query.query
    if info is not None:
        return plugin_for(info.orm)
    return plugin_for(query.model.style if query.model is not None else "sqlalchemy")
