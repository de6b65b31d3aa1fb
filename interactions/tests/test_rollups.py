"""The daily counts (interactions.counts) stay equal to the interactions after writes
through every path, statistics read from them equal the raw aggregation, and
`rebuild_rollups` repairs them."""

import datetime
import io
import json
import random

import pytest
from bson import ObjectId
from django.core.management import CommandError, call_command
from pymongo.errors import OperationFailure

from engagements.documents import Engagement
from interactions.counts import keys, reading, rebuilding, recording
from interactions.documents import SENTIMENTS, Interaction
from interactions.ingest import Options, ingest_csv
from interactions.stats import interaction_stats, raw_interaction_stats
from sampledata import seeding, synthetic
from sampledata.factories import make_client, make_engagement, make_interaction

AGENTS = ("John Ford", "Ann Lee", "J. R. $mith", "50% Off", "")


def assert_in_step():
    assert rebuilding.differences() == []


def random_when(rng):
    return datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        seconds=rng.randrange(60 * 24 * 3600)
    )


def csv_body(rng, rows):
    lines = ["interactionDate,agentName,sentiment"]
    for _ in range(rows):
        lines.append(f"{random_when(rng):%Y-%m-%dT%H:%M:%SZ},{rng.choice(AGENTS[:3])},{rng.choice(SENTIMENTS)}")
    return io.BytesIO(("\n".join(lines) + "\n").encode())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_write_path_keeps_the_counts(seed, staff_api):
    rng = random.Random(seed)
    acme = make_client()
    engagements = [make_engagement(acme, "Phone"), make_engagement(acme, "Chat")]
    for _ in range(40):
        path = rng.choice(["document", "document-update", "document-delete", "api-create", "api-patch",
                           "api-put", "api-delete", "api-move-within-day", "ingest", "ingest-replace"])  # fmt: skip
        stored = list(Interaction.objects.only("id"))
        if path == "document":
            make_interaction(rng.choice(engagements), random_when(rng), rng.choice(AGENTS),
                             rng.choice([*SENTIMENTS, None]), {})  # fmt: skip
        elif path == "document-update" and stored:
            interaction = Interaction.objects.get(pk=rng.choice(stored).pk)
            interaction.sentiment = rng.choice([*SENTIMENTS, None])
            interaction.interactionDate = random_when(rng)
            interaction.agentName = rng.choice(AGENTS)
            interaction.save()
        elif path == "document-delete" and stored:
            Interaction.objects.get(pk=rng.choice(stored).pk).delete()
        elif path == "api-create":
            body = {"engagementId": str(rng.choice(engagements).pk), "interactionDate": random_when(rng).isoformat(),
                    "agentName": rng.choice(AGENTS[:4]), "sentiment": rng.choice(SENTIMENTS), "custom": {}}  # fmt: skip
            assert staff_api.post("/interactions", json.dumps(body), content_type="application/json").status_code == 201
        elif path == "api-patch" and stored:
            body = {"sentiment": rng.choice([*SENTIMENTS, None]), "interactionDate": random_when(rng).isoformat()}
            url = f"/interactions/{rng.choice(stored).pk}"
            assert staff_api.patch(url, json.dumps(body), content_type="application/json").status_code == 200
        elif path == "api-move-within-day" and stored:  # the same day's counts, another hour's
            moved = Interaction.objects.get(pk=rng.choice(stored).pk)
            if moved.interactionDate is not None:
                when = moved.interactionDate.replace(hour=rng.randrange(24), tzinfo=datetime.UTC)
                body = {"interactionDate": when.isoformat()}
                url = f"/interactions/{moved.pk}"
                assert staff_api.patch(url, json.dumps(body), content_type="application/json").status_code == 200
        elif path == "api-put" and stored:
            body = {"engagementId": str(rng.choice(engagements).pk), "interactionDate": random_when(rng).isoformat(),
                    "agentName": rng.choice(AGENTS[:4]), "custom": {"x": 1}}  # fmt: skip
            url = f"/interactions/{rng.choice(stored).pk}"
            assert staff_api.put(url, json.dumps(body), content_type="application/json").status_code == 200
        elif path == "api-delete" and stored:
            assert staff_api.delete(f"/interactions/{rng.choice(stored).pk}").status_code == 204
        elif path == "ingest":
            ingest_csv(csv_body(rng, rng.randrange(1, 8)), f"r{rng.randrange(3)}.csv", rng.choice(engagements))
        elif path == "ingest-replace":
            options = Options(replace=True)
            ingest_csv(csv_body(rng, rng.randrange(1, 8)), f"r{rng.randrange(3)}.csv", rng.choice(engagements), options)
        assert_in_step()
    assert Interaction.objects.count() > 0
    for scope in ({}, {"client": acme.pk}, {"engagement": engagements[0].pk}):
        assert interaction_stats(**scope) == raw_interaction_stats(**scope), scope


