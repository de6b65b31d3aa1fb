"""Where interactions lie by date, from the daily counts: what the admin's keyset pages
start their windows from (:class:`topbox.admin.keyset.Windows`)."""

import datetime
from functools import cached_property

from interactions import rollups
from topbox.admin.keyset import Windows

DATE = "interactionDate"
ONE_DAY = datetime.timedelta(days=1)


class InteractionWindows(Windows):
    """For one request: the data's edges, read once from the daily counts (the oldest day
    counted, the newest day by a look back from today), and for one engagement its own
    newest day (where its newest page starts)."""

    field = DATE

    @cached_property
    def _edges(self):
        oldest, newest = rollups.oldest_day(), rollups.newest_day()
        return oldest and utc(oldest), newest and utc(newest) + ONE_DAY

    def edges(self, branch):
        oldest, newest = self._edges
        engagement = branch.get("engagementId")
        if newest is not None and engagement is not None and not isinstance(engagement, dict):
            own = rollups.newest_day([engagement])
            newest = utc(own) + ONE_DAY if own is not None else oldest
        return oldest, newest


def utc(day):
    return day.replace(tzinfo=datetime.UTC) if day.tzinfo is None else day
