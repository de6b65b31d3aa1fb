from django.core.management.base import CommandError

from topbox import seeding
from topbox.management.base import MongoCommand


class Command(MongoCommand):
    help = "Load the sample data in fixtures/ (Extended JSON). Safe to run again: it adds only what is missing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--flush", action="store_true", help="Delete all clients, engagements and interactions first."
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any client is already stored.")
        parser.add_argument(
            "--fixtures", default=str(seeding.FIXTURES_DIR), help="Directory of fixture files (default: %(default)s)."
        )
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="Do not ask before --flush."
        )

    def handle(self, *args, flush, if_empty, fixtures, interactive, **options):
        if if_empty and not seeding.is_empty():
            self.stdout.write("The database already holds clients; nothing to seed.")
            return
        if flush and interactive:
            answer = input("This deletes every client, engagement and interaction. Type 'yes' to continue: ")
            if answer != "yes":
                raise CommandError("Flush cancelled; nothing changed.")
        try:
            results = seeding.seed(fixtures, flush=flush)
        except seeding.FixtureError as exc:
            raise CommandError(f"{exc}. Nothing was written.") from None
        for result in results:
            line = f"{result.collection}: {result.added} added, {result.present} already present"
            if flush:
                line += f" ({result.removed} removed first)"
            self.stdout.write(line)
        if not any(result.added for result in results):
            self.stdout.write("Nothing new to add.")
