"""What a set of interactions says in aggregate, computed by one MongoDB aggregation.

:func:`interaction_stats` covers everything, one client's engagements or one engagement,
optionally within ``[start, end)``, and returns totals by sentiment, the top agents with
their sentiment mix, and a time series per interval (day, week, month or year, in UTC; weeks
start on Monday). The pipeline (:func:`stats_pipeline`) starts with a ``$match`` that the
``(engagementId, interactionDate)`` and ``(interactionDate)`` indexes serve, and computes
the three figures in one ``$facet``.
"""

import datetime
from collections import Counter

from bson import ObjectId

from engagements.selectors import engagement_ids
from interactions.counts import keys, reading
from interactions.documents import SENTIMENTS, Interaction
from topbox import mongo
from topbox.dates import at_or_after, to_utc
from topbox.errors import InvalidArguments

INTERVALS = ("day", "week", "month", "year")
TOP_AGENTS = 10
MAX_SERIES = 10_000  # intervals in one series: 27 years of days
ABSENT = "absent"  # the key counting interactions without a sentiment
SENTIMENT_KEYS = (*SENTIMENTS, ABSENT)


class StatsError(InvalidArguments):
    """The arguments do not describe a range or an interval; the message says why."""


class SeriesTooLong(StatsError):
    """The series would hold more than ``MAX_SERIES`` intervals."""


def interaction_stats(*, client=None, engagement=None, start=None, end=None, interval=None, top_agents=TOP_AGENTS):
    """Statistics of the interactions of ``engagement``, of ``client``'s engagements, or all.

    ``client`` and ``engagement`` are documents or ids (at most one of them). ``start`` is
    inclusive and ``end`` exclusive; a datetime without a zone is read as UTC. Returns::

        {"total": 1234,
         "sentiments": {"Positive": 500, "Negative": 300, "Neutral": 200, "Mixed": 100, "absent": 134},
         "topAgents": [{"agentName": "John Ford", "total": 57, "sentiments": {...}}, ...],
         "series": [{"start": datetime (UTC), "total": 40, "sentiments": {...}}, ...]}

    ``topAgents`` holds at most ``top_agents`` named agents, most interactions first (ties
    by name). ``series`` runs from the first to the last interval holding an interaction,
    empty intervals included with zero counts; ``interval`` says which. Without one, it is
    the finest of day, week, month and year whose series holds at most ``MAX_SERIES``
    intervals, so any stored data has a default view (years 1 to 9999 fit in years).
    Raises :class:`StatsError` for bad arguments, or an ``interval`` too fine for the span.

    Whole UTC days are read from the daily counts (:mod:`interactions.counts`: one small
    document per engagement and day, whatever the number of interactions); the part of a
    day at either end of ``[start, end)`` from the interactions themselves. Without dates,
    the series comes from the day totals alone (for every engagement, one document per
    day) and the agents from their totals (one document per agent and engagement, or per
    agent for every engagement): what is read grows with the days and agents, not with the
    interactions. The result is exactly :func:`raw_interaction_stats`'s, the reference the
    tests compare with.
    """
    engagement_ids = _scope(client, engagement)
    start, end = _check(start=start, end=end, interval=interval, top_agents=top_agents)
    tally = Tally()
    first_day = _ceil_day(start) if start else None
    last_day = _floor_day(end) if end else None
    if first_day and last_day and first_day >= last_day:  # less than one whole day
        tally.add_interactions(_interactions(engagement_ids, start, end))
    elif start is None and end is None:
        tally.add_days(reading.day_totals(engagement_ids), agents=False)
        tally.add_agents(reading.agent_sentiments(engagement_ids))
    else:
        days = {**({"$gte": first_day} if first_day else {}), **({"$lt": last_day} if last_day else {})}
        tally.add_days(_days(engagement_ids, days))
        if start and start < first_day:
            tally.add_interactions(_interactions(engagement_ids, start, first_day))
        if end and last_day < end:
            tally.add_interactions(_interactions(engagement_ids, last_day, end))
    return tally.result(top_agents, interval)


def raw_interaction_stats(*, client=None, engagement=None, start=None, end=None, interval=None, top_agents=TOP_AGENTS):
    """:func:`interaction_stats` computed by one aggregation over the interactions themselves:
    the reference the daily counts are checked against (its cost grows with the range)."""
    engagement_ids = _scope(client, engagement)
    for candidate in (interval,) if interval else INTERVALS:
        pipeline = stats_pipeline(engagement_ids, start=start, end=end, interval=candidate, top_agents=top_agents)
        (raw,) = mongo.for_statistics(Interaction._get_collection()).aggregate(pipeline)
        try:
            return shape(raw, candidate)
        except SeriesTooLong:
            if interval:
                raise
    raise AssertionError("years 1 to 9999 always fit in years")  # pragma: no cover


def _scope(client, engagement):
    """The engagement ids the statistics cover (None: every engagement)."""
    if client is not None and engagement is not None:
        raise StatsError("Give a client or an engagement, not both.")
    if engagement is not None:
        return [_id(engagement)]
    if client is not None:
        return engagement_ids([_id(client)])
    return None


def _check(*, start, end, interval, top_agents):
    """``(start, end)`` in UTC; a :class:`StatsError` for arguments that describe nothing."""
    if interval is not None and interval not in INTERVALS:
        raise StatsError(f"Unknown interval {interval!r}: use one of {', '.join(INTERVALS)}.")
    if not isinstance(top_agents, int) or top_agents < 1:
        raise StatsError("top_agents must be a positive integer.")
    start, end = _utc(start, "start"), _utc(end, "end")
    if start and end and start > end:
        raise StatsError("The start of the range must not be after its end.")
    return start, end


