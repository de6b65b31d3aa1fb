"""The base document every Topbox app derives from, and its referential-integrity rules.

The rule, the same for every reference in the product:

* a reference must point at a document that exists: saving refuses it otherwise
  (:meth:`Document.validate`; bulk loaders check a whole batch with
  :func:`missing_references`);
* a document that is still referenced cannot be deleted: :meth:`Document.delete` raises
  :class:`HasDependents` naming how many documents point at it. Nothing cascades, so
  nothing is mass-deleted by accident and nothing is orphaned. The references also carry
  MongoEngine's ``DENY`` rule, which guards ``QuerySet.delete()`` the same way.

A child created while its parent is being deleted must not survive as an orphan. Two
protocols close that race, whichever process wins:

* deleting (:func:`delete_unreferenced`) first marks the parent as being deleted (a
  document in ``integrity_lock``), then counts its children and deletes it, the count and
  the delete in one transaction where the server supports them (a replica set, or the
  embedded server); the mark is removed afterwards;
* creating a child (:func:`confirm_parents`, after the insert) reads the parent and its
  mark: if the parent is gone or being deleted, the child just written is deleted again
  and the write refused.

The mark is written before the count, and the child before the read, so one of the two
always sees the other (tested with concurrent deletes and creates). What stays open:
writes that bypass Topbox's code (a mongo shell) are not checked.

Documents derive from ``django_mongoengine.Document`` because its admin needs the
Django-like ``_meta`` that class provides.
"""

import datetime

import django_mongoengine
from django_mongoengine import fields
from mongoengine import DENY, ValidationError, signals

from topbox import memo

LOCKS = "integrity_lock"
KNOWN = "documents"  # the memo store of the documents read (remember)
DELETE_MARK_SECONDS = 30  # a mark left by a crashed process stops counting after this


class HasDependents(Exception):
    """Deleting this document would orphan the documents that reference it."""

    def __init__(self, document, counts):
        self.document = document
        self.counts = counts  # {"engagement": 3, ...}: collection name -> referencing documents
        described = ", ".join(f"{count} {name}{'s' if count != 1 else ''}" for name, count in counts.items())
        super().__init__(
            f"{type(document).__name__} {document.pk} is still referenced by {described}; delete or move them first."
        )


def ReferenceField(document_type, **kwargs):  # noqa: N802 - reads like the field class it builds
    """A required reference whose target cannot be deleted while referenced."""
    kwargs.setdefault("reverse_delete_rule", DENY)
    return fields.ReferenceField(document_type, **kwargs)


class Document(django_mongoengine.Document):
    # The references ``__str__`` reads: whoever lists many documents loads these first
    # (:func:`load_labels`), so labels cost no query each.
    label_references = ()

    meta = {
        "abstract": True,
        # Indexes are created by `manage.py ensure_indexes` at deploy time, not on first use.
        "auto_create_index": False,
    }

    def validate(self, clean=True, check_references=True):
        """MongoEngine's validation, then one existence query per reference field.

        Bulk loaders pass ``check_references=False`` and check a whole batch with
        :func:`missing_references` instead.
        """
        super().validate(clean=clean)
        if check_references:
            missing = missing_references([self])
            if missing:
                raise self.missing_error(missing)

    def save(self, *args, **kwargs):
        """Save, then make sure no parent was deleted meanwhile (see the module's docstring):
        if one was, a new document is deleted again (through :meth:`delete`, so that
        whatever follows deletes, such as daily counts, follows this one too)."""
        created = self._created or not self.pk
        result = super().save(*args, **kwargs)
        missing = confirm_parents(type(self), [self.to_mongo().to_dict()], delete=False)
        if missing:
            if created:
                self.delete()
            raise self.missing_error(missing)
        return result

    def missing_error(self, missing):
        """The ValidationError naming each reference of ``missing`` (see :func:`missing_references`)."""
        return ValidationError(
            f"{type(self).__name__} references a missing document",
            errors={
                name: ValidationError(f"{target} {ids[0]} does not exist.", field_name=name)
                for name, (target, ids) in missing.items()
            },
        )

    def dependents(self):
        """``{collection name: count}`` of the documents that still reference this one."""
        return dependent_counts(type(self), [self.pk]).get(self.pk, {})

    def check_deletable(self):
        """Raise :class:`HasDependents` if documents still reference this one."""
        counts = self.dependents()
        if counts:
            raise HasDependents(self, counts)

    def delete(self, signal_kwargs=None, **write_concern):
        """Delete unless referenced (:class:`HasDependents`), safely against concurrent
        children; MongoEngine's delete signals are sent as by its own ``delete()``."""
        if not has_dependents_rule(type(self)):
            return super().delete(signal_kwargs=signal_kwargs, **write_concern)
        signals.pre_delete.send(type(self), document=self, **(signal_kwargs or {}))
        if delete_unreferenced(self, {"_id": self.pk}):
            signals.post_delete.send(type(self), document=self, **(signal_kwargs or {}))
        return None


