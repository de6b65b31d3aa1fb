"""The base document every Topbox app derives from, and its referential-integrity rules.

The rule, the same for every reference in the product:

* a reference must point at a document that exists: saving refuses it otherwise
  (:meth:`Document.validate`; bulk loaders check a whole batch with
  :func:`missing_references`);
* a document that is still referenced cannot be deleted: :meth:`Document.delete` raises
  :class:`HasDependents` naming how many documents point at it. Nothing cascades, so
  nothing is mass-deleted by accident and nothing is orphaned. The references also carry
  MongoEngine's ``DENY`` rule, which guards ``QuerySet.delete()`` the same way.

A child created while its parent is being deleted must not survive as an orphan. Every
write runs in one transaction (:func:`write`, :func:`delete_unreferenced`), and both kinds
write the parent's lock (a document in ``integrity_lock``, :func:`touch_locks`):

* deleting counts the children and deletes the parent in the transaction that wrote its
  lock;
* writing a child reads the parent (and any mark, below) in the transaction that wrote
  the lock, and refuses the write if the parent is gone.

Two transactions that write one document cannot both commit unaware of each other (the
later one conflicts and runs again, seeing the earlier), so either the delete sees the
child (409) or the child sees the parent gone (refused). Without transactions (a
standalone mongod), deleting first marks the parent as being deleted in its lock, and a
child is written before its parent is read, so one of the two still sees the other. What
stays open: writes that bypass Topbox's code (a mongo shell) are not checked.

Documents derive from ``django_mongoengine.Document`` because its admin needs the
Django-like ``_meta`` that class provides.
"""

import datetime

import django_mongoengine
import django_mongoengine.queryset
from bson import ObjectId
from django_mongoengine import fields
from mongoengine import DENY, ValidationError, signals
from mongoengine.errors import OperationError
from pymongo import UpdateOne

from topbox import memo, mongo, transactions

# Sent inside the transaction of every write of a Topbox document (``Document.save()`` and
# ``delete()``, the API's writes, bulk loads): ``written.send(document_cls, removed=[...],
# added=[...], session=session)``, the raw documents replaced or deleted and those stored.
# A receiver writes what follows from them (the interactions' counts) in ``session``; if it
# raises, nothing of the write is stored.
written = signals._signals.signal("written")

LOCKS = "integrity_lock"
KNOWN = "documents"  # the memo store of the documents read (remember)
DELETE_MARK_SECONDS = 30  # a mark left by a crashed process stops counting after this


class HasDependents(OperationError):
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


class QuerySet(django_mongoengine.queryset.QuerySet):
    def delete(self, write_concern=None, _from_doc_delete=False, cascade_refs=None):
        """Delete the documents one by one through :meth:`Document.delete` (each in its
        transaction, with what follows it), as MongoEngine does when delete signals are
        connected; return how many were deleted. :class:`HasDependents` (an
        ``OperationError``, as MongoEngine raises) if any is still referenced."""
        if _from_doc_delete:
            return super().delete(write_concern, _from_doc_delete, cascade_refs)
        documents = list(self.clone())
        counts = dependent_counts(self._document, [document.pk for document in documents])
        for document in documents:  # none deleted while any is still referenced, as MongoEngine's own
            if document.pk in counts:
                raise HasDependents(document, counts[document.pk])
        return sum(document.delete() is not None for document in documents)


