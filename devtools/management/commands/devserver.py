import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from devtools.embedded import EmbeddedMongo, EmbeddedMongoError
from devtools.login import ensure_development_user


def _stop(signum, frame):
    raise KeyboardInterrupt


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
        try:
            if settings.MONGO_URI:
                self.stdout.write("Using the MongoDB in MONGO_URI; no embedded server started.")
            else:
                storage = settings.DATA_DIR / "mongo"
                database = EmbeddedMongo(
                    settings.EMBEDDED_MONGO_PORT, storage=storage, log_path=settings.DATA_DIR / "mongo.log"
                )
                try:
                    database.start()
                except EmbeddedMongoError as exc:
                    raise CommandError(str(exc)) from None
                self.stdout.write(
                    f"Embedded MongoDB on 127.0.0.1:{settings.EMBEDDED_MONGO_PORT}, data kept in {storage}"
                )
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
                runserver = subprocess.Popen(
                    [sys.executable, str(settings.BASE_DIR / "manage.py"), "runserver", addrport]
                )
                runserver.wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping.")
        finally:
            if runserver is not None and runserver.poll() is None:
                runserver.terminate()
                runserver.wait()
            if database is not None:
                database.stop()
