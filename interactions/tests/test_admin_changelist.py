"""What a changelist page asks MongoDB: the page once, references per page, the cheapest count."""

import datetime

import pytest

from sampledata.factories import make_client, make_engagement, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def interactions():
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    clients = [make_client(f"Client {n}", f"C{n}") for n in range(3)]
    engagements = [make_engagement(clients[n % 3], f"Source {n}") for n in range(6)]
    return [make_interaction(engagements[n % 6], start + datetime.timedelta(hours=n)) for n in range(120)]


def test_a_page_of_interactions_runs_one_query_per_collection(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    response = admin_client.get("/admin/interactions/interaction/?sentiment=Negative")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    finds = [collection for name, collection in mongo_commands if name == "find"]
    # The page once, its engagements in one batch, their clients in one batch. The other
    # queries fill the filter sidebar (clients; engagements and, for their labels, their
    # clients in one batch), not the rows.
    assert finds.count("interaction") == 1
    # The count reads the per-engagement totals (interactions.rollups).
    expected = ["client", "client", "client", "engagement", "engagement", "interaction", "interaction_totals"]
    assert sorted(finds) == expected


def test_engagement_counts_come_from_their_totals(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    page = admin_client.get("/admin/engagements/engagement/").content.decode()
    assert "20 interactions" in page
    assert [c for c in mongo_commands if c[1] == "interaction"] == []  # no interaction read
    assert mongo_commands.count(("find", "interaction_totals")) == 1


def test_unfiltered_page_counts_from_the_totals(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    cl = admin_client.get("/admin/interactions/interaction/").context["cl"]
    assert cl.result_count == 120
    on_interactions = [name for name, collection in mongo_commands if collection == "interaction"]
    assert on_interactions == ["find"]  # no count of the interactions: their per-engagement totals
    assert ("find", "interaction_totals") in mongo_commands


def test_filtered_page_counts_from_the_totals(admin_client, interactions, mongo_commands):
    engagement = interactions[0].engagementId
    mongo_commands.clear()
    cl = admin_client.get(f"/admin/interactions/interaction/?engagement={engagement.pk}").context["cl"]
    assert cl.result_count == 20
    on_interactions = sorted(name for name, collection in mongo_commands if collection == "interaction")
    # The page only: the count and the engagement's source files come from the daily counts.
    assert on_interactions == ["find"]


def test_pages_are_contiguous(admin_client, interactions):
    seen = []
    for page in range(3):
        seen += [
            i.pk for i in admin_client.get(f"/admin/interactions/interaction/?p={page + 1}").context["cl"].result_list
        ]
    assert seen == [i.pk for i in reversed(interactions)]
