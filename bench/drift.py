"""Do the stored counts drift under concurrency, crashes, stalls and retries? Figures, not a test.

    .venv/bin/python bench/drift.py [--interactions 100000] [--clients 32] [--seconds 90]
                                    [--seed 1] [--runs 1] [--storage DIR]

Per run (seed S, S+1, ...; a fresh server each time): one embedded server on disk, seeded
with ``manage.py seed --synthetic`` to ``--interactions``; a staff user with an API token;
``topbox.wsgi`` under gunicorn (2 gthread workers, 4 threads, 127.0.0.1 only, DEBUG off,
user throttle off). Then, for ``--seconds``:

- ``--clients`` threads, each on its own keep-alive connection, doing a random mix of
  POST / PUT / PATCH (with and without ``If-Match``, its ETag from a GET) / DELETE of
  interactions, and POST / PATCH / DELETE of clients and engagements. Every write carries a
  unique marker (``custom.marker``, or the end of a client's or engagement's name); every
  POST an ``Idempotency-Key``. A request that fails with no answer, 429, 502, 503 or 504
  is sent again (same body, same key), up to 5 more times with backoff; a DELETE that then
  gets 404 is done. Each thread deletes only what it created or its own share of the
  seeded interactions (so a document gone is that thread's doing); a hot set of seeded
  interactions is updated by every thread at once; any thread may add interactions to
  any engagement a thread created (while its creator may be deleting it).
- beside them, small CSV imports (``POST /engagements/<id>/imports``), one after another.
- faults, each at a random time: ``kill -9`` of a gunicorn worker; ``manage.py ingest`` of
  a few thousand rows killed (-9) midway, later run again to completion; ``seed
  --synthetic`` adding a quarter of ``--interactions`` killed (-9) midway, later run again
  to completion; the database stopped (SIGSTOP) for 3-5 s, then SIGCONT.

Then it waits for in-flight requests and the reruns (:func:`recover` says why there is
nothing else to wait for), stops the web server and prints:

1. check differences: what ``manage.py rebuild_rollups --check`` reports (0 when it passes);
2. orphans: interactions whose engagement is gone, engagements whose client is gone;
3. retry duplicates: documents carrying one POST's marker beyond the one it answered with
   (or beyond the first, for a POST answered with an error), and CSV rows stored twice;
4. errors that changed data: requests whose final answer was an error (4xx/5xx: 400 for a
   parent deleted meanwhile, 404, 409 for a parent with children, 412 for a stale
   ``If-Match`` included, as each of those means "nothing changed") yet whose effect is in
   the data: a POST's marker exists, a PUT's/PATCH's marker is on its document, a
   DELETE's target is gone, an import's rows are stored.

plus requests by final status, retries, the faults done, the 500s' tracebacks (last lines)
and each phase's time. A request still unanswered after its retries, or answered last with
503 "outcome unknown", is counted apart (it was never told that nothing changed). Exits 1
if any of the four figures is non-zero in any run.

The web server keeps the product's request deadlines (``MONGO_QUERY_TIMEOUT_MS``, 1 s), so
a busy or stopped database gives 503/504s, as in production; the commands wait for it.
With ``--storage DIR`` each run's data and logs stay in ``DIR/run-<seed>/``: the server's,
gunicorn's (``web.log``), each command's, and ``requests.jsonl`` (every write, its attempts'
statuses and its final answer). Every process started is stopped at the end, on an error,
on Ctrl-C and on SIGTERM.
"""

import argparse
import collections
import contextlib
import csv
import datetime
import http.client
import io
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bson import ObjectId  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from devtools.embedded import free_port  # noqa: E402

RETRY_STATUSES = {429, 502, 503, 504}
MAX_ATTEMPTS = 6  # the first and up to 5 retries
HTTP_TIMEOUT = 20  # seconds a client waits for one answer (gunicorn's worker timeout is 30)
RETRY_GRACE = 60  # seconds after the traffic phase during which a failed request is still retried
SETTLE_TIMEOUT = 600  # seconds to wait, at most, for the reruns of the killed commands
WORKERS, THREADS = 2, 4
INGEST_ROWS = 5000
FIRST_NAMES = ("John", "Wei", "Priya", "Carlos", "Amara", "Lucas", "Sofia", "Kenji")
LAST_NAMES = ("Ford", "Tanaka", "Smith", "Chen", "Okafor", "Silva")
SENTIMENTS = ("Positive", "Negative", "Neutral", "Mixed", None)
YEAR_START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
PERIOD_SECONDS = 366 * 24 * 3600


# --- processes: everything started is stopped, whatever happens -----------------------------


