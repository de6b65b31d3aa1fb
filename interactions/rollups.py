"""Daily counts of interactions, kept up to date on every write: what statistics read.

One document per engagement and UTC day holds the day's total, its counts by sentiment
(``absent`` for none) and, per named agent, the same counts. Statistics over any range
then read one small document per engagement-day instead of every interaction, which is
what makes them flat as the data grows (the embedded server reads everything a query
matches; MongoDB's aggregation too grows with the range).

Every write path records its change: the API's viewset, the admin and any
``Document.save()``/``delete()`` (MongoEngine signals), ingest, seed and synthetic data.
:func:`rebuild` recomputes the counts from the raw interactions, one engagement at a
time (``manage.py rebuild_rollups``, which also checks them): writes made around Topbox's
code, such as a mongo shell, are repaired that way.
"""

import bisect
import datetime
import itertools
import math
import time
from collections import Counter, defaultdict

from bson import ObjectId
from pymongo import UpdateOne

from engagements.documents import Engagement
from interactions.documents import SENTIMENTS, Interaction
from topbox import memo, mongo
from topbox.dates import at_or_after
from topbox.textsearch import words_filter

COLLECTION = "interaction_day"
TOTALS = "interaction_totals"  # one document per engagement: its counts and the days it spans
DAILY = "interaction_daily"  # one document per day, every engagement: what global pages count
ABSENT = "absent"  # the key counting interactions without a sentiment
NO_KEY = "none"  # in an _id: no engagement or no date
# The agents' names (and the CSV files) per engagement, with their interaction counts: what
# an agent search matches first (a small collection), before an indexed query per name.
NAMES = "interaction_agent"
EVERY_ENGAGEMENT = "all"  # the totals' _id for every engagement's interactions
MAX_COUNTED_DAYS = 31  # a page window wider than this is sized by the average, not read day by day
PAGE_MARGIN = 1.5  # a page's window is made to hold this many times the documents it needs
EPSILON = datetime.timedelta(microseconds=1)
ONE_DAY = datetime.timedelta(days=1)
ONE_HOUR = datetime.timedelta(hours=1)
MAX_DAY_IDS = 1000  # daily documents read by their ids in one query (a client's window of days)
RECENT_SECONDS = 10  # how long a process sizes windows by agent from the agents' counts it read
RECENT_SCOPES = 256  # scopes (sets of engagements) kept so; more, and all are read again
_recent = {}  # engagement ids (None: all) -> (when read, recent_agent_sentiments' answer)
# From this many engagement-days, a flush inserts the new daily documents (about 5 times
# cheaper than upserts on the embedded server) after reading which are stored already.
INSERT_FROM = 200
FLUSH_ROWS = 2000  # engagement-days per bulk write when a tally is flushed


def collection():
    return mongo.database()[COLLECTION]


def totals():
    """Per engagement (``_id``: its id): ``total``, ``sentiments``, ``hours`` (how many at
    each UTC hour of the day, ``"00"`` to ``"23"``) and the ``first`` and ``last`` days
    holding its interactions. Deletes leave ``first``/``last`` as they were (a span that
    may be wider than the data, never narrower): what the page windows start from and stop
    at, without a sort over the daily documents; the hours say where in a day they fall."""
    return mongo.database()[TOTALS]


def daily():
    """Per UTC day (``_id``), every engagement's interactions: ``total`` and ``sentiments``
    (no agents). A page of every client's interactions reads one of these per day rather
    than one per engagement and day."""
    return mongo.database()[DAILY]


def names():
    """Per engagement and agent: ``{engagementId, agentName, n, sentiments}``, and per agent
    over every engagement (``engagementId`` ``"all"``); per engagement and CSV file:
    ``{engagementId, csvName, n}``. A name whose count drops to zero goes. What the top
    agents of a scope's statistics are read from, when no dates bound them."""
    return mongo.database()[NAMES]


def ensure_indexes():
    collection().create_index([("engagementId", 1), ("day", 1)], name="engagement_day")
    collection().create_index([("day", 1)], name="day")
    names().create_index([("engagementId", 1), ("agentName", 1)], name="engagement_agent")
    names().create_index([("csvName", 1)], name="file", sparse=True)
    daily().create_index([("day", 1)], name="day")  # the embedded server scans for a range on _id


def split_agent_totals():
    """Agents' totals stored before they were counted by sentiment, recomputed from the
    daily counts (which always were); None if there were none, else how many agents'
    totals there are now. Run at deploy time by ``ensure_indexes``, before the web starts."""
    if names().find_one({"agentName": {"$exists": True}, "sentiments": {"$exists": False}}) is None:
        return None
    agents = _names_of(stored_counts())
    agents.update(_every_agent(list(agents.values())))
    forget_recent()
    names().delete_many({"agentName": {"$exists": True}})
    if agents:
        names().insert_many(list(agents.values()), ordered=False)
    return len(agents)


def day_of(when):
    """The UTC day (a midnight datetime) holding ``when``; None for no date."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC).replace(tzinfo=None)
    return datetime.datetime(when.year, when.month, when.day)


def hour_of(when):
    """The UTC hour of ``when`` as the totals key it (``"00"`` to ``"23"``)."""
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC)
    return f"{when.hour:02}"


def sentiment_key(sentiment):
    return sentiment if sentiment in SENTIMENTS else ABSENT


def agent_key(name):
    """The agent's name as a key MongoDB accepts (no ``.``, no leading ``$``), reversibly."""
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def agent_name(key):
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _row_id(engagement_id, day):
    return f"{engagement_id or NO_KEY}:{day.strftime('%Y%m%d') if day else NO_KEY}"


