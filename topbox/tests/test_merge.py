"""``topbox.api.filters.merge``: one condition per field, so the embedded server can use an
index (it scans the collection for a top-level ``$and``)."""

import datetime

from topbox.api.filters import merge

DAY = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
LATER = DAY + datetime.timedelta(days=5)


def test_bounds_on_one_field_become_one_condition():
    assert merge([{"d": {"$gt": DAY}}, {"d": {"$lt": LATER}}]) == {"d": {"$gt": DAY, "$lt": LATER}}


def test_two_bounds_of_one_kind_keep_the_narrower():
    assert merge([{"d": {"$gt": DAY, "$lt": LATER}}, {"d": {"$gt": LATER - datetime.timedelta(days=1)}}]) == {
        "d": {"$gt": LATER - datetime.timedelta(days=1), "$lt": LATER}
    }
    assert merge([{"d": {"$lt": LATER}}, {"d": {"$lt": DAY}}]) == {"d": {"$lt": DAY}}


def test_what_cannot_be_one_condition_is_an_and():
    assert merge([{"e": 1}, {"e": 2}]) == {"$and": [{"e": 1}, {"e": 2}]}
    assert merge([{"d": {"$gt": DAY}}, {"d": {"$gt": 5}}]) == {"$and": [{"d": {"$gt": DAY}}, {"d": {"$gt": 5}}]}


def test_an_in_with_an_equality_or_an_in_keeps_the_values_in_both():
    """A client user's engagements and the engagement asked for: one condition, which the
    (engagementId, interactionDate) index serves, rather than a scan for an ``$and``."""
    assert merge([{"e": {"$in": [1, 2, 3]}}, {"e": 2}]) == {"e": 2}
    assert merge([{"e": 2}, {"e": {"$in": [1, 2, 3]}}]) == {"e": 2}
    assert merge([{"e": {"$in": [1, 2]}}, {"e": 4}]) == {"e": {"$in": []}}  # matches nothing, as the $and did
    assert merge([{"e": {"$in": [1, 2, 3]}}, {"e": {"$in": [3, 2, 5]}}]) == {"e": {"$in": [2, 3]}}
    assert merge([{"e": {"$in": [1]}}, {"e": {"$in": [2]}}]) == {"e": {"$in": []}}
    assert merge([{"e": {"$in": [1]}}, {"e": {"$gt": 0}}]) == {"$and": [{"e": {"$in": [1]}}, {"e": {"$gt": 0}}]}


def test_an_equality_within_a_range_is_the_equality():
    """A cursor's ties (``date == v``) on a list filtered by a date range: one condition."""
    inside = DAY + datetime.timedelta(days=1)
    assert merge([{"d": {"$gte": DAY, "$lt": LATER}}, {"d": inside}]) == {"d": inside}
    assert merge([{"d": inside}, {"d": {"$gt": DAY}}]) == {"d": inside}
    assert merge([{"d": {"$gte": DAY, "$lt": LATER}}, {"d": LATER}]) == {"d": {"$in": []}}  # outside: nothing
    assert merge([{"d": {"$gt": DAY}}, {"d": "text"}]) == {"$and": [{"d": {"$gt": DAY}}, {"d": "text"}]}
    assert merge([{"n": {"$gt": 0}}, {"n": True}]) == {"$and": [{"n": {"$gt": 0}}, {"n": True}]}
    # Interactions without a date, last of a list by date within a range: none of them match it.
    assert merge([{"d": {"$gte": DAY, "$lt": LATER}}, {"d": None}]) == {"d": {"$in": []}}
    naive = inside.replace(tzinfo=None)  # stored as UTC by pymongo
    assert merge([{"d": {"$gte": DAY, "$lt": LATER}}, {"d": naive}]) == {"d": naive}


def test_not_missing_within_a_range_is_the_range():
    """An oldest-first list's dated segment (``$ne: None``) within a window or a ``from``: the
    range alone, which never matches a missing value (with ``$ne`` the embedded server scans)."""
    assert merge([{"d": {"$ne": None}}, {"d": {"$gt": DAY}}]) == {"d": {"$gt": DAY}}
    assert merge([{"d": {"$gte": DAY, "$lt": LATER}}, {"d": {"$ne": None}}]) == {"d": {"$gte": DAY, "$lt": LATER}}
    assert merge([{"d": {"$ne": 3}}, {"d": {"$gt": 1}}]) == {"d": {"$ne": 3, "$gt": 1}}
