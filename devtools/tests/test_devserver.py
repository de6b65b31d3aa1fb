"""`make run`'s command, run as a newcomer would: serve, seed once, keep data, stop on Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from django.conf import settings

from devtools.embedded import free_port, is_running, port_in_use
from sampledata.tests.test_seed import SEED_EXAMPLE

EXTERNAL = bool(os.environ.get("MONGO_URI"))


def environment(tmp_path, mongo_uri, web_port, db_port):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "MONGO_URI"))}
    env.update(
        PORT=str(web_port), TOPBOX_DATA_DIR=str(tmp_path), EMBEDDED_MONGO_PORT=str(db_port), PYTHONUNBUFFERED="1"
    )
    if EXTERNAL:
        env["MONGO_URI"] = mongo_uri
    return env


@pytest.fixture
def manage():
    """``manage(*args, env=...)`` starts ``manage.py`` in its own process group; its output
    lines collect in ``.lines``. Whatever a failing test leaves running is stopped."""
    started = []

    def start(*args, env):
        process = run_manage(*args, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # devserver stops its database on SIGTERM
            process.wait(timeout=60)


def run_manage(*args, env):
    """``manage.py`` as a terminal starts it: Ctrl-C reaches it even when the suite itself
    runs with SIGINT ignored (a background job of a script), which a child would inherit."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    process.lines = []
    reader = threading.Thread(target=lambda: process.lines.extend(process.stdout), daemon=True)
    reader.start()
    process.reader = reader
    return process


def get(port, path, token):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def wait_for_health(port, process, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "".join(process.lines)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status, json.load(response)
        except OSError:
            time.sleep(0.3)
    pytest.fail("devserver did not answer /healthz in time")


def ctrl_c(process):
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    process.reader.join(timeout=10)
    return "".join(process.lines)


def test_serves_seeds_once_keeps_data_and_stops_on_ctrl_c(tmp_path, mongo_uri, manage):
    web_port, db_port = free_port(), free_port()
    env = environment(tmp_path, mongo_uri, web_port, db_port)

    first = manage("devserver", env=env)
    assert wait_for_health(web_port, first) == (200, {"status": "ok", "mongo": "up"})
    again = subprocess.run(
        [sys.executable, "manage.py", "seed"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert "Nothing new to add." in again.stdout

    # The login it prints works, and the seed README's example comes back exactly.
    token = re.search(r"Authorization: Token (\w+)", "".join(first.lines)).group(1)
    assert get(web_port, "/interactions/5f18d12f42262eec0d43567d", token) == (200, SEED_EXAMPLE)
    output = ctrl_c(first)
    assert "interaction: 400 added" in output
    assert not port_in_use(web_port)
    assert not port_in_use(db_port)
    if EXTERNAL:
        assert "Using the MongoDB in MONGO_URI; no embedded server started." in output
        return
    assert f"Embedded MongoDB on 127.0.0.1:{db_port}" in output

    second = manage("devserver", env=env)
    wait_for_health(web_port, second)
    output = ctrl_c(second)
    assert "already holds clients; nothing to seed" in output  # the data survived the restart
    assert not port_in_use(db_port)


@pytest.mark.skipif(EXTERNAL, reason="only the embedded server has a port to collide on")
def test_refuses_to_start_when_the_database_port_is_taken(tmp_path, mongo_uri, manage):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = environment(tmp_path, mongo_uri, free_port(), taken.getsockname()[1])
        process = manage("devserver", env=env)
        process.wait(timeout=60)
        process.reader.join(timeout=10)
    assert process.returncode != 0
    assert "is already in use" in "".join(process.lines)


@pytest.mark.skipif(EXTERNAL, reason="only the embedded server can be left behind")
def test_after_kill_9_the_next_run_stops_the_orphaned_database_and_says_so(tmp_path, mongo_uri, manage):
    web_port, db_port = free_port(), free_port()
    env = environment(tmp_path, mongo_uri, web_port, db_port)
    first = manage("devserver", env=env)
    wait_for_health(web_port, first)
    orphan = int((tmp_path / "mongo.pid").read_text())
    os.kill(first.pid, signal.SIGKILL)  # what `kill -9` of `make run` does: nothing is cleaned up
    first.wait(timeout=10)
    assert port_in_use(db_port)  # the database survives, orphaned

    second = manage("devserver", env=env)
    deadline = time.monotonic() + 60  # until it has dealt with the orphans (the old web server may still answer)
    while "Embedded MongoDB on" not in "".join(second.lines):
        assert second.poll() is None, "".join(second.lines)
        assert time.monotonic() < deadline, "".join(second.lines)
        time.sleep(0.2)
    wait_for_health(web_port, second)
    output = ctrl_c(second)
    assert f"Found the embedded MongoDB an earlier run left running (pid {orphan}" in output
    assert "stopped it." in output
    assert "already holds clients; nothing to seed" in output  # the same data, served again
    assert not is_running(orphan)
    assert not (tmp_path / "mongo.pid").exists()


def test_a_failed_start_shows_the_cause_from_the_log(tmp_path):
    """A second server on the same data directory fails on WiredTiger's lock: the error says so."""
    from devtools.embedded import EmbeddedMongo, EmbeddedMongoError

    with EmbeddedMongo(free_port(), storage=tmp_path / "mongo"):
        second = EmbeddedMongo(free_port(), storage=tmp_path / "mongo", log_path=tmp_path / "mongo.log")
        with pytest.raises(EmbeddedMongoError) as caught:
            second.start(timeout=30)
    message = str(caught.value)
    assert f"The end of its log ({tmp_path / 'mongo.log'}):" in message
    assert f"Another process holds the lock on {tmp_path / 'mongo'}" in message
    assert message.endswith("Device or resource busy")


def test_a_stale_pid_file_is_removed_and_said(tmp_path):
    from devtools.embedded import EmbeddedMongo

    (tmp_path / "mongo.pid").write_text("999999\n")
    server = EmbeddedMongo(free_port(), pid_path=tmp_path / "mongo.pid")
    server.stop_orphan()
    assert server.notes == [f"Removed a stale pid file ({tmp_path / 'mongo.pid'}: no such server running)."]
    assert not (tmp_path / "mongo.pid").exists()
