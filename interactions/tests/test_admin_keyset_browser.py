"""Keyset navigation of a big interaction list in a real browser (screenshots in
artifacts/screenshots/)."""

import datetime
import re

import pytest
from bson import ObjectId
from playwright.sync_api import expect

from interactions.admin import InteractionAdmin
from interactions.counts import recording
from interactions.documents import SENTIMENTS, Interaction
from sampledata.factories import make_client, make_engagement
from topbox.tests.browser import log_in

pytestmark = pytest.mark.browser

START = datetime.datetime(2024, 3, 1, 9, tzinfo=datetime.UTC)


@pytest.fixture
def big_list(monkeypatch, django_user_model):
    """30 interactions, one every 20 hours, the sentiments in turn; keyset pages from 10
    records on, 7 a page."""
    monkeypatch.setattr(InteractionAdmin, "keyset_above", 10)
    monkeypatch.setattr(InteractionAdmin, "list_per_page", 7)
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    engagement = make_engagement(make_client("Acme Footwear Inc.", "Acme"), "Chat")
    rows = [
        {
            "_id": ObjectId(),
            "engagementId": engagement.pk,
            "interactionDate": START + datetime.timedelta(hours=20 * n),
            "agentName": f"Agent {n:02}",
            "sentiment": SENTIMENTS[n % 4],  # Positive, Negative, Neutral, Mixed
            "custom": {},
        }
        for n in range(30)
    ]
    Interaction._get_collection().insert_many(rows)
    recording.record(added=rows)


def test_keyset_navigation_newest_older_newer_oldest_and_a_date(page, screenshot, big_list):
    agents = page.locator("#result_list td.field-agentName")
    log_in(page)

    page.goto("/admin/interactions/interaction/")
    expect(agents.first).to_have_text("Agent 29")
    expect(page.locator(".keyset-count")).to_have_text("30 interactions")
    expect(page.locator("span.keyset-previous")).to_contain_text("Newer")  # not a link on the newest page
    page.click("a.keyset-next")
    page.click("a.keyset-next")
    expect(agents.first).to_have_text("Agent 15")
    expect(agents.last).to_have_text("Agent 09")
    screenshot("older-twice")
    page.click("a.keyset-previous")
    expect(agents.first).to_have_text("Agent 22")
    page.click("a.keyset-last")
    expect(agents.first).to_have_text("Agent 06")
    expect(agents.last).to_have_text("Agent 00")
    expect(page.locator("span.keyset-next")).to_contain_text("Older")
    # Agent 12 is at 2024-03-11 09:00: the page starts with the newest of that day.
    page.fill(".keyset-jump input[name=at]", "2024-03-11")
    page.click(".keyset-jump input[type=submit]")
    expect(agents.first).to_have_text("Agent 12")
    screenshot("jumped-to-a-date")
    page.click("a.keyset-first")
    expect(agents.first).to_have_text("Agent 29")


def test_sorting_by_sentiment_pages_each_sentiment_newest_first(page, screenshot, big_list):
    """A click on the column's header sorts by sentiment, then newest first (o=3.-1); the
    pages read First, Previous, Next, Last, and there is no date to go to."""
    agents = page.locator("#result_list td.field-agentName")
    sentiments = page.locator("#result_list td.field-sentiment")
    log_in(page)

    page.goto("/admin/interactions/interaction/")
    page.click("th.column-sentiment a")
    expect(page).to_have_url(re.compile(r"/admin/interactions/interaction/\?o=3\.-1$"))
    # Mixed: Agent 03, 07, ..., 27, newest first; then Negative: Agent 01, ..., 29.
    expect(agents).to_have_text([f"Agent {n:02}" for n in (27, 23, 19, 15, 11, 7, 3)])
    expect(sentiments).to_have_text(["Mixed"] * 7)
    expect(page.locator("span.keyset-first")).to_contain_text("First")
    expect(page.locator("a.keyset-next")).to_contain_text("Next")
    expect(page.locator(".keyset-jump")).to_have_count(0)
    screenshot("sorted-by-sentiment")
    page.click("a.keyset-next")
    expect(agents).to_have_text([f"Agent {n:02}" for n in (29, 25, 21, 17, 13, 9, 5)])
    expect(sentiments).to_have_text(["Negative"] * 7)
    page.click("a.keyset-last")
    expect(agents.last).to_have_text("Agent 00")
    expect(sentiments.last).to_have_text("Positive")
    screenshot("sorted-by-sentiment-last")
