"""The seed's contract: routes, the example response, Extended JSON, JSON errors."""

import json

import pytest

from sampledata.tests.test_seed import SEED_EXAMPLE

EXAMPLE_ID = "5f18d12f42262eec0d43567d"


def test_the_seed_readmes_example_interaction_comes_back_exactly(staff_api, seeded):
    response = staff_api.get(f"/interactions/{EXAMPLE_ID}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body == SEED_EXAMPLE
    assert list(body) == ["_id", "engagementId", "interactionDate", "agentName", "sentiment", "custom"]


def test_clients_and_engagements_follow_the_same_rules(staff_api, seeded):
    client = json.loads(staff_api.get("/clients/5f18d12f42262eec0d435570").content)
    assert client == {"_id": {"$oid": "5f18d12f42262eec0d435570"}, "name": "Acme Footwear Inc.", "nickName": "Acme"}
    engagement = json.loads(staff_api.get("/engagements/5f18d12f42262eec0d435583").content)
    assert engagement == {
        "_id": {"$oid": "5f18d12f42262eec0d435583"},
        "clientId": {"$oid": "5f18d12f42262eec0d435570"},
        "name": "Phone",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/clients",
        "/engagements",
        "/interactions",
        "/clients/5f18d12f42262eec0d435570",
        "/engagements/5f18d12f42262eec0d435583",
        f"/interactions/{EXAMPLE_ID}",
        "/clients/5f18d12f42262eec0d435570/engagements",
        "/clients/5f18d12f42262eec0d435570/interactions",
        "/engagements/5f18d12f42262eec0d435583/interactions",
        "/schema",
    ],
)
def test_every_route_answers_with_and_without_a_trailing_slash(staff_api, seeded, path):
    without, with_slash = staff_api.get(path), staff_api.get(path + "/")
    assert without.status_code == with_slash.status_code == 200
    assert without.content == with_slash.content or path == "/schema" or "next" in without.json()


def test_the_api_root_links_every_collection_and_the_admin(anonymous_api):
    response = anonymous_api.get("/")
    assert response.status_code == 200
    links = response.json()
    assert {"clients", "engagements", "interactions", "schema", "docs", "health", "admin"} <= set(links)
    assert links["interactions"] == "http://testserver/interactions"
    assert links["admin"] == "http://testserver/admin/"


@pytest.mark.parametrize(
    "path",
    [
        "/interactions/not-an-id",
        "/interactions/5f18d12f42262eec0d43567",
        "/interactions/zzzzd12f42262eec0d43567d",
        "/interactions/000000000000000000000000",
        "/clients/000000000000000000000000/interactions",
        "/clients/nope/engagements",
        "/engagements/000000000000000000000000/interactions",
        "/nothing-here",
    ],
)
def test_malformed_and_unknown_ids_are_json_404s(staff_api, seeded, path):
    response = staff_api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_custom_comes_back_equivalent(staff_api, seeded):
    custom = {
        "unicode": "naïve café ✓ 日本語 😀",
        "nested": {"list": [1, 2.5, -3, True, False, None, {"deep": ["x"]}], "empty": {}, "emptyList": []},
        "big": 2**53,
        "float": 0.1,
        "null": None,
        "bool": True,
    }
    body = {
        "engagementId": "5f18d12f42262eec0d435583",
        "interactionDate": "2021-01-02T03:04:05.678Z",
        "custom": custom,
    }
    created = staff_api.post("/interactions", body, format="json")
    assert created.status_code == 201, created.content
    fetched = json.loads(staff_api.get(created["Location"]).content)
    assert fetched["custom"] == custom
    assert json.dumps(fetched["custom"], ensure_ascii=False) == json.dumps(custom, ensure_ascii=False)
    assert fetched["interactionDate"] == {"$date": 1609556645678}
