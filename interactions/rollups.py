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
from topbox.textsearch import words_filter

COLLECTION = "interaction_day"
# The agents' names per engagement, with their interaction counts: what an agent search
# matches first (a small collection), before an indexed query per name found.
NAMES = "interaction_agent"
# One document per engagement: its total and counts by sentiment (what a changelist shows
# as "N interactions" without summing every day).
TOTALS = "interaction_total"
OLDEST = "oldest"  # the names collection's document holding the oldest day counted
EVERY = "*"  # the engagementId of the names collection's documents over every engagement
ABSENT = "absent"  # the key counting interactions without a sentiment
NO_KEY = "none"  # in an _id: no engagement or no date


def collection():
    return mongo.database()[COLLECTION]


def names():
    return mongo.database()[NAMES]


def totals():
    return mongo.database()[TOTALS]


def ensure_indexes():
    collection().create_index([("engagementId", 1), ("day", 1)], name="engagement_day")
    collection().create_index([("day", 1)], name="day")
    names().create_index([("engagementId", 1), ("agentName", 1)], name="engagement_agent")
    names().create_index([("csvName", 1)], name="file", sparse=True)


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


def _name_id(engagement_id, value, field="agentName"):
    kind = "" if field == "agentName" else "file:"
    return f"{engagement_id or NO_KEY}:{kind}{agent_key(value)}"


def record(added=(), removed=()):
    """Count the interactions ``added`` and uncount those ``removed`` (raw documents, as
    stored): one ``$inc`` upsert per engagement-day touched, in one bulk write."""
    deltas, agents = defaultdict(Counter), Counter()
    for sign, rows in ((1, added), (-1, removed)):
        for raw in rows:
            if raw is None:
                continue
            key = (raw.get("engagementId"), day_of(raw.get("interactionDate")))
            sentiment = sentiment_key(raw.get("sentiment"))
            counts = deltas[key]
            counts["total"] += sign
            counts[f"sentiments.{sentiment}"] += sign
            if raw.get("agentName"):
                counts[f"agents.{agent_key(raw['agentName'])}.{sentiment}"] += sign
                agents[(raw.get("engagementId"), "agentName", raw["agentName"])] += sign
                agents[(EVERY, "agentName", raw["agentName"])] += sign
            csv_name = (raw.get("custom") or {}).get("csvName")
            if isinstance(csv_name, str) and csv_name:
                agents[(raw.get("engagementId"), "csvName", csv_name)] += sign
    operations = [
        UpdateOne(
            {"_id": _row_id(engagement_id, day)},
            {
                "$inc": {path: n for path, n in counts.items() if n},
                "$setOnInsert": {"engagementId": engagement_id, "day": day},
            },
            upsert=True,
        )
        for (engagement_id, day), counts in deltas.items()
        if any(counts.values())
    ]
    if operations:
        collection().bulk_write(operations, ordered=False)
    _record_names(agents)
    _record_totals(deltas)
    days = [key[1] for key, counts in deltas.items() if key[1] is not None and counts["total"] > 0]
    if days:
        _lower_oldest(min(days))


def _record_totals(deltas):
    by_engagement = defaultdict(Counter)
    for (engagement_id, _), counts in deltas.items():
        by_engagement[engagement_id].update({k: n for k, n in counts.items() if not k.startswith("agents.")})
    operations = [
        UpdateOne({"_id": engagement_id or NO_KEY}, {"$inc": {k: n for k, n in counts.items() if n},
                  "$setOnInsert": {"engagementId": engagement_id}}, upsert=True)
        for engagement_id, counts in by_engagement.items()
        if any(counts.values())
    ]  # fmt: skip
    if operations:
        totals().bulk_write(operations, ordered=False)


def count(engagement_ids=None, sentiments=None):
    """How many interactions ``engagement_ids`` (None: all) hold with one of ``sentiments``
    (None: any; ``absent`` for none): one small document per engagement."""
    query = {} if engagement_ids is None else {"_id": {"$in": [pk or NO_KEY for pk in engagement_ids]}}
    n = 0
    for row in totals().find(query):
        n += row.get("total", 0) if sentiments is None else sum(row.get("sentiments", {}).get(s, 0) for s in sentiments)
    return n


