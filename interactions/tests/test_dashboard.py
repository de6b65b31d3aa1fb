"""The statistics dashboard: its figures are interaction_stats()'s, its links select
exactly the interactions counted, and only those allowed see it."""

import datetime
import re

import pytest
from bson import ObjectId
from django.contrib.auth.models import Permission

from engagements.selectors import engagement_ids
from interactions.dashboard import Period, Scope, choose
from interactions.documents import Interaction
from interactions.stats import SENTIMENT_KEYS, interaction_stats

ACME, NORTHWIND = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435571"
ACME_PHONE = "5f18d12f42262eec0d435583"
UTC = datetime.UTC


def dashboard_json(client, url, **params):
    response = client.get(url, {**params, "format": "json"})
    assert response.status_code == 200, response.content
    return response.json()


def assert_same_figures(data, stats):
    """Every number of the dashboard's data against interaction_stats()'s."""
    assert data["total"] == stats["total"]
    assert {cell["sentiment"]: cell["count"] for cell in data["share"]} == stats["sentiments"]
    assert [row["start"] for row in data["series"]] == [item["start"].date().isoformat() for item in stats["series"]]
    for row, item in zip(data["series"], stats["series"], strict=True):
        assert row["total"] == item["total"]
        assert {cell["sentiment"]: cell["count"] for cell in row["counts"]} == item["sentiments"]
    assert [(a["agentName"], a["total"]) for a in data["topAgents"]] == [
        (a["agentName"], a["total"]) for a in stats["topAgents"]
    ]
    for agent, expected in zip(data["topAgents"], stats["topAgents"], strict=True):
        assert {cell["sentiment"]: cell["count"] for cell in agent["counts"]} == expected["sentiments"]


@pytest.mark.parametrize("interval", ["day", "week", "month"])
@pytest.mark.parametrize(
    ("url", "scope"),
    [
        (f"/admin/dashboard/clients/{ACME}/", {"client": ACME}),
        (f"/admin/dashboard/engagements/{ACME_PHONE}/", {"engagement": ACME_PHONE}),
        ("/admin/dashboard/", {}),
    ],
)
def test_every_number_is_interaction_stats(admin_client, seeded, url, scope, interval):
    period = {"from": "2020-04-10", "to": "2020-06-20"}
    data = dashboard_json(admin_client, url, interval=interval, **period)
    stats = interaction_stats(
        **scope,
        start=datetime.datetime(2020, 4, 10, tzinfo=UTC),
        end=datetime.datetime(2020, 6, 21, tzinfo=UTC),
        interval=interval,
    )
    assert stats["total"] > 0
    assert_same_figures(data, stats)


def test_the_default_period_is_the_last_30_days_of_the_data(admin_client, seeded):
    url = f"/admin/dashboard/clients/{ACME}/"
    data = dashboard_json(admin_client, url)
    period, interval, preset = choose(Scope("Acme", client=ObjectId(ACME)), {})
    assert (preset, interval) == ("recent", "day")
    assert (period.last - period.first).days == 29
    newest = max(i.interactionDate for i in Interaction.objects(engagementId__in=engagement_ids([ObjectId(ACME)])))
    assert period.last == newest.date()
    assert (data["from"], data["to"]) == (period.first.isoformat(), period.last.isoformat())
    assert_same_figures(data, interaction_stats(client=ACME, start=period.start, end=period.end))
    # The whole range: every interaction of the client, whatever its date.
    everything = dashboard_json(admin_client, url, range="all", interval="month")
    assert (everything["from"], everything["to"]) == (None, None)
    assert_same_figures(everything, interaction_stats(client=ACME, interval="month"))
    assert everything["total"] == 160
    page = admin_client.get(url, {"range": "all", "interval": "week"}).content.decode()
    assert '<a class="preset" href="?range=all&amp;interval=week" aria-current="true">Whole range</a>' in page
    assert '<a href="?range=all&amp;interval=month">Month</a>' in page


def changelist_count(admin_client, link):
    page = admin_client.get(link).content.decode()
    paginator = page[page.index('class="paginator"') :]
    return int(re.search(r"(\d+) interactions?\b", paginator[: paginator.index("</p>")]).group(1))


@pytest.mark.parametrize(
    "url", [f"/admin/dashboard/clients/{ACME}/", f"/admin/dashboard/engagements/{ACME_PHONE}/", "/admin/dashboard/"]
)
def test_each_link_selects_exactly_the_interactions_counted(admin_client, seeded, url):
    data = dashboard_json(
        admin_client,
        url,
        interval="month",
        **{"from": "2020-04-20", "to": "2020-06-10"},
    )
    cells = [data, *data["share"], *data["topAgents"][:3], *data["topAgents"][0]["counts"]]
    for row in data["series"]:
        cells += [row, *row["counts"]]
    checked = 0
    for cell in cells:
        count = cell.get("count", cell.get("total"))
        if count:
            assert changelist_count(admin_client, cell["link"]) == count, cell["link"]
            checked += 1
    assert checked > 15
    # The first month is clipped to the period.
    assert data["series"][0]["first"] == "2020-04-20"
    assert data["series"][-1]["last"] == "2020-06-10"


