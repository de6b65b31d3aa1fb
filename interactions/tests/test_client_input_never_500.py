"""Anything a client sends is answered with a 4xx naming the problem, never a 500.

Each test stands for a class of input: methods the routes do not design for (OPTIONS),
values at the server's limits (regex length, the calendar's first and last days),
text Python cannot encode, requests Django refuses before any view (a wrong Host, too
many parameters). API errors have one shape: ``{"detail": "..."}``, or a dict of fields.
"""

import datetime

import pytest
from django.test import Client as DjangoClient

from interactions.documents import Interaction
from sampledata.factories import make_engagement, make_interaction

UTC = datetime.UTC
FIRST = datetime.datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


@pytest.fixture
def data():
    engagement = make_engagement()
    return {"client": engagement.clientId, "engagement": engagement, "interaction": make_interaction(engagement)}


@pytest.mark.parametrize("kind", ["client", "engagement", "interaction"])
def test_options_on_detail_and_list_routes_describe_them(staff_api, data, kind):
    detail = staff_api.options(f"/{kind}s/{data[kind].pk}")
    assert detail.status_code == 200, detail.content
    assert "PUT" in detail.json()["actions"]
    listing = staff_api.options(f"/{kind}s")
    assert listing.status_code == 200
    assert "POST" in listing.json()["actions"]
    assert staff_api.options(f"/{kind}s/{'0' * 24}").status_code == 200


def test_options_as_a_client_user_shows_no_write_actions(client_api_for, data):
    response = client_api_for(data["client"].pk).options(f"/interactions/{data['interaction'].pk}")
    assert response.status_code == 200
    assert "actions" not in response.json()


@pytest.mark.parametrize("length", [201, 1001, 5000])
def test_a_search_longer_than_any_agent_name_is_a_400(client_api_for, staff_api, data, length):
    for api in (staff_api, client_api_for(data["client"].pk)):
        response = api.get("/interactions", {"search": "a" * length})
        assert response.status_code == 400
        assert "at most 200 characters" in response.json()["search"][0]
    assert staff_api.get("/interactions", {"search": "(" * 200}).status_code == 200


@pytest.mark.parametrize("when", [FIRST, LAST])
def test_edge_dates_are_stored_filtered_and_counted(staff_api, data, when):
    engagement = data["engagement"]
    created = staff_api.post(
        "/interactions",
        {"engagementId": str(engagement.pk), "interactionDate": when.isoformat(), "agentName": "Edge"},
        format="json",
    )
    assert created.status_code == 201, created.content
    for query in ({"from": "0001-01-01"}, {"to": "9999-12-31T23:59:59.999Z"}, {"from": "9999-12-31"}):
        assert staff_api.get("/interactions", query).status_code == 200
    for url in (f"/engagements/{engagement.pk}/stats", f"/clients/{data['client'].pk}/stats", "/stats"):
        response = staff_api.get(url)
        assert response.status_code == 200, response.content
        assert response.json()["total"] == 2
        assert staff_api.get(url, {"interval": "month"}).status_code in (200, 400)
        assert staff_api.get(url, {"interval": "week", "from": "9999-12-01"}).status_code == 200
    bounded = staff_api.get(f"/engagements/{engagement.pk}/stats", {"from": "9999-01-01", "interval": "month"})
    assert bounded.status_code == 200


def test_the_default_stats_view_fits_any_span_the_api_accepts(staff_api, data):
    make_interaction(data["engagement"], when=FIRST)
    make_interaction(data["engagement"], when=LAST)
    response = staff_api.get(f"/engagements/{data['engagement'].pk}/stats")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["interval"] == "year"
    assert sum(point["total"] for point in body["series"]) == 3
    # Asked for explicitly, an interval too fine for the span is the client's to narrow.
    day = staff_api.get(f"/engagements/{data['engagement'].pk}/stats", {"interval": "day"})
    assert day.status_code == 400
    assert isinstance(day.json()["detail"], str)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "date_from=9999-12-31",
        "date_to=9999-12-31",
        "date_from=0001-01-01&date_to=0001-01-01",
        "date_from=9999-12-31&date_to=0001-01-01",
    ],
)
def test_admin_date_filters_at_the_edges_of_the_calendar(admin_client, data, query):
    response = admin_client.get(f"/admin/interactions/interaction/?{query}")
    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_custom_editor_refuses_text_python_cannot_encode(admin_client, data):
    interaction = data["interaction"]
    form = {
        "engagementId": str(interaction.engagementId.pk),
        "interactionDate_0": "2020-05-16",
        "interactionDate_1": "12:00:00",
        "agentName": "John Ford",
        "sentiment": "Negative",
        "custom": '{"text": "\\ud800", "\\udfff": 1}',
    }
    response = admin_client.post(f"/admin/interactions/interaction/{interaction.pk}/change/", form)
    assert response.status_code == 200
    assert "text must be valid Unicode" in str(response.context["adminform"].form.errors["custom"])
    assert Interaction.objects.get(pk=interaction.pk).custom == {"csvName": "2020_16_05_report.csv"}


@pytest.mark.django_db
def test_a_wrong_host_is_a_json_400_on_the_api_and_html_in_the_admin():
    api = DjangoClient(HTTP_HOST="evil.example")
    response = api.get("/interactions")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request: the Host header is not one this server answers to."}
    assert api.get("/admin/login/").status_code == 400


@pytest.mark.django_db
def test_too_many_query_parameters_is_a_json_400(staff_api):
    query = "&".join(f"p{i}=1" for i in range(1200))
    response = staff_api.get(f"/interactions?{query}")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_error_bodies_have_one_shape(staff_api, anonymous_api, data):
    bodies = [
        anonymous_api.get("/interactions").json(),  # 401
        staff_api.get(f"/interactions/{'0' * 24}").json(),  # 404
        staff_api.post("/interactions", "{", content_type="application/json").json(),  # 400 parse
        staff_api.get("/stats", {"from": "2021-01-01", "to": "2020-01-01"}).json(),  # 400 range
        staff_api.post(
            f"/engagements/{data['engagement'].pk}/imports?name=a.csv&tz=Mars/Base", b"a\n", content_type="text/csv"
        ).json(),
        staff_api.delete(f"/engagements/{data['engagement'].pk}").json(),  # 409
    ]
    for body in bodies:
        assert isinstance(body["detail"], str), body
    field_errors = staff_api.get("/interactions", {"sentiment": "Furious"}).json()
    assert field_errors == {
        "sentiment": ["Give one or more of Positive, Negative, Neutral, Mixed, separated by commas."]
    }


def test_duplicate_ids_are_named_with_the_right_article(staff_api, data):
    body = {
        "_id": str(data["interaction"].pk),
        "engagementId": str(data["engagement"].pk),
        "interactionDate": "2020-05-16",
    }
    response = staff_api.post("/interactions", body, format="json")
    assert response.json() == {"_id": ["An interaction with this id already exists."]}
    again = staff_api.post("/engagements", {"_id": str(data["engagement"].pk), "clientId": str(data["client"].pk),
                                            "name": "x"}, format="json")  # fmt: skip
    assert again.json() == {"_id": ["An engagement with this id already exists."]}


def test_a_chunked_body_the_server_did_not_dechunk_is_a_411(staff_api):
    response = staff_api.generic(
        "POST", "/clients", b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH=""
    )
    assert response.status_code == 411
    assert response.json() == {"detail": "Send a Content-Length header (chunked bodies are not read here)."}
