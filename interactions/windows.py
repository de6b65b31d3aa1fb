"""Where interactions lie by date, from the daily counts: what the admin's keyset pages
start their windows from (:class:`topbox.admin.keyset.Windows`)."""

import datetime
from functools import cached_property

from interactions import rollups
from interactions.documents import SENTIMENTS
from topbox.admin.keyset import Windows
from topbox.api.filters import values

DATE = "interactionDate"
ONE_DAY = datetime.timedelta(days=1)


class InteractionWindows(Windows):
    """For one request: the days the data spans, from the per-engagement totals
    (:func:`interactions.rollups.span`): of every engagement, or of the one a branch
    selects (where its newest and oldest pages start)."""

    field = DATE

    @cached_property
    def _every(self):
        return self._span(None)

    def edges(self, branch):
        engagements = values(branch, "engagementId")
        if engagements:
            return self._span(engagements)
        return self._every

    def first_span(self, branch, start, needed, descending):
        """For every engagement, one or several, any sentiment or some, from the daily counts
        (:func:`interactions.rollups.page_bound`); for agents, from how many interactions
        they have over the days the data spans (the average density)."""
        keys = set(branch) - {DATE}
        engagements, sentiments = values(branch, "engagementId"), values(branch, "sentiment")
        if engagements is False or sentiments is False or not set(sentiments or ()) <= set(SENTIMENTS):
            return None
        if keys <= {"engagementId", "sentiment"}:
            bound = rollups.page_bound(engagements, sentiments, start, needed, descending)
            if bound is None:
                return None
            return max(start - utc(bound) if descending else utc(bound) - start, datetime.timedelta(hours=1))
        agents = values(branch, "agentName")
        if keys == {"agentName"} and agents:
            held, (first, last) = rollups.agent_count(agents), self._every
            if held and first is not None and last is not None:
                return max((last - first) * min(1.0, 1.25 * needed / held), datetime.timedelta(hours=1))
        return None

    def _span(self, engagement_ids):
        first, last = rollups.span(engagement_ids)
        # The end of the last day; None (unknown) for the calendar's last day.
        end = utc(last) + ONE_DAY if last is not None and last.date() < datetime.date.max else None
        return first and utc(first), end


def utc(day):
    return day.replace(tzinfo=datetime.UTC) if day.tzinfo is None else day