def _name_id(engagement_id, value, field="agentName"):
    kind = "" if field == "agentName" else "file:"
    return f"{engagement_id or NO_KEY}:{kind}{agent_key(value)}"


def record(added=(), removed=()):
    """Count the interactions ``added`` and uncount those ``removed`` (raw documents, as
    stored): one ``$inc`` upsert per engagement-day touched, in one bulk write."""
    tally = Tally()
    tally.add(added)
    tally.add(removed, sign=-1)
    tally.flush()


class Tally:
    """Changes to the daily counts, gathered in memory until :meth:`flush` writes them:
    one ``$inc`` upsert per engagement-day touched, in one bulk write (or, for many, an
    insert of those not stored yet).

    A bulk load adds batch after batch to one tally and flushes it now and then (when
    ``len(tally)`` grows past what it wants to hold), so that each engagement-day is
    written once per flush rather than once per batch. Counts are held as one small
    integer per (engagement-day, agent, sentiment): a few dozen bytes each.
    """

    _SENTIMENTS = (*SENTIMENTS, ABSENT)
    _AGENTS = 1 << 20  # room for this many agent names per flush in the packed keys

    def __init__(self):
        self._clear()

    def _clear(self):
        self._counts = Counter()  # packed (engagement-day, agent, sentiment) -> n
        self._days = {}  # (engagementId, day) -> its number in the packed keys
        self._agents = {"": 0}  # agent name -> its number (0: none)
        # (engagementId, field, name, sentiment key or None) -> n: the agents' and files' names
        self._named = Counter()
        self._hours = Counter()  # (engagementId, UTC hour key) -> n

    def __len__(self):
        return len(self._counts)

    def add(self, rows, sign=1):
        sentiment_numbers = {sentiment: number for number, sentiment in enumerate(self._SENTIMENTS)}
        days, agents, counts = self._days, self._agents, self._counts
        for raw in rows:
            if raw is None:
                continue
            when = raw.get("interactionDate")
            key = (raw.get("engagementId"), day_of(when))
            if when is not None:
                self._hours[(key[0], hour_of(when))] += sign
            day = days.setdefault(key, len(days))
            agent = agents.setdefault(raw.get("agentName") or "", len(agents))
            if agent >= self._AGENTS:
                raise OverflowError("too many agent names in one tally: flush it more often")
            sentiment = sentiment_numbers[sentiment_key(raw.get("sentiment"))]
            counts[(day * self._AGENTS + agent) * 8 + sentiment] += sign
            if raw.get("agentName"):
                by_sentiment = self._SENTIMENTS[sentiment]
                self._named[(raw.get("engagementId"), "agentName", raw["agentName"], by_sentiment)] += sign
                self._named[(EVERY_ENGAGEMENT, "agentName", raw["agentName"], by_sentiment)] += sign
            csv_name = (raw.get("custom") or {}).get("csvName")
            if isinstance(csv_name, str) and csv_name:
                self._named[(raw.get("engagementId"), "csvName", csv_name, None)] += sign

    def flush(self):
        """Write what was gathered, and start again from nothing.

        The engagement-days are written ``FLUSH_ROWS`` at a time, so that what a flush
        builds stays small however much was gathered.
        """
        counts, day_keys, named, hours = self._counts, list(self._days), self._named, self._hours
        agent_keys = [None] + [agent_key(name) for name in list(self._agents)[1:]]
        self._clear()
        stored = (
            _stored_row_ids({engagement_id for engagement_id, _ in day_keys}) if len(day_keys) >= INSERT_FROM else None
        )
        rows = defaultdict(Counter)
        # Sorted, the packed keys come grouped by engagement-day (its number is their high part).
        for packed in sorted(packed for packed, n in counts.items() if n):
            rest, sentiment = divmod(packed, 8)
            day, agent = divmod(rest, self._AGENTS)
            key = day_keys[day]
            if key not in rows and len(rows) >= FLUSH_ROWS:
                _write(rows, stored)
                rows = defaultdict(Counter)
            n, sentiment = counts[packed], self._SENTIMENTS[sentiment]
            row = rows[key]
            row["total"] += n
            row[f"sentiments.{sentiment}"] += n
            if agent:
                row[f"agents.{agent_keys[agent]}.{sentiment}"] += n
        _write(rows, stored, hours)
        _record_names(named)


def _write(rows, stored, hours=None):
    """Add ``rows`` (``{(engagementId, day): {path: n}}``) to the daily documents, and to
    the per-engagement totals and all-engagement days, with ``hours`` (``{(engagementId,
    hour key): n}``) in the totals: with ``stored`` (the ids of the daily documents that
    exist), those not stored are inserted whole."""
    rows = {key: Counter({path: n for path, n in counts.items() if n}) for key, counts in rows.items()}
    rows = {key: counts for key, counts in rows.items() if counts}
    if not rows:
        _record_totals({}, hours)  # (a move within a day changes its hours only)
        return
    pending = rows
    if stored is not None:
        documents = [_document(*key, counts) for key, counts in rows.items() if _row_id(*key) not in stored]
        inserted, _ = mongo.insert_unordered(collection(), documents)
        # Another writer may have added some of them meanwhile: those are counted up instead.
        inserted = {document["_id"] for document in inserted}
        pending = {key: counts for key, counts in rows.items() if _row_id(*key) not in inserted}
    operations = [
        UpdateOne(
            {"_id": _row_id(engagement_id, day)},
            {"$inc": dict(counts), "$setOnInsert": {"engagementId": engagement_id, "day": day}},
            upsert=True,
        )
        for (engagement_id, day), counts in pending.items()
    ]
    if operations:
        collection().bulk_write(operations, ordered=False)
    _record_totals(rows, hours)
    _record_daily(rows)


