"""Public functions of the engagements app, for the apps above it."""

from clients.access import visible_client_ids
from engagements.documents import Engagement


def ids_for_clients(client_ids):
    """The ids of every engagement of the given clients."""
    return [
        row["_id"] for row in Engagement._get_collection().find({"clientId": {"$in": list(client_ids)}}, {"_id": 1})
    ]


def visible_engagements(user):
    """The filter on the engagement collection for what ``user`` may see."""
    ids = visible_client_ids(user)
    return {} if ids is None else {"clientId": {"$in": ids}}


def count_by_client(client_ids):
    """``{client id: number of engagements}`` for the given clients (absent: none), one query."""
    pipeline = [
        {"$match": {"clientId": {"$in": list(client_ids)}}},
        {"$group": {"_id": "$clientId", "count": {"$sum": 1}}},
    ]
    return {row["_id"]: row["count"] for row in Engagement._get_collection().aggregate(pipeline)}
