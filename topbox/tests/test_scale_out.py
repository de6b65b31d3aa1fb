"""Two web processes (gunicorn) on the same databases behave as one site.

They share the SQL database (users, tokens, sessions) and the cache: a SQLite file and
the cache table in it (the defaults), as gunicorn workers on one machine do; with
TEST_POSTGRES=1, PostgreSQL and Redis, as web machines in the compose stack do. Each
test speaks as its own client address, forwarded as the compose file's nginx does, so
that their counts stay apart.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings

from devtools.embedded import free_port

pytestmark = pytest.mark.postgres

LIMITS = {"API_THROTTLE_USER": "6/minute", "API_THROTTLE_FAILED_TOKENS": "3/minute", "LOGIN_FAILURE_LIMIT": "3"}
SETUP = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
User = get_user_model()
User.objects.create_superuser("root", "root@example.com", "a-long-admin-password")
users = {name: User.objects.create_user(name, is_staff=True) for name in ("reader", "busy")}
print(json.dumps({name: (user.pk, Token.objects.create(user=user).key) for name, user in users.items()}))
"""


@pytest.fixture(scope="module")
def web(mongo_uri, postgres_server, redis_server, tmp_path_factory):
    """``((first, second), users, env)``: two gunicorn processes' URLs, ``{name: (pk, token)}``, their env."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CACHE_URL")}
    env.update(LIMITS, DJANGO_SETTINGS_MODULE="topbox.settings", MONGO_URI=mongo_uri, TRUSTED_PROXY_COUNT="1")
    if postgres_server is None:
        env["DJANGO_SQLITE_PATH"] = str(tmp_path_factory.mktemp("web") / "django.sqlite3")
    else:
        env["DATABASE_URL"] = postgres_server.create_database("scale_out")
        env["CACHE_URL"] = redis_server.url

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--verbosity", "0")
    users = json.loads(manage("shell", "--no-imports", "-c", SETUP))
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "topbox.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_until_up(url)
        yield urls, users, env
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)


def wait_until_up(url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # a busy machine: keep waiting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client at ``address`` (as forwarded by a proxy), with cookies, that never follows redirects."""

    def __init__(self, address):
        self.address = address
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def request(self, url, data=None, token=None):
        headers = {"X-Forwarded-For": self.address, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if data is not None:
            data = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
            headers["Referer"] = url
        try:
            with self.opener.open(urllib.request.Request(url, data, headers), timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def status(self, url, data=None, token=None):
        return self.request(url, data, token)[0]

    def csrf(self):
        return next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")


def test_a_token_revoked_through_one_process_is_refused_by_the_other_at_once(web):
    (first, second), users, _ = web
    user_pk, token = users["reader"]
    client = Browser("203.0.113.10")
    assert client.status(second + "/clients", token=token) == 200  # the token's user is now cached
    assert client.status(first + "/clients", token=token) == 200

    staff = Browser("203.0.113.11")
    staff.request(first + "/admin/login/")
    login = {"username": "root", "password": "a-long-admin-password", "next": "/admin/"}
    assert staff.status(first + "/admin/login/", login) == 302
    delete = f"/admin/authtoken/tokenproxy/{user_pk}/delete/"
    assert staff.status(first + delete) == 200
    assert staff.status(first + delete, {"post": "yes"}) == 302

    status, _, body = client.request(second + "/clients", token=token)
    assert (status, json.loads(body)) == (401, {"detail": "Invalid token."})


def test_a_users_requests_are_counted_across_both_processes(web):
    (first, second), users, _ = web
    token = users["busy"][1]
    client = Browser("203.0.113.20")
    codes = [client.status((first, second)[n % 2] + "/clients", token=token) for n in range(6)]
    assert codes == [200] * 6  # the rate is 6/minute: three on each
    assert client.status(first + "/clients", token=token) == 429
    status, headers, _ = client.request(second + "/clients", token=token)
    assert status == 429
    assert 0 < int(headers["Retry-After"]) <= 60


def test_failed_tokens_are_counted_across_both_processes(web):
    (first, second), _, _ = web
    guesser = Browser("203.0.113.30")
    codes = [guesser.status((first, second)[n % 2] + "/clients", token=f"guess{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429]


def test_a_login_locked_out_on_one_process_is_locked_out_on_the_other(web):
    (first, second), _, _ = web
    guesser = Browser("203.0.113.40")
    guesser.request(first + "/admin/login/")
    wrong = {"username": "root", "password": "wrong"}
    codes = [guesser.status((first, second)[n % 2] + "/admin/login/", wrong) for n in range(3)]
    assert codes == [200, 200, 429]
    status, headers, page = guesser.request(
        second + "/admin/login/", {"username": "root", "password": "a-long-admin-password"}
    )
    assert status == 429
    assert re.search(r"Try again after \d\d:\d\d UTC", page)
    assert int(headers["Retry-After"]) > 0


def test_the_entries_are_in_the_configured_shared_cache(web):
    (first, _), users, env = web
    assert Browser("203.0.113.50").status(first + "/clients", token=users["busy"][1]) in (200, 429)
    if "CACHE_URL" in env:  # Redis
        import redis

        keys = [key.decode() for key in redis.Redis.from_url(env["CACHE_URL"]).keys("topbox:*")]
    else:  # the cache table in the SQLite file
        import sqlite3

        with sqlite3.connect(env["DJANGO_SQLITE_PATH"]) as connection:
            keys = [row[0] for row in connection.execute("SELECT cache_key FROM topbox_cache")]
    assert any("topbox.token." in key for key in keys)
    assert any("throttle_user_" in key for key in keys)
