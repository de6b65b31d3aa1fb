"""Reads of clients, scoped by the requesting user: the access rule every view, filter,
admin screen and statistic of the product calls."""

from bson import ObjectId

from clients.documents import Client
from topbox.api.filters import merge
from topbox.textsearch import words_filter


def visible_client_ids(user):
    """``None`` if ``user`` may see every client (staff); else the list of ids it may see.

    A client user sees its own Client; any other non-staff user sees nothing.
    """
    if user.is_staff:
        return None
    membership = getattr(user, "client_membership", None)
    if membership is None or not ObjectId.is_valid(membership.client_id):
        return []
    return [ObjectId(membership.client_id)]


def visible_clients(user):
    """The filter on the client collection for what ``user`` may see."""
    ids = visible_client_ids(user)
    return {} if ids is None else {"_id": {"$in": ids}}


def client_choices(user, words, offset, limit):
    """A page of the clients ``user`` may see whose name or nickName holds every word, by name
    (the admin's picker)."""
    query = merge([visible_clients(user), words_filter(["name", "nickName"], words) if words else {}])
    return list(Client.objects(__raw__=query).order_by("name", "id").skip(offset).limit(limit))
