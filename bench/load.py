"""Many clients at once, mixed reads and writes, against gunicorn on the embedded server.

    .venv/bin/python bench/load.py [--clients 32] [--seconds 60] [--workers 2] [--threads 8]

Loads the sample data (fixtures/) into a fresh embedded server, serves ``topbox.wsgi``
with gunicorn (gthread workers) and runs ``--clients`` concurrent clients for
``--seconds``, each on its own keep-alive connection, as its own user (throttles apply
per user, with the settings' defaults). Half are staff, half client users; each loops
over a mix: interaction detail, a client's interactions page, an engagement's
interactions in a date range, a client's stats, and (a quarter of a staff client's
steps) a write cycle: POST an interaction, PATCH it with If-Match, DELETE it. Prints
requests/s, p50 and p99 per kind and overall, and every error; exits non-zero if any
request failed (anything but the expected status, or no answer).
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT = "5f18d12f42262eec0d435570"  # in fixtures/: Acme, with engagements and interactions


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Client:
    """One simulated client: a keep-alive connection, a token, a random but seeded mix."""

    def __init__(self, port, token, staff, ids, seed):
        self.port, self.staff, self.ids = port, staff, ids
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        self.random = random.Random(seed)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None, expect=200):
        """Returns (status, headers, body); raises AssertionError on an unexpected status."""
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {**self.headers, **(headers or {})}
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=all_headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        if response.status != expect:
            raise AssertionError(f"{method} {path}: {response.status} {data[:200]!r}")
        return response.status, response.headers, data

    def step(self):
        """One operation of the mix: ``[(kind, callable)]`` to run and time one by one."""
        ids = self.ids
        choice = self.random.random()
        if self.staff and choice < 0.25:
            return self.write_cycle()
        reads = [
            ("detail", lambda: self.request("GET", f"/interactions/{self.random.choice(ids['interactions'])}")),
            ("client page", lambda: self.request("GET", f"/clients/{CLIENT}/interactions?page_size=20")),
            (
                "engagement range",
                lambda: self.request(
                    "GET",
                    f"/engagements/{self.random.choice(ids['engagements'])}/interactions"
                    "?from=2020-05-01&to=2020-06-01&page_size=20",
                ),
            ),
            ("client stats", lambda: self.request("GET", f"/clients/{CLIENT}/stats?from=2020-04-01&to=2020-07-01")),
        ]
        return [self.random.choice(reads)]

    def write_cycle(self):
        """POST an interaction, PATCH it (If-Match), DELETE it (If-Match): three steps."""
        engagement = self.random.choice(self.ids["engagements"])
        body = {"engagementId": engagement, "interactionDate": "2020-05-20T10:00:00Z", "agentName": "Load Test"}
        state = {}

        def create():
            _, headers, data = self.request("POST", "/interactions", body, expect=201)
            state.update(pk=json.loads(data)["_id"]["$oid"], etag=headers["ETag"])

        def update():
            _, headers, _ = self.request(
                "PATCH", f"/interactions/{state['pk']}", {"sentiment": "Positive"}, {"If-Match": state["etag"]}
            )
            state["etag"] = headers["ETag"]

        def delete():
            self.request("DELETE", f"/interactions/{state['pk']}", headers={"If-Match": state["etag"]}, expect=204)

        return [("create (POST)", create), ("update (PATCH)", update), ("delete (DELETE)", delete)]


def serve(port, env, workers, threads):
    command = [
        sys.executable, "-m", "gunicorn", "topbox.wsgi", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--log-level", "warning", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, command
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start on port {port}")


def run(clients, seconds):
    latencies, errors, lock = defaultdict(list), [], threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(client):
        while time.monotonic() < deadline:
            for kind, action in client.step():
                began = time.perf_counter()
                try:
                    action()
                except (AssertionError, OSError, http.client.HTTPException, KeyError, ValueError) as exc:
                    with lock:
                        errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    break  # the rest of a write cycle depends on this step
                with lock:
                    latencies[kind].append(time.perf_counter() - began)

    threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory() as scratch, EmbeddedMongo(free_port(), storage=f"{scratch}/mongo") as server:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "topbox.settings",
            "MONGO_URI": f"mongodb://127.0.0.1:{server.port}/load",
            "TOPBOX_DATA_DIR": scratch,
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # 32 clients queue at one embedded server process: what a request waits there is
            # the bench's load, not a slow query (the 1 s default answers those with 504).
            "MONGO_QUERY_TIMEOUT_MS": os.environ.get("MONGO_QUERY_TIMEOUT_MS", "10000"),
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        from clients.client_users import create_client_user
        from engagements.documents import Engagement
        from interactions.documents import Interaction
        from sampledata import seeding

        call_command("migrate", verbosity=0)
        call_command("ensure_indexes", verbosity=0)
        seeding.seed()
        # One user per client, as real clients are: the per-user throttle applies to each.
        tokens = [
            Token.objects.create(user=get_user_model().objects.create_user(f"load-staff-{n}", is_staff=True)).key
            if n % 2 == 0
            else create_client_user(f"load-client-{n}", CLIENT)[1]
            for n in range(args.clients)
        ]
        engagements = [str(pk) for pk in Engagement.objects(clientId=CLIENT).scalar("id")]
        ids = {
            "engagements": engagements,
            "interactions": [str(pk) for pk in Interaction.objects(engagementId__in=engagements).scalar("id")],
        }
        port = free_port()
        process, command = serve(port, env, args.workers, args.threads)
        try:
            clients = [Client(port, token, n % 2 == 0, ids, seed=n) for n, token in enumerate(tokens)]
            latencies, errors, elapsed = run(clients, args.seconds)
        finally:
            process.terminate()
            process.wait()

    everything = [value for values in latencies.values() for value in values]
    print(f"{' '.join(command[2:])}")
    print(f"{args.clients} concurrent clients (half staff, half a client user), {elapsed:.0f} s, "
          f"sample data ({len(ids['interactions'])} interactions of the client read)")  # fmt: skip
    print(f"{'kind':<18} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, values in [*sorted(latencies.items()), ("all", everything)]:
        if values:
            print(
                f"{kind:<18} {len(values):>9} {len(values) / elapsed:>8.1f} "
                f"{statistics.median(values) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}"
            )
    print(f"errors: {len(errors)}")
    for error in errors[:20]:
        print("  " + error)
    sys.exit(1 if errors or not everything else 0)


if __name__ == "__main__":
    main()
