import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devtools.embedded import EmbeddedMongo, EmbeddedMongoError, is_running
from devtools.login import ensure_development_user
from topbox import mongo


def _stop(signum, frame):
    raise KeyboardInterrupt


def _die_with_parent():
    """On Linux, runserver gets SIGTERM if this command is killed (even with -9); its
    autoreloader's child does not, so web.pid finds that one on the next run."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Command(BaseCommand):
    help = (
        "Run Topbox for development (`make run`): the embedded MongoDB unless MONGO_URI is "
        "set, the SQL schema, indexes, sample data if the database is empty, and Django's "
        "development server. Ctrl-C stops everything it started."
    )
    requires_system_checks = []  # runserver runs them

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport",
            nargs="?",
            default=f"127.0.0.1:{os.environ.get('PORT', '8000')}",
            help="Address and port to serve on (default: 127.0.0.1:$PORT, PORT defaulting to 8000).",
        )
        parser.add_argument(
            "--db-only", action="store_true", help="Prepare the database but serve no web app (`make db`)."
        )

    def handle(self, *args, addrport, db_only, **options):
        if settings.PRODUCTION:
            raise CommandError("devserver is for development; production runs gunicorn (see the Dockerfile).")
        signal.signal(signal.SIGTERM, _stop)
        database = runserver = None
        web_pid = settings.DATA_DIR / "web.pid"
        self.stop_orphaned_web(web_pid)
        try:
            if settings.MONGO_URI:
                self.stdout.write("Using the MongoDB in MONGO_URI; no embedded server started.")
            else:
                storage = settings.DATA_DIR / "mongo"
                database = EmbeddedMongo(
                    settings.EMBEDDED_MONGO_PORT,
                    storage=storage,
                    log_path=settings.DATA_DIR / "mongo.log",
                    pid_path=settings.DATA_DIR / "mongo.pid",
                )
                try:
                    database.start()
                except EmbeddedMongoError as exc:
                    raise CommandError(str(exc)) from None
                finally:
                    for note in database.notes:
                        self.stdout.write(note)
                self.stdout.write(
                    f"Embedded MongoDB on 127.0.0.1:{settings.EMBEDDED_MONGO_PORT}, data kept in {storage}"
                )
                # The client Django made at startup may have seen the orphan stopped above
                # answer as a shutting-down replica set member, and dropped it from its
                # topology for good (ServerSelectionTimeoutError ever after): start afresh.
                mongo.connect()
                settle(seconds=30)
            call_command("migrate", interactive=False, verbosity=0)
            call_command("ensure_indexes", verbosity=0)
            call_command("seed", if_empty=True, interactive=False, stdout=self.stdout)
            username, password, token = ensure_development_user()
            self.stdout.write(
                f"\nLocal development login (created by make run; never in production):\n"
                f"  browser: http://{addrport}/api-auth/login/  user {username!r}, password {password!r}\n"
                f"  admin:   http://{addrport}/admin/  (same user)\n"
                f"  charts:  http://{addrport}/admin/dashboard/  (the statistics dashboard)\n"
                f"  curl:    curl -H 'Authorization: Token {token}' http://{addrport}/interactions\n"
            )
            if db_only:
                self.stdout.write("Database ready; Ctrl-C stops it.")
                signal.pause()
            else:
                self.stdout.flush()  # the login above, before runserver's own output
                # Its own process group (runserver and its autoreloader's child), found again
                # through web.pid if this command is killed with -9.
                runserver = subprocess.Popen(
                    [sys.executable, str(settings.BASE_DIR / "manage.py"), "runserver", addrport],
                    preexec_fn=_die_with_parent,
                    start_new_session=True,
                )
                web_pid.write_text(f"{runserver.pid}\n")
                runserver.wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping.")
        finally:
            if runserver is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(runserver.pid, signal.SIGTERM)  # the autoreloader's child too
                runserver.wait()
                web_pid.unlink(missing_ok=True)
            if database is not None:
                database.stop()

    def stop_orphaned_web(self, pid_file):
        """Stop the web server (its process group) an earlier run killed with -9 left behind."""
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text())
            ours = b"runserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):  # gone, or no /proc to tell
            ours = False
        if ours:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while is_running(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.stdout.write(f"Found the web server an earlier run left running (pid {pid}); stopped it.")
        pid_file.unlink(missing_ok=True)


def settle(seconds):
    """Wait until the server just started answers pings within ``MONGO_TIMEOUT_MS``: after
    a crash it recovers its storage first, and the commands below fail fast on a slow ping."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            mongo.ping()
            return
        except mongo.MongoUnavailable as exc:
            if time.monotonic() > deadline:
                raise CommandError(str(exc)) from None
            time.sleep(0.2)
