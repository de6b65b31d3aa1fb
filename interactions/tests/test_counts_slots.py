"""Counts and locks kept in slots (``topbox.transactions.SLOTS``): concurrent writers of one
count write different documents, and whatever slots a count's writes landed in, what is
read, checked and rebuilt is the count itself."""

import datetime
import itertools
import threading

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from engagements.documents import Engagement
from interactions.counts import keys, reading, rebuilding
from interactions.documents import Interaction
from interactions.stats import interaction_stats, raw_interaction_stats
from sampledata.factories import make_client, make_engagement, make_interaction
from topbox import documents, mongo, transactions

DAY = datetime.datetime(2020, 5, 16)
COLLECTIONS = (keys.COLLECTION, keys.TOTALS, keys.DAILY, keys.NAMES)


@pytest.fixture
def every_slot_in_turn(monkeypatch):
    """Each shared document written goes to the next slot, round and round: the writes of
    many contending threads, made in one."""
    turn = itertools.cycle(range(transactions.SLOTS))
    monkeypatch.setattr(transactions, "slot", lambda: next(turn))


def slots_stored():
    """``{collection: the slots above 0 stored}``."""
    database = mongo.database()
    return {name: {doc["slot"] for doc in database[name].find({"slot": {"$gt": 0}})} for name in COLLECTIONS}


def test_slots_combine_into_the_document_they_stand_for():
    engagement = ObjectId()
    slots = [
        {"_id": keys.totals_id(engagement), "total": 3, "sentiments": {"Positive": 3}, "hours": {"10": 3},
         "first": DAY, "last": DAY},
        {"_id": keys.totals_id(engagement, 4), "of": keys.totals_id(engagement), "slot": 4, "total": -1,
         "sentiments": {"Positive": -1}, "hours": {"10": -2, "11": 1}, "first": DAY - datetime.timedelta(days=2)},
        {"_id": keys.totals_id(engagement, 7), "of": keys.totals_id(engagement), "slot": 7, "total": 2,
         "sentiments": {"Negative": 2}, "last": DAY + datetime.timedelta(days=5)},
    ]  # fmt: skip
    assert keys.combined(slots) == {
        engagement: {
            "_id": engagement,
            "total": 4,
            "sentiments": {"Positive": 2, "Negative": 2},
            "hours": {"10": 1, "11": 1},
            "first": DAY - datetime.timedelta(days=2),
            "last": DAY + datetime.timedelta(days=5),
        }
    }
    days = [
        {"_id": keys.row_id(engagement, DAY), "engagementId": engagement, "day": DAY, "total": 1,
         "agents": {"Ann": {"absent": 1}}},
        {"_id": keys.row_id(engagement, DAY, 2), "of": keys.row_id(engagement, DAY), "engagementId": engagement,
         "day": DAY, "slot": 2, "total": 1, "agents": {"Ann": {"absent": 1}, "Bo": {"Mixed": 1}}},
    ]  # fmt: skip
    (day,) = keys.combined(days).values()
    assert day == {"_id": keys.row_id(engagement, DAY), "engagementId": engagement, "day": DAY, "total": 2,
                   "agents": {"Ann": {"absent": 2}, "Bo": {"Mixed": 1}}}  # fmt: skip


def test_slot_ids_never_meet_another_documents_id():
    """A slot's ``_id`` is its document's with ``:k`` (or, for a name, its kind numbered), so
    no name a user writes, and no other engagement or day, reaches it."""
    engagement = ObjectId()
    documents = [
        (keys.totals_id, engagement),
        (keys.totals_id, keys.EVERY_ENGAGEMENT),
        (keys.row_id, engagement, DAY),
        (keys.daily_id, DAY),
        (keys.name_id, engagement, "Ann"),
        (keys.name_id, engagement, "1:Ann"),
        (keys.name_id, engagement, "agent1:Ann"),
        (keys.name_id, engagement, "Ann", "csvName"),
    ]
    ids = [make_id(*args, slot=slot) for make_id, *args in documents for slot in range(transactions.SLOTS)]
    assert len(set(map(str, ids))) == len(ids) == len(documents) * transactions.SLOTS
    assert keys.name_id(engagement, "Ann", slot=1) != keys.name_id(engagement, "1:Ann")


