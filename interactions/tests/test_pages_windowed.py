"""Pages bounded by the daily counts (InteractionViewSet.date_window) are exact: every
interaction once, in order, forwards and backwards, with ties on the date, interactions
without a date, narrower filters than the counts know, and counts that are wrong."""

import datetime
import random
from urllib.parse import urlsplit

import pytest

from interactions import rollups
from interactions.documents import SENTIMENTS, Interaction
from sampledata.factories import make_client, make_engagement, make_interaction

START = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)


@pytest.fixture
def world():
    rng = random.Random(11)
    acme = make_client()
    engagements = [make_engagement(acme, "Phone"), make_engagement(acme, "Chat"), make_engagement(name="SMS")]
    tied = START + datetime.timedelta(days=3, hours=5)
    for number in range(260):
        when = tied if number % 9 == 0 else START + datetime.timedelta(minutes=rng.randrange(40 * 24 * 60))
        if number % 37 == 0:
            when = None
        interaction = make_interaction(rng.choice(engagements), when or tied, rng.choice(["Ann", "Bo", "Cy"]),
                                       rng.choice([*SENTIMENTS, None]), {})  # fmt: skip
        if when is None:  # stored without a date, as a raw import may leave it
            Interaction._get_collection().update_one({"_id": interaction.pk}, {"$unset": {"interactionDate": ""}})
    rollups.rebuild()
    return engagements


def expected(query, ordering):
    rows = list(Interaction._get_collection().find(query))
    field, descending = ordering.lstrip("-"), ordering.startswith("-")
    missing = [row for row in rows if row.get(field) is None]
    present = [row for row in rows if row.get(field) is not None]
    present.sort(key=lambda row: (row[field], row["_id"]), reverse=descending)
    missing.sort(key=lambda row: row["_id"], reverse=descending)
    return [row["_id"] for row in (present + missing if descending else missing + present)]


def walk(api, path, params, direction="next"):
    ids, pages, url, seen_urls = [], [], path, 0
    response = api.get(url, params)
    while True:
        body = response.json()
        assert response.status_code == 200, body
        pages.append(body)
        ids += [row["_id"]["$oid"] for row in body["results"]]
        following = body[direction]
        seen_urls += 1
        if not following or seen_urls > 100:
            return ids, pages
        parts = urlsplit(following)
        response = api.get(f"{parts.path}?{parts.query}")


@pytest.mark.parametrize("ordering", ["-interactionDate", "interactionDate"])
@pytest.mark.parametrize(
    "scope", ["all", "engagement", "engagement+sentiment", "client", "agent", "sentiment", "range"]
)
def test_pages_are_exact_both_ways(staff_api, world, ordering, scope):
    phone = world[0]
    path, params, query = "/interactions", {"ordering": ordering, "page_size": 7}, {}
    if scope.startswith("engagement"):
        params["engagement"], query["engagementId"] = str(phone.pk), phone.pk
    if scope.endswith("sentiment"):
        params["sentiment"], query["sentiment"] = "Negative", "Negative"
    if scope == "client":
        params["client"] = str(phone.clientId.pk)
        query["engagementId"] = {"$in": [e.pk for e in world if e.clientId.pk == phone.clientId.pk]}
    if scope == "agent":
        params["agentName"], query["agentName"] = "Bo", "Bo"
    if scope == "range":
        params["from"], params["to"] = "2024-03-04", "2024-03-20"
        day = datetime.timedelta(days=1)
        query["interactionDate"] = {"$gte": START + 3 * day, "$lt": START + 19 * day}
    want = [str(pk) for pk in expected(query, ordering)]
    forwards, pages = walk(staff_api, path, params)
    assert forwards == want
    last = pages[-1]
    assert last["next"] is None
    parts = urlsplit(pages[-2]["next"]) if len(pages) > 1 else None
    if parts:  # from the last page back to the first
        _, back_pages = walk(staff_api, f"{parts.path}?{parts.query}", {}, direction="previous")
        walked = [pk for page in reversed(back_pages) for pk in (row["_id"]["$oid"] for row in page["results"])]
        assert walked == want


def test_wrong_counts_cost_time_not_correctness(staff_api, world):
    rollups.collection().update_many({}, {"$inc": {"total": 1000, "sentiments.Negative": 1000}})  # far too many
    forwards, _ = walk(staff_api, "/interactions", {"page_size": 9})
    assert forwards == [str(pk) for pk in expected({}, "-interactionDate")]
    rollups.clear()  # none at all
    forwards, _ = walk(staff_api, "/interactions", {"page_size": 9, "sentiment": "Negative"})
    assert forwards == [str(pk) for pk in expected({"sentiment": "Negative"}, "-interactionDate")]


def test_a_page_reads_a_window_not_the_collection(staff_api, world, mongo_uri):
    """The first page's query carries a lower date bound from the counts, and the server
    examines about a page's worth of interactions, not all of them."""
    from pymongo import monitoring

    from topbox import mongo

    filters = []

    class Listener(monitoring.CommandListener):
        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == "interaction":
                filters.append(event.command.get("filter", {}))

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    mongo.connect(mongo_uri, event_listeners=[Listener()])
    try:
        body = staff_api.get("/interactions", {"page_size": 5}).json()
    finally:
        mongo.connect(mongo_uri)
    assert len(body["results"]) == 5
    bounded = [f for f in filters if isinstance(f.get("interactionDate"), dict) and "$gt" in f["interactionDate"]]
    assert bounded, filters
    examined = Interaction._get_collection().count_documents(bounded[-1])
    assert 5 < examined < Interaction.objects.count() / 4
