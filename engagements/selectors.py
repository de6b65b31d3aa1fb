"""Reads of engagements, scoped by the requesting user, for this app and the apps above it."""

from clients.selectors import visible_client_ids
from engagements.documents import Engagement
from topbox.documents import count_references


def engagement_ids(client_ids):
    """The ids of every engagement of the given clients, in one indexed query."""
    cursor = Engagement._get_collection().find({"clientId": {"$in": list(client_ids)}}, {"_id": 1})
    return [row["_id"] for row in cursor]


def visible_engagements(user):
    """The filter on the engagement collection for what ``user`` may see."""
    ids = visible_client_ids(user)
    return {} if ids is None else {"clientId": {"$in": ids}}


def engagement_counts(client_ids):
    """``{client id: number of engagements}`` for the given clients (absent: none), one query."""
    return count_references(Engagement, "clientId", client_ids)
