"""What a person sees after too many wrong passwords: when to try again."""

import re

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.browser


@pytest.fixture
def lockouts_cleared():
    yield
    cache.clear()  # the cache table outlives a transactional test's flush


@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"], ids=["admin", "browsable-api"])
def test_a_locked_out_login_says_when_to_try_again(
    page, screenshot, settings, django_user_model, lockouts_cleared, url
):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user("alice", password="correct horse battery", is_staff=True)
    for attempt in range(3):
        page.goto(url)
        page.fill("#id_username", "alice")
        page.fill("#id_password", f"wrong-{attempt}")
        with page.expect_navigation():
            page.click("button[type=submit], input[type=submit]")
    heading = page.locator("h1", has_text="Too many failed logins")
    heading.wait_for()
    assert heading.is_visible()
    text = page.locator(".errornote").inner_text()
    assert re.search(r"Logins as alice from your address are refused", text)
    assert re.search(r"Try again after \d\d:\d\d UTC \(in 15 minutes\)", text)
    screenshot("locked-out")
