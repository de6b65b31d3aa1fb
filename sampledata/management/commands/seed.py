import argparse
import time

from django.core.management.base import CommandError

from sampledata import seeding, synthetic
from topbox import history
from topbox.management.base import MongoCommand
from topbox.management.progress import progress


def at_least(minimum):
    """An argparse type: an integer no smaller than ``minimum``, or an error naming it."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


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
        generated.add_argument("--interactions", type=at_least(0), default=10_000, help="Default: %(default)s.")
        generated.add_argument("--clients", type=at_least(1), default=3, help="Default: %(default)s.")
        generated.add_argument(
            "--engagements", type=at_least(1), default=10, help="At least one per client (default: %(default)s)."
        )
        generated.add_argument(
            "--batch-size",
            type=at_least(1),
            default=synthetic.BATCH_SIZE,
            help="Interactions per insert (default: %(default)s).",
        )
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
        total = options["interactions"]
        # A bar with the rate on a terminal, a line every tenth of the way elsewhere (stderr).
        with progress(self.stderr, total, "interactions", options["verbosity"]) as bar:
            started = time.monotonic()
            try:
                results = synthetic.generate(
                    clients=options["clients"],
                    engagements=options["engagements"],
                    interactions=total,
                    random_seed=options["random_seed"],
                    batch_size=options["batch_size"],
                    on_progress=lambda done: bar.update(done - bar.n),
                    by=history.command_user(),
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            except KeyboardInterrupt:
                raise CommandError(
                    f"Interrupted after {bar.n:,} interactions. Those written are kept and counted in the daily "
                    "counts; run the same command again to complete the rest.",
                    returncode=130,
                ) from None
            seconds = time.monotonic() - started
        for result in results.values():
            self.stdout.write(f"{result.collection}: {result.added} added, {result.present} already present")
        rate = total / seconds if seconds else 0
        self.stdout.write(f"{total:,} interactions in {seconds:,.1f} s ({rate:,.0f} interactions/s).")
