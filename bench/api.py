"""The REST API under load, next to a minimal pymongo WSGI app making the same queries.

    .venv/bin/python bench/api.py [--sizes 10000,50000] [--seconds 5] [--concurrency 4]

Seeds synthetic interactions into an embedded server, serves the app (``topbox.wsgi``)
and the baseline (``bench/baseline.py``) with the same gunicorn settings, and drives both
with concurrent HTTP clients: a detail, the first page, the last page (reached by
cursor), a filtered page (engagement + date range) and an expanded page. Prints, per
endpoint and size, requests/s, p50 and p99, and the API/baseline ratio of p50s.

The embedded server is much slower than mongod on sorted scans, so the absolute times
mostly measure it; the ratio is the figure that says what the API adds.
"""

import argparse
import datetime
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN = ["--workers", "2", "--log-level", "warning", "--bind"]
FROM, TO = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC), datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)


def ms(value):
    return int(value.timestamp() * 1000)


def serve(app, port, env):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, *GUNICORN, f"127.0.0.1:{port}"], cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{app} did not start on port {port}")


def fetch(port, path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} on port {port} answered {response.status}: {body[:300]!r}")
    return body


def burst(port, path, headers, seconds, concurrency, latencies, minimum):
    """Concurrent GETs of ``path`` for ``seconds`` (and ``minimum`` at least); return the time taken."""
    lock, count = threading.Lock(), len(latencies)
    started = time.monotonic()
    deadline = started + seconds

    def client():
        while time.monotonic() < deadline or len(latencies) - count < minimum:
            begin = time.perf_counter()
            fetch(port, path, headers)
            with lock:
                latencies.append(time.perf_counter() - begin)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def compare(sides, seconds, concurrency, rounds=3):
    """Drive each ``(port, path, headers)`` side in alternating rounds, so that both see the
    same server state; return their figures."""
    measured = []
    for port, path, headers in sides:
        fetch(port, path, headers)  # warm up
        measured.append({"latencies": [], "elapsed": 0.0})
    for _ in range(rounds):
        for (port, path, headers), figures in zip(sides, measured, strict=True):
            figures["elapsed"] += burst(
                port, path, headers, seconds / rounds, concurrency, figures["latencies"], minimum=concurrency
            )
    results = []
    for figures in measured:
        latencies = sorted(figures["latencies"])
        results.append({
            "rps": len(latencies) / figures["elapsed"],
            "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        })  # fmt: skip
    return results


def targets(size):
    """``{endpoint: (API path, baseline path)}`` for the data now stored."""
    from engagements.documents import Engagement
    from interactions.documents import Interaction
    from interactions.views import InteractionViewSet
    from topbox.api.pagination import encode_cursor

    collection = Interaction._get_collection()
    newest_first = [("interactionDate", -1), ("_id", -1)]
    detail = collection.find_one({}, sort=newest_first, skip=size // 2)["_id"]
    boundary = collection.find_one({}, sort=newest_first, skip=size - 51)
    cursor = encode_cursor(
        "/interactions", InteractionViewSet.orderings["-interactionDate"], boundary["interactionDate"], boundary["_id"]
    )
    busiest = max(Engagement.objects.scalar("id"), key=lambda pk: collection.count_documents({"engagementId": pk}))
    return {
        "detail": (f"/interactions/{detail}", f"/detail/{detail}"),
        "first page": ("/interactions?page_size=50", "/page"),
        "last page": (
            f"/interactions?page_size=50&cursor={cursor}",
            f"/page?after={ms(boundary['interactionDate'])}&after_id={boundary['_id']}",
        ),
        "filtered page": (
            f"/interactions?page_size=50&engagement={busiest}&from=2024-03-01&to=2024-06-01",
            f"/page?engagement={busiest}&from={ms(FROM)}&to={ms(TO)}",
        ),
        "expanded page": ("/interactions?page_size=50&expand=engagement.client", "/page?expand=1"),
    }


def same_results(api_body, baseline_body):
    import json

    api, baseline = json.loads(api_body), json.loads(baseline_body)
    if "results" in api:
        return [row["_id"] for row in api["results"]] == [row["_id"] for row in baseline["results"]]
    return api == baseline


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint, size and server")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory() as scratch, EmbeddedMongo(free_port(), storage=f"{scratch}/mongo") as server:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "topbox.settings",
            "MONGO_URI": f"mongodb://127.0.0.1:{server.port}/bench",
            "TOPBOX_DATA_DIR": scratch,
            "DJANGO_DEBUG": "false",
            # The full time of every query is the figure: no request deadline (1 s by default).
            "MONGO_QUERY_TIMEOUT_MS": "600000",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # The bench's one user sends thousands of requests a minute: measure, don't throttle.
            "API_THROTTLE_USER": "off",
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        from sampledata import synthetic

        call_command("migrate", verbosity=0)
        call_command("ensure_indexes", verbosity=0)
        user = get_user_model().objects.create_user("bench", is_staff=True)
        headers = {"Authorization": f"Token {Token.objects.create(user=user).key}", "Accept": "application/json"}

        api_port, baseline_port = free_port(), free_port()
        servers = [serve("topbox.wsgi", api_port, env), serve("bench.baseline:app", baseline_port, env)]
        try:
            print(f"gunicorn {' '.join(GUNICORN)} ...; {args.concurrency} concurrent clients, {args.seconds:g} s each")
            print(f"{'size':>7} {'endpoint':<14} {'API req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   "
                  f"{'base req/s':>10} {'p50 ms':>8} {'p99 ms':>8}   {'p50 API/base':>12}")  # fmt: skip
            for size in sizes:
                began = time.monotonic()
                synthetic.generate(clients=3, engagements=10, interactions=size, random_seed=7)
                print(f"  (seeded {size} interactions in {time.monotonic() - began:.1f} s)")
                for endpoint, (api_path, baseline_path) in targets(size).items():
                    if not same_results(fetch(api_port, api_path, headers), fetch(baseline_port, baseline_path, {})):
                        raise SystemExit(f"{endpoint}: the API and the baseline returned different documents")
                    api, base = compare(
                        [(api_port, api_path, headers), (baseline_port, baseline_path, {})],
                        args.seconds,
                        args.concurrency,
                    )
                    print(
                        f"{size:>7} {endpoint:<14} {api['rps']:>9.1f} {api['p50']:>8.1f} {api['p99']:>8.1f}   "
                        f"{base['rps']:>10.1f} {base['p50']:>8.1f} {base['p99']:>8.1f}   "
                        f"{api['p50'] / base['p50']:>11.2f}x",
                        flush=True,
                    )
        finally:
            for process in servers:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
