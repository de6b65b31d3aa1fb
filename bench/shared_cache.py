"""What the shared cache costs per API request: the token lookup and the throttle counters.

    .venv/bin/python bench/shared_cache.py [--requests 1000]

For each cache (``locmem://``: per process, what Topbox had before; ``db://``: the
default, a table in the SQLite database; ``redis://``: when ``redis-server`` is
installed) and with the throttles on and off, a fresh interpreter serves
``GET /clients/<id>`` with a token through Django's test client (in process, no HTTP)
after a warm-up, and prints the median and mean time per request. The difference
between rows is what the cache adds; the MongoDB lookup is the same in each.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
THROTTLES_OFF = {"API_THROTTLE_USER": "off", "API_THROTTLE_FAILED_TOKENS": "off"}


def child(requests):
    """Runs in the fresh interpreter: time the requests, print the figures as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from sampledata.factories import make_client

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", is_staff=True)
    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    path = f"/clients/{make_client().pk}"
    for _ in range(50):
        assert api.get(path).status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = api.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(json.dumps({"p50": statistics.median(times) * 1000, "mean": statistics.fmean(times) * 1000}))


def run(label, environ, requests):
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as directory:
        env = {**os.environ, **environ, "TOPBOX_DATA_DIR": directory, "DJANGO_SETTINGS_MODULE": "topbox.settings"}
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--requests", str(requests)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{label}: {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"| {label} | {figures['p50']:.2f} | {figures['mean']:.2f} |", flush=True)


def main(requests):
    from devtools.embedded import EmbeddedMongo, free_port

    caches = [("locmem:// (per process)", "locmem://"), ("db:// (SQLite table, the default)", "db://")]
    redis = None
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode == 0:
        from devtools.redis import TemporaryRedis

        redis = TemporaryRedis().start()
        caches.append(("redis://", redis.url))
    try:
        with EmbeddedMongo(free_port()) as server:
            print(f"GET /clients/<id> with a token, in process, {requests} requests each; ms per request")
            print("| Cache, throttles | p50 | mean |")
            print("| --- | ---: | ---: |")
            for label, url in caches:
                # On: a user rate just above what the bench sends, so none is refused and
                # DRF's history of request times grows to --requests entries, as a user at
                # that rate would have it.
                rate = {"API_THROTTLE_USER": f"{requests + 100}/minute"}
                for throttles, extra in (("on", rate), ("off", THROTTLES_OFF)):
                    environ = {"CACHE_URL": url, "MONGO_URI": server.uri + "bench_cache", **extra}
                    run(f"{label}, throttles {throttles}", environ, requests)
    finally:
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.requests)
    else:
        main(arguments.requests)
