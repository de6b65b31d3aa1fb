from django.core.management.base import CommandError

from interactions import rollups
from topbox.management.base import MongoCommand


class Command(MongoCommand):
    help = (
        "Recompute the daily counts that statistics read (interactions.rollups) from the interactions "
        "themselves, or with --check only compare them (exit 1 if they differ)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args, check=False, **options):
        if check:
            differing = rollups.differences()
            if differing:
                shown = ", ".join(differing[:10]) + (" ..." if len(differing) > 10 else "")
                raise CommandError(
                    f"{len(differing)} engagement-days differ from the interactions ({shown}): "
                    "run `manage.py rebuild_rollups`."
                )
            self.stdout.write("The daily counts match the interactions.")
            return
        days = rollups.rebuild()
        self.stdout.write(f"Rebuilt the daily counts: {days} engagement-days.")