def _record_names(named):
    """Count each agent's interactions (by sentiment too) and each CSV file's rows per
    engagement; a name whose count drops to zero goes."""
    changed = defaultdict(Counter)  # (engagementId, field, name) -> {path: n}
    for (engagement_id, field, value, sentiment), n in named.items():
        if n:
            changed[(engagement_id, field, value)]["n"] += n
            if sentiment is not None:
                changed[(engagement_id, field, value)][f"sentiments.{sentiment}"] += n
    if not changed:
        return
    forget_recent()
    names().bulk_write(
        [
            UpdateOne(
                {"_id": _name_id(engagement_id, value, field)},
                {"$inc": dict(counts), "$setOnInsert": {"engagementId": engagement_id, field: value}},
                upsert=True,
            )
            for (engagement_id, field, value), counts in changed.items()
        ],
        ordered=False,
    )
    gone = [_name_id(engagement_id, value, field) for (engagement_id, field, value), counts in changed.items()
            if counts["n"] < 0]  # fmt: skip
    if gone:
        names().delete_many({"_id": {"$in": gone}, "n": {"$lte": 0}})


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


def agent_bound(engagement_ids, sentiments, start, needed, descending=False, agents=None):
    """The name through which the agents after ``start`` (None: from the first), in name
    order, handled at least ``needed`` interactions within ``engagement_ids`` (None: all),
    with one of ``sentiments`` (None: any) and among ``agents`` (None: any); None if all of
    them together handled fewer. Read from the agents' counts, as MongoDB orders strings
    (by code point), as this process read them lately (:func:`recent_agent_sentiments`)."""
    keys = None if sentiments is None else {sentiment_key(s) for s in sentiments}
    counts = recent_agent_sentiments(engagement_ids)
    names = sorted(counts if agents is None else set(agents) & counts.keys(), reverse=descending)
    if start is not None:
        names = [name for name in names if (name < start if descending else name > start)]
    held = 0
    for name in names:
        held += sum(n for key, n in counts[name].items() if keys is None or key in keys)
        if held >= needed:
            return name
    return None


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
    keys = {sentiment_key(s) for s in sentiments}
    return sum(n for row in rows for key, n in (row.get("sentiments") or {}).items() if key in keys)


def file_counts(engagement_id, limit):
    """``[(csvName, rows)]`` of one engagement's CSV files, by name, at most ``limit``."""
    rows = names().find({"engagementId": engagement_id, "csvName": {"$exists": True}}, {"csvName": 1, "n": 1})
    return sorted((row["csvName"], row["n"]) for row in rows if row.get("n", 0) > 0)[:limit]


def file_count(csv_name):
    """How many interactions were ingested from the CSV file ``csv_name`` (any engagement)."""
    return sum(row.get("n", 0) for row in names().find({"csvName": csv_name}, {"n": 1}))


def engagement_totals(engagement_ids):
    """``{engagement id: interactions}`` of ``engagement_ids`` that hold any."""
    rows = totals().find({"_id": {"$in": list(engagement_ids)}}, {"total": 1})
    return {row["_id"]: row["total"] for row in rows if row.get("total")}


def _record_daily(deltas):
    """Fold the engagement-day ``deltas`` of :func:`record` into the all-engagement days."""
    by_day = defaultdict(Counter)
    for (_, day), counts in deltas.items():
        if day is not None:
            by_day[day].update({path: n for path, n in counts.items() if not path.startswith("agents.")})
    operations = [
        UpdateOne(
            {"_id": day},
            {"$inc": {path: n for path, n in counts.items() if n}, "$setOnInsert": {"day": day}},
            upsert=True,
        )
        for day, counts in by_day.items()
        if any(counts.values())
    ]
    if operations:
        daily().bulk_write(operations, ordered=False)


def _record_totals(deltas, hours=None):
    """Fold the engagement-day ``deltas`` of :func:`record`, and the ``hours`` of its
    interactions, into the per-engagement totals and those of every engagement."""
    by_engagement = defaultdict(lambda: {"inc": Counter(), "days": []})
    for (engagement_id, day), counts in deltas.items():
        for key in (engagement_id, EVERY_ENGAGEMENT):
            entry = by_engagement[key]
            entry["inc"].update({path: n for path, n in counts.items() if not path.startswith("agents.")})
            if day is not None and counts["total"] > 0:
                entry["days"].append(day)
    for (engagement_id, hour), n in (hours or {}).items():
        for key in (engagement_id, EVERY_ENGAGEMENT):
            by_engagement[key]["inc"][f"hours.{hour}"] += n
    operations = []
    for engagement_id, entry in by_engagement.items():
        update = {"$inc": {path: n for path, n in entry["inc"].items() if n}}
        if entry["days"]:
            update.update({"$min": {"first": min(entry["days"])}, "$max": {"last": max(entry["days"])}})
        if update["$inc"] or entry["days"]:
            operations.append(UpdateOne({"_id": engagement_id or NO_KEY}, update, upsert=True))
    if operations:
        totals().bulk_write(operations, ordered=False)


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
    """The totals documents of ``engagement_ids`` (None: every engagement's); within a
    :func:`topbox.memo.scope`, each is read once (the count and the keyset windows of an
    admin page read the same ones)."""
    if engagement_ids is None:
        keys, query = [EVERY_ENGAGEMENT], {"_id": EVERY_ENGAGEMENT}
    else:
        keys = list(engagement_ids)
        query = {"_id": {"$in": keys}}
    read = memo.store(TOTALS)
    if read is None:
        return list(totals().find(query))
    missing = [key for key in keys if key not in read]
    if missing:
        found = {
            row["_id"]: row for row in totals().find(query if len(missing) == len(keys) else {"_id": {"$in": missing}})
        }
        read.update((key, found.get(key)) for key in missing)
    return [read[key] for key in dict.fromkeys(keys) if read[key] is not None]