class Processes:
    """The child processes of a run, each in a session of its own; :meth:`stop_all` ends
    them (the database first resumed, should it be stopped)."""

    def __init__(self):
        self.started = []
        self.lock = threading.Lock()
        self.closed = False

    def start(self, command, log_path, env, **kwargs):
        if self.closed:  # a fault's thread, after the run was stopped
            raise RuntimeError("the run is over: no more processes")
        log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it open
        try:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
            )
        finally:
            log.close()
        with self.lock:
            self.started.append(process)
            closed = self.closed
        if closed:  # stop_all ran meanwhile
            self.stop(process)
        return process

    def stop(self, process, timeout=15):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def stop_all(self):
        with self.lock:
            self.closed = True
            started = list(reversed(self.started))  # the server, started first, stops last
        for process in started:
            with contextlib.suppress(Exception):
                self.stop(process)
        for process in started:  # what a killed process group left (a gunicorn worker)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_for(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def children(pid):
    """The pids whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


# --- the site: server, data, user, web ------------------------------------------------------


class Site:
    def __init__(self, directory, processes, interactions, seed):
        self.dir = Path(directory)
        self.processes = processes
        self.interactions = interactions
        self.seed = seed
        self.mongo_port = free_port()
        self.web_port = free_port()
        self.uri = f"mongodb://127.0.0.1:{self.mongo_port}/drift"
        self.server = self.web = None
        base = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "topbox.settings",
            "MONGO_URI": self.uri,
            "TOPBOX_DATA_DIR": str(self.dir),
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_LOG_LEVEL": "ERROR",  # the log keeps the 500s' tracebacks, not every 4xx
            "API_THROTTLE_USER": "off",
        }
        base.pop("DJANGO_ENV", None)
        self.web_env = base
        # Commands (seed, ingest, the check) wait for a busy or stopped server rather than give up.
        self.command_env = {
            **base,
            "MONGO_QUERY_TIMEOUT_MS": "3600000",
            "MONGO_SOCKET_TIMEOUT_MS": "3600000",
            "MONGO_TIMEOUT_MS": "60000",
        }

    def log(self, name):
        return self.dir / f"{name}.log"

    def start_server(self):
        storage = self.dir / "mongo"
        storage.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(self.mongo_port),
            "--storage-path", str(storage), "--log-level", "WARNING",
            # DESIGN.md: a big seed stalls on a small cache and on pruning the oplog.
            "--cache-size", "2G", "--oplog-max-entries", str(max(1_000_000, 4 * self.interactions)),
        ]  # fmt: skip
        self.server = self.processes.start(command, self.log("mongo"), self.web_env)
        client = MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:

            def ready():
                if self.server.poll() is not None:
                    raise SystemExit(f"The embedded server exited; see {self.log('mongo')}")
                try:
                    client.admin.command("ping")
                    return True
                except Exception:
                    return False

            if not wait_for(ready, 60):
                raise SystemExit("The embedded server did not answer within 60 s")
        finally:
            client.close()
        self.db = MongoClient(self.uri, serverSelectionTimeoutMS=60_000, socketTimeoutMS=3_600_000).get_database()

    def manage(self, *arguments, timeout=1800, log=None):
        """Run a manage.py command to its end; return (return code, its output)."""
        path = self.log(log or arguments[0])
        start = path.stat().st_size if path.exists() else 0
        process = self.processes.start([sys.executable, "manage.py", *arguments], path, self.command_env)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.processes.stop(process)
            raise SystemExit(f"manage.py {' '.join(arguments)} took over {timeout} s; see {path}") from None
        with path.open("rb") as file:
            file.seek(start)
            output = file.read().decode("utf-8", "replace")
        return process.returncode, output

    def manage_ok(self, *arguments, **kwargs):
        code, output = self.manage(*arguments, **kwargs)
        if code:
            raise SystemExit(f"manage.py {' '.join(arguments)} exited with {code}:\n{output[-2000:]}")
        return output

    def prepare(self):
        self.manage_ok("migrate", "--noinput", "--verbosity", "0")
        self.manage_ok("ensure_indexes", "--verbosity", "0")
        self.manage_ok(
            "seed", "--synthetic", "--interactions", str(self.interactions), "--clients", "20",
            "--engagements", "100", "--random-seed", "1",
        )  # fmt: skip
        script = (
            "from django.contrib.auth import get_user_model\n"
            "from rest_framework.authtoken.models import Token\n"
            "user = get_user_model().objects.create_user('drift', is_staff=True)\n"
            "print('TOKEN', Token.objects.create(user=user).key)\n"
        )
        output = self.manage_ok("shell", "-c", script, log="token")
        self.token = re.search(r"TOKEN (\w+)", output).group(1)

    def start_web(self):
        command = [
            sys.executable, "-m", "gunicorn", "topbox.wsgi", "--workers", str(WORKERS), "--threads", str(THREADS),
            "--worker-class", "gthread", "--bind", f"127.0.0.1:{self.web_port}", "--log-level", "warning",
        ]  # fmt: skip
        self.web = self.processes.start(command, self.log("web"), self.web_env)

        def healthy():
            if self.web.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log('web')}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=2)
                connection.request("GET", "/healthz")
                return connection.getresponse().status == 200
            except OSError:
                return False

        if not wait_for(healthy, 90):
            raise SystemExit(f"gunicorn did not answer on port {self.web_port}")

    def stop_web(self):
        if self.web is not None:
            self.processes.stop(self.web, timeout=30)


# --- requests and what they claim ---------------------------------------------------------


@dataclass
class Request:
    kind: str  # "interaction", "engagement", "client", "import"
    method: str
    target: str | None = None  # the id written or deleted
    marker: str | None = None  # what the write leaves in the data
    if_match: bool = False
    statuses: list = field(default_factory=list)  # per attempt: a status, or None (no answer)
    created: str | None = None  # the id a POST answered with
    rows: int = 0  # an import's rows
    body: str = ""  # the start of the final answer's body
    at: float = 0.0  # when it was sent (time.monotonic())

    @property
    def final(self):
        return self.statuses[-1] if self.statuses else None

    @property
    def done(self):
        """Whether the client takes it as done: a 2xx, or a DELETE's 404 after a retry."""
        status = self.final
        if status is not None and 200 <= status < 300:
            return True
        return self.method == "DELETE" and status == 404 and len(self.statuses) > 1

    @property
    def unknown(self):
        """Answered, finally, with "outcome unknown" (a 503 that says it may have been applied)."""
        return self.final == 503 and '"outcome":"unknown"' in self.body.replace(" ", "")

    @property
    def failed(self):
        """Answered, finally, with an error (a DELETE's plain 404: nothing was there to delete)."""
        status = self.final
        if status is None or self.done or self.unknown:
            return False
        return not (self.method == "DELETE" and status == 404)