def _dependents_in(session, document_cls, pk):
    """``{collection name: count}`` of the documents whose ``DENY`` references point at
    ``pk``, read in ``session`` (a transaction's snapshot)."""
    return dependent_counts(document_cls, [pk], session=session).get(pk, {})


def delete_unreferenced(document, where):
    """Delete the stored document matching ``where`` (its ``_id`` and maybe a version) unless
    something references it; return whether it was deleted. Raises :class:`HasDependents`.

    Marks the document as being deleted first, so that a child created meanwhile sees it
    (:func:`confirm_parents`), then counts and deletes in one transaction where the server
    supports them.
    """
    document_cls = type(document)
    if not has_dependents_rule(document_cls):  # nothing can reference it: a plain delete
        return bool(document_cls._get_collection().delete_one(where).deleted_count)
    locks = document_cls._get_db()[LOCKS]
    key = _lock_key(document_cls, document.pk)
    # A count, so that two deletes of the same document do not clear each other's mark.
    until = _now() + datetime.timedelta(seconds=DELETE_MARK_SECONDS)
    locks.update_one({"_id": key}, {"$inc": {"deleting": 1}, "$max": {"deletingUntil": until}}, upsert=True)

    def count_and_delete(session=None):
        counts = _dependents_in(session, document_cls, document.pk)
        if counts:
            raise HasDependents(document, counts)
        return document_cls._get_collection().delete_one(where, session=session).deleted_count

    try:
        if not supports_transactions(document_cls._get_db().client):
            return bool(count_and_delete())
        with document_cls._get_db().client.start_session() as session:
            return bool(session.with_transaction(count_and_delete))
    finally:
        locks.update_one({"_id": key}, {"$inc": {"deleting": -1}})
        locks.delete_one({"_id": key, "deleting": {"$lte": 0}})


def has_dependents_rule(document_cls):
    """Whether any document may reference ``document_cls`` through a ``DENY`` reference."""
    return any(rule == DENY for rule in (document_cls._meta.get("delete_rules") or {}).values())


def confirm_parents(document_cls, raws, delete=True):
    """After writing ``raws``: the parents they reference that are gone or being deleted.

    Returns ``{field: (target class name, [ids])}`` like :func:`missing_references`; with
    ``delete``, the rows referencing them are deleted again (they were just inserted).
    """
    missing = {}
    for name, field in document_cls._fields.items():
        if not isinstance(field, fields.ReferenceField) or field.reverse_delete_rule != DENY:
            continue
        target = field.document_type
        db_name = field.db_field
        wanted = {raw.get(db_name) for raw in raws} - {None}
        if not wanted:
            continue
        marked = target._get_db()[LOCKS].find(
            {
                "_id": {"$in": [_lock_key(target, pk) for pk in wanted]},
                "deleting": {"$gt": 0},
                "deletingUntil": {"$gt": _now()},
            },
            {"_id": 1},
        )
        being_deleted = {row["_id"] for row in marked}
        found = existing_ids(target, wanted)
        gone = {pk for pk in wanted if pk not in found or _lock_key(target, pk) in being_deleted}
        if gone:
            missing[name] = (target.__name__, sorted(gone, key=str))
            if delete:
                ids = [raw["_id"] for raw in raws if raw.get(db_name) in gone and "_id" in raw]
                document_cls._get_collection().delete_many({"_id": {"$in": ids}})
    return missing