def span(engagement_ids=None):
    """``(first, last)``: the days between which the interactions of ``engagement_ids``
    (None: every engagement) lie, or ``(None, None)`` when there are none."""
    found = scope_totals(engagement_ids)
    return found["first"], found["last"]


def _stored_row_ids(engagement_ids):
    """The ids of the daily documents stored for ``engagement_ids``, one indexed query each."""
    return {
        row["_id"]
        for engagement_id in engagement_ids
        for row in collection().find({"engagementId": engagement_id}, {"_id": 1})
    }


def _document(engagement_id, day, counts):
    """The daily document an upsert of ``counts`` (``{path: n}``) would create."""
    document = {"_id": _row_id(engagement_id, day), "engagementId": engagement_id, "day": day}
    for path, n in counts.items():
        *parents, leaf = path.split(".")
        node = document
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = n
    return document


def newest_day(engagement_ids=None):
    """The latest day holding interactions of ``engagement_ids`` (None: any), or None."""
    return span(engagement_ids)[1]


def page_bound(engagement_ids, sentiments, start, needed, descending=True, within=(None, None), agents=None):
    """The instant to bound a page's query by: counting back (``descending``) or forward
    from ``start`` (None: the end, or beginning, of the data), about where the counts reach
    ``needed`` interactions of ``engagement_ids`` (None: all) with one of ``sentiments``
    (None: any), with a margin; None when they never do (the rest of the data is needed).
    ``within``: the list's own ``[from, to)`` (None: unbounded), beyond which no window goes.
    ``agents``: the names the list keeps (None: any); the window is sized by their share of
    the scope's interactions (:func:`recent_agent_count`: as if they were spread evenly).

    Reads the daily documents over twice the days the scope's average holds ``needed`` in
    (from its totals), widened by what it lacked until it holds them, one query per
    engagement, and stops at the end of the data's span: what it reads grows with the
    page, not with the data. Within the day where the count is reached, the bound is placed
    as if that day's interactions were spread over its hours as the scope's are (its
    ``hours``; evenly when unknown; the paginator widens a window that falls short). A
    window wider than ``MAX_COUNTED_DAYS`` is not read: the average places it.
    """
    keys = None if sentiments is None else {sentiment_key(s) for s in sentiments}  # (null and "": absent, once)
    scope = scope_totals(engagement_ids)
    profile = DayProfile(scope["hours"])
    if agents is not None and scope["total"]:
        kept = recent_agent_count(agents, engagement_ids)
        needed = needed * scope["total"] / max(kept, 1)  # none (or names behind): a window that holds everything
    first_day, last_day = scope["first"], scope["last"]
    if first_day is None:
        return None
    per_day = scope["total"] / ((last_day - first_day).days + 1)
    if within[0] is not None:
        first_day = max(first_day, day_of(within[0]))
    if within[1] is not None:
        last_day = min(last_day, day_of(_shift(_naive_utc(within[1]), -EPSILON)))
    if first_day > last_day:
        return None
    end_of_data = _shift(last_day, ONE_DAY)
    origin = (end_of_data if descending else first_day) if start is None else _naive_utc(start)
    origin = min(origin, end_of_data) if descending else max(origin, first_day)  # no window from beyond the data
    start_day = day_of(_shift(origin, -EPSILON)) if descending else day_of(origin)
    width = max(1, math.ceil(PAGE_MARGIN * needed / per_day))
    while True:
        reach = datetime.timedelta(days=width - 1)
        if width > MAX_COUNTED_DAYS:  # the average is estimate enough: no need to read the days
            day = _shift(start_day, -reach) if descending else _shift(start_day, reach + ONE_DAY)
            return None if (day <= first_day if descending else day > last_day) else day
        # Twice the days the average says (one query either way): the bound is placed where
        # the counts reach the page, and days below the average seldom need a second read.
        width = min(2 * width, max(width, MAX_COUNTED_DAYS))
        reach = datetime.timedelta(days=width - 1)
        days = (
            {"$gte": max(_shift(start_day, -reach), first_day), "$lte": start_day}
            if descending
            else {"$gte": start_day, "$lte": min(_shift(start_day, reach), last_day)}
        )
        by_day = Counter()
        for row in _day_counts(engagement_ids, days):
            counts = row.get("sentiments") or {}
            n = row.get("total", 0) if keys is None else sum(counts.get(key, 0) for key in keys)
            by_day[day_of(row["day"])] += n
        reached, target = 0, PAGE_MARGIN * needed
        for day in sorted(by_day, reverse=descending):
            # The part of the day on the page's side of the origin, and its share of the count.
            end_of_day = _shift(day, ONE_DAY)
            low, high = (day, min(end_of_day, origin)) if descending else (max(day, origin), end_of_day)
            if high <= low:
                continue
            share = profile.share_before(high - day) - profile.share_before(low - day)
            count = by_day[day] * share
            if count and reached + count >= target:
                part = min(share, (target - reached) / by_day[day])  # of the whole day
                if descending:
                    return max(low, day + profile.offset_at(profile.share_before(high - day) - part))
                return min(high, day + profile.offset_at(profile.share_before(low - day) + part))
            reached += count
        if (days["$gte"] <= first_day) if descending else (days["$lte"] >= last_day):
            return None  # the window holds the rest of the data
        # Wider by what was missing (a quarter more), at most fourfold: a window that fell
        # just short grows by days, not to four times what the page needs.
        width = max(width + 1, math.ceil(width * min(4.0, 1.25 * target / reached if reached else 4.0)))


