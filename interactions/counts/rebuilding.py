"""The counts recomputed from the interactions themselves: the reference that
:mod:`~interactions.counts.recording` must keep equal (:func:`raw_counts`,
:func:`raw_hours`, :func:`totals_of`), :func:`rebuild` to repair them (writes made around
Topbox's code, such as a mongo shell's, are not counted), :func:`differences` to check
them (both are ``manage.py rebuild_rollups``), and the deploy-time migrations of older
documents (:func:`rekey_names`, :func:`split_agent_totals`).

One engagement at a time: each aggregation reads one engagement's interactions through
the index, and what is held is one engagement's counts.
"""

from collections import Counter, defaultdict

from bson import ObjectId

from engagements.documents import Engagement
from interactions.counts.keys import (
    EVERY_ENGAGEMENT,
    NO_KEY,
    agent_key,
    agent_name,
    base_id,
    collection,
    combined,
    daily,
    day_of,
    name_field,
    name_id,
    names,
    row_id,
    sentiment_key,
    totals,
    totals_id,
)
from interactions.counts.reading import forget_recent, read_totals
from interactions.documents import Interaction
from topbox.transactions import SLOTS


def raw_counts(match):
    """The daily documents computed from the raw interactions matching ``match`` (one
    engagement's: see :func:`rebuild`), by ``_id``: what
    :func:`~interactions.counts.recording.record` keeps, as the reference (rebuilds,
    checks, tests)."""
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
            row_id(engagement_id, day),
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
    """The stored daily documents matching ``match``, their slots combined, normalised as
    :func:`raw_counts` gives them (zero counts dropped)."""
    rows = {}
    for doc in combined(collection().find(match or {})).values():
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


def totals_of(rows, hours):
    """The per-engagement totals of the daily ``rows`` (as :func:`raw_counts` gives them)
    with their ``hours`` (as :func:`raw_hours` gives them), and those of every engagement,
    by ``_id`` of :func:`~interactions.counts.keys.totals`."""
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


