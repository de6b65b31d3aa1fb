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
    """For one request: the data's edges read once, and first windows from
    :func:`interactions.rollups.bound_day` for the scopes the counts describe (every
    engagement or one, any sentiment or one)."""

    field = DATE

    @cached_property
    def _edges(self):
        oldest, newest = rollups.oldest_day(), rollups.newest_day()
        return oldest and utc(oldest), newest and utc(newest) + ONE_DAY

    def edges(self):
        return self._edges

    def first_span(self, branch, start, needed, descending):
        if set(branch) - {"engagementId", "sentiment", DATE}:
            return None
        engagement, sentiment = branch.get("engagementId"), branch.get("sentiment")
        if isinstance(engagement, dict) or (sentiment is not None and sentiment not in SENTIMENTS):
            return None
        day = rollups.bound_day(
            None if engagement is None else [engagement],
            None if sentiment is None else [sentiment],
            start,
            needed,
            descending,
        )
        if day is None:
            return None
        day = utc(day)
        return max(start - day if descending else day + ONE_DAY - start, ONE_DAY)


def utc(day):
    return day.replace(tzinfo=datetime.UTC) if day.tzinfo is None else day
