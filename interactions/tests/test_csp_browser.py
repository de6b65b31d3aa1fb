"""The production Content-Security-Policy in a real browser: the admin, the browsable API
and the API docs work under it, and the browser reports no violation."""

import pytest
from playwright.sync_api import expect

from sampledata.factories import make_interaction
from topbox.security import DEFAULT_POLICY

pytestmark = pytest.mark.browser


def test_pages_work_under_the_production_csp(page, screenshot, settings, django_user_model):
    settings.CONTENT_SECURITY_POLICY = DEFAULT_POLICY
    django_user_model.objects.create_superuser("staff", "staff@example.com", "a-long-admin-password")
    make_interaction()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    response = page.goto("/admin/")
    assert response.headers["content-security-policy"] == DEFAULT_POLICY
    page.fill("#id_username", "staff")
    page.fill("#id_password", "a-long-admin-password")
    page.click("input[type=submit]")
    page.click('a[href="/admin/interactions/interaction/"]')
    page.check("#action-toggle")  # the admin's actions.js counts the selection
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    screenshot("admin-changelist")
    page.click("#result_list tbody tr a")
    expect(page.locator("#id_custom")).to_be_visible()
    screenshot("admin-change-form")

    page.goto("/interactions")  # the browsable API, logged in through the admin's session
    expect(page.locator(".response-info")).to_be_visible()
    page.click(".dropdown-toggle")  # Bootstrap's dropdown script must run
    screenshot("browsable-api")
    page.click("text=Log out")  # a form, not an inline script
    expect(page.locator("text=Log in")).to_be_visible()

    page.goto("/docs")
    expect(page.locator(".swagger-ui .information-container")).to_be_visible(timeout=15000)
    screenshot("api-docs")
    assert violations == []
