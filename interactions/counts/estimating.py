"""How far a list page's query must reach, estimated from the counts: :func:`page_bound`
(a bound on ``interactionDate``) and :func:`agent_bound` (a bound on ``agentName``) size the
windows of the API's and the admin's pages (:mod:`interactions.windows`), so that a page
reads about the rows it shows rather than every interaction of its scope. An estimate
only: the paginator widens a window that falls short, so pages are exact whatever the
counts say.
"""

import bisect
import datetime
import itertools
import math
from collections import Counter

from interactions.counts.keys import ONE_DAY, day_of, naive_utc, sentiment_key, shift
from interactions.counts.reading import day_counts, recent_agent_count, recent_agent_sentiments, scope_totals

MAX_COUNTED_DAYS = 31  # a page window wider than this is sized by the average, not read day by day
PAGE_MARGIN = 1.5  # a page's window is made to hold this many times the documents it needs
EPSILON = datetime.timedelta(microseconds=1)
ONE_HOUR = datetime.timedelta(hours=1)


def page_bound(engagement_ids, sentiments, start, needed, descending=True, within=(None, None), agents=None):
    """The instant to bound a page's query by: counting back (``descending``) or forward
    from ``start`` (None: the end, or beginning, of the data), about where the counts reach
    ``needed`` interactions of ``engagement_ids`` (None: all) with one of ``sentiments``
    (None: any), with a margin; None when they never do (the rest of the data is needed).
    ``within``: the list's own ``[from, to)`` (None: unbounded), beyond which no window goes.
    ``agents``: the names the list keeps (None: any); the window is sized by their share of
    the scope's interactions (:func:`~interactions.counts.reading.recent_agent_count`: as if
    they were spread evenly).

    Reads the daily documents over twice the days the scope's average holds ``needed`` in
    (from its totals), widened by what it lacked until it holds them, one query per
    engagement, and stops at the end of the data's span: what it reads grows with the
    page, not with the data. Within the day where the count is reached, the bound is placed
    as if that day's interactions were spread over its hours as the scope's are (its
    ``hours``: :class:`DayProfile`; the paginator widens a window that falls short). A
    window wider than ``MAX_COUNTED_DAYS`` is not read: the average places it.
    """
    wanted = None if sentiments is None else {sentiment_key(s) for s in sentiments}  # (null and "": absent, once)
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
        last_day = min(last_day, day_of(shift(naive_utc(within[1]), -EPSILON)))
    if first_day > last_day:
        return None
    end_of_data = shift(last_day, ONE_DAY)
    origin = (end_of_data if descending else first_day) if start is None else naive_utc(start)
    origin = min(origin, end_of_data) if descending else max(origin, first_day)  # no window from beyond the data
    start_day = day_of(shift(origin, -EPSILON)) if descending else day_of(origin)
    width = max(1, math.ceil(PAGE_MARGIN * needed / per_day))
    while True:
        reach = datetime.timedelta(days=width - 1)
        if width > MAX_COUNTED_DAYS:  # the average is estimate enough: no need to read the days
            day = shift(start_day, -reach) if descending else shift(start_day, reach + ONE_DAY)
            return None if (day <= first_day if descending else day > last_day) else day
        # Twice the days the average says (one query either way): the bound is placed where
        # the counts reach the page, and days below the average seldom need a second read.
        width = min(2 * width, max(width, MAX_COUNTED_DAYS))
        reach = datetime.timedelta(days=width - 1)
        days = (
            {"$gte": max(shift(start_day, -reach), first_day), "$lte": start_day}
            if descending
            else {"$gte": start_day, "$lte": min(shift(start_day, reach), last_day)}
        )
        by_day = Counter()
        for row in day_counts(engagement_ids, days):
            counts = row.get("sentiments") or {}
            n = row.get("total", 0) if wanted is None else sum(counts.get(key, 0) for key in wanted)
            by_day[day_of(row["day"])] += n
        reached, target = 0, PAGE_MARGIN * needed
        for day in sorted(by_day, reverse=descending):
            # The part of the day on the page's side of the origin, and its share of the count.
            end_of_day = shift(day, ONE_DAY)
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


def agent_bound(engagement_ids, sentiments, start, needed, descending=False, agents=None):
    """The name through which the agents after ``start`` (None: from the first), in name
    order, handled at least ``needed`` interactions within ``engagement_ids`` (None: all),
    with one of ``sentiments`` (None: any) and among ``agents`` (None: any); None if all of
    them together handled fewer. Read from the agents' counts, as MongoDB orders strings
    (by code point), as this process read them lately
    (:func:`~interactions.counts.reading.recent_agent_sentiments`)."""
    wanted = None if sentiments is None else {sentiment_key(s) for s in sentiments}
    counts = recent_agent_sentiments(engagement_ids)
    ordered = sorted(counts if agents is None else set(agents) & counts.keys(), reverse=descending)
    if start is not None:
        ordered = [name for name in ordered if (name < start if descending else name > start)]
    held = 0
    for name in ordered:
        held += sum(n for key, n in counts[name].items() if wanted is None or key in wanted)
        if held >= needed:
            return name
    return None