def test_seed_and_synthetic_data_keep_the_counts():
    seeding.seed()
    assert_in_step()
    synthetic.generate(clients=2, engagements=3, interactions=500, random_seed=4, batch_size=120)
    assert_in_step()
    synthetic.generate(clients=2, engagements=3, interactions=700, random_seed=4, batch_size=120)  # adds 200
    assert_in_step()
    seeding.seed(flush=True)
    assert_in_step()
    assert keys.collection().count_documents({"total": {"$gt": 0}}) > 0


def test_the_admin_keeps_the_counts(admin_client):
    interaction = make_interaction()
    response = admin_client.post(
        f"/admin/interactions/interaction/{interaction.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not Interaction.objects.count()
    assert_in_step()


@pytest.mark.parametrize("seed", [5, 6])
def test_statistics_from_the_counts_equal_the_raw_aggregation(seed):
    rng = random.Random(seed)
    synthetic.generate(clients=2, engagements=4, interactions=1500, random_seed=seed)
    make_interaction(make_engagement(), None, "No Date", None, {})  # no date: totals only
    client = make_client("Other")
    some = Interaction.objects.first()
    for _ in range(12):
        start = random_when(rng).replace(year=2024, month=rng.randrange(1, 7)) if rng.random() < 0.7 else None
        end = start + datetime.timedelta(hours=rng.randrange(1, 24 * 90)) if start and rng.random() < 0.8 else None
        if rng.random() < 0.3 and start:  # whole days
            start = start.replace(hour=0, minute=0, second=0)
        scope = rng.choice([{}, {"engagement": some.engagementId.pk}, {"client": some.engagementId.clientId.pk},
                            {"client": client.pk}])  # fmt: skip
        for interval in ("day", "week", "month"):
            arguments = {**scope, "start": start, "end": end, "interval": interval, "top_agents": 5}
            assert interaction_stats(**arguments) == raw_interaction_stats(**arguments), arguments


def test_rebuild_repairs_corrupted_counts():
    synthetic.generate(clients=1, engagements=2, interactions=300, random_seed=9)
    keys.collection().update_one({}, {"$inc": {"total": 5, "sentiments.Positive": 5}})
    keys.collection().delete_one({"total": {"$gt": 0}, "_id": {"$ne": keys.collection().find_one()["_id"]}})
    with pytest.raises(CommandError, match="stored counts differ"):
        call_command("rebuild_rollups", "--check")
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "Rebuilt the daily counts" in out.getvalue()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert_in_step()
    assert interaction_stats() == raw_interaction_stats()


def raw_interactions(engagement_ids, csv_name="shared.csv"):
    """One interaction stored for each of ``engagement_ids`` (``...``: without the field)
    around Topbox's write paths: the counts miss them."""
    documents = []
    for number, engagement_id in enumerate(engagement_ids):
        document = {"_id": ObjectId(), "interactionDate": datetime.datetime(2024, 3, 1, number), "agentName": "Ann Lee",
                    "sentiment": "Positive", "custom": {"csvName": csv_name}}  # fmt: skip
        if engagement_id is not ...:
            document["engagementId"] = engagement_id
        documents.append(document)
    Interaction._get_collection().insert_many(documents)
    return documents


def test_the_command_rebuilds_and_checks_engagement_by_engagement(interaction_commands):
    """Every engagement's interactions read by the index, including those of engagements
    that are not stored (deleted since; never counted, whatever their id's place among the
    others') and those without an engagement, null or missing."""
    synthetic.generate(clients=2, engagements=4, interactions=400, random_seed=11)
    gone = make_engagement()
    make_interaction(gone, agentName="Gone Agent")
    Engagement._get_collection().delete_one({"_id": gone.pk})  # around Topbox: its totals still count it
    without = raw_interactions([None, ..., None])
    recording.record(added=without)  # a null and a missing engagement: counted as one, files too
    assert_in_step()
    stored = sorted(row["_id"] for row in Engagement._get_collection().find({}, {"_id": 1}))
    below, above = ObjectId("0" * 23 + "1"), ObjectId("f" * 24)
    between = ObjectId(f"{int(str(stored[0]), 16) + 1:024x}")
    assert between < stored[1]
    raw_interactions([below, between, above, between, None, ...])
    keys.collection().update_one({"engagementId": stored[0]}, {"$inc": {"total": 2, "sentiments.Mixed": 2}})
    keys.totals().delete_one({"_id": stored[1]})
    # Rollups of engagements that neither exist nor hold interactions.
    stale_day, stale_name = ObjectId(), ObjectId()
    keys.collection().insert_one({"_id": f"{stale_day}:20240101", "engagementId": stale_day,
                                     "day": datetime.datetime(2024, 1, 1), "total": 1})  # fmt: skip
    keys.names().insert_one({"_id": f"{stale_name}:Nobody", "engagementId": stale_name, "agentName": "Nobody",
                                "n": 1, "sentiments": {"Positive": 1}})  # fmt: skip
    with pytest.raises(CommandError, match="stored counts differ"):
        call_command("rebuild_rollups", "--check")
    interaction_commands.clear()
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_rollups", stdout=out, stderr=err)
    assert out.getvalue().startswith("Rebuilt the daily counts")
    # 4 + the deleted engagement + 3 never counted + 2 with counts only + the interactions without one.
    assert err.getvalue().splitlines()[-1].startswith("11 of 11 engagements (100%)")
    call_command("rebuild_rollups", "--check", stdout=out, stderr=err)
    assert out.getvalue().endswith("The daily counts match the interactions.\n")
    reads = list(interaction_commands)
    assert_in_step()
    assert interaction_stats() == raw_interaction_stats()
    assert reading.engagement_totals([below, between, above]) == {below: 1, between: 2, above: 1}
    assert keys.collection().find_one({"engagementId": stale_day}) is None
    assert keys.names().find_one({"engagementId": stale_name}) is None
    assert reading.file_count("shared.csv") == 9
    # Each read of the interactions names one engagement, or a range of ids between two.
    assert {name for name, _ in reads} == {"aggregate", "find"}
    for name, query in reads:
        first = query[0]["$match"] if name == "aggregate" else query
        assert next(iter(first)) == "engagementId", (name, query)
        assert not isinstance(first["engagementId"], dict) or set(first["engagementId"]) <= {"$gte", "$lt", "$lte"}


def test_a_failed_aggregation_leaves_the_engagement_as_it_was(monkeypatch):
    synthetic.generate(clients=1, engagements=2, interactions=200, random_seed=3)
    keys.collection().update_many({}, {"$inc": {"total": 1}})

    def stored(pk):
        return (rebuilding.stored_counts({"engagementId": pk}), keys.totals().find_one({"_id": pk}),
                list(keys.names().find({"engagementId": pk})))  # fmt: skip

    before = {engagement.pk: stored(engagement.pk) for engagement in Engagement.objects}
    raw_files, asked = rebuilding._raw_files, []

    def failing(match):  # on the second engagement, after its other aggregations
        asked.append(match["engagementId"])
        if len(asked) == 2:
            raise OperationFailure("operation cancelled")
        return raw_files(match)

    monkeypatch.setattr(rebuilding, "_raw_files", failing)
    with pytest.raises(OperationFailure):
        rebuilding.rebuild()
    first, second = asked
    assert stored(second) == before[second]
    assert stored(first) != before[first]
    assert rebuilding.differences([first]) == []


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda: keys.totals().update_one({}, {"$inc": {"total": 3}}),
        lambda: keys.totals().update_one({}, {"$set": {"first": datetime.datetime(2024, 6, 1)}}),  # too narrow
        lambda: keys.totals().delete_one({}),
        lambda: keys.daily().update_one({}, {"$inc": {"sentiments.Negative": 2}}),
        lambda: keys.daily().delete_one({}),
        lambda: keys.totals().update_one({}, {"$inc": {"hours.03": 1}}),
        lambda: keys.names().update_one({"agentName": {"$exists": True}}, {"$inc": {"sentiments.Mixed": 1}}),
        lambda: keys.names().update_one({"agentName": {"$exists": True}}, {"$unset": {"sentiments": ""}}),
    ],
    ids=[
        "total",
        "span",
        "missing total",
        "day's sentiment",
        "missing day",
        "hours",
        "agent's sentiment",
        "agent unsplit",
    ],
)
def test_the_check_finds_and_the_rebuild_repairs_the_totals_and_the_days(corrupt):
    synthetic.generate(clients=1, engagements=2, interactions=200, random_seed=4)
    assert_in_step()
    corrupt()
    assert rebuilding.differences() != []
    rebuilding.rebuild()
    assert_in_step()


