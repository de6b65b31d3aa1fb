"""Public functions of the interactions app, for the apps and screens that look at it."""

from interactions.documents import Interaction


def count_by_engagement(engagement_ids):
    """``{engagement id: number of interactions}`` for the given engagements (absent: none), one query."""
    pipeline = [
        {"$match": {"engagementId": {"$in": list(engagement_ids)}}},
        {"$group": {"_id": "$engagementId", "count": {"$sum": 1}}},
    ]
    return {row["_id"]: row["count"] for row in Interaction._get_collection().aggregate(pipeline)}


def date_bounds(engagement_ids=None):
    """The first and last ``interactionDate`` of the interactions of ``engagement_ids``
    (None: of every engagement), or ``(None, None)`` if they have none.

    One sorted, limited query per engagement and end, each on the (engagementId,
    interactionDate) index: MongoDB reads one index entry for each. (An ``$in`` over the
    engagements would make the server merge them.)
    """
    collection = Interaction._get_collection()
    dated = {"interactionDate": {"$type": "date"}}
    filters = [dated] if engagement_ids is None else [{"engagementId": pk, **dated} for pk in engagement_ids]
    found = [
        row["interactionDate"]
        for query in filters
        for direction in (1, -1)
        for row in collection.find(query, {"interactionDate": 1}).sort("interactionDate", direction).limit(1)
    ]
    return (min(found), max(found)) if found else (None, None)