def _lock_key(document_cls, pk):
    return f"{document_cls._meta['collection']}:{pk}"


def _now():
    return datetime.datetime.now(datetime.UTC)


def supports_transactions(client):
    """Whether the server runs multi-document transactions: a replica set member (the
    embedded server reports itself as one) or a sharded cluster; not a standalone mongod."""
    cached = getattr(client, "_topbox_transactions", None)
    if cached is None:
        hello = client.admin.command("hello")
        cached = bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
        client._topbox_transactions = cached
    return cached


def missing_references(documents):
    """Check every reference of ``documents`` (all of one class) with one query per field.

    Returns ``{field name: (target class name, [missing ids, sorted])}``; empty when every
    reference resolves.
    """
    if not documents:
        return {}
    document_cls = type(documents[0])
    missing = {}
    for name, field in document_cls._fields.items():
        if not isinstance(field, fields.ReferenceField):
            continue
        wanted = {reference_id(document, name) for document in documents} - {None}
        absent = wanted - existing_ids(field.document_type, wanted)
        if absent:
            missing[name] = (field.document_type.__name__, sorted(absent, key=str))
    return missing


def existing_ids(document_cls, ids):
    """The subset of ``ids`` naming stored documents of ``document_cls``: the one
    "does the referenced document exist" query (API fields, admin forms, validation)."""
    ids = list(ids)
    if not ids:
        return set()
    return {row["_id"] for row in document_cls._get_collection().find({"_id": {"$in": ids}}, {"_id": 1})}


def count_references(document_cls, field_name, ids, session=None):
    """``{id: number of documents of document_cls whose field_name is that id}`` for ``ids``
    (absent: none), in one aggregation: children per parent, for any reference. Reads in
    ``session`` when given (a transaction's snapshot)."""
    if not ids:
        return {}
    db_field = document_cls._fields[field_name].db_field
    pipeline = [
        {"$match": {db_field: {"$in": list(ids)}}},
        {"$group": {"_id": f"${db_field}", "count": {"$sum": 1}}},
    ]
    rows = document_cls._get_collection().aggregate(pipeline, session=session)
    return {row["_id"]: row["count"] for row in rows}


def dependent_counts(document_cls, ids, session=None):
    """``{id: {collection name: count}}`` of the documents still referencing each of ``ids``
    through a ``DENY`` reference: what blocks deleting them (API 409, admin, ``delete()``)."""
    result = {}
    for (referencing_cls, field_name), rule in (document_cls._meta.get("delete_rules") or {}).items():
        if rule != DENY:
            continue
        collection = referencing_cls._meta["collection"]
        for pk, count in count_references(referencing_cls, field_name, ids, session).items():
            counts = result.setdefault(pk, {})
            counts[collection] = counts.get(collection, 0) + count
    return result


def field_errors(error):
    """``{field: message}`` from a MongoEngine ValidationError (``None``: not about a field);
    a nested error's message names its inner fields the same way (``a: ...; b: ...``)."""
    if not error.errors:
        return {None: error.message}
    return {
        field: "; ".join(f"{k}: {v}" if k else v for k, v in field_errors(sub).items())
        if isinstance(sub, ValidationError)
        else str(sub)
        for field, sub in error.errors.items()
    }


def referenced(document, name):
    """The document that ``document.<name>`` points at, without a query if it was loaded already
    (the admin loads a page's references in one query: ``topbox.admin.changelist``).

    None if the reference is empty or its target is missing (MongoEngine would raise).
    """
    value = document._data.get(name)
    target = type(document)._fields[name].document_type
    if value is None or isinstance(value, target):
        return value
    return target.objects(pk=reference_id(document, name)).first()


def reference_id(document, name):
    """The id a reference field holds, read without dereferencing it (no query)."""
    value = document._data.get(name)
    if value is None:
        return None
    return getattr(value, "pk", None) or getattr(value, "id", value)


def prefetch_references(documents, paths):
    """Load what ``paths`` ("engagementId", "engagementId__clientId") reference, one query per hop.

    The loaded documents replace the ids in the documents' data, so reading the field
    afterwards runs no query. A missing target leaves the id in place.
    """
    for path in paths:
        level = documents
        for name in path.split("__"):
            level = _load_references(level, name)


