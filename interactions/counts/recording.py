"""The write path: each write of interactions adds its change to the counts of the days,
engagements, agents and files it touches, in the transaction that makes the write
(``session``: see :func:`topbox.documents.write`), so that both commit or neither does.

:func:`record` counts one write; a bulk load gathers many in a :class:`Tally` and flushes
it now and then; :func:`clear` empties every count with the interactions.
"""

from collections import Counter, defaultdict

from pymongo import UpdateOne

from interactions.counts.keys import (
    ABSENT,
    EVERY_ENGAGEMENT,
    agent_key,
    collection,
    daily,
    daily_id,
    day_document,
    day_of,
    hour_of,
    name_id,
    names,
    row_id,
    sentiment_key,
    slot_fields,
    totals,
    totals_id,
)
from interactions.counts.reading import forget_recent
from interactions.documents import SENTIMENTS
from topbox import transactions

# From this many engagement-days, a flush inserts the new daily documents (about 5 times
# cheaper than upserts on the embedded server) after reading which are stored already.
INSERT_FROM = 200
FLUSH_ROWS = 2000  # engagement-days per bulk write when a tally is flushed


def record(added=(), removed=(), session=None):
    """Count the interactions ``added`` and uncount those ``removed`` (raw documents, as
    stored), in ``session``'s transaction: the one that wrote them (see
    :func:`topbox.documents.write`)."""
    tally = Tally()
    tally.add(added)
    tally.add(removed, sign=-1)
    tally.flush(session)


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

    def flush(self, session=None):
        """Write what was gathered, in ``session``'s transaction, and start again from nothing.

        The engagement-days are written ``FLUSH_ROWS`` at a time, so that what a flush
        builds stays small however much was gathered.
        """
        counts, day_keys, named, hours = self._counts, list(self._days), self._named, self._hours
        agent_keys = [None] + [agent_key(name) for name in list(self._agents)[1:]]
        self._clear()
        stored = (
            _stored_row_ids({engagement_id for engagement_id, _ in day_keys}, session)
            if len(day_keys) >= INSERT_FROM
            else None
        )
        rows = defaultdict(Counter)
        # Sorted, the packed keys come grouped by engagement-day (its number is their high part).
        for packed in sorted(packed for packed, n in counts.items() if n):
            rest, sentiment = divmod(packed, 8)
            day, agent = divmod(rest, self._AGENTS)
            key = day_keys[day]
            if key not in rows and len(rows) >= FLUSH_ROWS:
                _write(rows, stored, session=session)
                rows = defaultdict(Counter)
            n, sentiment = counts[packed], self._SENTIMENTS[sentiment]
            row = rows[key]
            row["total"] += n
            row[f"sentiments.{sentiment}"] += n
            if agent:
                row[f"agents.{agent_keys[agent]}.{sentiment}"] += n
        _record_names(named, session)
        _write(rows, stored, hours, session)


def _write(rows, stored, hours=None, session=None):
    """Add ``rows`` (``{(engagementId, day): {path: n}}``) to the daily documents, and to
    the per-engagement totals and all-engagement days, with ``hours`` (``{(engagementId,
    hour key): n}``) in the totals: with ``stored`` (the ids of the daily documents that
    exist), those not stored are inserted whole."""
    rows = {key: Counter({path: n for path, n in counts.items() if n}) for key, counts in rows.items()}
    rows = {key: counts for key, counts in rows.items() if counts}
    if not rows:
        _record_totals({}, hours, session, transactions.slot())  # (a move within a day changes its hours only)
        return
    pending = rows
    if stored is not None:
        documents = [day_document(*key, counts) for key, counts in rows.items() if row_id(*key) not in stored]
        if documents:
            # (Another writer's documents inserted meanwhile: a conflict, and the transaction runs again.)
            collection().insert_many(documents, ordered=False, session=session)
        pending = {key: counts for key, counts in rows.items() if row_id(*key) in stored}
    slot, spread = transactions.slot(), set()
    operations = [
        UpdateOne(
            {"_id": row_id(engagement_id, day, slot)},
            {
                "$inc": dict(counts),
                "$setOnInsert": slot_fields(row_id(engagement_id, day), slot, engagementId=engagement_id, day=day),
            },
            upsert=True,
        )
        for (engagement_id, day), counts in pending.items()
    ]
    if operations:
        result = collection().bulk_write(operations, ordered=False, session=session)
        spread = _new_slots(slot, list(pending), result)
    # The documents every write shares last, so that they are held for the least time.
    _record_totals(rows, hours, session, slot, {engagement_id for engagement_id, _ in spread})
    _record_daily(rows, session)


