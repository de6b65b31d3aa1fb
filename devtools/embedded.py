"""The embedded development database: a SecantusDB server run as a child process.

SecantusDB speaks MongoDB's wire protocol, so the product code is the same as against
MongoDB; it is GPL-2.0 and a development/test requirement only, reached over a socket and
never imported (the production image does not contain it). Used by ``manage.py
devserver`` (``make run``) with a persistent data directory, and by the test suite with
in-memory storage on a free port.
"""

import os
import signal
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

    def __init__(self, port, storage=MEMORY, log_path=None, pid_path=None, test_commands=False):
        self.port = port
        self.storage = storage
        self.test_commands = test_commands  # configureFailPoint, for the tests' fault injection
        self.log_path = Path(log_path) if log_path else None
        self.pid_path = Path(pid_path) if pid_path else None  # finds a server an earlier run left
        self.process = None
        self.notes = []  # what start() found and did, for the caller to show

    @property
    def uri(self):
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout=60):
        self.stop_orphan()
        if port_in_use(self.port):
            raise EmbeddedMongoError(
                f"Port {self.port} on 127.0.0.1 is already in use, and not by a server this data directory "
                f"started (no live pid in {self.pid_path}): is another `make run` (or another database) running? "
                f"Find it with `lsof -i :{self.port}` or `ss -ltnp 'sport = :{self.port}'`, stop it, "
                "or choose another EMBEDDED_MONGO_PORT."
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
            *(["--enable-test-commands"] if self.test_commands else []),
        ]  # fmt: skip
        # A session of its own: Ctrl-C in the terminal reaches our process, which then stops
        # the server in order, rather than both racing to shut down.
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if log is not subprocess.DEVNULL:
            log.close()
        self._wait_until_ready(timeout)
        if self.pid_path:
            self.pid_path.write_text(f"{self.process.pid}\n")
        return self

    def stop_orphan(self, timeout=15):
        """Stop the server an earlier run left behind (killed with -9), found by its pid file.

        Only a live process that is SecantusDB on this storage is stopped; a stale pid file
        is removed. What was done is added to :attr:`notes`.
        """
        if not self.pid_path or not self.pid_path.exists():
            return
        try:
            pid = int(self.pid_path.read_text().strip())
        except ValueError:
            pid = None
        if pid and self._is_ours(pid):
            os.kill(pid, signal.SIGTERM)
            if not self._wait_for_exit(pid, timeout):
                os.kill(pid, signal.SIGKILL)
                self._wait_for_exit(pid, 5)
            self.notes.append(
                f"Found the embedded MongoDB an earlier run left running (pid {pid}, {self.pid_path}); stopped it."
            )
        else:
            self.notes.append(f"Removed a stale pid file ({self.pid_path}: no such server running).")
        self.pid_path.unlink(missing_ok=True)

    def _wait_for_exit(self, pid, timeout):
        """Until the process is gone and its port free (its threads may outlive its main one)."""
        deadline = time.monotonic() + timeout
        while is_running(pid) or port_in_use(self.port):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _is_ours(self, pid):
        if not is_running(pid):
            return False
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # no /proc (macOS): ask ps
            command = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True).stdout.split()
        return b"secantus" in command and str(self.storage).encode() in command

    def log_tail(self, lines=15):
        """The end of the server's log, where the reason for a failed start is."""
        if not self.log_path or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 8192))
            tail = log.read().decode("utf-8", "replace").splitlines()[-lines:]
        return "\n".join(tail)

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
        try:
            while True:
                if self.process.poll() is not None:
                    tail = self.log_tail()
                    cause = f" The end of its log ({self.log_path}):\n{tail}" if tail else ""
                    if "resource busy" in tail:
                        cause = (
                            f" Another process holds the lock on {self.storage}: stop the other server "
                            f"using that directory.{cause}"
                        )
                    raise EmbeddedMongoError(
                        f"The embedded MongoDB server exited with code {self.process.returncode}.{cause}"
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
        if self.pid_path:
            self.pid_path.unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def is_running(pid):
    """Whether ``pid`` is a running process (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def is_secantusdb(database):
    """Whether ``database`` (a pymongo Database) is served by SecantusDB, the embedded server
    (tests that document its known differences from MongoDB mark themselves with this)."""
    return "secantusVersion" in database.client.admin.command("buildInfo")