class DayProfile:
    """How a scope's interactions spread over the hours of a UTC day (its totals' ``hours``;
    evenly when they say nothing): where within a day a page's bound falls."""

    def __init__(self, hours):
        counts = [max(0, (hours or {}).get(f"{hour:02}", 0)) for hour in range(24)]
        if not sum(counts):
            counts = [1] * 24
        total = sum(counts)
        self.cumulative = [n / total for n in itertools.accumulate(counts, initial=0)]  # 25, from 0 to 1

    def share_before(self, offset):
        """The share of a day's interactions before ``offset`` (0 to one day) into it."""
        hours = min(max(offset / ONE_HOUR, 0.0), 24.0)
        hour = min(int(hours), 23)
        low, high = self.cumulative[hour], self.cumulative[hour + 1]
        return low + (high - low) * (hours - hour)

    def offset_at(self, share):
        """The earliest offset into a day before which ``share`` of its interactions fall."""
        share = min(max(share, 0.0), 1.0)
        hour = max(0, min(bisect.bisect_left(self.cumulative, share) - 1, 23))
        low, high = self.cumulative[hour], self.cumulative[hour + 1]
        return ONE_HOUR * (hour + ((share - low) / (high - low) if high > low else 0.0))


def _day_counts(engagement_ids, days):
    """``{day, total, sentiments}`` per day within ``days`` (a range), per engagement of
    ``engagement_ids``, or for every engagement at once (None).

    Several engagements' days between two bounds are read by their ids in one query (up to
    ``MAX_DAY_IDS`` of them); else one indexed query per engagement: an ``$in`` of
    engagements with a range of days is a scan on the embedded server.
    """
    fields = {"day": 1, "total": 1, "sentiments": 1}
    if engagement_ids is None:
        yield from daily().find({"day": days}, fields)
        return
    if {"$gte", "$lte"} <= set(days) and len(engagement_ids) > 1:
        count = (days["$lte"] - days["$gte"]).days + 1
        if 0 < count * len(engagement_ids) <= MAX_DAY_IDS:
            every_day = [_shift(days["$gte"], ONE_DAY * n) for n in range(count)]
            ids = [_row_id(pk, day) for pk in engagement_ids for day in every_day]
            # The engagements too, so that a sharded cluster asks only their shards; after the
            # ids, so that the embedded server serves it from the ids (the other way: a scan).
            yield from collection().find({"_id": {"$in": ids}, "engagementId": {"$in": list(engagement_ids)}}, fields)
            return
    for pk in engagement_ids:
        yield from collection().find({"engagementId": pk, "day": days}, fields)


def day_totals(engagement_ids=None):
    """The daily documents (``{day, total, sentiments}``, and ``agents`` but for every
    engagement) of every day of ``engagement_ids`` (None: all), and of their interactions
    without a date (``day`` None). Whole documents: a projection costs more than it saves
    on the embedded server."""
    if engagement_ids is not None:
        for pk in engagement_ids:
            yield from collection().find({"engagementId": pk})
        return
    yield from daily().find()
    yield from collection().find({"day": None})


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
    start, end = _naive_utc(start), _naive_utc(end)
    first_day = None if start is None else day_of(start)
    if first_day is not None and first_day < start:
        first_day = _shift(first_day, datetime.timedelta(days=1))  # the first whole day
    last_day = None if end is None else day_of(end)
    if first_day is not None and last_day is not None and first_day >= last_day:
        return _count_raw(engagement_ids, sentiments, start, end)  # no whole day in the range
    days = {**({"$gte": first_day} if first_day else {}), **({"$lt": last_day} if last_day else {})}
    total = sum(counted(row) for row in _day_counts(engagement_ids, days))
    if start is not None and start < first_day:
        total += _count_raw(engagement_ids, sentiments, start, first_day)
    if end is not None and last_day < end:
        total += _count_raw(engagement_ids, sentiments, last_day, end)
    return total


def _shift(when, delta):
    """``when + delta``, stopping at the first and last instants a datetime can hold."""
    try:
        return when + delta
    except OverflowError:
        return datetime.datetime.max if delta > datetime.timedelta(0) else datetime.datetime.min


def _naive_utc(when):
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(datetime.UTC).replace(tzinfo=None)


def _count_raw(engagement_ids, sentiments, start, end):
    """The interactions in ``[start, end)`` counted one by one, one query per engagement."""
    match = {"interactionDate": {**at_or_after(start), "$lt": end}}
    if sentiments is not None:
        values = [s if s != ABSENT else None for s in sentiments]
        match["sentiment"] = values[0] if len(values) == 1 else {"$in": values}
    collection = Interaction._get_collection()
    if engagement_ids is None:
        return collection.count_documents(match)
    return sum(collection.count_documents({"engagementId": pk, **match}) for pk in engagement_ids)


def raw_counts(match):
    """The rollup documents computed from the raw interactions matching ``match`` (one
    engagement's: see :func:`rebuild`): what :func:`record` keeps, as the reference
    (rebuilds, checks, tests)."""
    pipeline = [
        {"$match": match},
        {
            "$group": {
                "_id": {
                    "e": "$engagementId",
                    "d": {"$dateTrunc": {"date": "$interactionDate", "unit": "day", "timezone": "UTC"}},
                    "a": "$agentName",
                    "s": "$sentiment",
                },
                "n": {"$sum": 1},
            }
        },
    ]
    rows = {}
    for group in Interaction._get_collection().aggregate(pipeline):
        key = group["_id"]
        engagement_id, day = key.get("e"), day_of(key.get("d"))
        row = rows.setdefault(
            _row_id(engagement_id, day),
            {"engagementId": engagement_id, "day": day, "total": 0, "sentiments": Counter(), "agents": {}},
        )
        sentiment, n = sentiment_key(key.get("s")), group["n"]
        row["total"] += n
        row["sentiments"][sentiment] += n
        if key.get("a"):
            row["agents"].setdefault(agent_key(key["a"]), Counter())[sentiment] += n
    return rows


