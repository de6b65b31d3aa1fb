"""Keyset pages for big changelists: newest, older, newer, oldest, and a date to jump to.

A page is the ``per_page`` documents after (or before) the last one shown, in the list's
ordering (a field, then ``_id``), read through the API's cursor segments
(:meth:`topbox.api.pagination.Ordering.after`), so that a page deep in the list costs what
the first one does, unlike ``skip``. By agent name, a segment is read as the API reads
its pages (:meth:`Windows.window_for`). On a date ordering each segment is read within a date
window that starts a day wide at the cursor (or at the data's edge, which a
:class:`Windows` says, e.g. from daily counts) and widens by what it held until it holds
the page (a galloping search): the server reads about a page, not everything beyond the
cursor (the embedded server reads every document a query matches).
An ``$in`` in the filter becomes one query per value (an ``$in`` with a range is a scan
there), merged in order, every value within the same window, sized by all of them.
"""

import datetime
import itertools

from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from mongoengine.fields import DateTimeField

from topbox import extjson
from topbox.api.filters import merge
from topbox.api.pagination import Ordering, cursor_salt, encode_cursor
from topbox.api.query import NOTHING, Query, by_value, is_tie
from topbox.dates import at_or_after

# The navigation's parameters (kept out of the list filters).
AFTER, BEFORE, LAST, AT = "after", "before", "last", "at"
NAV_PARAMS = (AFTER, BEFORE, LAST, AT)
# An $in with at most this many values (or combinations) is read one value at a time.
MAX_BRANCHES = 64
# Windows grow at least twice, at most this many times wider per try.
MAX_GROWTH = 16
EMPTY_GROWTH = 8  # after a window that held nothing
FIRST_SPAN = datetime.timedelta(days=1)


class Windows:
    """Where a list's documents lie on its date ``field``: what the gallop starts from.

    A subclass answers :meth:`edges`, cheaply: ``(oldest, newest)`` such that every value
    ``v`` that ``branch`` (a filter, which may hold ``$in`` conditions) matches lies in
    ``oldest <= v < newest`` (None: unknown), and may guess the first window (:meth:`first_span`).
    """

    field = None

    def edges(self, branch):
        return None, None

    def first_span(self, branch, start, needed, descending):
        """A timedelta from ``start`` expected to hold ``needed`` documents of ``branch``, or None."""
        return None

    def window_for(self, ordering):
        """For an ordering on another field than the date: ``(ordering, window)``, the ordering
        as the API pages with it and its window (see :class:`topbox.api.query.Query`), or None."""
        return None

    def values(self, field):
        """The values ``field`` holds, ascending (a few: a list ordered by it then by date is
        read one value at a time, each by date windows), or None."""
        return None


def ordering_of(model, names):
    """The keyset :class:`Ordering` of a changelist ordering ``[field, ±pk]`` or
    ``[field, other, ±pk]`` (by ``other`` within each value of ``field``), or None."""
    if not 2 <= len(names) <= 3 or names[-1].lstrip("-") not in ("pk", "id"):
        return None
    *fields, tie = names
    if fields[-1].startswith("-") != tie.startswith("-") or len({name.lstrip("-") for name in fields}) < len(fields):
        return None
    if not all(name.lstrip("-") in model._fields for name in fields):
        return None
    ordering = None
    for name in reversed(fields):
        db_field = model._fields[name.lstrip("-")].db_field
        ordering = Ordering(name, db_field, -1 if name.startswith("-") else 1, nullable=True, within=ordering)
    return ordering


def is_by_date(model, ordering):
    """Whether ``ordering`` leads with a date (its pages are newest, older, ..., and a date to go to)."""
    fields = {field.db_field: field for field in model._fields.values()}
    return isinstance(fields.get(ordering.field), DateTimeField)


def encode(path, ordering, row, previous):
    return encode_cursor(path, ordering, ordering.value(row), row["_id"], previous)


