import json

from engagements.documents import Engagement

ACME = "5f18d12f42262eec0d435570"
ACME_PHONE = "5f18d12f42262eec0d435583"


def test_filter_by_client_and_name(staff_api, seeded):
    acme = staff_api.get("/engagements", {"client": ACME}).json()["results"]
    assert {row["clientId"]["$oid"] for row in acme} == {ACME}
    assert len(acme) == 4
    chats = staff_api.get("/engagements", {"name": "Chat"}).json()["results"]
    assert len(chats) == 3
    assert {row["name"] for row in chats} == {"Chat"}


def test_expand_client(staff_api, seeded):
    row = staff_api.get(f"/engagements/{ACME_PHONE}", {"expand": "client"}).json()
    assert row["client"] == {"_id": {"$oid": ACME}, "name": "Acme Footwear Inc.", "nickName": "Acme"}


def test_create_needs_an_existing_client(staff_api, seeded):
    body = {"clientId": "000000000000000000000000", "name": "SMS"}
    response = staff_api.post("/engagements", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["clientId"][0]
    body["clientId"] = {"$oid": ACME}
    assert staff_api.post("/engagements", json.dumps(body), content_type="application/json").status_code == 201


def test_deleting_an_engagement_with_interactions_is_a_409_with_the_count(staff_api, seeded):
    response = staff_api.delete(f"/engagements/{ACME_PHONE}")
    assert response.status_code == 409
    assert response.json()["dependents"] == {"interaction": 40}
    assert Engagement.objects(pk=ACME_PHONE).count() == 1
