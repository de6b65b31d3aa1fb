"""Who may read and write what."""

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.models import ClientMembership

pytestmark = pytest.mark.postgres

ACME, NORTHWIND = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435571"
ACME_PHONE, NORTHWIND_SMS = "5f18d12f42262eec0d435583", "5f18d12f42262eec0d435584"
ACME_INTERACTION = "5f18d12f42262eec0d43567d"


@pytest.mark.parametrize("path", ["/clients", "/engagements", "/interactions", f"/interactions/{ACME_INTERACTION}"])
def test_anonymous_requests_get_401(anonymous_api, seeded, path):
    response = anonymous_api.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_a_bad_token_gets_401(anonymous_api):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token nope")
    assert anonymous_api.get("/clients").status_code == 401


def test_session_login_works_for_the_browsable_api(seeded, db, django_user_model):
    django_user_model.objects.create_user("alice", password="correct horse battery", is_staff=True)
    browser = APIClient()
    login = browser.post("/api-auth/login/", {"username": "alice", "password": "correct horse battery", "next": "/"})
    assert login.status_code == 302
    response = browser.get("/clients", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Acme Footwear Inc." in response.content


def test_a_client_user_reads_only_its_client(client_api_for, seeded):
    api = client_api_for(ACME)
    assert [row["_id"]["$oid"] for row in api.get("/clients").json()["results"]] == [ACME]
    engagements = api.get("/engagements").json()["results"]
    assert {row["clientId"]["$oid"] for row in engagements} == {ACME}
    interactions = api.get("/interactions", {"page_size": 1000}).json()["results"]
    assert len(interactions) == 160
    assert api.get(f"/interactions/{ACME_INTERACTION}").status_code == 200
    assert api.get(f"/clients/{ACME}/interactions").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/clients/{NORTHWIND}",
        f"/engagements/{NORTHWIND_SMS}",
        f"/clients/{NORTHWIND}/engagements",
        f"/clients/{NORTHWIND}/interactions",
        f"/engagements/{NORTHWIND_SMS}/interactions",
    ],
)
def test_a_client_user_gets_404_for_other_clients_data(client_api_for, seeded, path):
    assert client_api_for(ACME).get(path).status_code == 404


def test_a_client_user_cannot_see_other_clients_interactions_by_filter(client_api_for, seeded):
    api = client_api_for(ACME)
    assert api.get("/interactions", {"client": NORTHWIND}).json()["results"] == []
    assert api.get("/interactions", {"engagement": NORTHWIND_SMS}).json()["results"] == []
    northwind_interaction = api.get("/interactions", {"page_size": 1}).json()["results"][0]["_id"]["$oid"]
    assert client_api_for(NORTHWIND).get(f"/interactions/{northwind_interaction}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/clients", {"name": "Initech"}),
        ("post", "/interactions", {"engagementId": ACME_PHONE, "interactionDate": "2021-01-01"}),
        ("patch", f"/interactions/{ACME_INTERACTION}", {"sentiment": "Positive"}),
        ("put", f"/clients/{ACME}", {"name": "Acme"}),
        ("delete", f"/interactions/{ACME_INTERACTION}", None),
    ],
)
def test_writes_are_staff_only(client_api_for, seeded, method, path, body):
    api = client_api_for(ACME)
    response = getattr(api, method)(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    assert api.get(f"/interactions/{ACME_INTERACTION}").json()["sentiment"] == "Negative"


def test_a_user_without_a_client_sees_nothing(seeded, db, django_user_model):
    api = APIClient()
    api.force_authenticate(django_user_model.objects.create_user("nobody"))
    assert api.get("/clients").json()["results"] == []
    assert api.get("/interactions").json()["results"] == []
    assert api.get(f"/interactions/{ACME_INTERACTION}").status_code == 404


def test_create_client_user_issues_a_working_token(seeded, db, capsys):
    call_command("create_client_user", "acme-reports", "--client", ACME)
    output = capsys.readouterr().out
    token = Token.objects.get(user__username="acme-reports").key
    assert f"API token: {token}" in output
    assert ClientMembership.objects.get(user__username="acme-reports").client_id == ACME
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [row["_id"]["$oid"] for row in api.get("/clients").json()["results"]] == [ACME]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--client", "000000000000000000000000"], "No client with id"),
        (["x", "--client", "nope"], "No client with id"),
    ],
)
def test_create_client_user_refuses_unknown_clients(seeded, db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_client_user", *args)


def test_create_client_user_refuses_an_existing_username(seeded, db, django_user_model):
    django_user_model.objects.create_user("taken")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_client_user", "taken", "--client", ACME)


def test_changing_a_client_users_membership_takes_effect_at_once(client_api_for, seeded):
    api = client_api_for(ACME)
    assert api.get(f"/clients/{ACME}").status_code == 200  # the token's user is now cached
    membership = ClientMembership.objects.get(user=api.user)
    membership.client_id = NORTHWIND
    membership.save()
    assert api.get(f"/clients/{ACME}").status_code == 404
    assert api.get(f"/clients/{NORTHWIND}").status_code == 200
    membership.delete()
    assert api.get(f"/clients/{NORTHWIND}").status_code == 404


def test_a_deleted_token_stops_working_at_once(client_api_for, seeded):
    api = client_api_for(ACME)
    assert api.get("/clients").status_code == 200
    Token.objects.filter(user=api.user).delete()
    assert api.get("/clients").status_code == 401
