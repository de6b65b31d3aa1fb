"""Keyset pages for big changelists: newest, older, newer, oldest, and a date to jump to.

A page is the ``per_page`` documents after (or before) the last one shown, in the list's
ordering (a field, then ``_id``), read through the API's cursor segments
(:meth:`topbox.api.pagination.Ordering.after`), so that a page deep in the list costs what
the first one does, unlike ``skip``. Each segment is read as the API reads its pages
(:meth:`topbox.api.query.Query.find_windowed`), within the windows the admin's
:class:`Windows` gives (e.g. from daily counts): the server reads about a page, not
everything beyond the cursor (the embedded server reads every document a query matches).
"""

import datetime

from django.contrib.admin.options import IncorrectLookupParameters
from django.core import signing
from mongoengine.fields import DateTimeField

from topbox import extjson
from topbox.api.pagination import Ordering, cursor_salt, encode_cursor
from topbox.api.query import Query
from topbox.dates import at_or_after

# The navigation's parameters (kept out of the list filters).
AFTER, BEFORE, LAST, AT = "after", "before", "last", "at"
NAV_PARAMS = (AFTER, BEFORE, LAST, AT)


class Windows:
    """Where a list's documents lie, for reading a keyset page by windows (a subclass's,
    e.g. from daily counts): the server then reads about a page, not everything beyond the
    cursor (the embedded server reads every document a query matches)."""

    def window_for(self, ordering):
        """``(ordering, window)``: the ordering as pages are read in it, and its window
        (see :class:`topbox.api.query.Query`; None: no window, read each segment whole)."""
        return ordering, None

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


def fetch(collection, query, ordering, segments, limit, windows=None, projection=None):
    """Up to ``limit`` documents of ``query`` lying in ``segments`` (read in turn), in
    ``ordering``: each segment read as the API reads a page's
    (:meth:`topbox.api.query.Query.find_windowed`), within the windows ``windows`` gives."""
    window, values = None, None
    if windows is not None:
        ordering, window = windows.window_for(ordering)
        values = windows.values
    selection = Query(collection, query, projection, ordering, window=window, values=values)
    rows = []
    for segment in segments:
        rows += selection.find_windowed(segment, limit - len(rows))
        if len(rows) >= limit:
            break
    return rows[:limit]
