from pathlib import Path

from bson import ObjectId
from django.core.management.base import CommandError
from tqdm import tqdm

from engagements.documents import Engagement
from interactions import ingest
from topbox import history
from topbox.management.base import MongoCommand

SHOWN_PROBLEMS = 10


class Command(MongoCommand):
    help = (
        "Load a CSV report into an engagement's interactions, one per row (see README: Ingesting CSV files). "
        "Safe to run again: rows already stored are skipped. Exits non-zero if any row was rejected."
    )

    def add_arguments(self, parser):
        defaults = ingest.Columns()
        parser.add_argument("file", help="The CSV file (UTF-8, with a header row).")
        parser.add_argument("--engagement", required=True, help="Id of the engagement the rows belong to.")
        parser.add_argument(
            "--name", help="Store the rows under this file name (custom.csvName) instead of the file's own name."
        )
        parser.add_argument("--date-column", default=defaults.date, help="Default: %(default)s.")
        parser.add_argument(
            "--date-format", help="A strptime format such as '%%d/%%m/%%Y %%H:%%M' (default: ISO 8601)."
        )
        parser.add_argument("--tz", default="UTC", help="Zone of timestamps without one (default: %(default)s).")
        parser.add_argument("--agent-column", default=defaults.agent, help="Default: %(default)s.")
        parser.add_argument(
            "--first-name-column",
            default=defaults.first_name,
            help="Used with --last-name-column when the agent column is absent or empty. Default: %(default)s.",
        )
        parser.add_argument("--last-name-column", default=defaults.last_name, help="Default: %(default)s.")
        parser.add_argument("--sentiment-column", default=defaults.sentiment, help="Default: %(default)s.")
        parser.add_argument("--strict", action="store_true", help="Check every row first; write nothing if one is bad.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the rows stored earlier from this file name first (a corrected file). Implies --strict.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and count; write nothing.")
        parser.add_argument(
            "--rejects",
            help="Where to write rejected rows (default: FILE's name + .rejects.csv). Written only if a row is "
            "rejected; never an input, and an existing file there only if it is a rejects file.",
        )
        parser.add_argument("--batch-size", type=int, default=ingest.BATCH_SIZE, help="Default: %(default)s.")

    def handle(self, *args, file, engagement, name, rejects, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        target = ObjectId.is_valid(engagement) and Engagement.objects(pk=engagement).first()
        if not target:
            raise CommandError(f"Engagement {engagement} does not exist.")
        try:
            settings = ingest.Options(
                columns=ingest.Columns(
                    date=options["date_column"],
                    agent=options["agent_column"],
                    first_name=options["first_name_column"],
                    last_name=options["last_name_column"],
                    sentiment=options["sentiment_column"],
                ),
                timezone=options["tz"],
                date_format=options["date_format"],
                strict=options["strict"],
                replace=options["replace"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        rejects_path = Path(rejects) if rejects else ingest.default_rejects_path(path)
        try:
            ingest.check_rejects_path(rejects_path, inputs=[path])
        except ValueError as exc:
            raise CommandError(str(exc)) from None

        read = [0]  # rows read so far, for the message on Ctrl-C

        def progress(rows):
            bar.update(rows - read[0])
            read[0] = rows

        # A progress bar on a terminal only (disable=None); elsewhere, the summary below.
        with path.open("rb") as stream, ingest.RejectsFile(rejects_path) as rejected, tqdm(
            unit=" rows", disable=None, desc=path.name
        ) as bar:  # fmt: skip
            try:
                result = ingest.ingest_csv(
                    stream,
                    name or path.name,
                    target,
                    settings,
                    on_reject=rejected,
                    on_progress=progress,
                    by=history.command_user(),
                    via="manage.py ingest",
                )
            except ingest.IngestError as exc:
                where = f" Rejected rows are in {rejects_path}." if rejected.written else ""
                rejected.finish()
                raise CommandError(f"{path}: {_listed(str(exc), exc.problems)}{where}") from None
            except KeyboardInterrupt:
                raise CommandError(
                    f"Interrupted after {read[0]} rows. The rows stored so far are kept; "
                    "run the same command again to complete the file.",
                    returncode=130,
                ) from None

        self.stdout.write(self._summary(result, target))
        if not result.rejected and rejects_path.exists():
            self.stdout.write(f"No row was rejected; {rejects_path} is from an earlier run (left as it was).")
        if result.rejected:
            raise CommandError(
                _listed(f"{result.rejected} of {result.rows} rows rejected.", result.problems)
                + f" Rejected rows are in {rejects_path}."
                + ("" if result.dry_run else " The other rows were stored: fix these in the file and run it again.")
            )

    def _summary(self, result, engagement):
        rate = result.rows / result.seconds if result.seconds else 0
        if result.dry_run:
            done = f"{result.rows - result.rejected} rows would be added or already present"
            if result.replaced:
                done += f", after replacing {result.replaced}"
            done += " (dry run: nothing was written)"
        else:
            done = f"{result.inserted} added, {result.already_present} already present"
            if result.replaced:
                done += f", {result.replaced} replaced first"
        return (
            f"{result.csv_name} into engagement {engagement.pk} ({engagement.name}): {result.rows} rows read, "
            f"{done}, {result.rejected} rejected, in {result.seconds:.1f} s ({rate:,.0f} rows/s)."
        )


def _listed(message, problems):
    shown = "; ".join(str(problem) for problem in problems[:SHOWN_PROBLEMS])
    more = "; ..." if len(problems) > SHOWN_PROBLEMS else ""
    return f"{message} {shown}{more}." if shown else message
