"""A POST that is safe to retry: the ``Idempotency-Key`` header.

A client that got no answer, or a 5xx, cannot know whether its POST created anything. If
it sent ``Idempotency-Key: <any unique string>``, it may send the same request with the
same key again: the first request's document is answered (201, with
``Idempotent-Replayed: true``) and nothing more is created. The key is stored in the
transaction that inserts the document (:func:`remember`), so a key is stored exactly when
its document is; two requests racing with one key conflict, and the later one is answered
as the first was. Keys belong to the user who sent them and are kept for
``IDEMPOTENCY_KEY_HOURS`` (a TTL index); the same key with another method, path or body is
a 422.
"""

import datetime
import hashlib

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from topbox import mongo

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
COLLECTION = "idempotency_key"
MAX_LENGTH = 255


class Reused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = {
        HEADER: [f"This key was sent with another request (method, path or body): use a new {HEADER} for it."]
    }


class Replayed(Exception):
    """The key was stored meanwhile by another request: answer as it was answered."""

    def __init__(self, document):
        super().__init__(document["_id"])
        self.document = document


def collection():
    return mongo.database()[COLLECTION]


def ensure_indexes():
    collection().create_index(
        [("created", 1)], name="expires", expireAfterSeconds=settings.IDEMPOTENCY_KEY_HOURS * 3600
    )


def stored_document(request):
    """The document created by an earlier request with this request's key, or None (no key,
    or none stored). A 400 for a key that is not 1 to 255 printable ASCII characters; a
    422 (:class:`Reused`) if the key was sent with another request."""
    key = _key(request)
    if key is None:
        return None
    request._idempotency_fingerprint = _fingerprint(request)  # (the body is read once, before parsing)
    return _checked(request, collection().find_one({"_id": key}))


def remember(request, raw, session):
    """Store this request's key (if any; :func:`stored_document` read it first) for the
    document ``raw``, in the transaction ``session`` that inserts it; :class:`Replayed` if
    another request stored it first."""
    key = _key(request)
    if key is None:
        return
    found = collection().find_one({"_id": key}, session=session)
    if found is not None:
        raise Replayed(_checked(request, found))
    now = datetime.datetime.now(datetime.UTC)
    document = {"_id": key, "request": request._idempotency_fingerprint, "created": now, "document": raw}
    collection().insert_one(document, session=session)


def _key(request):
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not (0 < len(value) <= MAX_LENGTH and value.isascii() and value.isprintable()):
        raise ValidationError({HEADER: [f"Give 1 to {MAX_LENGTH} printable ASCII characters (a UUID, say)."]})
    return f"{request.user.pk}:{value}"


def _checked(request, found):
    if found is None:
        return None
    if found["request"] != request._idempotency_fingerprint:
        raise Reused()
    return found["document"]


def _fingerprint(request):
    """What makes two requests the same: method, path with its query, and body."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()
