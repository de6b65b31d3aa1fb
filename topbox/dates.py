"""Dates as MongoDB stores them: UTC, to the millisecond."""

import datetime

from django.utils.dateparse import parse_date, parse_datetime

ONE_MILLISECOND = datetime.timedelta(milliseconds=1)


def to_utc(value):
    """An aware UTC datetime truncated to the millisecond, from a datetime or an ISO-8601
    date or datetime string (UTC when it has no zone); ``None`` if it is neither."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None and (day := parse_date(text)):
                parsed = datetime.datetime.combine(day, datetime.time())
        except ValueError:  # well-formed but impossible, such as 2020-02-30
            return None
        value = parsed
    if not isinstance(value, datetime.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    try:
        value = value.astimezone(datetime.UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable instant
        return None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def at_or_after(start):
    """The filter operator for "on or after ``start``", written as ``$gt`` of the stored
    instant just before it.

    Stored dates are whole milliseconds, so this is exactly ``{"$gte": start}`` on every
    server. SecantusDB 0.7.0b3 (the embedded development server) reads a ``$gte`` bound
    on a descending compound index such as ``(engagementId, -interactionDate)`` as
    ``$gt`` and loses the documents at ``start``; ``$gt`` it reads right.
    """
    start = to_utc(start)
    if start == datetime.datetime.min.replace(tzinfo=datetime.UTC):
        return {"$gte": start}  # nothing is earlier
    return {"$gt": start - ONE_MILLISECOND}
