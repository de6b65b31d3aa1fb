import json

import pytest

from interactions.documents import Interaction

ENGAGEMENT = "5f18d12f42262eec0d435583"


def valid(**changes):
    """A valid request body, with ``changes``; a key changed to ``...`` is left out.

    ``...`` (Ellipsis) marks "omit this key" because ``None`` is a value a body can send
    (``"sentiment": null``): ``valid(custom=...)`` has no ``custom`` at all.
    """
    body = {
        "engagementId": {"$oid": ENGAGEMENT},
        "interactionDate": {"$date": 1589630400000},
        "agentName": "Jane Doe",
        "sentiment": "Positive",
        "custom": {"csvName": "2020_16_05_report.csv"},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def post(api, body):
    return api.post("/interactions", json.dumps(body), content_type="application/json")


def test_create_accepts_extended_json_and_returns_the_stored_document(staff_api, seeded):
    before = Interaction.objects.count()
    response = post(staff_api, valid())
    assert response.status_code == 201
    body = json.loads(response.content)
    assert body["engagementId"] == {"$oid": ENGAGEMENT}
    assert body["interactionDate"] == {"$date": 1589630400000}
    assert response["Location"].endswith(f"/interactions/{body['_id']['$oid']}")
    assert Interaction.objects.count() == before + 1


def test_create_accepts_plain_ids_and_iso_dates(staff_api, seeded):
    response = post(staff_api, valid(engagementId=ENGAGEMENT, interactionDate="2020-05-16T08:00:00-04:00"))
    assert response.status_code == 201
    assert json.loads(response.content)["interactionDate"] == {"$date": 1589630400000}


def test_create_may_choose_the_id_once(staff_api, seeded):
    response = post(staff_api, valid(_id={"$oid": "6000000000000000000000aa"}))
    assert response.status_code == 201
    again = post(staff_api, valid(_id="6000000000000000000000aa"))
    assert again.status_code == 400
    assert "_id" in again.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (valid(colour="red"), "colour"),
        (valid(agentName=42), "agentName"),
        (valid(agentName={"$ne": None}), "agentName"),
        (valid(sentiment="Furious"), "sentiment"),
        (valid(interactionDate="yesterday"), "interactionDate"),
        (valid(interactionDate="2020-02-30"), "interactionDate"),
        (valid(interactionDate=...), "interactionDate"),
        (valid(engagementId=...), "engagementId"),
        (valid(engagementId="5f18d12f42262eec0d43558"), "engagementId"),
        (valid(engagementId={"$oid": "000000000000000000000000"}), "engagementId"),
        (valid(custom=[1, 2]), "custom"),
        (valid(custom="text"), "custom"),
    ],
)
def test_bad_fields_are_400s_naming_the_field_and_nothing_is_written(staff_api, seeded, body, field):
    before = Interaction.objects.count()
    response = post(staff_api, body)
    assert response.status_code == 400
    assert field in response.json()
    assert Interaction.objects.count() == before


@pytest.mark.parametrize(
    ("custom", "path"),
    [
        ({"$where": "sleep(1000)"}, "$where"),
        ({"a.b": 1}, "a.b"),
        ({"row": {"ok": 1, "bad\u0000key": 2}}, "row.bad\u0000key"),
        ({"rows": [{"fine": 1}, {"$gt": 1}]}, "rows[1].$gt"),
    ],
)
def test_custom_keys_mongodb_cannot_store_safely_are_400s_with_the_path(staff_api, seeded, custom, path):
    before = Interaction.objects.count()
    response = post(staff_api, valid(custom=custom))
    assert response.status_code == 400
    assert path in response.json()["custom"]
    assert Interaction.objects.count() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Invalid JSON at line 1"),
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"_id": {"$oid": "zz"}}', "Not a valid id"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": Infinity}', "Infinity is not valid JSON"),
        ("[1, 2]", "non_field_errors"),
    ],
)
def test_malformed_bodies_are_400s(staff_api, content, message):
    response = staff_api.post("/interactions", content, content_type="application/json")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_put_replaces_and_patch_updates(staff_api, seeded):
    url = "/interactions/5f18d12f42262eec0d43567d"
    replaced = staff_api.put(url, json.dumps(valid(sentiment=None, custom=...)), content_type="application/json")
    assert replaced.status_code == 200, replaced.content
    raw = Interaction._get_collection().find_one({"agentName": "Jane Doe"})
    assert "sentiment" not in raw
    assert raw.get("custom", {}) == {}
    patched = staff_api.patch(url, json.dumps({"sentiment": "Mixed"}), content_type="application/json")
    assert patched.status_code == 200
    body = json.loads(patched.content)
    assert (body["agentName"], body["sentiment"]) == ("Jane Doe", "Mixed")
    assert list(body) == ["_id", "engagementId", "interactionDate", "agentName", "sentiment", "custom"]


