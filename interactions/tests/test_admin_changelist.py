"""What a changelist page asks MongoDB: the page once, references per page, the cheapest count."""

import datetime

import pytest

from interactions.admin import InteractionAdmin
from interactions.documents import Interaction
from sampledata.factories import insert_interactions, make_client, make_engagement
from topbox.admin import filters

pytestmark = pytest.mark.django_db


@pytest.fixture
def interactions():
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    clients = [make_client(f"Client {n}", f"C{n}") for n in range(3)]
    engagements = [make_engagement(clients[n % 3], f"Source {n}") for n in range(6)]
    insert_interactions(
        (engagements[n % 6], start + datetime.timedelta(hours=n), "John Ford", "Negative") for n in range(120)
    )
    return list(Interaction.objects.order_by("interactionDate"))  # the n-th made at hour n


def test_a_page_of_interactions_runs_one_query_per_collection(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    response = admin_client.get("/admin/interactions/interaction/?sentiment=Negative")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50
    finds = [collection for name, collection in mongo_commands if name == "find"]
    # The page once. The filter sidebar lists the clients and the engagements, which the
    # engagements' labels and the rows' links reuse (topbox.memo): no query of their own.
    assert finds.count("interaction") == 1
    # The count reads the per-engagement totals (interactions.counts).
    assert sorted(finds) == ["client", "engagement", "interaction", "interaction_totals"]


def test_rows_load_what_the_filters_do_not_list(admin_client, interactions, mongo_commands, monkeypatch):
    monkeypatch.setattr(filters, "MAX_CHOICES", 1)  # the sidebar lists no client, no engagement
    mongo_commands.clear()
    response = admin_client.get("/admin/interactions/interaction/?sentiment=Negative")
    page = response.content.decode()
    assert "Source 0 · Client 0" in page
    assert "Client 0 (C0)" in page
    finds = sorted(collection for name, collection in mongo_commands if name == "find")
    # The sidebar's first two of each, then the page's engagements and clients, a batch each.
    assert finds == ["client", "client", "engagement", "engagement", "interaction", "interaction_totals"]


def test_a_keyset_page_reads_the_totals_once(admin_client, interactions, mongo_commands, monkeypatch):
    """Its count and the windows of its branches (an engagement each) share the totals."""
    monkeypatch.setattr(InteractionAdmin, "keyset_above", 10)
    client = interactions[0].engagementId.clientId
    mongo_commands.clear()
    cl = admin_client.get(f"/admin/interactions/interaction/?client={client.pk}").context["cl"]
    assert cl.keyset is not None
    assert cl.result_count == 40
    assert mongo_commands.count(("find", "interaction_totals")) == 1
    assert mongo_commands.count(("find", "engagement")) == 2  # the sidebar's, the client's engagement ids


def test_an_agent_search_reads_the_names_once(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    cl = admin_client.get("/admin/interactions/interaction/?q=ford").context["cl"]
    assert cl.result_count == 120
    assert mongo_commands.count(("find", "interaction_agent")) == 1  # for the search and the count


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


def test_a_first_page_holding_everything_is_its_count(admin_client, interactions, mongo_commands):
    mongo_commands.clear()
    cl = admin_client.get("/admin/engagements/engagement/").context["cl"]
    assert cl.result_count == 6
    assert len(cl.result_list) == 6
    assert not cl.multi_page
    assert mongo_commands.count(("find", "engagement")) == 1  # the page, one more asked: no count
    assert ("count", "engagement") not in mongo_commands


def test_a_longer_list_is_counted_and_read_once(admin_client, mongo_commands):
    client = make_client()
    engagements = [make_engagement(client, f"Source {n:02}") for n in range(52)]
    for url, names in (
        ("/admin/engagements/engagement/", [e.name for e in engagements[:50]]),
        ("/admin/engagements/engagement/?p=2", ["Source 50", "Source 51"]),
        ("/admin/engagements/engagement/?all=", [e.name for e in engagements]),
        ("/admin/engagements/engagement/?client=" + str(client.pk), [e.name for e in engagements[:50]]),
    ):
        mongo_commands.clear()
        cl = admin_client.get(url).context["cl"]
        assert cl.result_count == 52
        assert [e.name for e in cl.result_list] == names
        on_engagements = sorted(name for name, collection in mongo_commands if collection == "engagement")
        # The page and its count (``count_documents`` is an aggregation), the sidebar's sources.
        assert on_engagements in (["count", "distinct", "find"], ["aggregate", "distinct", "find"])


@pytest.mark.parametrize("keyset_above", [500, 10])
def test_a_client_and_its_engagement_select_by_the_engagement_alone(
    admin_client, interactions, mongo_commands, monkeypatch, keyset_above
):
    """One condition on the engagement, not two (an ``$and``, a scan on the embedded server)."""
    monkeypatch.setattr(InteractionAdmin, "keyset_above", keyset_above)
    engagement = interactions[0].engagementId
    client, other = engagement.clientId, interactions[1].engagementId.clientId
    url = "/admin/interactions/interaction/?client={}&engagement={}"
    mongo_commands.clear()
    cl = admin_client.get(url.format(client.pk, engagement.pk)).context["cl"]
    assert cl.result_count == 20
    assert {row.engagementId.pk for row in cl.result_list} == {engagement.pk}
    assert cl.queryset._query == {"engagementId": engagement.pk}

    mongo_commands.clear()
    cl = admin_client.get(url.format(other.pk, engagement.pk)).context["cl"]
    assert cl.result_count == 0
    assert cl.result_list == []
    assert [c for c in mongo_commands if c[1] == "interaction"] == []
