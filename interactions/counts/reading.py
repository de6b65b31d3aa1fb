"""What the list pages, the statistics and the admin read of the counts: how many
interactions a scope holds (:func:`count`, :func:`scope_totals`, :func:`span`), its daily
documents (:func:`day_totals`, :func:`day_counts`), per engagement
(:func:`engagement_totals`), per agent (:func:`agent_names`, :func:`agent_count`,
:func:`agent_sentiments`) and per CSV file (:func:`file_counts`, :func:`file_count`).

Each reads a few small documents, not the interactions: one per engagement, or per
engagement and day, or per name. :func:`count` adds the interactions of the part-days at
the ends of a date range, counted one by one.
"""

import time
from collections import Counter, defaultdict

from interactions.counts.keys import (
    ABSENT,
    EVERY_ENGAGEMENT,
    ONE_DAY,
    TOTALS,
    collection,
    combined,
    daily,
    day_of,
    naive_utc,
    names,
    row_id,
    sentiment_key,
    shift,
    totals,
    totals_id,
)
from interactions.documents import Interaction
from topbox import memo
from topbox.dates import at_or_after
from topbox.textsearch import words_filter

MAX_DAY_IDS = 1000  # daily documents read by their ids in one query (a client's window of days)
RECENT_SECONDS = 10  # how long a process sizes windows by agent from the agents' counts it read
RECENT_SCOPES = 256  # scopes (sets of engagements) kept so; more, and all are read again
_recent = {}  # engagement ids (None: all) -> (when read, recent_agent_sentiments' answer)


def count(engagement_ids=None, sentiments=None, start=None, end=None):
    """How many interactions of ``engagement_ids`` (None: all) with one of ``sentiments``
    (None: any; ``absent`` for none) lie in ``[start, end)`` (None: unbounded), exactly.

    Without dates, from the totals (one document per engagement); with dates, from the
    days wholly inside the range, plus the interactions of the part-days at its ends.
    """

    def counted(row):
        if sentiments is None:
            return row.get("total", 0)
        return sum((row.get("sentiments") or {}).get(sentiment_key(s), 0) for s in sentiments)

    if start is None and end is None:
        return counted(scope_totals(engagement_ids))
    start, end = naive_utc(start), naive_utc(end)
    first_day = None if start is None else day_of(start)
    if first_day is not None and first_day < start:
        first_day = shift(first_day, ONE_DAY)  # the first whole day
    last_day = None if end is None else day_of(end)
    if first_day is not None and last_day is not None and first_day >= last_day:
        return _count_raw(engagement_ids, sentiments, start, end)  # no whole day in the range
    days = {**({"$gte": first_day} if first_day else {}), **({"$lt": last_day} if last_day else {})}
    total = sum(counted(row) for row in day_counts(engagement_ids, days))
    if start is not None and start < first_day:
        total += _count_raw(engagement_ids, sentiments, start, first_day)
    if end is not None and last_day < end:
        total += _count_raw(engagement_ids, sentiments, last_day, end)
    return total


def _count_raw(engagement_ids, sentiments, start, end):
    """The interactions in ``[start, end)`` counted one by one, one query per engagement."""
    match = {"interactionDate": {**at_or_after(start), "$lt": end}}
    if sentiments is not None:
        values = [s if s != ABSENT else None for s in sentiments]
        match["sentiment"] = values[0] if len(values) == 1 else {"$in": values}
    interactions = Interaction._get_collection()
    if engagement_ids is None:
        return interactions.count_documents(match)
    return sum(interactions.count_documents({"engagementId": pk, **match}) for pk in engagement_ids)