class Document(django_mongoengine.Document):
    # The references ``__str__`` reads: whoever lists many documents loads these first
    # (:func:`load_labels`), so labels cost no query each.
    label_references = ()

    meta = {
        "abstract": True,
        # Indexes are created by `manage.py ensure_indexes` at deploy time, not on first use.
        "auto_create_index": False,
        "queryset_class": QuerySet,
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

    def save(self, validate=True, clean=True, **kwargs):
        """Validate and store the document in one transaction with what follows every write
        (:data:`written`), refusing it if a parent is gone or being deleted (see the module's
        docstring); MongoEngine's save signals are sent as by its own ``save()``."""
        document_cls = type(self)
        signals.pre_save.send(document_cls, document=self, **kwargs.get("signal_kwargs", {}))
        if validate:
            self.validate(clean=clean)
        raw = self.to_mongo().to_dict()
        created = self._created or "_id" not in raw
        new_id = "_id" not in raw
        raw.setdefault("_id", ObjectId())
        collection = document_cls._get_collection()

        def change(session):
            if new_id:
                collection.insert_one(raw, session=session)
                return [], [raw]
            before = collection.find_one({"_id": raw["_id"]}, session=session)
            collection.replace_one({"_id": raw["_id"]}, raw, upsert=True, session=session)
            return [before] if before else [], [raw]

        try:
            write(document_cls, change)
        except MissingParents as exc:
            raise self.missing_error(exc.missing) from None
        self[self._meta["id_field"]] = self._fields[self._meta["id_field"]].to_python(raw["_id"])
        self._clear_changed_fields()
        self._created = False
        signals.post_save.send(document_cls, document=self, created=created, **kwargs.get("signal_kwargs", {}))
        return self

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

    def delete(self, signal_kwargs=None, **write_concern):
        """Delete unless referenced (:class:`HasDependents`), safely against concurrent
        children; return the version deleted (None: it was gone). MongoEngine's delete
        signals are sent as by its own ``delete()``."""
        signals.pre_delete.send(type(self), document=self, **(signal_kwargs or {}))
        deleted = delete_unreferenced(self, {"_id": self.pk})
        if deleted is not None:
            signals.post_delete.send(type(self), document=self, **(signal_kwargs or {}))
        return deleted


class MissingParents(Exception):
    """A write references a document that is gone or being deleted."""

    def __init__(self, missing):
        super().__init__(missing)
        self.missing = missing  # {field: (target class name, [ids])}, as missing_references gives


def write(document_cls, change):
    """Run ``change(session)``, which writes documents of ``document_cls`` and returns
    ``(removed, added)`` (the versions replaced or deleted, and those stored, as raw
    documents), in one transaction (:func:`topbox.transactions.atomic`) with the check of
    the parents of ``added`` and what follows every write (:data:`written`). Raises
    :class:`MissingParents`, having written nothing, if a parent is gone or being deleted.
    Returns ``(removed, added)``."""

    def work(session):
        removed, added = change(session)
        missing = confirm_parents(document_cls, _with_new_parents(document_cls, removed, added), session=session)
        if missing:
            raise MissingParents(missing)
        written.send(document_cls, removed=removed, added=added, session=session)
        return removed, added

    if mongo.supports_transactions(mongo.database().client):
        return transactions.atomic(work)
    removed, added = change(None)  # no transactions (a standalone mongod): undone by hand if refused
    missing = confirm_parents(document_cls, added)
    if missing:
        collection = document_cls._get_collection()
        previous = {raw["_id"]: raw for raw in removed}
        for raw in added:
            if raw["_id"] in previous:
                collection.replace_one({"_id": raw["_id"]}, previous[raw["_id"]])
            else:
                collection.delete_one({"_id": raw["_id"]})
        raise MissingParents(missing)
    written.send(document_cls, removed=removed, added=added, session=None)
    return removed, added


def insert_new(document_cls, raws, stored=None):
    """Insert those of ``raws`` (documents of ``document_cls``, each with its ``_id``) not
    stored yet, in one transaction with what :func:`write` adds; return ``(inserted,
    present)``: the documents written, and how many were stored already. ``stored(raws,
    session)`` says which are (their positions in ``raws``); default: by ``_id``. A rerun of
    an interrupted load completes it: each batch is stored whole, with its counts, or not
    at all."""
    collection = document_cls._get_collection()

    def stored_ids(raws, session):
        rows = collection.find({"_id": {"$in": [raw["_id"] for raw in raws]}}, {"_id": 1}, session=session)
        found = {row["_id"] for row in rows}
        return {position for position, raw in enumerate(raws) if raw["_id"] in found}

    stored = stored or stored_ids

    def change(session):
        present = stored(raws, session)
        new = [raw for position, raw in enumerate(raws) if position not in present]
        if new:
            collection.insert_many(new, ordered=False, session=session)
        return [], new

    if not raws:
        return [], 0
    _, inserted = write(document_cls, change)
    return inserted, len(raws) - len(inserted)


def _with_new_parents(document_cls, removed, added):
    """Those of ``added`` that reference a parent their replaced version (in ``removed``)
    did not: a version that keeps its parents cannot orphan anything (a delete of a
    parent counts it, whenever it was replaced)."""
    names = [field.db_field for field in document_cls._fields.values()
             if isinstance(field, fields.ReferenceField) and field.reverse_delete_rule == DENY]  # fmt: skip
    before = {raw["_id"]: raw for raw in removed}

    def has_new_parent(raw):
        replaced = before.get(raw["_id"])
        return replaced is None or any(raw.get(name) != replaced.get(name) for name in names)

    return [raw for raw in added if has_new_parent(raw)]


def _dependents_in(session, document_cls, pk):
    """``{collection name: count}`` of the documents whose ``DENY`` references point at
    ``pk``, read in ``session`` (a transaction's snapshot)."""
    return dependent_counts(document_cls, [pk], session=session).get(pk, {})


def delete_unreferenced(document, where):
    """Delete the stored document matching ``where`` (its ``_id`` and maybe a version) unless
    something references it, in one transaction with what follows every write
    (:data:`written`); return the version deleted, or None if none matched. Raises
    :class:`HasDependents`.

    The transaction writes the document's lock (:func:`touch_locks`), as does every
    transaction that writes a child of it (:func:`confirm_parents`): of a delete and a
    concurrent child, one waits for the other and then sees it. Before, the document is
    marked as being deleted (a write of its own, undone after), so that a child written
    meanwhile refuses itself: without transactions that is what stops it; with them, it
    keeps a stream of new children from making the delete conflict again and again.
    """
    document_cls = type(document)
    collection = document_cls._get_collection()
    referenced = has_dependents_rule(document_cls)

    def count_and_delete(session):
        if referenced:
            touch_locks(document_cls, [document.pk], session, every_slot=True)
            counts = _dependents_in(session, document_cls, document.pk)
            if counts:
                raise HasDependents(document, counts)
        before = collection.find_one(where, session=session)
        if before is not None:
            collection.delete_one({"_id": before["_id"]}, session=session)
            written.send(document_cls, removed=[before], added=[], session=session)
        return before

    def run():
        if mongo.supports_transactions(mongo.database().client):
            return transactions.atomic(count_and_delete)
        return count_and_delete(None)

    if not referenced:
        return run()
    locks = document_cls._get_db()[LOCKS]
    key = _lock_key(document_cls, document.pk)
    # A count, so that two deletes of the same document do not clear each other's mark.
    until = _now() + datetime.timedelta(seconds=DELETE_MARK_SECONDS)
    locks.update_one({"_id": key}, {"$inc": {"deleting": 1}, "$max": {"deletingUntil": until}}, upsert=True)
    try:
        return run()
    finally:
        locks.update_one({"_id": key}, {"$inc": {"deleting": -1}})
        locks.delete_one({"_id": key, "deleting": {"$lte": 0}})


def has_dependents_rule(document_cls):
    """Whether any document may reference ``document_cls`` through a ``DENY`` reference."""
    return any(rule == DENY for rule in (document_cls._meta.get("delete_rules") or {}).values())


def touch_locks(document_cls, pks, session, every_slot=False):
    """Write the locks of the documents ``pks`` in the transaction ``session``: two
    transactions that touch one lock never both commit unaware of each other.

    A lock is ``transactions.SLOTS`` documents: a child's write touches one
    (:func:`topbox.transactions.slot`), so that children written together need not wait for
    each other; a delete (``every_slot``) touches them all, and so meets every child."""
    locks = document_cls._get_db()[LOCKS]
    slots = range(transactions.SLOTS) if every_slot else [transactions.slot()]
    keys = sorted(_lock_key(document_cls, pk, slot) for pk in pks for slot in slots)
    if keys:
        touches = [UpdateOne({"_id": key}, {"$inc": {"writes": 1}}, upsert=True) for key in keys]
        locks.bulk_write(touches, session=session)


def confirm_parents(document_cls, raws, session=None):
    """The parents ``raws`` (just written) reference that are gone or being deleted, as
    ``{field: (target class name, [ids])}`` like :func:`missing_references`. In a
    transaction (``session``), their locks are written too (:func:`touch_locks`)."""
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
            session=session,
        )
        being_deleted = {row["_id"] for row in marked}
        if session is not None and not being_deleted:  # (refused anyway if any is marked)
            touch_locks(target, wanted, session)
        found = existing_ids(target, wanted, session)
        gone = {pk for pk in wanted if pk not in found or _lock_key(target, pk) in being_deleted}
        if gone:
            missing[name] = (target.__name__, sorted(gone, key=str))
    return missing


def _lock_key(document_cls, pk, slot=0):
    """The ``_id`` of slot ``slot`` of ``pk``'s lock (slot 0 also holds the delete marks)."""
    key = f"{document_cls._meta['collection']}:{pk}"
    return f"{key}:{slot}" if slot else key


def _now():
    return datetime.datetime.now(datetime.UTC)


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


def existing_ids(document_cls, ids, session=None):
    """The subset of ``ids`` naming stored documents of ``document_cls``: the one
    "does the referenced document exist" query (API fields, admin forms, validation)."""
    ids = list(ids)
    if not ids:
        return set()
    rows = document_cls._get_collection().find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
    return {row["_id"] for row in rows}


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
