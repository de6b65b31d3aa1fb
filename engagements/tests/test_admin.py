"""Engagements in the admin: columns, filters, search, the client reference, deletion."""

import pytest
from bson import ObjectId

from engagements.documents import Engagement
from sampledata.factories import make_engagement, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(two_clients):
    """The two clients' engagements; Phone has three interactions."""
    for _ in range(3):
        make_interaction(two_clients["phone"])
    return two_clients


def names(response):
    return sorted(str(e) for e in response.context["cl"].result_list)


def test_list_shows_name_client_link_and_interaction_count(admin_client, data):
    page = admin_client.get("/admin/engagements/engagement/").content.decode()
    acme, phone = data["acme"], data["phone"]
    assert (
        f'<td class="field-client"><a href="/admin/clients/client/{acme.pk}/change/">Acme Footwear Inc. (Acme)</a></td>'
        in page
    )
    assert f'<a href="/admin/interactions/interaction/?engagement={phone.pk}">3 interactions</a>' in page
    assert "0 interactions" in page


def test_filter_by_client(admin_client, data):
    response = admin_client.get(f"/admin/engagements/engagement/?client={data['acme'].pk}")
    assert names(response) == ["Chat · Acme Footwear Inc.", "Phone · Acme Footwear Inc."]
    filters = response.content.decode().split('id="changelist-filter"')[1]
    assert "Zenith Bank" in filters  # the other client is offered


def test_filter_by_source_name(admin_client, data):
    make_engagement(data["zenith"], "Phone")
    response = admin_client.get("/admin/engagements/engagement/?source=Phone")
    assert [str(e.clientId) for e in response.context["cl"].result_list] == [
        "Acme Footwear Inc. (Acme)",
        "Zenith Bank (Zen)",
    ]
    assert '<a href="?source=SMS">SMS</a>' in response.content.decode()


def test_search(admin_client, data):
    assert names(admin_client.get("/admin/engagements/engagement/?q=sm")) == ["SMS · Zenith Bank"]


def test_client_is_picked_with_only_the_current_one_loaded_and_its_target_linked(admin_client, data):
    phone = data["phone"]
    page = admin_client.get(f"/admin/engagements/engagement/{phone.pk}/change/").content.decode()
    select = page.split('<select name="clientId"')[1].split("</select>")[0]
    assert 'class="admin-autocomplete" data-ajax--url="/clients/choices"' in select
    assert select.count("<option") == 2  # the empty one and the current client: never every client
    assert f'<option value="{data["acme"].pk}" selected>Acme Footwear Inc. (Acme)</option>' in select
    assert "admin/js/vendor/select2/select2.full" in page
    assert f'Client: <a href="/admin/clients/client/{data["acme"].pk}/change/">Acme Footwear Inc. (Acme)</a>' in page


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("zzz", "Enter an ObjectId: 24 hexadecimal characters."),
        ("5f18d12f42262eec0d43567d", "No client has the id 5f18d12f42262eec0d43567d."),
        ("", "This field is required."),
    ],
)
def test_a_bad_client_reference_is_a_form_error(admin_client, data, value, error):
    phone = data["phone"]
    response = admin_client.post(
        f"/admin/engagements/engagement/{phone.pk}/change/", {"clientId": value, "name": "Phone"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"clientId": [error]}
    assert Engagement.objects.get(pk=phone.pk).clientId == data["acme"]


def test_moving_an_engagement_to_another_client(admin_client, data):
    phone, zenith = data["phone"], data["zenith"]
    response = admin_client.post(
        f"/admin/engagements/engagement/{phone.pk}/change/", {"clientId": f" {zenith.pk} ", "name": "Phone"}
    )
    assert response.status_code == 302
    assert Engagement.objects.get(pk=phone.pk).clientId == zenith


def test_adding_an_engagement(admin_client, data):
    response = admin_client.post(
        "/admin/engagements/engagement/add/", {"clientId": str(data["zenith"].pk), "name": "Email"}
    )
    assert response.status_code == 302
    assert Engagement.objects(name="Email", clientId=data["zenith"].pk).count() == 1


def test_deleting_an_engagement_with_interactions_is_refused_with_the_count(admin_client, data):
    phone = data["phone"]
    response = admin_client.post(f"/admin/engagements/engagement/{phone.pk}/delete/", {"post": "yes"})
    assert (
        f'Engagement <a href="/admin/engagements/engagement/{phone.pk}/change/">Phone · Acme Footwear Inc.</a> is still'
        f' referenced by <a href="/admin/interactions/interaction/?engagement={phone.pk}">3 interactions</a>;'
        " delete or move them first." in response.content.decode()
    )
    assert Engagement.objects(pk=phone.pk).count() == 1


def test_bulk_delete_of_engagements_without_interactions(admin_client, data):
    selected = {"action": "delete_selected", "_selected_action": [str(data["chat"].pk), str(data["sms"].pk)]}
    confirmation = admin_client.post("/admin/engagements/engagement/", selected).content.decode()
    assert "Engagements: 2" in confirmation
    assert (
        f'Engagement: <a href="/admin/engagements/engagement/{data["chat"].pk}/change/">Chat · Acme Footwear Inc.</a>'
        in confirmation
    )
    response = admin_client.post("/admin/engagements/engagement/", {**selected, "post": "yes"})
    assert [str(m) for m in response.wsgi_request._messages] == ["Successfully deleted 2 engagements."]
    assert sorted(e.name for e in Engagement.objects) == ["Phone"]
    assert Engagement.objects(pk=ObjectId()).count() == 0