def day_counts(engagement_ids, days):
    """``{day, total, sentiments}`` per day within ``days`` (a range), per engagement of
    ``engagement_ids``, or for every engagement at once (None); a day may come in several
    slots (see :mod:`~interactions.counts.keys`), to be added up.

    Several engagements' days between two bounds are read by their ids in one query (up to
    ``MAX_DAY_IDS`` of them) while each keeps one slot; else one indexed query per
    engagement: an ``$in`` of engagements with a range of days is a scan on the embedded
    server.
    """
    fields = {"day": 1, "total": 1, "sentiments": 1}
    if engagement_ids is None:
        yield from daily().find({"day": days}, fields)
        return
    if {"$gte", "$lte"} <= set(days) and len(engagement_ids) > 1 and not _spread(engagement_ids):
        number_of_days = (days["$lte"] - days["$gte"]).days + 1
        if 0 < number_of_days * len(engagement_ids) <= MAX_DAY_IDS:
            every_day = [shift(days["$gte"], ONE_DAY * n) for n in range(number_of_days)]
            ids = [row_id(pk, day) for pk in engagement_ids for day in every_day]
            # The engagements too, so that a sharded cluster asks only their shards; after the
            # ids, so that the embedded server serves it from the ids (the other way: a scan).
            yield from collection().find({"_id": {"$in": ids}, "engagementId": {"$in": list(engagement_ids)}}, fields)
            return
    for pk in engagement_ids:
        yield from collection().find({"engagementId": pk, "day": days}, fields)


def day_totals(engagement_ids=None):
    """The daily documents (``{day, total, sentiments}``, and ``agents`` but for every
    engagement) of every day of ``engagement_ids`` (None: all), and of their interactions
    without a date (``day`` None), in their slots, to be added up. Whole documents: a
    projection costs more than it saves on the embedded server."""
    if engagement_ids is not None:
        for pk in engagement_ids:
            yield from collection().find({"engagementId": pk})
        return
    yield from daily().find()
    yield from collection().find({"day": None})


def scope_totals(engagement_ids=None):
    """The totals of ``engagement_ids`` (None: every engagement): ``total``, ``sentiments``,
    ``hours`` and the ``first`` and ``last`` days (None when there are no interactions), read from one
    small document per engagement (one in all for every engagement)."""
    rows = [row for row in _totals_rows(engagement_ids) if row.get("total")]
    firsts = [row["first"] for row in rows if row.get("first")]
    lasts = [row["last"] for row in rows if row.get("last")]
    sentiments, hours = Counter(), Counter()
    for row in rows:
        sentiments.update(row.get("sentiments") or {})
        hours.update(row.get("hours") or {})
    return {
        "total": sum(row["total"] for row in rows),
        "sentiments": sentiments,
        "hours": hours,
        "first": day_of(min(firsts)) if firsts else None,
        "last": day_of(max(lasts)) if lasts else None,
    }


def _totals_rows(engagement_ids):
    """The totals documents of ``engagement_ids`` (None: every engagement's), their slots
    combined; within a :func:`topbox.memo.scope`, each is read once (the count and the
    keyset windows of an admin page read the same ones)."""
    ids = [EVERY_ENGAGEMENT] if engagement_ids is None else list(dict.fromkeys(engagement_ids))
    read = memo.store(TOTALS)
    if read is None:
        return list(read_totals(ids).values())
    missing = [pk for pk in ids if pk not in read]
    if missing:
        found = read_totals(missing)
        read.update((pk, found.get(pk)) for pk in missing)
    return [read[pk] for pk in ids if read[pk] is not None]


def _spread(engagement_ids):
    """Whether any of ``engagement_ids`` keeps its counts in more than one slot."""
    return any(row.get("slots") for row in _totals_rows(engagement_ids))


def read_totals(engagement_ids, fields=None):
    """``{totals _id: the totals, slots combined}`` of those of ``engagement_ids`` counted:
    slot 0 of each, then the other slots it says are in use (``slots``), if any."""
    fields = None if fields is None else {**fields, "slots": 1, "of": 1}
    first = list(totals().find({"_id": {"$in": [totals_id(pk) for pk in engagement_ids]}}, fields))
    others = [totals_id(row["_id"], slot) for row in first for slot in range(1, row.get("slots", 0) + 1)]
    return combined([*first, *(totals().find({"_id": {"$in": others}}, fields) if others else ())])


def span(engagement_ids=None):
    """``(first, last)``: the days between which the interactions of ``engagement_ids``
    (None: every engagement) lie, or ``(None, None)`` when there are none."""
    found = scope_totals(engagement_ids)
    return found["first"], found["last"]


def newest_day(engagement_ids=None):
    """The latest day holding interactions of ``engagement_ids`` (None: any), or None."""
    return span(engagement_ids)[1]


def engagement_totals(engagement_ids):
    """``{engagement id: interactions}`` of ``engagement_ids`` that hold any."""
    found = read_totals(engagement_ids, {"total": 1})
    return {pk: row["total"] for pk, row in found.items() if row.get("total")}


