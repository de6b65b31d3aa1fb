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
    # date, else $lte or $gte (see _beyond).
    window: object = None
    # counter(query): the number of documents the query matches, from counts kept
    # elsewhere, or None when they cannot say (the documents are then counted).
    counter: object = None
    # values(field): the few values ``field`` holds, ascending (sentiments), or None: a page
    # ordered by such a field is read one value at a time (see by_value).
    values: object = None

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
        inside it, so a window that yields ``limit`` documents yields the right ones; a window
        that reaches no further than the last one (estimates need not grow with the number
        asked for) is not read.
        """
        if self.ordering.within is not None:
            known = self.values(self.ordering.field) if self.values else None
            parts = by_value(self.filter, self.ordering, segment, known)
            if parts is not None:
                return self._find_parts(parts, limit)
        estimate, rows, previous = limit, [], None
        while self.window:
            bound = self.window(self, segment, estimate)
            if bound is None:
                break
            if previous is None or _wider(bound, previous):
                # A wider window reads only what the last one did not (a galloping search).
                rows += self._find_window(merge([segment, bound, *_beyond(previous)]), bound, limit - len(rows))
                if len(rows) >= limit:
                    return rows
                previous = bound
            estimate *= min(64, max(2, 2 * limit // max(len(rows), 1)))
        return self.find(segment, limit)

    def _find_window(self, fragment, window, limit):
        """:meth:`find` within a window; by agent, then by date, the agents before the
        window's last one as they are (the counts say they hold less than the page), and the
        last one by date windows, so that not all of its interactions are read."""
        if self.ordering.within is None:
            return self.find(fragment, limit)
        (edge,) = window[self.ordering.field].values()
        parts = by_value(self.filter, self.ordering, fragment, known=[edge])
        return self.find(fragment, limit) if parts is None else self._find_parts(parts, limit)

    def _find_parts(self, parts, limit):
        """The parts of a segment (:func:`by_value`) in turn, each value's by its own windows."""
        rows = []
        for selected, segment, ordering in parts:
            part = replace(self, filter=selected, ordering=ordering, projection=self._projection())
            if segment is None:  # between the values known: as it is
                rows += part.find({}, limit - len(rows))
            else:
                for piece in [segment] if segment else ordering.first():
                    rows += part.find_windowed(piece, limit - len(rows))
                    if len(rows) >= limit:
                        break
            if len(rows) >= limit:
                break
        return rows

    def _projection(self):
        """The projection, with the fields the cursor is built from."""
        if self.projection is None or self.ordering is None:
            return self.projection
        return {**self.projection, **{field: 1 for field, _ in self.ordering.sort if field != "_id"}}

    def find(self, fragment, limit):
        """Up to ``limit`` documents matching this query and ``fragment``, in its ordering.

        A query holding an ``$in`` and a range on the sort field, or an equality, is sent as
        one query per value of the ``$in``, whose pages are merged: the embedded server scans
        the whole collection for the two together, and serves each equality with the rest
        from an index (on MongoDB both shapes are indexed, and the results are the same).
        A cursor's ties (one value of the sort field) are few: that value leads, in one query.
        An ordering that ``leads`` has no index shared with the filters' fields: its
        condition (a window, sized to the page) is sent first, where the embedded server
        looks for an index, and whole; unless the query holds one of its ``leads_unless``
        fields, whose index reads fewer.
        """
        projection = self._projection()
        field = self.ordering.field
        query = merge([self.filter, fragment])
        if NOTHING in query.values():
            return []  # (the embedded server scans the collection for an empty $in)
        if isinstance(query.get(field), dict) and any(isinstance(v, str) for v in query[field].values()):
            query[field] = _string_bounds(query[field])
        first = (field in query and self.ordering.leads_in(query)) or is_tie(query.get(field))
        queries = [{field: query.pop(field), **query}] if first else fan_out(query, field)
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
    if operator == "$lte":  # (a string)
        return [{field: {"$gt": value}}]
    if operator == "$gt":  # (a date)
        return [{field: {"$lt": value + ONE_MILLISECOND}}]
    return [{field: at_or_after(value) if isinstance(value, datetime.datetime) else {"$gte": value}}]


def _wider(window, previous):
    """Whether ``window`` reaches past ``previous`` (each one bound on the same field, as
    :func:`_beyond` takes them): a lower bound lower, an upper bound higher."""
    ((field, condition),) = window.items()
    ((operator, value),) = condition.items()
    ((_, reached),) = previous[field].items()
    return value < reached if operator in ("$gt", "$gte") else value > reached


