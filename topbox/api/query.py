"""The "queryset" of a Topbox viewset: a collection, a filter, a projection and an ordering.

DRF's generic views pass a queryset from ``get_queryset()`` through the filter backends
to the paginator. Topbox reads raw documents through pymongo, so what travels that path
is this small immutable value; only the paginator and ``get_object()`` run it.
"""

import datetime
import heapq
import itertools
from dataclasses import dataclass, replace

from topbox.api.filters import merge
from topbox.dates import ONE_MILLISECOND, at_or_after

RANGE_OPERATORS = frozenset(("$gt", "$gte", "$lt", "$lte"))
MAX_FAN_OUT = 100  # an $in longer than this is sent as one query
NOTHING = {"$in": []}  # what merge() makes of conditions no value meets


@dataclass(frozen=True)
class Query:
    collection: object  # a pymongo Collection
    filter: dict
    projection: dict | None = None
    ordering: object = None  # a topbox.api.pagination.Ordering, set by the ordering backend
    # window(query, segment, needed): a filter fragment narrowing ``segment`` to where the
    # next ``needed`` documents are expected (from counts kept elsewhere), or None: a
    # one-sided range on the ordering's field, $gt or $lt at a whole millisecond for a
    # date, else $lt or $gte (see _beyond).
    window: object = None
    # counter(query): the number of documents the query matches, from counts kept
    # elsewhere, or None when they cannot say (the documents are then counted).
    counter: object = None

    def where(self, fragment):
        """This query narrowed by ``fragment`` (bounds on one field merge into one condition)."""
        return replace(self, filter=merge([self.filter, fragment]))

    def ordered(self, ordering):
        return replace(self, ordering=ordering)

    def get(self, pk):
        """The whole stored document with this ``_id`` if the query matches it, else None
        (never projected: its ETag is computed from all of it)."""
        return self.collection.find_one(merge([{"_id": pk}, self.filter]))

    def find_windowed(self, segment, limit):
        """:meth:`find`, within the window the view estimates holds ``limit`` documents, then
        wider ones (in proportion to how many the last one held: other filters, such as an
        agent's name, may keep only a few of its documents), so that the server reads about
        a page rather than everything the segment matches; unbounded once the window would
        hold the rest of the data.

        Exact whatever the estimate: documents outside the window sort after every one
        inside it, so a window that yields ``limit`` documents yields the right ones.
        """
        estimate, rows, previous = limit, [], None
        while self.window:
            bound = self.window(self, segment, estimate)
            if bound is None:
                break
            # A wider window reads only what the last one did not (a galloping search).
            rows += self.find(merge([segment, bound, *_beyond(previous)]), limit - len(rows))
            if len(rows) >= limit:
                return rows
            estimate *= min(64, max(2, 2 * limit // max(len(rows), 1)))
            previous = bound
        return self.find(segment, limit)

    def find(self, fragment, limit):
        """Up to ``limit`` documents matching this query and ``fragment``, in its ordering.

        A query holding an ``$in`` and a range (or an equality) on the sort field is sent as
        one query per value of the ``$in``, whose pages are merged: the embedded server scans
        the whole collection for the two together, and serves each equality with the range
        from an index (on MongoDB both shapes are indexed, and the results are the same).
        An ordering that ``leads`` has no index shared with the filters' fields: its
        condition (a window, sized to the page) is sent first, where the embedded server
        looks for an index, and whole; unless the query holds one of its ``leads_unless``
        fields, whose index reads fewer.
        """
        projection = self.projection
        if projection is not None and self.ordering is not None:
            projection = {**projection, self.ordering.field: 1}  # the cursor is built from it
        field = self.ordering.field
        query = merge([self.filter, fragment])
        if NOTHING in query.values():
            return []  # (the embedded server scans the collection for an empty $in)
        if self.ordering.leads and field in query and not query.keys() & set(self.ordering.leads_unless):
            queries = [{field: query.pop(field), **query}]
        else:
            queries = fan_out(query, field)
        cursors = [self.collection.find(query, projection).sort(self.ordering.sort).limit(limit) for query in queries]
        if len(cursors) == 1:
            return list(cursors[0])
        merged = heapq.merge(*cursors, key=self.ordering.key, reverse=self.ordering.direction == -1)
        return list(itertools.islice(merged, limit))

    def stream(self, batch_size):
        """Every matching document in this query's ordering, read ``batch_size`` at a time."""
        return self.collection.find(self.filter, self.projection).sort(self.ordering.sort).batch_size(batch_size)

    def count(self):
        counted = self.counter(self) if self.counter else None
        return self.collection.count_documents(self.filter) if counted is None else counted


def _beyond(window):
    """The part of the order past a window's edge (``[]`` for no window): the complement of
    ``{field: {"$gt" | "$lt": instant}}`` among dates stored to the millisecond, written
    without ``$gte`` (see :func:`topbox.dates.at_or_after`), or of ``{field: {"$lt" |
    "$gte": value}}``."""
    if window is None:
        return []
    ((field, condition),) = window.items()
    ((operator, value),) = condition.items()
    if operator == "$gte":
        return [{field: {"$lt": value}}]
    if operator == "$gt":  # (a date)
        return [{field: {"$lt": value + ONE_MILLISECOND}}]
    return [{field: at_or_after(value) if isinstance(value, datetime.datetime) else {"$gte": value}}]


def fan_out(query, field):
    """``query`` as one query per value of its ``$in``, when it also bounds ``field`` by a
    range or an equality (see :meth:`Query.find`); else ``[query]``."""
    condition = query.get(field)
    ranged = isinstance(condition, dict) and RANGE_OPERATORS & condition.keys()
    if not (ranged or (field in query and not isinstance(condition, dict))):
        return [query]
    for key, values in query.items():
        if isinstance(values, dict) and list(values) == ["$in"] and 1 < len(values["$in"]) <= MAX_FAN_OUT:
            return [{**query, key: value} for value in values["$in"]]
    return [query]
