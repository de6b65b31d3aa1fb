"""The stored counts equal the aggregation over the interactions after every write, however
writes interleave, fail, are retried or are killed, and whatever bytes they hold.

One test per way the counts drifted before they were written in the transaction of the
write they follow (``topbox.documents.write``): concurrent edits, errors that were not
errors, control characters, colliding keys, interrupted bulk loads, retried writes.
"""

import contextlib
import datetime
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from bson import ObjectId
from django.conf import settings
from django.core.management import CommandError, call_command
from pymongo.errors import OperationFailure
from rest_framework.test import APIClient

from engagements.documents import Engagement
from interactions import ingest
from interactions.counts import keys, reading, rebuilding
from interactions.documents import Interaction
from interactions.stats import interaction_stats, raw_interaction_stats
from sampledata import synthetic
from sampledata.factories import make_client, make_engagement, make_interaction
from topbox import mongo

SAMPLE_INTERACTIONS = ("5f18d12f42262eec0d43567d", "5f18d12f42262eec0d43567e", "5f18d12f42262eec0d43567f")


def assert_exact():
    """Every kind of stored count (days, hours, totals, agents, files, names) equals the
    interactions' aggregation, and so do the statistics read from them."""
    assert rebuilding.differences() == []
    assert interaction_stats() == raw_interaction_stats()


