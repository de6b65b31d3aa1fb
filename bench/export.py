"""How much memory and time a CSV export of every interaction takes, admin and API.

    .venv/bin/python bench/export.py [--interactions 100000]

Starts an embedded server (in memory, a free port), inserts the data as bench/admin.py
does, then downloads every interaction as CSV through Django's test client, from the API
(`/interactions?format=csv`) and from the admin ("Export CSV"), reading the streamed
response chunk by chunk. Prints rows, bytes, seconds and how far the process's peak
resident memory grew during each download (the target: flat, under 200 MB at 1,000,000).
The embedded server runs in its own process, so its memory is not counted.
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin import seed
from devtools.embedded import MEMORY, EmbeddedMongo, free_port


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--storage", default=MEMORY, help="The server's storage directory (default: in memory).")
    args = parser.parse_args()
    random.seed(1)

    with EmbeddedMongo(free_port(), storage=args.storage) as server, tempfile.TemporaryDirectory() as state:
        os.environ.update(
            MONGO_URI=server.uri + "bench",
            DJANGO_SQLITE_PATH=str(Path(state) / "django.sqlite3"),
            DJANGO_ALLOWED_HOSTS="testserver",
            DJANGO_DEBUG="false",
            DJANGO_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="topbox.settings",
        )
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from topbox import documents, mongo

        call_command("migrate", verbosity=0)
        documents.ensure_indexes()
        started = time.perf_counter()
        seed(mongo.database(), args.interactions)
        print(f"Seeded {args.interactions} interactions in {time.perf_counter() - started:.1f} s (insert_many).")

        browser = Client()
        browser.force_login(get_user_model().objects.create_superuser("bench", "bench@example.com", None))
        print(f"{'export':<8}{'rows':>10}{'MB sent':>9}{'seconds':>9}{'peak RSS before':>17}{'after':>8}{'growth':>8}")
        for label, url in (
            ("API", "/interactions?format=csv"),
            ("admin", "/admin/interactions/interaction/export.csv"),
        ):
            before = peak_mb()
            started = time.perf_counter()
            response = browser.get(url)
            assert response.status_code == 200
            assert response.streaming
            sent = lines = 0
            for chunk in response.streaming_content:
                sent += len(chunk)
                lines += chunk.count(b"\r\n")
            seconds = time.perf_counter() - started
            after = peak_mb()
            print(
                f"{label:<8}{lines - 1:>10}{sent / 2**20:>9.1f}{seconds:>9.1f}"
                f"{before:>14.0f} MB{after:>5.0f} MB{after - before:>5.0f} MB"
            )
        print("rows: CSV lines after the header (a custom value with a line break would count twice).")


if __name__ == "__main__":
    main()