def raw_hours(match):
    """``{totals _id: {hour key: n}}``: how the interactions matching ``match`` spread over
    the UTC hours of the day, per engagement and for every engagement (the totals' ``hours``)."""
    pipeline = [
        {"$match": {**match, "interactionDate": {"$type": "date"}}},
        {"$group": {"_id": {"e": "$engagementId", "h": {"$hour": "$interactionDate"}}, "n": {"$sum": 1}}},
    ]
    hours = defaultdict(Counter)
    for group in Interaction._get_collection().aggregate(pipeline):
        hour = f"{group['_id']['h']:02}"
        hours[group["_id"].get("e") or NO_KEY][hour] += group["n"]
        hours[EVERY_ENGAGEMENT][hour] += group["n"]
    return {key: dict(counts) for key, counts in hours.items()}


def stored_counts(match=None):
    """The stored rollup documents matching ``match``, normalised as :func:`raw_counts`
    gives them (zero counts dropped)."""
    rows = {}
    for doc in collection().find(match or {}):
        sentiments = Counter({key: n for key, n in (doc.get("sentiments") or {}).items() if n})
        agents = {
            name: Counter({key: n for key, n in counts.items() if n})
            for name, counts in (doc.get("agents") or {}).items()
            if any(counts.values())
        }
        if doc.get("total") or sentiments or agents:
            day = doc.get("day")
            rows[doc["_id"]] = {
                "engagementId": doc.get("engagementId"),
                "day": day_of(day),
                "total": doc.get("total", 0),
                "sentiments": sentiments,
                "agents": agents,
            }
    return rows


def rebuild(engagement_ids=None, on_progress=None):
    """Recompute the rollups of ``engagement_ids`` (None: of every engagement, as
    :func:`_every_engagement_id` finds them) from the raw interactions, and the
    all-engagement documents from the per-engagement ones; return how many engagement-days
    the engagements rebuilt hold.

    One engagement at a time: each aggregation reads one engagement's interactions through
    the index, and what is held is one engagement's counts (one aggregation over a million
    interactions is cancelled on the embedded server). An engagement's figures are all
    computed before its documents are replaced, so a failed aggregation leaves it as it
    was; but while they are replaced (deleted, then inserted) a reader may find them
    missing or partly there, and until the end the all-engagement documents disagree with
    the engagements rebuilt. ``on_progress(done, total)`` is called before the first
    engagement and after each.
    """
    pks = _every_engagement_id() if engagement_ids is None else list(engagement_ids)
    every, days = _EveryEngagement(), 0
    for pk in _reporting(pks, on_progress):
        found = _from_interactions(pk)
        _replace(pk, *found)
        every.add(*found)
        days += len(found[0])
    if engagement_ids is not None:
        for pk in set(_every_engagement_id()).difference(pks):
            every.add(*_stored(pk))
    every.replace()
    return days


def _every_engagement_id():
    """The engagement ids a full rebuild or check goes through: the stored engagements',
    those the totals count (of an engagement deleted since, say), any other that
    interactions or rollup documents hold, and None for the interactions without one
    (``NO_KEY``)."""
    known = dict.fromkeys(row["_id"] for row in Engagement._get_collection().find({}, {"_id": 1}))
    known.update((row["_id"], None) for row in totals().find({}, {"_id": 1}))
    known.pop(EVERY_ENGAGEMENT, None)
    known.pop(NO_KEY, None)
    for holder in (Interaction._get_collection(), collection(), names()):
        known.update((pk, None) for pk in _other_engagement_ids(holder, known))
    return [*known, None]


def _other_engagement_ids(holder, known):
    """The engagement ids other than ``known`` in the collection ``holder``, looked for below,
    between and above the ``known`` ObjectIds: ranges its engagement index serves, so that
    finding none costs one small query per gap (a ``$nin`` or a ``distinct`` reads every
    document on the embedded server). Ids of another type, which Topbox never writes, are
    found only when the totals count them."""
    bounds = sorted(pk for pk in known if isinstance(pk, ObjectId))
    # From the least id above each bound rather than $gt the bound, which the embedded
    # server finds by walking every index entry of the bound (its engagement's documents).
    lows = [ObjectId(bytes(12)), *(_id_after(pk) for pk in bounds)]
    highs = [{"$lt": pk} for pk in bounds] + [{"$lte": ObjectId(b"\xff" * 12)}]
    found = {}
    for low, high in zip(lows, highs, strict=True):
        if low is not None:
            for row in holder.find({"engagementId": {"$gte": low, **high}}, {"engagementId": 1, "_id": 0}):
                found[row["engagementId"]] = None
    return list(found)


def _id_after(pk):
    """The least ObjectId above ``pk`` (None for the greatest)."""
    number = int.from_bytes(pk.binary, "big") + 1
    return ObjectId(number.to_bytes(12, "big")) if number < 1 << 96 else None


def _reporting(pks, on_progress):
    """``pks`` one by one, calling ``on_progress(done, total)`` (if any) before the first and
    after each."""
    for done, pk in enumerate(pks):
        if on_progress:
            on_progress(done, len(pks))
        yield pk
    if on_progress:
        on_progress(len(pks), len(pks))


