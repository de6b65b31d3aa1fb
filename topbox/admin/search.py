"""What a changelist's search box understands, each kind answered by one indexed query.

* an ObjectId: the record with that id, or the records referencing the document with that
  id (:class:`IdSearch`: an interaction's engagement or client), by equality on ``_id`` or
  on an indexed reference;
* a CSV file name (``….csv``): the rows ingested from that file (``custom.csvName``);
* words: case-insensitive substrings of the admin's ``search_fields``, every word
  (``topbox.textsearch``);
* with :class:`TextSearch`, words inside ``custom`` too, but only within a chosen scope
  (client, engagement or dates) and among its newest ``SCAN_LIMIT`` records: text in free
  JSON has no index, so the scan is bounded and the page says so.
"""

from dataclasses import dataclass

from bson import ObjectId
from django.contrib import messages

from topbox import memo

MAX_SEARCH_WORDS = 10
MAX_SEARCH_WORD = 100
# Records whose source record is read per text search within a scope.
SCAN_LIMIT = 10_000


@dataclass(frozen=True)
class IdSearch:
    """An ObjectId of a ``document`` finds the records ``lookup(id)`` (filter keywords) selects."""

    document: type
    lookup: object  # ObjectId -> dict of MongoEngine filter keywords

    def exists(self, object_id):
        return _exists(self.document, object_id)


@memo.memoized
def _exists(document, object_id):
    """Once per page: the search asks, and the interactions' count asks again."""
    return document._get_collection().count_documents({"_id": object_id}, limit=1) > 0


def check_term(modeladmin, request, term):
    """The words of ``term``, or None (with a message) if there are too many or too long."""
    words = term.split()
    if len(words) > MAX_SEARCH_WORDS or any(len(word) > MAX_SEARCH_WORD for word in words):
        modeladmin.message_user(
            request,
            f"Search with at most {MAX_SEARCH_WORDS} words of at most {MAX_SEARCH_WORD} characters.",
            messages.ERROR,
        )
        return None
    return words


def search_by_id(modeladmin, request, queryset, object_id):
    for kind in modeladmin.get_id_searches():
        if kind.exists(object_id):
            return queryset.filter(**kind.lookup(object_id))
    names = ", ".join(kind.document._meta.verbose_name for kind in modeladmin.get_id_searches())
    modeladmin.message_user(request, f"No {names} has the id {object_id}.", messages.WARNING)
    return queryset.none()


def search(modeladmin, request, queryset, term):
    """The documents of ``queryset`` that ``term`` finds (see the module's docstring)."""
    term = term.strip()
    if not term:
        return queryset
    if ObjectId.is_valid(term):
        return search_by_id(modeladmin, request, queryset, ObjectId(term))
    words = check_term(modeladmin, request, term)
    if words is None:
        return queryset.none()
    if modeladmin.csv_name_field and term.lower().endswith(".csv") and len(words) == 1:
        return queryset.filter(__raw__={modeladmin.csv_name_field: term})
    text = modeladmin.text_search
    if text is not None and text.scoped(request):
        return text.search(modeladmin, request, queryset, words)
    return queryset.filter(__raw__=modeladmin.search_filter(request, words))


@dataclass(frozen=True)
class TextSearch:
    """Words inside ``field`` (free JSON, unindexed), searched only within a scope.

    ``scope_params``: the changelist parameters that narrow the list enough (a client, an
    engagement, a date bound). Within one, the newest ``limit`` records of the selection
    are read (their ``text_fields`` and ``field`` only) and those holding every word, in
    any string, key or number, are listed.
    """

    field: str
    text_fields: tuple
    scope_params: tuple
    newest_first: tuple  # the sort of the scan: ((field, direction), ...), an indexed order
    limit: int = SCAN_LIMIT

    def scoped(self, request):
        return any(request.GET.get(name) for name in self.scope_params)

    def search(self, modeladmin, request, queryset, words):
        wanted = [word.casefold() for word in words]
        projection = dict.fromkeys((self.field, *self.text_fields), 1)
        # The sort field's range first: a server that takes the first indexed clause (the
        # embedded one) then reads only the chosen dates, not all of the client's records.
        query = queryset._query
        first = self.newest_first[0][0]
        query = {**({first: query[first]} if first in query else {}), **query}
        rows = list(queryset._collection.find(query, projection).sort(list(self.newest_first)).limit(self.limit + 1))
        found = [row["_id"] for row in rows[: self.limit] if _holds(row, wanted)]
        if len(rows) > self.limit:
            modeladmin.message_user(
                request,
                f"Searched the newest {self.limit:,} records of this selection only: "
                "narrow the dates to search older ones.",
                messages.WARNING,
            )
        # Only the ids: they were read from the scoped query (and the id index serves them).
        return queryset._document.objects(pk__in=found)


def _holds(row, words):
    text = "\n".join(_strings(row)).casefold()
    return all(word in text for word in words)


def _strings(value):
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
            yield from (k for k in item if k != "_id")
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            yield str(item)
