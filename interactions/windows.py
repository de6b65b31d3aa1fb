"""Where interactions lie, from the counts: the window of a page by date or by agent name
(:func:`window`), for the API's pages and the admin's keyset pages
(:class:`InteractionWindows`, a :class:`topbox.admin.keyset.Windows`)."""

import datetime
from dataclasses import replace

from interactions.counts import estimating
from interactions.documents import SENTIMENTS
from topbox.admin.keyset import Windows
from topbox.api.filters import values
from topbox.api.pagination import Ordering, both_ways
from topbox.dates import ONE_MILLISECOND, at_or_after, to_utc

DATE = "interactionDate"
AGENT = "agentName"
# By agent: no index holds the agent's name after the filters' fields, so its window
# leads; but not before engagements chosen: the window holds every client's agents of
# those names, the (engagement, agent, date, id) index only the engagements' interactions.
# Within an agent, newest first: an agent's part of a page is read by date windows (sized
# by the agent's share of the daily counts), never all of that agent.
NEWEST_FIRST = Ordering(f"-{DATE}", DATE, -1, nullable=True)
AGENT_ORDERINGS = both_ways(AGENT, nullable=True, leads=True, leads_unless=("engagementId",), within=NEWEST_FIRST)
UNPLACED = object()


def counted_values(query):
    """``(engagements, sentiments, agents)`` that ``query`` allows, as the counts describe
    them (:func:`topbox.api.filters.values`: None for any, a list, False for another condition)."""
    return tuple(values(query, field) for field in ("engagementId", "sentiment", AGENT))


def segment_start(segment, field, descending, first=None):
    """Where ``segment`` of a page ordered by ``field`` starts: ``first`` for a first page
    (everything, or past the missing values), the cursor's value for the part of a later
    page beyond it; UNPLACED for the rest (a cursor's ties, the missing values: equalities,
    which read just those)."""
    if not segment or segment == {field: {"$ne": None}}:
        return first
    condition = segment.get(field)
    if set(segment) == {field} and isinstance(condition, dict) and list(condition) == ["$lt" if descending else "$gt"]:
        return condition["$lt" if descending else "$gt"]
    return UNPLACED


def window(query, segment, needed):
    """Where the next ``needed`` interactions of a page lie (see :class:`topbox.api.query.Query`),
    by agent name or by date, as the page is ordered (None for another order)."""
    if query.ordering.field == AGENT:
        return agent_window(query, segment, needed)
    if query.ordering.field == DATE:
        return date_window(query, segment, needed)
    return None


def date_window(query, segment, needed):
    """Where the next ``needed`` interactions of a page by date lie, from the daily counts
    (:func:`interactions.counts.estimating.page_bound`): a bound on ``interactionDate`` for the first
    page, or for the part of a later page beyond the cursor's date.

    The counts describe every engagement, one, or several (a client's), with any
    sentiment or one; an agent's share of them sizes the window; other filters (words,
    ``custom`` fields) only make the window hold fewer, and the paginator then widens it.
    """
    descending = query.ordering.direction == -1
    dates = date_range(query.filter.get(DATE)) or (None, None)  # the list's own from/to
    start = segment_start(segment, DATE, descending, first=dates[1] if descending else dates[0])
    engagements, sentiments, agents = counted_values(query.filter)
    if start is UNPLACED or engagements is False or sentiments is False:
        return None
    bound = estimating.page_bound(engagements, sentiments, start, needed, descending, within=dates,
                               agents=agents or None)  # fmt: skip
    bound = bound and to_utc(bound)  # to the millisecond, as dates are stored (see Query.window)
    if bound is None:
        return None
    return {DATE: at_or_after(bound) if descending else {"$lt": bound}}


def date_range(condition):
    """``(start, end)`` of a date condition made of ``$gt``/``$gte``/``$lt``/``$lte`` bounds
    on millisecond dates, as ``[start, end)``; ``(None, None)`` for none; None for others."""
    if condition is None:
        return None, None
    if not isinstance(condition, dict) or not set(condition) <= {"$gt", "$gte", "$lt", "$lte"}:
        return None
    if not all(isinstance(value, datetime.datetime) for value in condition.values()):
        return None
    start = max(filter(None, (condition.get("$gte"), condition.get("$gt") and condition["$gt"] + ONE_MILLISECOND)),
                default=None)  # fmt: skip
    end = min(filter(None, (condition.get("$lt"), condition.get("$lte") and condition["$lte"] + ONE_MILLISECOND)),
              default=None)  # fmt: skip
    return start, end


def agent_window(query, segment, needed):
    """The agents whose interactions hold the next ``needed`` of a page by agent (a
    :class:`topbox.api.query.Query` window), from the agents' counts
    (:func:`interactions.counts.estimating.agent_bound`): a bound on ``agentName`` for the first page,
    or for the part of a later page beyond the cursor's agent. The counts are over all
    time: a date range or other filters only make the window hold fewer, and it widens."""
    descending = query.ordering.direction == -1
    start = segment_start(segment, AGENT, descending)
    engagements, sentiments, agents = counted_values(query.filter)
    if start is UNPLACED or False in (engagements, sentiments, agents):
        return None
    bound = estimating.agent_bound(engagements, sentiments, start, needed, descending, agents)
    if bound is None:
        return None
    # Through ``bound`` (sent as below the next string up: topbox.api.query._string_bounds).
    return {AGENT: {"$gte": bound} if descending else {"$lte": bound}}


class InteractionWindows(Windows):
    """The admin's keyset pages of interactions are read as the API's pages are: by date or
    by agent name within the :func:`window` the counts give, by sentiment one at a time."""

    def window_for(self, ordering):
        """By agent name, the ordering as the API pages with it; and :func:`window`."""
        if ordering.field == AGENT:
            paged = AGENT_ORDERINGS[AGENT]
            ordering = replace(ordering, leads=paged.leads, leads_unless=paged.leads_unless)
        return ordering, window

    def values(self, field):
        """Sentiments: the four a list by sentiment is read by, one at a time."""
        return sorted(SENTIMENTS) if field == "sentiment" else None
