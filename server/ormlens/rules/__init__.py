"""The registry: one line per rule."""

from __future__ import annotations

from ormlens.rules.base import Rule
from ormlens.rules.orm001_n_plus_one_query import NPlusOneQuery
from ormlens.rules.orm002_n_plus_one_lazy_load import NPlusOneLazyLoad
from ormlens.rules.orm003_quadratic_grouping import QuadraticGrouping
from ormlens.rules.orm004_unchunked_in import UnchunkedIn
from ormlens.rules.orm005_nullable_sum import NullableSum

REGISTRY: dict[str, Rule] = {rule.code: rule for rule in (
    NPlusOneQuery(),
    NPlusOneLazyLoad(),
    QuadraticGrouping(),
    UnchunkedIn(),
    NullableSum(),
)}
