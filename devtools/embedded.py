"""The embedded development database: a SecantusDB server run as a child process.

SecantusDB speaks MongoDB's wire protocol, so the product code is the same as against
MongoDB; it is GPL-2.0 and a development/test requirement only, reached over a socket and
never imported (the production image does not contain it). Used by ``manage.py
devserver`` (``make run``) with a persistent data directory, and by the test suite with
in-memory storage on a free port.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

MEMORY = ":memory:"


class EmbeddedMongoError(RuntimeError):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class EmbeddedMongo:
    """Start, wait for and stop one SecantusDB server on 127.0.0.1."""

    def __init__(self, port, storage=MEMORY, log_path=None):
        self.port = port
        self.storage = storage
        self.log_path = Path(log_path) if log_path else None
        self.process = None

    @property
    def uri(self):
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout=60):
        if port_in_use(self.port):
            raise EmbeddedMongoError(
                f"Port {self.port} on 127.0.0.1 is already in use: is another `make run` "
                "(or another database) running? Stop it, or choose another EMBEDDED_MONGO_PORT."
            )
        if self.storage != MEMORY:
            Path(self.storage).mkdir(parents=True, exist_ok=True)
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        else:
            log = subprocess.DEVNULL
        command = [
            sys.executable, "-m", "secantus",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", str(self.storage),
            "--log-level", "WARNING",
        ]  # fmt: skip
        # A session of its own: Ctrl-C in the terminal reaches our process, which then stops
        # the server in order, rather than both racing to shut down.
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if log is not subprocess.DEVNULL:
            log.close()
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
        try:
            while True:
                if self.process.poll() is not None:
                    where = f"; see {self.log_path}" if self.log_path else ""
                    raise EmbeddedMongoError(
                        f"The embedded MongoDB server exited with code {self.process.returncode}{where}."
                    )
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise EmbeddedMongoError(
                            f"The embedded MongoDB server did not answer on port {self.port} within {timeout} s."
                        ) from None
                    time.sleep(0.2)
        finally:
            client.close()

    def stop(self, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
