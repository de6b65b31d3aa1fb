"""Daily counts of interactions, kept up to date on every write: what statistics read.

One document per engagement and UTC day holds the day's total, its counts by sentiment
(``absent`` for none) and, per named agent, the same counts. Statistics over any range
then read one small document per engagement-day instead of every interaction, which is
what makes them flat as the data grows (the embedded server reads everything a query
matches; MongoDB's aggregation too grows with the range).

Every write path records its change: the API's viewset, the admin and any
``Document.save()``/``delete()`` (MongoEngine signals), ingest, seed and synthetic data.
:func:`rebuild` recomputes the counts from the raw interactions (``manage.py
rebuild_rollups``, which also checks them): writes made around Topbox's code, such as a
mongo shell, are repaired that way.
"""

import datetime
from collections import Counter, defaultdict

from pymongo import UpdateOne

from interactions.documents import SENTIMENTS, Interaction
from topbox import mongo

COLLECTION = "interaction_day"
ABSENT = "absent"  # the key counting interactions without a sentiment
NO_KEY = "none"  # in an _id: no engagement or no date
# From this many engagement-days, a flush inserts the new daily documents (about 5 times
# cheaper than upserts on the embedded server) after reading which are stored already.
INSERT_FROM = 200
FLUSH_ROWS = 2000  # engagement-days per bulk write when a tally is flushed


def collection():
    return mongo.database()[COLLECTION]


def ensure_indexes():
    collection().create_index([("engagementId", 1), ("day", 1)], name="engagement_day")
    collection().create_index([("day", 1)], name="day")


def day_of(when):
    """The UTC day (a midnight datetime) holding ``when``; None for no date."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC).replace(tzinfo=None)
    return datetime.datetime(when.year, when.month, when.day)


def sentiment_key(sentiment):
    return sentiment if sentiment in SENTIMENTS else ABSENT


def agent_key(name):
    """The agent's name as a key MongoDB accepts (no ``.``, no leading ``$``), reversibly."""
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def agent_name(key):
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _row_id(engagement_id, day):
    return f"{engagement_id or NO_KEY}:{day.strftime('%Y%m%d') if day else NO_KEY}"


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

    def __len__(self):
        return len(self._counts)

    def add(self, rows, sign=1):
        sentiment_numbers = {sentiment: number for number, sentiment in enumerate(self._SENTIMENTS)}
        days, agents, counts = self._days, self._agents, self._counts
        for raw in rows:
            if raw is None:
                continue
            key = (raw.get("engagementId"), day_of(raw.get("interactionDate")))
            day = days.setdefault(key, len(days))
            agent = agents.setdefault(raw.get("agentName") or "", len(agents))
            if agent >= self._AGENTS:
                raise OverflowError("too many agent names in one tally: flush it more often")
            sentiment = sentiment_numbers[sentiment_key(raw.get("sentiment"))]
            counts[(day * self._AGENTS + agent) * 8 + sentiment] += sign

    def flush(self):
        """Write what was gathered, and start again from nothing.

        The engagement-days are written ``FLUSH_ROWS`` at a time, so that what a flush
        builds stays small however much was gathered.
        """
        counts, day_keys = self._counts, list(self._days)
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
        _write(rows, stored)


