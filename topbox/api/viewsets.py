"""The viewset every Topbox collection is served by, in the shape of DRF's generic views.

A request follows DRF's hooks: ``get_queryset()`` (what the user may see, narrowed to the
parent of a nested route), ``filter_queryset()`` (the filter backends: query parameters
and ordering), ``paginate_queryset()`` / ``get_paginated_response()`` (keyset pages),
``get_object()``, and ``perform_create`` / ``perform_update`` / ``perform_destroy`` for
writes. The "queryset" is a :class:`~topbox.api.query.Query`: reads go through pymongo on
raw documents (one query per page, one per expanded level); writes are validated by the
serializer, then by the MongoEngine document.

Subclasses declare the document's serializer, its query filter and orderings, and two
restrictions: ``scope()``, what the requesting user may see, and ``parent_routes``, the
parents a nested route such as ``/clients/<client_pk>/engagements`` may name.
"""

import hashlib
from dataclasses import dataclass

import bson
from bson import ObjectId
from django.utils.http import parse_etags
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from topbox import csvexport, history, memo, mongo
from topbox.api import idempotency
from topbox.api.fields import to_object_id
from topbox.api.filters import OrderingFilter, QueryFilter, QueryParamsFilter, merge
from topbox.api.pagination import KeysetPagination
from topbox.api.query import Query
from topbox.api.renderers import CSVRenderer, ExtendedJSONRenderer
from topbox.documents import MissingParents, delete_unreferenced, write


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The document changed since you read it: fetch it again (If-Match does not match its ETag)."
    default_code = "precondition_failed"


def etag_of(raw):
    """A strong ETag for a stored document: a digest of its BSON."""
    return '"' + hashlib.sha1(bson.encode(raw), usedforsecurity=False).hexdigest() + '"'


@dataclass(frozen=True)
class ParentRoute:
    """A parent a nested route may name: the URL keyword, its document class, and the
    selector giving the filter of the parents ``user`` may see."""

    kwarg: str  # "client_pk"
    document: type
    visible: callable  # user -> filter on the parent's collection

    @property
    def name(self):
        return self.kwarg.removesuffix("_pk")  # "client"


@dataclass(frozen=True)
class Parent:
    route: ParentRoute
    pk: object

    @property
    def name(self):
        return self.route.name


class NestedRouteMixin:
    """Resolves the parent named in a nested route (``/clients/<id>/...``): the one place
    that turns that id into a 404 when the parent is missing or not visible."""

    parent_routes = ()

    def get_parent(self):
        """The :class:`Parent` named in the URL, or None on a top-level route; a 404 if the
        parent does not exist or the user may not see it."""
        for route in self.parent_routes:
            if route.kwarg in self.kwargs:
                pk = visible_id(route.document, self.kwargs[route.kwarg], route.visible(self.request.user))
                return Parent(route, pk)
        return None


def visible_id(document_cls, raw_id, visible_filter):
    """``raw_id`` as an ObjectId if it names a visible document of ``document_cls``; else a 404."""
    pk = to_object_id(raw_id)
    if pk is None or not document_cls._get_collection().count_documents(merge([{"_id": pk}, visible_filter]), limit=1):
        raise NotFound(f"No {document_cls.__name__.lower()} with id {raw_id!r}.")
    return pk


