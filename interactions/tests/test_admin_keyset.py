"""Big interaction lists page by keyset (newest, older, newer, oldest, a date): every
record once, in order, both ways, with ties on dates and records without one; the counts
they show equal the raw counts; the agent search reads the names the daily counts keep."""

import datetime
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId

from interactions.admin import InteractionAdmin
from interactions.counts import keys, reading, rebuilding, recording
from interactions.documents import SENTIMENTS, Interaction
from sampledata.factories import make_client, make_engagement, make_interaction

pytestmark = pytest.mark.django_db

URL = "/admin/interactions/interaction/"
AGENTS = ("John Ford", "Mary Major", "Ann Fordham", "Lee Jones", None)


@pytest.fixture
def small_threshold(monkeypatch):
    """Keyset pages from 10 records on, pages of 7: many pages from a little data."""
    monkeypatch.setattr(InteractionAdmin, "keyset_above", 10)
    monkeypatch.setattr(InteractionAdmin, "list_per_page", 7)


@pytest.fixture
def data(small_threshold):
    """About 300 interactions of 2 clients, 5 engagements: dates over 400 days, many equal
    to the millisecond, some missing; written raw (with their daily counts), as an import would."""
    rng = random.Random(7)
    clients = [make_client(f"Client {n}", f"C{n}") for n in range(2)]
    engagements = [make_engagement(clients[n % 2], f"Source {n}") for n in range(5)]
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    shared = [start + datetime.timedelta(days=rng.randrange(400), hours=rng.randrange(24)) for _ in range(20)]
    rows = []
    for _ in range(300):
        row = {"_id": ObjectId(), "engagementId": rng.choice(engagements).pk, "custom": {}}
        roll = rng.random()
        if roll < 0.05:
            pass  # no date
        elif roll < 0.4:
            row["interactionDate"] = rng.choice(shared)  # ties
        else:
            row["interactionDate"] = start + datetime.timedelta(seconds=rng.randrange(400 * 86400))
        if (agent := rng.choice(AGENTS)) is not None:
            row["agentName"] = agent
        if (sentiment := rng.choice([*SENTIMENTS, None])) is not None:
            row["sentiment"] = sentiment
        rows.append(row)
    Interaction._get_collection().insert_many(rows)
    recording.record(added=rows)
    return clients, engagements


def expected(match, descending=True):
    """The raw ids of ``match`` in the list's order: date then id, missing dates lowest."""
    rows = list(Interaction._get_collection().find(match, {"interactionDate": 1}))
    rows.sort(key=lambda r: (r.get("interactionDate") is not None, r.get("interactionDate"), r["_id"]))
    ids = [row["_id"] for row in rows]
    return ids[::-1] if descending else ids


def walk(client, query, direction):
    """Every page from one end of the list to the other, following ``direction`` links."""
    url = f"{URL}?{query}" if direction == "next" else f"{URL}?{query}&last=1".replace("?&", "?")
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:2000]
        cl = response.context["cl"]
        assert cl.keyset is not None
        page = [document.pk for document in cl.result_list]
        seen = seen + page if direction == "next" else page + seen
        link = cl.keyset[direction]
        url = f"{URL}{link}" if link else None
        pages += 1
        assert pages < 200
    return seen


SCOPES = {
    "everything": lambda clients, engagements: ("", {}),
    "client": lambda clients, engagements: (
        f"client={clients[0].pk}",
        {"engagementId": {"$in": [e.pk for e in engagements if e.clientId.pk == clients[0].pk]}},
    ),
    "engagement": lambda clients, engagements: (f"engagement={engagements[1].pk}", {"engagementId": engagements[1].pk}),
    "sentiment": lambda clients, engagements: ("sentiment=Mixed", {"sentiment": "Mixed"}),
    "agent search": lambda clients, engagements: ("q=ford", {"agentName": {"$in": ["John Ford", "Ann Fordham"]}}),
    "client and dates": lambda clients, engagements: (
        f"client={clients[1].pk}&date_from=2024-03-01&date_to=2024-09-30",
        {
            "engagementId": {"$in": [e.pk for e in engagements if e.clientId.pk == clients[1].pk]},
            "interactionDate": {
                "$gte": datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC),
                "$lt": datetime.datetime(2024, 10, 1, tzinfo=datetime.UTC),
            },
        },
    ),
}