def test_writes_spread_over_every_slot_are_counted_checked_and_rebuilt_exactly(every_slot_in_turn, staff_api):
    client = make_client()
    engagements = [make_engagement(client, name=f"E{n}") for n in range(3)]
    created = []
    for n in range(24):
        response = staff_api.post(
            "/interactions",
            {
                "engagementId": str(engagements[n % 3].pk),
                "interactionDate": f"2020-05-{14 + n % 4:02}T{n % 24:02}:30:00Z",
                "agentName": f"Agent {n % 5}",
                "sentiment": ("Positive", "Negative", "Neutral", None)[n % 4],
                "custom": {"csvName": f"report-{n % 2}.csv"},
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        created.append(response.json()["_id"]["$oid"])
    for n, pk in enumerate(created[:12]):
        body = {"sentiment": "Mixed", "agentName": f"Agent {n % 3}", "interactionDate": "2020-06-01T08:00:00Z"}
        assert staff_api.patch(f"/interactions/{pk}", body, format="json").status_code == 200
    for pk in created[12:18]:
        assert staff_api.delete(f"/interactions/{pk}").status_code == 204
    spare = make_engagement(client, name="Spare")
    assert staff_api.delete(f"/engagements/{spare.pk}").status_code == 204

    # The writes landed in many slots of every kind of count...
    assert all(len(found) > 1 for found in slots_stored().values()), slots_stored()
    # ...and every count, as read, checked and summarised, is the interactions' own.
    assert rebuilding.differences() == []
    assert interaction_stats() == raw_interaction_stats()
    ids = [engagement.pk for engagement in engagements]
    interactions = Interaction._get_collection()
    assert reading.engagement_totals(ids) == {pk: interactions.count_documents({"engagementId": pk}) for pk in ids}
    assert reading.count(ids, ["Mixed"]) == 12
    start, end = datetime.datetime(2020, 5, 15, 12), datetime.datetime(2020, 5, 17, 6)  # part-days at the ends
    between = {"interactionDate": {"$gte": start, "$lt": end}}
    assert reading.count(ids, start=start, end=end) == interactions.count_documents(between) > 0
    assert reading.span(ids) == (datetime.datetime(2020, 5, 14), datetime.datetime(2020, 6, 1))
    # Days read by their ids (several engagements, a closed range): every slot in use is asked for.
    days = {"$gte": datetime.datetime(2020, 5, 14), "$lte": datetime.datetime(2020, 5, 17)}
    in_days = {"interactionDate": {"$gte": days["$gte"], "$lt": days["$lte"] + datetime.timedelta(days=1)}}
    assert sum(row["total"] for row in reading.day_counts(ids, days)) == interactions.count_documents(in_days) > 0
    assert reading.agent_names("agent") == {
        f"Agent {n}": interactions.count_documents({"agentName": f"Agent {n}"}) for n in range(5)
    }
    for engagement in engagements:
        assert reading.file_counts(engagement.pk, 10) == [
            (name, interactions.count_documents({"engagementId": engagement.pk, "custom.csvName": name}))
            for name in ("report-0.csv", "report-1.csv")
        ]

    assert rebuilding.rekey_names() is False  # slots are keyed as they should be: no rebuild at deploy
    rebuilding.rebuild()
    assert slots_stored() == {name: set() for name in COLLECTIONS}  # a rebuild keeps one slot
    assert rebuilding.differences() == []


def test_a_name_whose_slots_add_up_to_nothing_is_counted_as_none(every_slot_in_turn, staff_api):
    engagement = make_engagement()
    body = {"engagementId": str(engagement.pk), "interactionDate": "2020-05-16T10:00:00Z", "agentName": "Ann",
            "custom": {"csvName": "once.csv"}}  # fmt: skip
    pk = staff_api.post("/interactions", body, format="json").json()["_id"]["$oid"]
    assert staff_api.delete(f"/interactions/{pk}").status_code == 204
    # The plus and the minus sit in different slots: the one below zero stays (the sum needs it).
    stored = list(mongo.database()[keys.NAMES].find({"agentName": "Ann"}))
    assert sorted(doc["n"] for doc in stored) == [-1, -1, 1, 1]  # Ann's, and Ann's in every engagement
    assert reading.agent_names("ann") == {}
    assert reading.agent_count("Ann") == 0
    assert reading.file_counts(engagement.pk, 10) == []
    assert reading.file_count("once.csv") == 0
    assert rebuilding.differences() == []


def test_a_slot_that_counts_nothing_goes(monkeypatch, staff_api):
    monkeypatch.setattr(transactions, "slot", lambda: 3)
    engagement = make_engagement()
    interaction = make_interaction(engagement, agentName="Ann")
    assert mongo.database()[keys.NAMES].count_documents({"agentName": "Ann", "slot": 3}) == 2
    assert staff_api.delete(f"/interactions/{interaction.pk}").status_code == 204
    assert mongo.database()[keys.NAMES].count_documents({"agentName": "Ann"}) == 0


def test_deleting_a_parent_meets_a_child_written_in_any_slot(monkeypatch):
    """The delete writes every slot of the parent's lock, so an unfinished child's write,
    whichever slot it took, conflicts with it."""
    engagement = make_engagement()
    client = mongo.database().client
    for slot in range(transactions.SLOTS):
        monkeypatch.setattr(transactions, "slot", lambda slot=slot: slot)
        with client.start_session() as deleting, client.start_session() as child:
            deleting.start_transaction()
            documents.touch_locks(Engagement, [engagement.pk], deleting, every_slot=True)
            child.start_transaction()
            with pytest.raises(OperationFailure) as conflict:
                documents.touch_locks(Engagement, [engagement.pk], child)
            assert conflict.value.has_error_label(transactions.TRANSIENT)
            deleting.abort_transaction()


def test_children_written_together_take_different_slots_of_their_parents_lock(monkeypatch):
    engagement = make_engagement()
    client = mongo.database().client
    monkeypatch.setattr(transactions, "slot", lambda: 1)
    with client.start_session() as first, client.start_session() as second:
        first.start_transaction()
        documents.touch_locks(Engagement, [engagement.pk], first)
        monkeypatch.setattr(transactions, "slot", lambda: 2)
        second.start_transaction()
        documents.touch_locks(Engagement, [engagement.pk], second)  # no conflict: another slot
        first.commit_transaction()
        second.commit_transaction()


def test_a_thread_moves_to_another_slot_after_a_conflict():
    """Slot 0 until a transaction of the thread conflicts; then another, in that thread only."""
    engagement = make_engagement()
    locks = mongo.database()[documents.LOCKS]
    client = mongo.database().client
    attempts = []

    def work(session):
        attempts.append(transactions.slot())
        if len(attempts) == 1:  # another transaction writes the document first, and commits later
            with client.start_session() as other:
                other.start_transaction()
                locks.update_one({"_id": "contended"}, {"$inc": {"n": 1}}, upsert=True, session=other)
                try:
                    locks.update_one({"_id": "contended"}, {"$inc": {"n": 1}}, upsert=True, session=session)
                finally:
                    other.commit_transaction()
        else:
            locks.update_one({"_id": "contended"}, {"$inc": {"n": 1}}, upsert=True, session=session)

    assert {transactions.slot() for _ in range(50)} == {0}
    transactions.atomic(work)
    assert attempts[0] == 0  # then, having conflicted, another
    assert len(attempts) == 2
    assert locks.find_one({"_id": "contended"})["n"] == 2
    moved = transactions.slot()
    assert moved != 0
    assert attempts[1] == moved
    assert {transactions.slot() for _ in range(50)} == {moved}  # it stays there
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append({transactions.slot() for _ in range(50)}))
    thread.start()
    thread.join()
    assert elsewhere == [{0}]
    assert Engagement.objects(pk=engagement.pk).count() == 1
    transactions.calm()
    assert {transactions.slot() for _ in range(50)} == {0}
