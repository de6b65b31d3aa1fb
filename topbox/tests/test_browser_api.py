"""The browsable API in a real browser: log in, then walk from the root to one interaction."""

import pytest

pytestmark = pytest.mark.browser

ACME = "5f18d12f42262eec0d435570"
EXAMPLE = "5f18d12f42262eec0d43567d"


def test_browse_from_the_root_to_one_interaction(page, screenshot, live_server, seeded, django_user_model):
    django_user_model.objects.create_user("staff", password="browse-the-api-2026", is_staff=True)

    page.goto("/api-auth/login/?next=/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "browse-the-api-2026")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "Api Root" in page.title() or "Topbox" in page.content()
    assert page.locator("text=/interactions").count() >= 1
    screenshot("1-root")

    page.goto(f"/clients/{ACME}")
    assert page.locator("text=Acme Footwear Inc.").count() >= 1
    screenshot("2-client")

    page.goto(f"/clients/{ACME}/interactions")
    assert page.locator(".response-info").inner_text().count('"agentName"') == 50
    assert page.locator("text=Next").count() >= 1  # cursor pagination controls
    screenshot("3-client-interactions", full_page=False)

    page.goto(f"/interactions/{EXAMPLE}")
    body = page.locator(".response-info").inner_text()
    assert '"$oid": "5f18d12f42262eec0d43567d"' in body
    assert '"$date": 1589630400000' in body
    assert "John Ford" in body
    path = screenshot("4-interaction")
    assert path.stat().st_size > 10_000
