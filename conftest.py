"""Test fixtures shared by every app: a real MongoDB wire-protocol server.

Without ``MONGO_URI`` the session starts an ephemeral embedded server (in-memory
storage, a free port). With ``MONGO_URI`` set, the same suite runs against that server,
in a throw-away database that is dropped at the end. Every test starts from empty
collections (emptied, not dropped, so the indexes stay).
"""

import os
import uuid

import pytest

from topbox import documents, mongo
from topbox.embedded import EmbeddedMongo, free_port


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
        with EmbeddedMongo(free_port()) as server:
            uri = server.uri + "topbox_test"
            mongo.connect(uri)
            documents.ensure_indexes()
            yield uri


@pytest.fixture(autouse=True)
def empty_collections(mongo_uri):
    database = mongo.database()
    for name in database.list_collection_names():
        if not name.startswith("system."):
            database[name].delete_many({})


@pytest.fixture
def mongo_down(settings, mongo_uri):
    """Point the app at a port where nothing listens, for the length of one test."""
    timeout = settings.MONGO_TIMEOUT_MS
    settings.MONGO_TIMEOUT_MS = 300
    mongo.connect(f"mongodb://127.0.0.1:{free_port()}/topbox_down")
    yield
    settings.MONGO_TIMEOUT_MS = timeout
    mongo.connect(mongo_uri)
