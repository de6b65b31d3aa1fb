"""What a set of interactions says in aggregate, computed by one MongoDB aggregation.

:func:`interaction_stats` covers everything, one client's engagements or one engagement,
optionally within ``[start, end)``, and returns totals by sentiment, the top agents with
their sentiment mix, and a time series per interval (day, week or month, in UTC; weeks
start on Monday). The pipeline (:func:`stats_pipeline`) starts with a ``$match`` that the
``(engagementId, interactionDate)`` and ``(interactionDate)`` indexes serve, and computes
the three figures in one ``$facet``.
"""

import datetime

from bson import ObjectId

from engagements.documents import Engagement
from interactions.documents import SENTIMENTS, Interaction
from topbox import mongo
from topbox.dates import at_or_after, to_utc
from topbox.errors import InvalidArguments

INTERVALS = ("day", "week", "month")
TOP_AGENTS = 10
MAX_SERIES = 10_000  # intervals in one series: 27 years of days
ABSENT = "absent"  # the key counting interactions without a sentiment
SENTIMENT_KEYS = (*SENTIMENTS, ABSENT)


class StatsError(InvalidArguments):
    """The arguments do not describe a range or an interval; the message says why."""


def interaction_stats(*, client=None, engagement=None, start=None, end=None, interval="day", top_agents=TOP_AGENTS):
    """Statistics of the interactions of ``engagement``, of ``client``'s engagements, or all.

    ``client`` and ``engagement`` are documents or ids (at most one of them). ``start`` is
    inclusive and ``end`` exclusive; a datetime without a zone is read as UTC. Returns::

        {"total": 1234,
         "sentiments": {"Positive": 500, "Negative": 300, "Neutral": 200, "Mixed": 100, "absent": 134},
         "topAgents": [{"agentName": "John Ford", "total": 57, "sentiments": {...}}, ...],
         "series": [{"start": datetime (UTC), "total": 40, "sentiments": {...}}, ...]}

    ``topAgents`` holds at most ``top_agents`` named agents, most interactions first (ties
    by name). ``series`` runs from the first to the last interval holding an interaction,
    empty intervals included with zero counts. Raises :class:`StatsError` for bad arguments.
    """
    if client is not None and engagement is not None:
        raise StatsError("Give a client or an engagement, not both.")
    if engagement is not None:
        engagement_ids = [_id(engagement)]
    elif client is not None:
        engagement_ids = list(Engagement.objects(clientId=_id(client)).scalar("id"))
    else:
        engagement_ids = None
    pipeline = stats_pipeline(engagement_ids, start=start, end=end, interval=interval, top_agents=top_agents)
    (raw,) = mongo.for_statistics(Interaction._get_collection()).aggregate(pipeline)
    return shape(raw, interval)


def stats_pipeline(engagement_ids=None, *, start=None, end=None, interval="day", top_agents=TOP_AGENTS):
    """The aggregation pipeline behind :func:`interaction_stats` (None: every engagement)."""
    if interval not in INTERVALS:
        raise StatsError(f"Unknown interval {interval!r}: use one of {', '.join(INTERVALS)}.")
    if not isinstance(top_agents, int) or top_agents < 1:
        raise StatsError("top_agents must be a positive integer.")
    start, end = _utc(start, "start"), _utc(end, "end")
    if start and end and start > end:
        raise StatsError("The start of the range must not be after its end.")

    match = {}
    if engagement_ids is not None:
        # Equality for one engagement: the form every server plans onto the compound index.
        match["engagementId"] = engagement_ids[0] if len(engagement_ids) == 1 else {"$in": list(engagement_ids)}
    if start or end:
        match["interactionDate"] = {
            **(at_or_after(start) if start else {}),  # $gte, written so SecantusDB reads it right
            **({"$lt": end} if end else {}),
        }
    bucket = {"unit": interval, "timezone": "UTC"}
    if interval == "week":
        bucket["startOfWeek"] = "monday"
    by_agent = [
        {"$match": {"agentName": {"$nin": [None, ""]}}},
        {"$group": {"_id": {"agent": "$agentName", "sentiment": "$sentiment"}, "n": {"$sum": 1}}},
        {
            "$group": {
                "_id": "$_id.agent",
                "total": {"$sum": "$n"},
                "sentiments": {"$push": {"sentiment": "$_id.sentiment", "n": "$n"}},
            }
        },
        {"$sort": {"total": -1, "_id": 1}},
        {"$limit": top_agents},
    ]
    return [
        {"$match": match},
        {
            "$facet": {
                "sentiments": [{"$group": {"_id": "$sentiment", "n": {"$sum": 1}}}],
                "topAgents": by_agent,
                "series": [
                    {
                        "$group": {
                            "_id": {
                                "start": {"$dateTrunc": {"date": "$interactionDate", **bucket}},
                                "sentiment": "$sentiment",
                            },
                            "n": {"$sum": 1},
                        }
                    },
                ],
            }
        },
    ]


def shape(raw, interval):
    """Turn the pipeline's single output document into the figures described above."""
    sentiments = _counts((row["_id"], row["n"]) for row in raw["sentiments"])
    agents = [
        {
            "agentName": row["_id"],
            "total": row["total"],
            "sentiments": _counts((item.get("sentiment"), item["n"]) for item in row["sentiments"]),
        }
        for row in raw["topAgents"]
    ]
    buckets = {}
    for row in raw["series"]:
        when = row["_id"].get("start")
        if when is not None:  # an interaction without a date belongs to no interval
            buckets.setdefault(when.astimezone(datetime.UTC), []).append((row["_id"].get("sentiment"), row["n"]))
    series = []
    if buckets:
        when, last = min(buckets), max(buckets)
        if intervals_between(when, last, interval) > MAX_SERIES:
            raise StatsError(
                f"The series would span more than {MAX_SERIES} {interval}s: give a shorter range (from, to) "
                "or a longer interval."
            )
        while when <= last:
            counts = _counts(buckets.get(when, ()))
            series.append({"start": when, "total": sum(counts.values()), "sentiments": counts})
            if when == last:
                break
            when = next_interval(when, interval)
    return {"total": sum(sentiments.values()), "sentiments": sentiments, "topAgents": agents, "series": series}


def intervals_between(first, last, interval):
    """How many intervals a series from ``first`` to ``last`` (both interval starts) holds."""
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if interval == "week" else 1) + 1


def next_interval(when, interval):
    """The start of the interval after the one starting at ``when``."""
    if interval == "day":
        return when + datetime.timedelta(days=1)
    if interval == "week":
        return when + datetime.timedelta(weeks=1)
    return when.replace(year=when.year + when.month // 12, month=when.month % 12 + 1)


def _counts(pairs):
    """``{sentiment: count}`` over every sentiment key, with ``absent`` for no sentiment."""
    counts = dict.fromkeys(SENTIMENT_KEYS, 0)
    for sentiment, n in pairs:
        counts[sentiment if sentiment in SENTIMENTS else ABSENT] += n
    return counts


def _utc(value, name):
    if value is None:
        return None
    utc = to_utc(value) if isinstance(value, datetime.datetime) else None
    if utc is None:
        raise StatsError(f"{name} must be a datetime MongoDB can store.")
    return utc


def _id(value):
    """The ObjectId of a document or id (given as ObjectId or its 24-hex string)."""
    value = getattr(value, "pk", value)
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and ObjectId.is_valid(value):
        return ObjectId(value)
    raise StatsError(f"{value!r} is not a document id.")
