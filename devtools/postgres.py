"""A throw-away PostgreSQL server for the tests (``TEST_POSTGRES=1``), as the embedded MongoDB is.

It runs Debian's server binaries (``apt-get install postgresql``; `make test-postgres`
installs them) on a free port, with its files in a temporary directory, trust
authentication on 127.0.0.1 only, and no fsync: it is for tests. PostgreSQL refuses to
run as root, so under root it runs as the ``postgres`` system user the package creates.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from devtools.embedded import free_port


class PostgresUnavailable(RuntimeError):
    pass


def server_binaries():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda path: int(path.parts[-3]))
    if not found:
        raise PostgresUnavailable(
            "TEST_POSTGRES=1 needs Debian's PostgreSQL server: run `make test-postgres` "
            "(it installs the package when run as root) or `sudo apt-get install postgresql`."
        )
    return found[-1].parent


class TemporaryPostgres:
    def __init__(self):
        self.port = free_port()
        self.directory = None
        self.process = None

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout=60):
        binaries = server_binaries()
        self.directory = Path(tempfile.mkdtemp(prefix="topbox-postgres-"))
        as_owner = {}
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            as_owner = {"user": "postgres", "group": "postgres", "extra_groups": []}
        data = self.directory / "data"
        subprocess.run(
            [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            **as_owner,
        )
        self.process = subprocess.Popen(
            [binaries / "postgres", "-D", data, "-p", str(self.port), "-k", self.directory,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "server.log", "wb"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
            **as_owner,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.directory / "server.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise PostgresUnavailable(f"The test PostgreSQL server did not start:\n{log}") from None
                time.sleep(0.2)

    def create_database(self, name):
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: disconnects its clients
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
