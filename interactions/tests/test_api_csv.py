"""Lists as CSV: `?format=csv` or `Accept: text/csv`, same filters and access rules, every
row (no pages), streamed; the JSON lists unchanged."""

import csv
import datetime
import io
import json

import pytest

from sampledata.factories import make_interaction

pytestmark = pytest.mark.django_db

START = datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC)


def rows_of(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def data(two_clients):
    phone, sms = two_clients["phone"], two_clients["sms"]
    made = [
        make_interaction(phone, START + datetime.timedelta(minutes=n), f"Agent {n}", custom={"n": n, "a,b": 'x"y'})
        for n in range(70)
    ]
    make_interaction(sms, START, "Zed", sentiment=None, custom={})
    return {**two_clients, "made": made}


def test_every_row_every_field_no_pages(staff_api, data):
    rows = rows_of(staff_api.get("/interactions?format=csv&engagement=" + str(data["phone"].pk)))
    assert rows[0] == ["_id", "engagementId", "interactionDate", "agentName", "sentiment", "custom"]
    assert len(rows) == 71  # more than a page of 50
    newest = data["made"][-1]
    assert rows[1] == [
        str(newest.pk),
        str(data["phone"].pk),
        "2020-05-16T13:09:00.000Z",
        "Agent 69",
        "Negative",
        '{"n":69,"a,b":"x\\"y"}',
    ]
    assert json.loads(rows[1][5]) == {"n": 69, "a,b": 'x"y'}


def test_accept_header_and_the_same_rows_as_the_json_list(staff_api, data):
    query = "sentiment=Negative&ordering=agentName&from=2020-05-16T12:30:00Z"
    rows = rows_of(staff_api.get(f"/interactions?{query}", HTTP_ACCEPT="text/csv"))
    listed = staff_api.get(f"/interactions?{query}&page_size=1000").json()["results"]
    assert [row[0] for row in rows[1:]] == [item["_id"]["$oid"] for item in listed]
    assert len(listed) == 40


def test_access_rules_are_the_lists(client_api_for, data):
    zenith_user = client_api_for(data["zenith"].pk)
    rows = rows_of(zenith_user.get("/interactions?format=csv"))
    assert [row[3] for row in rows[1:]] == ["Zed"]
    assert rows[1][4:] == ["", "{}"]
    assert rows_of(zenith_user.get("/clients?format=csv")) == [
        ["_id", "name", "nickName"],
        [str(data["zenith"].pk), "Zenith Bank", "Zen"],
    ]


def test_fields_select_the_columns(staff_api, data):
    rows = rows_of(staff_api.get("/engagements?format=csv&fields=name"))
    assert rows[0] == ["_id", "name"]
    assert sorted(row[1] for row in rows[1:]) == ["Chat", "Phone", "SMS"]


@pytest.mark.parametrize(
    ("query", "field"), [("expand=engagement", "expand"), ("sentiment=Furious", "sentiment"), ("bad=1", "bad")]
)
def test_bad_parameters_are_json_400s(staff_api, data, query, field):
    response = staff_api.get(f"/interactions?format=csv&{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_a_document_is_not_csv(staff_api, data):
    response = staff_api.get(f"/interactions/{data['made'][0].pk}", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"


def test_anonymous_csv_is_refused(anonymous_api, data):
    assert anonymous_api.get("/interactions?format=csv").status_code == 401


@pytest.mark.parametrize(
    ("admin_query", "api_query"),
    [
        ("", ""),
        ("engagement={phone}&sentiment=Negative", "engagement={phone}&sentiment=Negative"),
        ("client={zenith}", "client={zenith}"),
        ("q=6", "search=6"),
    ],
)
def test_the_admins_export_equals_the_apis_csv_for_the_same_filter(
    admin_client, staff_api, data, admin_query, api_query
):
    ids = {name: document.pk for name, document in data.items() if name != "made"}
    page = admin_client.get(f"/admin/interactions/interaction/?{admin_query.format(**ids)}").content.decode()
    assert f'href="export.csv?{admin_query.format(**ids)}'.replace(" ", "+").rstrip("?") in page.replace("&amp;", "&")
    exported = admin_client.get(f"/admin/interactions/interaction/export.csv?{admin_query.format(**ids)}")
    assert exported["Content-Disposition"] == 'attachment; filename="interactions.csv"'
    rows = rows_of(exported)
    assert len(rows) > 1
    assert rows == rows_of(staff_api.get(f"/interactions?format=csv&{api_query.format(**ids)}"))


def test_the_admins_export_refuses_a_bad_filter(admin_client, data):
    response = admin_client.get("/admin/interactions/interaction/export.csv?colour=red")
    assert response.status_code == 400
    assert "colour" in response.content.decode()


def test_the_admins_export_needs_a_staff_login(client, data):
    response = client.get("/admin/interactions/interaction/export.csv")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
