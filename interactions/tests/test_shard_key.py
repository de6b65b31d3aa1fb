"""Every query a scoped interaction list sends carries the shard key's prefix (docs/scaling.md).

With ``interaction`` sharded on ``{engagementId: 1, interactionDate: 1}``, a query that
constrains ``engagementId`` goes only to the shards holding those engagements; one
that does not goes to every shard. The commands are captured as pymongo sends them.
"""

from urllib.parse import urlsplit

import pytest
from pymongo import monitoring

from interactions.counts import keys
from topbox import mongo

ACME, ACME_PHONE = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435583"
SHARD_KEY_PREFIX = "engagementId"


# The interactions, and their daily counts (interactions.counts), sharded on the same prefix.
SHARDED = ("interaction", keys.COLLECTION)


class InteractionQueries(monitoring.CommandListener):
    """The filters of the commands sent to the ``interaction`` collection and its daily counts."""

    def __init__(self):
        self.filters = []

    def started(self, event):
        command = event.command
        if command.get(event.command_name) not in SHARDED:
            return
        if event.command_name in ("find", "count", "distinct"):
            self.filters.append(command.get("filter", command.get("query", {})))
        elif event.command_name == "aggregate":
            first = command["pipeline"][0] if command["pipeline"] else {}
            self.filters.append(first.get("$match", {}))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def interaction_queries(mongo_uri):
    listener = InteractionQueries()
    mongo.connect(mongo_uri, event_listeners=[listener])
    yield listener.filters
    mongo.connect(mongo_uri)


def constrains(query, field):
    """Whether every document ``query`` matches must have ``field`` within the query's values."""
    if field in query:
        return True
    if any(constrains(clause, field) for clause in query.get("$and", [])):
        return True
    return bool(query.get("$or")) and all(constrains(clause, field) for clause in query["$or"])


def walk(api, path, pages=2):
    """GET ``path`` and the pages after it; return the statuses."""
    statuses = []
    for _ in range(pages):
        response = api.get(path)
        statuses.append(response.status_code)
        following = response.json().get("next") if response.status_code == 200 else None
        if not following:
            break
        parts = urlsplit(following)
        path = f"{parts.path}?{parts.query}"
    return statuses


STAFF_SCOPED = [
    f"/engagements/{ACME_PHONE}/interactions?page_size=5",
    f"/clients/{ACME}/interactions?page_size=5",
    f"/interactions?engagement={ACME_PHONE}&page_size=5",
    f"/interactions?client={ACME}&page_size=5",
    f"/interactions?client={ACME}&from=2020-05-01&to=2020-06-01&page_size=5",
    f"/interactions?engagement={ACME_PHONE}&ordering=agentName&page_size=5",
    f"/interactions?client={ACME}&sentiment=Negative,Mixed&search=jo&page_size=5",
    f"/interactions?engagement={ACME_PHONE}&count=true&expand=engagement.client&page_size=5",
    f"/engagements/{ACME_PHONE}/stats",
    f"/clients/{ACME}/stats?interval=month",
]
CLIENT_USER = [
    "/interactions?page_size=5",
    "/interactions?sentiment=Negative&ordering=-agentName&page_size=5",
    "/interactions?from=2020-05-01&count=true&page_size=5",
    f"/clients/{ACME}/stats",
]


@pytest.mark.parametrize("path", STAFF_SCOPED)
def test_staff_scoped_lists_are_targeted(staff_api, seeded, interaction_queries, path):
    assert set(walk(staff_api, path)) == {200}
    assert interaction_queries  # something was asked
    for query in interaction_queries:
        assert constrains(query, SHARD_KEY_PREFIX), query


@pytest.mark.parametrize("path", CLIENT_USER)
def test_a_client_users_lists_are_targeted(client_api_for, seeded, interaction_queries, path):
    assert set(walk(client_api_for(ACME), path)) == {200}
    assert interaction_queries
    for query in interaction_queries:
        assert constrains(query, SHARD_KEY_PREFIX), query


def test_the_unscoped_staff_list_is_the_scatter_gather_route(staff_api, seeded, interaction_queries):
    """As docs/scaling.md says: every shard answers it (each from its interactionDate index)."""
    assert walk(staff_api, "/interactions?page_size=5") == [200, 200]
    assert interaction_queries
    assert not any(constrains(query, SHARD_KEY_PREFIX) for query in interaction_queries)
