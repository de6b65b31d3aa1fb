"""Interaction statistics over 100k interactions: p50 of the endpoint next to the raw aggregation.

    .venv/bin/python bench/stats.py [--interactions 100000] [--runs 5]

Starts its own embedded server (a free port, a temporary storage directory), adds
synthetic data (``sampledata.synthetic``), serves the app with gunicorn, then times each
scenario in each column, after one warm-up: the HTTP endpoint (``GET /stats``,
``/clients/<id>/stats``, ``/engagements/<id>/stats``), ``interaction_stats()`` (what the
endpoint calls) and the same pipeline run through pymongo (``stats_pipeline`` +
``aggregate``, no shaping). The last column is the endpoint over the raw pipeline.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")

DATABASE = "bench_stats"
UTC = datetime.UTC


@dataclass
class Scenario:
    name: str
    engagement_ids: list | None = None  # for the raw pipeline: None is every engagement
    arguments: dict = field(default_factory=dict)  # for interaction_stats(): client/engagement, start, end, interval


def scenarios(database):
    client = database["client"].find_one(sort=[("_id", 1)])["_id"]
    client_engagements = [row["_id"] for row in database["engagement"].find({"clientId": client}, {"_id": 1})]
    engagement = client_engagements[0]
    quarter = {"start": datetime.datetime(2024, 4, 1, tzinfo=UTC), "end": datetime.datetime(2024, 7, 1, tzinfo=UTC)}
    week = {"interval": "week"}
    return [
        Scenario("everything, by month", None, {"interval": "month"}),
        Scenario("everything, one quarter, by week", None, {**quarter, **week}),
        Scenario("one client, by week", client_engagements, {"client": client, **week}),
        Scenario("one client, one quarter, by day", client_engagements, {"client": client, **quarter}),
        Scenario("one engagement, by day", [engagement], {"engagement": engagement}),
        Scenario("one engagement, one quarter, by week", [engagement], {"engagement": engagement, **quarter, **week}),
    ]


def columns(raw_collection, port, headers):
    from bench.api import fetch
    from interactions.stats import interaction_stats, stats_pipeline

    def raw(scenario):
        options = {key: value for key, value in scenario.arguments.items() if key not in ("client", "engagement")}
        return list(raw_collection.aggregate(stats_pipeline(scenario.engagement_ids, **options)))

    def endpoint(scenario):
        arguments = dict(scenario.arguments)
        path = "/stats"
        if "client" in arguments:
            path = f"/clients/{arguments.pop('client')}/stats"
        elif "engagement" in arguments:
            path = f"/engagements/{arguments.pop('engagement')}/stats"
        names = {"start": "from", "end": "to", "interval": "interval"}
        query = {
            names[key]: value.isoformat() if hasattr(value, "isoformat") else value for key, value in arguments.items()
        }
        return fetch(port, f"{path}?{urlencode(query)}", headers)

    return {
        "GET endpoint": endpoint,
        "interaction_stats()": lambda scenario: interaction_stats(**scenario.arguments),
        "raw pipeline": raw,
    }


def p50(function, scenario, runs):
    function(scenario)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(scenario)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(interactions, runs):
    import django
    from pymongo import MongoClient

    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory(prefix="bench-stats-") as directory, EmbeddedMongo(
        free_port(), storage=Path(directory) / "mongo"
    ) as server:  # fmt: skip
        uri = server.uri + DATABASE
        os.environ.update(MONGO_URI=uri, TOPBOX_DATA_DIR=directory)
        django.setup()
        from sampledata import synthetic
        from topbox import documents, mongo

        mongo.connect(uri)
        documents.ensure_indexes()
        started = time.perf_counter()
        synthetic.generate(clients=5, engagements=20, interactions=interactions, random_seed=1)
        seconds = time.perf_counter() - started
        print(f"{interactions:,} synthetic interactions (5 clients, 20 engagements) added in {seconds:.0f} s")

        port, headers, web = serve_app(uri, directory)
        try:
            raw_database = MongoClient(uri, tz_aware=True)[DATABASE]
            measured = columns(raw_database["interaction"], port, headers)
            width = max(len(name) for name in measured) + 2
            print(f"p50 of {runs} runs, in ms")
            print(f"{'scenario':<40}" + "".join(f"{name:>{width}}" for name in measured) + "  endpoint/raw")
            for scenario in scenarios(raw_database):
                figures = [p50(function, scenario, runs) * 1000 for function in measured.values()]
                print(
                    f"{scenario.name:<40}"
                    + "".join(f"{figure:>{width},.0f}" for figure in figures)
                    + f"  {figures[0] / figures[-1]:>11.2f}x",
                    flush=True,
                )
        finally:
            web.terminate()
            web.wait()


def serve_app(uri, directory):
    """Serve topbox.wsgi with gunicorn on ``uri``'s database; return (port, auth headers, process)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from bench.api import serve
    from devtools.embedded import free_port

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", is_staff=True)
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}", "Accept": "application/json"}
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    port = free_port()
    return port, headers, serve("topbox.wsgi", port, env)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    main(arguments.interactions, arguments.runs)