class DocumentViewSet(NestedRouteMixin, viewsets.GenericViewSet):
    serializer_class = None
    filter_class = QueryFilter
    filter_backends = [QueryParamsFilter, OrderingFilter]
    orderings = {}  # ?ordering= name -> Ordering; "-name" is accepted for the reverse
    default_ordering = None
    pagination_class = KeysetPagination
    lookup_value_regex = "[^/]+"  # a malformed id is a JSON 404 from the view, not a URL miss
    view_params = ("fields", "expand", "format")
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

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

    def parent_filter(self, parent):
        """The filter for ``parent`` (a :class:`Parent`) of a nested route."""
        return {}

    def get_queryset(self):
        parent = self.get_parent()
        restrictions = [self.scope(), self.parent_filter(parent) if parent else {}]
        return Query(self.collection, merge(restrictions), self.projection(self.get_fields(), self.get_expand()))

    # Reading.

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if request.accepted_renderer.format == CSVRenderer.format:
            return self.csv_response(queryset)
        with memo.scope():  # a page's windows, widened, read the same counts: once
            page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.represent(page, self.get_fields(), self.get_expand()))

    def csv_response(self, queryset):
        """Every document of the list (no pages), streamed as CSV: ``topbox.csvexport``."""
        if self.get_expand():
            raise ValidationError(
                {"expand": ["Not available as CSV: the referenced documents are columns of their own lists."]}
            )
        names = csvexport.columns(self.document, self.get_fields())
        filename = f"{self.document._meta['collection']}s.csv"
        return csvexport.response(names, queryset.stream(csvexport.BATCH_SIZE), filename)

    def get_renderers(self):
        """CSV for lists only; a document is JSON (or the browsable API)."""
        renderers = [renderer() for renderer in self.renderer_classes]
        return renderers if self.action == "list" else [r for r in renderers if not isinstance(r, CSVRenderer)]

    def retrieve(self, request, *args, **kwargs):
        QueryParamsFilter.check(request, None, *self.view_params)
        return self.document_response(self.get_object(), self.get_fields(), self.get_expand())

    def get_object(self):
        """The stored document named in the URL, if the user may see it; else a 404."""
        pk = to_object_id(self.kwargs[self.lookup_field])
        raw = None if pk is None else self.get_queryset().get(pk)
        if raw is None:
            raise NotFound(f"No {self.document.__name__.lower()} with id {self.kwargs[self.lookup_field]!r}.")
        return raw

    def represent(self, rows, only=None, expand=None):
        data = self.serializer_class.represent(rows, only)
        if expand:
            expand_rows(self.serializer_class, rows, data, expand)
        return data

    def document_response(self, raw, only=None, expand=None, **kwargs):
        """The response for one stored document, with its ETag: the one place ETags are set.

        With ``expand`` the ETag covers the embedded documents too, so that If-None-Match
        sees them change; otherwise it is the stored version, which If-Match compares with.
        """
        data = self.represent([raw], only, expand)[0]
        response = Response(data, **kwargs)
        response["ETag"] = etag_of(data if expand else raw)
        return response

    # Writing.

    def create(self, request, *args, **kwargs):
        stored = idempotency.stored_document(request)
        if stored is not None:
            return self.created_response(stored, replayed=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            self.perform_create(serializer)
        except idempotency.Replayed as exc:
            return self.created_response(exc.document, replayed=True)
        return self.created_response(serializer.instance)

    def created_response(self, raw, replayed=False):
        """201 with the document created (by an earlier request with the same
        ``Idempotency-Key``, if ``replayed``)."""
        location = self.request.build_absolute_uri(f"{self.request.path.rstrip('/')}/{raw['_id']}")
        headers = {"Location": location, **({idempotency.REPLAYED_HEADER: "true"} if replayed else {})}
        return self.document_response(raw, status=status.HTTP_201_CREATED, headers=headers)

    def perform_create(self, serializer):
        """Insert the document, and its ``Idempotency-Key`` (if any) with it; a key another
        request stored meanwhile is answered as that request was (:class:`idempotency.Replayed`)."""
        values = serializer.validated_data
        raw = serializer.build_document(values).to_mongo().to_dict()
        raw.setdefault("_id", ObjectId())

        def change(session):
            if self.collection.count_documents({"_id": raw["_id"]}, limit=1, session=session):
                raise ValidationError(
                    {"_id": [f"{with_article(self.document.__name__.lower())} with this id already exists."]}
                )
            idempotency.remember(self.request, raw, session)
            self.collection.insert_one(raw, session=session)
            return [], [raw]

        self.write(change)
        serializer.instance = raw
        self.log(history.added, raw)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        try:
            self.check_if_match(instance)
        except PreconditionFailed:
            # RFC 9110 13.1.1: a change the stored version already holds succeeded (a retry
            # whose first attempt's answer was lost): 200 with that version, not 412.
            if serializer.is_valid() and self.already_applied(serializer):
                return self.document_response(instance)
            raise
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return self.document_response(serializer.instance)

    def new_version(self, serializer):
        """``(values, new)``: the fields a valid PUT/PATCH gives, and the raw document it
        makes of the stored one (``serializer.instance``)."""
        raw, partial = serializer.instance, serializer.partial
        values = dict(serializer.validated_data)
        if values.pop("_id", raw["_id"]) != raw["_id"]:
            raise ValidationError({"_id": ["The id cannot be changed."]})
        stored = {**raw, **values} if partial else {"_id": raw["_id"], **values}
        return values, serializer.build_document(stored).to_mongo().to_dict()

    def already_applied(self, serializer):
        """Whether the stored document already is what this PUT/PATCH would make of it."""
        values, new = self.new_version(serializer)
        if not serializer.partial:
            return new == serializer.instance
        stored = serializer.instance
        return all(name not in stored if value is None else stored.get(name) == new.get(name)
                   for name, value in values.items())  # fmt: skip

    def perform_update(self, serializer):
        """Replace (PUT) or update the fields given (PATCH: a concurrent PATCH of other fields
        is kept); what follows the write is taken from the version actually replaced."""
        raw, partial = serializer.instance, serializer.partial
        values, new = self.new_version(serializer)
        where = self.write_filter(raw)
        changes = {}
        if updated := {name: new[name] for name, value in values.items() if value is not None}:
            changes["$set"] = updated
        if removed := {name: "" for name, value in values.items() if value is None}:
            changes["$unset"] = removed

        def change(session):
            # Read, then write by _id: in one transaction, a concurrent write of the document
            # after the read makes this one conflict and run again (a findAndModify does the
            # same at five times the cost on the embedded server).
            before = after = self.collection.find_one(where, session=session)
            if before is None:
                return [], []
            if not partial:
                self.collection.replace_one({"_id": before["_id"]}, new, session=session)
                after = new
            elif changes:  # (else a PATCH of nothing: the version it matched, unchanged)
                self.collection.update_one({"_id": before["_id"]}, changes, session=session)
                after = self.collection.find_one({"_id": before["_id"]}, session=session)
            return [before], [after]

        replaced, stored = self.write(change)
        if not stored:
            raise self.write_missed()
        serializer.instance = stored[0]
        self.log(history.changed, replaced[0], stored[0])

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.check_if_match(instance)
        self.perform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance):
        """Delete unless referenced (409), safely against children created meanwhile."""
        deleted = delete_unreferenced(self.document._from_son(instance), self.write_filter(instance))
        if deleted is None:
            raise self.write_missed()
        self.log(history.deleted, deleted)

    def log(self, entry, *documents):
        """Add the history ``entry`` (``history.added``, ...) of a committed write, whatever
        time the request has left: a write that happened is never answered as failed."""
        mongo.outside_deadline(entry, self.request.user, self.document, *documents, via="the API")

    def write(self, change):
        """:func:`topbox.documents.write`, with a 400 naming the reference whose target was
        deleted meanwhile (nothing is written then)."""
        try:
            return write(self.document, change)
        except MissingParents as exc:
            raise ValidationError(
                {name: [f"{target} {ids[0]} does not exist."] for name, (target, ids) in exc.missing.items()}
            ) from None

    # Conditional writes (If-Match).

    def check_if_match(self, raw):
        """Refuse with 412 if If-Match names another version than ``raw``."""
        header = self.request.headers.get("If-Match")
        if header is None:
            return
        etags = parse_etags(header)
        if "*" not in etags and etag_of(raw) not in etags:
            raise PreconditionFailed()

    def write_filter(self, raw):
        """What a write matches: with If-Match, the stored document only while it is exactly
        ``raw`` (a change landing after the check is caught too); else its ``_id``."""
        return self.unchanged(raw) if "If-Match" in self.request.headers else {"_id": raw["_id"]}

    def unchanged(self, raw):
        """A filter matching the stored document only while it is exactly ``raw``."""
        absent = {name: {"$exists": False} for name in self.serializer_class().fields if name not in raw}
        return {**raw, **absent}

    def write_missed(self):
        """The error for a write that matched nothing: changed since (If-Match) or gone."""
        return PreconditionFailed() if "If-Match" in self.request.headers else NotFound()

    # Query parameters.

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

    def projection(self, only, expand):
        if only is None:
            return None
        names = {"_id", *only}
        names.update(self.serializer_class.expandable[name][0] for name in expand or ())
        return dict.fromkeys(names, 1)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(getattr(response, "accepted_renderer", None), CSVRenderer):
            # An error answering a CSV request: the API's JSON error body.
            response.accepted_renderer, response.accepted_media_type = ExtendedJSONRenderer(), "application/json"
        return response


def with_article(noun):
    """ "An interaction", "A client"."""
    return f"{'An' if noun[:1].lower() in 'aeiou' else 'A'} {noun}"


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
