"""The "queryset" of a Topbox viewset: a collection, a filter, a projection and an ordering.

DRF's generic views pass a queryset from ``get_queryset()`` through the filter backends
to the paginator. Topbox reads raw documents through pymongo, so what travels that path
is this small immutable value; only the paginator and ``get_object()`` run it.
"""

from dataclasses import dataclass, replace

from topbox.api.filters import merge


@dataclass(frozen=True)
class Query:
    collection: object  # a pymongo Collection
    filter: dict
    projection: dict | None = None
    ordering: object = None  # a topbox.api.pagination.Ordering, set by the ordering backend
    # window(query, segment, needed): a filter fragment narrowing ``segment`` to where the
    # next ``needed`` documents are expected (from counts kept elsewhere), or None.
    window: object = None

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
        """:meth:`find`, first within the window the view estimates holds ``limit`` documents
        (and one eight times as wide), so that the server reads about a page rather than
        everything the segment matches; unbounded if the window holds too few.

        Exact whatever the estimate: documents outside the window sort after every one
        inside it, so a window that yields ``limit`` documents yields the right ones.
        """
        for estimate in (limit, limit * 8) if self.window else ():
            bound = self.window(self, segment, estimate)
            if bound is None:
                break
            rows = self.find(merge([segment, bound]), limit)
            if len(rows) >= limit:
                return rows
        return self.find(segment, limit)

    def find(self, fragment, limit):
        """Up to ``limit`` documents matching this query and ``fragment``, in its ordering."""
        projection = self.projection
        if projection is not None and self.ordering is not None:
            projection = {**projection, self.ordering.field: 1}  # the cursor is built from it
        return list(
            self.collection.find(merge([self.filter, fragment]), projection).sort(self.ordering.sort).limit(limit)
        )

    def stream(self, batch_size):
        """Every matching document in this query's ordering, read ``batch_size`` at a time."""
        return self.collection.find(self.filter, self.projection).sort(self.ordering.sort).batch_size(batch_size)

    def count(self):
        return self.collection.count_documents(self.filter)