def test_a_span_wider_than_the_data_after_deletes_is_in_step():
    """Deletes leave an engagement's first and last days as they were: wider, never wrong."""
    engagement = make_engagement()
    early = make_interaction(engagement, datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    make_interaction(engagement, datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    early.delete()
    assert_in_step()
    assert reading.span([engagement.pk]) == (datetime.datetime(2020, 1, 1), datetime.datetime(2024, 1, 1))
    Interaction.objects(engagementId=engagement).delete()
    assert reading.span([engagement.pk]) == (None, None)  # no interactions: no span
    assert_in_step()


def test_the_newest_date_is_found_from_the_counts():
    from interactions.selectors import last_date

    old, recent = make_engagement(), make_engagement()
    assert last_date() is None
    make_interaction(old, datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC))
    make_interaction(old, datetime.datetime(2020, 5, 16, 23, 59, 59, 999000, tzinfo=datetime.UTC))
    make_interaction(old, datetime.datetime(2019, 1, 1, tzinfo=datetime.UTC))
    make_interaction(recent, datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3))
    assert last_date([old.pk]) == datetime.datetime(2020, 5, 16, 23, 59, 59, 999000, tzinfo=datetime.UTC)
    assert last_date([recent.pk]) == Interaction.objects(engagementId=recent).first().interactionDate.replace(
        tzinfo=datetime.UTC
    )
    far = make_interaction(old, datetime.datetime(9999, 12, 31, 12, tzinfo=datetime.UTC))
    assert last_date() == last_date([old.pk]) == far.interactionDate


