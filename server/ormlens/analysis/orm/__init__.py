"""ORM plugins: what the interpreter (analysis/interpreter.py) asks when it meets a value, a call
or an attribute that Python alone does not explain. The protocol is in api.py.

Adding an ORM: a module here with the hooks of api.OrmPlugin, and one line in PLUGINS. The first
plugin to answer a question wins, in this order.
"""

from __future__ import annotations

from typing import Any

from ormlens.analysis.orm import django, peewee, sqlalchemy
from ormlens.analysis.orm.api import OrmPlugin

PLUGINS: tuple[OrmPlugin, ...] = (
    django,  # type: ignore[assignment]  # a module implementing api.OrmPlugin
    sqlalchemy,  # type: ignore[assignment]
    peewee,  # type: ignore[assignment]
)


def plugin_for(style: str) -> OrmPlugin:
    """The plugin of models and queries of `style` (ModelInfo.style, QueryInfo.orm)."""
    return next((plugin for plugin in PLUGINS if plugin.STYLE == style), sqlalchemy)  # type: ignore[return-value]


def owner_of(query: Any) -> OrmPlugin:
    """The plugin a recorded query (facts.QueryCall) belongs to."""
    info = query.query
    if info is not None:
        return plugin_for(info.orm)
    return plugin_for(query.model.style if query.model is not None else "sqlalchemy")
