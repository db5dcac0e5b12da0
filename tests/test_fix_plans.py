"""Fix plans (ormlens.fixes.plans): each kind's JSON form, read back as the same plan; anything
else read as None, never an exception (a client may send back anything)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ormlens.findings import Span
from ormlens.fixes.plans import (
    PLANS, BatchQuery, BatchQueryPlan, ChunkInPlan, DjangoBatchPlan, DjangoBatchQuery, DjangoChunkPlan,
    DjangoEagerPlan, EagerLoadPlan, FixPlan, GroupOncePlan, OrZeroPlan, from_json, to_json, PeeweeLoadPlan)

SERVER = Path(__file__).resolve().parents[1] / "server"

PLAN_EXAMPLES = [
    BatchQueryPlan(Span(5, 4, 7, 30), Span(5, 15, 5, 23), "uid", True, (
        BatchQuery(Span(6, 19, 6, 61), "Session", "user_id", "all", False),
        BatchQuery(Span(7, 8, 7, 30), "Payment", "user_id", "first", True))),
    BatchQueryPlan(Span(5, 4, 6, 30), Span(5, 19, 5, 23), None, False, (
        BatchQuery(Span(6, 8, 6, 30), "User", "id", "get", False),)),
    DjangoBatchPlan(Span(10, 4, 12, 20), Span(10, 13, 10, 20), "a", False, (
        DjangoBatchQuery(Span(11, 13, 11, 44), "Book", "Book.objects", "author", "a", "iterate", False,
                         key_is_instance=True),
        DjangoBatchQuery(Span(12, 8, 12, 20), "Review", "Review.objects", "book", "a.book_id", "count", True,
                         attribute="book_id"),
        DjangoBatchQuery(Span(12, 22, 12, 40), "Tag", "Tag.objects", "pk", "a.tag_id", "get", True))),
    EagerLoadPlan(Span(3, 11, 3, 40), "Author", "books", "selectinload"),
    DjangoEagerPlan(Span(3, 13, 3, 35), "Book", "author", "select_related"),
    GroupOncePlan(Span(8, 16, 8, 50), Span(7, 4, 8, 50), Span(8, 28, 8, 33), "r", Span(8, 37, 8, 44),
                  Span(8, 48, 8, 50)),
    ChunkInPlan(Span(4, 11, 4, 60), Span(4, 37, 4, 53), Span(4, 50, 4, 52), True),
    DjangoChunkPlan(Span(4, 4, 4, 60), Span(4, 16, 4, 59), Span(4, 36, 4, 58), "author_id__in", "ids", "list"),
    OrZeroPlan(Span(9, 15, 9, 23)),
    PeeweeLoadPlan(Span(4, 33, 4, 49), "Tweet", "user", "User", "join"),
]


def test_every_kind_has_an_example():
    assert {type(plan) for plan in PLAN_EXAMPLES} == set(PLANS.values())
    assert all(issubclass(plan, FixPlan) and PLANS[plan.kind] is plan for plan in PLANS.values())


@pytest.mark.parametrize("plan", PLAN_EXAMPLES, ids=lambda plan: plan.kind)
def test_json_round_trip(plan):
    data = to_json(plan)
    assert data["kind"] == plan.kind
    assert from_json(data) == plan
    assert from_json(json.loads(json.dumps(data))) == plan  # through the wire too


def test_json_form_is_the_dict_the_rules_used_to_build():
    """The shape diagnostics have always carried in their data: field order, spans as lists, the
    two optional keys of a Django batch query only when set."""
    assert to_json(PLAN_EXAMPLES[0]) == {
        "kind": "batch_query", "loop": [5, 4, 7, 30], "iterable": [5, 15, 5, 23], "target": "uid",
        "reiterable": True, "queries": [
            {"span": [6, 19, 6, 61], "model": "Session", "column": "user_id", "terminal": "all", "ordered": False},
            {"span": [7, 8, 7, 30], "model": "Payment", "column": "user_id", "terminal": "first", "ordered": True}]}
    assert list(to_json(PLAN_EXAMPLES[0])) == ["kind", "loop", "iterable", "target", "reiterable", "queries"]
    assert to_json(PLAN_EXAMPLES[1])["target"] is None
    queries = to_json(PLAN_EXAMPLES[2])["queries"]
    assert [sorted(set(query) - {"span", "model", "manager", "lookup", "key", "terminal", "ordered"})
            for query in queries] == [["key_is_instance"], ["attribute"], []]
    assert queries[0]["key_is_instance"] is True and queries[1]["attribute"] == "book_id"
    assert to_json(OrZeroPlan(Span(1, 2, 3, 4))) == {"kind": "or_zero", "element": [1, 2, 3, 4]}


@pytest.mark.parametrize("data", [
    None, 0, "batch_query", [], {}, {"kind": None}, {"kind": ["or_zero"]}, {"kind": "no_such_kind", "element": [1, 2, 3, 4]},
    {"element": [1, 2, 3, 4]},                                  # no kind
    {"kind": "or_zero"},                                        # a missing key
    {"kind": "or_zero", "element": "1, 2, 3, 4"},               # a span that is a string
    {"kind": "or_zero", "element": [1, 2, 3]},                  # a span of three
    {"kind": "or_zero", "element": [1, 2, 3, 4.0]},             # a float column
    {"kind": "or_zero", "element": [1, 2, 3, True]},            # a bool is not a column
    {"kind": "or_zero", "element": None},
    {"kind": "eager_load", "query": [1, 0, 1, 9], "model": "A", "relationship": 7, "loader": "joinedload"},
    {"kind": "chunk_in", "query": [1, 0, 1, 9], "in_call": [1, 0, 1, 9], "argument": [1, 0, 1, 9], "ordered": "yes"},
    {"kind": "group_once", "scan": [1, 0, 1, 9], "loop": [1, 0, 1, 9], "collection": [1, 0, 1, 9], "item": None,
     "item_side": [1, 0, 1, 9], "outer_side": [1, 0, 1, 9]},    # item may not be None
    {"kind": "batch_query", "loop": [1, 0, 2, 9], "iterable": [1, 9, 1, 12], "target": "x", "reiterable": True,
     "queries": {"span": [2, 4, 2, 9]}},                        # queries not a list
    {"kind": "batch_query", "loop": [1, 0, 2, 9], "iterable": [1, 9, 1, 12], "target": "x", "reiterable": True,
     "queries": [{"span": [2, 4, 2, 9], "model": "M", "column": "c", "terminal": "all"}]},  # a query's missing key
    {"kind": "batch_query", "loop": [1, 0, 2, 9], "iterable": [1, 9, 1, 12], "target": "x", "reiterable": True,
     "queries": ["not a query"]},
])
def test_from_json_refuses_what_is_not_a_plan(data):
    assert from_json(data) is None


@pytest.mark.parametrize("plan", PLAN_EXAMPLES, ids=lambda plan: plan.kind)
def test_from_json_never_raises_on_damaged_plans(plan):
    """Every key of the plan (and of its queries) dropped, or its value replaced by one of another
    type: None, never an exception, unless the damage leaves a valid plan (an optional key dropped)."""
    other_types = [None, "x", 3, 2.5, True, {}, [1, 2, 3, 4]]
    bad_lists = [[], [1, 2, 3], [1, 2, 3, True], ["a", "b", "c", "d"], [{"span": "x"}]]
    data = to_json(plan)

    def damaged(obj):
        for key, value in obj.items():
            yield {k: v for k, v in obj.items() if k != key}
            for wrong in [v for v in other_types if type(v) is not type(value)] + \
                    (bad_lists if isinstance(value, list) else []):
                yield {**obj, key: wrong}

    variants = list(damaged(data))
    for index, query in enumerate(data.get("queries", [])):
        variants += [{**data, "queries": [*data["queries"][:index], other, *data["queries"][index + 1:]]}
                     for other in damaged(query)]
    for variant in variants:
        read = from_json(variant)
        assert read is None or read == from_json(json.loads(json.dumps(variant))), variant
        if read is not None:  # an optional key dropped or null, or no queries: still a plan (the builder judges it)
            assert from_json(to_json(read)) == read, variant
            assert "queries" in variant and variant != data, variant


def test_every_kind_has_a_builder():
    from ormlens.fixes.registry import BUILDERS

    assert set(BUILDERS) == set(PLANS.values())


def test_extra_keys_are_ignored():
    assert from_json({"kind": "or_zero", "element": [1, 2, 3, 4], "later": "a newer server's key"}) == \
        OrZeroPlan(Span(1, 2, 3, 4))


def test_plans_are_frozen_and_hashable():
    plan = PLAN_EXAMPLES[0]
    with pytest.raises(AttributeError):
        plan.target = "other"  # type: ignore[misc]
    assert hash(plan) == hash(from_json(to_json(plan)))


def test_plans_module_does_not_load_libcst():
    """The rules build plans during analysis, which never needs libcst."""
    code = "import sys, ormlens.fixes.plans, ormlens.rules; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SERVER)})
    assert out.stdout.strip() == "False"
