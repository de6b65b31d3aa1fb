"""The statistics dashboard for one client holding 100k interactions: its page and its data,
next to what they are made of.

    .venv/bin/python bench/dashboard.py [--interactions 100000] [--runs 3]

Starts its own embedded server (a free port, a temporary storage directory), adds one
synthetic client with 5 engagements (``sampledata.synthetic``), serves the app with gunicorn
and times, after one warm-up, the p50 of: the admin's dashboard page (HTML, with its
charts' data embedded), the same figures as JSON (``?format=json``), the client team's
page, and in process ``interaction_stats()`` (what both call) and the raw pipeline through
pymongo (``stats_pipeline`` + ``aggregate``), for the default period (the last 30 days of
the data) and the whole range by month and by day. The page's own cost is the page minus
``interaction_stats()``; what bounds it is the aggregation, which reads every interaction
of the period.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")

DATABASE = "bench_dashboard"


def p50(function, runs):
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pipeline(collection, stages):
    return list(collection.aggregate(stages))


def session_cookie(user):
    """A logged-in session for ``user`` in the SQL database gunicorn reads too."""
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    return f"sessionid={browser.cookies['sessionid'].value}"


def main(interactions, runs):
    import django
    from pymongo import MongoClient

    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as directory, EmbeddedMongo(
        free_port(), storage=Path(directory) / "mongo"
    ) as server:  # fmt: skip
        uri = server.uri + DATABASE
        os.environ.update(MONGO_URI=uri, TOPBOX_DATA_DIR=directory)
        django.setup()
        from django.contrib.auth import get_user_model

        from bench.api import fetch
        from bench.stats import serve_app
        from clients.client_users import create_client_user
        from interactions.dashboard import Period, Scope, choose
        from interactions.selectors import last_date
        from interactions.stats import interaction_stats, stats_pipeline
        from sampledata import synthetic
        from topbox import documents, mongo

        mongo.connect(uri)
        documents.ensure_indexes()
        started = time.perf_counter()
        synthetic.generate(clients=1, engagements=5, interactions=interactions, random_seed=1)
        seconds = time.perf_counter() - started
        print(f"{interactions:,} synthetic interactions (1 client, 5 engagements) added in {seconds:.0f} s")

        port, _, web = serve_app(uri, directory)
        try:
            raw = MongoClient(uri, tz_aware=True)[DATABASE]
            client = raw["client"].find_one()["_id"]
            engagement_ids = [row["_id"] for row in raw["engagement"].find({"clientId": client}, {"_id": 1})]
            staff = {"Cookie": session_cookie(get_user_model().objects.create_superuser("bench-staff", None, None))}
            team = {"Cookie": session_cookie(create_client_user("bench-team", str(client))[0])}
            admin_page, team_page = f"/admin/dashboard/clients/{client}/", f"/clients/{client}/dashboard"
            recent, _, _ = choose(Scope("bench", client=client), {})
            month = Period(recent.last.replace(day=1), recent.last)
            scenarios = {  # name: (query string, the period's start and end, interval)
                "last 30 days of the data (default)": ("", recent.start, recent.end, "day"),
                "one month, chosen, by day": (f"?from={month.first}&to={month.last}", month.start, month.end, "day"),
                "whole range, by week": ("?range=all&interval=week", None, None, "week"),
                "whole range, by month": ("?range=all&interval=month", None, None, "month"),
            }
            print(f"p50 of {runs} runs, in ms; the page's own cost is the page minus interaction_stats()")
            header = ["admin page", "JSON data", "team page", "interaction_stats()", "raw pipeline", "page KB"]
            print(f"{'scenario':<38}" + "".join(f"{name:>20}" for name in header))
            for name, (query, start, end, interval) in scenarios.items():
                arguments = {"start": start, "end": end, "interval": interval}
                timed = [
                    partial(fetch, port, admin_page + query, staff),
                    partial(fetch, port, admin_page + (query + "&" if query else "?") + "format=json", staff),
                    partial(fetch, port, team_page + query, team),
                    partial(interaction_stats, client=client, **arguments),
                    partial(pipeline, raw["interaction"], stats_pipeline(engagement_ids, **arguments)),
                ]
                figures = [p50(function, runs) * 1000 for function in timed]
                size = len(fetch(port, admin_page + query, staff)) / 1024
                print(
                    f"{name:<38}" + "".join(f"{figure:>20,.0f}" for figure in figures) + f"{size:>20,.0f}", flush=True
                )
            newest = p50(partial(last_date, engagement_ids), runs) * 1000
            print(f"last_date() (what the default period looks up first): {newest:,.0f} ms")
        finally:
            web.terminate()
            web.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.interactions, arguments.runs)
