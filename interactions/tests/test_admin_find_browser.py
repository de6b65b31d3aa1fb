"""Finding, telling apart, picking and tracing records in a real browser (screenshots in
artifacts/screenshots/)."""

import datetime
import re

import pytest
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sampledata.factories import make_client, make_engagement, make_interaction
from topbox.tests.browser import log_in

pytestmark = pytest.mark.browser

START = datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC)


@pytest.fixture
def world(django_user_model):
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    acme, zenith = make_client("Acme Footwear Inc.", "Acme"), make_client("Zenith Bank", "Zen")
    acme_chat, acme_phone = make_engagement(acme, "Chat"), make_engagement(acme, "Phone")
    zen_chat, zen_phone = make_engagement(zenith, "Chat"), make_engagement(zenith, "Phone")
    hour = datetime.timedelta(hours=1)

    def chat(text):
        return {"chatId": "CH-1", "transcript": [{"from": "customer", "text": text}]}

    return {
        "staff": staff,
        "acme": acme,
        "zenith": zenith,
        "acme_chat": acme_chat,
        "acme_phone": acme_phone,
        "zen_chat": zen_chat,
        "zen_phone": zen_phone,
        "refund": make_interaction(acme_chat, START, "Mary Major", "Negative", chat("I was charged twice, refund?")),
        "parcel": make_interaction(acme_chat, START + hour, "Sam Smith", "Neutral", chat("Where is my parcel?")),
        "zen_refund": make_interaction(zen_chat, START + 2 * hour, "Lee Jones", "Mixed", chat("refund please")),
        "row": make_interaction(acme_phone, START + 3 * hour, "John Ford", "Negative"),
        "zen_row": make_interaction(zen_phone, START + 4 * hour, "Ann Lee", "Positive", {"csvName": "zen.csv"}),
    }


def search(page, term):
    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")


def test_one_search_box_finds_ids_files_and_words(page, screenshot, world):
    agents = page.locator("#result_list td.field-agentName")
    log_in(page)
    page.goto("/admin/interactions/interaction/")
    expect(page.locator("#searchbar_helptext")).to_contain_text("Paste an id")

    search(page, str(world["parcel"].pk))
    expect(agents).to_have_text(["Sam Smith"])
    screenshot("by-interaction-id")

    search(page, str(world["acme_chat"].pk))
    expect(agents).to_have_text(["Sam Smith", "Mary Major"])
    screenshot("by-engagement-id")

    search(page, "2020_16_05_report.csv")
    expect(agents).to_have_text(["John Ford"])
    screenshot("by-csv-name")

    # A word of a chat message: only within a client (or engagement, or dates).
    search(page, "refund")
    expect(page.locator("#result_list")).to_have_count(0)
    page.locator('#changelist-filter details[data-filter-title="client"]').get_by_role(
        "link", name="Acme Footwear Inc. (Acme)"
    ).click()
    expect(page.locator("#searchbar")).to_have_value("refund")
    expect(agents).to_have_text(["Mary Major"])
    screenshot("by-chat-word-within-client")


def test_the_engagement_filter_names_clients(page, screenshot, world):
    log_in(page)
    page.goto("/admin/interactions/interaction/")
    engagements = page.locator('#changelist-filter details[data-filter-title="engagement"] li a')
    expect(engagements).to_have_text(
        ["All", "Chat · Acme Footwear Inc.", "Chat · Zenith Bank", "Phone · Acme Footwear Inc.", "Phone · Zenith Bank"]
    )
    screenshot("changelist")


def test_the_picker_chooses_an_engagement_by_part_of_its_clients_name(page, screenshot, world):
    log_in(page)
    page.goto(f"/admin/interactions/interaction/{world['row'].pk}/change/")
    expect(page.locator("#select2-id_engagementId-container")).to_have_text("Phone · Acme Footwear Inc.")
    page.locator("#select2-id_engagementId-container").click()
    page.locator(".select2-search__field").fill("zeni")
    options = page.locator(".select2-results__option")
    expect(options).to_have_text(["Chat · Zenith Bank", "Phone · Zenith Bank"])
    screenshot("typed")
    options.filter(has_text="Phone · Zenith Bank").click()
    expect(page.locator("#select2-id_engagementId-container")).to_contain_text("Phone · Zenith Bank")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator(".field-client")).to_contain_text("Zenith Bank (Zen)")
    screenshot("saved")


def test_a_clients_page_lists_its_engagements(page, screenshot, world):
    log_in(page)
    page.goto(f"/admin/clients/client/{world['acme'].pk}/change/")
    rows = page.locator(".children-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Chat · Acme Footwear Inc.")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("2")
    expect(rows.nth(1)).to_contain_text("Phone · Acme Footwear Inc.")
    screenshot("client")


def test_an_api_patch_is_in_the_admin_history(page, screenshot, world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world['staff']).key}")
    assert api.patch(f"/interactions/{world['row'].pk}", {"sentiment": "Positive"}, format="json").status_code == 200
    log_in(page)
    page.goto(f"/admin/interactions/interaction/{world['row'].pk}/change/")
    page.get_by_role("link", name="History").click()
    row = page.locator("#change-history tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(["staff", "Changed Sentiment through the API."])
    expect(row.locator("th")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    screenshot("history")
