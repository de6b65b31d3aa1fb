"""What the benches share: a throw-away embedded server with Django set up on it, and timing.

    with throwaway_site() as server:
        ...  # Django is set up on a fresh database of ``server``; models and commands work

The server keeps its data on disk (in memory it failed at a million interactions); the
request deadline is lifted and the API's user throttle off, so that a figure is the full
time of what it measures.
"""

import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def throwaway_site(storage=None):
    """An embedded server (data in ``storage``, default a temporary directory) and Django set
    up on its ``bench`` database, migrated and indexed. Entered again (another storage), it
    starts another server and reconnects to it."""
    from devtools.embedded import EmbeddedMongo, free_port

    with tempfile.TemporaryDirectory() as scratch:
        storage = storage or f"{scratch}/mongo"
        with EmbeddedMongo(free_port(), storage=storage) as server:
            uri = f"mongodb://127.0.0.1:{server.port}/bench"
            if "django.conf" in sys.modules and os.environ.get("MONGO_URI"):  # set up already
                from topbox import mongo

                mongo.connect(uri)
            else:
                _setup_django(uri, scratch)
            from django.core.management import call_command

            call_command("ensure_indexes", verbosity=0)
            yield server


def _setup_django(uri, scratch):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="topbox.settings",
        MONGO_URI=uri,
        TOPBOX_DATA_DIR=scratch,
        DJANGO_DEBUG="false",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
        MONGO_QUERY_TIMEOUT_MS="600000",  # the full time of every query is the figure
        API_THROTTLE_USER="off",  # one user sending thousands of requests: measure, don't throttle
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timings(function, repeat):
    """Milliseconds of ``repeat`` calls of ``function`` (after one call to warm it up)."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p50(times):
    return statistics.median(times)


def p99(times):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