@memo.memoized
def agent_names(words, engagement_ids=None):
    """``{agent name: interactions}`` of the agents whose names hold every word of ``words``
    (case-insensitively), within ``engagement_ids`` (None: all): read from the names
    collection, not from the interactions."""
    query = words_filter(["agentName"], words)
    found = Counter()
    for pk in [EVERY_ENGAGEMENT] if engagement_ids is None else engagement_ids:
        for row in names().find({"engagementId": pk, **query}, {"agentName": 1, "n": 1}):
            found[row["agentName"]] += row.get("n", 0)
    return {name: n for name, n in found.items() if n > 0}


@memo.memoized
def agent_count(agents, engagement_ids=None, sentiments=None):
    """How many interactions ``agents`` (a name, or a list of names) handled within
    ``engagement_ids`` (None: all) with one of ``sentiments`` (None: any; None among them
    for none): one query per engagement."""
    agents = [agents] if isinstance(agents, str) else list(agents)
    if not agents:
        return 0
    condition = agents[0] if len(agents) == 1 else {"$in": agents}
    engagements = [EVERY_ENGAGEMENT] if engagement_ids is None else engagement_ids
    scopes = [{"engagementId": pk, "agentName": condition} for pk in engagements]
    rows = [row for scope in scopes for row in names().find(scope, {"n": 1, "sentiments": 1})]
    if sentiments is None:
        return sum(row.get("n", 0) for row in rows)
    wanted = {sentiment_key(s) for s in sentiments}
    return sum(n for row in rows for key, n in (row.get("sentiments") or {}).items() if key in wanted)


@memo.memoized
def agent_sentiments(engagement_ids=None):
    """``{agent name: Counter by sentiment key}`` of every agent's interactions within
    ``engagement_ids`` (None: all), at any date: one document per engagement and agent."""
    found = defaultdict(Counter)
    for pk in [EVERY_ENGAGEMENT] if engagement_ids is None else engagement_ids:
        for row in names().find(
            {"engagementId": pk, "agentName": {"$exists": True}}, {"agentName": 1, "sentiments": 1}
        ):
            found[row["agentName"]].update(row.get("sentiments") or {})
    return found


def recent_agent_sentiments(engagement_ids=None):
    """:func:`agent_sentiments`, as this process read them at most ``RECENT_SECONDS`` ago
    (its own writes forget them at once): what a page by agent sizes its window from. Every
    page reads about 2,000 names otherwise; a window is exact whatever the counts say, so
    counts a little behind only make it widen or read more."""
    key = None if engagement_ids is None else tuple(engagement_ids)
    now = time.monotonic()
    held = _recent.get(key)
    if held is None or now - held[0] > RECENT_SECONDS:
        if len(_recent) >= RECENT_SCOPES:
            _recent.clear()
        held = _recent[key] = (now, agent_sentiments(engagement_ids))
    return held[1]


def recent_agent_count(agents, engagement_ids=None):
    """How many interactions ``agents`` handled within ``engagement_ids`` (None: all), by the
    counts as this process read them lately (:func:`recent_agent_sentiments`): what a page's
    window is sized by, never a count shown. None among ``agents``: the interactions without
    a name (the names collection keeps none of them), the scope's total less every name's."""
    counts = recent_agent_sentiments(engagement_ids)
    held = sum(sum(counts[name].values()) for name in set(agents) - {None} if name in counts)
    if None in agents:
        named = sum(sum(sentiments.values()) for sentiments in counts.values())
        held += max(0, scope_totals(engagement_ids)["total"] - named)
    return held


def forget_recent():
    """Drop what :func:`recent_agent_sentiments` keeps (after a write to the names)."""
    _recent.clear()


def file_counts(engagement_id, limit):
    """``[(csvName, rows)]`` of one engagement's CSV files, by name, at most ``limit``."""
    rows = names().find({"engagementId": engagement_id, "csvName": {"$exists": True}}, {"csvName": 1, "n": 1})
    found = Counter()
    for row in rows:
        found[row["csvName"]] += row.get("n", 0)
    return sorted((name, n) for name, n in found.items() if n > 0)[:limit]


def file_count(csv_name):
    """How many interactions were ingested from the CSV file ``csv_name`` (any engagement)."""
    return sum(row.get("n", 0) for row in names().find({"csvName": csv_name}, {"n": 1}))