@pytest.mark.parametrize("scope", SCOPES)
def test_pages_hold_every_record_once_in_order_both_ways(admin_client, data, scope):
    query, match = SCOPES[scope](*data)
    want = expected(match)
    assert len(want) > 20
    assert walk(admin_client, query, "next") == want
    assert walk(admin_client, query, "previous") == want


def test_oldest_first_pages_too(admin_client, data):
    # o=1: the date column (after the checkbox), ascending.
    want = expected({}, descending=False)
    assert walk(admin_client, "o=1", "next") == want
    assert walk(admin_client, "o=1", "previous") == want


# The columns' sorts (1 date, 2 agent, 3 sentiment; "-" descending) as a person clicks them:
# a clicked column, then the next one clicked, then newest first; the id breaks ties the
# way of the last key.
SORTS = {
    "o=2": [("agentName", False), ("interactionDate", True)],
    "o=-2": [("agentName", True), ("interactionDate", True)],
    "o=-2.1": [("agentName", True), ("interactionDate", False)],
    "o=3": [("sentiment", False), ("interactionDate", True)],
    "o=-3.-1": [("sentiment", True), ("interactionDate", True)],
    "o=3.1": [("sentiment", False), ("interactionDate", False)],
}


def in_order(match, keys):
    """The raw ids of ``match`` sorted by ``keys`` (missing values lowest), then by id."""
    rows = list(Interaction._get_collection().find(match))
    rows.sort(key=lambda row: row["_id"], reverse=keys[-1][1])
    for field, descending in reversed(keys):  # (stable: the last key first)
        rows.sort(key=lambda row, f=field: (row.get(f) is not None, row.get(f) or ""), reverse=descending)
    return [row["_id"] for row in rows]


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("order", SORTS)
def test_pages_sorted_by_agent_or_sentiment_then_date(admin_client, data, order, scope):
    query, match = SCOPES[scope](*data)
    want = in_order(match, SORTS[order])
    assert walk(admin_client, f"{query}&{order}".lstrip("&"), "next") == want
    assert walk(admin_client, f"{query}&{order}".lstrip("&"), "previous") == want


def test_a_page_sorted_by_agent_reads_a_window_of_agents(admin_client, data, interaction_finds):
    """As the API's pages by agent: bounded by the agents the counts say hold the page
    (descending: ascending, the records without an agent come first), the last of them by
    date windows."""
    response = admin_client.get(f"{URL}?o=-2")
    assert response.status_code == 200
    bounded = [f for f in interaction_finds if isinstance(f.get("agentName"), dict)]
    assert bounded, interaction_finds
    examined = Interaction._get_collection().count_documents({"agentName": bounded[0]["agentName"]})
    assert examined < Interaction.objects.count() / 3
    last_agent = [f for f in interaction_finds if isinstance(f.get("agentName"), str)]
    assert last_agent, interaction_finds
    assert all(isinstance(f.get("interactionDate"), dict) for f in last_agent), last_agent


@pytest.mark.parametrize("order", ["o=3.-1", "o=-3.1", "o=3.-1&sentiment=Mixed"])
def test_a_page_by_sentiment_reads_one_sentiment_at_a_time_by_date(admin_client, data, interaction_finds, order):
    """Never the whole of a sentiment (a quarter of the collection): each sentiment's part
    within a date window, the strings between the sentiments by an index range, and
    each bound written so that the embedded server reads no key outside it."""
    response = admin_client.get(f"{URL}?{order}")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 7
    assert interaction_finds
    for sent in interaction_finds:
        sentiment = sent["sentiment"]
        if isinstance(sentiment, dict):  # between the sentiments: none there
            assert set(sentiment) <= {"$gte", "$lt"}, sent
            assert Interaction._get_collection().count_documents(sent) == 0
        else:
            assert "$and" not in sent
            assert isinstance(sent.get("interactionDate"), dict) or sent.get("interactionDate", 0) is None, sent


def test_a_page_within_an_agent_reads_a_date_window_of_that_agent(admin_client, data, interaction_finds):
    """Past the first page of one agent's part, by date: not the rest of that agent."""
    response = admin_client.get(f"{URL}?o=2")
    for _ in range(8):
        response = admin_client.get(URL + response.context["cl"].keyset["next"])
    agent = response.context["cl"].result_list[0].agentName
    interaction_finds.clear()
    response = admin_client.get(URL + response.context["cl"].keyset["next"])
    assert response.status_code == 200
    own = [sent for sent in interaction_finds if sent.get("agentName") == agent]
    assert own, interaction_finds
    assert all(isinstance(sent.get("interactionDate"), dict | datetime.datetime) for sent in own), own


