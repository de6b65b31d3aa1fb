"""A changelist renders what Django's would, without Django's per-row costs (topbox.admin)."""

import re

import pytest
from bson import ObjectId
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import quote
from django.test import override_settings
from django.urls import NoReverseMatch, path, reverse, set_script_prefix
from django.utils import html as django_html
from django.utils.functional import lazy
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from interactions.documents import Interaction
from sampledata.factories import make_client, make_engagement, make_interaction
from topbox.admin import html
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


@pytest.mark.parametrize(
    "url",
    [
        "/admin/interactions/interaction/",
        "/admin/interactions/interaction/?sentiment=Negative",
        "/admin/interactions/interaction/?q=ford&o=2",
        "/admin/interactions/interaction/?client={client}",
        "/admin/engagements/engagement/",
        "/admin/engagements/engagement/?client={client}",
        "/admin/clients/client/?q=acme",
    ],
)
def test_the_rows_are_djangos(admin_client, url):
    """Cells, classes, links and the filters the links keep: as Django's ``items_for_result``."""
    client = make_client()
    engagement = make_engagement(client)
    make_interaction(engagement, agentName="John Ford", sentiment="Negative")
    make_interaction(engagement, agentName="Ann <Ford> & Co", sentiment=None)
    cl = admin_client.get(url.format(client=client.pk)).context["cl"]
    assert cl.result_list
    ours = [list(row) for row in cl.rows()]
    assert ours == [list(row) for row in admin_list.results(cl)]
    assert ours[0][0].startswith('<td class="action-checkbox"><input type="checkbox"')


def test_rows_without_links_are_djangos(admin_client, monkeypatch):
    make_interaction(make_engagement(make_client()))
    monkeypatch.setattr(type(admin.site._registry[Interaction]), "list_display_links", None)
    cl = admin_client.get("/admin/interactions/interaction/?sentiment=Negative").context["cl"]
    assert [list(row) for row in cl.rows()] == [list(row) for row in admin_list.results(cl)]
    assert "/change/" not in "".join(cl.rows()[0][1:3])


@pytest.mark.parametrize(
    "args",
    [
        ("plain",),
        ('<b class="x">&\'',),
        (mark_safe("<b>safe</b>"), 12, None),
        (gettext_lazy("Select all"), ObjectId("5f18d12f42262eec0d43567d")),
        (lazy(lambda: mark_safe("<i>lazy safe</i>"), SafeString)(),),
    ],
)
def test_format_html_escapes_as_djangos(args):
    template = " | ".join("{}" for _ in args)
    assert html.format_html(template, *args) == django_html.format_html(template, *args)
    assert isinstance(html.format_html(template, *args), SafeString)
