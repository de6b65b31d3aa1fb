"""The API bench's baseline: the same MongoDB queries as the API, from a minimal WSGI app.

pymongo plus the same JSON encoding (pymongo's json_util, legacy Extended JSON), nothing
else: no framework, no authentication, no validation. Served by gunicorn with the same
settings as the real app (``gunicorn bench.baseline:app``), against ``MONGO_URI``.

Routes (query parameters carry the already-decoded filter, so parsing costs nothing):
  /detail/<id>
  /page?engagement=<id>&from=<ms>&to=<ms>&after=<ms>&after_id=<id>&expand=1
"""

import datetime
import os
from urllib.parse import parse_qs

from bson import ObjectId, json_util
from pymongo import MongoClient

OPTIONS = json_util.LEGACY_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=datetime.UTC)
database = MongoClient(os.environ["MONGO_URI"], tz_aware=True).get_default_database()
PAGE_SIZE = 50
SORT = [("interactionDate", -1), ("_id", -1)]


def ms(value):
    return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.UTC)


def page(params):
    query = {}
    if "engagement" in params:
        query["engagementId"] = ObjectId(params["engagement"])
    if "from" in params or "to" in params:
        # As the API writes "on or after" (topbox.dates.at_or_after).
        query["interactionDate"] = {
            "$gt": ms(params["from"]) - datetime.timedelta(milliseconds=1),
            "$lt": ms(params["to"]),
        }
    segments = [{}]
    if "after" in params:  # the API's keyset queries, verbatim: the ties, then what lies beyond
        after, after_id = ms(params["after"]), ObjectId(params["after_id"])
        segments = [{"interactionDate": after, "_id": {"$lt": after_id}}, {"interactionDate": {"$lt": after}}]
    rows = []
    for segment in segments:
        where = {"$and": [query, segment]} if query and segment else query or segment
        rows += database.interaction.find(where).sort(SORT).limit(PAGE_SIZE + 1 - len(rows))
        if len(rows) > PAGE_SIZE:
            break
    rows = rows[:PAGE_SIZE]
    if "expand" in params:
        engagement_ids = list({row["engagementId"] for row in rows})
        engagements = {row["_id"]: row for row in database.engagement.find({"_id": {"$in": engagement_ids}})}
        client_ids = list({engagement["clientId"] for engagement in engagements.values()})
        clients = {row["_id"]: row for row in database["client"].find({"_id": {"$in": client_ids}})}
        for row in rows:
            engagement = dict(engagements[row["engagementId"]])
            engagement["client"] = clients[engagement["clientId"]]
            row["engagement"] = engagement
    return {"next": None, "previous": None, "results": rows}


def app(environ, start_response):
    path = environ["PATH_INFO"]
    params = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path.startswith("/detail/"):
        body = database.interaction.find_one({"_id": ObjectId(path.rsplit("/", 1)[1])})
    else:
        body = page(params)
    payload = json_util.dumps(body, json_options=OPTIONS).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
