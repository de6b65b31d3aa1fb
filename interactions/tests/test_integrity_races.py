"""Deleting a parent while children are being created never leaves an orphan.

Each round starts creators (Document.save, the API's create path through
``topbox.documents.write``, and CSV ingest) on one engagement and deletes that engagement as soon
as it can (clearing the children it finds, then deleting, until the delete succeeds).
Whatever the interleaving, every stored interaction's engagement exists at the end.
"""

import contextlib
import datetime
import io
import threading

from mongoengine import ValidationError

from engagements.documents import Engagement
from interactions import ingest
from interactions.documents import Interaction
from sampledata.factories import make_client
from topbox.documents import HasDependents, MissingParents, write
from topbox.mongo import supports_transactions

ROUNDS = 25
WHEN = datetime.datetime(2020, 5, 16, tzinfo=datetime.UTC)


def orphans():
    engagements = set(Engagement.objects.scalar("id"))
    return [
        row
        for row in Interaction._get_collection().find({}, {"engagementId": 1})
        if row["engagementId"] not in engagements
    ]


def save_children(engagement, stop):
    while not stop.is_set():
        with contextlib.suppress(ValidationError):
            Interaction(engagementId=engagement, interactionDate=WHEN, agentName="Saver").save()


def insert_children(engagement, stop):
    """The API's path: insert and check the parent in one transaction (nothing written if it is gone)."""
    collection = Interaction._get_collection()

    def insert(session):
        raw = {"engagementId": engagement.pk, "interactionDate": WHEN, "agentName": "Inserter"}
        collection.insert_one(raw, session=session)
        return [], [raw]

    while not stop.is_set():
        if Engagement.objects(pk=engagement.pk).count():
            with contextlib.suppress(MissingParents):
                write(Interaction, insert)


def ingest_children(engagement, stop):
    n = 0
    while not stop.is_set():
        n += 1
        data = f"interactionDate,agentName\n2020-05-16,Ingester {n}\n2020-05-17,Ingester {n}\n".encode()
        with contextlib.suppress(ingest.IngestError):
            ingest.ingest_csv(io.BytesIO(data), f"r{n}.csv", engagement)


def delete_until_gone(engagement):
    while True:
        try:
            engagement.delete()
            return
        except HasDependents:
            Interaction._get_collection().delete_many({"engagementId": engagement.pk})


def test_no_orphan_when_children_are_created_while_the_parent_is_deleted():
    client = make_client()
    for _ in range(ROUNDS):
        engagement = Engagement(clientId=client, name="Racy").save()
        stop = threading.Event()
        creators = [
            threading.Thread(target=target, args=(engagement, stop))
            for target in (save_children, insert_children, ingest_children)
        ]
        for thread in creators:
            thread.start()
        threading.Event().wait(0.02)  # let children appear first
        delete_until_gone(engagement)
        threading.Event().wait(0.02)  # creators keep trying against the deleted parent
        stop.set()
        for thread in creators:
            thread.join()
        assert orphans() == []
    assert Engagement.objects.count() == 0


def test_the_embedded_server_runs_the_delete_in_a_transaction():
    assert supports_transactions(Interaction._get_db().client)