def test_agents_totals_stored_without_sentiments_are_split_at_deploy():
    synthetic.generate(clients=1, engagements=2, interactions=200, random_seed=4)
    keys.names().update_many({"agentName": {"$exists": True}}, {"$unset": {"sentiments": ""}})
    assert rebuilding.differences() != []
    call_command("ensure_indexes", verbosity=0)
    assert_in_step()
    assert interaction_stats() == raw_interaction_stats()
    assert rebuilding.split_agent_totals() is None  # nothing left to split


def test_a_window_by_agent_is_sized_by_each_agents_count_and_the_unnamed_by_what_is_left():
    """The interactions without an agent have no names document (the CSV files' documents,
    which hold no agent either, are not theirs): they are the total less every name's."""
    chat, phone = make_engagement(), make_engagement()
    when = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
    for engagement, agent, n in [(chat, "Ann Lee", 3), (chat, None, 2), (phone, "Ann Lee", 1), (phone, "Bo", 4)]:
        for _ in range(n):
            make_interaction(engagement, when, agentName=agent, custom={"csvName": "march.csv"})
    assert reading.recent_agent_count(["Ann Lee"]) == 4
    assert reading.recent_agent_count(["Ann Lee", "Bo"], [phone.pk]) == 5
    assert reading.recent_agent_count([None]) == 2
    assert reading.recent_agent_count([None, "Bo"], [chat.pk]) == 2
    assert reading.recent_agent_count([None], [phone.pk]) == 0
    assert reading.agent_count(["Ann Lee"], [chat.pk]) == 3  # (the exact count agrees)
