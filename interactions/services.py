"""Public functions of the interactions app, for the apps and screens that look at it."""

from interactions.documents import Interaction


def count_by_engagement(engagement_ids):
    """``{engagement id: number of interactions}`` for the given engagements (absent: none), one query."""
    pipeline = [
        {"$match": {"engagementId": {"$in": list(engagement_ids)}}},
        {"$group": {"_id": "$engagementId", "count": {"$sum": 1}}},
    ]
    return {row["_id"]: row["count"] for row in Interaction._get_collection().aggregate(pipeline)}


def last_date(engagement_ids=None):
    """The latest ``interactionDate`` of the interactions of ``engagement_ids`` (None: of
    every engagement), or None if they have none.

    One sorted, limited query per engagement on the (engagementId, interactionDate) index,
    which MongoDB answers from one index entry each (an ``$in`` over the engagements would
    make it merge them). SecantusDB reads every interaction of the engagement instead.
    """
    collection = Interaction._get_collection()
    dated = {"interactionDate": {"$type": "date"}}
    filters = [dated] if engagement_ids is None else [{"engagementId": pk, **dated} for pk in engagement_ids]
    found = [
        row["interactionDate"]
        for query in filters
        for row in collection.find(query, {"interactionDate": 1}).sort("interactionDate", -1).limit(1)
    ]
    return max(found, default=None)
