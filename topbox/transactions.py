"""Writes that land whole or not at all: one multi-document transaction per write.

A write to a document and the writes that follow from it (the interactions' stored
counts, an idempotency record, the integrity lock of a parent) commit together in one
transaction (:func:`atomic`), so no reader, crash or retry can see one without the other:

* a process killed mid-write leaves nothing (an uncommitted transaction is rolled back
  by the server: at once on abort, or when it expires after
  ``transactionLifetimeLimitSeconds``);
* concurrent writes of the same documents conflict, and the loser runs again from the
  start on what the winner committed (``TransientTransactionError``), so a delta is
  always taken from the version actually replaced;
* an answer of "too slow" or "unavailable" given before the commit means nothing was
  written. The commit itself is awaited outside the request's deadline, up to
  ``MONGO_COMMIT_TIMEOUT_MS``: past that its outcome is unknown, and
  :class:`OutcomeUnknown` says so (a 503 that tells the client to retry with the same
  ``Idempotency-Key``).

MongoDB runs transactions on a replica set or a sharded cluster, and so does the embedded
server; on a standalone ``mongod`` (no transactions) the work runs without one, and the
counts are exact only while no write fails midway.

Two transactions that write one document conflict however briefly they overlap, so a
document every write touches (the counts of every engagement, a parent's lock) would make
concurrent writes run one after the other. Such a document is kept as up to ``SLOTS``
slots, whose sum (or union) is its value: a write adds to one (:func:`slot`), a reader
combines them. A thread writes slot 0 until one of its transactions conflicts; then it
moves to another slot, at random, and stays there while it keeps meeting conflicts (until
``CONTENDED_SECONDS`` pass without one). Writers that meet move apart until each has a slot
of its own; a document nobody contends keeps one slot.
"""

import itertools
import random
import threading
import time

import pymongo
from django.conf import settings
from pymongo import ReadPreference
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from topbox import mongo

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
RETRYABLE = "RetryableWriteError"
# How long a write runs again after conflicts (within a request's deadline, if it has one):
# pymongo's own ``with_transaction`` limit, which outlasts a transaction left open by a
# killed process (the server drops it after ``transactionLifetimeLimitSeconds``, 60 s).
RETRY_SECONDS = 120
SLOTS = 16  # the documents a shared count or lock may be split into (see the module's docstring)
CONTENDED_SECONDS = 10  # how long a thread keeps its slot after its last conflict
_contended = threading.local()  # .slot, and .until: the monotonic time it goes back to slot 0


class OutcomeUnknown(Exception):
    """The commit was sent but not confirmed in time: the write may or may not have landed."""


def atomic(work):
    """Run ``work(session)`` in one transaction and commit it; return what ``work`` returned.

    ``work`` may run more than once (after a conflict), so it must not act outside the
    database or keep state between runs; every read and write in it passes ``session``.
    A duplicate key is a conflict too (another writer inserted the key first): ``work``
    reads what it inserts before inserting it, so that its next run sees the key.
    """
    client = mongo.database().client
    if not mongo.supports_transactions(client):
        return work(None)
    give_up = time.monotonic() + RETRY_SECONDS
    for attempt in itertools.count():
        with client.start_session() as session:
            session.start_transaction(read_preference=ReadPreference.PRIMARY)  # (what a transaction reads from)
            try:
                result = work(session)
            except PyMongoError as exc:
                _abort(session)
                if exc.timeout or not _runs_again(exc):
                    raise  # (past the request's deadline: a 504, nothing written)
                if time.monotonic() > give_up:
                    raise
            except BaseException:
                _abort(session)
                raise
            else:
                if _commit(session):
                    return result
        _move()
        time.sleep(random.uniform(0, min(0.002 * 2**attempt, 1.0)))  # full jitter: contenders spread out


def slot():
    """The slot (0 to ``SLOTS - 1``) in which this thread writes shared documents now."""
    return getattr(_contended, "slot", 0) if time.monotonic() < getattr(_contended, "until", 0) else 0


def _move():
    """After a conflict: another slot for this thread's writes, for ``CONTENDED_SECONDS``."""
    _contended.slot = random.choice([other for other in range(1, SLOTS) if other != slot()])
    _contended.until = time.monotonic() + CONTENDED_SECONDS


def calm():
    """Back to slot 0 now, as if this thread's last conflict were long past (a test that
    made one, so that the next starts as a fresh thread does)."""
    _contended.until = 0


def _runs_again(exc):
    """Whether a transaction that failed with ``exc`` (and was aborted) may simply run again:
    a conflict, a key another writer inserted first, or an error the server labels as safe
    to retry (a statement is never retried on its own inside a transaction, where a retry
    could apply it twice: the whole transaction is, after its abort undid it)."""
    if exc.has_error_label(TRANSIENT) or exc.has_error_label(RETRYABLE) or mongo.is_duplicate(exc):
        return True
    if isinstance(exc, BulkWriteError):  # a bulk write's errors carry their labels inside
        errors = [*exc.details.get("writeErrors", []), *exc.details.get("writeConcernErrors", [])]
        return any(RETRYABLE in error.get("errorLabels", ()) for error in errors)
    return False


def _commit(session):
    """Commit, waiting for the outcome outside the request's deadline; True once committed,
    False if the transaction must run again (it conflicted at commit)."""
    return mongo.outside_deadline(_commit_now, session)


def _commit_now(session):
    deadline = time.monotonic() + settings.MONGO_COMMIT_TIMEOUT_MS / 1000
    while True:
        try:
            with pymongo.timeout(max(deadline - time.monotonic(), 0.001)):
                session.commit_transaction()
            return True
        except PyMongoError as exc:
            if exc.has_error_label(UNKNOWN_COMMIT) or isinstance(exc, ConnectionFailure) or exc.timeout:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue  # committing again is safe: the server answers the first outcome
                raise OutcomeUnknown(
                    "The database did not confirm the write in time: it may or may not have been applied."
                ) from exc
            if exc.has_error_label(TRANSIENT):
                return False
            raise


def _abort(session):
    """Abort, briefly and outside the request's deadline; the server drops what it cannot
    reach later itself (an uncommitted transaction expires)."""
    if session.in_transaction:
        mongo.outside_deadline(_abort_now, session)


def _abort_now(session):
    try:
        with pymongo.timeout(settings.MONGO_TIMEOUT_MS / 1000):
            session.abort_transaction()
    except PyMongoError:
        pass  # as drivers do: an abort that fails leaves the transaction to expire unread
