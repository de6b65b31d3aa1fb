from django.core.management.base import CommandError
from tqdm import tqdm

from sampledata import seeding, synthetic
from topbox import history
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
        generated = parser.add_argument_group(
            "synthetic data", "Instead of the fixtures, add generated data at scale (sampledata/synthetic.py)."
        )
        generated.add_argument("--synthetic", action="store_true", help="Add synthetic data, not the fixtures.")
        generated.add_argument("--interactions", type=int, default=10_000, help="Default: %(default)s.")
        generated.add_argument("--clients", type=int, default=3, help="Default: %(default)s.")
        generated.add_argument("--engagements", type=int, default=10, help="Default: %(default)s.")
        generated.add_argument(
            "--random-seed", type=int, default=0, help="The same seed gives the same data (default: %(default)s)."
        )

    def handle(self, *args, flush, if_empty, fixtures, interactive, **options):
        if if_empty and not seeding.is_empty():
            self.stdout.write("The database already holds clients; nothing to seed.")
            return
        if options["synthetic"]:
            if flush:
                raise CommandError("--synthetic adds to what is stored: run `seed --flush` on its own first.")
            return self._synthetic(options)
        if flush and interactive:
            answer = input("This deletes every client, engagement and interaction. Type 'yes' to continue: ")
            if answer != "yes":
                raise CommandError("Flush cancelled; nothing changed.")
        try:
            results = seeding.seed(fixtures, flush=flush, by=history.command_user())
        except seeding.FixtureError as exc:
            raise CommandError(f"{exc}. Nothing was written.") from None
        for result in results:
            line = f"{result.collection}: {result.added} added, {result.present} already present"
            if flush:
                line += f" ({result.removed} removed first)"
            self.stdout.write(line)
        if not any(result.added for result in results):
            self.stdout.write("Nothing new to add.")

    def _synthetic(self, options):
        with tqdm(total=options["interactions"], unit=" interactions", disable=None) as bar:
            try:
                results = synthetic.generate(
                    clients=options["clients"],
                    engagements=options["engagements"],
                    interactions=options["interactions"],
                    random_seed=options["random_seed"],
                    on_progress=lambda done: bar.update(done - bar.n),
                    by=history.command_user(),
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        for result in results.values():
            self.stdout.write(f"{result.collection}: {result.added} added, {result.present} already present")
