"""Filters, ordering, fields, expansion and pagination of interaction lists."""

import datetime
import json

import pytest

from interactions.documents import Interaction

ACME = "5f18d12f42262eec0d435570"
ACME_PHONE = "5f18d12f42262eec0d435583"


def get(api, url, **params):
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def everything(api, url, page_size=1000, **params):
    """Every result of a list, following next links."""
    results, page = [], get(api, url, page_size=page_size, **params)
    while True:
        results += page["results"]
        if not page["next"]:
            return results
        page = json.loads(api.get(page["next"]).content)


def ids(results):
    return {row["_id"]["$oid"] for row in results}


def stored_ids(**query):
    return {str(pk) for pk in Interaction.objects(**query).scalar("id")}


def test_default_order_is_newest_first_with_id_breaking_ties(staff_api, seeded):
    results = everything(staff_api, "/interactions")
    keys = [(row["interactionDate"]["$date"], row["_id"]["$oid"]) for row in results]
    assert keys == sorted(keys, reverse=True)
    assert len(results) == Interaction.objects.count()


@pytest.mark.parametrize("ordering", ["interactionDate", "-interactionDate", "agentName", "-agentName"])
def test_orderings_page_through_everything_once(staff_api, seeded, ordering):
    Interaction.objects(engagementId="5f18d12f42262eec0d435589").update(unset__agentName=True)  # missing values too
    seen = everything(staff_api, "/interactions", ordering=ordering, page_size=37)
    assert len(seen) == len(ids(seen)) == Interaction.objects.count()
    field = ordering.lstrip("-")
    values = [(row[field] if field == "agentName" else row[field]["$date"]) for row in seen]
    present = [value for value in values if value is not None]
    assert present == sorted(present, reverse=ordering.startswith("-"))


def test_previous_links_walk_back_to_the_first_page(staff_api, seeded):
    first = get(staff_api, "/interactions", page_size=50)
    assert first["previous"] is None
    second = json.loads(staff_api.get(first["next"]).content)
    third = json.loads(staff_api.get(second["next"]).content)
    back = json.loads(staff_api.get(third["previous"]).content)
    assert back["results"] == second["results"]
    again = json.loads(staff_api.get(back["previous"]).content)
    assert again["results"] == first["results"]
    assert again["previous"] is None


def test_the_last_page_has_no_next(staff_api, seeded):
    page = get(staff_api, "/interactions", page_size=150)
    pages = 1
    while page["next"]:
        page = json.loads(staff_api.get(page["next"]).content)
        pages += 1
    assert pages == 3
    assert len(page["results"]) == Interaction.objects.count() - 300


def test_count_only_when_asked(staff_api, seeded):
    assert "count" not in get(staff_api, "/interactions")
    assert (
        get(staff_api, "/interactions", count="true", sentiment="Negative")["count"]
        == Interaction.objects(sentiment="Negative").count()
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"cursor": "forged"}, "cursor"),
        ({"count": "yes"}, "count"),
        ({"ordering": "sentiment"}, "ordering"),
        ({"fields": "agentName,password"}, "fields"),
        ({"expand": "client"}, "expand"),
        ({"from": "16/05/2020"}, "from"),
        ({"to": "2020-13-01"}, "to"),
        ({"engagement": "xyz"}, "engagement"),
        ({"client": "5f18d12f42262eec0d43557"}, "client"),
        ({"sentiment": "Angry"}, "sentiment"),
        ({"colour": "red"}, "colour"),
        ({"agentName[$ne]": "x"}, "agentName[$ne]"),
        ({"agentName": '{"$ne": null}'}, "agentName"),
        ({"agentName": "$where"}, "agentName"),
        ({"search": '{"$where": "sleep(100)"}'}, "search"),
        ({"custom.$where": "1"}, "custom.$where"),
        ({"custom.": "1"}, "custom."),
        ({"custom.csvName": '["a", "b"]'}, "custom.csvName"),
    ],
)
def test_bad_query_parameters_are_400s_saying_what_is_accepted(staff_api, seeded, params, field):
    response = staff_api.get("/interactions", params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field][0]


def test_unknown_parameters_list_the_accepted_ones(staff_api):
    message = staff_api.get("/interactions", {"agentName[$ne]": "x"}).json()["agentName[$ne]"][0]
    for name in ("client", "engagement", "agentName", "search", "sentiment", "from", "to", "custom.<path>", "cursor"):
        assert name in message


def test_a_repeated_parameter_is_refused(staff_api):
    response = staff_api.get("/interactions?agentName=a&agentName=b")
    assert response.status_code == 400
    assert "once" in response.json()["agentName"][0]


