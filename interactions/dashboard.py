"""What the statistics dashboard shows: :func:`interactions.stats.interaction_stats` for
a scope and a period of whole UTC days, with a link to the interactions behind every number.

The figures are the statistics' own; this module only chooses the period (by default the
last 30 days *of the data*), labels the intervals and attaches the links. Whoever shows
the dashboard chooses where the links go: the admin's changelist for staff
(:class:`AdminLinks`), the browsable API for a client's team (:class:`APILinks`). A link
selects exactly the interactions counted: the same scope, the interval clipped to the
period, the same sentiment (``absent``: none) and agent.
"""

import datetime
from dataclasses import dataclass

from bson import ObjectId
from django.urls import reverse
from django.utils.http import urlencode

from engagements.selectors import engagement_ids
from interactions.selectors import last_date
from interactions.stats import ABSENT, INTERVALS, SENTIMENT_KEYS, interaction_stats, next_interval
from topbox.dates import to_utc

DEFAULT_DAYS = 30
ONE_DAY = datetime.timedelta(days=1)


class PeriodError(ValueError):
    """A query parameter of the dashboard is not valid; the message names it."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Scope:
    """Every interaction (both None), one client's, or one engagement's."""

    title: str
    client: ObjectId | None = None
    engagement: ObjectId | None = None

    def stats_arguments(self):
        return {"client": self.client, "engagement": self.engagement}

    def engagement_ids(self):
        if self.engagement is not None:
            return [self.engagement]
        return None if self.client is None else engagement_ids([self.client])


@dataclass(frozen=True)
class Period:
    """UTC days ``first`` to ``last``, both included; None on both sides: every interaction."""

    first: datetime.date | None
    last: datetime.date | None

    @property
    def start(self):
        return midnight(self.first) if self.first else None

    @property
    def end(self):
        return midnight(self.last + ONE_DAY) if self.last else None

    def clip(self, first, last):
        """The days of ``[first, last]`` inside this period."""
        return max(first, self.first or first), min(last, self.last or last)


def midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def parse_day(params, name):
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(name, f"{raw!r} is not a date (YYYY-MM-DD).") from None


PRESETS = {"recent": f"Last {DEFAULT_DAYS} days of the data", "all": "Whole range"}


def choose(scope, params):
    """The period and interval asked for in ``params``, and which preset that is.

    ``from`` and ``to`` are UTC days, both included; ``range=all`` is every interaction;
    without any of them, the period is the last 30 days of the scope's data (the one case
    that looks the data up first). Returns ``(period, interval, preset)``, the preset being
    a key of :data:`PRESETS` or None; raises :class:`PeriodError`.
    """
    interval = params.get("interval") or "day"
    if interval not in INTERVALS:
        raise PeriodError("interval", f"give one of {', '.join(INTERVALS)}.")
    first, last = parse_day(params, "from"), parse_day(params, "to")
    if first and last and first > last:
        raise PeriodError("to", "the period ends before it starts.")
    chosen_range = params.get("range")
    if chosen_range not in (None, "", "all"):
        raise PeriodError("range", "give all (every interaction) or leave it out.")
    if chosen_range == "all":
        return Period(None, None), interval, "all"
    if first or last:
        return Period(first, last), interval, None
    newest = to_utc(last_date(scope.engagement_ids())) if scope else None
    if newest is None:
        return Period(None, None), interval, "recent"
    last = newest.date()
    return Period(last - datetime.timedelta(days=DEFAULT_DAYS - 1), last), interval, "recent"


class AdminLinks:
    """Links to the admin's interactions changelist (its client/engagement, date, sentiment and agent filters)."""

    def __init__(self, scope):
        self.base = reverse("admin:interactions_interaction_changelist")
        self.scope = {"client": scope.client, "engagement": scope.engagement}

    def __call__(self, first, last, sentiment=None, agent=None):
        params = {name: str(value) for name, value in self.scope.items() if value is not None}
        if first:
            params["date_from"] = first.isoformat()
        if last:
            params["date_to"] = last.isoformat()
        if sentiment is not None:
            params["sentiment"] = "-" if sentiment == ABSENT else sentiment
        if agent is not None:
            params["agent"] = agent
        return f"{self.base}?{urlencode(params)}"


class APILinks:
    """Links to a client's (or an engagement's) interactions in the browsable API, with their
    count. The API has no filter for "no sentiment", so ``absent`` counts link nowhere."""

    def __init__(self, scope):
        if scope.engagement is not None:
            self.base = reverse("engagement-interactions", kwargs={"engagement_pk": str(scope.engagement)})
        else:
            self.base = reverse("client-interactions", kwargs={"client_pk": str(scope.client)})

    def __call__(self, first, last, sentiment=None, agent=None):
        if sentiment == ABSENT:
            return None
        params = {}
        if first:
            params["from"] = first.isoformat()
        if last:
            params["to"] = (last + ONE_DAY).isoformat()  # the API's `to` is exclusive
        if sentiment is not None:
            params["sentiment"] = sentiment
        if agent is not None:
            params["agentName"] = agent
        params["count"] = "true"
        return f"{self.base}?{urlencode(params)}"


def interval_label(start, interval):
    if interval == "month":
        return start.strftime("%b %Y")
    if interval == "week":
        return f"Week of {start.isoformat()}"
    return start.isoformat()


def dashboard_data(scope, period, interval, links):
    """The dashboard's figures: :func:`interaction_stats` for ``scope`` and ``period``, with links."""
    stats = interaction_stats(**scope.stats_arguments(), start=period.start, end=period.end, interval=interval)
    return present(stats, period, interval, links)


def present(stats, period, interval, links):
    """``stats`` (as :func:`interaction_stats` returns them) as the dashboard shows them.

    Every count comes with the link to the interactions it counts (``links(first, last,
    sentiment, agent)``, or None where there is no such list).
    """
    whole = (period.first, period.last)

    def counts(sentiments, first, last, agent=None):
        return [
            {"sentiment": key, "count": sentiments[key], "link": links(first, last, key, agent) if links else None}
            for key in SENTIMENT_KEYS
        ]

    series = []
    for item in stats["series"]:
        day = item["start"].date()
        first, last = period.clip(day, next_interval(item["start"], interval).date() - ONE_DAY)
        series.append({
            "start": day.isoformat(),
            "label": interval_label(day, interval),
            "first": first.isoformat(),
            "last": last.isoformat(),
            "total": item["total"],
            "link": links(first, last) if links else None,
            "counts": counts(item["sentiments"], first, last),
        })  # fmt: skip
    agents = [
        {
            "agentName": agent["agentName"],
            "total": agent["total"],
            "link": links(*whole, agent=agent["agentName"]) if links else None,
            "counts": counts(agent["sentiments"], *whole, agent["agentName"]),
        }
        for agent in stats["topAgents"]
    ]
    return {
        "interval": interval,
        "from": period.first.isoformat() if period.first else None,
        "to": period.last.isoformat() if period.last else None,
        "sentiments": list(SENTIMENT_KEYS),
        "total": stats["total"],
        "link": links(*whole) if links else None,
        "share": counts(stats["sentiments"], *whole),
        "series": series,
        "topAgents": agents,
    }
