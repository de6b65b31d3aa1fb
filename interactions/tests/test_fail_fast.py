"""With the database stopped or paused, every kind of entry point answers within 2 s, says
what failed, and recovers without a restart; a merely slow query is a 504, not a 503."""

import datetime
import os
import signal
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from clients.documents import Client
from devtools.embedded import EmbeddedMongo, free_port
from interactions.documents import Interaction
from sampledata.factories import make_engagement, make_interaction
from topbox import documents, mongo

LIMIT = 2.0  # seconds, with the default settings
SHORT = {"MONGO_TIMEOUT_MS": 100, "MONGO_QUERY_TIMEOUT_MS": 200}  # the whole route set, faster


@pytest.fixture
def own_server(mongo_uri):
    """A database of this test's own, to stop and pause; the session's is restored after."""
    server = EmbeddedMongo(free_port()).start()
    mongo.connect(server.uri + "failfast")
    documents.ensure_indexes()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
    mongo.connect(mongo_uri)


@pytest.fixture
def world(own_server):
    engagement = make_engagement()
    return {"engagement": engagement, "client": engagement.clientId, "interaction": make_interaction(engagement)}


def api_routes(world):
    client, engagement, interaction = world["client"].pk, world["engagement"].pk, world["interaction"].pk
    return [
        ("get", "/clients"),
        ("get", f"/clients/{client}"),
        ("get", f"/engagements/{engagement}/interactions"),
        ("get", f"/interactions/{interaction}?expand=engagement"),
        ("get", f"/clients/{client}/stats"),
        ("get", "/stats"),
        ("delete", f"/interactions/{interaction}"),
    ]


def admin_routes(world):
    return [
        "/admin/interactions/interaction/",
        f"/admin/clients/client/{world['client'].pk}/change/",
        "/admin/engagements/engagement/",
    ]


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def check_everything_fails_fast(staff_api, admin_client, world, tmp_path, limit=LIMIT, defaults_only=False):
    """Every route (or with ``defaults_only``, one of each kind) answers within ``limit``."""
    first = slice(0, 1) if defaults_only else slice(None)
    for method, url in api_routes(world)[first]:
        response, seconds = timed(lambda: getattr(staff_api, method)(url))  # noqa: B023
        assert (url, response.status_code) == (url, 503)
        assert response.json() == {"detail": "The database is unavailable; try again shortly."}
        assert seconds < limit, (url, seconds)
    if not defaults_only:
        imports, seconds = timed(
            lambda: staff_api.post(
                f"/engagements/{world['engagement'].pk}/imports?name=a.csv",
                b"interactionDate,agentName\n",
                content_type="text/csv",
            )
        )
        assert (imports.status_code, seconds < limit) == (503, True)
    for url in admin_routes(world)[first]:
        response, seconds = timed(lambda: admin_client.get(url))  # noqa: B023
        assert response.status_code == 503, url
        assert b"The database is unavailable" in response.content
        assert seconds < limit, (url, seconds)
    if not defaults_only:
        health, seconds = timed(lambda: staff_api.get("/healthz"))
        assert (health.status_code, seconds < limit) == (503, True)
    csv = tmp_path / "a.csv"
    csv.write_text("interactionDate,agentName\n2020-05-16,A\n")
    commands = [
        ("seed",),
        ("ensure_indexes",),
        ("rebuild_rollups", "--check"),
        ("ingest", str(csv), "--engagement", str(world["engagement"].pk)),
    ]
    for command in commands[first]:
        started = time.monotonic()
        with pytest.raises(CommandError, match="did not answer within"):
            call_command(*command, stdout=StringIO())
        assert time.monotonic() - started < limit, command