def test_filter_by_engagement_client_and_agent(staff_api, seeded):
    assert ids(everything(staff_api, "/interactions", engagement=ACME_PHONE)) == stored_ids(engagementId=ACME_PHONE)
    acme = ids(everything(staff_api, "/interactions", client=ACME))
    assert len(acme) == 160  # 4 engagements of 40
    assert ids(everything(staff_api, f"/clients/{ACME}/interactions")) == acme
    assert ids(everything(staff_api, f"/engagements/{ACME_PHONE}/interactions")) == stored_ids(engagementId=ACME_PHONE)
    john = everything(staff_api, "/interactions", agentName="John Ford")
    assert john
    assert {row["agentName"] for row in john} == {"John Ford"}
    assert not everything(staff_api, "/interactions", agentName="john ford")


def test_search_is_a_case_insensitive_literal_substring(staff_api, seeded):
    results = everything(staff_api, "/interactions", search="FORD")
    assert ids(results) == {str(i.pk) for i in Interaction.objects if "ford" in (i.agentName or "").lower()}
    renamed = staff_api.patch(
        "/interactions/5f18d12f42262eec0d43567d", {"agentName": "A.B. (Team) [x]+"}, format="json"
    )
    assert renamed.status_code == 200
    assert len(everything(staff_api, "/interactions", search="(team) [x]+")) == 1
    assert not everything(staff_api, "/interactions", search=".*")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "o"}, {}),
        ({"search": "FORD", "engagement": ACME_PHONE}, {"engagementId": ACME_PHONE}),
        ({"search": "a", "sentiment": "positive,mixed"}, {"sentiment__in": ["Positive", "Mixed"]}),
    ],
)
def test_search_reads_the_agents_names_and_counts_from_their_counts(
    staff_api, seeded, params, expected, mongo_commands, interaction_finds
):
    """The term is looked up among the agents' names (not matched against every
    interaction), and count=true is their counts, by engagement and sentiment too."""
    counted = staff_api.get("/interactions", {**params, "count": "true", "page_size": 1}).json()["count"]
    assert all("$regex" not in str(query) for query in interaction_finds)
    assert ("aggregate", "interaction") not in mongo_commands
    assert ("count", "interaction") not in mongo_commands
    listed = everything(staff_api, "/interactions", **params)
    term = params["search"].lower()
    assert ids(listed) == {str(i.pk) for i in Interaction.objects(**expected) if term in (i.agentName or "").lower()}
    assert counted == len(listed) > 0


def test_sentiment_one_or_a_list(staff_api, seeded):
    assert ids(everything(staff_api, "/interactions", sentiment="negative")) == stored_ids(sentiment="Negative")
    both = everything(staff_api, "/interactions", sentiment="Positive, Mixed")
    assert ids(both) == stored_ids(sentiment__in=["Positive", "Mixed"])


def test_from_is_inclusive_and_to_exclusive(staff_api, seeded):
    url = "/interactions"
    at = {"from": "2020-05-16T12:00:00Z"}
    assert "5f18d12f42262eec0d43567d" in ids(everything(staff_api, url, **at, to="2020-05-16T12:00:00.001Z"))
    assert "5f18d12f42262eec0d43567d" not in ids(everything(staff_api, url, to="2020-05-16T12:00:00Z"))
    day = everything(staff_api, url, **{"from": "2020-05-16", "to": "2020-05-17"})
    start = datetime.datetime(2020, 5, 16, tzinfo=datetime.UTC)
    assert ids(day) == stored_ids(interactionDate__gte=start, interactionDate__lt=start + datetime.timedelta(days=1))
    zoned = everything(staff_api, url, **{"from": "2020-05-16T08:00:00-04:00", "to": "2020-05-16T08:00:01-04:00"})
    assert ids(zoned) == {"5f18d12f42262eec0d43567d"}


def test_custom_path_equality_matches_strings_numbers_and_booleans(staff_api, seeded):
    by_csv = everything(staff_api, "/interactions", **{"custom.csvName": "2020_16_05_report.csv"})
    assert "5f18d12f42262eec0d43567d" in ids(by_csv)
    assert all(row["custom"]["csvName"] == "2020_16_05_report.csv" for row in by_csv)
    rated = everything(staff_api, "/interactions", **{"custom.rating": "5"})
    assert rated
    assert all(row["custom"]["rating"] == 5 for row in rated)
    resolved = everything(staff_api, "/interactions", **{"custom.resolved": "true"})
    assert ids(resolved) == stored_ids(custom__resolved=True)
    nested = everything(staff_api, "/interactions", **{"custom.reactions.angry": "0"})
    assert nested
    assert all(row["custom"]["reactions"]["angry"] == 0 for row in nested)


def test_fields_returns_only_the_named_keys_from_a_projection(staff_api, seeded, mongo_commands):
    results = get(staff_api, "/interactions", fields="agentName,sentiment", page_size=5)["results"]
    assert all(list(row) == ["_id", "agentName", "sentiment"] for row in results)
    detail = get(staff_api, "/interactions/5f18d12f42262eec0d43567d", fields="custom")
    assert detail == {"_id": {"$oid": "5f18d12f42262eec0d43567d"}, "custom": json.loads(json.dumps(detail["custom"]))}


