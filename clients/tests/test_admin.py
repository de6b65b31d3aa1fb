"""Clients in the admin: columns, search, links to their engagements and interactions, deletion."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from clients.documents import Client
from sampledata.factories import make_client, make_engagement, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    client = make_client("Acme Footwear Inc.", "Acme")
    make_interaction(make_engagement(client, "Phone"))
    make_engagement(client, "Chat")
    return client


def test_list_shows_name_nickname_and_engagement_count(admin_client, acme):
    make_client("Zenith Bank", "Zen")
    response = admin_client.get("/admin/clients/client/")
    page = response.content.decode()
    assert [str(c) for c in response.context["cl"].result_list] == ["Acme Footwear Inc. (Acme)", "Zenith Bank (Zen)"]
    assert '<td class="field-nickName">Acme</td>' in page
    assert f'<a href="/admin/engagements/engagement/?client={acme.pk}">2 engagements</a>' in page
    assert "0 engagements" in page


@pytest.mark.parametrize("term", ["acme", "FOOTWEAR", "Zen"])
def test_search_by_name_or_nickname(admin_client, acme, term):
    make_client("Zenith Bank", "Zen")
    make_client("Other", "Different")
    found = [str(c) for c in admin_client.get(f"/admin/clients/client/?q={term}").context["cl"].result_list]
    assert found == (["Zenith Bank (Zen)"] if term == "Zen" else ["Acme Footwear Inc. (Acme)"])


def test_one_click_to_the_clients_engagements_and_interactions(admin_client, two_clients):
    acme = two_clients["acme"]
    make_interaction(two_clients["phone"])
    make_interaction(two_clients["sms"], agentName="Other Agent")
    page = admin_client.get("/admin/clients/client/").content.decode()
    engagements_url = f"/admin/engagements/engagement/?client={acme.pk}"
    interactions_url = f"/admin/interactions/interaction/?client={acme.pk}"
    assert f'href="{engagements_url}"' in page
    assert f'href="{interactions_url}"' in page

    engagements = admin_client.get(engagements_url).context["cl"].result_list
    assert sorted(str(e) for e in engagements) == ["Chat · Acme Footwear Inc.", "Phone · Acme Footwear Inc."]
    interactions = admin_client.get(interactions_url).context["cl"].result_list
    assert [i.agentName for i in interactions] == ["John Ford"]


def test_change_page_links_to_engagements_and_interactions(admin_client, acme):
    page = admin_client.get(f"/admin/clients/client/{acme.pk}/change/").content.decode()
    assert f'<a href="/admin/engagements/engagement/?client={acme.pk}">Engagements (2)</a>' in page
    assert f'<a href="/admin/interactions/interaction/?client={acme.pk}">Interactions</a>' in page


def test_deleting_a_client_with_engagements_is_refused_with_the_count(admin_client, acme):
    url = f"/admin/clients/client/{acme.pk}/delete/"
    message = (
        f'Client <a href="/admin/clients/client/{acme.pk}/change/">Acme Footwear Inc. (Acme)</a> is still referenced'
        f' by <a href="/admin/engagements/engagement/?client={acme.pk}">2 engagements</a>; delete or move them first.'
    )
    assert message in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Client.objects(pk=acme.pk).count() == 1
    assert not LogEntry.objects.exists()


def test_bulk_deleting_clients_with_engagements_is_refused(admin_client, acme):
    empty = make_client("Empty Co", "Empty")
    data = {"action": "delete_selected", "_selected_action": [str(acme.pk), str(empty.pk)], "post": "yes"}
    response = admin_client.post("/admin/clients/client/", data)
    assert f'?client={acme.pk}">2 engagements</a>; delete or move them first.' in response.content.decode()
    assert Client.objects.count() == 2


def test_a_client_without_engagements_is_deleted_and_logged(admin_client):
    empty = make_client("Empty Co", "Empty")
    response = admin_client.post(f"/admin/clients/client/{empty.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Client.objects.count() == 0
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.action_flag, entry.object_repr) == (str(empty.pk), DELETION, str(empty))


def test_add_and_edit_a_client(admin_client):
    response = admin_client.post("/admin/clients/client/add/", {"name": "New Co", "nickName": ""})
    assert response.status_code == 302
    client = Client.objects.get(name="New Co")
    response = admin_client.post(f"/admin/clients/client/{client.pk}/change/", {"name": "New Co", "nickName": "New"})
    assert response.status_code == 302
    assert Client.objects.get(pk=client.pk).nickName == "New"
    assert admin_client.post("/admin/clients/client/add/", {"name": ""}).context["errors"]


@pytest.mark.parametrize("name", ["Line\nbreak", "Tab\there", "Nul\x00byte", "Bell\x07", "C1\x85inside"])
def test_the_admin_refuses_control_characters_in_a_name_naming_the_field(admin_client, name):
    response = admin_client.post("/admin/clients/client/add/", {"name": name, "nickName": ""})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "name" in errors, errors
    assert "control character" in " ".join(errors["name"]) or errors["name"] == ["Null characters are not allowed."]
    assert not Client.objects(name=name).count()
    client = make_client("Plain Co")
    response = admin_client.post(f"/admin/clients/client/{client.pk}/change/", {"name": "Plain Co", "nickName": name})
    assert "nickName" in response.context["adminform"].form.errors
    assert Client.objects.get(pk=client.pk).nickName != name
