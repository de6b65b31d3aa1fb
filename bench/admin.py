"""How fast the interactions changelist, its searches and the picker are, next to raw pymongo.

    .venv/bin/python bench/admin.py [--interactions 100000] [--requests 5]

Starts an embedded server (in memory, a free port), inserts the data with ``insert_many``
(one interaction every 17 minutes, so a week holds as many at any size), then, for a few
changelist URLs (filters, then each kind of search), prints the admin's response time
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

from devtools.embedded import MEMORY, EmbeddedMongo, free_port

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
    from interactions import rollups

    # The newest at the start of this hour, one every 17 minutes before it.
    end = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for n in range(interactions):
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
        if len(rows) == 5000:
            db.interaction.insert_many(rows)
            rollups.record(added=rows)
            rows = []
    if rows:
        db.interaction.insert_many(rows)
        rollups.record(added=rows)
    return clients, engagements


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

    with EmbeddedMongo(free_port(), storage=args.storage) as server, tempfile.TemporaryDirectory() as state:
        os.environ.update(
            MONGO_URI=server.uri + "bench",
            DJANGO_SQLITE_PATH=str(Path(state) / "django.sqlite3"),
            DJANGO_ALLOWED_HOSTS="testserver",
            DJANGO_DEBUG="false",
            DJANGO_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="topbox.settings",
            MONGO_QUERY_TIMEOUT_MS="600000",  # the full time of every query is the figure
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
        if db.interaction.estimated_document_count() >= args.interactions:  # --storage of an earlier run
            clients, engagements = list(db["client"].find().sort("name")), list(db.engagement.find().sort("_id"))
            print(f"Reusing the {db.interaction.estimated_document_count()} interactions stored in {args.storage}.")
        else:
            started = time.perf_counter()
            clients, engagements = seed(db, args.interactions)
            print(f"Seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s (insert_many).")
        if args.seed_only:
            return
        skipped = {name.strip() for name in args.skip.split(",") if name.strip()}

        browser = Client()
        browser.force_login(get_user_model().objects.create_superuser("bench", "bench@example.com", None))
        engagement, client = engagements[0]["_id"], clients[0]["_id"]
        client_engagements = [e["_id"] for e in engagements if e["clientId"] == client]
        cases = [
            ("no filter", "", {}),
            ("engagement", f"engagement={engagement}", {"engagementId": engagement}),
            ("client", f"client={client}", {"engagementId": {"$in": client_engagements}}),
            ("sentiment", "sentiment=Negative", {"sentiment": "Negative"}),
        ]
        print(f"p50 of {args.requests} requests, page of 50, newest first; times in ms")
        print(f"{'filter':<12}{'admin page':>12}{'raw page':>10}{'raw count':>11}{'ratio':>8}")
        for label, query, match in cases:
            if label in skipped:
                print(f"{label:<12}{'skipped':>12}")
                continue
            url = f"/admin/interactions/interaction/?{query}"
            assert browser.get(url).status_code == 200
            admin = p50(lambda url=url: browser.get(url), args.requests)
            page = p50(lambda match=match: list(db.interaction.find(match).sort(SORT).limit(50)), args.requests)
            if match:
                count = p50(lambda match=match: db.interaction.count_documents(match), args.requests)
            else:
                count = p50(db.interaction.estimated_document_count, args.requests)
            print(f"{label:<12}{admin:>12.0f}{page:>10.0f}{count:>11.0f}{admin / (page + count):>8.2f}")
        print("ratio: the admin page over the raw page query plus the raw count it shows.")

        # The search box: what each kind of term makes the page ask, raw.
        interaction = db.interaction.find_one({"engagementId": engagement}, {"_id": 1})["_id"]
        week = {
            "$gte": datetime.datetime(2020, 3, 2, tzinfo=datetime.UTC),
            "$lt": datetime.datetime(2020, 3, 9, tzinfo=datetime.UTC),
        }
        scoped = {"interactionDate": week, "engagementId": {"$in": client_engagements}}
        ford = {"agentName": {"$regex": "ford", "$options": "i"}}
        searches = [
            ("interaction id", f"q={interaction}", {"_id": interaction}, None),
            ("engagement id", f"q={engagement}", {"engagementId": engagement}, None),
            ("client id", f"q={client}", {"engagementId": {"$in": client_engagements}}, None),
            ("csvName", "q=report_7.csv", {"custom.csvName": "report_7.csv"}, None),
            ("agent", "q=ford", ford, None),
            (
                "words, client+week",
                f"client={client}&date_from=2020-03-02&date_to=2020-03-08&q=parcel",
                scoped,
                "parcel",
            ),
        ]
        print(f"\nSearches, p50 of {args.requests} requests; times in ms")
        print(f"{'search':<20}{'admin page':>12}{'raw':>8}{'ratio':>8}")
        for label, query, match, words in searches:
            if label in skipped:
                print(f"{label:<20}{'skipped':>12}")
                continue
            url = f"/admin/interactions/interaction/?{query}"
            assert browser.get(url).status_code == 200

            def raw(match=match, words=words):
                if words:  # the bounded scan of the scope, then the page and count of what it found
                    rows = db.interaction.find(match, {"custom": 1, "agentName": 1}).sort(SORT).limit(10_001)
                    found = [row["_id"] for row in rows if words in str(row).lower()]
                    match = {"_id": {"$in": found}}
                list(db.interaction.find(match).sort(SORT).limit(50))
                db.interaction.count_documents(match)

            admin = p50(lambda url=url: browser.get(url), args.requests)
            raw_ms = p50(raw, args.requests)
            print(f"{label:<20}{admin:>12.0f}{raw_ms:>8.0f}{admin / raw_ms:>8.2f}")

        # The picker: a page of engagements by part of their client's name.
        url = "/engagements/choices?term=client 03"
        assert browser.get(url).status_code == 200, browser.get(url).content

        def raw_picker():
            wanted = {"$regex": "client", "$options": "i"}, {"$regex": "03", "$options": "i"}
            ids = [
                [r["_id"] for r in db["client"].find({"$or": [{"name": w}, {"nickName": w}]}, {"_id": 1})]
                for w in wanted
            ]
            query = {
                "$and": [{"$or": [{"name": w}, {"clientId": {"$in": i}}]} for w, i in zip(wanted, ids, strict=True)]
            }
            rows = list(db.engagement.find(query).sort([("name", 1), ("_id", 1)]).limit(21))
            list(db["client"].find({"_id": {"$in": [row["clientId"] for row in rows]}}))

        admin = p50(lambda: browser.get(url), args.requests)
        raw_ms = p50(raw_picker, args.requests)
        print(f"{'picker':<20}{admin:>12.0f}{raw_ms:>8.0f}{admin / raw_ms:>8.2f}")
        print("ratio: the admin (or the picker's API) over the raw queries it stands for.")


if __name__ == "__main__":
    main()