def decode(path, raw, ordering):
    """``(value, id)`` of a navigation cursor, or IncorrectLookupParameters."""
    try:
        data = signing.loads(raw, salt=cursor_salt(path))
        value, last_id = extjson.loads(data["v"]), extjson.loads(data["i"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise IncorrectLookupParameters("The page's position is not valid: follow the list's links.") from None
    if data.get("o") != ordering.signature:
        raise IncorrectLookupParameters("This position belongs to another sort order: start from the newest.")
    return value, last_id


def first_segments(ordering):
    """The segments of the first page: documents without a value sort lowest (first when
    ascending, last when descending)."""
    dated, undated = {ordering.field: {"$ne": None}}, {ordering.field: None}
    return [dated, undated] if ordering.direction == -1 else [undated, dated]


def jump_segments(ordering, day):
    """The segments of a page starting at ``day`` (a date): newest first, what lies before
    the end of that day; oldest first, what lies from its start."""
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    if ordering.direction == -1:
        segments = [{ordering.field: {"$lt": start + datetime.timedelta(days=1)}}] if day < datetime.date.max else [{}]
        return [*segments, {ordering.field: None}]
    return [{ordering.field: at_or_after(start)}]


def branches(query):
    """``query`` as several queries, one per value of its ``$in`` conditions (the
    combinations of up to ``MAX_BRANCHES``), the split fields first; else itself."""
    split = [key for key, value in query.items() if key != "_id" and isinstance(value, dict) and list(value) == ["$in"]]
    values = [list(dict.fromkeys(query[key]["$in"])) for key in split]
    total = 1
    for options in values:
        total *= len(options)
    if not split or total > MAX_BRANCHES:
        return [query]
    rest = {key: value for key, value in query.items() if key not in split}
    return [{**dict(zip(split, chosen, strict=True)), **rest} for chosen in itertools.product(*values)]


def fetch(collection, query, ordering, segments, limit, windows=None, projection=None):
    """Up to ``limit`` documents of ``query`` lying in ``segments`` (read in turn), in ``ordering``."""
    rows = []
    for segment in segments:
        rows += _fetch_segment(collection, query, ordering, segment, limit - len(rows), windows, projection)
        if len(rows) >= limit:
            break
    return rows[:limit]


def _find(collection, query, ordering, limit, projection):
    """Up to ``limit`` documents of ``query`` in ``ordering``: one query per branch, merged."""
    if NOTHING in query.values():
        return []  # (the embedded server scans the collection for an empty $in)
    rows = []
    tie = is_tie(query.get(ordering.field))  # a cursor's ties, few: their value leads, in one query
    for branch in [{ordering.field: query[ordering.field], **query}] if tie else branches(query):
        rows += collection.find(branch, projection).sort(ordering.sort).limit(limit)
    rows.sort(key=ordering.key, reverse=ordering.direction == -1)
    return rows[:limit]


def _fetch_segment(collection, query, ordering, segment, limit, windows, projection):
    """The segment's documents, within one window for every branch (sized by all of them
    together, so that the branches read about a page between them, not a page each)."""
    paged = windows.window_for(ordering) if windows is not None else None
    if paged is not None:
        ordering = paged[0]
    if ordering.within is not None:
        parts = by_value(query, ordering, segment, windows.values(ordering.field) if windows else None)
        if parts is not None:
            return _fetch_parts(collection, parts, limit, windows, projection)
    if paged is not None:  # (as the API reads its pages)
        return Query(collection, query, projection, paged[0], window=paged[1]).find_windowed(segment, limit)
    selection, query = query, merge([query, segment])
    condition = query.get(ordering.field, {})
    if windows is None or windows.field != ordering.field or "$and" in query or not _is_range(condition):
        return _find(collection, query, ordering, limit, projection)
    descending = ordering.direction == -1
    oldest, newest = (_utc(edge) for edge in windows.edges(selection))
    start = _utc(_start(condition, descending, oldest, newest))
    if start is None:
        return _find(collection, query, ordering, limit, projection)
    span = windows.first_span(selection, start, limit, descending) or FIRST_SPAN
    while True:
        try:
            edge = start - span if descending else start + span
        except OverflowError:  # the window would pass the calendar's end: no window
            return _find(collection, query, ordering, limit, projection)
        if descending:
            bound, complete = {ordering.field: at_or_after(edge)}, oldest is None or edge <= oldest
        else:
            bound, complete = {ordering.field: {"$lt": edge}}, newest is None or edge >= newest
        # (merge() drops the segment's "$ne: None": the window's range leaves missing values out)
        rows = _find(collection, merge([query, bound]), ordering, limit, projection)
        if len(rows) >= limit:
            return rows
        if complete:  # the window reaches past the data's edge: it holds everything
            return rows
        # Widen by what the window held: to about the page (and a quarter), at least twice.
        growth = EMPTY_GROWTH if not rows else min(MAX_GROWTH, max(2.0, 1.25 * limit / len(rows)))
        span *= growth


def _fetch_parts(collection, parts, limit, windows, projection):
    """The parts of a segment (:func:`topbox.api.query.by_value`) in turn, each value's by date windows."""
    rows = []
    for selected, segment, ordering in parts:
        if segment is None:
            rows += _find(collection, selected, ordering, limit - len(rows), projection)
        else:
            segments = [segment] if segment else first_segments(ordering)
            rows += fetch(collection, selected, ordering, segments, limit - len(rows), windows, projection)
        if len(rows) >= limit:
            break
    return rows


def _is_range(condition):
    """Whether ``condition`` (``{}``: none) is a range a window can narrow (not an equality, not ``None``)."""
    return (
        isinstance(condition, dict)
        and set(condition) <= {"$lt", "$gt", "$gte", "$ne"}
        and condition.get("$ne", None) is None
    )


def _start(condition, descending, oldest, newest):
    """Where the gallop starts: the segment's (or the filter's) bound on the near side, else the data's edge."""
    if descending:
        if "$lt" in condition:
            return condition["$lt"]
        return newest
    if "$gt" in condition:
        return condition["$gt"]
    if "$gte" in condition:
        return condition["$gte"]
    return oldest


def _utc(when):
    return when.replace(tzinfo=datetime.UTC) if when is not None and when.tzinfo is None else when
