"""The base document every Topbox app derives from, and its referential-integrity rules.

The rule, the same for every reference in the product:

* a reference must point at a document that exists: saving refuses it otherwise
  (:meth:`Document.validate`; bulk loaders check a whole batch with
  :func:`missing_references`);
* a document that is still referenced cannot be deleted: :meth:`Document.delete` raises
  :class:`HasDependents` naming how many documents point at it. Nothing cascades, so
  nothing is mass-deleted by accident and nothing is orphaned. The references also carry
  MongoEngine's ``DENY`` rule, which guards ``QuerySet.delete()`` the same way.

Documents derive from ``django_mongoengine.Document`` because its admin needs the
Django-like ``_meta`` that class provides.
"""

import django_mongoengine
from django_mongoengine import fields
from mongoengine import DENY, ValidationError


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
                raise ValidationError(
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

    def delete(self, *args, **kwargs):
        self.check_deletable()
        return super().delete(*args, **kwargs)


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


def count_references(document_cls, field_name, ids):
    """``{id: number of documents of document_cls whose field_name is that id}`` for ``ids``
    (absent: none), in one aggregation: children per parent, for any reference."""
    if not ids:
        return {}
    db_field = document_cls._fields[field_name].db_field
    pipeline = [
        {"$match": {db_field: {"$in": list(ids)}}},
        {"$group": {"_id": f"${db_field}", "count": {"$sum": 1}}},
    ]
    return {row["_id"]: row["count"] for row in document_cls._get_collection().aggregate(pipeline)}


def dependent_counts(document_cls, ids):
    """``{id: {collection name: count}}`` of the documents still referencing each of ``ids``
    through a ``DENY`` reference: what blocks deleting them (API 409, admin, ``delete()``)."""
    result = {}
    for (referencing_cls, field_name), rule in (document_cls._meta.get("delete_rules") or {}).items():
        if rule != DENY:
            continue
        collection = referencing_cls._meta["collection"]
        for pk, count in count_references(referencing_cls, field_name, ids).items():
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


def _load_references(documents, name):
    if not documents:
        return []
    target = type(documents[0])._fields[name].document_type
    loaded = {value.pk: value for value in (d._data.get(name) for d in documents) if isinstance(value, Document)}
    wanted = {reference_id(d, name) for d in documents} - {None} - loaded.keys()
    if wanted:
        loaded.update((document.pk, document) for document in target.objects(pk__in=list(wanted)))
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
