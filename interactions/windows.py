"""Where interactions lie by date, from the daily counts: what the admin's keyset pages
start their windows from (:class:`topbox.admin.keyset.Windows`)."""

import datetime
from functools import cached_property

from interactions import rollups
from interactions.documents import SENTIMENTS
from topbox.admin.keyset import Windows

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
        engagement = branch.get("engagementId")
        if engagement is not None and not isinstance(engagement, dict):
            return self._span([engagement])
        return self._every

    def first_span(self, branch, start, needed, descending):
        """For one engagement (and any sentiment or one), from its daily counts
        (:func:`interactions.rollups.bound_day`, one indexed query per window); for every
        engagement, a sentiment or an agent, from how many the scope holds over the days the
        data spans (its totals or its agent's count: their average density)."""
        keys = set(branch) - {DATE}
        engagement, sentiment = branch.get("engagementId"), branch.get("sentiment")
        if isinstance(engagement, dict) or (sentiment is not None and sentiment not in SENTIMENTS):
            return None
        sentiments = None if sentiment is None else [sentiment]
        if engagement is not None and keys <= {"engagementId", "sentiment"}:
            # The day holding ``start`` counts whole: from just before it, the day is the one wanted.
            edge = start - datetime.timedelta(milliseconds=1) if descending else start
            day = rollups.bound_day([engagement], sentiments, edge, needed, descending)
            if day is None:
                return None
            day = utc(day)
            return max(start - day if descending else day + ONE_DAY - start, ONE_DAY)
        if keys <= {"sentiment"}:
            held = rollups.count(None, sentiments)
        elif keys == {"agentName"} and isinstance(branch["agentName"], str):
            held = rollups.agent_count(branch["agentName"])
        else:
            return None
        first, last = self._every
        if not held or first is None:
            return None
        return max((last - first) * min(1.0, 1.25 * needed / held), datetime.timedelta(hours=1))

    def _span(self, engagement_ids):
        first, last = rollups.span(engagement_ids)
        # The end of the last day; None (unknown) for the calendar's last day.
        end = utc(last) + ONE_DAY if last is not None and last.date() < datetime.date.max else None
        return first and utc(first), end


def utc(day):
    return day.replace(tzinfo=datetime.UTC) if day.tzinfo is None else day