def _write(rows, stored):
    """Add ``rows`` (``{(engagementId, day): {path: n}}``) to the daily documents: with
    ``stored`` (the ids of those that exist), those not stored are inserted whole."""
    rows = {key: {path: n for path, n in counts.items() if n} for key, counts in rows.items()}
    rows = {key: counts for key, counts in rows.items() if counts}
    if stored is not None:
        documents = [_document(*key, counts) for key, counts in rows.items() if _row_id(*key) not in stored]
        inserted, _ = mongo.insert_unordered(collection(), documents)
        # Another writer may have added some of them meanwhile: those are counted up instead.
        inserted = {document["_id"] for document in inserted}
        rows = {key: counts for key, counts in rows.items() if _row_id(*key) not in inserted}
    operations = [
        UpdateOne(
            {"_id": _row_id(engagement_id, day)},
            {"$inc": counts, "$setOnInsert": {"engagementId": engagement_id, "day": day}},
            upsert=True,
        )
        for (engagement_id, day), counts in rows.items()
    ]
    if operations:
        collection().bulk_write(operations, ordered=False)


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
    """The latest day holding interactions of ``engagement_ids`` (None: any), or None.

    Looks back from today over windows that grow eightfold (a day, 8, 64, ... 8**6 days), so
    that it reads the few daily documents at the recent end rather than all of them (what
    a sort reads on the embedded server), one engagement at a time (an ``$in`` with a
    range is a scan there); then everything older, if need be.
    """
    scopes = [{}] if engagement_ids is None else [{"engagementId": pk} for pk in engagement_ids]
    today = day_of(datetime.datetime.now(datetime.UTC))
    newest = []
    for scope in scopes:
        for power in range(7):
            since = today - datetime.timedelta(days=8**power)
            days = [row["day"] for row in collection().find({**scope, "day": {"$gte": since}}, {"day": 1})]
            if days:
                break
        else:
            days = [row["day"] for row in collection().find({**scope, "day": {"$ne": None}}, {"day": 1})]
        newest.extend(days)
    return max(newest, default=None)


def bound_day(engagement_ids, sentiments, start, needed, descending=True):
    """The day to bound a page's query by: counting back (``descending``) or forward from
    the day of ``start`` (None: the newest day), the first day at which the counts reach
    ``needed`` interactions of ``engagement_ids`` (None: all) with one of ``sentiments``
    (None: any). None when they never do.

    Reads the daily documents over windows that grow eightfold from ``start``'s day (few
    round trips, at most eight times the days needed), one query per engagement: what it
    reads grows with the page, not with the data.
    """
    if start is None:
        if not descending:
            return None
        start = newest_day(engagement_ids)
        if start is None:
            return None
    first = day_of(start)
    scopes = [{}] if engagement_ids is None else [{"engagementId": pk} for pk in engagement_ids]
    for power in range(7):
        span = datetime.timedelta(days=8**power - 1)
        days = {"$gte": first - span, "$lte": first} if descending else {"$gte": first, "$lte": first + span}
        by_day = Counter()
        for scope in scopes:
            for row in collection().find({**scope, "day": days}, {"day": 1, "total": 1, "sentiments": 1}):
                counts = row.get("sentiments") or {}
                n = row.get("total", 0) if sentiments is None else sum(counts.get(s, 0) for s in sentiments)
                by_day[day_of(row["day"])] += n
        if sum(by_day.values()) >= needed:
            reached = 0
            for day in sorted(by_day, reverse=descending):
                reached += by_day[day]
                if reached >= needed:
                    return day
        # Nothing beyond the window (the end of the data is near, so this reads little)?
        beyond = {"$lt": days["$gte"]} if descending else {"$gt": days["$lte"]}
        if not any(collection().find_one({**scope, "day": beyond}, {"_id": 1}) for scope in scopes):
            return None
    return None


def raw_counts(match=None):
    """The rollup documents computed from the raw interactions matching ``match``: what
    :func:`record` keeps, as the reference (rebuilds, checks, tests)."""
    pipeline = [
        {"$match": match or {}},
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


def rebuild(engagement_ids=None):
    """Recompute the counts of ``engagement_ids`` (None: all) from the raw interactions;
    return how many engagement-days now hold counts."""
    match = {} if engagement_ids is None else {"engagementId": {"$in": list(engagement_ids)}}
    rows = raw_counts(match)
    collection().delete_many(match)
    if rows:
        documents = [
            {**row, "_id": row_id, "sentiments": dict(row["sentiments"]),
             "agents": {name: dict(counts) for name, counts in row["agents"].items()}}
            for row_id, row in rows.items()
        ]  # fmt: skip
        collection().insert_many(documents, ordered=False)
    return len(rows)


def differences(engagement_ids=None):
    """The engagement-day keys whose stored counts differ from the raw interactions'."""
    match = {} if engagement_ids is None else {"engagementId": {"$in": list(engagement_ids)}}
    stored, raw = stored_counts(match), raw_counts(match)
    return sorted(key for key in stored.keys() | raw.keys() if stored.get(key) != raw.get(key))


def clear():
    collection().delete_many({})
