"""The picker's API: labels by words, a page at a time, with the API's access rules."""

import pytest

from sampledata.factories import make_engagement

pytestmark = pytest.mark.django_db


def texts(response):
    assert response.status_code == 200, response.content
    return [choice["text"] for choice in response.json()["results"]]


def test_engagements_are_picked_by_part_of_their_clients_name(staff_api, two_clients):
    response = staff_api.get("/engagements/choices?term=acm")
    assert texts(response) == ["Chat · Acme Footwear Inc.", "Phone · Acme Footwear Inc."]
    assert response.json()["results"][0]["id"] == str(two_clients["chat"].pk)
    assert response.json()["pagination"] == {"more": False}
    assert texts(staff_api.get("/engagements/choices?term=PHONE")) == ["Phone · Acme Footwear Inc."]
    assert texts(staff_api.get("/engagements/choices?term=sms zen")) == ["SMS · Zenith Bank"]
    assert texts(staff_api.get("/engagements/choices?term=zen phone")) == []
    assert len(texts(staff_api.get("/engagements/choices"))) == 3


def test_pages_of_twenty(staff_api, two_clients):
    for number in range(25):
        make_engagement(two_clients["zenith"], f"Email {number:02}")
    first = staff_api.get("/engagements/choices?term=email").json()
    assert len(first["results"]) == 20
    assert first["pagination"]["more"] is True
    second = staff_api.get("/engagements/choices?term=email&page=2").json()
    assert [c["text"] for c in second["results"]] == [f"Email {n} · Zenith Bank" for n in range(20, 25)]
    assert second["pagination"]["more"] is False


def test_a_client_users_token_lists_only_its_clients_engagements(client_api_for, two_clients):
    acme_user = client_api_for(two_clients["acme"].pk)
    assert texts(acme_user.get("/engagements/choices")) == ["Chat · Acme Footwear Inc.", "Phone · Acme Footwear Inc."]
    assert texts(acme_user.get("/engagements/choices?term=zenith")) == []
    assert texts(acme_user.get("/engagements/choices?term=sms")) == []
    assert texts(acme_user.get("/clients/choices")) == ["Acme Footwear Inc. (Acme)"]


def test_clients_are_picked_by_name_or_nickname(staff_api, two_clients):
    assert texts(staff_api.get("/clients/choices?term=zen")) == ["Zenith Bank (Zen)"]
    assert texts(staff_api.get("/clients/choices?term=inc")) == ["Acme Footwear Inc. (Acme)"]


def test_anonymous_requests_are_refused(anonymous_api, two_clients):
    assert anonymous_api.get("/engagements/choices").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("term[$ne]=a", "term[$ne]"),
        ("color=red", "color"),
        ("term=" + "x" * 201, "term"),
    ],
)
def test_bad_parameters_name_the_parameter(staff_api, two_clients, query, field):
    response = staff_api.get(f"/engagements/choices?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_django_admins_extra_parameters_are_accepted(staff_api, two_clients):
    query = "term=chat&page=1&app_label=interactions&model_name=interaction&field_name=engagementId"
    assert texts(staff_api.get(f"/engagements/choices?{query}")) == ["Chat · Acme Footwear Inc."]
