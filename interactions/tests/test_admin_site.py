"""The admin layer (topbox/admin): login, permissions, history, 404s, no 500s, the patches."""

import datetime
from pathlib import Path

import pytest
from bson import ObjectId
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command

from clients.documents import Client
from interactions.documents import Interaction
from sampledata.factories import interaction_form, make_client, make_engagement, make_interaction
from topbox.admin import DocumentAdmin, patches
from topbox.admin.sites import AdminSite

pytestmark = pytest.mark.django_db

MODELS = ("clients/client", "engagements/engagement", "interactions/interaction")


@pytest.fixture
def records():
    client = make_client()
    engagement = make_engagement(client)
    interaction = make_interaction(engagement)
    return {"clients/client": client, "engagements/engagement": engagement, "interactions/interaction": interaction}


@pytest.mark.postgres
def test_login_with_a_user_from_createsuperuser(client, monkeypatch, records):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")
    call_command("createsuperuser", interactive=False, username="staff", email="staff@example.com")

    assert client.get("/admin/").status_code == 302  # to the login page
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "staff", "password": "a-long-admin-password"}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200
    for link in ("/admin/clients/client/", "/admin/engagements/engagement/", "/admin/interactions/interaction/"):
        assert link in page
    assert "/admin/auth/user/" in page  # Django's users on the same site


def test_documents_have_django_permissions_after_migrate():
    codenames = set(
        Permission.objects.filter(content_type__app_label="interactions").values_list("codename", flat=True)
    )
    assert {"add_interaction", "change_interaction", "delete_interaction", "view_interaction"} <= codenames


@pytest.fixture
def viewer(client, django_user_model):
    """A staff user who may only view clients, engagements and interactions."""
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    codenames = ["view_client", "view_engagement", "view_interaction"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_view_only_staff_can_inspect(viewer, records, model):
    document = records[model]
    assert viewer.get(f"/admin/{model}/").status_code == 200
    response = viewer.get(f"/admin/{model}/{document.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page
    assert '<div class="readonly">' in page
    assert not any(f'name="{name}"' in page for name in type(document)._fields)


@pytest.mark.parametrize("model", MODELS)
def test_view_only_staff_cannot_change(viewer, records, model):
    document = records[model]
    assert viewer.post(f"/admin/{model}/{document.pk}/change/", {}).status_code == 403
    assert viewer.get(f"/admin/{model}/add/").status_code == 403
    assert viewer.post(f"/admin/{model}/{document.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(document).objects(pk=document.pk).count() == 1


def test_view_only_page_links_references_and_shows_json(viewer, records):
    interaction = records["interactions/interaction"]
    page = viewer.get(f"/admin/interactions/interaction/{interaction.pk}/change/").content.decode()
    assert f'href="/admin/engagements/engagement/{interaction.engagementId.pk}/change/"' in page
    assert "<pre>{\n  &quot;csvName&quot;: &quot;2020_16_05_report.csv&quot;\n}</pre>" in page


@pytest.mark.postgres
def test_changes_are_kept_in_the_history_of_the_record(admin_client, records):
    interaction = records["interactions/interaction"]
    other = make_interaction(records["engagements/engagement"], agentName="Someone Else")
    url = f"/admin/interactions/interaction/{interaction.pk}/change/"
    response = admin_client.post(url, interaction_form(interaction, agentName="Jane Doe"))
    assert response.status_code == 302

    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.action_flag) == (str(interaction.pk), CHANGE)
    assert entry.content_type.app_label == "interactions"
    assert entry.get_admin_url() == url
    history = admin_client.get(f"/admin/interactions/interaction/{interaction.pk}/history/").content.decode()
    assert "Changed Agent." in history
    other_history = admin_client.get(f"/admin/interactions/interaction/{other.pk}/history/").content.decode()
    assert "Changed Agent." not in other_history


@pytest.mark.parametrize("model", MODELS)
def test_malformed_or_unknown_ids_are_404(admin_client, records, model):
    for view in ("change", "delete", "history"):
        for object_id in ("not-an-id", "5f18d12f42262eec0d43567", str(ObjectId()), "%24where", "%20" * 3):
            assert admin_client.get(f"/admin/{model}/{object_id}/{view}/").status_code == 404, (view, object_id)


BAD_CHANGELIST_QUERIES = [
    "o=zz",
    "o=99",
    "o=-1.x.3",
    "p=9999",
    "p=-1",
    "p=x",
    "all=",
    "q=(",
    "q=.*%5B",
    "q=" + "a" * 5000,
    "_facets=1",
    "_to_field=id",
    "_popup=1",
    "e=1",
    "client=zzz",
    "client=5f18d12f42262eec0d43567d",
    "engagement=%24ne",
    "sentiment=Bad",
    "sentiment=Positive&sentiment=Negative",
    "date_from=2020-13-45",
    "date_to=x",
    "date_from=2020-02-01&date_to=2020-01-01",
    "source=%00",
    "name__regex=(",
    "id__gt=1",
    "__raw__=1",
]


@pytest.mark.parametrize("model", MODELS)
def test_no_changelist_query_gives_a_500(admin_client, records, model):
    statuses = {query: admin_client.get(f"/admin/{model}/?{query}").status_code for query in BAD_CHANGELIST_QUERIES}
    assert {query: status for query, status in statuses.items() if status >= 500} == {}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/autocomplete/?app_label=engagements&model_name=engagement&field_name=clientId&term=a",
        "/admin/autocomplete/?app_label=clients&model_name=client&field_name=name",
        "/admin/autocomplete/",
        "/admin/r/1/zzz/",
        "/admin/r/999/zzz/",
        "/admin/clients/",
        "/admin/nope/",
        "/admin/clients/client/add/?clientId=zzz&name=%00",
        "/admin/engagements/engagement/add/?clientId=zzz",
        "/admin/interactions/interaction/add/?engagementId=5f18d12f42262eec0d43567d&custom=%7B",
    ],
)
def test_no_other_admin_url_gives_a_500(admin_client, records, url):
    assert admin_client.get(url).status_code < 500


