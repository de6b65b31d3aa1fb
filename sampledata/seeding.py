"""Loading the sample data in ``fixtures/``: validated first, then written, idempotently.

Fixture files are JSON arrays of documents in MongoDB legacy Extended JSON, the same
shape the API returns. Every record is checked (fields, types, references, and what
MongoDB itself would refuse: keys, nesting, 16 MiB per document, unique indexes) before
anything is written, so a malformed fixture changes nothing; an error names the file,
the record and the field. Records are written by
``_id``: one already in the database is left as it is (staff may have corrected it), so
running the seed again adds nothing.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import bson
from bson import ObjectId
from bson.errors import BSONError
from django.conf import settings
from mongoengine.errors import FieldDoesNotExist, ValidationError

from clients.documents import Client
from engagements.documents import Engagement
from interactions.counts import recording
from interactions.documents import Interaction
from topbox import extjson, history, transactions
from topbox.documents import (
    MissingParents,
    field_errors,
    insert_new,
    missing_references,
    reference_id,
    unique_conflicts,
)
from topbox.fields import MAX_DOCUMENT_BYTES, storage_problems

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"

# Parents before children: the order to load in, and the reverse of the order to flush in.
FIXTURE_FILES = (
    ("clients.json", Client),
    ("engagements.json", Engagement),
    ("interactions.json", Interaction),
)


class FixtureError(Exception):
    """A fixture file or record that cannot be loaded; the message names both."""


@dataclass
class CollectionResult:
    collection: str
    added: int = 0
    present: int = 0
    removed: int = 0


def seed(directory=FIXTURES_DIR, flush=False, by=None):
    """Load every fixture file in ``directory``; with ``flush``, empty the collections first.

    With ``by`` (a user), each collection's counts are one entry of the history.

    Returns a :class:`CollectionResult` per collection. Raises :class:`FixtureError`
    before writing anything if any record is malformed.
    """
    loaded = [
        (document_cls, read_fixture(Path(directory) / name, document_cls)) for name, document_cls in FIXTURE_FILES
    ]
    check_references(loaded, database_counts=not flush)
    check_unique(loaded, database=not flush)

    results = {document_cls: CollectionResult(document_cls._meta["collection"]) for document_cls, _ in loaded}
    if flush:

        def empty(session):  # the documents and their counts, together
            for document_cls, _ in reversed(loaded):
                collection = document_cls._get_collection()
                results[document_cls].removed = collection.delete_many({}, session=session).deleted_count
            recording.clear(session)

        transactions.atomic(empty)
    for document_cls, documents in loaded:
        added, results[document_cls].present = insert_missing(document_cls, documents)
        results[document_cls].added = len(added)
    if by is not None:
        record(by, results, f"Seeded from {Path(directory).name}/ through manage.py seed")
    return list(results.values())


def record(user, results, what):
    """One history entry per collection: ``{document class: CollectionResult}``."""
    for document_cls, result in results.items():
        removed = f", {result.removed} removed first" if result.removed else ""
        history.collection(
            user, document_cls, f"{what}: {result.added} added, {result.present} already present{removed}."
        )


def read_fixture(path, document_cls):
    """Parse and validate one fixture file into unsaved documents."""
    if path.exists() and not path.is_file():
        raise FixtureError(f"{path}: not a file")
    try:
        records = extjson.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except FileNotFoundError:
        raise FixtureError(f"{path}: file not found") from None
    except OSError as exc:
        raise FixtureError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise FixtureError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FixtureError(f"{path}: invalid JSON: nested too deeply") from None
    except (TypeError, ValueError, OverflowError, BSONError) as exc:  # a malformed {"$oid": ...} or {"$date": ...}
        raise FixtureError(f"{path}: invalid Extended JSON: {exc}") from None
    if not isinstance(records, list):
        raise FixtureError(f"{path}: expected a JSON array of records")

    documents, seen = [], set()
    for number, record in enumerate(records, start=1):
        where = f"{path}: record {number}"
        if not isinstance(record, dict):
            raise FixtureError(f"{where}: expected a JSON object")
        if "_id" not in record:
            raise FixtureError(f"{where}: has no _id (fixtures need stable ids)")
        if not isinstance(record["_id"], ObjectId):
            raise FixtureError(f'{where}: _id must be an ObjectId, {{"$oid": "<24 hex>"}}')
        where += f" (_id {record['_id']})"
        for field, reason in storage_problems(record):
            raise FixtureError(f"{where}: {field}: {reason}")
        if record["_id"] in seen:
            raise FixtureError(f"{where}: duplicate _id")
        seen.add(record["_id"])
        fields = {("id" if key == "_id" else key): value for key, value in record.items()}
        try:
            document = document_cls(**fields)
            document.validate(check_references=False)
        except FieldDoesNotExist as exc:
            raise FixtureError(f"{where}: {exc}") from None
        except ValidationError as exc:
            raise FixtureError(f"{where}: {describe(exc)}") from None
        size = len(bson.encode(document.to_mongo()))
        if size > MAX_DOCUMENT_BYTES:
            raise FixtureError(f"{where}: {size:,} bytes; MongoDB stores at most {MAX_DOCUMENT_BYTES:,} per document")
        document._fixture_where = where
        documents.append(document)
    return documents


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON value")


def check_unique(loaded, database):
    """No record may collide with another, or (unless flushing) with a stored document,
    on a unique index: the insert would stop halfway."""
    for document_cls, documents in loaded:
        raws = [document.to_mongo().to_dict() for document in documents]
        for position, index, fields in unique_conflicts(document_cls, raws, database=database):
            raise FixtureError(
                f"{documents[position]._fixture_where}: {', '.join(fields)}: the unique index {index} "
                "already holds this key (another record or a stored document)"
            )


def check_references(loaded, database_counts):
    """Every reference must resolve to a fixture record or (unless flushing) a stored document."""
    fixture_ids = {document_cls: {document.pk for document in documents} for document_cls, documents in loaded}
    for document_cls, documents in loaded:
        for name, field in document_cls._fields.items():
            target_ids = fixture_ids.get(getattr(field, "document_type", None))
            if target_ids is None:
                continue
            unresolved = [d for d in documents if reference_id(d, name) not in target_ids]
            if unresolved and database_counts:
                missing = missing_references(unresolved).get(name, (None, []))[1]
                unresolved = [d for d in unresolved if reference_id(d, name) in missing]
            if unresolved:
                first = unresolved[0]
                raise FixtureError(
                    f"{first._fixture_where}: {name}: {field.document_type.__name__} "
                    f"{reference_id(first, name)} does not exist"
                )


def insert_missing(document_cls, documents):
    """Insert the documents whose ``_id`` is not stored yet, in one transaction (with their
    counts: :func:`topbox.documents.insert_new`); return ``(added, present)``: the
    documents written, and how many were stored already."""
    try:
        return insert_new(document_cls, [document.to_mongo().to_dict() for document in documents])
    except MissingParents as exc:
        name, (target, ids) = next(iter(exc.missing.items()))
        raise FixtureError(f"{name}: {target} {ids[0]} was deleted while seeding; run the seed again") from None


def describe(error):
    """One line naming each field of a MongoEngine ValidationError."""
    return "; ".join(f"{field}: {message}" if field else message for field, message in field_errors(error).items())


def is_empty():
    return Client._get_collection().find_one({}, {"_id": 1}) is None