def engagement_totals(engagement_ids):
    """``{engagement id: interactions}`` of ``engagement_ids`` that hold any."""
    rows = totals().find({"_id": {"$in": list(engagement_ids)}}, {"total": 1})
    return {row["_id"]: row["total"] for row in rows if row.get("total")}


def count_days(engagement_ids, sentiments, first, last):
    """:func:`count` for the UTC days ``first`` to ``last`` (midnights, inclusive; None:
    open), from the daily documents: one query per engagement."""
    days = {}
    if first is not None:
        days["$gte"] = day_of(first)
    if last is not None:
        days["$lte"] = day_of(last)
    scopes = [{}] if engagement_ids is None else [{"engagementId": pk} for pk in engagement_ids]
    n = 0
    for scope in scopes:
        for row in collection().find({**scope, "day": days}, {"total": 1, "sentiments": 1}):
            counts = row.get("sentiments") or {}
            n += row.get("total", 0) if sentiments is None else sum(counts.get(s, 0) for s in sentiments)
    return n


def _lower_oldest(day):
    names().update_one({"_id": OLDEST}, {"$min": {"day": day}}, upsert=True)


def oldest_day():
    """A day on or before the oldest interaction's (kept on every write; a delete leaves
    it lower, which is safe for what reads it: where pages oldest first start)."""
    found = names().find_one({"_id": OLDEST})
    return found["day"] if found else None


def _record_names(agents):
    """Count each agent's (and each CSV file's) interactions per engagement; a name whose
    count drops to zero goes."""
    changed = {key: n for key, n in agents.items() if n}
    if not changed:
        return
    names().bulk_write(
        [
            UpdateOne(
                {"_id": _name_id(engagement_id, value, field)},
                {"$inc": {"n": n}, "$setOnInsert": {"engagementId": engagement_id, field: value}},
                upsert=True,
            )
            for (engagement_id, field, value), n in changed.items()
        ],
        ordered=False,
    )
    if any(n < 0 for n in changed.values()):
        gone = [_name_id(engagement_id, value, field) for (engagement_id, field, value), n in changed.items() if n < 0]
        names().delete_many({"_id": {"$in": gone}, "n": {"$lte": 0}})


def agent_names(words, engagement_ids=None):
    """``{agent name: interactions}`` of the agents whose names hold every word of ``words``
    (case-insensitively), within ``engagement_ids`` (None: all): read from the names
    collection (one document per engagement and agent, and one per agent over every
    engagement), not from the interactions."""
    query = words_filter(["agentName"], words)
    scopes = [{"engagementId": pk, **query} for pk in ([EVERY] if engagement_ids is None else engagement_ids)]
    found = Counter()
    for scope in scopes:
        for row in names().find(scope, {"agentName": 1, "n": 1}):
            found[row["agentName"]] += row.get("n", 0)
    return {name: n for name, n in found.items() if n > 0}


def file_counts(engagement_id, limit):
    """``[(csvName, rows)]`` of one engagement's CSV files, by name, at most ``limit``."""
    rows = names().find({"engagementId": engagement_id, "csvName": {"$exists": True}}, {"csvName": 1, "n": 1})
    return sorted((row["csvName"], row["n"]) for row in rows if row.get("n", 0) > 0)[:limit]


def file_count(csv_name):
    """How many interactions were ingested from the CSV file ``csv_name`` (any engagement)."""
    return sum(row.get("n", 0) for row in names().find({"csvName": csv_name}, {"n": 1}))


