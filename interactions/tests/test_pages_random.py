"""Pages on random data, of random densities (a day to ten years), with random filters
and page sizes: the API's and the admin's keyset pages hold every interaction once, in
order, both ways. Windows are sized from the counts, so how the data spreads over days
decides which path reads a page: dense days are counted day by day, sparse ones placed by
the average."""

import datetime
import random
from urllib.parse import urlsplit

import pytest
from bson import ObjectId

from interactions.admin import InteractionAdmin
from interactions.counts import recording
from interactions.documents import SENTIMENTS, Interaction
from interactions.tests import test_admin_keyset as admin_pages
from interactions.tests import test_pages_windowed as api_pages
from sampledata.factories import make_client, make_engagement

pytestmark = pytest.mark.django_db

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
AGENTS = ["Ann Fordham", "Bo", "John Ford", "Lee Jones", "bo", "Émile", None]
ADMIN_ORDERS = {
    "": [("interactionDate", True)],
    "o=1": [("interactionDate", False)],
    "o=-2.-1": [("agentName", True), ("interactionDate", True)],
    **admin_pages.SORTS,
}


def random_world(rng):
    """``(client, its engagements, days)``: interactions of two clients over ``days``; some
    at the same instant, some without a date, an agent or a sentiment (or with "")."""
    clients = [make_client(f"Client {n}", f"C{n}") for n in range(2)]
    engagements = [make_engagement(clients[n % 2], f"Source {n}") for n in range(5)]
    days = rng.choice([1, 3, 40, 400, 4000])
    shared = [START + datetime.timedelta(minutes=rng.randrange(days * 1440)) for _ in range(5)]
    rows = []
    for _ in range(rng.choice([40, 150, 300])):
        row = {"_id": ObjectId(), "engagementId": rng.choice(engagements).pk, "custom": {}}
        roll = rng.random()
        if roll >= 0.3:
            row["interactionDate"] = START + datetime.timedelta(minutes=rng.randrange(days * 1440))
        elif roll >= 0.05:
            row["interactionDate"] = rng.choice(shared)
        if (agent := rng.choice(AGENTS)) is not None:
            row["agentName"] = agent
        if (sentiment := rng.choice([*SENTIMENTS, None, ""])) is not None:
            row["sentiment"] = sentiment
        rows.append(row)
    Interaction._get_collection().insert_many(rows)
    recording.record(added=rows)
    client = clients[0]
    return client, [e for e in engagements if e.clientId.pk == client.pk], engagements, days


# Seeds 11 and 24 read interactions twice while a window could reach less far than the
# last one (fixed in topbox.api.query.Query.find_windowed); the others are any.
@pytest.mark.parametrize("seed", [*range(7), 11])
def test_api_pages_on_random_data_are_exact_both_ways(staff_api, seed):
    rng = random.Random(seed)
    client, own, engagements, days = random_world(rng)
    for _ in range(5):
        ordering = rng.choice(api_pages.ORDERINGS)
        params, query = {"ordering": ordering, "page_size": rng.randrange(4, 16)}, {}
        if rng.random() < 0.4:
            params["sentiment"] = query["sentiment"] = rng.choice(SENTIMENTS)
        if rng.random() < 0.3:
            params["client"], query["engagementId"] = str(client.pk), {"$in": [e.pk for e in own]}
        elif rng.random() < 0.3:
            engagement = rng.choice(engagements)
            params["engagement"], query["engagementId"] = str(engagement.pk), engagement.pk
        if rng.random() < 0.3:
            params["agentName"] = query["agentName"] = rng.choice(AGENTS[:-1])
        if rng.random() < 0.3:
            low = START + rng.randrange(days) * DAY
            high = low + rng.randrange(1, days + 2) * DAY
            params["from"], params["to"] = str(low.date()), str(high.date())
            query["interactionDate"] = {"$gte": low, "$lt": high}
        want = [str(pk) for pk in api_pages.expected(query, ordering)]
        forwards, pages = api_pages.walk(staff_api, "/interactions", params)
        assert forwards == want, params
        if len(pages) > 1:
            parts = urlsplit(pages[-2]["next"])
            _, back = api_pages.walk(staff_api, f"{parts.path}?{parts.query}", {}, direction="previous")
            assert [row["_id"]["$oid"] for page in reversed(back) for row in page["results"]] == want, params


@pytest.mark.parametrize("seed", [*range(7), 24])
def test_admin_pages_on_random_data_are_exact_both_ways(admin_client, monkeypatch, seed):
    rng = random.Random(seed)
    monkeypatch.setattr(InteractionAdmin, "keyset_above", 10)
    monkeypatch.setattr(InteractionAdmin, "list_per_page", rng.randrange(4, 10))
    client, own, engagements, days = random_world(rng)
    walked = 0
    for _ in range(5):
        params, match = [], {}
        if rng.random() < 0.3:
            params.append(f"client={client.pk}")
            match["engagementId"] = {"$in": [e.pk for e in own]}
        if rng.random() < 0.25:
            engagement = rng.choice(engagements)
            params.append(f"engagement={engagement.pk}")
            mine = "engagementId" not in match or engagement in own
            match["engagementId"] = engagement.pk if mine else {"$in": []}
        if rng.random() < 0.35:
            sentiment = rng.choice([*SENTIMENTS, "-"])
            params.append(f"sentiment={sentiment}")
            match["sentiment"] = {"$in": [None, ""]} if sentiment == "-" else sentiment
        if rng.random() < 0.25:
            first, last = rng.randrange(days), rng.randrange(days)
            first, last = min(first, last), max(first, last)
            params += [f"date_from={(START + first * DAY).date()}", f"date_to={(START + last * DAY).date()}"]
            match["interactionDate"] = {"$gte": START + first * DAY, "$lt": START + (last + 1) * DAY}
        if rng.random() < 0.2:
            params.append("q=ford")
            match["agentName"] = {"$in": ["John Ford", "Ann Fordham"]}
        elif rng.random() < 0.15:
            params.append("agent=Lee+Jones")
            match["agentName"] = "Lee Jones"
        order = rng.choice(list(ADMIN_ORDERS))
        query = "&".join([*params, order]).strip("&")
        want = admin_pages.in_order(match, ADMIN_ORDERS[order])
        if len(want) <= 10:
            continue  # (numbered pages)
        walked += 1
        assert admin_pages.walk(admin_client, query, "next") == want, query
        assert admin_pages.walk(admin_client, query, "previous") == want, query
    assert walked  # (each seed walks some keyset pages)
