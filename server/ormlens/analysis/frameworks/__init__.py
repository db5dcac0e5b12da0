"""Framework plugins: what web frameworks call once per row (DRF serializer methods, Django admin
`list_display` callables, template loops, pydantic `model_validate` per row...), told to the
interpreter the way analysis/orm/ tells it what an ORM's calls mean (see docs/architecture.md).

None is registered yet: the recall issue adds them here, one module each and one line below."""

from __future__ import annotations

FRAMEWORKS: tuple = ()
