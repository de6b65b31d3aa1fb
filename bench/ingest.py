"""CSV ingest throughput and memory, next to raw pymongo ``insert_many`` of the same documents.

    .venv/bin/python bench/ingest.py [--sizes 50000 200000]

Starts its own embedded server (a free port, a temporary storage directory), writes a CSV
report of each size, and runs each measurement in a child process of its own, so that its
peak RSS (``ru_maxrss``) is that run's alone:

- ingest: ``interactions.ingest.ingest_csv`` over the file, as ``manage.py ingest`` does;
- raw: the documents that ingest stored, loaded into memory first, then inserted with
  pymongo ``insert_many(ordered=False)`` in batches of the same size into an empty
  collection with the same indexes. Only the inserts are timed: the upper bound.

Targets: ingest at least 70% of raw throughput, and the same peak memory for every size.
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")

DATABASE = "bench_ingest"
RAW_COLLECTION = "interaction_raw"
REGIONS = ("NY", "CA", "TX", "FL", "WA", "BC", "ON")
SENTIMENTS = ("Positive", "negative", " Neutral ", "MIXED", "")


def write_csv(path, rows, seed=0):
    """A report like the seed's: date, agent first and last names, sentiment, call details."""
    rng = random.Random(seed)
    agents = [(f"First{n}", f"Last{n}") for n in range(200)]
    start = 1_704_067_200  # 2024-01-01T00:00:00Z
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        header = ["interactionDate", "agentFirstName", "agentLastName", "sentiment"]
        writer.writerow([*header, "callDurationSeconds", "callerRegion", "resolved", "notes"])
        for _ in range(rows):
            moment = time.gmtime(start + rng.randrange(366 * 86400))
            first, last = rng.choice(agents)
            writer.writerow(
                [
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
                    first,
                    last,
                    rng.choice(SENTIMENTS),
                    rng.randint(30, 3600),
                    rng.choice(REGIONS),
                    rng.choice(("true", "false")),
                    rng.choice(("", "called back", 'said "thanks", then hung up', "line 1\nline 2")),
                ]
            )


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child_ingest(path, engagement_id):
    import django

    django.setup()
    from engagements.documents import Engagement
    from interactions.ingest import ingest_csv
    from topbox import mongo

    mongo.connect()
    engagement = Engagement.objects.get(pk=engagement_id)
    started = time.perf_counter()
    with open(path, "rb") as stream:
        result = ingest_csv(stream, Path(path).name, engagement)
    seconds = time.perf_counter() - started
    assert result.ok, result.problems
    return {"rows": result.inserted, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def child_raw(uri, csv_name, batch_size):
    from pymongo import MongoClient

    database = MongoClient(uri, tz_aware=True)[DATABASE]
    source, target = database["interaction"], database[RAW_COLLECTION]
    target.drop()
    for name, spec in source.index_information().items():
        if name != "_id_":
            options = {key: spec[key] for key in ("unique", "partialFilterExpression") if key in spec}
            target.create_index(spec["key"], name=name, **options)
    documents = list(source.find({"custom.csvName": csv_name}, {"_id": 0}))
    started = time.perf_counter()
    for offset in range(0, len(documents), batch_size):
        target.insert_many(documents[offset : offset + batch_size], ordered=False)
    seconds = time.perf_counter() - started
    return {"rows": len(documents), "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def run_child(*args):
    output = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.splitlines()[-1])


def main(sizes):
    import django

    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as directory, EmbeddedMongo(
        free_port(), storage=Path(directory) / "mongo"
    ) as server:  # fmt: skip
        uri = server.uri + DATABASE
        os.environ["MONGO_URI"] = uri  # for the children too
        django.setup()
        from interactions.ingest import BATCH_SIZE
        from sampledata import synthetic
        from topbox import documents, mongo

        mongo.connect(uri)
        documents.ensure_indexes()
        synthetic.generate(clients=1, engagements=1, interactions=0)
        engagement_id = mongo.database()["engagement"].find_one()["_id"]

        print(f"SecantusDB on a temporary directory; batches of {BATCH_SIZE}; one child process per run.")
        columns = ("ingest rows/s", 14), ("raw rows/s", 11), ("ratio", 6), ("ingest peak RSS", 16), ("raw peak RSS", 13)
        print(f"{'rows':>9}" + "".join(f" {title:>{width}}" for title, width in columns))
        figures = []
        for size in sizes:
            path = Path(directory) / f"report_{size}.csv"
            write_csv(path, size)
            mongo.database()["interaction"].delete_many({})
            ingested = run_child("ingest", path, engagement_id)
            raw = run_child("raw", uri, path.name, BATCH_SIZE)
            assert ingested["rows"] == raw["rows"] == size, (ingested, raw)
            ingest_rate, raw_rate = size / ingested["seconds"], size / raw["seconds"]
            figures.append((ingest_rate / raw_rate, ingested["peak_rss_mb"]))
            print(
                f"{size:>9,} {ingest_rate:>14,.0f} {raw_rate:>11,.0f} {ingest_rate / raw_rate:>6.0%} "
                f"{ingested['peak_rss_mb']:>13,.0f} MB {raw['peak_rss_mb']:>10,.0f} MB"
            )
        worst = min(ratio for ratio, _ in figures)
        memories = [memory for _, memory in figures]
        print(f"ingest throughput: at least {worst:.0%} of raw (target 70%): {'met' if worst >= 0.7 else 'NOT met'}")
        growth = max(memories) / min(memories) - 1
        verdict = "met" if growth <= 0.1 else "NOT met"
        print(f"ingest peak RSS across sizes: {growth:+.0%} (target: flat, within 10%): {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        kind, *rest = arguments.child
        result = child_ingest(*rest) if kind == "ingest" else child_raw(rest[0], rest[1], int(rest[2]))
        print(json.dumps(result))
    else:
        main(arguments.sizes)
