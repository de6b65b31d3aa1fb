"""Reads of interactions, scoped by the requesting user, for this app and the screens that look at it."""

import datetime

from clients.selectors import visible_client_ids
from engagements.selectors import engagement_ids
from interactions.counts import reading
from interactions.documents import Interaction
from topbox.dates import at_or_after


def visible_interactions(user):
    """The filter on the interaction collection for what ``user`` may see."""
    ids = visible_client_ids(user)
    return {} if ids is None else {"engagementId": {"$in": engagement_ids(ids)}}


def client_interactions(client_id):
    """The filter on the interaction collection for one client's interactions."""
    return {"engagementId": {"$in": engagement_ids([client_id])}}


def interaction_counts(engagement_ids):
    """``{engagement id: number of interactions}`` for the given engagements (absent: none):
    their totals, which the daily counts keep (one small document each), not a count of
    their interactions."""
    return reading.engagement_totals(engagement_ids)


def csv_file_counts(engagement_id, limit):
    """``[(csvName, rows)]`` of one engagement's CSV files, by name, at most ``limit``: from
    the names the daily counts keep (:func:`interactions.counts.reading.file_counts`), not a
    read of the engagement's interactions."""
    return reading.file_counts(engagement_id, limit)


def last_date(engagement_ids=None):
    """The latest ``interactionDate`` of the interactions of ``engagement_ids`` (None: of
    every engagement), or None if they have none.

    The daily counts say which day (:func:`interactions.counts.reading.newest_day`); then one
    sorted, limited query per engagement within that day, on the (engagementId,
    interactionDate) index: it reads that day's interactions, whatever the data's size.
    """
    day = reading.newest_day(engagement_ids)
    if day is None:
        return None
    collection = Interaction._get_collection()
    dated = {"interactionDate": at_or_after(day.replace(tzinfo=datetime.UTC))}
    filters = [dated] if engagement_ids is None else [{"engagementId": pk, **dated} for pk in engagement_ids]
    found = [
        row["interactionDate"]
        for query in filters
        for row in collection.find(query, {"interactionDate": 1}).sort("interactionDate", -1).limit(1)
    ]
    return max(found, default=None)
