"""The admin in a real browser: log in, filter and search interactions, follow a record to its client."""

import pytest
from playwright.sync_api import expect

from sampledata.factories import make_client, make_engagement, make_interaction
from topbox.tests.browser import log_in

pytestmark = pytest.mark.browser


def test_staff_finds_an_interaction_and_follows_it_to_its_client(page, screenshot, django_user_model):
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    acme = make_client("Acme Footwear Inc.", "Acme")
    phone = make_engagement(acme, "Phone")
    make_interaction(phone, agentName="John Ford", sentiment="Negative")
    make_interaction(phone, agentName="Mary Major", sentiment="Positive")
    make_interaction(
        make_engagement(make_client("Zenith Bank", "Zen"), "SMS"), agentName="John Smith", sentiment="Neutral"
    )
    rows = page.locator("#result_list tbody tr")
    agents = page.locator("#result_list td.field-agentName")

    log_in(page)
    page.click('a[href="/admin/interactions/interaction/"]')
    expect(rows).to_have_count(3)
    screenshot("changelist")

    sentiment = page.locator('#changelist-filter details[data-filter-title="sentiment"]')
    sentiment.get_by_role("link", name="Negative").click()
    expect(agents).to_have_text(["John Ford"])
    screenshot("filtered-by-sentiment")

    sentiment.get_by_role("link", name="All").click()
    expect(rows).to_have_count(3)
    page.fill("#searchbar", "john")
    page.press("#searchbar", "Enter")
    expect(agents).to_have_text(["John Smith", "John Ford"])  # newest first
    screenshot("searched-agent")

    page.locator("#result_list tr", has_text="John Ford").locator("th a").click()
    expect(page.locator("h1")).to_have_text("Change interaction")
    expect(page.locator("#id_custom")).to_have_value('{\n  "csvName": "2020_16_05_report.csv"\n}')
    screenshot("interaction")

    expect(page.locator(".reference-target")).to_have_text("Engagement: Phone · Acme Footwear Inc.")
    page.locator(".field-client").get_by_role("link", name="Acme Footwear Inc.").click()
    expect(page.locator("h1")).to_have_text("Change client")
    expect(page.locator("#id_name")).to_have_value("Acme Footwear Inc.")
    screenshot("client")


def test_staff_ticks_rows_and_deletes_them(page, screenshot, django_user_model):
    """The row checkboxes work with Django's actions.js: counted, toggled all, and posted."""
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    phone = make_engagement(make_client("Acme Footwear Inc.", "Acme"), "Phone")
    make_interaction(phone, agentName="John Ford")
    make_interaction(phone, agentName="Mary Major")

    log_in(page, "/admin/login/?next=/admin/interactions/interaction/")
    boxes = page.locator("#result_list input.action-select")
    expect(boxes).to_have_count(2)
    page.check("#action-toggle")
    expect(page.locator(".action-counter")).to_have_text("2 of 2 selected")
    page.uncheck("#action-toggle")
    row = page.locator("#result_list tr", has_text="John Ford")
    row.locator("input.action-select").check()
    expect(page.locator(".action-counter")).to_have_text("1 of 2 selected")
    expect(row).to_have_class("selected")
    screenshot("ticked")

    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    expect(page.locator("#content")).to_contain_text("John Ford at")
    expect(page.locator("#content")).not_to_contain_text("Mary Major")
    page.click("input[type=submit]")
    expect(page.locator("#result_list td.field-agentName")).to_have_text(["Mary Major"])