def _days(engagement_ids, days):
    """The daily-count documents of the engagements (None: all) within ``days`` (a range on
    ``day``), one indexed query per engagement (an ``$in`` with a range is a scan on the
    embedded server)."""
    collection = mongo.for_statistics(keys.collection())
    match = {"day": days} if days else {}
    if engagement_ids is None:
        yield from collection.find(match)
        return
    for engagement_id in engagement_ids:
        yield from collection.find({"engagementId": engagement_id, **match})


def _interactions(engagement_ids, start, end):
    """The interactions in ``[start, end)`` (a part of a day at an end of the range)."""
    collection = mongo.for_statistics(Interaction._get_collection())
    dates = {**at_or_after(start), "$lt": end}
    fields = {"_id": 0, "interactionDate": 1, "sentiment": 1, "agentName": 1}
    if engagement_ids is None:
        yield from collection.find({"interactionDate": dates}, fields)
        return
    for engagement_id in engagement_ids:
        yield from collection.find({"engagementId": engagement_id, "interactionDate": dates}, fields)


def _floor_day(when):
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(when):
    day = _floor_day(when)
    return day if day == when else day + datetime.timedelta(days=1)


class Tally:
    """Counts by interval, sentiment and agent, from daily counts and single interactions."""

    def __init__(self):
        self.buckets = {}  # day -> Counter by sentiment key (intervals are made of days)
        self.sentiments = Counter()
        self.agents = {}  # name -> Counter by sentiment key

    def add_days(self, rows, agents=True):
        """Daily documents; their agents too unless ``agents`` is false (counted elsewhere)."""
        for row in rows:
            sentiments = {key: n for key, n in (row.get("sentiments") or {}).items() if n}
            self._add(row.get("day"), sentiments)
            for key, counts in (row.get("agents") or {}).items() if agents else ():
                self.agents.setdefault(keys.agent_name(key), Counter()).update(counts)

    def add_agents(self, agents):
        """``{agent name: counts by sentiment key}``, from the agents' totals."""
        for name, counts in agents.items():
            self.agents.setdefault(name, Counter()).update(counts)

    def add_interactions(self, rows):
        for row in rows:
            sentiment = keys.sentiment_key(row.get("sentiment"))
            self._add(row.get("interactionDate"), {sentiment: 1})
            if row.get("agentName"):
                self.agents.setdefault(row["agentName"], Counter())[sentiment] += 1

    def _add(self, when, sentiments):
        self.sentiments.update(sentiments)
        if when is not None:  # an interaction without a date belongs to no interval
            self.buckets.setdefault(_floor_day(_utc_aware(when)), Counter()).update(sentiments)

    def result(self, top_agents, interval=None):
        """The figures, the series by ``interval`` (None: the finest that fits, see
        :func:`interaction_stats`)."""
        totals = {name: sum(counts.values()) for name, counts in self.agents.items()}
        busiest = sorted((name for name, total in totals.items() if total), key=lambda name: (-totals[name], name))
        agents = [
            {"agentName": name, "total": totals[name], "sentiments": _counts(self.agents[name].items())}
            for name in busiest[:top_agents]
        ]
        sentiments = _counts(self.sentiments.items())
        days = {day: counts for day, counts in self.buckets.items() if sum(counts.values())}
        for candidate in (interval,) if interval else INTERVALS:
            buckets = {}
            for day, counts in days.items():
                buckets.setdefault(interval_start(day, candidate), Counter()).update(counts)
            try:
                series = _series({when: list(counts.items()) for when, counts in buckets.items()}, candidate)
            except SeriesTooLong:
                if interval:
                    raise
                continue
            return figures(sentiments, agents, candidate, series)
        raise AssertionError("years 1 to 9999 always fit in years")  # pragma: no cover


def interval_start(when, interval):
    """The start (UTC midnight) of the day, week (from Monday), month or year holding ``when``."""
    day = _floor_day(_utc_aware(when))
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def _utc_aware(when):
    return when.astimezone(datetime.UTC) if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def stats_pipeline(engagement_ids=None, *, start=None, end=None, interval="day", top_agents=TOP_AGENTS):
    """The aggregation pipeline behind :func:`raw_interaction_stats` (None: every engagement)."""
    start, end = _check(start=start, end=end, interval=interval, top_agents=top_agents)

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
    return figures(sentiments, agents, interval, _series(buckets, interval))


def figures(sentiments, agents, interval, series):
    """The answer's shape, whichever way the counts were made."""
    return {
        "total": sum(sentiments.values()),
        "sentiments": sentiments,
        "topAgents": agents,
        "interval": interval,
        "series": series,
    }


def _series(buckets, interval):
    """The series from the first to the last interval of ``buckets`` ({start: [(sentiment,
    n), ...]}), empty intervals included."""
    series = []
    if not buckets:
        return series
    when, last = min(buckets), max(buckets)
    if intervals_between(when, last, interval) > MAX_SERIES:
        raise SeriesTooLong(
            f"The series would span more than {MAX_SERIES} {interval}s: give a shorter range (from, to) "
            "or a longer interval."
        )
    while when <= last:
        counts = _counts(buckets.get(when, ()))
        series.append({"start": when, "total": sum(counts.values()), "sentiments": counts})
        if when == last:
            break
        when = next_interval(when, interval)
    return series


def intervals_between(first, last, interval):
    """How many intervals a series from ``first`` to ``last`` (both interval starts) holds."""
    if interval == "year":
        return last.year - first.year + 1
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if interval == "week" else 1) + 1


def next_interval(when, interval):
    """The start of the interval after the one starting at ``when``."""
    if interval == "day":
        return when + datetime.timedelta(days=1)
    if interval == "week":
        return when + datetime.timedelta(weeks=1)
    if interval == "year":
        return when.replace(year=when.year + 1)
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
