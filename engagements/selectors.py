"""Reads of engagements, scoped by the requesting user, for this app and the apps above it."""

from clients.documents import Client
from clients.selectors import visible_client_ids, visible_clients
from engagements.documents import Engagement
from topbox import memo
from topbox.api.filters import merge
from topbox.documents import count_references, load_labels
from topbox.textsearch import words_filter


@memo.memoized
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


def label_filter(words, visible_client_filter=None):
    """The filter for engagements whose label ("Chat · Acme Footwear Inc.") holds every word:
    each word in the source's name or in its client's name or nickName. Clients are few: the
    matching ones are found first, one query per word."""
    conditions = []
    for word in words:
        clients = Client._get_collection().find(
            merge([visible_client_filter or {}, words_filter(["name", "nickName"], [word])]), {"_id": 1}
        )
        client_ids = [row["_id"] for row in clients]
        conditions.append({"$or": [words_filter(["name"], [word]), {"clientId": {"$in": client_ids}}]})
    return {"$and": conditions} if conditions else {}


def engagement_choices(user, words, offset, limit):
    """A page of the engagements ``user`` may see whose label holds every word, by source then
    id, with their clients loaded for their labels (the admin's picker)."""
    query = merge([visible_engagements(user), label_filter(words, visible_clients(user))])
    return load_labels(list(Engagement.objects(__raw__=query).order_by("name", "id").skip(offset).limit(limit)))