@pytest.mark.parametrize(
    "data",
    [
        {"action": "delete_selected", "_selected_action": ["zzz"]},
        {"action": "delete_selected", "_selected_action": [str(ObjectId())]},
        {"action": "delete_selected", "_selected_action": [str(ObjectId())], "post": "yes"},
        {"action": "nope", "_selected_action": [str(ObjectId())]},
        {"action": "delete_selected", "select_across": "1", "index": "x"},
        {"index": "0"},
    ],
)
@pytest.mark.parametrize("model", MODELS)
def test_no_changelist_post_gives_a_500(admin_client, records, model, data):
    assert admin_client.post(f"/admin/{model}/", data).status_code < 500


@pytest.mark.parametrize(
    "changes",
    [
        {"engagementId": "zzz"},
        {"engagementId": str(ObjectId())},
        {"engagementId": ""},
        {"interactionDate_0": "2020-99-99"},
        {"interactionDate_0": ""},
        {"sentiment": "Furious"},
        {"agentName": "x" * 500},
        {"custom": "{"},
        {"custom": '{"$where": 1}'},
        {"custom": '{"a": {"b.c": 1}}'},
        {"custom": "[1, 2]"},
        {"custom": "[" * 5000 + "]" * 5000},
        {"custom": '{"a":' * 60 + "1" + "}" * 60},
        {"custom": "NaN"},
    ],
)
def test_no_interaction_form_input_gives_a_500(admin_client, records, changes):
    interaction = records["interactions/interaction"]
    response = admin_client.post(
        f"/admin/interactions/interaction/{interaction.pk}/change/", interaction_form(interaction, **changes)
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["errors"]
    assert Interaction.objects.get(pk=interaction.pk).agentName == "John Ford"


def test_patch_field_empty_values_is_needed(admin_client, records):
    """Django 5.0's display_for_field() reads Field.empty_values, which document fields lacked."""
    with patches.reverted("field-empty-values"), pytest.raises(AttributeError, match="empty_values"):
        admin_client.get("/admin/clients/client/")
    response = admin_client.get("/admin/clients/client/")
    assert response.status_code == 200
    assert "Acme Footwear Inc." in response.content.decode()


def test_patch_meta_is_composite_pk_is_needed():
    """Django 5.2's AdminSite.register() reads _meta.is_composite_pk, which django-mongoengine's lacks."""
    with patches.reverted("meta-is-composite-pk"), pytest.raises(AttributeError, match="is_composite_pk"):
        AdminSite().register(Client, DocumentAdmin)
    AdminSite().register(Client, DocumentAdmin)


def test_patch_document_options_is_needed(admin_client, records):
    """django-mongoengine's _meta takes the "engagement" column for the engagementId field."""
    with patches.reverted("document-options"), pytest.raises(AttributeError, match="engagement"):
        admin_client.get("/admin/interactions/interaction/")
    assert admin_client.get("/admin/interactions/interaction/").status_code == 200


def test_every_patch_has_a_test():
    names = {patch.name for patch in patches.PATCHES}
    source = Path(__file__).read_text()
    assert all(f'patches.reverted("{name}")' in source for name in names)


def test_dates_are_edited_and_shown_in_utc(admin_client, records):
    interaction = records["interactions/interaction"]
    form = interaction_form(interaction, interactionDate_0="2021-01-02", interactionDate_1="03:04:05")
    admin_client.post(f"/admin/interactions/interaction/{interaction.pk}/change/", form)
    saved = Interaction.objects.get(pk=interaction.pk).interactionDate
    assert saved == datetime.datetime(2021, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert Client.objects.count() == 1