def api_client(user):
    """An API client of ``user`` that needs no SQL query per request (safe in threads)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff_user(transactional_db, django_user_model, settings):
    """A staff user whose requests, sent from many threads at once, touch no SQL table: no
    throttle (its counts live in the SQL cache table, which SQLite locks whole)."""
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": None}
    return django_user_model.objects.create_user("staff", is_staff=True)


# 1. Concurrent edits: each delta is taken from the version the write replaced.


def test_concurrent_patches_and_puts_of_the_same_interactions_keep_the_counts(seeded, staff_user, settings):
    settings.MONGO_QUERY_TIMEOUT_MS = 20_000  # 16 writers of 3 documents wait their turn, on 2 busy cores
    stored = {
        pk: Interaction._get_collection().find_one({"_id": Interaction.id.to_python(pk)}) for pk in SAMPLE_INTERACTIONS
    }
    assert all(stored.values())
    failures = []

    def edit(number):
        client = api_client(staff_user)
        for round_ in range(12):
            pk = SAMPLE_INTERACTIONS[(number + round_) % len(SAMPLE_INTERACTIONS)]
            body = {
                "sentiment": ("Positive", "Negative", "Neutral", "Mixed", None)[(number * 7 + round_) % 5],
                "agentName": f"Agent {(number + round_) % 4}",
                "interactionDate": f"2020-05-{10 + (number + round_) % 9:02}T{round_ % 24:02}:00:00Z",
            }
            if round_ % 3 == 2:  # a whole replacement now and then
                body = {**body, "engagementId": str(stored[pk]["engagementId"]), "custom": {"n": round_}}
                response = client.put(f"/interactions/{pk}", body, format="json")
            else:
                response = client.patch(f"/interactions/{pk}", body, format="json")
            if response.status_code != 200:
                failures.append((response.status_code, response.content[:200]))

    threads = [threading.Thread(target=edit, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert_exact()


# 2. A write answered with an error changed nothing; a retried POST creates nothing twice.


def test_writes_answered_with_an_error_changed_nothing(seeded, staff_user, settings):
    """With request deadlines short enough to cut writes at every step (which step depends on
    the machine's load, hence the range), each write either succeeded or left no trace: a
    POST's document, a PATCH's value, a DELETE's absence. Only an answer that says the
    outcome is unknown may go either way."""
    engagement = Engagement.objects.first()
    client = api_client(staff_user)
    targets = iter(str(pk) for pk in Interaction.objects.scalar("pk"))
    outcomes = []  # (collection, query that finds the write's effect, response)
    for deadline_ms in [1, 2, 4, 8, 16, 32] * 6:
        settings.MONGO_QUERY_TIMEOUT_MS = deadline_ms
        marker = uuid.uuid4().hex
        body = {"engagementId": str(engagement.pk), "agentName": "Deadline", "interactionDate": "2020-05-16T12:00:00Z",
                "custom": {"marker": marker}}  # fmt: skip
        outcomes.append(("interaction", {"custom.marker": marker}, client.post("/interactions", body, format="json")))
        name = f"Deadline {marker}"
        post = client.post("/engagements", {"clientId": str(engagement.clientId.pk), "name": name}, format="json")
        outcomes.append(("engagement", {"name": name}, post))
        target = next(targets)
        patch = client.patch(f"/interactions/{target}", {"agentName": f"Patched {marker}"}, format="json")
        outcomes.append(("interaction", {"agentName": f"Patched {marker}"}, patch))
        target = next(targets)
        deleted = client.delete(f"/interactions/{target}")
        outcomes.append(("deleted interaction", {"_id": ObjectId(target)}, deleted))
    settings.MONGO_QUERY_TIMEOUT_MS = 10_000
    statuses = {response.status_code for _, _, response in outcomes}
    assert statuses <= {200, 201, 204, 503, 504}, statuses
    for kind, query, response in outcomes:
        if response.status_code == 503 and response.json().get("outcome") == "unknown":
            continue
        if response.status_code == 504:
            assert "nothing was written" in response.json()["detail"]
        succeeded = response.status_code < 300
        if kind == "deleted interaction":
            assert Interaction._get_collection().count_documents(query) == (0 if succeeded else 1), response.json()
        else:
            assert mongo.database()[kind].count_documents(query) == (1 if succeeded else 0), (kind, response.json())
    assert any(response.status_code >= 500 for _, _, response in outcomes)  # 1 ms is shorter than any write
    assert_exact()


def test_a_post_retried_with_its_idempotency_key_creates_one_document(seeded, staff_user, settings):
    engagement = Engagement.objects.first()
    client = api_client(staff_user)
    body = {"engagementId": str(engagement.pk), "agentName": "Retry", "interactionDate": "2020-05-16T12:00:00Z"}
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    first = client.post("/interactions", body, format="json", **key)
    again = client.post("/interactions", body, format="json", **key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Interaction.objects(agentName="Retry").count() == 1
    other = client.post("/interactions", {**body, "agentName": "Other"}, format="json", **key)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()
    assert Interaction.objects(agentName="Other").count() == 0
    assert client.post("/interactions", body, format="json", HTTP_IDEMPOTENCY_KEY="\x01").status_code == 400
    # Retried until it lands, as a client does after 504s: one document per key.
    settings.MONGO_QUERY_TIMEOUT_MS = 3
    keys = [str(uuid.uuid4()) for _ in range(10)]
    for number, key in enumerate(keys):
        for _ in range(200):
            settings.MONGO_QUERY_TIMEOUT_MS = 3 if _ < 5 else 10_000
            response = client.post("/interactions", {**body, "agentName": f"Retried {number}"}, format="json",
                                   HTTP_IDEMPOTENCY_KEY=key)  # fmt: skip
            if response.status_code == 201:
                break
    settings.MONGO_QUERY_TIMEOUT_MS = 10_000
    for number in range(len(keys)):
        assert Interaction.objects(agentName=f"Retried {number}").count() == 1
    assert_exact()


def test_concurrent_posts_with_one_idempotency_key_create_one_document(seeded, staff_user):
    engagement = Engagement.objects.first()
    body = {"engagementId": str(engagement.pk), "agentName": "Racer", "interactionDate": "2020-05-16T12:00:00Z"}
    key, answers = str(uuid.uuid4()), []

    def post():
        response = api_client(staff_user).post("/interactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        answers.append((response.status_code, response.json()["_id"]))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {201}
    assert len({pk["$oid"] for _, pk in answers}) == 1
    assert Interaction.objects(agentName="Racer").count() == 1
    assert_exact()


# 3. Control characters: refused at every entrance with the field or line named; kept
# safely where they came in around Topbox.


def test_a_csv_agent_with_a_nul_is_refused_with_its_line_and_strict_stores_nothing(staff_api):
    engagement = make_engagement()
    data = "interactionDate,agentName\n2020-05-16,Ann Lee\n2020-05-16,Bad\x00Name\n2020-05-17,Bo Chen\n"
    url = f"/engagements/{engagement.pk}/imports?name=nul.csv&strict=true"
    response = staff_api.post(url, data.encode(), content_type="text/csv")
    assert response.status_code == 422, response.content
    assert response.json()["problems"][0]["line"] == 3
    assert Interaction.objects.count() == 0
    result = ingest.ingest_csv(io.BytesIO(data.encode()), "nul.csv", engagement)
    assert (result.inserted, result.rejected) == (2, 1)
    assert result.problems[0].line == 3
    assert "control characters (U+0000" in result.problems[0].reason
    assert_exact()


@pytest.mark.parametrize("field", ["agentName", "name", "nickName"])
def test_the_api_refuses_control_characters_in_names_naming_the_field(staff_api, field):
    engagement = make_engagement()
    url, body = {
        "agentName": ("/interactions", {"engagementId": str(engagement.pk), "interactionDate": "2020-05-16"}),
        "name": ("/engagements", {"clientId": str(engagement.clientId.pk)}),
        "nickName": ("/clients", {"name": "Control Inc."}),
    }[field]
    nul, controls = "Null characters are not allowed.", "must not contain control characters (U+0009 at position 4)"
    for value, message in (("Bad\x00name", nul), ("Bad\tname\x1b", controls)):
        response = staff_api.post(url, json.dumps({**body, field: value}), content_type="application/json")
        assert response.status_code == 400
        assert message in response.json()[field][0]
    assert mongo.database()["interaction"].count_documents({}) == 0


def test_interactions_with_control_characters_written_around_topbox_are_counted_deleted_and_rebuilt(staff_api):
    engagement = make_engagement()
    raw = {"engagementId": engagement.pk, "interactionDate": datetime.datetime(2020, 5, 16, 12), "sentiment": "Mixed",
           "agentName": "Nul\x00Agent.$x%2E", "custom": {"csvName": "f\x00.csv", "n": "a\x00b"}}  # fmt: skip
    Interaction._get_collection().insert_one(raw)  # (a mongo shell, another tool)
    call_command("rebuild_rollups", stdout=io.StringIO())
    assert_exact()
    assert reading.agent_count("Nul\x00Agent.$x%2E", [engagement.pk]) == 1
    assert staff_api.delete(f"/interactions/{raw['_id']}").status_code == 204
    assert_exact()
    assert reading.agent_count("Nul\x00Agent.$x%2E", [engagement.pk]) == 0


def test_custom_keeps_control_characters_in_values_and_refuses_them_in_keys(staff_api):
    engagement = make_engagement()
    body = {"engagementId": str(engagement.pk), "interactionDate": "2020-05-16", "agentName": "Ann Lee"}
    kept = staff_api.post("/interactions", json.dumps({**body, "custom": {"note": "a\x00b\tc\x85"}}),
                          content_type="application/json")  # fmt: skip
    assert kept.status_code == 201, kept.content
    assert Interaction._get_collection().find_one()["custom"]["note"] == "a\x00b\tc\x85"
    refused = staff_api.post("/interactions", json.dumps({**body, "custom": {"bad\x00key": 1}}),
                             content_type="application/json")  # fmt: skip
    assert refused.status_code == 400
    assert "custom" in refused.json(), refused.json()
    assert Interaction.objects.count() == 1
    assert_exact()


# 4. Key spaces: no name reaches another kind's key.


def test_an_agent_named_like_a_file_is_counted_apart_from_the_file():
    engagement = make_engagement()
    for _ in range(2):
        make_interaction(engagement, agentName="file:report.csv", custom={})
    for _ in range(3):
        make_interaction(engagement, agentName="Ann Lee", custom={"csvName": "report.csv"})
    make_interaction(engagement, agentName="agent:Ann Lee", custom={"csvName": "agent:x"})
    assert reading.agent_count("file:report.csv", [engagement.pk]) == 2
    assert reading.agent_count("agent:Ann Lee", [engagement.pk]) == 1
    assert reading.agent_count("Ann Lee", [engagement.pk]) == 3
    assert reading.file_counts(engagement.pk, 10) == [("agent:x", 1), ("report.csv", 3)]
    assert_exact()


def test_names_keyed_by_an_older_version_are_rebuilt_at_deploy():
    engagement = make_engagement()
    make_interaction(engagement, agentName="Ann Lee")
    # As an older version keyed them: "<engagement>:<agent>" and "<engagement>:file:<name>".
    keys.names().delete_many({})
    keys.names().insert_one({"_id": f"{engagement.pk}:Ann Lee", "engagementId": engagement.pk,
                                "agentName": "Ann Lee", "n": 1, "sentiments": {"Negative": 1}})  # fmt: skip
    assert rebuilding.differences() != []
    call_command("ensure_indexes", verbosity=0)
    assert_exact()
    assert rebuilding.rekey_names() is False  # nothing left to rekey


# 5. Interrupted bulk writes: each batch is stored with its counts, or not at all.


@pytest.fixture(scope="module")
def command_environment(mongo_uri, tmp_path_factory):
    """The environment of a ``manage.py`` subprocess on the tests' database, its SQL side migrated."""
    data_dir = tmp_path_factory.mktemp("data")
    environment = {**os.environ, "MONGO_URI": mongo_uri, "TOPBOX_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=settings.BASE_DIR,
                   env=environment, check=True, timeout=120)  # fmt: skip
    return environment


def kill_midway(command, environment, until, timeout=120):
    """Start ``manage.py <command>``, wait until ``until()`` holds, then ``kill -9`` it."""
    process = subprocess.Popen([sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    try:
        while not until():
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the command never got far enough to be killed midway"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # A transaction the kill left open holds what it wrote (and blocks writes to it)
        # until the server reaps it, 60 s after its last statement, as mongod does
        # (``transactionLifetimeLimitSeconds``); it commits nothing either way. Abort it now
        # rather than wait: aborting is all the reaper would do.
        mongo.database().client.admin.command("killAllSessions", [])


def run(command, environment):
    return subprocess.run([sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip


def test_an_ingest_killed_midway_and_run_again_leaves_exact_counts(command_environment, tmp_path):
    engagement = make_engagement()
    rows = 6000
    csv_file = tmp_path / "big.csv"
    lines = (f"2024-01-{1 + n % 28:02}T{n % 24:02}:00:00Z,Agent {n % 37},{('Positive', 'Negative', '')[n % 3]}"
             for n in range(rows))  # fmt: skip
    csv_file.write_text("interactionDate,agentName,sentiment\n" + "\n".join(lines) + "\n")
    command = ["ingest", str(csv_file), "--engagement", str(engagement.pk), "--batch-size", "200"]
    kill_midway(command, command_environment, lambda: Interaction._get_collection().count_documents({}) >= 1000)
    stored = Interaction._get_collection().count_documents({})
    assert 0 < stored < rows
    assert_exact()  # at once: nothing to recover
    run(command, command_environment)
    assert Interaction._get_collection().count_documents({}) == rows
    assert_exact()


def test_a_synthetic_seed_killed_midway_and_run_again_leaves_exact_counts(command_environment):
    command = ["seed", "--synthetic", "--interactions", "6000", "--clients", "2", "--engagements", "6",
               "--batch-size", "300"]  # fmt: skip
    kill_midway(command, command_environment, lambda: Interaction._get_collection().count_documents({}) >= 1200)
    assert 0 < Interaction._get_collection().count_documents({}) < 6000
    assert_exact()
    run(command, command_environment)
    assert Interaction._get_collection().count_documents({}) == 6000
    assert_exact()


def test_a_load_that_meets_rows_already_stored_counts_only_the_new_ones():
    synthetic.generate(clients=1, engagements=3, interactions=900, random_seed=3, batch_size=250)
    # Some rows of a later batch stored (and counted) by someone else first.
    more = list(itertools.islice(synthetic_rows(random_seed=3, interactions=1500), 1000, 1100))
    from topbox.documents import insert_new

    insert_new(Interaction, more)
    synthetic.generate(clients=1, engagements=3, interactions=1500, random_seed=3, batch_size=250)
    assert Interaction.objects.count() == 1500
    assert_exact()


def synthetic_rows(*, random_seed, interactions):
    """The interactions ``synthetic.generate`` would add with these arguments (one client, three engagements)."""
    import random

    rng = random.Random(random_seed)
    clients = [synthetic._client(rng, 0)]
    engagements = [synthetic._engagement(rng, number, clients[0], 1) for number in range(3)]
    agents = [[synthetic._agent(rng) for _ in range(synthetic.AGENTS_PER_CLIENT)]]
    return synthetic._interactions(rng, interactions, engagements, agents)


# 6. The statistics the flaky test compared: exact on every run, whatever the machine's load.


@pytest.mark.parametrize("seed", range(8))
def test_statistics_of_a_synthetic_load_equal_the_raw_aggregation(seed):
    synthetic.generate(clients=2, engagements=4, interactions=1500, random_seed=seed, batch_size=200)
    client = make_client("Other")
    assert_exact()
    for scope in ({}, {"client": client.pk}, {"engagement": Engagement.objects.first().pk}):
        for interval in ("day", "month"):
            start = datetime.datetime(2024, 2, 3, 5, tzinfo=datetime.UTC)
            end = start + datetime.timedelta(days=40, hours=3)
            arguments = {**scope, "start": start, "end": end, "interval": interval}
            assert interaction_stats(**arguments) == raw_interaction_stats(**arguments)


@contextlib.contextmanager
def failing_once(command, **failure):
    """The server's next ``command`` answers as ``failure`` says (MongoDB's ``failCommand``
    fail point; the tests' embedded server runs with test commands)."""
    admin = mongo.database().client.admin
    data = {"failCommands": [command], **failure}
    try:
        admin.command("configureFailPoint", "failCommand", mode={"times": 1}, data=data)
    except OperationFailure as exc:
        pytest.skip(f"this server has no fail points ({exc}): run mongod with --setParameter enableTestCommands=1")
    try:
        yield
    finally:
        admin.command("configureFailPoint", "failCommand", mode="off")


def test_a_bulk_insert_applied_but_answered_as_retryable_is_counted_once(db, tmp_path):
    """What doubled or dropped counts on a busy machine: the server applied a batch (some
    rows of it duplicates) but its answer carried a retryable error, so the driver sent the
    batch again; the retry found every row stored and the first attempt's rows went
    uncounted or counted twice. In a transaction a statement is never retried on its own."""
    engagement = make_engagement()
    lines = [f"2024-03-{1 + n % 28:02}T10:00:00Z,Agent {n % 3},Positive" for n in range(8)]
    csv_file = tmp_path / "retry.csv"
    csv_file.write_text("interactionDate,agentName,sentiment\n" + "\n".join(lines[:5]) + "\n")
    call_command("ingest", str(csv_file), "--engagement", str(engagement.pk), stdout=io.StringIO())
    csv_file.write_text("interactionDate,agentName,sentiment\n" + "\n".join(lines) + "\n")
    retryable = {"errorLabels": ["RetryableWriteError"], "writeConcernError": {"code": 91, "errmsg": "Shutting down"}}
    # (refused whole is fine; counted wrong is not)
    with failing_once("insert", **retryable), contextlib.suppress(CommandError):
        call_command("ingest", str(csv_file), "--engagement", str(engagement.pk), stdout=io.StringIO())
    assert_exact()
    call_command("ingest", str(csv_file), "--engagement", str(engagement.pk), stdout=io.StringIO())
    assert Interaction.objects.count() == 8
    assert_exact()