def test_fields_are_projected_in_the_database(staff_api, seeded, mongo_commands):
    get(staff_api, "/interactions", fields="agentName", page_size=5)
    finds = [command for command in mongo_commands if command[0] == "find" and command[1] == "interaction"]
    assert len(finds) == 1


def test_expand_embeds_engagements_and_clients_in_one_query_per_level(staff_api, seeded, mongo_commands):
    page = get(staff_api, "/interactions", expand="engagement.client", page_size=200)
    finds = [collection for name, collection in mongo_commands if name == "find"]
    assert finds.count("interaction") == 1
    assert finds.count("engagement") == 1
    assert finds.count("client") == 1
    for row in page["results"]:
        assert row["engagement"]["_id"] == row["engagementId"]
        assert row["engagement"]["client"]["_id"] == row["engagement"]["clientId"]
    example = get(staff_api, "/interactions/5f18d12f42262eec0d43567d", expand="engagement")
    assert example["engagement"] == {
        "_id": {"$oid": ACME_PHONE}, "clientId": {"$oid": ACME}, "name": "Phone",
    }  # fmt: skip


def test_expand_works_with_fields(staff_api, seeded):
    row = get(staff_api, "/interactions", fields="agentName", expand="engagement", page_size=1)["results"][0]
    assert list(row) == ["_id", "agentName", "engagement"]
    assert row["engagement"]["name"]


def test_bounds_and_ties_hold_within_one_engagement(staff_api):
    """The (engagementId, -interactionDate) index serves these; see topbox.dates.at_or_after."""
    from sampledata.factories import make_engagement, make_interaction

    engagement = make_engagement()
    at = datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC)
    made = {
        str(make_interaction(engagement, when=at + datetime.timedelta(hours=hours)).pk) for hours in (-1, 0, 0, 0, 1)
    }
    url = f"/engagements/{engagement.pk}/interactions"
    assert len(everything(staff_api, url, **{"from": "2020-05-16T12:00:00Z"})) == 4
    assert len(everything(staff_api, url, to="2020-05-16T12:00:00Z")) == 1
    for ordering in ("interactionDate", "-interactionDate"):
        seen = everything(staff_api, url, ordering=ordering, page_size=1)
        assert ids(seen) == made
        assert len(seen) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "\u00b2"}, "page_size"),
        ({"page_size": "9" * 5000}, "page_size"),
        ({"from": "0001-01-01T00:00:00+01:00"}, "from"),
        ({"to": "9999-12-31T23:59:59.999999-14:00"}, "to"),
        ({"search": "a\x00b"}, "search"),
    ],
)
def test_edge_values_are_400s_not_500s(staff_api, seeded, params, field):
    response = staff_api.get("/interactions", params)
    assert response.status_code == 400
    assert field in response.json()


def test_extreme_but_valid_values_work(staff_api, seeded):
    assert len(everything(staff_api, "/interactions", **{"from": "0001-01-01"})) == 400
    assert len(everything(staff_api, "/interactions", to="9999-12-31T23:59:59Z")) == 400
    assert everything(staff_api, "/interactions", **{"custom.x": "99999999999999999999"}) == []
    assert staff_api.get("/interactions", HTTP_ACCEPT="application/json; indent=\u00b2").status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"from": "0001-01-01"}, {"to": "9999-12-31T23:59:59Z"}, {"from": "9999-12-31T12:00:00Z"},
     {"to": "0001-01-01T12:00:00Z"}, {"from": "0001-01-01T00:00:00.001Z", "to": "9999-12-31T23:59:59.999Z"},
     {"ordering": "interactionDate", "from": "9999-12-31"}],
)  # fmt: skip
def test_counts_and_pages_at_the_ends_of_the_calendar(staff_api, seeded, params):
    listed = everything(staff_api, "/interactions", **params)
    counted = get(staff_api, "/interactions", count="true", **params)["count"]
    assert counted == len(listed)


def test_a_cursor_only_works_on_its_own_list(staff_api, seeded):
    cursor = get(staff_api, "/clients", page_size=1)["next"].split("cursor=")[1].split("&")[0]
    response = staff_api.get("/engagements", {"cursor": cursor, "page_size": 1})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_documents_without_a_date_are_still_reached_by_pages(staff_api, seeded):
    Interaction._get_collection().insert_one({"engagementId": Interaction.objects.first().engagementId.pk})
    for ordering in ("-interactionDate", "interactionDate"):
        assert len(everything(staff_api, "/interactions", ordering=ordering)) == 401
        assert len(ids(everything(staff_api, "/interactions", ordering=ordering, page_size=7))) == 401
