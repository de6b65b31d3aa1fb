"""The production image's own build and start commands, run outside Docker: every HTML page
renders (200, its static files found in the manifest) under the production settings.

No Docker engine runs here, so the test reads the Dockerfile, runs its collectstatic step
and its CMD as written (with ``python`` from this virtualenv), and fetches the pages the
way a browser behind a TLS-terminating proxy would.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from devtools.embedded import free_port
from topbox.tests.test_configuration import STRONG_KEY

ROOT = Path(settings.BASE_DIR)
PASSWORD = "a-long-operator-password"


def instructions():
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def build_static_command():
    (run,) = [line for line in instructions() if line.startswith("RUN ") and "collectstatic" in line]
    return run.removeprefix("RUN ")


def start_command():
    (cmd,) = [line for line in instructions() if line.startswith("CMD ")]
    return json.loads(cmd.removeprefix("CMD "))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url, **headers):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def image(tmp_path_factory, mongo_uri):
    """The collectstatic step, then the CMD, with the environment compose gives the image."""
    tmp = tmp_path_factory.mktemp("image")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MONGO_", "TOPBOX_"))},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    built = subprocess.run(["sh", "-c", build_static_command()], cwd=ROOT, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert (tmp / "static" / "staticfiles.json").exists()
    port = free_port()
    env.update(
        DJANGO_ENV="production", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="127.0.0.1",
        MONGO_URI=mongo_uri, TOPBOX_DATA_DIR=str(tmp), PORT=str(port), WEB_CONCURRENCY="1",
    )  # fmt: skip
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        start_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if fetch(base + "/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert server.poll() is None, (tmp / "server.log").read_text()
        assert time.monotonic() < deadline, (tmp / "server.log").read_text()
        time.sleep(0.3)
    token = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
         "print(Token.objects.create(user=User.objects.create_superuser('ops', None, PASSWORD)).key)"
         .replace("PASSWORD", repr(PASSWORD))],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    yield base, token
    server.terminate()
    server.wait(30)
    log.close()


@pytest.fixture(scope="module")
def admin_cookie(image):
    """A session, logged in through the admin's own login form (CSRF and all, over "HTTPS")."""
    base, _ = image
    _, headers, body = fetch(base + "/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body.decode()).group(1)
    (cookie,) = [c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken=")]
    form = urllib.parse.urlencode({"username": "ops", "password": PASSWORD, "csrfmiddlewaretoken": csrf}).encode()
    origin = "https://" + base.removeprefix("http://")
    request = urllib.request.Request(
        base + "/admin/login/?next=/admin/", data=form,
        headers={"X-Forwarded-Proto": "https", "Cookie": cookie, "Referer": origin + "/admin/login/", "Origin": origin},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as redirected:  # 302 to /admin/, not followed
        OPENER.open(request, timeout=30)
    assert redirected.value.code == 302, redirected.value.read()[:2000]
    cookies = redirected.value.headers.get_all("Set-Cookie")
    (session,) = [c.split(";")[0].removeprefix("sessionid=") for c in cookies if c.startswith("sessionid=")]
    return session


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/interactions/interaction/", "/admin/dashboard/", "/admin/clients/client/add/"]
)
def test_every_admin_page_renders_with_its_static_files(image, admin_cookie, path):
    base, _ = image
    status, _, body = fetch(base + path, Cookie=f"sessionid={admin_cookie}")
    assert status == 200, body[:2000]
    for reference in static_references(body.decode()):
        assert fetch(base + reference)[0] == 200, reference


def static_references(html):
    return sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html)))


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [("/admin/login/", False), ("/api-auth/login/", False), ("/docs", False), ("/clients", True), ("/", True)],
)
def test_every_html_page_renders_with_its_static_files(image, path, authenticated):
    base, token = image
    headers = {"Accept": "text/html", **({"Authorization": f"Token {token}"} if authenticated else {})}
    status, response_headers, body = fetch(base + path, **headers)
    assert status == 200, body[:2000]
    html = body.decode()
    assert "<html" in html
    references = static_references(html)
    assert references, "the page loads static files"
    for reference in references:
        assert re.search(r"\.[0-9a-f]{12}\.", reference), reference  # a hashed name from the manifest
        assert fetch(base + reference)[0] == 200, reference
    assert response_headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "default-src 'self'" in response_headers["Content-Security-Policy"]


def test_the_docs_script_is_served_as_a_file_for_the_csp(image):
    base, _ = image
    status, headers, _ = fetch(base + "/docs?script")
    assert status == 200
    assert "javascript" in headers["Content-Type"]


def test_plain_http_is_redirected_to_https_but_health_checks_are_not(image):
    base, _ = image
    request = urllib.request.Request(base + "/clients")
    with pytest.raises(urllib.error.HTTPError) as caught:
        OPENER.open(request, timeout=30)
    assert caught.value.code == 301
    assert caught.value.headers["Location"].startswith("https://127.0.0.1")
    with OPENER.open(urllib.request.Request(base + "/healthz"), timeout=30) as response:
        assert response.status == 200


def test_a_chunked_body_is_read_under_gunicorn(image):
    """gunicorn de-chunks the body and says so (wsgi.input_terminated): it is read, not taken as empty."""
    base, token = image
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = json.dumps({"name": "Chunked Inc."}).encode()
    connection.request(
        "POST", "/clients", body=iter([body[:5], body[5:]]), encode_chunked=True,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "X-Forwarded-Proto": "https"},
    )  # fmt: skip
    response = connection.getresponse()
    assert response.status == 201, response.read()
    assert json.loads(response.read())["name"] == "Chunked Inc."