def pause(pid):
    """SIGSTOP, and wait until the process is stopped (the signal is asynchronous)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "T":
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.01)


def check_everything_works(staff_api, admin_client, world):
    for _, url in api_routes(world)[:-1]:
        assert staff_api.get(url).status_code == 200, url
    for url in admin_routes(world):
        assert admin_client.get(url).status_code == 200, url
    assert staff_api.get("/healthz").status_code == 200


def check_fails_fast_with_defaults_and_short_settings(server, staff_api, admin_client, world, tmp_path, settings):
    """One route of each kind within 2 s as configured by default; every route within 1 s
    with shorter timeouts (the bound follows the settings)."""
    check_everything_fails_fast(staff_api, admin_client, world, tmp_path, LIMIT, defaults_only=True)
    defaults = {name: getattr(settings, name) for name in SHORT}
    for name, value in SHORT.items():
        setattr(settings, name, value)
    mongo.connect(server.uri + "failfast")
    check_everything_fails_fast(staff_api, admin_client, world, tmp_path, limit=1.0)
    for name, value in defaults.items():
        setattr(settings, name, value)
    mongo.connect(server.uri + "failfast")


def test_a_paused_database_fails_every_entry_point_fast_and_recovers(
    own_server, world, staff_api, admin_client, tmp_path, settings
):
    check_everything_works(staff_api, admin_client, world)
    pause(own_server.process.pid)
    try:
        check_fails_fast_with_defaults_and_short_settings(
            own_server, staff_api, admin_client, world, tmp_path, settings
        )
    finally:
        os.kill(own_server.process.pid, signal.SIGCONT)
    check_everything_works(staff_api, admin_client, world)  # the same process, no restart


def test_a_stopped_database_fails_every_entry_point_fast_and_recovers(
    own_server, world, staff_api, admin_client, tmp_path, settings
):
    own_server.stop()
    check_fails_fast_with_defaults_and_short_settings(own_server, staff_api, admin_client, world, tmp_path, settings)
    restarted = EmbeddedMongo(own_server.port).start()  # a new, empty server on the same port
    try:
        world = {
            "engagement": (engagement := make_engagement()),
            "client": engagement.clientId,
            "interaction": make_interaction(engagement),
        }
        check_everything_works(staff_api, admin_client, world)
    finally:
        restarted.stop()


def test_a_slow_query_is_a_504_naming_a_narrower_query_while_health_says_up(
    own_server, staff_api, admin_client, settings
):
    engagement = make_engagement()
    when = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Interaction._get_collection().insert_many(
        [
            {"engagementId": engagement.pk, "interactionDate": when + datetime.timedelta(minutes=i), "agentName": "A"}
            for i in range(6000)
        ]
    )
    settings.MONGO_QUERY_TIMEOUT_MS = 40
    response = staff_api.get("/interactions", {"custom.topic": "zzz"})  # no index: every interaction read
    assert response.status_code == 504
    assert response.json()["detail"].startswith("The query took longer than 40 ms and was stopped: narrow it")
    assert staff_api.get("/healthz").status_code == 200
    # Words within an engagement: the admin's bounded scan of its source records (an agent
    # search alone reads the agents' names, which is quick).
    page = admin_client.get(f"/admin/interactions/interaction/?engagement={engagement.pk}&q=zzz")
    assert page.status_code == 504
    assert b"Narrow what the page shows" in page.content
    assert Client.objects.count() == 1


def test_a_csv_import_gets_its_own_longer_deadline(staff_api, settings):
    """Many batches, not one query: MONGO_IMPORT_TIMEOUT_MS, not the 1 s of a read."""
    settings.MONGO_QUERY_TIMEOUT_MS = 1  # any other request would be stopped at once
    engagement = make_engagement()
    rows = "".join(f"2020-05-16T12:00:00Z,Agent {n}\n" for n in range(3000))
    response = staff_api.post(
        f"/engagements/{engagement.pk}/imports?name=big.csv",
        ("interactionDate,agentName\n" + rows).encode(),
        content_type="text/csv",
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["inserted"] == 3000
    assert staff_api.get("/interactions").status_code == 504