class Shared:
    """What the client threads share: the seeded ids, the engagements created, the log."""

    def __init__(self, clients, engagements, hot):
        self.seeded_clients = clients
        self.seeded_engagements = engagements
        self.hot = hot  # seeded interactions every thread updates
        self.hot_etags = {}
        self.pool = []  # engagements created by the bench: any thread may add interactions to them
        self.lock = threading.Lock()
        self.requests = []
        self.reads = collections.Counter()

    def record(self, request):
        with self.lock:
            self.requests.append(request)


class Client(threading.Thread):
    """One API client: its own connection, its own random mix, a real client's retries."""

    def __init__(self, number, site, shared, owned, seed, deadline, hard_stop):
        super().__init__(daemon=True, name=f"client-{number}")
        self.number, self.shared = number, shared
        self.port = site.web_port
        self.headers = {"Authorization": f"Token {site.token}", "Accept": "application/json"}
        self.random = random.Random(f"{seed}-{number}")
        self.deadline, self.hard_stop = deadline, hard_stop
        self.connection = None
        self.counter = 0
        self.seeded = owned  # seeded interactions only this thread deletes
        self.interactions = []  # created by this thread
        self.clients = []
        self.engagements = []
        self.retired = set()  # touched by no one after a write answered with an error

    # HTTP

    def _once(self, method, path, payload, headers):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response, data

    def call(self, method, path, body=None, headers=None, content_type="application/json", statuses=None):
        """Send until answered with anything but a retryable failure (at most MAX_ATTEMPTS);
        return (status or None, response, body). ``statuses`` gets every attempt's status."""
        statuses = [] if statuses is None else statuses
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {**self.headers, **(headers or {})}
        if payload is not None:
            headers["Content-Type"] = content_type
        response = data = None
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                if time.monotonic() > self.hard_stop:
                    break
                retry_after = response.getheader("Retry-After") if response is not None else None
                pause = min(4.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + self.random.random())
                if retry_after and retry_after.isdigit():
                    pause = max(pause, min(10, int(retry_after)))
                time.sleep(pause)
            try:
                status, response, data = self._once(method, path, payload, headers)
            except (OSError, http.client.HTTPException):
                statuses.append(None)
                response = data = None
                continue
            statuses.append(status)
            if status not in RETRY_STATUSES:
                break
        return (statuses[-1] if statuses else None), response, data or b""

    def write(self, request, path, body=None, headers=None, **kwargs):
        request.at = time.monotonic()
        status, response, data = self.call(request.method, path, body, headers, statuses=request.statuses, **kwargs)
        request.body = data[:300].decode("utf-8", "replace")
        self.shared.record(request)
        return status, response, data

    def etag(self, path):
        """The ETag of a GET (with its retries), or None."""
        statuses = []
        status, response, _ = self.call("GET", path, statuses=statuses)
        with self.shared.lock:
            self.shared.reads[status] += 1
        return response.getheader("ETag") if status == 200 else None

    # the mix

    def marker(self):
        self.counter += 1
        return f"d{self.number}x{self.counter}x{uuid.uuid4().hex[:8]}"

    def run(self):
        operations = [
            (self.post_interaction, 22), (self.put_interaction, 12), (self.patch_interaction, 20),
            (self.delete_interaction, 10), (self.post_client, 3), (self.patch_client, 3), (self.delete_client, 3),
            (self.post_engagement, 5), (self.patch_engagement, 3), (self.delete_engagement, 5),
            (self.delete_seeded_parent, 1),
        ]  # fmt: skip
        functions, weights = zip(*operations, strict=True)
        for _ in range(1_000_000):  # bounded by the deadline, and by count
            if time.monotonic() >= self.deadline:
                break
            self.random.choices(functions, weights)[0]()
        if self.connection is not None:
            self.connection.close()

    def when(self):
        moment = YEAR_START + datetime.timedelta(seconds=self.random.randrange(PERIOD_SECONDS))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def agent(self):
        if self.random.random() < 0.05:
            return None
        return f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"

    def any_engagement(self, pool_share=0.25):
        with self.shared.lock:
            pool = list(self.shared.pool)
        if pool and self.random.random() < pool_share:
            return self.random.choice(pool)
        return self.random.choice(self.shared.seeded_engagements)

    def interaction_target(self, deleting=False):
        """(id, hot): one of this thread's, or (not to delete) one of the hot set."""
        if not deleting and self.random.random() < 0.35:
            return self.random.choice(self.shared.hot), True
        mine = [pk for pk in self.interactions if pk not in self.retired]
        if mine and self.random.random() < 0.6:
            return self.random.choice(mine), False
        seeded = [pk for pk in self.seeded if pk not in self.retired]
        return (self.random.choice(seeded), False) if seeded else (None, False)

    def conditional_target(self, deleting=False):
        """``(id, hot, path, headers, If-Match sent)`` of an interaction to write (see
        :meth:`interaction_target` and :meth:`if_match`), or None if there is none."""
        pk, hot = self.interaction_target(deleting)
        if pk is None:
            return None
        path = f"/interactions/{pk}"
        headers, sent = self.if_match(path, pk, hot)
        return None if headers is None else (pk, hot, path, headers, sent)

    def if_match(self, path, pk, hot):
        """Headers with If-Match half the time (a fresh ETag, or for the hot set sometimes one
        read earlier, likely stale), and whether it was sent; None if the GET failed."""
        if self.random.random() < 0.5:
            return {}, False
        if hot and pk in self.shared.hot_etags and self.random.random() < 0.5:
            return {"If-Match": self.shared.hot_etags[pk]}, True
        etag = self.etag(path)
        if etag is None:
            return None, False
        if hot:
            self.shared.hot_etags[pk] = etag
        return {"If-Match": etag}, True

    def conclude(self, request, pk):
        """After a write answered with an error, no one writes ``pk`` again: its final state
        says whether that write landed (the hot set, shared, is judged by its markers only)."""
        if request.failed or request.final is None:
            self.retired.add(pk)

    def post_interaction(self):
        marker = self.marker()
        body = {
            "engagementId": self.any_engagement(),
            "interactionDate": self.when(),
            "agentName": self.agent(),
            "sentiment": self.random.choice(SENTIMENTS),
            "custom": {"marker": marker, "note": "drift bench"},
        }
        request = Request("interaction", "POST", marker=marker)
        status, _, data = self.write(request, "/interactions", body, {"Idempotency-Key": str(uuid.uuid4())})
        if status == 201:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                request.created = json.loads(data)["_id"]["$oid"]
                self.interactions.append(request.created)

    def put_interaction(self):
        if (target := self.conditional_target()) is None:
            return
        pk, hot, path, headers, sent = target
        marker = self.marker()
        body = {
            "engagementId": self.random.choice(self.shared.seeded_engagements) if hot else self.any_engagement(0.1),
            "interactionDate": self.when(),
            "agentName": self.agent(),
            "sentiment": self.random.choice(SENTIMENTS),
            "custom": {"marker": marker, "note": "drift bench, replaced"},
        }
        request = Request("interaction", "PUT", target=pk, marker=marker, if_match=sent)
        self.write(request, path, body, headers)
        if not hot:
            self.conclude(request, pk)

    def patch_interaction(self):
        if (target := self.conditional_target()) is None:
            return
        pk, hot, path, headers, sent = target
        marker = self.marker()
        body = {"custom": {"marker": marker, "note": "drift bench, patched"}}
        choices = {
            "sentiment": lambda: self.random.choice(SENTIMENTS),
            "agentName": self.agent,
            "interactionDate": self.when,
            "engagementId": lambda: self.random.choice(self.shared.seeded_engagements),
        }
        for name in self.random.sample(sorted(choices), self.random.randint(1, 3)):
            if name != "engagementId" or self.random.random() < 0.3:
                body[name] = choices[name]()
        request = Request("interaction", "PATCH", target=pk, marker=marker, if_match=sent)
        self.write(request, path, body, headers)
        if not hot:
            self.conclude(request, pk)

    def delete_interaction(self):
        if (target := self.conditional_target(deleting=True)) is None:
            return
        pk, _, path, headers, sent = target
        request = Request("interaction", "DELETE", target=pk, if_match=sent)
        self.write(request, path, headers=headers)
        self.conclude(request, pk)
        if request.done:
            self.retired.add(pk)  # gone: not written again

    def post_client(self):
        marker = self.marker()
        request = Request("client", "POST", marker=marker)
        status, _, data = self.write(
            request, "/clients", {"name": f"Drift client {marker}", "nickName": "Drift"},
            {"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if status == 201:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                request.created = json.loads(data)["_id"]["$oid"]
                self.clients.append(request.created)

    def patch_client(self):
        self.patch_parent("client", "/clients", self.clients, "Drift client")

    def delete_client(self):
        self.delete_parent("client", "/clients", self.clients)

    def post_engagement(self):
        marker = self.marker()
        mine = [pk for pk in self.clients if pk not in self.retired]
        client = self.random.choice(mine) if mine and self.random.random() < 0.5 else None
        client = client or self.random.choice(self.shared.seeded_clients)
        request = Request("engagement", "POST", marker=marker)
        status, _, data = self.write(
            request, "/engagements", {"clientId": client, "name": f"Drift {marker}"},
            {"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if status == 201:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                request.created = json.loads(data)["_id"]["$oid"]
                self.engagements.append(request.created)
                with self.shared.lock:
                    self.shared.pool.append(request.created)

    def patch_engagement(self):
        self.patch_parent("engagement", "/engagements", self.engagements, "Drift")

    def delete_engagement(self):
        gone = self.delete_parent("engagement", "/engagements", self.engagements)
        if gone:
            with self.shared.lock, contextlib.suppress(ValueError):
                self.shared.pool.remove(gone)

    def patch_parent(self, kind, route, owned, prefix):
        mine = [pk for pk in owned if pk not in self.retired]
        if not mine:
            return
        pk = self.random.choice(mine)
        path = f"{route}/{pk}"
        headers, sent = self.if_match(path, pk, False)
        if headers is None:
            return
        marker = self.marker()
        request = Request(kind, "PATCH", target=pk, marker=marker, if_match=sent)
        self.write(request, path, {"name": f"{prefix} {marker}"}, headers)
        self.conclude(request, pk)

    def delete_parent(self, kind, route, owned):
        """DELETE one of this thread's clients or engagements (409 when it has children);
        return its id if it is gone."""
        mine = [pk for pk in owned if pk not in self.retired]
        if not mine:
            return None
        pk = self.random.choice(mine)
        path = f"{route}/{pk}"
        headers, sent = self.if_match(path, pk, False)
        if headers is None:
            return None
        request = Request(kind, "DELETE", target=pk, if_match=sent)
        self.write(request, path, headers=headers)
        self.conclude(request, pk)
        if request.done:
            self.retired.add(pk)
            return pk
        return None

    def delete_seeded_parent(self):
        """A seeded engagement or client: it has children, so 409 and nothing deleted."""
        if self.random.random() < 0.5:
            kind, route, pk = "engagement", "/engagements", self.random.choice(self.shared.seeded_engagements)
        else:
            kind, route, pk = "client", "/clients", self.random.choice(self.shared.seeded_clients)
        self.write(Request(kind, "DELETE", target=pk), f"{route}/{pk}")


class Importer(Client):
    """Small CSV imports, one after another, to seeded and created engagements."""

    def run(self):
        for number in range(1_000_000):
            if time.monotonic() >= self.deadline:
                break
            name = f"drift-import-{self.number}-{number}.csv"
            rows = self.random.randint(20, 80)
            engagement = self.any_engagement(0.4)
            request = Request("import", "POST", target=engagement, marker=name, rows=rows)
            self.write(
                request, f"/engagements/{engagement}/imports?name={name}", csv_file(self.random, rows),
                {"Idempotency-Key": str(uuid.uuid4())}, content_type="text/csv",
            )  # fmt: skip
            time.sleep(self.random.uniform(0.2, 1.0))


def csv_file(rng, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["interactionDate", "agentFirstName", "agentLastName", "sentiment", "callerRegion"])
    for _ in range(rows):
        moment = YEAR_START + datetime.timedelta(seconds=rng.randrange(PERIOD_SECONDS))
        sentiment = rng.choice(SENTIMENTS) or ""
        writer.writerow(
            [moment.strftime("%Y-%m-%dT%H:%M:%SZ"), rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), sentiment, "NY"]
        )
    return out.getvalue().encode()


# --- faults --------------------------------------------------------------------------------


class Faults:
    """The four faults, each on its own thread at a time drawn from the run's seed."""

    def __init__(self, site, rng, started, seconds, stop):
        self.site, self.rng, self.started, self.seconds, self.stop = site, rng, started, seconds, stop
        self.notes = []
        self.reruns = []  # threads that run a killed command again
        self.stall = 0.0
        self.kills = collections.Counter()
        self.threads = []
        self.lock = threading.Lock()
        self.ingest_engagement = None

    def note(self, text):
        with self.lock:
            self.notes.append(f"{time.monotonic() - self.started:5.1f} s  {text}")

    def at(self, fraction_low, fraction_high):
        return self.started + self.seconds * self.rng.uniform(fraction_low, fraction_high)

    def sleep_until(self, moment):
        self.stop.wait(max(0.0, moment - time.monotonic()))
        return not self.stop.is_set()

    def start(self, engagements):
        self.ingest_engagement = self.rng.choice(engagements)
        plan = [
            (self.kill_worker, self.at(0.1, 0.7)),
            (self.kill_ingest, self.at(0.1, 0.5)),
            (self.kill_seed, self.at(0.05, 0.4)),
            (self.stall_database, self.at(0.15, 0.75)),
        ]
        for function, moment in plan:
            thread = threading.Thread(target=self._guard, args=(function, moment), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _guard(self, function, moment):
        try:
            function(moment)
        except (Exception, SystemExit) as exc:  # a fault that failed is a note, never a crash of the bench
            self.note(f"{getattr(function, '__name__', 'rerun')} failed: {type(exc).__name__}: {exc}")

    def kill_worker(self, moment):
        if not self.sleep_until(moment):
            return
        workers = children(self.site.web.pid)
        if not workers:
            self.note("no gunicorn worker to kill")
            return
        victim = self.rng.choice(sorted(workers))
        os.kill(victim, signal.SIGKILL)
        self.kills["web worker"] += 1
        self.note(f"kill -9 gunicorn worker {victim}")

    def stall_database(self, moment):
        if not self.sleep_until(moment):
            return
        seconds = self.rng.uniform(3, 5)
        pid = self.site.server.pid
        began = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        try:
            self.note(f"SIGSTOP database for {seconds:.1f} s")
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.stall = time.monotonic() - began
        self.note("SIGCONT database")

    def kill_ingest(self, moment):
        if not self.sleep_until(moment):
            return
        name = f"drift-ingest-{self.site.seed}.csv"
        path = self.site.dir / name
        path.write_bytes(csv_file(random.Random(self.rng.random()), INGEST_ROWS))
        arguments = ["ingest", str(path), "--engagement", self.ingest_engagement, "--batch-size", "500"]
        target = int(INGEST_ROWS * self.rng.uniform(0.2, 0.7))
        counter = MongoClient(self.site.uri, serverSelectionTimeoutMS=10_000).get_database()["interaction"]
        query = {"engagementId": ObjectId(self.ingest_engagement), "custom.csvName": name}
        try:
            self._kill_midway(
                "ingest", arguments, lambda: counter.count_documents(query) >= target, f"{target:,} rows stored"
            )
        finally:
            counter.database.client.close()

    def kill_seed(self, moment):
        if not self.sleep_until(moment):
            return
        total = max(2000, self.site.interactions // 4)
        arguments = [
            "seed", "--synthetic", "--interactions", str(total), "--clients", "2", "--engagements", "6",
            "--random-seed", str(10_000 + self.site.seed),
        ]  # fmt: skip
        percent = self.rng.choice((20, 30, 40, 50, 60))
        log = self.site.log("seed-fault")

        def reached():
            text = log.read_text(errors="replace") if log.exists() else ""
            return any(int(p) >= percent for p in re.findall(r"\((\d+)%\)", text))

        self._kill_midway("seed", arguments, reached, f"{percent}% reported", log="seed-fault")

    def _kill_midway(self, label, arguments, reached, what, log=None):
        log = log or f"{label}-fault"
        path = self.site.log(log)
        process = self.site.processes.start([sys.executable, "manage.py", *arguments], path, self.site.command_env)
        self.note(f"started manage.py {' '.join(arguments[:2])} (pid {process.pid})")
        deadline = time.monotonic() + max(120, self.seconds)
        got_there = False
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if got_there := reached():
                    break
            time.sleep(0.2)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.kills[label] += 1
            self.note(f"kill -9 {label} at {what}" if got_there else f"kill -9 {label} at its deadline, before {what}")
        else:
            self.note(f"{label} ended (code {process.returncode}) before it could be killed")
        rerun_at = time.monotonic() + self.rng.uniform(5, 15)
        thread = threading.Thread(
            target=self._guard, args=(lambda _: self._rerun(label, arguments, rerun_at, log), None), daemon=True
        )
        thread.start()
        with self.lock:
            self.reruns.append(thread)

    def _rerun(self, label, arguments, moment, log):
        self.stop.wait(max(0.0, moment - time.monotonic()))  # after the traffic at the latest
        code, output = self.site.manage(*arguments, timeout=SETTLE_TIMEOUT, log=f"{log}-rerun")
        lines = output.strip().splitlines() or [""]
        summary = next((line for line in reversed(lines) if "added" in line), lines[-1])
        self.note(f"{label} run again: exit {code}: {summary[:200]}")

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        with self.lock:
            reruns = list(self.reruns)
        for thread in reruns:
            thread.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in [*self.threads, *reruns])


# --- after the traffic ------------------------------------------------------------------------


def recover(site):
    """The product's automatic recovery, given its chance before anything is measured.

    There is nothing to finish: every write commits with its counts in one transaction, so
    a process killed mid-write leaves an open transaction that commits nothing (the server
    aborts it 60 s after its last statement, as mongod does) and the check below reads
    committed data only. Measured at once, then.
    """


def check_differences(site):
    code, output = site.manage("rebuild_rollups", "--check", log="check")
    if code == 0:
        return 0, ""
    numbers = [int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*)[^\d\n]*?differ", output)]
    summary = next((line for line in output.splitlines() if "differ" in line), output.strip()[-300:])
    return (sum(numbers) if numbers else max(1, len(output.strip().splitlines()))), summary[:300]


def measure(site, shared):
    """The four figures and what they are made of."""
    db = site.db
    clients = {str(doc["_id"]): doc.get("name") or "" for doc in db["client"].find({}, {"name": 1})}
    engagements = {
        str(doc["_id"]): (str(doc.get("clientId")), doc.get("name") or "")
        for doc in db["engagement"].find({}, {"clientId": 1, "name": 1})
    }
    # One pass over every interaction: which exist, their markers, engagements and CSV rows.
    present, marker_of, by_marker = set(), {}, collections.defaultdict(list)
    orphan_interactions = 0
    csv_rows = collections.Counter()
    csv_lines = collections.Counter()
    projection = {"engagementId": 1, "custom.marker": 1, "custom.csvName": 1, "custom.csvLine": 1}
    for doc in db["interaction"].find({}, projection, batch_size=5000):
        pk = str(doc["_id"])
        present.add(pk)
        if str(doc.get("engagementId")) not in engagements:
            orphan_interactions += 1
        custom = doc.get("custom") or {}
        marker = custom.get("marker") if isinstance(custom, dict) else None
        if marker:
            marker_of[pk] = marker
            by_marker[marker].append(pk)
        name = custom.get("csvName") if isinstance(custom, dict) else None
        if isinstance(name, str) and name.startswith("drift-"):
            csv_rows[(str(doc.get("engagementId")), name)] += 1
            csv_lines[(str(doc.get("engagementId")), name, custom.get("csvLine"))] += 1
    orphan_engagements = sum(1 for client, _ in engagements.values() if client not in clients)

    def name_marker(name):
        return name.rsplit(" ", 1)[-1] if name.startswith("Drift") else None

    parent_marker = {"client": {}, "engagement": {}}
    parents_by_marker = {"client": collections.defaultdict(list), "engagement": collections.defaultdict(list)}
    for pk, name in clients.items():
        if marker := name_marker(name):
            parent_marker["client"][pk] = marker
            parents_by_marker["client"][marker].append(pk)
    for pk, (_, name) in engagements.items():
        if marker := name_marker(name):
            parent_marker["engagement"][pk] = marker
            parents_by_marker["engagement"][marker].append(pk)
    exists = {"interaction": present, "client": clients.keys(), "engagement": engagements.keys()}
    markers = {"interaction": marker_of, **parent_marker}
    found = {"interaction": by_marker, **parents_by_marker}

    duplicates = sum(count - 1 for count in csv_lines.values() if count > 1)
    changed, examples, no_answer_changed = collections.Counter(), [], 0
    for request in shared.requests:
        effect = False
        if request.kind == "import":
            stored = csv_rows.get((request.target, request.marker), 0)
            effect = stored > 0
        elif request.method == "POST":
            docs = found[request.kind].get(request.marker, [])
            effect = bool(docs)
            if request.created:
                duplicates += sum(1 for pk in docs if pk != request.created)
            else:
                duplicates += max(0, len(docs) - 1)
        elif request.method in ("PUT", "PATCH"):
            effect = markers[request.kind].get(request.target) == request.marker
        elif request.method == "DELETE":
            effect = request.target not in exists[request.kind]
        if effect and request.failed:
            first = request.statuses[0]
            answered = f"{request.final}" + (f" after {first or 'no answer'}" if len(request.statuses) > 1 else "")
            changed[f"{request.method} {request.kind} answered {answered}"] += 1
            if len(examples) < 5:
                examples.append(
                    f"{request.method} {request.kind} {request.target or request.marker} answered "
                    f"{request.statuses}: {request.body[:100]!r}"
                )
        elif effect and (request.final is None or request.unknown):
            no_answer_changed += 1
    return {
        "orphans": orphan_interactions + orphan_engagements,
        "orphan interactions": orphan_interactions,
        "orphan engagements": orphan_engagements,
        "duplicates": duplicates,
        "changed": sum(changed.values()),
        "changed by answer": changed,
        "examples": examples,
        "no answer, changed": no_answer_changed,
        "interactions": len(present),
    }


def server_errors(log_path, limit=5):
    """The 500s' tracebacks in gunicorn's log: their last lines, most frequent first."""
    if not log_path.exists():
        return [], []
    text = log_path.read_text(errors="replace")
    found = collections.Counter()
    for block in re.split(r"\n(?=\S)", text):
        lines = block.strip().splitlines()
        if lines and lines[0].startswith(("Internal Server Error", "Traceback")):
            tail = [line.strip() for line in lines if line.strip()][-3:]
            found[" | ".join(tail)] += 1
    gunicorn = [line.strip() for line in text.splitlines() if "[CRITICAL]" in line or "[ERROR]" in line]
    return found.most_common(limit), gunicorn[:limit]


# --- one run ---------------------------------------------------------------------------------


def pick_seeded(db, rng, wanted):
    """About ``wanted`` seeded interaction ids, a day of 2024 at a time (an indexed range)."""
    days = list(range(366))
    rng.shuffle(days)
    ids = []
    for day in days:
        start = YEAR_START + datetime.timedelta(days=day)
        query = {"interactionDate": {"$gte": start, "$lt": start + datetime.timedelta(days=1)}}
        ids += [str(doc["_id"]) for doc in db["interaction"].find(query, {"_id": 1})]
        if len(ids) >= wanted:
            break
    rng.shuffle(ids)
    return ids[:wanted]


def run_once(args, seed, directory):
    rng = random.Random(seed)
    processes = Processes()
    times = {}
    began = time.monotonic()
    stop = threading.Event()
    try:
        site = Site(directory, processes, args.interactions, seed)
        site.start_server()
        site.prepare()
        site.start_web()
        db = site.db
        seeded_clients = [str(pk) for pk in db["client"].distinct("_id")]
        seeded_engagements = [str(pk) for pk in db["engagement"].distinct("_id")]
        ids = pick_seeded(db, rng, 64 + 40 * args.clients)
        hot, rest = ids[:64], ids[64:]
        shared = Shared(seeded_clients, seeded_engagements, hot)
        times["setup"] = time.monotonic() - began
        print(
            f"run seed={seed}: {args.interactions:,} interactions seeded, gunicorn {WORKERS}x{THREADS} on "
            f"127.0.0.1:{site.web_port}, database 127.0.0.1:{site.mongo_port}, setup {times['setup']:.0f} s",
            flush=True,
        )

        started = time.monotonic()
        deadline = started + args.seconds
        hard_stop = deadline + RETRY_GRACE
        clients = [
            Client(n, site, shared, rest[n :: args.clients], seed, deadline, hard_stop) for n in range(args.clients)
        ]
        importer = Importer(args.clients, site, shared, [], seed, deadline, hard_stop)
        faults = Faults(site, rng, started, args.seconds, stop)
        faults.start(seeded_engagements)
        for thread in [*clients, importer]:
            thread.start()
        for thread in [*clients, importer]:
            thread.join(max(0.1, hard_stop + MAX_ATTEMPTS * HTTP_TIMEOUT - time.monotonic()))
        stuck = sum(thread.is_alive() for thread in [*clients, importer])
        times["traffic"] = time.monotonic() - started
        stop.set()  # reruns not yet started start now
        settled = faults.join(SETTLE_TIMEOUT)
        times["settle"] = time.monotonic() - started - times["traffic"]

        moment = time.monotonic()
        recover(site)
        site.stop_web()
        times["recovery"] = time.monotonic() - moment

        moment = time.monotonic()
        differences, check_summary = check_differences(site)
        times["check"] = time.monotonic() - moment
        moment = time.monotonic()
        with shared.lock:
            figures = measure(site, shared)
        times["measure"] = time.monotonic() - moment
        tracebacks, gunicorn_errors = server_errors(site.log("web"))
        with (site.dir / "requests.jsonl").open("w") as out:  # every write and its answers, to look into
            for request in shared.requests:
                out.write(json.dumps(request.__dict__) + "\n")
    finally:
        stop.set()
        processes.stop_all()
    times["total"] = time.monotonic() - began

    requests = shared.requests
    # "404 retried": a DELETE's retry found the document gone, which counts as done.
    by_status = collections.Counter(
        (r.kind, r.method, "404 retried" if r.done and r.final == 404 else r.final) for r in requests
    )
    retried = sum(len(r.statuses) > 1 for r in requests)
    attempts = collections.Counter(s for r in requests for s in r.statuses)
    figures.update(differences=differences, seed=seed)
    print(
        f"run seed={seed}: check differences {differences}, orphans {figures['orphans']}, "
        f"retry duplicates {figures['duplicates']}, errors that changed data {figures['changed']}"
    )
    if check_summary:
        print(f"  rebuild_rollups --check: {check_summary}")
    print(
        f"  orphans: {figures['orphan interactions']} interactions, {figures['orphan engagements']} engagements; "
        f"no final answer yet changed: {figures['no answer, changed']}; "
        f"{figures['interactions']:,} interactions stored at the end"
    )
    if figures["changed by answer"]:
        print(
            "  errors that changed data: "
            + ", ".join(f"{k} x{n}" for k, n in figures["changed by answer"].most_common())
        )
    for example in figures["examples"]:
        print(f"    e.g. {example}")
    print(
        f"  writes {len(requests):,} ({len(requests) / max(1, args.seconds):.1f}/s), retried {retried:,}; "
        f"GETs for ETags {sum(shared.reads.values()):,} {dict(sorted(shared.reads.items(), key=str))}"
    )
    print(
        "  every attempt's status: "
        + ", ".join(f"{k or 'no answer'} {v}" for k, v in sorted(attempts.items(), key=str))
    )
    print("  final answers:")
    for (kind, method), group in sorted(
        collections.Counter((kind, method) for kind, method, _ in by_status.elements()).items()
    ):
        statuses = sorted(((s, n) for (k, m, s), n in by_status.items() if (k, m) == (kind, method)), key=str)
        print(f"    {method:<6} {kind:<11} {group:>6}: " + ", ".join(f"{s or 'no answer'} {n}" for s, n in statuses))
    print(
        f"  faults: kills {dict(faults.kills) or 'none'}, database stalled {faults.stall:.1f} s"
        + ("" if settled else f"; reruns still going after {SETTLE_TIMEOUT} s")
        + (f"; {stuck} client threads still waiting" if stuck else "")
    )
    for line in faults.notes:
        print(f"    {line}")
    for tail, count in tracebacks:
        print(f"  500 x{count}: {tail[:400]}")
    for line in gunicorn_errors:
        print(f"  gunicorn: {line[:200]}")
    print(
        "  times: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in times.items())
        + f" (check {times['check']:.0f} s of it)",
        flush=True,
    )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=90.0, help="Length of the traffic phase.")
    parser.add_argument("--seed", type=int, default=1, help="Random seed of the first run (the next: +1, ...).")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--storage", help="Directory for each run's server data and logs (kept); default temporary.")
    args = parser.parse_args()
    if args.interactions < 1000 or args.clients < 1 or args.seconds <= 0 or args.runs < 1:
        parser.error("need --interactions >= 1000, --clients >= 1, --seconds > 0, --runs >= 1")

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)  # also when started in the background (SIGINT ignored there)
    results = []
    for run in range(args.runs):
        seed = args.seed + run
        if args.storage:
            directory = Path(args.storage) / f"run-{seed}"
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
            results.append(run_once(args, seed, directory))
        else:
            with tempfile.TemporaryDirectory(prefix="drift-") as directory:
                results.append(run_once(args, seed, directory))
    keys = ("differences", "orphans", "duplicates", "changed")
    bad = [r for r in results if any(r[key] for key in keys)]
    if args.runs > 1:
        print(f"{args.runs} runs, seeds {args.seed}..{args.seed + args.runs - 1}: {len(bad)} with drift")
        for r in results:
            print(
                f"  seed={r['seed']}: check differences {r['differences']}, orphans {r['orphans']}, "
                f"retry duplicates {r['duplicates']}, errors that changed data {r['changed']}"
            )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
