"""Keyset (cursor) pagination over a MongoDB collection.

A page is the ``page_size`` documents after (or before) the last one the client saw, in
a total order: the sort field, then ``_id``. Finding it is an indexed range query, so a
page deep in the collection costs what the first one does, unlike ``skip``. Cursors are
signed, so a client can follow them but not forge them; a total is counted only when
``count=true`` asks for it.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import total_ordering

from bson import Decimal128, ObjectId
from django.core import signing
from django.template import loader
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from topbox import extjson

CURSOR_SALT = "topbox.api.cursor"


@dataclass(frozen=True)
class Ordering:
    """Sort by ``field`` (``direction`` 1 or -1), then by ``_id`` the same way; or, ``within``
    another ordering, by that one among the documents of one value of ``field`` (for example
    by sentiment, then newest first: each sentiment's part is then paged as the dates are)."""

    name: str  # as given in ?ordering=
    field: str
    direction: int
    nullable: bool = False
    # Its condition goes first in a query, unless the query holds one of ``leads_unless``
    # (fields whose own index reads fewer): see topbox.api.query.Query.find.
    leads: bool = False
    leads_unless: tuple = ()
    within: "Ordering | None" = None

    @property
    def sort(self):
        return [(self.field, self.direction), *(self.within.sort if self.within else [("_id", self.direction)])]

    def key(self, row):
        """``row``'s place in this order, ascending, as MongoDB sorts: a missing value lowest,
        then by BSON type (numbers, strings, ..., dates), then by value."""
        value = row.get(self.field)
        rank = bson_type_rank(value)
        if isinstance(value, Decimal128):
            value = value.to_decimal()  # compares with int and float exactly
        elif rank in (4, 5, 6):  # objects, arrays, binary data: not what a page is ordered by
            value = repr(value)
        if self.within is None:
            return (rank, value, row["_id"])
        tie = self.within.key(row)
        return (rank, value, tie if self.within.direction == self.direction else Reversed(tie))

    def leads_in(self, query):
        """Whether this ordering's condition goes first in ``query`` (a filter)."""
        return self.leads and not query.keys() & set(self.leads_unless)

    @property
    def signature(self):
        """What a cursor names its ordering by: a cursor of another ordering (or of this one
        before it sorted within) is refused, not misread."""
        return self.name if self.within is None else f"{self.name},{self.within.signature}"

    def value(self, row):
        """What a cursor keeps of ``row`` (see :meth:`after`)."""
        if self.within is None:
            return row.get(self.field)
        return [row.get(self.field), self.within.value(row)]

    def reversed(self):
        return replace(self, direction=-self.direction, within=self.within and self.within.reversed())

    def first(self):
        """The first page's segments, as :meth:`after` gives a later page's: the missing values
        first when they sort first (ascending), so that the rest is a range on the field."""
        if self.nullable and self.direction == 1:
            return [{self.field: None}, {self.field: {"$ne": None}}]
        return [{}]

    def after(self, value, last_id):
        """The documents strictly after ``(value, last_id)`` in this order, as filters to
        query one after the other: first the ties on ``value``, then what lies beyond.

        Each is an equality or a one-sided range, which every server serves from an index;
        one ``$or`` of them would be a single round trip, but SecantusDB scans the whole
        collection for it (measured: 490 ms against 4 ms at 20k).
        """
        beyond = "$gt" if self.direction == 1 else "$lt"
        if self.within is None:
            ties = [{self.field: value, "_id": {beyond: last_id}}]
        else:  # ``value``: this field's and the one within's
            value, within = value
            ties = [{self.field: value, **segment} for segment in self.within.after(within, last_id)]
        if value is None:
            # Missing values sort lowest: first when ascending, last when descending.
            return [*ties, {self.field: {"$ne": None}}] if self.direction == 1 else ties
        segments = [*ties, {self.field: {beyond: value}}]
        if self.nullable and self.direction == -1:
            segments.append({self.field: None})
        return segments


# MongoDB's sort order of BSON types: null, numbers, strings, objects, arrays, binary data,
# ObjectIds, booleans, dates. (bool is tested before int: it is an int in Python.)
BSON_TYPE_RANKS = ((bool, 8), ((int, float, Decimal128), 2), (str, 3), (dict, 4), (list, 5), (bytes, 6),
                   (ObjectId, 7), (datetime, 9))  # fmt: skip


def bson_type_rank(value):
    """Where ``value``'s type sorts among BSON types (the values compared are of one type)."""
    if value is None:
        return 1
    return next((rank for types, rank in BSON_TYPE_RANKS if isinstance(value, types)), 10)


@total_ordering
class Reversed:
    """A sort key that sorts the other way (part of a key whose other parts do not)."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __eq__(self, other):
        return self.key == other.key

    def __lt__(self, other):
        return other.key < self.key


def both_ways(field, nullable=False, leads=False, leads_unless=(), within=None):
    """``?ordering=field`` (ascending) and ``?ordering=-field`` (descending), either way
    ``within`` the same ordering, if given."""
    return {
        field: Ordering(field, field, 1, nullable, leads, leads_unless, within),
        f"-{field}": Ordering(f"-{field}", field, -1, nullable, leads, leads_unless, within),
    }


def encode_cursor(path, ordering, value, last_id, previous=False):
    """The signed cursor, for the list at ``path``, of the page after (or, with
    ``previous``, before) ``(value, last_id)``."""
    data = {"o": ordering.signature, "v": extjson.dumps(value), "i": extjson.dumps(last_id), "p": int(previous)}
    return signing.dumps(data, salt=cursor_salt(path), compress=True)


def cursor_salt(path):
    """Cursors are signed for one list: one taken elsewhere fails its signature."""
    return f"{CURSOR_SALT}:{path.rstrip('/')}"


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 1000
    params = ("cursor", "page_size", "count")
    template = "rest_framework/pagination/previous_and_next.html"

    def paginate_queryset(self, queryset, request, view=None):
        """The page of ``queryset`` (a :class:`~topbox.api.query.Query`) the request asks for."""
        self.request = request
        ordering = queryset.ordering
        page_size = self.get_page_size(request)
        cursor = self.decode_cursor(request, ordering)
        backwards = bool(cursor and cursor["previous"])
        queryset = queryset.ordered(ordering.reversed() if backwards else ordering)
        segments = queryset.ordering.after(cursor["value"], cursor["id"]) if cursor else queryset.ordering.first()
        rows = []
        for segment in segments:
            rows += queryset.find_windowed(segment, limit=page_size + 1 - len(rows))
            if len(rows) > page_size:
                break
        more = len(rows) > page_size
        rows = rows[:page_size]
        if backwards:
            rows.reverse()

        has_next, has_previous = (True, more) if backwards else (more, cursor is not None)
        self.next = self.link(request, ordering, rows[-1], previous=False) if rows and has_next else None
        self.previous = self.link(request, ordering, rows[0], previous=True) if rows and has_previous else None
        if cursor and not rows:  # stepped past an end that moved: offer the way back
            self.previous = self.first_page_link(request)
        self.count = queryset.count() if self.wants_count(request) else None
        self.display_page_controls = bool(self.next or self.previous)
        return rows

    def get_paginated_response(self, data):
        body = {"next": self.next, "previous": self.previous}
        if self.count is not None:
            body["count"] = self.count
        body["results"] = data
        return Response(body)

    def to_html(self):
        context = {"previous_url": self.previous, "next_url": self.next}
        return loader.get_template(self.template).render(context)

    def get_page_size(self, request):
        raw = request.query_params.get("page_size")
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [f"Give a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def wants_count(self, request):
        raw = request.query_params.get("count")
        if raw is None:
            return False
        if raw not in ("true", "false"):
            raise ValidationError({"count": ["Give true or false."]})
        return raw == "true"

    def decode_cursor(self, request, ordering):
        raw = request.query_params.get("cursor")
        if raw is None:
            return None
        invalid = ValidationError(
            {"cursor": ["Invalid cursor: follow the next and previous links of this list as given."]}
        )
        try:
            data = signing.loads(raw, salt=cursor_salt(request.path))
            cursor = {"value": extjson.loads(data["v"]), "id": extjson.loads(data["i"]), "previous": bool(data["p"])}
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise invalid from None
        if data.get("o") != ordering.signature:
            raise ValidationError({"cursor": ["This cursor belongs to another ordering: start from the first page."]})
        return cursor

    def link(self, request, ordering, row, previous):
        token = encode_cursor(request.path, ordering, ordering.value(row), row["_id"], previous)
        return replace_query_param(request.build_absolute_uri(), "cursor", token)

    def first_page_link(self, request):
        return remove_query_param(request.build_absolute_uri(), "cursor")

    # OpenAPI (drf-spectacular reads these two).

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Where the page starts: take it from a response's next or previous link."},
            {"name": "page_size", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size}},
            {"name": "count", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
             "description": "Also return the total number of matching documents (costs a count)."},
        ]  # fmt: skip

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "count": {"type": "integer", "description": "Only with count=true."},
                "results": schema,
            },
        }
