"""Public functions of the interactions app, for the apps and screens that look at it."""

from interactions.documents import Interaction


def count_by_engagement(engagement_ids):
    """``{engagement id: number of interactions}`` for the given engagements (absent: none), one query."""
    pipeline = [
        {"$match": {"engagementId": {"$in": list(engagement_ids)}}},
        {"$group": {"_id": "$engagementId", "count": {"$sum": 1}}},
    ]
    return {row["_id"]: row["count"] for row in Interaction._get_collection().aggregate(pipeline)}
