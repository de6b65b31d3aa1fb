"""The REST API under load, next to a minimal pymongo WSGI app making the same queries;
and the cost of a request in process, next to the bare query.

    .venv/bin/python bench/api.py [--sizes 10000,50000] [--seconds 5] [--concurrency 4]
                                  [--in-process-only] [--repeat 200]

Seeds synthetic interactions into an embedded server, then per size:

In process (no HTTP, no gunicorn: ``topbox.wsgi.application`` called directly, with a
token, as a program would send it): a detail GET (p50 over ``--repeat`` calls, taken in
alternating rounds with its baseline) next to the bare ``find_one`` plus encoding
(``topbox.extjson.dumps``: the bytes the API answers); then the first, the 20th and the
last page of ``/interactions`` (reached through ``next`` links) next to the cheapest raw
query that returns the same page (the page's own date range, both ends bounded) and the
open-ended keyset query (everything past the previous page's last row, sorted, limited).

Over HTTP (skipped with ``--in-process-only``): serves the app (``topbox.wsgi``) and the
baseline (``bench/baseline.py``) with the same gunicorn settings, and drives both with
concurrent HTTP clients: a detail, the first page, the last page (reached by cursor), a
filtered page (engagement + date range) and an expanded page. Prints, per endpoint and
size, requests/s, p50 and p99, and the API/baseline ratio of p50s.

The embedded server is much slower than mongod on sorted scans, so the absolute times
mostly measure it; the ratio is the figure that says what the API adds.
"""

import argparse
import datetime
import http.client
import io
import json
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


def wsgi_get(application, path, token):
    """GET ``path`` from the WSGI ``application`` in this process; return the body."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json", "REMOTE_ADDR": "127.0.0.1",
    }  # fmt: skip
    status = []
    response = application(environ, lambda code, headers: status.append(code))
    try:
        body = b"".join(response)
    finally:
        response.close()
    if not status[0].startswith("200"):
        raise SystemExit(f"GET {path}?{query} in process answered {status[0]}: {body[:300]!r}")
    return body


def alternating_p50(functions, repeat, rounds=9):
    """Call each function ``repeat`` times per round, the functions taking turns (so that
    a busy machine slows both alike); return each one's median time per call, in ms."""
    times = [[] for _ in functions]
    per_round = max(1, repeat // rounds)
    for _ in range(rounds):
        for function, measured in zip(functions, times, strict=True):
            for _ in range(per_round):
                started = time.perf_counter()
                function()
                measured.append(time.perf_counter() - started)
    return [statistics.median(measured) * 1000 for measured in times]


def in_process(size, token, repeat):
    """The detail GET and the first, 20th and last pages, in process, next to raw pymongo."""
    from interactions.documents import Interaction
    from topbox import extjson
    from topbox.wsgi import application

    collection = Interaction._get_collection()
    newest_first = [("interactionDate", -1), ("_id", -1)]
    detail = collection.find_one({}, sort=newest_first, skip=size // 2)["_id"]

    def bare():
        return extjson.dumps(collection.find_one({"_id": detail}), ensure_ascii=False).encode()

    def api():
        return wsgi_get(application, f"/interactions/{detail}", token)

    if api() != bare():
        raise SystemExit("detail: the API and find_one + encoding gave different bytes")
    api_ms, bare_ms = alternating_p50([api, bare], repeat)
    print(f"{size:>7} {'detail GET':<12} {api_ms:>9.3f} {bare_ms:>11.3f} {api_ms / bare_ms:>9.2f}x"
          f"   (find_one + extjson.dumps)", flush=True)  # fmt: skip

    # Pages: the API's own next links, then the raw queries that return the same rows.
    def raw(row):
        return extjson.loads(json.dumps(row))  # a row of the API's JSON as pymongo gives it

    pages, path, before = {}, "/interactions?page_size=50", None
    last_number = -(-size // 50)
    for number in range(1, min(20, last_number) + 1):
        body = json.loads(wsgi_get(application, path, token))
        rows = [raw(row) for row in body["results"]]
        pages[number] = (path, rows, before)
        before = rows[-1]
        path = "/" + body["next"].split("://", 1)[-1].partition("/")[2]
    before = collection.find_one({}, sort=newest_first, skip=size - 51)
    pages[last_number] = (
        targets(size)["last page"][0],
        list(collection.find({"interactionDate": {"$lt": before["interactionDate"]}}, sort=newest_first, limit=50)),
        before,
    )
    for number in sorted({1, min(20, last_number), last_number}):
        path, rows, before = pages[number]
        ids = [row["_id"] for row in rows]
        bounded = {"interactionDate": {"$gte": rows[-1]["interactionDate"], "$lte": rows[0]["interactionDate"]}}
        keyset = {"interactionDate": {"$lt": before["interactionDate"]}} if before else {}

        def api_page(path=path):
            return wsgi_get(application, path, token)

        def raw_bounded(bounded=bounded):
            return list(collection.find(bounded, sort=newest_first, limit=50))

        def raw_keyset(keyset=keyset):
            return list(collection.find(keyset, sort=newest_first, limit=50))

        if [raw(row)["_id"] for row in json.loads(api_page())["results"]] != ids:
            raise SystemExit(f"page {number}: the API's rows are not the expected ones")
        if [row["_id"] for row in raw_bounded()] != ids:
            raise SystemExit(f"page {number}: the bounded raw query does not return the page (ties at its ends?)")
        api_ms, bounded_ms, keyset_ms = alternating_p50([api_page, raw_bounded, raw_keyset], 9, rounds=3)
        print(f"{size:>7} {f'page {number}':<12} {api_ms:>9.1f} {bounded_ms:>11.1f} {api_ms / bounded_ms:>9.2f}x"
              f"   (raw: the page's date range; open-ended keyset {keyset_ms:.1f} ms)", flush=True)  # fmt: skip


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
    parser.add_argument("--repeat", type=int, default=450, help="in-process detail GETs per side")
    parser.add_argument("--in-process-only", action="store_true", help="skip the HTTP comparison")
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
        token = Token.objects.create(user=user).key
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        if args.in_process_only:
            for size in sizes:
                synthetic.generate(clients=3, engagements=10, interactions=size, random_seed=7)
                print(f"In process ({size} interactions): {'API ms':>9} {'raw ms':>11} {'ratio':>10}")
                in_process(size, token, args.repeat)
            return

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
                print(f"  in process: {'API ms':>9} {'raw ms':>11} {'ratio':>10}")
                in_process(size, token, args.repeat)
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