def load_labels(documents):
    """Load what the documents' labels read (``label_references``): one query per reference."""
    if documents:
        prefetch_references(documents, type(documents[0]).label_references)
    return documents


def remember(documents):
    """Let references to ``documents`` (just read) load without a query for the rest of the
    :func:`topbox.memo.scope` (a changelist's rows reference what its filters list)."""
    known = memo.store(KNOWN)
    if known is not None:
        known.update(((type(document), document.pk), document) for document in documents)
    return documents


def _load_references(documents, name):
    if not documents:
        return []
    target = type(documents[0])._fields[name].document_type
    loaded = {value.pk: value for value in (d._data.get(name) for d in documents) if isinstance(value, Document)}
    wanted = {reference_id(d, name) for d in documents} - {None} - loaded.keys()
    known = memo.store(KNOWN) or {}
    loaded.update((pk, known[target, pk]) for pk in wanted if (target, pk) in known)
    wanted -= loaded.keys()
    if wanted:
        loaded.update((document.pk, document) for document in remember(list(target.objects(pk__in=list(wanted)))))
    for document in documents:
        found = loaded.get(reference_id(document, name))
        if found is not None:
            document._data[name] = found
    return list(loaded.values())


def ensure_indexes():
    """Create the indexes every concrete Topbox document declares; return those documents."""
    from mongoengine.base import _document_registry

    concrete = [
        document_cls
        for document_cls in _document_registry.values()
        if issubclass(document_cls, Document) and not document_cls._meta.get("abstract")
    ]
    for document_cls in concrete:
        document_cls.ensure_indexes()
    # Collections an app keeps without a document class (say, counts it maintains).
    from django.apps import apps

    for app_config in apps.get_app_configs():
        if hasattr(app_config, "ensure_indexes"):
            app_config.ensure_indexes()
    return concrete


def unique_conflicts(document_cls, raws, database=True):
    """The rows of ``raws`` (dicts as stored) that a unique index of ``document_cls`` would refuse.

    Yields ``(position, index name, fields)`` for each row whose key repeats an earlier
    row's, or (with ``database``) a stored document's other than itself (same ``_id``). Partial indexes are
    honoured for ``$exists`` conditions, the only kind Topbox declares. Bulk loaders call
    this before their first write, so a collision is reported instead of half-written.
    """
    for spec in document_cls._meta.get("index_specs", ()):
        if not spec.get("unique"):
            continue
        fields = [name for name, _ in spec["fields"]]
        name = spec.get("name") or "_".join(fields)
        partial = spec.get("partialFilterExpression") or {}
        keyed = [(position, raw, _key(raw, fields)) for position, raw in enumerate(raws) if _matches(raw, partial)]
        if not keyed:
            continue
        seen = set()
        for position, _, key in keyed:
            if key in seen:
                yield position, name, fields
            seen.add(key)
        if not database:
            continue
        firsts = {key[0]: _value(raw, fields[0]) for _, raw, key in keyed}
        firsts = {key: (None if value is _MISSING else value) for key, value in firsts.items()}
        query = {**partial, fields[0]: {"$in": list(firsts.values())}}
        stored = document_cls._get_collection().find(query, dict.fromkeys(fields, 1))
        owners = {_key(row, fields): row["_id"] for row in stored}
        for position, raw, key in keyed:
            if key in owners and owners[key] != raw.get("_id"):
                yield position, name, fields


_MISSING = object()


def _value(raw, path):
    """The value at a dotted ``path`` of a stored document, or ``_MISSING``."""
    for part in path.split("."):
        raw = raw.get(part, _MISSING) if isinstance(raw, dict) else _MISSING
    return raw


def _key(raw, fields):
    """The index key of ``raw``, hashable (a missing field indexes as null)."""
    return tuple(repr(None if (value := _value(raw, field)) is _MISSING else value) for field in fields)


def _matches(raw, partial):
    for path, condition in partial.items():
        present = _value(raw, path) is not _MISSING
        if not (isinstance(condition, dict) and set(condition) == {"$exists"}):
            raise NotImplementedError(f"partial index condition {condition!r}")
        if present != bool(condition["$exists"]):
            return False
    return True