def rebuild(engagement_ids=None, on_progress=None):
    """Recompute the counts of ``engagement_ids`` (None: of every engagement, as
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


def rekey_names():
    """Rebuild the counts if a names document is stored under another ``_id`` than
    :func:`~interactions.counts.keys.name_id` gives it now (an older version keyed a file
    ``<engagement>:file:<name>`` and an agent ``<engagement>:<name>``, so an agent named
    ``file:x.csv`` shared a file's document); return whether it did. Run at deploy time by
    ``manage.py ensure_indexes``."""
    for doc in names().find({}, {"engagementId": 1, "agentName": 1, "csvName": 1, "slot": 1}):
        field = name_field(doc)
        if field not in doc or doc["_id"] != name_id(doc.get("engagementId"), doc[field], field, doc.get("slot", 0)):
            rebuild()
            return True
    return False


def split_agent_totals():
    """Agents' totals stored before they were counted by sentiment, recomputed from the
    daily counts (which always were); None if there were none, else how many agents'
    totals there are now. Run at deploy time by ``manage.py ensure_indexes``, before the
    web starts."""
    if names().find_one({"agentName": {"$exists": True}, "sentiments": {"$exists": False}}) is None:
        return None
    agents = _names_of(stored_counts())
    agents.update(_every_agent(list(agents.values())))
    forget_recent()
    names().delete_many({"agentName": {"$exists": True}})
    if agents:
        names().insert_many(list(agents.values()), ordered=False)
    return len(agents)


def _every_engagement_id():
    """The engagement ids a full rebuild or check goes through: the stored engagements',
    those the totals count (of an engagement deleted since, say), any other that
    interactions or count documents hold, and None for the interactions without one
    (``NO_KEY``)."""
    known = dict.fromkeys(row["_id"] for row in Engagement._get_collection().find({}, {"_id": 1}))
    known.update((base_id(row), None) for row in totals().find({}, {"of": 1}))
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
    """What the stored counts hold for the engagement ``pk`` (None: the interactions without
    one; ``EVERY_ENGAGEMENT``: the totals and agents of every engagement), as
    :func:`_from_interactions` gives it."""
    match = {"engagementId": pk}
    engagement_totals = read_totals([pk]).get(totals_id(pk))
    if engagement_totals:
        del engagement_totals["_id"]
        engagement_totals.update(
            first=day_of(engagement_totals.get("first")), last=day_of(engagement_totals.get("last"))
        )
    named = {
        doc_id: doc if "csvName" in doc else _agent_doc({**doc, "sentiments": doc.get("sentiments") or {}})
        for doc_id, doc in combined(names().find(match)).items()
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
            {**row, "_id": day_id, "sentiments": dict(row["sentiments"]),
             "agents": {name: dict(counts) for name, counts in row["agents"].items()}}
            for day_id, row in rows.items()
        ]  # fmt: skip
        collection().insert_many(documents, ordered=False)
    _replace_totals(pk, engagement_totals)
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
        """``(days, totals, agents)``: ``{day: {total, sentiments}}`` of
        :func:`~interactions.counts.keys.daily`, the totals of every engagement and
        ``{_id: document}`` of the agents in :func:`~interactions.counts.keys.names`."""
        days = {
            day: {"total": entry["total"], "sentiments": {name: n for name, n in entry["sentiments"].items() if n}}
            for day, entry in self.days.items()
        }
        return days, _sum_totals(self.totals), _agent_docs(self.agents)

    def replace(self):
        """Store the documents in place of those of every engagement."""
        days, every, agents = self.documents()
        _replace_totals(EVERY_ENGAGEMENT, every)
        daily().delete_many({})
        if days:
            daily().insert_many([{"_id": day, "day": day, **entry} for day, entry in days.items()], ordered=False)
        forget_recent()
        names().delete_many({"engagementId": EVERY_ENGAGEMENT})
        if agents:
            names().insert_many(list(agents.values()), ordered=False)


def _replace_totals(pk, engagement_totals):
    """Store ``engagement_totals`` (None: none) as the totals of ``pk``, in one slot."""
    totals().delete_many({"_id": {"$in": [totals_id(pk, slot) for slot in range(1, SLOTS)]}})
    if engagement_totals:
        totals().replace_one({"_id": totals_id(pk)}, engagement_totals, upsert=True)
    else:
        totals().delete_one({"_id": totals_id(pk)})


def _raw_files(match):
    """The names collection's CSV file documents, from the raw interactions matching ``match``."""
    pipeline = [
        {"$match": {**match, "custom.csvName": {"$type": "string", "$ne": ""}}},
        {"$group": {"_id": {"e": "$engagementId", "f": "$custom.csvName"}, "n": {"$sum": 1}}},
    ]
    found = {}
    for group in Interaction._get_collection().aggregate(pipeline):
        engagement_id, csv_name = group["_id"].get("e"), group["_id"]["f"]
        key = name_id(engagement_id, csv_name, "csvName")
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
        key = name_id(EVERY_ENGAGEMENT, doc["agentName"])
        _add_agent(every, key, EVERY_ENGAGEMENT, doc["agentName"], doc.get("sentiments") or {})
    return every


def _names_of(rows):
    """The names collection's agent documents that the daily counts ``rows`` imply."""
    found = {}
    for row in rows.values():
        for key, counts in row["agents"].items():
            name = agent_name(key)
            _add_agent(found, name_id(row["engagementId"], name), row["engagementId"], name, counts)
    return _agent_docs(found)


def _add_agent(found, doc_id, engagement_id, name, sentiments):
    """Add ``sentiments`` (``{sentiment key: n}``) to the unfinished agent document
    ``doc_id`` of ``found``, made if it is not there yet."""
    doc = found.setdefault(
        doc_id, {"_id": doc_id, "engagementId": engagement_id, "agentName": name, "n": 0, "sentiments": Counter()}
    )
    doc["n"] += sum(sentiments.values())
    doc["sentiments"].update(sentiments)


def _agent_docs(found):
    """The unfinished agent documents ``found`` (``{_id: document}``), finished as
    :func:`_agent_doc` does; those counting none dropped."""
    return {key: _agent_doc(doc) for key, doc in found.items() if doc["n"]}


def _agent_doc(doc):
    """The agent document ``doc`` as stored: its zero counts by sentiment dropped."""
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


# The check: what ``manage.py rebuild_rollups --check`` reports.

DIFFERENCE_KINDS = ("engagement-days", "totals", "all-engagement days", "names")


def differences(engagement_ids=None, on_progress=None):
    """The keys of the stored count documents that differ from what the raw interactions
    give: engagement-days (``<engagement>:<YYYYMMDD>``), then ``totals:<engagement>``,
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


def kind_of(key):
    """What a key of :func:`differences` names: one of ``DIFFERENCE_KINDS``."""
    return DIFFERENCE_KINDS[_listed_order(key)[0]]


def _listed_order(key):
    """Engagement-days first, then totals, all-engagement days and names, each sorted."""
    kinds = ("totals:", "daily:", "names:")
    return next((number for number, kind in enumerate(kinds, 1) if key.startswith(kind)), 0), key


def _differing(key, expected, stored):
    """The keys of the documents of one engagement (its totals ``_id``: ``key``) that differ
    between ``expected`` and ``stored`` (each as :func:`_from_interactions` gives them)."""
    (rows, want, named), (stored_rows, have, stored_named) = expected, stored
    days = [day_id for day_id in rows.keys() | stored_rows.keys() if rows.get(day_id) != stored_rows.get(day_id)]
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
        day_of(row["day"]): {
            "total": row.get("total", 0),
            "sentiments": {name: n for name, n in (row.get("sentiments") or {}).items() if n},
        }
        for row in combined(daily().find()).values()
    }
    empty = {"total": 0, "sentiments": {}}
    return [
        f"daily:{day:%Y%m%d}"
        for day in stored.keys() | expected.keys()
        if stored.get(day, empty) != expected.get(day, empty)
    ]
