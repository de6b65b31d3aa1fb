"""The daily counts (interactions.rollups) stay equal to the interactions after writes
through every path, statistics read from them equal the raw aggregation, and
`rebuild_rollups` repairs them."""

import datetime
import io
import json
import random

import pytest
from django.core.management import CommandError, call_command

from interactions import rollups
from interactions.documents import SENTIMENTS, Interaction
from interactions.ingest import Options, ingest_csv
from interactions.stats import interaction_stats, raw_interaction_stats
from sampledata import seeding, synthetic
from sampledata.factories import make_client, make_engagement, make_interaction

AGENTS = ("John Ford", "Ann Lee", "J. R. $mith", "50% Off", "")


def assert_in_step():
    assert rollups.differences() == []


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
    assert rollups.collection().count_documents({"total": {"$gt": 0}}) > 0


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
    rollups.collection().update_one({}, {"$inc": {"total": 5, "sentiments.Positive": 5}})
    rollups.collection().delete_one({"total": {"$gt": 0}, "_id": {"$ne": rollups.collection().find_one()["_id"]}})
    with pytest.raises(CommandError, match="engagement-days differ"):
        call_command("rebuild_rollups", "--check")
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "Rebuilt the daily counts" in out.getvalue()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert_in_step()
    assert interaction_stats() == raw_interaction_stats()


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda: rollups.totals().update_one({}, {"$inc": {"total": 3}}),
        lambda: rollups.totals().update_one({}, {"$set": {"first": datetime.datetime(2024, 6, 1)}}),  # too narrow
        lambda: rollups.totals().delete_one({}),
        lambda: rollups.daily().update_one({}, {"$inc": {"sentiments.Negative": 2}}),
        lambda: rollups.daily().delete_one({}),
        lambda: rollups.totals().update_one({}, {"$inc": {"hours.03": 1}}),
        lambda: rollups.names().update_one({"agentName": {"$exists": True}}, {"$inc": {"sentiments.Mixed": 1}}),
        lambda: rollups.names().update_one({"agentName": {"$exists": True}}, {"$unset": {"sentiments": ""}}),
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
    assert rollups.differences() != []
    rollups.rebuild()
    assert_in_step()


def test_a_span_wider_than_the_data_after_deletes_is_in_step():
    """Deletes leave an engagement's first and last days as they were: wider, never wrong."""
    engagement = make_engagement()
    early = make_interaction(engagement, datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    make_interaction(engagement, datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    early.delete()
    assert_in_step()
    assert rollups.span([engagement.pk]) == (datetime.datetime(2020, 1, 1), datetime.datetime(2024, 1, 1))
    Interaction.objects(engagementId=engagement).delete()
    assert rollups.span([engagement.pk]) == (None, None)  # no interactions: no span
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
    rollups.names().update_many({"agentName": {"$exists": True}}, {"$unset": {"sentiments": ""}})
    assert rollups.differences() != []
    call_command("ensure_indexes", verbosity=0)
    assert_in_step()
    assert interaction_stats() == raw_interaction_stats()
    assert rollups.split_agent_totals() is None  # nothing left to split
