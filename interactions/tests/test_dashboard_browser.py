"""The statistics dashboard in a real browser: staff in the admin, a client's team on its
own page; the interval switch, clicking a bar, and who is refused."""

import re

import pytest
from playwright.sync_api import expect

from interactions.stats import SENTIMENT_KEYS
from topbox.tests.browser import log_in

pytestmark = pytest.mark.browser

ACME, NORTHWIND = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435571"


def biggest_bar(page, canvas, sentiment):
    """The index, count and position (in the canvas) of the tallest bar of ``sentiment``."""
    return page.evaluate(
        """([id, dataset]) => {
            const chart = Chart.getChart(id);
            const values = chart.data.datasets[dataset].data;
            const index = values.indexOf(Math.max(...values));
            const bar = chart.getDatasetMeta(dataset).data[index];
            return {index, count: values[index], x: bar.x, y: (bar.y + bar.base) / 2};
        }""",
        [canvas, SENTIMENT_KEYS.index(sentiment)],
    )


def changelist_count(page):
    return int(re.search(r"(\d+) interactions?\b", page.locator("p.paginator").inner_text()).group(1))


def test_staff_switch_the_interval_and_click_a_bar(page, screenshot, live_server, seeded, django_user_model):
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    log_in(page, "/admin/", "staff", "a-long-admin-password")
    page.click('a[href="/admin/clients/client/"]')
    page.locator("#result_list tr", has_text="Acme Footwear Inc.").get_by_role("link", name="Statistics →").click()
    expect(page.locator("h1")).to_have_text("Statistics: Acme Footwear Inc. (Acme)")
    expect(page.locator("nav.intervals").get_by_role("link", name="Day")).to_have_attribute("aria-current", "page")
    expect(page.locator("#site-name")).to_have_text("Topbox administration")
    screenshot("1-client-last-30-days")

    page.get_by_role("link", name="Whole range").click()
    page.locator("nav.intervals").get_by_role("link", name="Week").click()
    expect(page.locator("nav.intervals").get_by_role("link", name="Week")).to_have_attribute("aria-current", "page")
    expect(page.locator("#series-title")).to_have_text("Sentiment over time, by week")
    expect(page.locator("#total")).to_have_text("160")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot("2-client-whole-range-by-week", full_page=False)
    data = page.evaluate("JSON.parse(document.getElementById('dashboard-data').textContent)")
    assert all(row["label"].startswith("Week of ") for row in data["series"])

    bar = biggest_bar(page, "series-chart", "Negative")
    assert bar["count"] > 0
    page.locator("#series-chart").click(position={"x": bar["x"], "y": bar["y"]})
    page.wait_for_url(re.compile(r"/admin/interactions/interaction/\?"))
    assert changelist_count(page) == bar["count"]
    expect(page.locator("#result_list td.field-sentiment")).to_have_text(["Negative"] * bar["count"])
    screenshot("3-changelist-of-the-bar")

    page.go_back()
    agent = data["topAgents"][0]
    page.locator("#agents-table").get_by_role("link", name=agent["agentName"]).click()
    assert changelist_count(page) == agent["total"]
    expect(page.locator("#result_list td.field-agentName").first).to_have_text(agent["agentName"])

    page.goto("/admin/dashboard/")
    expect(page.locator("h1")).to_have_text("Statistics: Every client")
    screenshot("4-every-client")


def test_a_client_team_sees_its_own_dashboard_only(page, screenshot, live_server, seeded):
    from clients.client_users import create_client_user

    user, _ = create_client_user("acme-team", ACME)
    user.set_password("acme-team-password-2026")
    user.save()

    log_in(page, f"/clients/{ACME}/dashboard", "acme-team", "acme-team-password-2026")
    page.wait_for_url(re.compile(rf"/clients/{ACME}/dashboard"))
    expect(page.locator("h1")).to_have_text("Statistics: Acme Footwear Inc. (Acme)")
    page.locator("nav.intervals").get_by_role("link", name="Month").click()
    expect(page.locator("#series-title")).to_have_text("Sentiment over time, by month")
    screenshot("1-client-team-by-month")

    page.locator("#series-table").locator("..").locator("summary").click()
    expect(page.locator("#series-table tbody tr").first).to_be_visible()
    screenshot("2-table-view")

    bar = biggest_bar(page, "series-chart", "Positive")
    page.locator("#series-chart").click(position={"x": bar["x"], "y": bar["y"]})
    page.wait_for_url(re.compile(rf"/clients/{ACME}/interactions\?"))
    assert f'"count": {bar["count"]}' in page.locator(".response-info").inner_text()

    assert page.goto(f"/clients/{NORTHWIND}/dashboard").status == 404
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/"))
    screenshot("3-admin-refused")