def _from_interactions(pk):
    """What the interactions of the engagement ``pk`` (None: of those without one) give:
    its daily rows (as :func:`raw_counts`), its totals (None when it has no interactions)
    and its names documents (``{_id: document}``)."""
    match = {"engagementId": pk}
    rows = raw_counts(match)
    return rows, totals_of(rows, raw_hours(match)).get(pk or NO_KEY), {**_names_of(rows), **_raw_files(match)}


def _stored(pk):
    """What the rollups hold for the engagement ``pk`` (None: the interactions without one;
    ``EVERY_ENGAGEMENT``: the totals and agents of every engagement), as
    :func:`_from_interactions` gives it."""
    match = {"engagementId": pk}
    engagement_totals = totals().find_one({"_id": pk or NO_KEY}, {"_id": 0})
    if engagement_totals:
        engagement_totals.update(
            first=day_of(engagement_totals.get("first")), last=day_of(engagement_totals.get("last"))
        )
    named = {
        doc["_id"]: doc if "csvName" in doc else _agent_doc({**doc, "sentiments": doc.get("sentiments") or {}})
        for doc in names().find(match)
        if doc.get("n")
    }
    return stored_counts(match), engagement_totals, named


def _replace(pk, rows, engagement_totals, named):
    """Replace the daily, totals and names documents of the engagement ``pk`` (None: of the
    interactions without one) by ``rows``, ``engagement_totals`` and ``named``."""
    match = {"engagementId": pk}
    collection().delete_many(match)
    if rows:
        documents = [
            {**row, "_id": row_id, "sentiments": dict(row["sentiments"]),
             "agents": {name: dict(counts) for name, counts in row["agents"].items()}}
            for row_id, row in rows.items()
        ]  # fmt: skip
        collection().insert_many(documents, ordered=False)
    if engagement_totals:
        totals().replace_one({"_id": pk or NO_KEY}, engagement_totals, upsert=True)
    else:
        totals().delete_one({"_id": pk or NO_KEY})
    forget_recent()
    names().delete_many(match)
    if named:
        names().insert_many(list(named.values()), ordered=False)


class _EveryEngagement:
    """The all-engagement documents (the days, the totals, the agents' names) summed
    engagement by engagement from what :func:`_from_interactions` or :func:`_stored`
    give: what it holds grows with the days and the agents, not with the interactions."""

    def __init__(self):
        self.days = {}  # day -> {total, sentiments (a Counter)}
        self.totals = []  # each engagement's
        self.agents = {}  # unfinished names documents (see _agent_docs)

    def add(self, rows, engagement_totals, named):
        for row in rows.values():
            if row["day"] is not None:
                entry = self.days.setdefault(row["day"], {"total": 0, "sentiments": Counter()})
                entry["total"] += row["total"]
                entry["sentiments"].update(row["sentiments"])
        if engagement_totals:
            self.totals.append(engagement_totals)
        _add_every_agent(self.agents, (doc for doc in named.values() if "agentName" in doc))

    def documents(self):
        """``(days, totals, agents)``: ``{day: {total, sentiments}}`` of :func:`daily`, the
        totals of every engagement and ``{_id: document}`` of the agents in :func:`names`."""
        days = {
            day: {"total": entry["total"], "sentiments": {name: n for name, n in entry["sentiments"].items() if n}}
            for day, entry in self.days.items()
        }
        return days, _sum_totals(self.totals), _agent_docs(self.agents)

    def replace(self):
        """Store the documents in place of those of every engagement."""
        days, every, agents = self.documents()
        totals().replace_one({"_id": EVERY_ENGAGEMENT}, every, upsert=True)
        daily().delete_many({})
        if days:
            daily().insert_many([{"_id": day, "day": day, **entry} for day, entry in days.items()], ordered=False)
        forget_recent()
        names().delete_many({"engagementId": EVERY_ENGAGEMENT})
        if agents:
            names().insert_many(list(agents.values()), ordered=False)


def _raw_files(match):
    """The names collection's CSV file documents, from the raw interactions matching ``match``."""
    pipeline = [
        {"$match": {**match, "custom.csvName": {"$type": "string", "$ne": ""}}},
        {"$group": {"_id": {"e": "$engagementId", "f": "$custom.csvName"}, "n": {"$sum": 1}}},
    ]
    found = {}
    for group in Interaction._get_collection().aggregate(pipeline):
        engagement_id, csv_name = group["_id"].get("e"), group["_id"]["f"]
        key = _name_id(engagement_id, csv_name, "csvName")
        doc = found.setdefault(key, {"_id": key, "engagementId": engagement_id, "csvName": csv_name, "n": 0})
        doc["n"] += group["n"]  # a null and a missing engagement are grouped apart, counted as one
    return found


def _every_agent(docs):
    """The names collection's documents over every engagement, from its per-engagement ones."""
    return _agent_docs(_add_every_agent({}, docs))


def _add_every_agent(every, docs):
    """Add the per-engagement agent documents ``docs`` to ``every``, unfinished documents
    over every engagement (:func:`_agent_docs` finishes them)."""
    for doc in docs:
        key = _name_id(EVERY_ENGAGEMENT, doc["agentName"])
        _add_agent(every, key, EVERY_ENGAGEMENT, doc["agentName"], doc.get("sentiments") or {})
    return every


def _names_of(rows):
    """The names collection's agent documents that the daily counts ``rows`` imply."""
    found = {}
    for row in rows.values():
        for key, counts in row["agents"].items():
            name = agent_name(key)
            _add_agent(found, _name_id(row["engagementId"], name), row["engagementId"], name, counts)
    return _agent_docs(found)