def test_the_pages_show_the_same_numbers_with_a_table_for_each_chart(admin_client, seeded):
    response = admin_client.get(f"/admin/dashboard/clients/{ACME}/", {"from": "2020-01-01", "to": "2020-12-31"})
    page = response.content.decode()
    assert response.status_code == 200
    for table in ("series-table", "share-table", "agents-table"):
        assert f'id="{table}"' in page
    assert re.search(r'<strong id="total">160</strong>', page)
    assert "/static/topbox/vendor/chartjs/chart.umd.min.js" in page
    assert "cdn" not in page.lower()


def test_bad_parameters_are_400s_naming_them(admin_client, seeded):
    url = f"/admin/dashboard/clients/{ACME}/"
    assert admin_client.get(url, {"from": "2020-13-01", "format": "json"}).json() == {
        "from": ["from: '2020-13-01' is not a date (YYYY-MM-DD)."]
    }
    assert admin_client.get(url, {"interval": "year"}).status_code == 400
    assert admin_client.get(url, {"range": "everything", "format": "json"}).json() == {
        "range": ["range: give all (every interaction) or leave it out."]
    }
    assert admin_client.get(url, {"from": "2020-05-02", "to": "2020-05-01", "format": "json"}).status_code == 400
    assert admin_client.get("/admin/dashboard/clients/nope/").status_code == 404
    assert admin_client.get("/admin/dashboard/engagements/5f18d12f42262eec0d435599/").status_code == 404


def test_admin_pages_link_to_the_dashboards(admin_client, seeded):
    clients = admin_client.get("/admin/clients/client/").content.decode()
    assert f'href="/admin/dashboard/clients/{ACME}/"' in clients
    change = admin_client.get(f"/admin/clients/client/{ACME}/change/").content.decode()
    assert f'href="/admin/dashboard/clients/{ACME}/"' in change
    engagement = admin_client.get(f"/admin/engagements/engagement/{ACME_PHONE}/change/").content.decode()
    assert f'href="/admin/dashboard/engagements/{ACME_PHONE}/"' in engagement
    assert 'href="/admin/dashboard/"' in admin_client.get("/admin/").content.decode()


def test_staff_need_view_permission_on_interactions(client, django_user_model, seeded):
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/dashboard/").status_code == 403
    assert 'href="/admin/dashboard/"' not in client.get("/admin/").content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_interaction"))
    client.force_login(django_user_model.objects.get(pk=user.pk))  # a fresh permission cache
    assert client.get(f"/admin/dashboard/clients/{ACME}/", {"format": "json"}).status_code == 200


def test_a_client_user_sees_its_own_dashboard_only(client, db, seeded):
    from clients.client_users import create_client_user

    user, _ = create_client_user("acme-team", ACME)
    client.force_login(user)
    data = dashboard_json(client, f"/clients/{ACME}/dashboard", **{"from": "2020-01-01", "to": "2020-12-31"})
    assert_same_figures(
        data,
        interaction_stats(
            client=ACME, start=datetime.datetime(2020, 1, 1, tzinfo=UTC), end=datetime.datetime(2021, 1, 1, tzinfo=UTC)
        ),
    )
    # Its links go to the browsable API, which it may read, and count the same.
    positive = next(cell for cell in data["share"] if cell["sentiment"] == "Positive")
    assert positive["link"].startswith(f"/clients/{ACME}/interactions?")
    assert client.get(positive["link"], HTTP_ACCEPT="application/json").json()["count"] == positive["count"]
    for cell in data["share"]:  # each link counts what it shows; the API cannot select "no sentiment"
        if cell["sentiment"] == "absent":
            assert cell["link"] is None
        else:
            assert client.get(cell["link"], HTTP_ACCEPT="application/json").json()["count"] == cell["count"]
    assert client.get(f"/clients/{NORTHWIND}/dashboard").status_code == 404
    assert client.get("/clients/nope/dashboard").status_code == 404
    admin = client.get("/admin/dashboard/")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/admin/login/")
    client.logout()
    anonymous = client.get(f"/clients/{ACME}/dashboard")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/api-auth/login/")


def test_period_clips_each_interval():
    period = Period(datetime.date(2020, 5, 10), datetime.date(2020, 5, 20))
    assert period.clip(datetime.date(2020, 5, 1), datetime.date(2020, 5, 31)) == (
        datetime.date(2020, 5, 10),
        datetime.date(2020, 5, 20),
    )
    assert period.start == datetime.datetime(2020, 5, 10, tzinfo=UTC)
    assert period.end == datetime.datetime(2020, 5, 21, tzinfo=UTC)
    assert SENTIMENT_KEYS[-1] == "absent"
