"""Where the counts are stored and how their documents are keyed: the four collections and
their indexes, the day, hour, sentiment and agent keys, and the ``_id`` of each document.
The bottom layer of :mod:`interactions.counts`: it imports none of the others."""

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


def row_id(engagement_id, day):
    """The ``_id`` of a daily document: ``<engagement>:<YYYYMMDD>`` (``none`` for either missing)."""
    return f"{engagement_id or NO_KEY}:{day.strftime('%Y%m%d') if day else NO_KEY}"


# The names collection's _id: engagement, kind, then the name as it is. Neither the
# engagement (an ObjectId's hex, "none" or "all") nor the kind holds a ":", so no name can
# reach another kind's or another engagement's key.
NAME_KINDS = {"agentName": "agent", "csvName": "file"}


def name_id(engagement_id, value, field="agentName"):
    """The ``_id`` of the names document counting ``value`` (an agent's name, or a CSV
    file's with ``field`` ``"csvName"``) within the engagement ``engagement_id``."""
    return f"{engagement_id or NO_KEY}:{NAME_KINDS[field]}:{value}"


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
