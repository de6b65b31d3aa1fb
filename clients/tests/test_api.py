import json

from clients.documents import Client

ACME = "5f18d12f42262eec0d435570"


def names(response):
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_list_is_ordered_by_name_and_filterable(staff_api, seeded):
    assert names(staff_api.get("/clients")) == ["Acme Footwear Inc.", "Globex Airlines", "Northwind Telecom"]
    assert names(staff_api.get("/clients", {"ordering": "-name"}))[0] == "Northwind Telecom"
    assert names(staff_api.get("/clients", {"name": "Globex Airlines"})) == ["Globex Airlines"]
    assert names(staff_api.get("/clients", {"nickName": "Acme"})) == ["Acme Footwear Inc."]
    assert names(staff_api.get("/clients", {"search": "WIND"})) == ["Northwind Telecom"]
    assert names(staff_api.get("/clients", {"search": "glob", "nickName": "Acme"})) == []


def test_create_update_and_delete_a_client(staff_api):
    created = staff_api.post(
        "/clients", json.dumps({"name": "Initech", "nickName": "Ini"}), content_type="application/json"
    )
    assert created.status_code == 201
    url = created["Location"]
    assert (
        staff_api.patch(url, json.dumps({"nickName": None}), content_type="application/json").json()["nickName"] is None
    )
    assert Client.objects.get(name="Initech").nickName is None
    assert staff_api.delete(url).status_code == 204
    assert Client.objects.count() == 0


def test_name_is_required(staff_api):
    response = staff_api.post("/clients", json.dumps({"nickName": "Ini"}), content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert Client.objects.count() == 0


def test_deleting_a_client_with_engagements_is_a_409_with_the_count(staff_api, seeded):
    response = staff_api.delete(f"/clients/{ACME}")
    assert response.status_code == 409
    body = response.json()
    assert body["dependents"] == {"engagement": 4}
    assert "4 engagements" in body["detail"]
    assert Client.objects(pk=ACME).count() == 1


def test_related_lists(staff_api, seeded):
    engagements = staff_api.get(f"/clients/{ACME}/engagements").json()["results"]
    assert sorted(row["name"] for row in engagements) == ["Chat", "Facebook", "Phone", "Twitter"]
    assert len(staff_api.get(f"/clients/{ACME}/interactions", {"page_size": 1000}).json()["results"]) == 160