@pytest.mark.parametrize("order", ["o=2", "o=-3.1"])
def test_lists_not_by_date_page_first_to_last_without_going_to_a_date(admin_client, data, order):
    response = admin_client.get(f"{URL}?{order}")
    cl = response.context["cl"]
    assert cl.keyset["labels"] == ("First", "Previous", "Next", "Last")
    assert 'name="at"' not in response.content.decode()
    refused = admin_client.get(f"{URL}?{order}&at=2024-06-15")
    assert refused.status_code == 400
    assert b"at: going to a date needs the list sorted by date." in refused.content
    assert 'name="at"' in admin_client.get(URL).content.decode()


def test_newer_from_a_deep_page_goes_back_exactly(admin_client, data):
    response = admin_client.get(URL)
    for _ in range(5):
        first_of_previous = [d.pk for d in response.context["cl"].result_list]
        response = admin_client.get(URL + response.context["cl"].keyset["next"])
    back = admin_client.get(URL + response.context["cl"].keyset["previous"])
    assert [d.pk for d in back.context["cl"].result_list] == first_of_previous


def test_jump_to_a_date_starts_at_the_end_of_that_day(admin_client, data):
    cl = admin_client.get(f"{URL}?at=2024-06-15").context["cl"]
    end = datetime.datetime(2024, 6, 16, tzinfo=datetime.UTC)
    want = expected({"interactionDate": {"$lt": end}})[:7]
    assert [d.pk for d in cl.result_list] == want
    assert cl.keyset["previous"]
    assert cl.keyset["first"]
    newer = admin_client.get(URL + cl.keyset["previous"]).context["cl"]
    assert [d.pk for d in newer.result_list] == expected({"interactionDate": {"$gte": end}}, descending=False)[:7][::-1]


def test_links_keep_the_filter_and_a_filter_link_starts_over(admin_client, data):
    _clients, engagements = data
    cl = admin_client.get(f"{URL}?engagement={engagements[0].pk}").context["cl"]
    following = parse_qs(urlsplit(cl.keyset["next"]).query)
    assert following["engagement"] == [str(engagements[0].pk)]
    assert "after" in following
    page2 = admin_client.get(URL + cl.keyset["next"]).context["cl"]
    assert "after" not in page2.get_query_string({"sentiment": "Mixed"})


def test_the_first_and_last_pages_offer_no_way_further(admin_client, data):
    first = admin_client.get(URL).context["cl"].keyset
    assert first["first"] is None
    assert first["previous"] is None
    assert first["next"]
    assert first["last"]
    last = admin_client.get(f"{URL}?last=1").context["cl"].keyset
    assert last["last"] is None
    assert last["next"] is None
    assert last["previous"]
    assert last["first"]


@pytest.mark.parametrize("bad", ["after=nonsense", "before=x", "at=2024-13-01", "at=yesterday"])
def test_a_bad_position_is_a_400_saying_so(admin_client, data, bad):
    response = admin_client.get(f"{URL}?{bad}")
    assert response.status_code == 400
    assert b"not valid" in response.content or b"not a date" in response.content


@pytest.mark.parametrize(("taken", "given"), [("", "o=1"), ("o=3.-1", "o=3.1"), ("o=2.-1", "o=2.1")])
def test_a_position_from_another_sort_order_is_refused(admin_client, data, taken, given):
    link = admin_client.get(f"{URL}?{taken}").context["cl"].keyset["next"]
    query = parse_qs(urlsplit(link).query)
    response = admin_client.get(f"{URL}?{given}&after={query['after'][0]}")
    assert response.status_code == 400
    assert b"belongs to another sort order" in response.content


def test_a_small_selection_keeps_numbered_pages(admin_client, data):
    _clients, engagements = data
    Interaction._get_collection().insert_one({"engagementId": engagements[0].pk, "agentName": "Solo Agent"})
    recording.record(added=[{"engagementId": engagements[0].pk, "agentName": "Solo Agent"}])
    cl = admin_client.get(f"{URL}?q=solo").context["cl"]
    assert cl.keyset is None
    assert cl.result_count == 1


COUNTED = {
    "everything": ("", {}),
    "sentiment": ("sentiment=Negative", {"sentiment": "Negative"}),
    "no sentiment": ("sentiment=-", {"sentiment": {"$in": [None, ""]}}),
    "agent filter": ("agent=John Ford", {"agentName": "John Ford"}),
    "agent search": ("q=ford", {"agentName": {"$in": ["John Ford", "Ann Fordham"]}}),
    "csv file (counted up to a bound)": ("q=none.csv", {"custom.csvName": "none.csv"}),
}