def agent_count(name, engagement_ids=None):
    """How many interactions ``name`` handled within ``engagement_ids`` (None: all)."""
    scopes = [{"engagementId": pk, "agentName": name} for pk in ([EVERY] if engagement_ids is None else engagement_ids)]
    return sum(row.get("n", 0) for scope in scopes for row in names().find(scope, {"n": 1}))


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
    names().delete_many(match)
    agents = {**_names_of(rows), **_raw_files(match)}
    if agents:
        names().insert_many(list(agents.values()), ordered=False)
    names().delete_many({"engagementId": EVERY})
    every = _every_agent(names().find({"engagementId": {"$ne": EVERY}, "agentName": {"$exists": True}}))
    if every:
        names().insert_many(list(every.values()), ordered=False)
    days = [row["day"] for row in rows.values() if row["day"] is not None]
    if days:
        _lower_oldest(min(days))
    totals().delete_many({} if engagement_ids is None else {"_id": {"$in": list(engagement_ids)}})
    documents = list(_totals_of(rows).values())
    if documents:
        totals().insert_many(documents, ordered=False)
    return len(rows)


def _totals_of(rows):
    """The totals collection's documents that the daily counts ``rows`` imply."""
    found = {}
    for row in rows.values():
        key = row["engagementId"] or NO_KEY
        doc = found.setdefault(key, {"_id": key, "engagementId": row["engagementId"], "total": 0, "sentiments": {}})
        doc["total"] += row["total"]
        for sentiment, n in row["sentiments"].items():
            doc["sentiments"][sentiment] = doc["sentiments"].get(sentiment, 0) + n
    return {key: doc for key, doc in found.items() if doc["total"]}


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
        found[key] = {"_id": key, "engagementId": engagement_id, "csvName": csv_name, "n": group["n"]}
    return found


def _every_agent(docs):
    """The names collection's documents over every engagement, from its per-engagement ones."""
    every = {}
    for doc in docs:
        key = _name_id(EVERY, doc["agentName"])
        every.setdefault(key, {"_id": key, "engagementId": EVERY, "agentName": doc["agentName"], "n": 0})
        every[key]["n"] += doc["n"]
    return {key: doc for key, doc in every.items() if doc["n"]}


def _names_of(rows):
    """The names collection's documents that the daily counts ``rows`` imply."""
    agents = {}
    for row in rows.values():
        for key, counts in row["agents"].items():
            name = agent_name(key)
            doc = agents.setdefault(
                _name_id(row["engagementId"], name),
                {"_id": _name_id(row["engagementId"], name), "engagementId": row["engagementId"], "agentName": name,
                 "n": 0},
            )  # fmt: skip
            doc["n"] += sum(counts.values())
    return {key: doc for key, doc in agents.items() if doc["n"]}


def differences(engagement_ids=None):
    """The engagement-day keys whose stored counts differ from the raw interactions'."""
    match = {} if engagement_ids is None else {"engagementId": {"$in": list(engagement_ids)}}
    stored, raw = stored_counts(match), raw_counts(match)
    days = sorted(key for key in stored.keys() | raw.keys() if stored.get(key) != raw.get(key))
    stored_names = {
        doc["_id"]: doc for doc in names().find(match or {"engagementId": {"$exists": True}}) if doc.get("n")
    }
    raw_names = {**_names_of(raw), **_raw_files(match)}
    if not match:
        raw_names.update(_every_agent(doc for doc in raw_names.values() if "agentName" in doc))
    agents = sorted(
        f"agent {key}" for key in stored_names.keys() | raw_names.keys() if stored_names.get(key) != raw_names.get(key)
    )
    stored_totals = {}
    for doc in totals().find({} if engagement_ids is None else {"_id": {"$in": list(engagement_ids)}}):
        doc["sentiments"] = {k: n for k, n in (doc.get("sentiments") or {}).items() if n}
        if doc.get("total"):
            stored_totals[doc["_id"]] = doc
    raw_totals = _totals_of(raw)
    engagements = sorted(
        f"total {key}" for key in stored_totals.keys() | raw_totals.keys()
        if stored_totals.get(key) != raw_totals.get(key)
    )  # fmt: skip
    return days + agents + engagements


def clear():
    collection().delete_many({})
    names().delete_many({})
    totals().delete_many({})
