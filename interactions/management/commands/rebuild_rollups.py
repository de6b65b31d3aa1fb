import contextlib
from collections import Counter

from django.core.management.base import CommandError

from interactions.counts import rebuilding
from topbox.management.base import MongoCommand
from topbox.management.progress import progress


class Command(MongoCommand):
    help = (
        "Recompute the daily counts that statistics read (interactions.counts) from the interactions "
        "themselves, one engagement at a time, or with --check only compare them (exit 1 if they differ)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args, check=False, verbosity=1, **options):
        with contextlib.ExitStack() as bars:
            report = self._reporter(bars, verbosity)
            if check:
                differing = rebuilding.differences(on_progress=report)
            else:
                days = rebuilding.rebuild(on_progress=report)
        if not check:
            self.stdout.write(f"Rebuilt the daily counts: {days} engagement-days.")
        elif differing:
            for key in differing:
                self.stdout.write(f"differs: {key}")
            kinds = Counter(rebuilding.kind_of(key) for key in differing)
            summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
            raise CommandError(
                f"{len(differing)} stored counts differ from the interactions ({summary}): "
                "run `manage.py rebuild_rollups`."
            )
        else:
            self.stdout.write("The daily counts match the interactions.")

    def _reporter(self, bars, verbosity):
        """``on_progress(done, total)`` for the rebuild or the check: a bar with the rate and the time so far
        on a terminal, a line every tenth of the engagements elsewhere (stderr), made at the
        first call (when the total is known) and closed with ``bars``."""
        bar = None

        def report(done, total):
            nonlocal bar
            if bar is None:
                bar = bars.enter_context(progress(self.stderr, total, "engagements", verbosity))
            bar.update(done - bar.n)

        return report