def _add_agent(found, doc_id, engagement_id, name, sentiments):
    doc = found.setdefault(
        doc_id, {"_id": doc_id, "engagementId": engagement_id, "agentName": name, "n": 0, "sentiments": Counter()}
    )
    doc["n"] += sum(sentiments.values())
    doc["sentiments"].update(sentiments)


def _agent_docs(found):
    return {key: _agent_doc(doc) for key, doc in found.items() if doc["n"]}


def _agent_doc(doc):
    return {**doc, "sentiments": {key: n for key, n in doc["sentiments"].items() if n}}


def _sum_totals(rows):
    """The totals of every engagement, summed from each engagement's ``rows``."""
    every = {"total": 0, "sentiments": Counter(), "hours": Counter(), "first": None, "last": None}
    for row in rows:
        every["total"] += row.get("total", 0)
        every["sentiments"].update(row.get("sentiments") or {})
        every["hours"].update(row.get("hours") or {})
        every["first"] = min(filter(None, (every["first"], row.get("first"))), default=None)
        every["last"] = max(filter(None, (every["last"], row.get("last"))), default=None)
    return {**every, "sentiments": dict(every["sentiments"]), "hours": dict(every["hours"])}


def totals_of(rows, hours):
    """The per-engagement totals of the daily ``rows`` (as :func:`raw_counts` gives them)
    with their ``hours`` (as :func:`raw_hours` gives them), and those of every engagement,
    by ``_id`` of :func:`totals`."""
    result = {}
    for row in rows.values():
        for key in (row["engagementId"] or NO_KEY, EVERY_ENGAGEMENT):
            entry = result.setdefault(
                key, {"total": 0, "sentiments": Counter(), "hours": hours.get(key, {}), "first": None, "last": None}
            )
            entry["total"] += row["total"]
            entry["sentiments"].update(row["sentiments"])
            if row["day"] is not None:
                entry["first"] = min(filter(None, (entry["first"], row["day"])))
                entry["last"] = max(filter(None, (entry["last"], row["day"])))
    return {key: {**entry, "sentiments": dict(entry["sentiments"])} for key, entry in result.items()}


def differences(engagement_ids=None, on_progress=None):
    """The keys of the rollup documents that differ from what the raw interactions give:
    engagement-days (``<engagement>:<YYYYMMDD>``), then ``totals:<engagement>``,
    ``daily:<YYYYMMDD>`` and ``names:<_id>``. Of ``engagement_ids``, or (None) of every
    engagement and of the all-engagement documents: one engagement at a time as
    :func:`rebuild` goes, summing what the all-engagement documents should hold on the way.
    ``on_progress`` as there."""
    pks = _every_engagement_id() if engagement_ids is None else list(engagement_ids)
    every, found = _EveryEngagement(), []
    for pk in _reporting(pks, on_progress):
        expected = _from_interactions(pk)
        every.add(*expected)
        found += _differing(pk or NO_KEY, expected, _stored(pk))
    if engagement_ids is None:
        days, every_totals, agents = every.documents()
        found += _differing(EVERY_ENGAGEMENT, ({}, every_totals, agents), _stored(EVERY_ENGAGEMENT))
        found += _daily_differences(days)
    return sorted(found, key=_listed_order)


def _listed_order(key):
    """Engagement-days first, then totals, all-engagement days and names, each sorted."""
    kinds = ("totals:", "daily:", "names:")
    return next((number for number, kind in enumerate(kinds, 1) if key.startswith(kind)), 0), key


def _differing(key, expected, stored):
    """The keys of the documents of one engagement (its totals ``_id``: ``key``) that differ
    between ``expected`` and ``stored`` (each as :func:`_from_interactions` gives them)."""
    (rows, want, named), (stored_rows, have, stored_named) = expected, stored
    days = [row_id for row_id in rows.keys() | stored_rows.keys() if rows.get(row_id) != stored_rows.get(row_id)]
    wrong_names = [f"names:{doc_id}" for doc_id in named.keys() | stored_named.keys()
                   if named.get(doc_id) != stored_named.get(doc_id)]  # fmt: skip
    return days + ([f"totals:{key}"] if _totals_differ(have, want) else []) + wrong_names


def _totals_differ(have, want):
    """Whether the stored totals ``have`` disagree with ``want`` (either None: none): in their
    counts, or by a span that does not cover its days (a wider one is allowed)."""
    have = have or {}
    want = want or {"total": 0, "sentiments": {}, "hours": {}, "first": None, "last": None}
    counts = {name: n for name, n in (have.get("sentiments") or {}).items() if n}
    hours = {hour: n for hour, n in (have.get("hours") or {}).items() if n}
    covers = want["first"] is None or (
        have.get("first") is not None
        and day_of(have["first"]) <= want["first"]
        and day_of(have["last"]) >= want["last"]
    )
    return have.get("total", 0) != want["total"] or counts != want["sentiments"] or hours != want["hours"] or not covers


def _daily_differences(expected):
    """``daily:<YYYYMMDD>`` for each all-engagement day that disagrees with ``expected``
    (``{day: {total, sentiments}}``)."""
    stored = {
        day_of(row["_id"]): {
            "total": row.get("total", 0),
            "sentiments": {name: n for name, n in (row.get("sentiments") or {}).items() if n},
        }
        for row in daily().find()
    }
    empty = {"total": 0, "sentiments": {}}
    return [
        f"daily:{day:%Y%m%d}"
        for day in stored.keys() | expected.keys()
        if stored.get(day, empty) != expected.get(day, empty)
    ]


def clear():
    collection().delete_many({})
    totals().delete_many({})
    daily().delete_many({})
    forget_recent()
    names().delete_many({})
