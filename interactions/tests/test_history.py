"""Every change in one history: API, admin, ingest and seed writes in Django's LogEntry,
shown by the admin's History page of each record."""

import getpass
import io

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.management import call_command

from clients.documents import Client
from engagements.documents import Engagement
from interactions.documents import Interaction
from sampledata.factories import interaction_form, make_interaction

pytestmark = pytest.mark.django_db

CSV = "interactionDate,agentFirstName,agentLastName,sentiment\r\n2020-05-16T12:00:00Z,John,Ford,Negative\r\n"


def entries(document_cls, pk=None):
    found = LogEntry.objects.filter(content_type__model=document_cls._meta.model_name).order_by("id")
    if pk is not None:
        found = found.filter(object_id=str(pk))
    return [(entry.user.username, entry.action_flag, entry.get_change_message()) for entry in found]


def history_page(admin_client, document):
    opts = document._meta
    response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/{document.pk}/history/")
    assert response.status_code == 200
    return response.content.decode()


def test_api_writes_are_recorded_with_the_tokens_user_and_the_fields_changed(staff_api, admin_client, two_clients):
    phone = two_clients["phone"]
    created = staff_api.post(
        "/interactions",
        {"engagementId": str(phone.pk), "interactionDate": "2020-05-16T12:00:00Z", "agentName": "John Ford"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["_id"]["$oid"]
    assert staff_api.patch(f"/interactions/{pk}", {"sentiment": "Negative"}, format="json").status_code == 200
    assert staff_api.patch(f"/interactions/{pk}", {"sentiment": "Negative"}, format="json").status_code == 200
    put = {"engagementId": str(phone.pk), "interactionDate": "2020-05-16T12:00:00Z", "agentName": "Jane Doe"}
    assert staff_api.put(f"/interactions/{pk}", put, format="json").status_code == 200
    assert entries(Interaction, pk) == [
        ("staff", ADDITION, "Added through the API."),
        ("staff", CHANGE, "Changed Sentiment through the API."),  # the second PATCH changed nothing
        ("staff", CHANGE, "Changed Agent, Sentiment through the API."),
    ]
    page = history_page(admin_client, Interaction.objects.get(pk=pk))
    assert "Changed Sentiment through the API." in page
    assert "staff" in page
    assert staff_api.delete(f"/interactions/{pk}").status_code == 204
    assert entries(Interaction, pk)[-1] == ("staff", DELETION, "Deleted through the API.")
    assert LogEntry.objects.filter(object_id=pk).order_by("id").last().object_repr == "Jane Doe at 2020-05-16 12:00 UTC"


def test_refused_api_writes_record_nothing(staff_api, two_clients):
    response = staff_api.patch(f"/interactions/{'0' * 24}", {"sentiment": "Negative"}, format="json")
    assert response.status_code == 404
    assert staff_api.delete(f"/engagements/{two_clients['phone'].pk}").status_code == 204
    make_interaction(two_clients["chat"])
    assert staff_api.delete(f"/engagements/{two_clients['chat'].pk}").status_code == 409
    assert [flag for _, flag, _ in entries(Engagement)] == [DELETION]


def test_admin_edits_are_in_the_same_history(admin_client, two_clients):
    interaction = make_interaction(two_clients["phone"])
    url = f"/admin/interactions/interaction/{interaction.pk}/change/"
    assert admin_client.post(url, interaction_form(interaction, agentName="Jane Doe")).status_code == 302
    assert entries(Interaction, interaction.pk) == [("admin", CHANGE, "Changed Agent.")]


def test_an_api_import_is_one_entry_on_the_engagement_with_its_counts(staff_api, admin_client, two_clients):
    phone = two_clients["phone"]
    url = f"/engagements/{phone.pk}/imports?name=may.csv"
    assert staff_api.post(url, CSV.encode(), content_type="text/csv").status_code == 201
    assert staff_api.post(f"{url}&dry_run=true", CSV.encode(), content_type="text/csv").status_code == 200
    message = "Ingested may.csv through the API: 1 rows read, 1 added, 0 already present, 0 rejected."
    assert entries(Engagement, phone.pk) == [("staff", CHANGE, message)]
    assert entries(Interaction) == []  # one entry per operation, not per row
    assert message in history_page(admin_client, phone)


def test_the_ingest_command_is_one_entry_by_the_user_running_it(tmp_path, two_clients):
    path = tmp_path / "june.csv"
    path.write_text(CSV + "2020-05-17T12:00:00Z,Ann,Lee,\r\n")
    call_command("ingest", str(path), "--engagement", str(two_clients["chat"].pk), stdout=io.StringIO())
    assert entries(Engagement, two_clients["chat"].pk) == [
        (
            f"cli:{getpass.getuser()}",
            CHANGE,
            "Ingested june.csv through manage.py ingest: 2 rows read, 2 added, 0 already present, 0 rejected.",
        )
    ]


def test_seed_is_one_entry_per_collection(mongo_uri):
    call_command("seed", stdout=io.StringIO())
    user = f"cli:{getpass.getuser()}"
    assert entries(Client) == [
        (user, CHANGE, "Seeded from fixtures/ through manage.py seed: 3 added, 0 already present.")
    ]
    assert entries(Interaction) == [
        (user, CHANGE, "Seeded from fixtures/ through manage.py seed: 400 added, 0 already present.")
    ]
    call_command("seed", "--synthetic", "--interactions", "50", stdout=io.StringIO())
    assert entries(Engagement)[-1] == (
        user,
        CHANGE,
        "Generated by manage.py seed --synthetic: 10 added, 0 already present.",
    )
