"""How fast the interactions changelist, its searches and the picker are, next to raw pymongo.

    .venv/bin/python bench/admin.py [--interactions 100000] [--requests 5]

Starts an embedded server (in memory, a free port), inserts the data (the interactions
with their counts; one interaction every 17 minutes, so a week holds as many at any size),
then, for a few changelist URLs (filters, then each kind of search), prints the admin's response time
(p50 over the requests, logged in as a superuser, through Django's test client) next to
the raw pymongo time of the queries the page stands for: the page (same filter, sort and
limit) and the count it shows (for a search within a scope, the bounded scan of the
source records too). Then the picker (``/engagements/choices``) next to its two raw
queries. SecantusDB is much slower than mongod; read the ratio, not the absolute times.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bson import ObjectId
from pymongo import monitoring

from devtools.embedded import MEMORY, EmbeddedMongo, free_port
from topbox.textsearch import words_filter

SENTIMENTS = ("Positive", "Negative", "Neutral", "Mixed", None)
SORT = [("interactionDate", -1), ("_id", -1)]
NOTES = ("Where is my parcel?", "I was charged twice.", "Refund please", "Great service", "App keeps crashing")


def seed(db, interactions):
    clients = [{"_id": ObjectId(), "name": f"Client {n:02}", "nickName": f"C{n}"} for n in range(10)]
    engagements = [
        {
            "_id": ObjectId(),
            "clientId": clients[n % 10]["_id"],
            "name": ("Chat", "Phone", "SMS", "Twitter", "Facebook")[n % 5],
        }
        for n in range(50)
    ]
    db["client"].insert_many(clients)
    db.engagement.insert_many(engagements)
    # The newest at the start of this hour, one every 17 minutes before it.
    end = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    add_interactions(db, engagements, end, 0, interactions)
    return clients, engagements


def resume(db, interactions):
    """Complete a seed that stopped part way (an earlier run into the same --storage):
    the daily counts rebuilt from what is stored, then the rest, older and older."""
    from interactions.counts import reading, rebuilding

    clients, engagements = list(db["client"].find().sort("name")), list(db.engagement.find().sort("_id"))
    started = time.perf_counter()
    rebuilding.rebuild()
    stored = reading.count()
    print(f"Rebuilt the daily counts of {stored} stored interactions in {time.perf_counter() - started:.1f} s.")
    oldest = db.interaction.find_one(
        {"interactionDate": {"$lt": reading.span()[0].replace(tzinfo=datetime.UTC) + datetime.timedelta(days=1)}},
        sort=[("interactionDate", 1)],
    )["interactionDate"].replace(tzinfo=datetime.UTC)
    end = oldest + datetime.timedelta(minutes=17 * stored)
    add_interactions(db, engagements, end, stored, interactions)
    return clients, engagements


def add_interactions(db, engagements, end, first, last):
    """Interactions ``first`` to ``last`` (one every 17 minutes back from ``end``), in
    batches, each with its daily counts."""
    from interactions.documents import Interaction
    from topbox.documents import insert_new

    rows = []
    for n in range(first, last):
        row = {
            "_id": ObjectId(),
            "engagementId": random.choice(engagements)["_id"],
            "interactionDate": end - datetime.timedelta(minutes=17 * n),
            "agentName": random.choice(("John Ford", "Mary Major", "Ann Other", "Sam Smith", "Lee Jones")),
            "custom": {"csvName": f"report_{n // 1000}.csv", "csvLine": n, "notes": random.choice(NOTES)},
        }
        sentiment = random.choice(SENTIMENTS)
        if sentiment:
            row["sentiment"] = sentiment
        rows.append(row)
        if len(rows) == 5000 or n == last - 1:
            insert_new(Interaction, rows)  # with their counts, in one transaction
            rows = []


class CommandTimer(monitoring.CommandListener):
    """The time MongoDB commands take, summed (what a request spends in the database)."""

    total = 0.0

    def started(self, event):
        self.since = time.perf_counter()

    def succeeded(self, event):
        CommandTimer.total += time.perf_counter() - self.since

    def failed(self, event):
        CommandTimer.total += time.perf_counter() - self.since


def p50_db(function, repeat):
    """The p50 of the time ``function`` spends in MongoDB commands, in ms."""
    times = []
    for _ in range(repeat):
        CommandTimer.total = 0.0
        function()
        times.append(CommandTimer.total)
    return statistics.median(times) * 1000


def p50(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--storage", default=MEMORY, help="The server's storage directory (default: in memory).")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument(
        "--skip", default="", help="Comma-separated cases to leave out, e.g. 'no filter,agent' (unbounded at 1M)."
    )
    parser.add_argument("--seed-only", action="store_true", help="Seed (into --storage) and stop.")
    args = parser.parse_args()
    random.seed(1)
    monitoring.register(CommandTimer())

    with EmbeddedMongo(free_port(), storage=args.storage) as server, tempfile.TemporaryDirectory() as state:
        os.environ.update(
            MONGO_URI=server.uri + "bench",
            DJANGO_SQLITE_PATH=str(Path(state) / "django.sqlite3"),
            DJANGO_ALLOWED_HOSTS="testserver",
            DJANGO_DEBUG="false",
            DJANGO_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="topbox.settings",
            MONGO_QUERY_TIMEOUT_MS="600000",  # the full time of every query is the figure
            MONGO_SOCKET_TIMEOUT_MS="3600000",  # seeding and rebuilding a million take minutes a command
            MONGO_TIMEOUT_MS="120000",  # and the busy server answers its monitor late
        )
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from topbox import documents, mongo

        call_command("migrate", verbosity=0)
        documents.ensure_indexes()
        db = mongo.database()
        stored = db.interaction.estimated_document_count()
        if stored >= args.interactions:  # --storage of an earlier run
            clients, engagements = list(db["client"].find().sort("name")), list(db.engagement.find().sort("_id"))
            print(f"Reusing the {stored} interactions stored in {args.storage}.")
        elif stored:
            started = time.perf_counter()
            clients, engagements = resume(db, args.interactions)
            print(f"Completed the {stored} stored to {args.interactions} in {time.perf_counter() - started:.1f} s.")
        else:
            started = time.perf_counter()
            clients, engagements = seed(db, args.interactions)
            print(f"Seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s.")
        if args.seed_only:
            return
        skipped = {name.strip() for name in args.skip.split(",") if name.strip()}

        browser = Client()
        browser.force_login(get_user_model().objects.create_superuser("bench", "bench@example.com", None))
        measure(db, browser, clients, engagements, args.requests, skipped)


def measure(db, browser, clients, engagements, repeat, skipped):
    """Each case: the admin's p50 next to the p50 of the raw queries that return the same
    page (the page's documents read within the day-wide bound that holds them, one query
    per engagement or agent where the admin splits an ``$in``) plus what its count reads."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    from interactions.counts import keys, reading

    engagement, client = engagements[0]["_id"], clients[0]["_id"]
    client_engagements = [e["_id"] for e in engagements if e["clientId"] == client]
    interaction = db.interaction.find_one({"engagementId": engagement}, {"_id": 1})["_id"]
    csv_name = db.interaction.find_one({"_id": interaction})["custom"]["csvName"]
    newest = reading.newest_day()
    middle = (newest - datetime.timedelta(days=20)).date()
    week_from, week_to = middle - datetime.timedelta(days=6), middle
    fords = sorted(reading.agent_names(["ford"]))
    totals = lambda ids=None: lambda: list(keys.totals().find({} if ids is None else {"_id": {"$in": ids}}))  # noqa: E731
    cases = [
        # label, query, raw branches (page), raw count
        ("newest", "", [{}], totals()),
        ("older x20", "", [{}], totals()),
        ("jump to date", f"at={middle}", [{}], totals()),
        ("oldest", "last=1", [{}], totals()),
        ("engagement", f"engagement={engagement}", [{"engagementId": engagement}], totals([engagement])),
        ("client", f"client={client}", [{"engagementId": e} for e in client_engagements], totals(client_engagements)),
        ("sentiment", "sentiment=Negative", [{"sentiment": "Negative"}], totals()),
        ("q interaction id", f"q={interaction}", [{"_id": interaction}],
         lambda: db.interaction.count_documents({"_id": interaction})),
        ("q engagement id", f"q={engagement}", [{"engagementId": engagement}], totals([engagement])),
        ("q client id", f"q={client}", [{"engagementId": e} for e in client_engagements], totals(client_engagements)),
        ("q csv name", f"q={csv_name}", [{"custom.csvName": csv_name}],
         lambda: db.interaction.count_documents({"custom.csvName": csv_name}, limit=10_001)),
        ("q agent 'ford'", "q=ford", [{"agentName": name} for name in fords],
         lambda: list(keys.names().find(
             {"engagementId": keys.EVERY_ENGAGEMENT, **words_filter(["agentName"], ["ford"])}))),
        ("q words, client+week", f"client={client}&date_from={week_from}&date_to={week_to}&q=parcel", None, None),
    ]  # fmt: skip
    print(f"p50 of {repeat} requests, pages of 50, newest first; times in ms")
    print(f"{'case':<22}{'admin':>9}{'its db':>9}{'raw':>9}{'ratio':>8}{'db/raw':>8}  (raw: page / count)")
    for label, query, branches, count in cases:
        if label in skipped:
            print(f"{label:<22}{'skipped':>9}")
            continue
        url = f"/admin/interactions/interaction/?{query}"
        setup_test_environment()
        try:
            steps = 20 if label == "older x20" else 1
            for _ in range(steps):
                response = browser.get(url)
                assert response.status_code == 200, (url, response.status_code)
                cl = response.context["cl"]
                if label == "older x20" and _ < steps - 1:
                    url = "/admin/interactions/interaction/" + cl.keyset["next"]
            rows = [document.pk for document in cl.result_list]
        finally:
            teardown_test_environment()
        admin = p50(lambda url=url: browser.get(url), repeat)
        in_db = p50_db(lambda url=url: browser.get(url), repeat)
        if branches is None:  # words within a scope: the bounded scan of the source records, then the page
            week = {"$gte": midnight(week_from), "$lt": midnight(week_to + datetime.timedelta(days=1))}
            scoped = [{"engagementId": e, "interactionDate": week} for e in client_engagements]

            def raw(scoped=scoped):
                found = []
                for match in scoped:
                    rows = db.interaction.find(match, {"custom": 1, "agentName": 1}).sort(SORT).limit(10_001)
                    found += [row["_id"] for row in rows if "parcel" in str(row).lower()]
                list(db.interaction.find({"_id": {"$in": found}}).sort(SORT).limit(51))

            page_ms, count_ms = p50(raw, repeat), 0.0
        else:
            bound = page_bound(db, rows)
            page_ms = p50(lambda b=branches, bound=bound: raw_page(db, b, bound), repeat)
            count_ms = p50(count, repeat)
        raw_ms = page_ms + count_ms
        print(
            f"{label:<22}{admin:>9.1f}{in_db:>9.1f}{raw_ms:>9.1f}{admin / raw_ms:>8.2f}{in_db / raw_ms:>8.2f}"
            f"  ({page_ms:.1f} / {count_ms:.1f})"
        )

    # The picker: a page of engagements by part of their client's name.
    url = "/engagements/choices?term=client 03"
    assert browser.get(url).status_code == 200, browser.get(url).content

    def raw_picker():
        wanted = {"$regex": "client", "$options": "i"}, {"$regex": "03", "$options": "i"}
        ids = [
            [r["_id"] for r in db["client"].find({"$or": [{"name": w}, {"nickName": w}]}, {"_id": 1})] for w in wanted
        ]
        query = {"$and": [{"$or": [{"name": w}, {"clientId": {"$in": i}}]} for w, i in zip(wanted, ids, strict=True)]}
        rows = list(db.engagement.find(query).sort([("name", 1), ("_id", 1)]).limit(21))
        list(db["client"].find({"_id": {"$in": [row["clientId"] for row in rows]}}))

    admin = p50(lambda: browser.get(url), repeat)
    in_db = p50_db(lambda: browser.get(url), repeat)
    raw_ms = p50(raw_picker, repeat)
    print(f"{'picker':<22}{admin:>9.1f}{in_db:>9.1f}{raw_ms:>9.1f}{admin / raw_ms:>8.2f}{in_db / raw_ms:>8.2f}")
    print(
        "admin: the whole request in process (Django renders 50 rows); its db: the time its MongoDB commands took;\n"
        "raw: the raw queries that return the same page and count; ratio: admin / raw; db/raw: its db / raw."
    )


def page_bound(db, ids):
    """The dates of the page ``ids``, bounded by the UTC days they lie in (what daily counts can say)."""
    rows = list(db.interaction.find({"_id": {"$in": ids}}, {"interactionDate": 1})) if len(ids) > 1 else []
    dates = [row["interactionDate"] for row in rows if row.get("interactionDate")]
    if not dates:
        return {}
    low, high = min(dates), max(dates)
    return {"interactionDate": {"$gte": low.replace(hour=0, minute=0, second=0, microsecond=0), "$lte": high}}


def raw_page(db, branches, bound):
    """The page read raw within ``bound``: one query per branch, merged."""
    found = []
    for branch in branches:
        found += db.interaction.find({**branch, **bound}).sort(SORT).limit(51)
    return found


def midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


if __name__ == "__main__":
    main()
