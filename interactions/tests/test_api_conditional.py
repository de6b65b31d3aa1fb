"""ETags, If-None-Match and If-Match: caching and no lost updates."""

import json

import pytest
from bson import ObjectId

from interactions.documents import Interaction
from interactions.views import InteractionViewSet

URL = "/interactions/5f18d12f42262eec0d43567d"


def test_detail_has_an_etag_and_if_none_match_gives_304(staff_api, seeded):
    first = staff_api.get(URL)
    etag = first["ETag"]
    assert etag.startswith('"')
    again = staff_api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


def test_lists_have_etags_too(staff_api, seeded):
    first = staff_api.get("/interactions")
    assert first["ETag"]
    assert staff_api.get("/interactions", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_etag_changes_with_the_document(staff_api, seeded):
    etag = staff_api.get(URL)["ETag"]
    Interaction.objects(pk="5f18d12f42262eec0d43567d").update_one(set__sentiment="Mixed")
    changed = staff_api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


@pytest.mark.parametrize(("method", "body"), [("put", None), ("patch", {"sentiment": "Positive"}), ("delete", None)])
def test_if_match_with_a_stale_etag_is_412_and_changes_nothing(staff_api, seeded, method, body):
    stale = staff_api.get(URL)
    if body is None and method == "put":
        body = {key: value for key, value in json.loads(stale.content).items() if key != "_id"}
    Interaction.objects(pk="5f18d12f42262eec0d43567d").update_one(set__agentName="Someone Else")
    response = getattr(staff_api, method)(
        URL, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=stale["ETag"]
    )
    assert response.status_code == 412
    assert "detail" in response.json()
    assert Interaction.objects.get(pk="5f18d12f42262eec0d43567d").agentName == "Someone Else"


def test_if_match_with_the_current_etag_writes_and_returns_the_new_one(staff_api, seeded):
    current = staff_api.get(URL)["ETag"]
    response = staff_api.patch(
        URL, json.dumps({"sentiment": "Positive"}), content_type="application/json", HTTP_IF_MATCH=current
    )
    assert response.status_code == 200
    assert response["ETag"] != current
    assert response["ETag"] == staff_api.get(URL)["ETag"]
    replay = staff_api.patch(
        URL, json.dumps({"sentiment": "Mixed"}), content_type="application/json", HTTP_IF_MATCH=current
    )
    assert replay.status_code == 412


def test_if_match_guards_the_write_itself(staff_api, seeded):
    """A change landing between the check and the write is caught by the conditional write."""
    raw = Interaction._get_collection().find_one({"_id": ObjectId("5f18d12f42262eec0d43567d")})
    view = InteractionViewSet()
    guard = view.unchanged(raw)
    assert Interaction._get_collection().count_documents(guard) == 1
    Interaction.objects(pk=raw["_id"]).update_one(set__custom__csvName="other.csv")
    assert Interaction._get_collection().count_documents(guard) == 0
    Interaction.objects(pk=raw["_id"]).update_one(set__custom__csvName=raw["custom"]["csvName"])
    Interaction._get_collection().update_one({"_id": raw["_id"]}, {"$unset": {"sentiment": ""}})
    assert Interaction._get_collection().count_documents(view.unchanged(raw)) == 0


def test_if_match_star_matches_any_version(staff_api, seeded):
    response = staff_api.patch(URL, json.dumps({"agentName": "X"}), content_type="application/json", HTTP_IF_MATCH="*")
    assert response.status_code == 200


def test_an_expanded_document_changes_its_etag_when_what_it_embeds_changes(staff_api, seeded):
    from engagements.documents import Engagement

    url = URL + "?expand=engagement"
    etag = staff_api.get(url)["ETag"]
    assert staff_api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    Engagement.objects(pk="5f18d12f42262eec0d435583").update_one(set__name="Phone support")
    changed = staff_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["engagement"]["name"] == "Phone support"


@pytest.mark.parametrize(
    ("url", "change"),
    [
        (URL, {"sentiment": "Positive", "agentName": "Jo Ward", "interactionDate": "2020-05-17T08:30:00Z"}),
        (URL, {"sentiment": None}),
        ("/engagements/5f18d12f42262eec0d435583", {"name": "Renamed"}),
        ("/clients/5f18d12f42262eec0d435570", {"nickName": "Acme 2"}),
    ],
)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_retried_write_whose_first_answer_was_lost_is_200_not_412(staff_api, seeded, url, change, method):
    """RFC 9110 13.1.1: the stored version already holds the change, so the retry succeeded."""
    first = staff_api.get(url)
    body = change
    if method == "put":
        body = {**{key: value for key, value in first.json().items() if key != "_id"}, **change}
        body = {key: value for key, value in body.items() if value is not None}
    send = getattr(staff_api, method)
    applied = send(url, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=first["ETag"])
    assert applied.status_code == 200, applied.content
    retried = send(url, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=first["ETag"])
    assert retried.status_code == 200, retried.content
    assert retried["ETag"] == applied["ETag"] == staff_api.get(url)["ETag"]
    assert retried.json() == applied.json()
    other = {**body, **{key: "Someone Else" for key in ("agentName", "name", "nickName") if key in body}}
    if other == body:
        other = {**body, "agentName": "Someone Else"}
    stale = send(url, json.dumps(other), content_type="application/json", HTTP_IF_MATCH=first["ETag"])
    assert stale.status_code == 412  # a change the stored version does not hold
