"""ORM plugins: what the interpreter (analysis/interpreter.py) asks when it meets a value, a call
or an attribute that Python alone does not explain. The protocol is in api.py.

Adding an ORM: a module here with the hooks of api.OrmPlugin, and one line in PLUGINS. The first
plugin to answer a question wins, in this order.
"""

from __future__ import annotations

from ormlens.analysis.orm import django, sqlalchemy
from ormlens.analysis.orm.api import OrmPlugin

PLUGINS: tuple[OrmPlugin, ...] = (
    django,  # type: ignore[assignment]  # a module implementing api.OrmPlugin
    sqlalchemy,  # type: ignore[assignment]
)
