"""A changelist renders what Django's would, without Django's per-row costs (topbox.admin)."""

import re

import pytest
from bson import ObjectId
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import quote
from django.test import override_settings
from django.urls import NoReverseMatch, path, reverse, set_script_prefix

from interactions.documents import Interaction
from sampledata.factories import make_client, make_engagement, make_interaction
from topbox.admin.urls import reverse_id, reverse_plain

pytestmark = pytest.mark.django_db


def test_the_row_checkbox_is_djangos(admin_client):
    interaction = make_interaction(make_engagement(make_client()), agentName='Ann "<b>" O\'Hara')
    model_admin = admin.site._registry[Interaction]

    assert model_admin.action_checkbox(interaction) == ModelAdmin.action_checkbox(model_admin, interaction)
    page = admin_client.get("/admin/interactions/interaction/").content.decode()
    assert ModelAdmin.action_checkbox(model_admin, interaction) in page


def test_the_checked_rows_are_what_an_action_gets(admin_client):
    """The checkboxes' name and values select the rows for the delete action."""
    engagement = make_engagement(make_client())
    kept, chosen = make_interaction(engagement, agentName="Kept"), make_interaction(engagement, agentName="Chosen")
    page = admin_client.get("/admin/interactions/interaction/").content.decode()
    # The markup the action form posts and actions.js ticks.
    values = re.findall(r'<input type="checkbox" name="_selected_action" value="(\w+)" class="action-select"', page)
    assert sorted(values) == sorted([str(kept.pk), str(chosen.pk)])

    data = {"action": "delete_selected", "_selected_action": [str(chosen.pk)], "post": "yes", "index": 0}
    assert admin_client.post("/admin/interactions/interaction/", data).status_code == 302
    assert [i.agentName for i in Interaction.objects] == ["Kept"]


def test_row_links_are_djangos(admin_client):
    client = make_client()
    interaction = make_interaction(make_engagement(client))
    page = admin_client.get("/admin/interactions/interaction/").content.decode()
    for url in (
        reverse("admin:interactions_interaction_change", args=[quote(interaction.pk)]),
        reverse("admin:engagements_engagement_change", args=[str(interaction.engagementId.pk)]),
        reverse("admin:clients_client_change", args=[str(client.pk)]),
    ):
        assert f'href="{url}"' in page


urlpatterns = [
    path("numbers/<int:pk>/", lambda request, pk: None, name="number"),
    path("v0<str:pk>/", lambda request, pk: None, name="zero-before"),
    path("things/<str:pk>/", lambda request, pk: None, name="thing"),
    path("things/", lambda request: None, name="things"),
]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("name", ["number", "zero-before", "thing"])
@pytest.mark.parametrize("pk", [ObjectId(), "0" * 24, "f" * 24, "a/b c", "12", "ABCDEF0123456789ABCDEF01"])
def test_reverse_id_is_reverse(name, pk):
    try:
        expected = reverse(name, args=[str(pk)])
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            reverse_id(name, pk)
    else:
        assert reverse_id(name, pk) == expected


@override_settings(ROOT_URLCONF=__name__)
def test_reverse_id_follows_the_script_prefix():
    pk = ObjectId()
    assert reverse_id("thing", pk) == f"/things/{pk}/"
    assert reverse_plain("things") == "/things/"
    set_script_prefix("/topbox/")
    try:
        assert reverse_id("thing", pk) == f"/topbox/things/{pk}/"
        assert reverse_plain("things") == "/topbox/things/"
    finally:
        set_script_prefix("/")