def is_tie(condition):
    """Whether ``condition`` on a sort field is one value other than null: a cursor's ties,
    which few documents share (the documents without a value may be many)."""
    return condition is not None and not isinstance(condition, dict | list)


def fan_out(query, field):
    """``query`` as one query per value of its ``$in``, when it also bounds ``field`` by a
    range or an equality, or holds another equality (see :meth:`Query.find`); else ``[query]``.
    Not an ``$in`` of ids (the admin's text search finds them): the ``_id`` index reads each."""
    condition = query.get(field)
    ranged = isinstance(condition, dict) and RANGE_OPERATORS & condition.keys()
    equal = any(not isinstance(value, dict) for value in query.values())
    if not (ranged or equal):
        return [query]
    for key, values in query.items():
        if key == "_id":
            continue
        if isinstance(values, dict) and list(values) == ["$in"] and 1 < len(values["$in"]) <= MAX_FAN_OUT:
            return [{**query, key: value} for value in values["$in"]]
    return [query]


def by_value(query, ordering, segment, known=None):
    """A ``segment`` of a page in an ``ordering`` with another ``within`` it (by agent, then
    by date), as parts to read in turn: ``(filter, segment, ordering)``, where a segment of
    None means read the filter as it is. None: read the segment as it is (the agents'
    window, from their counts, holds about a page).

    One value's part is read in the ordering within, so by date windows, never all of that
    value, with the value first in the filter where the ordering ``leads``. A range of the
    values ``known`` (sentiments, ascending) is read one value at a time, with the ranges
    between them (which normally hold none), so that the parts hold exactly the segment.
    """
    field = ordering.field
    rest = {key: value for key, value in segment.items() if key != field}
    others = {key: value for key, value in query.items() if key != field}
    conditions = [fragment[field] for fragment in (query, segment) if field in fragment]
    if len(conditions) == 2 and not isinstance(conditions[0], dict) and conditions[1] == {"$ne": None}:
        conditions = [NOTHING] if conditions[0] is None else conditions[:1]  # (merge() would leave an $and)
    if len(conditions) == 2 and not isinstance(conditions[0], dict) and not isinstance(conditions[1], dict):
        conditions = conditions[:1] if conditions[0] == conditions[1] else [NOTHING]
    merged = merge([{field: condition} for condition in conditions])
    if "$and" in merged:
        return None
    condition = merged.get(field, {})
    if condition == NOTHING:
        return []
    if not isinstance(condition, dict):  # one value
        return [(_led_by(others, ordering, condition), rest, ordering.within)]
    if known is None:
        return None
    # Strings from "" (never null), with $gte and $lt bounds only: SecantusDB reads every key
    # equal to a $gt bound, and every null below a $lt.
    condition = _string_bounds(condition)
    pieces = []
    for low, high in zip(["", *known], [*known, None], strict=True):
        pieces.append({"$gte": low and low + "\x00", **({"$lt": high} if high is not None else {})})
        if high is not None:
            pieces.append(high)
    parts = []
    for piece in pieces if ordering.direction == 1 else reversed(pieces):
        within = merge([{field: condition}, {field: piece}]).get(field, NOTHING) if condition else piece
        empty = isinstance(within, dict) and "$lt" in within and within.get("$gte", "") >= within["$lt"]
        if within == NOTHING or empty:
            continue  # (nothing lies there)
        if isinstance(within, dict):  # between the values known
            parts.append((merge([others, rest, {field: within}]), None, ordering))
        else:
            parts.append((_led_by(others, ordering, within), rest, ordering.within))
    return parts


def _string_bounds(condition):
    """``condition`` with its string bounds as ``$gte`` and ``$lt`` (the next string up of a
    ``$gt`` or ``$lte`` bound, the same strings), without ``$ne: None``: SecantusDB 0.7.0b3
    reads every key equal to a ``$gt`` bound, and reads ``$lte`` on a compound index as ``$lt``."""
    written = {}
    for operator, value in condition.items():
        if operator == "$ne" and value is None:
            continue
        if isinstance(value, str) and operator in ("$gt", "$lte"):
            operator, value = {"$gt": "$gte", "$lte": "$lt"}[operator], value + "\x00"
        if operator in written:  # (both $gt and $gte, say: the tighter)
            value = max(written[operator], value) if operator == "$gte" else min(written[operator], value)
        written[operator] = value
    return written


def _led_by(query, ordering, value):
    """``query`` narrowed to one ``value`` of the ordering's field: first where it ``leads``."""
    if ordering.leads_in(query):
        return {ordering.field: value, **query}
    return {**query, ordering.field: value}
