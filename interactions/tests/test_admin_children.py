"""Children on the parent's page: a client's engagements with their interaction counts, an
engagement's newest interactions (bounded, with a link to all)."""

import datetime

import pytest

from sampledata.factories import make_interaction

pytestmark = pytest.mark.django_db

START = datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC)


def table_of(page):
    table = page.split('class="module children-table"')[1].split("</table>")[0]
    return table, table.split("<tbody>")[1].split("</tr>")[:-1]


def test_a_clients_page_lists_its_engagements_with_their_interaction_counts(admin_client, two_clients):
    acme, chat, phone = two_clients["acme"], two_clients["chat"], two_clients["phone"]
    for _ in range(3):
        make_interaction(chat)
    table, rows = table_of(admin_client.get(f"/admin/clients/client/{acme.pk}/change/").content.decode())
    assert "<caption>Engagements (2)</caption>" in table
    assert f'<a href="/admin/engagements/engagement/{chat.pk}/change/">Chat · Acme Footwear Inc.</a>' in rows[0]
    assert f'<a href="/admin/interactions/interaction/?engagement={chat.pk}">3</a>' in rows[0]
    assert f'<a href="/admin/interactions/interaction/?engagement={phone.pk}">0</a>' in rows[1]


def test_an_engagements_page_lists_its_newest_interactions_and_links_to_all(admin_client, two_clients, mongo_commands):
    phone = two_clients["phone"]
    made = [make_interaction(phone, START + datetime.timedelta(hours=n), f"Agent {n:02}") for n in range(25)]
    mongo_commands.clear()
    page = admin_client.get(f"/admin/engagements/engagement/{phone.pk}/change/").content.decode()
    table, rows = table_of(page)
    assert "<caption>Interactions (25)</caption>" in table
    assert len(rows) == 20
    assert f'/admin/interactions/interaction/{made[-1].pk}/change/">Agent 24 at 2020-05-02 00:00 UTC</a>' in rows[0]
    assert "Agent 05" in rows[-1]
    assert f'<a href="/admin/interactions/interaction/?engagement={phone.pk}">All 25 interactions →</a>' in page
    # The rows in a few queries bounded by date windows that widen until they hold the 20
    # (topbox.admin.keyset), whatever the engagement holds.
    finds = [command for command in mongo_commands if command == ("find", "interaction")]
    assert 1 <= len(finds) <= 4


def test_a_parent_without_children_says_so(admin_client, two_clients):
    page = admin_client.get(f"/admin/engagements/engagement/{two_clients['sms'].pk}/change/").content.decode()
    assert "None yet." in table_of(page)[0]
