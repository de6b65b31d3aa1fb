"""The viewset every Topbox collection is served by.

It reads raw documents through pymongo (one query per page, one per expanded level) and
writes through the MongoEngine document's validation. Subclasses declare the document's
serializer, its query filter and orderings, and two restrictions: ``scope()``, what the
requesting user may see, and ``parent_filter()``, the parent named in a related route
such as ``/clients/<id>/engagements``.
"""

import hashlib

import bson
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from topbox.api.fields import to_object_id
from topbox.api.filters import QueryFilter, check_query_params, merge
from topbox.api.pagination import KeysetPagination
from topbox.documents import confirm_parents, delete_unreferenced


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The document changed since you read it: fetch it again (If-Match does not match its ETag)."
    default_code = "precondition_failed"


def etag_of(raw):
    """A strong ETag for a stored document: a digest of its BSON."""
    return '"' + hashlib.sha1(bson.encode(raw), usedforsecurity=False).hexdigest() + '"'


class DocumentViewSet(viewsets.GenericViewSet):
    serializer_class = None
    filter_class = QueryFilter
    orderings = {}  # ?ordering= name -> Ordering; "-name" is accepted for the reverse
    default_ordering = None
    pagination_class = KeysetPagination
    lookup_value_regex = "[^/]+"  # a malformed id is a JSON 404 from the view, not a URL miss
    view_params = ("fields", "expand", "format")

    @property
    def document(self):
        return self.serializer_class.document

    @property
    def collection(self):
        return self.document._get_collection()

    # Restrictions, overridden per collection.

    def scope(self):
        """The filter limiting what the requesting user may see (``{}``: everything)."""
        return {}

    def parent_filter(self):
        """The filter for the parent in a related route; a 404 if that parent is not visible."""
        return {}

    def base_filter(self):
        return merge([self.scope(), self.parent_filter()])

    # Reading.

    def list(self, request, *args, **kwargs):
        self.check_query_params(self.filter_class, *self.paginator.params, "ordering", *self.view_params)
        query = merge([self.base_filter(), self.filter_class.build(request.query_params, self)])
        ordering = self.get_ordering()
        only, expand = self.get_fields(), self.get_expand()
        projection = self.projection(only, expand, extra=[ordering.field])
        page = self.paginator.paginate(self.collection, query, projection, ordering, request)
        results = self.represent(page.results, only, expand)
        return Response(self.paginator.response_data(page, results))

    def retrieve(self, request, *args, **kwargs):
        self.check_query_params(None, *self.view_params)
        only, expand = self.get_fields(), self.get_expand()
        raw = self.get_raw()
        data = self.represent([raw], only, expand)[0]
        response = Response(data)
        # The document's version, which If-Match compares with; with expand, the embedded
        # documents' versions too, so that If-None-Match sees them change.
        response["ETag"] = etag_of(data if expand else raw)
        return response

    def get_raw(self):
        """The stored document named in the URL, if the user may see it; else a 404."""
        pk = to_object_id(self.kwargs[self.lookup_field])
        raw = None if pk is None else self.collection.find_one(merge([{"_id": pk}, self.base_filter()]))
        if raw is None:
            raise NotFound(f"No {self.document.__name__.lower()} with id {self.kwargs[self.lookup_field]!r}.")
        return raw

    def get_object(self):
        """The stored document, as DRF's metadata (OPTIONS) and object permissions ask for it."""
        return self.get_raw()

    def represent(self, rows, only=None, expand=None):
        data = self.serializer_class.represent(rows, only)
        if expand:
            expand_rows(self.serializer_class, rows, data, expand)
        return data

    # Writing.

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        if "_id" in values and self.collection.count_documents({"_id": values["_id"]}, limit=1):
            raise ValidationError(
                {"_id": [f"{with_article(self.document.__name__.lower())} with this id already exists."]}
            )
        raw = serializer.build_document(values).to_mongo().to_dict()
        self.collection.insert_one(raw)
        self.confirm_parents(raw)
        response = Response(self.represent([raw])[0], status=status.HTTP_201_CREATED)
        response["ETag"] = etag_of(raw)
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{raw['_id']}")
        return response

    def update(self, request, *args, partial=False, **kwargs):
        raw = self.get_raw()
        guarded = self.check_if_match(raw)
        serializer = self.get_serializer(raw, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        if values.pop("_id", raw["_id"]) != raw["_id"]:
            raise ValidationError({"_id": ["The id cannot be changed."]})
        stored = {**raw, **values} if partial else {"_id": raw["_id"], **values}
        new = serializer.build_document(stored).to_mongo().to_dict()
        where = self.unchanged(raw) if guarded else {"_id": raw["_id"]}
        if partial:
            # Only the fields given: a concurrent PATCH of other fields is kept.
            changes = {}
            if updated := {name: new[name] for name, value in values.items() if value is not None}:
                changes["$set"] = updated
            if removed := {name: "" for name, value in values.items() if value is None}:
                changes["$unset"] = removed
            matched = self.collection.update_one(where, changes).matched_count if changes else 1
            new = self.collection.find_one({"_id": raw["_id"]})
        else:
            matched = self.collection.replace_one(where, new).matched_count
        if not matched or new is None:
            raise PreconditionFailed() if guarded else NotFound()
        self.confirm_parents(new, restore=raw)
        response = Response(self.represent([new])[0])
        response["ETag"] = etag_of(new)
        return response

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        raw = self.get_raw()
        guarded = self.check_if_match(raw)
        where = self.unchanged(raw) if guarded else {"_id": raw["_id"]}
        if not delete_unreferenced(self.document._from_son(raw), where):
            raise PreconditionFailed() if guarded else NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def confirm_parents(self, raw, restore=None):
        """A 400 naming the reference if its target was deleted while ``raw`` was written;
        the write is undone (the new document deleted, or the previous version put back)."""
        missing = confirm_parents(self.document, [raw], delete=restore is None)
        if missing:
            if restore is not None:
                self.collection.replace_one({"_id": raw["_id"]}, restore)
            raise ValidationError(
                {name: [f"{target} {ids[0]} does not exist."] for name, (target, ids) in missing.items()}
            )

    def check_if_match(self, raw):
        """Refuse with 412 if If-Match names another version; say whether it guards the write."""
        header = self.request.headers.get("If-Match")
        if header is None:
            return False
        etags = parse_etags(header)
        if "*" not in etags and etag_of(raw) not in etags:
            raise PreconditionFailed()
        return True

    def unchanged(self, raw):
        """A filter matching the stored document only while it is exactly ``raw``."""
        absent = {name: {"$exists": False} for name in self.serializer_class().fields if name not in raw}
        return {**raw, **absent}

    # Query parameters.

    def check_query_params(self, filter_class, *names):
        check_query_params(self.request.query_params, filter_class, *names)

    def get_ordering(self):
        raw = self.request.query_params.get("ordering", self.default_ordering)
        ordering = self.orderings.get(raw)
        if ordering is None:
            raise ValidationError({"ordering": [f"Give one of: {', '.join(self.orderings)}."]})
        return ordering

    def get_fields(self):
        raw = self.request.query_params.get("fields")
        if raw is None:
            return None
        names = [name.strip() for name in raw.split(",") if name.strip()]
        known = list(self.serializer_class().fields)
        unknown = [name for name in names if name not in known]
        if not names or unknown:
            raise ValidationError({"fields": [f"Give a comma-separated list of: {', '.join(known)}."]})
        return names

    def get_expand(self):
        raw = self.request.query_params.get("expand")
        if raw is None:
            return None
        tree, options = {}, expansion_paths(self.serializer_class)
        for path in (part.strip() for part in raw.split(",")):
            if path not in options:
                raise ValidationError({"expand": [f"Give a comma-separated list of: {', '.join(options)}."]})
            node = tree
            for name in path.split("."):
                node = node.setdefault(name, {})
        return tree

    def projection(self, only, expand, extra=()):
        if only is None:
            return None
        names = {"_id", *only, *extra}
        names.update(self.serializer_class.expandable[name][0] for name in expand or ())
        return dict.fromkeys(names, 1)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        return response


def with_article(noun):
    """ "An interaction", "A client"."""
    return f"{'An' if noun[:1].lower() in 'aeiou' else 'A'} {noun}"


def visible_parent(document_cls, raw_id, visible_filter):
    """The id in a related route's URL, if that parent exists and is visible; else a 404."""
    pk = to_object_id(raw_id)
    if pk is None or not document_cls._get_collection().count_documents(merge([{"_id": pk}, visible_filter]), limit=1):
        raise NotFound(f"No {document_cls.__name__.lower()} with id {raw_id!r}.")
    return pk


def expansion_paths(serializer_class, prefix=""):
    paths = []
    for name, (_, target) in serializer_class.expandable.items():
        paths.append(prefix + name)
        paths.extend(expansion_paths(target, f"{prefix}{name}."))
    return paths


def expand_rows(serializer_class, rows, data, tree):
    """Embed referenced documents: one ``$in`` query per expanded level for all ``rows``."""
    for name, subtree in tree.items():
        source, target = serializer_class.expandable[name]
        ids = list({row[source] for row in rows if row.get(source) is not None})
        related = list(target.document._get_collection().find({"_id": {"$in": ids}})) if ids else []
        related_data = target.represent(related)
        if subtree:
            expand_rows(target, related, related_data, subtree)
        by_id = {raw["_id"]: item for raw, item in zip(related, related_data, strict=True)}
        for row, item in zip(rows, data, strict=True):
            item[name] = by_id.get(row.get(source))
