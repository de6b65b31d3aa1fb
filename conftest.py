"""Test fixtures shared by every app: a real MongoDB wire-protocol server.

Without ``MONGO_URI`` the session starts an ephemeral embedded server (in-memory
storage, a free port). With ``MONGO_URI`` set, the same suite runs against that server,
in a throw-away database that is dropped at the end. Every test starts from empty
collections (emptied, not dropped, so the indexes stay). With ``TEST_POSTGRES=1``
Django's SQL side runs on a PostgreSQL server the session starts (``devtools.postgres``).
"""

import contextlib
import os
import uuid

import pytest

from devtools.embedded import EmbeddedMongo, free_port
from topbox import documents, mongo, transactions

# Browser tests: Playwright driving Debian's Chromium (browser, page, screenshot).
pytest_plugins = ["topbox.tests.browser"]


@pytest.fixture(scope="session")
def mongo_uri():
    external = os.environ.get("MONGO_URI")
    if external:
        name = f"topbox_test_{uuid.uuid4().hex[:12]}"
        uri = mongo.with_database(external, name)
        mongo.connect(uri)
        documents.ensure_indexes()
        yield uri
        mongo.database().client.drop_database(name)
    else:
        with EmbeddedMongo(free_port(), test_commands=True) as server:  # (failpoints: see fail_next)
            uri = server.uri + "topbox_test"
            mongo.connect(uri)
            documents.ensure_indexes()
            yield uri


@pytest.fixture(scope="session")
def postgres_server():
    """With ``TEST_POSTGRES=1``, a PostgreSQL server of the session's own; else None (SQLite)."""
    if os.environ.get("TEST_POSTGRES") != "1":
        yield None
        return
    from devtools.postgres import TemporaryPostgres

    with TemporaryPostgres() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(postgres_server):
    """With ``TEST_POSTGRES=1`` (the compose stack's databases), a Redis server; else None."""
    if postgres_server is None:
        yield None
        return
    from devtools.redis import TemporaryRedis

    with TemporaryRedis() as server:
        yield server


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, postgres_server):
    """pytest-django's hook: point Django's SQL side at the session's PostgreSQL when there is one."""
    if postgres_server is None:
        return
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    # In place: Django's connection handler holds this very dict.
    # OPTIONS too: SQLite's (its PRAGMAs) mean nothing to PostgreSQL.
    settings.DATABASES["default"].update({"OPTIONS": {}, **dj_database_url.parse(postgres_server.url("topbox"))})
    del connections["default"]


@pytest.fixture(autouse=True)
def empty_collections(mongo_uri):
    database = mongo.database()
    if not os.environ.get("MONGO_URI"):
        # A transaction an earlier test left open (its abort timed out on a busy machine)
        # would hold its documents until the server reaps it, 60 s later: end it now, as
        # the reaper would. (Not on a server the suite shares with others.)
        database.client.admin.command("killAllSessions", [])
    for name in database.list_collection_names():
        if not name.startswith("system."):
            database[name].delete_many({})
    from interactions.counts import reading

    reading.forget_recent()  # (what this process read of the counts lately)
    transactions.calm()  # (writes spread over slots after an earlier test's conflict)


@pytest.fixture
def mongo_down(settings, mongo_uri):
    """Point the app at a port where nothing listens, for the length of one test."""
    timeout = settings.MONGO_TIMEOUT_MS
    settings.MONGO_TIMEOUT_MS = 300
    mongo.connect(f"mongodb://127.0.0.1:{free_port()}/topbox_down")
    yield
    settings.MONGO_TIMEOUT_MS = timeout
    mongo.connect(mongo_uri)


# API clients, authenticated as the product's kinds of user.


@pytest.fixture(scope="session")
def _seed_snapshot(mongo_uri):
    from interactions.counts import keys
    from sampledata import seeding

    database = mongo.database()
    seeding.seed(flush=True)
    # With the daily counts, the engagements' totals, the all-engagement days and the agents' names.
    names = ("client", "engagement", "interaction", keys.COLLECTION, keys.TOTALS, keys.DAILY, keys.NAMES)
    snapshot = {name: list(database[name].find()) for name in names}
    for name in snapshot:
        database[name].delete_many({})
    return snapshot


@pytest.fixture
def seeded(_seed_snapshot):
    """The sample data from fixtures/ (loaded by `seed` once, then copied in for each test)."""
    database = mongo.database()
    for name, stored in _seed_snapshot.items():
        database[name].insert_many(stored)


@pytest.fixture
def two_clients(mongo_uri):
    """Two clients and their engagements, no interactions: the world the admin tests start from.

    ``acme`` (Acme Footwear Inc.) has the engagements ``phone`` and ``chat``; ``zenith``
    (Zenith Bank) has ``sms``. A dict of those names, so that a test adds its own records
    and names the rows it lists by the same keys.
    """
    from sampledata.factories import make_client, make_engagement

    acme, zenith = make_client("Acme Footwear Inc.", "Acme"), make_client("Zenith Bank", "Zen")
    phone, chat, sms = make_engagement(acme, "Phone"), make_engagement(acme, "Chat"), make_engagement(zenith, "SMS")
    return {"acme": acme, "zenith": zenith, "phone": phone, "chat": chat, "sms": sms}


def _api_client_for(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    client.user = user
    return client


@pytest.fixture
def staff_api(db, django_user_model):
    return _api_client_for(django_user_model.objects.create_user("staff", is_staff=True))


@pytest.fixture
def admin_client(client, django_user_model):
    """pytest-django's, without hashing a password (a third of a second per test)."""
    client.force_login(django_user_model.objects.create_superuser("admin", "admin@example.com", None))
    return client


@pytest.fixture
def anonymous_api(db):
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_api_for(db):
    """``client_api_for(client_id)``: an API client logged in as a user of that client."""
    from django.contrib.auth import get_user_model

    from clients.client_users import create_client_user

    def make(client_id):
        user, _ = create_client_user(f"user-of-{client_id}", str(client_id))
        return _api_client_for(get_user_model().objects.get(pk=user.pk))

    return make


@contextlib.contextmanager
def _recording(mongo_uri, entry):
    """Connected with a listener appending ``entry(event)`` (unless None) to the list
    yielded, for each command sent; then as before."""
    from pymongo import monitoring

    sent = []

    class Listener(monitoring.CommandListener):
        def started(self, event):
            if (item := entry(event)) is not None:
                sent.append(item)

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    mongo.connect(mongo_uri, event_listeners=[Listener()])
    yield sent
    mongo.connect(mongo_uri)


def _command(event):
    if event.command_name not in ("hello", "isMaster", "ping", "endSessions"):
        return event.command_name, event.command.get(event.command_name)
    return None


def _interaction_find(event):
    if event.command_name == "find" and event.command.get("find") == "interaction":
        return event.command.get("filter", {})
    return None


def _interaction_command(event):
    command = event.command
    if command.get(event.command_name) == "interaction":
        return event.command_name, command.get("filter", command.get("pipeline"))
    return None


@pytest.fixture
def mongo_commands(mongo_uri):
    """The names of the MongoDB commands sent while the test runs (``list`` of ``(name, collection)``)."""
    with _recording(mongo_uri, _command) as sent:
        yield sent


@pytest.fixture
def interaction_finds(mongo_uri):
    """The filters of the ``find`` commands sent to the interaction collection."""
    with _recording(mongo_uri, _interaction_find) as sent:
        yield sent


@pytest.fixture
def interaction_commands(mongo_uri):
    """``(name, filter or pipeline)`` of each command sent to the interaction collection."""
    with _recording(mongo_uri, _interaction_command) as sent:
        yield sent