def _new_slots(slot, keys, result):
    """Those of ``keys`` (one per operation of the bulk write answered by ``result``) whose
    slot ``slot``, not 0, the bulk write created."""
    return {keys[index] for index in result.upserted_ids} if slot else set()


def _record_names(named, session=None):
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
    slot, operations, lowered = transactions.slot(), [], []
    for (engagement_id, field, value), counts in changed.items():
        doc_id = name_id(engagement_id, value, field, slot)
        named = slot_fields(name_id(engagement_id, value, field), slot, engagementId=engagement_id, **{field: value})
        operations.append(UpdateOne({"_id": doc_id}, {"$inc": dict(counts), "$setOnInsert": named}, upsert=True))
        if counts["n"] < 0:
            lowered.append(doc_id)
    names().bulk_write(operations, ordered=False, session=session)
    if lowered:  # a slot that counts nothing goes (one below zero stays: another slot holds its plus)
        names().delete_many({"_id": {"$in": lowered}, **EMPTY_NAME}, session=session)


# A names document (slot) that counts nothing at all.
EMPTY_NAME = {"n": 0, **{f"sentiments.{key}": {"$in": [0, None]} for key in (*SENTIMENTS, ABSENT)}}


def _record_daily(deltas, session=None):
    """Fold the engagement-day ``deltas`` of :func:`record` into the all-engagement days."""
    by_day = defaultdict(Counter)
    for (_, day), counts in deltas.items():
        if day is not None:
            by_day[day].update({path: n for path, n in counts.items() if not path.startswith("agents.")})
    slot, operations = transactions.slot(), []
    for day, counts in by_day.items():
        if any(counts.values()):
            operations.append(
                UpdateOne(
                    {"_id": daily_id(day, slot)},
                    {
                        "$inc": {path: n for path, n in counts.items() if n},
                        "$setOnInsert": slot_fields(day, slot, day=day),
                    },
                    upsert=True,
                )
            )
    if operations:
        daily().bulk_write(operations, ordered=False, session=session)


def _record_totals(deltas, hours=None, session=None, slot=0, spread=()):
    """Fold the engagement-day ``deltas`` of :func:`record`, and the ``hours`` of its
    interactions, into slot ``slot`` of the per-engagement totals and those of every
    engagement. The engagements ``spread`` have daily documents in ``slot`` since this write."""
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
    operations, keys = [], []
    for engagement_id, entry in by_engagement.items():
        update = {"$inc": {path: n for path, n in entry["inc"].items() if n}}
        if entry["days"]:
            update.update({"$min": {"first": min(entry["days"])}, "$max": {"last": max(entry["days"])}})
        if update["$inc"] or entry["days"]:
            if slot:
                update["$setOnInsert"] = slot_fields(totals_id(engagement_id), slot)
            operations.append(UpdateOne({"_id": totals_id(engagement_id, slot)}, update, upsert=True))
            keys.append(engagement_id)
    if operations:
        result = totals().bulk_write(operations, ordered=False, session=session)
        spread = {*spread, *_new_slots(slot, keys, result)}
    if spread:
        # Slot 0 of the totals holds the highest slot in use (by the engagement's totals or
        # days), so that a reader of documents by _id knows which ids to ask for. Written
        # only when a slot is first used: slot 0 is what every other writer may be writing.
        marks = [UpdateOne({"_id": totals_id(pk)}, {"$max": {"slots": slot}}, upsert=True) for pk in spread]
        totals().bulk_write(marks, ordered=False, session=session)


def _stored_row_ids(engagement_ids, session=None):
    """The ids of the daily documents stored for ``engagement_ids``, one indexed query each."""
    return {
        row["_id"]
        for engagement_id in engagement_ids
        for row in collection().find({"engagementId": engagement_id}, {"_id": 1}, session=session)
    }


def clear(session=None):
    """Delete every count (in ``session``'s transaction: the one that deletes every interaction)."""
    for holder in (collection(), totals(), daily(), names()):
        holder.delete_many({}, session=session)
    forget_recent()
