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
        """From the daily counts (:func:`interactions.rollups.bound_day`) for the scopes
        they describe: every engagement or one, any sentiment or one."""
        if set(branch) - {"engagementId", "sentiment", DATE}:
            return None
        engagement, sentiment = branch.get("engagementId"), branch.get("sentiment")
        if isinstance(engagement, dict) or (sentiment is not None and sentiment not in SENTIMENTS):
            return None
        engagements = None if engagement is None else [engagement]
        # The day holding ``start`` counts whole: from just before it (descending) the day is the one wanted.
        edge = start - datetime.timedelta(milliseconds=1) if descending else start
        day = rollups.bound_day(engagements, None if sentiment is None else [sentiment], edge, needed, descending)
        if day is None:
            return None
        day = utc(day)
        return max(start - day if descending else day + ONE_DAY - start, ONE_DAY)

    def _span(self, engagement_ids):
        first, last = rollups.span(engagement_ids)
        return first and utc(first), last and utc(last) + ONE_DAY


def utc(day):
    return day.replace(tzinfo=datetime.UTC) if day.tzinfo is None else day
