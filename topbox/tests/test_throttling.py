"""Throttles: API rates per user and address, failed tokens, locked-out logins."""

import re

import pytest
from rest_framework.test import APIClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def rates(settings):
    """``rates(user=..., anon=..., failed_token=...)``: throttle rates for this test."""

    def set_rates(**changes):
        settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, **changes}

    return set_rates


def test_a_user_over_its_rate_gets_429_with_retry_after(staff_api, rates):
    rates(user="3/minute")
    assert [staff_api.get("/clients").status_code for _ in range(3)] == [200, 200, 200]
    response = staff_api.get("/clients")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_users_are_counted_apart(staff_api, client_api_for, seeded, rates):
    rates(user="2/minute")
    other = client_api_for("5f18d12f42262eec0d435570")
    assert [staff_api.get("/clients").status_code for _ in range(3)] == [200, 200, 429]
    assert other.get("/clients").status_code == 200


def test_anonymous_requests_are_counted_per_address(anonymous_api, rates):
    rates(anon="2/minute")
    assert [anonymous_api.get("/schema").status_code for _ in range(3)] == [200, 200, 429]
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.7")
    assert elsewhere.get("/schema").status_code == 200


def test_a_forged_forwarded_for_does_not_reset_the_count(anonymous_api, rates):
    rates(anon="2/minute")
    codes = [anonymous_api.get("/schema", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(3)]
    assert codes == [200, 200, 429]  # no proxy is trusted by default (TRUSTED_PROXY_COUNT=0)


def test_behind_a_trusted_proxy_the_forwarded_address_counts(anonymous_api, rates, settings):
    rates(anon="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    first = anonymous_api.get("/schema", HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = anonymous_api.get("/schema", HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = anonymous_api.get("/schema", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


def test_failed_tokens_lock_out_every_token_from_that_address(staff_api, rates):
    rates(failed_token="3/minute")
    guesser = APIClient()
    for n in range(3):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token guess{n}")
        assert guesser.get("/clients").status_code == 401
    guesser.credentials(HTTP_AUTHORIZATION="Token guess3")
    assert guesser.get("/clients").status_code == 429
    # The right token from there is refused too (guessing cannot go on), not from elsewhere.
    assert staff_api.get("/clients").status_code == 429
    assert staff_api.get("/clients", REMOTE_ADDR="192.0.2.8").status_code == 200


def test_good_tokens_are_not_counted_as_failures(staff_api, rates):
    rates(failed_token="2/minute")
    assert all(staff_api.get("/clients").status_code == 200 for _ in range(4))


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="correct horse battery", is_staff=True)


def fail_logins(client, url, times, username="alice"):
    return [client.post(url, {"username": username, "password": "wrong"}).status_code for _ in range(times)]


@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"])
def test_logins_lock_out_after_the_failure_limit_and_say_when_to_retry(client, alice, settings, url):
    settings.AXES_FAILURE_LIMIT = 3
    assert fail_logins(client, url, 2) == [200, 200]  # the form again, with its error
    locked = client.post(url, {"username": "alice", "password": "wrong"})
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert re.search(rf"Try again after \d\d:\d\d UTC \(in {minutes} minutes\)", page)
    assert int(locked["Retry-After"]) == pytest.approx(minutes * 60, abs=5)
    # Even the right password is refused until then; another user from here is not.
    assert client.post(url, {"username": "alice", "password": "correct horse battery"}).status_code == 429
    assert fail_logins(client, url, 1, username="bob") == [200]


def test_the_lockout_ends_when_the_page_says(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 2
    fail_logins(client, "/admin/login/", 2)
    first = client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    later = client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert first.status_code == later.status_code == 429
    assert int(later["Retry-After"]) <= int(first["Retry-After"])  # failures meanwhile do not extend it


def test_a_successful_login_resets_the_count(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    assert fail_logins(client, "/admin/login/", 2) == [200, 200]
    ok = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": "correct horse battery"})
    assert ok.status_code == 302
    client.logout()
    assert fail_logins(client, "/admin/login/", 2) == [200, 200]