@pytest.mark.parametrize("case", COUNTED)
def test_counts_equal_the_raw_counts(admin_client, data, case):
    query, match = COUNTED[case]
    cl = admin_client.get(f"{URL}?{query}").context["cl"]
    assert cl.count_exact
    assert cl.result_count == Interaction._get_collection().count_documents(match)


def test_scoped_counts_equal_the_raw_counts(admin_client, data):
    clients, engagements = data
    collection = Interaction._get_collection()
    client_engagements = [e.pk for e in engagements if e.clientId.pk == clients[0].pk]
    days = {
        "$gte": datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC),
        "$lt": datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
    }
    cases = [
        (f"client={clients[0].pk}", {"engagementId": {"$in": client_engagements}}),
        (f"engagement={engagements[2].pk}&sentiment=Positive", {"engagementId": engagements[2].pk,
                                                                "sentiment": "Positive"}),
        (f"q={engagements[3].pk}", {"engagementId": engagements[3].pk}),
        (f"q={clients[1].pk}", {"engagementId": {"$in": [e.pk for e in engagements if e not in client_engagements
                                                          and e.clientId.pk == clients[1].pk]}}),
        (f"client={clients[0].pk}&date_from=2024-02-01&date_to=2024-04-30",
         {"engagementId": {"$in": client_engagements}, "interactionDate": days}),
        (f"client={clients[1].pk}&engagement={engagements[0].pk}", {"_id": None}),  # not that client's
    ]  # fmt: skip
    for query, match in cases:
        cl = admin_client.get(f"{URL}?{query}").context["cl"]
        assert (query, cl.result_count) == (query, collection.count_documents(match))


def test_counts_beyond_the_bound_say_more_than(admin_client, data, monkeypatch):
    monkeypatch.setattr("interactions.admin.COUNT_LIMIT", 5)
    response = admin_client.get(f"{URL}?agent=John Ford&sentiment=Negative")  # not from the daily counts
    cl = response.context["cl"]
    assert not cl.count_exact
    assert cl.result_count == 5
    assert "more than 5 interactions" in response.content.decode()


def test_agent_search_reads_the_names_not_the_interactions(admin_client, data, mongo_commands):
    mongo_commands.clear()
    cl = admin_client.get(f"{URL}?q=FORD").context["cl"]
    want = expected({"agentName": {"$regex": "ford", "$options": "i"}})
    assert [d.pk for d in cl.result_list] == want[:7]
    assert ("find", keys.NAMES) in mongo_commands


def test_the_names_follow_deletes_and_renames(admin_client, small_threshold):
    engagement = make_engagement()
    solo = make_interaction(engagement, agentName="Quentin Unique")
    assert reading.agent_names(["quentin"]) == {"Quentin Unique": 1}
    solo.agentName = "Rita Renamed"
    solo.save()
    assert reading.agent_names(["quentin"]) == {}
    assert reading.agent_names(["rita"]) == {"Rita Renamed": 1}
    solo.delete()
    assert reading.agent_names(["rita"]) == {}
    assert keys.names().count_documents({"agentName": {"$exists": True}}) == 0


def test_rebuild_repairs_the_names_and_totals(data):
    keys.names().delete_many({"agentName": "John Ford"})
    keys.totals().update_many({}, {"$inc": {"total": 3}})
    broken = rebuilding.differences()
    assert any(key.startswith("names:") for key in broken)
    assert any(key.startswith("totals:") for key in broken)
    rebuilding.rebuild()
    assert rebuilding.differences() == []


def test_an_agent_search_reads_one_window_for_every_agent(admin_client, data, interaction_finds):
    """Each agent found is asked within the same window, sized by their counts together:
    the agents read about a page between them, not a page each."""
    cl = admin_client.get(f"{URL}?q=FORD").context["cl"]
    assert [d.pk for d in cl.result_list] == expected({"agentName": {"$regex": "ford", "$options": "i"}})[:7]
    first_window = [f for f in interaction_finds if isinstance(f.get("interactionDate"), dict)][:2]
    assert {f["agentName"] for f in first_window} == {"John Ford", "Ann Fordham"}
    assert first_window[0]["interactionDate"] == first_window[1]["interactionDate"]
