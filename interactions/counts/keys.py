"""Where the counts are stored and how their documents are keyed: the four collections and
their indexes, the day, hour, sentiment and agent keys, and the ``_id`` of each document.
The bottom layer of :mod:`interactions.counts`: it imports none of the others.

Each count document is up to ``SLOTS`` documents (see :mod:`topbox.transactions`): slot 0
has the ``_id`` below; slot *k* the same with ``:k`` (an agent's or a file's, its kind
``agentk``/``filek``), a ``slot`` field, and ``of``: slot 0's ``_id``. Their value is what
:func:`combined` makes of them. A count nobody writes concurrently keeps one slot. Slot 0
of an engagement's totals holds ``slots``, the highest slot its totals and days use, for
the readers that ask for documents by ``_id``; the others are found by their indexes.
"""

import datetime

from interactions.documents import SENTIMENTS
from topbox import mongo

COLLECTION = "interaction_day"  # one document per engagement and UTC day: what the others are summed from
TOTALS = "interaction_totals"  # one document per engagement: its counts and the days it spans
DAILY = "interaction_daily"  # one document per day, every engagement: what global pages count
# The agents' names (and the CSV files) per engagement, with their interaction counts: what
# an agent search matches first (a small collection), before an indexed query per name.
NAMES = "interaction_agent"
ABSENT = "absent"  # the key counting interactions without a sentiment
NO_KEY = "none"  # in an _id: no engagement or no date
EVERY_ENGAGEMENT = "all"  # the totals' and the names' engagement for every engagement's interactions
ONE_DAY = datetime.timedelta(days=1)


def collection():
    """Per engagement and UTC day (``_id``: :func:`row_id`): ``engagementId``, ``day`` (None
    for the interactions without a date), ``total``, ``sentiments`` (``{sentiment key: n}``)
    and ``agents`` (``{agent key: {sentiment key: n}}``, of the interactions with a name)."""
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


def naive_utc(when):
    """``when`` as a naive UTC datetime (as the counts' days are); None stays None."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(datetime.UTC).replace(tzinfo=None)


def shift(when, delta):
    """``when + delta``, stopping at the first and last instants a datetime can hold."""
    try:
        return when + delta
    except OverflowError:
        return datetime.datetime.max if delta > datetime.timedelta(0) else datetime.datetime.min


def sentiment_key(sentiment):
    """The key counting ``sentiment``: itself if it is one of ``SENTIMENTS``, else ``ABSENT``."""
    return sentiment if sentiment in SENTIMENTS else ABSENT


# What a field name cannot hold (``.``, ``$``, NUL), and ``%`` itself, percent-escaped.
_KEY_ESCAPES = {"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"}


def agent_key(name):
    """The agent's name as a field name MongoDB stores (no ``.``, ``$`` or NUL), reversibly."""
    return "".join(_KEY_ESCAPES.get(char, char) for char in name)


def agent_name(key):
    """The agent's name that :func:`agent_key` made ``key`` of."""
    for char, escaped in reversed(_KEY_ESCAPES.items()):  # "%25" last
        key = key.replace(escaped, char)
    return key


def row_id(engagement_id, day, slot=0):
    """The ``_id`` of a daily document: ``<engagement>:<YYYYMMDD>`` (``none`` for either missing)."""
    return slotted(f"{engagement_id or NO_KEY}:{day.strftime('%Y%m%d') if day else NO_KEY}", slot)


def totals_id(engagement_id, slot=0):
    """The ``_id`` of the totals of ``engagement_id`` (``all``: every engagement; None: the
    interactions without one)."""
    return slotted(engagement_id or NO_KEY, slot)


def daily_id(day, slot=0):
    """The ``_id`` of an all-engagement day: the day itself, ``<YYYYMMDD>:<slot>`` for a slot."""
    return day if not slot else f"{day:%Y%m%d}:{slot}"


def slotted(base_id, slot):
    """The ``_id`` of slot ``slot`` of the document whose slot 0 is ``base_id``: an id that
    holds no text a user wrote, so that no ``:`` in it can be mistaken for a slot's."""
    return base_id if not slot else f"{base_id}:{slot}"


_SLOT_FIELDS = ("_id", "slot", "of")
_NAMING_FIELDS = ("engagementId", "day", "agentName", "csvName")  # the same in every slot
_LEAST, _GREATEST = "first", "last"


def slot_fields(base_id, slot, **fields):
    """What an upsert of slot ``slot`` of the document ``base_id`` sets when it inserts:
    ``fields``, and for a slot but the first, its number and ``of``."""
    return {**fields, "slot": slot, "of": base_id} if slot else fields


def base_id(document):
    """The ``_id`` of slot 0 of the document ``document`` is a slot of."""
    return document.get("of", document["_id"])


def combined(documents):
    """``{_id: document}``: the slots among ``documents`` combined into the documents they
    stand for (``_id``: slot 0's). Counts are summed (at every depth: ``total``, ``n``,
    ``sentiments``, ``agents``, ``hours``), ``first`` is the least and ``last`` the
    greatest; the other fields are the same in every slot."""
    found = {}
    for document in documents:
        key = base_id(document)
        held = found.get(key)
        if held is None:
            found[key] = {"_id": key, **{field: _copy(value) for field, value in document.items()
                                         if field not in _SLOT_FIELDS}}  # fmt: skip
        else:
            _add(held, document)
    return found


def _copy(value):
    return {key: _copy(inner) for key, inner in value.items()} if isinstance(value, dict) else value


def _add(held, document):
    for field, value in document.items():
        if field in _SLOT_FIELDS:
            continue
        mine = held.get(field)
        if field in _NAMING_FIELDS:
            held.setdefault(field, value)
        elif field in (_LEAST, _GREATEST) and value is not None:
            held[field] = value if mine is None else (min if field == _LEAST else max)(mine, value)
        elif isinstance(value, dict):
            _add(held.setdefault(field, {}), value)
        elif isinstance(value, int | float):
            held[field] = (mine or 0) + value


# The names collection's _id: engagement, kind (and slot), then the name as it is. Neither
# the engagement (an ObjectId's hex, "none" or "all") nor the kind holds a ":", so no name
# can reach another kind's, another slot's or another engagement's key.
NAME_KINDS = {"agentName": "agent", "csvName": "file"}


def name_id(engagement_id, value, field="agentName", slot=0):
    """The ``_id`` of the names document counting ``value`` (an agent's name, or a CSV
    file's with ``field`` ``"csvName"``) within the engagement ``engagement_id``."""
    return f"{engagement_id or NO_KEY}:{NAME_KINDS[field]}{slot or ''}:{value}"


def name_field(document):
    """Which name a names document counts: ``"agentName"`` or ``"csvName"``."""
    return "agentName" if "agentName" in document else "csvName"


def day_document(engagement_id, day, counts):
    """The daily document an upsert of ``counts`` (``{path: n}``) would create."""
    document = {"_id": row_id(engagement_id, day), "engagementId": engagement_id, "day": day}
    for path, n in counts.items():
        *parents, leaf = path.split(".")
        node = document
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = n
    return document
