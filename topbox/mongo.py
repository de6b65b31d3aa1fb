"""The one place that connects Topbox to MongoDB.

``MONGO_URI`` names the server and the database (the URI's path, as in
``mongodb://admin:adminpass@localhost:27017/production?authSource=admin``). Without it,
every process talks to the embedded development server (see ``devtools.embedded``).
Timeouts are short so that a dead database fails a request or a command in seconds,
with a message that says where we looked.

Everything else is the URI's: on a replica set,
``?replicaSet=rs0&w=majority&retryWrites=true`` (pymongo reads them; the same URI
without them works on a standalone server). Statistics may read elsewhere than the
URI's ``readPreference`` says: ``MONGO_STATS_READ_PREFERENCE`` (:func:`for_statistics`).
"""

import contextvars

import mongoengine
import pymongo
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pymongo import ReadPreference, uri_parser
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    InvalidURI,
    PyMongoError,
    ServerSelectionTimeoutError,
)

DEFAULT_DATABASE = "topbox"


class MongoUnavailable(Exception):
    """MongoDB did not answer; the message says where we looked and what to do."""


def configured_uri():
    return settings.MONGO_URI or settings.EMBEDDED_MONGO_URI


def parse(uri):
    """Return ``(hosts, database)`` for a MongoDB URI, without contacting the server."""
    try:
        parsed = uri_parser.parse_uri(uri, connect_timeout=1)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise ImproperlyConfigured(f"MONGO_URI is not a valid MongoDB URI: {exc}") from None
    hosts = ",".join(f"{host}:{port}" for host, port in parsed["nodelist"]) or parsed.get("fqdn")
    return hosts, parsed["database"] or DEFAULT_DATABASE


def connect(uri=None, **options):
    """(Re)connect MongoEngine's default alias to ``uri`` (default: the configured URI).

    Connecting is lazy in pymongo: nothing is sent until the first query. ``options``
    go to pymongo's MongoClient (tests pass ``event_listeners``).
    """
    uri = uri or configured_uri()
    _, database = parse(uri)
    mongoengine.disconnect_all()
    mongoengine.connect(
        db=database,
        host=uri,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.MONGO_TIMEOUT_MS,
        connectTimeoutMS=settings.MONGO_TIMEOUT_MS,
        socketTimeoutMS=settings.MONGO_SOCKET_TIMEOUT_MS,
        uuidRepresentation="standard",
        **options,
    )


def database():
    return mongoengine.get_db()


READ_PREFERENCES = {
    "primary": ReadPreference.PRIMARY,
    "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST,
}


def for_statistics(collection):
    """``collection`` reading as ``MONGO_STATS_READ_PREFERENCE`` says (unset: as the URI says).

    ``secondaryPreferred`` moves the heavy aggregations off the primary, at the price of
    figures that may lag the latest writes by the replication delay. On a standalone
    server every mode but ``secondary`` reads from that server, so nothing changes.
    """
    if not settings.MONGO_STATS_READ_PREFERENCE:
        return collection
    return collection.with_options(read_preference=READ_PREFERENCES[settings.MONGO_STATS_READ_PREFERENCE])


def ping():
    """Ping the server; raise :class:`MongoUnavailable` with a helpful message if it is down
    or paused (within ``MONGO_TIMEOUT_MS``)."""
    try:
        with pymongo.timeout(settings.MONGO_TIMEOUT_MS / 1000):
            database().command("ping")
    except PyMongoError as exc:
        hosts, name = parse(configured_uri())
        hint = (
            "check MONGO_URI"
            if settings.MONGO_URI
            else "MONGO_URI is not set, so this is the embedded server: start it with "
            "`make run` (or `make db`), or set MONGO_URI"
        )
        raise MongoUnavailable(
            f"MongoDB at {hosts} (database {name!r}) did not answer within "
            f"{settings.MONGO_TIMEOUT_MS} ms: {type(exc).__name__}; {hint}."
        ) from exc


def is_too_slow(exc):
    """The query ran out of time on a server that still answers (a 504), as opposed to a
    server that does not answer at all (:func:`is_unavailable`, a 503).

    The server says so itself when it stops a query at ``maxTimeMS``; when the client gave
    up first, a quick ping (outside the expired deadline) tells a slow server from a dead one.
    """
    if isinstance(exc, ExecutionTimeout):
        return True
    if isinstance(exc, PyMongoError) and exc.timeout and not isinstance(exc, ServerSelectionTimeoutError):
        return outside_deadline(_answers_ping)
    return False


def outside_deadline(function, *args, **kwargs):
    """``function(*args, **kwargs)`` free of the request's deadline (``pymongo.timeout``, a
    context variable): for what must run even when the request has run out of time, such
    as finishing a write that was committed (its commit, its history entry)."""
    return contextvars.Context().run(function, *args, **kwargs)


def is_unavailable(exc):
    """The server did not answer: down, paused or unreachable."""
    return isinstance(exc, (MongoUnavailable, ConnectionFailure, ServerSelectionTimeoutError)) or (
        isinstance(exc, PyMongoError) and exc.timeout and not is_too_slow(exc)
    )


def _answers_ping():
    try:
        with pymongo.timeout(min(settings.MONGO_TIMEOUT_MS, 250) / 1000):
            database().command("ping")
    except PyMongoError:
        return False
    return True


def supports_transactions(client):
    """Whether the server runs multi-document transactions: a replica set member (the
    embedded server reports itself as one) or a sharded cluster; not a standalone mongod."""
    cached = getattr(client, "_topbox_transactions", None)
    if cached is None:
        hello = client.admin.command("hello")
        cached = bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
        client._topbox_transactions = cached
    return cached


DUPLICATE_KEY = 11000  # MongoDB's error code for a unique-index collision


def is_duplicate(exc):
    """Whether ``exc`` is (or, for a bulk write, holds only) a unique-index collision."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(error.get("code") == DUPLICATE_KEY for error in errors)
    return False


def with_database(uri, name):
    """``uri`` pointing at database ``name`` instead, authenticating where it did before."""
    scheme, rest = uri.split("://", 1)
    hosts, _, path = rest.partition("/")
    current, _, query = path.partition("?")
    options = [option for option in query.split("&") if option]
    if "@" in hosts and current and not any(option.lower().startswith("authsource=") for option in options):
        options.append(f"authSource={current}")  # credentials were checked against the old path
    return f"{scheme}://{hosts}/{name}" + (f"?{'&'.join(options)}" if options else "")
