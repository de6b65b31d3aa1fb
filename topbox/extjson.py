"""The one place for Topbox's JSON encoding rules: MongoDB legacy Extended JSON.

The seed's contract: ids and references as ``{"$oid": "<24 hex>"}``, dates as
``{"$date": <milliseconds since the epoch>}``. pymongo's ``json_util`` with
``LEGACY_JSON_OPTIONS`` produces exactly that; dates read back are timezone-aware UTC.
"""

import datetime

from bson import json_util

OPTIONS = json_util.LEGACY_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=datetime.UTC)


def dumps(value, **kwargs):
    return json_util.dumps(value, json_options=OPTIONS, **kwargs)


def loads(text, **kwargs):
    """``kwargs`` go to ``json.loads`` (``parse_constant``, for one)."""
    return json_util.loads(text, json_options=OPTIONS, **kwargs)
