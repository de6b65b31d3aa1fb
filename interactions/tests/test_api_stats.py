"""The stats endpoints, checked against plain Python counts over the sample data."""

import datetime
from collections import Counter

import pytest

from engagements.documents import Engagement
from interactions.counts import rebuilding
from interactions.documents import Interaction

ACME, NORTHWIND = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435571"
ACME_PHONE = "5f18d12f42262eec0d435583"


def stored(**query):
    return list(Interaction._get_collection().find(query))


def sentiments(rows):
    counts = Counter(row.get("sentiment") or "absent" for row in rows)
    return {key: counts.get(key, 0) for key in ("Positive", "Negative", "Neutral", "Mixed", "absent")}


def test_stats_across_everything_match_a_plain_count(staff_api, seeded):
    body = staff_api.get("/stats").json()
    rows = stored()
    assert body["total"] == len(rows) == 400
    assert body["sentiments"] == sentiments(rows)
    agents = Counter(row["agentName"] for row in rows)
    assert [(agent["agentName"], agent["total"]) for agent in body["topAgents"]][:3] == sorted(
        agents.items(), key=lambda item: (-item[1], item[0])
    )[:3]


def test_client_stats_count_its_engagements_only(staff_api, seeded):
    body = staff_api.get(f"/clients/{ACME}/stats", {"interval": "month"}).json()
    engagement_ids = list(Engagement.objects(clientId=ACME).scalar("id"))
    rows = stored(engagementId={"$in": engagement_ids})
    assert body["total"] == len(rows) == 160
    assert body["sentiments"] == sentiments(rows)
    months = Counter(row["interactionDate"].strftime("%Y-%m") for row in rows)
    series = {
        datetime.datetime.fromtimestamp(point["start"]["$date"] / 1000, datetime.UTC).strftime("%Y-%m"): point["total"]
        for point in body["series"]
    }
    assert {month: total for month, total in series.items() if total} == dict(months)


def test_engagement_stats_with_a_range_include_from_and_exclude_to(staff_api, seeded):
    url = f"/engagements/{ACME_PHONE}/stats"
    at = {"from": "2020-05-16T12:00:00Z", "to": "2020-05-16T12:00:00.001Z"}
    assert staff_api.get(url, at).json()["total"] == 1  # the seed README's example, exactly at `from`
    assert staff_api.get(url, {"to": "2020-05-16T12:00:00Z", "from": "2020-05-16T11:00:00Z"}).json()["total"] == 0
    start, end = datetime.datetime(2020, 4, 1, tzinfo=datetime.UTC), datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC)
    rows = stored(engagementId=Engagement.objects.get(pk=ACME_PHONE).pk, interactionDate={"$gte": start, "$lt": end})
    body = staff_api.get(url, {"from": "2020-04-01", "to": "2020-05-01", "interval": "week"}).json()
    assert body["total"] == len(rows)
    weeks = Counter(
        (row["interactionDate"] - datetime.timedelta(days=row["interactionDate"].weekday())).date() for row in rows
    )
    series = {
        datetime.datetime.fromtimestamp(point["start"]["$date"] / 1000, datetime.UTC).date(): point["total"]
        for point in body["series"]
    }
    assert {week: total for week, total in series.items() if total} == dict(weeks)
    assert all(week.weekday() == 0 for week in series)


def test_an_empty_range_is_all_zeros(staff_api, seeded):
    body = staff_api.get("/stats", {"from": "1999-01-01", "to": "1999-02-01"}).json()
    assert body["total"] == 0
    assert body["series"] == []
    assert body["topAgents"] == []
    assert set(body["sentiments"].values()) == {0}


def test_a_client_user_sees_only_its_own_stats(client_api_for, seeded):
    api = client_api_for(ACME)
    assert api.get(f"/clients/{ACME}/stats").json()["total"] == 160
    assert api.get(f"/clients/{NORTHWIND}/stats").status_code == 404
    assert api.get("/engagements/5f18d12f42262eec0d435584/stats").status_code == 404
    assert api.get("/stats").status_code == 403


def test_anonymous_stats_are_401(anonymous_api, seeded):
    assert anonymous_api.get("/stats").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"interval": "decade"}, "interval"),
        ({"interval": "day,week"}, "interval"),
        ({"from": "last week"}, "from"),
        ({"to": {"$gt": 1}}, "to"),
        ({"client": ACME}, "client"),
        ({"from": "2020-06-01", "to": "2020-05-01"}, "detail"),
    ],
)
def test_bad_parameters_are_400s(staff_api, seeded, params, field):
    response = staff_api.get("/stats", params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("path", ["/clients/nope/stats", "/engagements/000000000000000000000000/stats"])
def test_unknown_parents_are_404s(staff_api, seeded, path):
    assert staff_api.get(path).status_code == 404


def test_far_off_dates_choose_a_coarser_default_interval_not_a_400(staff_api, client_api_for, seeded):
    far = Interaction._get_collection().find_one()
    Interaction._get_collection().insert_one(
        {
            "engagementId": far["engagementId"],
            "interactionDate": datetime.datetime(9999, 12, 31, 12, tzinfo=datetime.UTC),
        }
    )
    rebuilding.rebuild()  # written around the product's write paths: count it
    response = staff_api.get("/stats")
    assert (response.status_code, response.json()["interval"]) == (200, "year")
    assert response.json()["series"][-1]["start"] == {"$date": 253370764800000}  # 9999-01-01
    month = staff_api.get("/stats", {"interval": "month"})
    assert month.status_code == 400
    assert "shorter range" in month.json()["detail"]
    assert staff_api.get("/stats", {"to": "2021-01-01"}).json()["total"] == 400
