"""A throw-away Redis server for the tests (with ``TEST_POSTGRES=1``: the compose stack's caches).

Debian's ``redis-server`` (`make test-postgres` installs it) on a free port, in memory
only, stopped at the end.
"""

import shutil
import subprocess
import time

import redis

from devtools.embedded import free_port


class RedisUnavailable(RuntimeError):
    pass


class TemporaryRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=30):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable(
                "TEST_POSTGRES=1 needs redis-server too: run `make test-postgres` (it installs the "
                "package when run as root) or `sudo apt-get install redis-server`."
            )
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RedisUnavailable(f"The test Redis server did not start on port {self.port}.") from None
                time.sleep(0.1)
            finally:
                client.close()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