def test_put_needs_every_required_field_and_cannot_change_the_id(staff_api, seeded):
    url = "/interactions/5f18d12f42262eec0d43567d"
    missing = staff_api.put(url, json.dumps({"agentName": "X"}), content_type="application/json")
    assert missing.status_code == 400
    assert {"engagementId", "interactionDate"} <= set(missing.json())
    moved = staff_api.patch(url, json.dumps({"_id": "6000000000000000000000aa"}), content_type="application/json")
    assert moved.status_code == 400
    assert "_id" in moved.json()
    assert Interaction.objects.get(pk="5f18d12f42262eec0d43567d").agentName == "John Ford"


def test_delete_removes_an_interaction(staff_api, seeded):
    assert staff_api.delete("/interactions/5f18d12f42262eec0d43567d").status_code == 204
    assert staff_api.get("/interactions/5f18d12f42262eec0d43567d").status_code == 404
    assert staff_api.delete("/interactions/5f18d12f42262eec0d43567d").status_code == 404


def test_bodies_over_the_limit_get_413(staff_api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = post(staff_api, valid(custom={"text": "x" * 2000}))
    assert response.status_code == 413
    assert response.json()["limit"] == 1000


def test_concurrent_patches_of_different_fields_both_land(staff_api, seeded):
    """PATCH writes only the fields it was given."""
    url = "/interactions/5f18d12f42262eec0d43567d"
    Interaction.objects(pk="5f18d12f42262eec0d43567d").update_one(set__agentName="Changed Meanwhile")
    patched = staff_api.patch(url, json.dumps({"sentiment": "Mixed"}), content_type="application/json")
    assert patched.status_code == 200
    body = json.loads(patched.content)
    assert (body["agentName"], body["sentiment"]) == ("Changed Meanwhile", "Mixed")
    assert patched["ETag"] == staff_api.get(url)["ETag"]


@pytest.mark.parametrize(
    ("custom", "path", "reason"),
    [
        ({"big": 2**70}, "big", "64 bits"),
        ({"deep": json.loads("[" * 150 + "]" * 150)}, "deep" + "[0]" * 100, "nested more than 100"),
        ({"regex": {"$regex": "x", "$options": ""}}, "regex.$regex", "'$'"),
        ({"number": {"$numberDouble": "NaN"}}, "number.$numberDouble", "'$'"),
    ],
)
def test_custom_values_mongodb_cannot_store_are_400s(staff_api, seeded, custom, path, reason):
    response = post(staff_api, valid(custom=custom))
    assert response.status_code == 400
    assert reason in response.json()["custom"][path][0]


def test_lone_surrogates_are_400s_not_500s(staff_api, seeded):
    custom = '{"a": "\\ud800", "\\udfff": 1}'  # JSON escapes for lone surrogates
    body = f'{{"engagementId": "{ENGAGEMENT}", "interactionDate": "2020-01-01", "custom": {custom}}}'
    response = staff_api.post("/interactions", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["custom"]) == {"a", "\\udfff"}


@pytest.mark.parametrize(
    "date",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", {"$date": 2**70}, {"$date": {"$numberLong": "x"}}],
)
def test_dates_outside_what_can_be_stored_are_400s(staff_api, seeded, date):
    response = post(staff_api, valid(interactionDate=date))
    assert response.status_code == 400
    assert "interactionDate" in response.json()


def test_canonical_extended_json_dates_are_accepted(staff_api, seeded):
    response = post(staff_api, valid(interactionDate={"$date": {"$numberLong": "1589630400000"}}))
    assert response.status_code == 201
    assert json.loads(response.content)["interactionDate"] == {"$date": 1589630400000}
