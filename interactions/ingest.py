"""Loading interactions from CSV reports: one interaction per data row, idempotently.

Used by ``manage.py ingest`` and by the API's imports endpoint: both hand
:func:`ingest_csv` a binary stream and a file name.

- Each row becomes an interaction of the engagement: ``interactionDate`` from a date column
  (ISO 8601 unless a ``strptime`` format is given; a timestamp without a zone is read in
  ``Options.timezone``, UTC by default), ``agentName`` from a name column or from first and
  last name columns, ``sentiment`` normalised to one of ``SENTIMENTS`` (absent when
  empty). ``custom`` keeps every original column as text, plus ``csvName`` (the file name)
  and ``csvLine`` (the line the row starts on; the header is line 1).
- Re-ingesting a file adds nothing: the ``csv_row_unique`` index on engagement + csvName +
  csvLine refuses a row already stored, and those duplicate-key errors are counted as
  "already present". So a run that crashed or was interrupted midway is completed by
  running it again. A corrected file is loaded with ``replace`` (the rows stored earlier
  under that name are deleted first) or under another name.
- Bad rows (unparsable or missing date, missing agent, unknown sentiment, wrong number of
  columns, invalid UTF-8) are reported with their line number. By default the good rows
  are stored; ``strict`` (and ``replace``) check the whole file first and write nothing if
  any row is bad. A header MongoDB cannot store (a column named ``$x`` or ``a.b``, a
  duplicate or empty name) stops the whole file.
- Every rule MongoDB would enforce on a row (16 MiB per document, storable keys and
  values) is checked before the row is written: a row it would refuse is a rejected row
  like any other, so ``strict`` writes nothing and a re-run completes.
- The file is streamed and written in unordered bulk batches, so memory stays flat.
- Rejected rows go to a CSV next to the input (:class:`RejectsFile`); its path is checked
  before any work (:func:`check_rejects_path`) and it never replaces an input.
"""

import csv
import datetime
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import bson

from interactions.documents import SENTIMENTS, Interaction
from topbox import history
from topbox.documents import MissingParents, insert_new, write
from topbox.errors import InvalidArguments, Unprocessable
from topbox.fields import MAX_DOCUMENT_BYTES, control_character_problem, is_valid_unicode, storage_problems

DELETE_BATCH = 1000  # rows a replacing ingest deletes (and uncounts) per transaction
NAME_KEY = "csvName"
LINE_KEY = "csvLine"
UNIQUE_INDEX = "csv_row_unique"
BATCH_SIZE = 1000
MAX_REPORTED = 100  # problems kept in memory (and returned); every one goes to on_reject
AGENT_MAX_LENGTH = Interaction.agentName.max_length
SENTIMENT_BY_KEY = {sentiment.casefold(): sentiment for sentiment in SENTIMENTS}


@dataclass(frozen=True)
class Columns:
    """The CSV columns holding the interaction's fields (defaults: the seed's CSV rows)."""

    date: str = "interactionDate"
    agent: str = "agentName"  # used when present and not empty, else first + last name
    first_name: str = "agentFirstName"
    last_name: str = "agentLastName"
    sentiment: str = "sentiment"  # optional: without it, no row has a sentiment


@dataclass(frozen=True)
class Options:
    """How to read and write one file. Raises :class:`OptionsError` for an unknown zone."""

    columns: Columns = field(default_factory=Columns)
    timezone: str = "UTC"  # for timestamps without a zone
    date_format: str | None = None  # a strptime format; None reads ISO 8601
    strict: bool = False  # check every row first; write nothing if one is bad
    replace: bool = False  # delete the rows stored earlier under this file name (implies strict)
    dry_run: bool = False  # check and count, write nothing
    batch_size: int = BATCH_SIZE

    def __post_init__(self):
        _zone(self.timezone)  # raises for an unknown zone
        if self.batch_size < 1:
            raise OptionsError("The batch size must be at least 1.")

    @property
    def checks_first(self):
        return self.strict or self.replace


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"

    def as_dict(self):
        return {"line": self.line, "reason": self.reason}


@dataclass
class IngestResult:
    csv_name: str
    dry_run: bool = False
    rows: int = 0  # data rows read, good and bad
    inserted: int = 0
    already_present: int = 0  # rows this file had already stored (duplicate key)
    replaced: int = 0  # rows of an earlier ingest of this name, deleted first (replace)
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first MAX_REPORTED rejects
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.rejected

    def reject(self, problem):
        self.rejected += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)


class OptionsError(InvalidArguments):
    """The options cannot be used (an unknown zone, a stream that cannot be read twice)."""


class IngestError(Unprocessable):
    """The file cannot be ingested: nothing was written.

    ``problems`` lists the first :data:`MAX_REPORTED` problems (a header problem is on
    line 1); ``rejected`` counts the bad rows (0 when the header itself is the problem).
    """

    def __init__(self, message, problems=(), rejected=0):
        self.problems = list(problems)
        self.rejected = rejected
        super().__init__(message)

    def as_dict(self):
        return {"detail": str(self), "rejected": self.rejected, "problems": [p.as_dict() for p in self.problems]}


class RowRejected(Exception):
    """One row that cannot become an interaction; the message is the reason."""


def ingest_csv(stream, csv_name, engagement, options=None, *, on_reject=None, on_progress=None, by=None, via=None):
    """Ingest a CSV file into ``engagement``'s interactions; return an :class:`IngestResult`.

    ``stream`` is a binary file object positioned at the start of the file (seekable when
    ``options.strict`` or ``options.replace``: the file is read twice); ``csv_name`` is
    stored as ``custom.csvName`` and keys the rows with their line numbers. Every rejected
    row is passed to ``on_reject(problem, header, fields)``; ``on_progress(rows)`` is called
    after each batch with the number of rows read so far. ``by`` (a user) and ``via`` ("the
    API") are recorded in the engagement's history, one entry for the whole file.

    Bad rows are stored nowhere and counted in the result. Raises :class:`IngestError`
    (nothing written) when the header is unusable, when a strict or replacing ingest finds
    any bad row, or when the unique index is missing.
    """
    options = options or Options()
    csv_name = csv_name.strip() if csv_name else ""
    if not csv_name:
        raise IngestError("The file needs a name: it is stored as custom.csvName and keys its rows.")
    if problem := control_character_problem(csv_name):
        raise IngestError(f"The file's name {problem}.")
    if options.checks_first and not stream.seekable():
        raise OptionsError("A strict or replacing ingest reads the file twice: it needs a seekable stream.")
    collection = Interaction._get_collection()
    if not options.dry_run and UNIQUE_INDEX not in collection.index_information():
        raise IngestError(
            f"The index {UNIQUE_INDEX} is missing, so a re-run could duplicate rows: run `manage.py ensure_indexes`."
        )
    started = time.monotonic()
    result = IngestResult(csv_name, dry_run=options.dry_run)
    start = stream.tell() if options.checks_first else None

    if options.checks_first:
        checked = IngestResult(csv_name)
        _process(stream, _RowReader(csv_name, engagement.pk, options), checked, options, None, on_reject, None)
        if checked.rejected:
            raise IngestError(
                f"{checked.rejected} of {checked.rows} rows rejected; nothing was written.",
                checked.problems,
                checked.rejected,
            )
        stream.seek(start)
        if options.replace:
            query = {
                "engagementId": engagement.pk,
                f"custom.{NAME_KEY}": csv_name,
                f"custom.{LINE_KEY}": {"$exists": True},
            }
            if options.dry_run:
                result.replaced = collection.count_documents(query)
            else:
                result.replaced = _delete_rows(query)

    write = None if options.dry_run else collection
    _process(stream, _RowReader(csv_name, engagement.pk, options), result, options, write, on_reject, on_progress)
    result.seconds = time.monotonic() - started
    if by is not None and not options.dry_run:
        replaced = f", {result.replaced} replaced first" if result.replaced else ""
        history.bulk(
            by,
            engagement,
            f"Ingested {csv_name} through {via or 'an ingest'}: {result.rows} rows read, {result.inserted} added, "
            f"{result.already_present} already present{replaced}, {result.rejected} rejected.",
        )
    return result


def _process(stream, reader, result, options, collection, on_reject, on_progress):
    """Read every row into ``result``; insert the good ones into ``collection`` unless None."""
    batch = []
    for line, fields, malformed in reader.rows(stream):
        result.rows += 1
        try:
            if malformed:
                raise RowRejected(malformed)
            batch.append(reader.document(line, fields))
        except RowRejected as exc:
            problem = Problem(line, str(exc))
            result.reject(problem)
            if on_reject:
                on_reject(problem, reader.header, fields)
            continue
        if len(batch) >= options.batch_size:
            _insert(collection, batch, result)
            batch = []
            if on_progress:
                on_progress(result.rows)
    _insert(collection, batch, result)
    if on_progress:
        on_progress(result.rows)


def _insert(collection, documents, result):
    """Insert the rows not stored yet (their CSV line, not their ``_id``, says so), counted
    in the same transaction: a batch is stored whole or not at all, so a rerun of an
    interrupted ingest completes it. If the engagement was deleted meanwhile, nothing of the
    batch is written and the ingest stops."""
    if collection is None or not documents:
        return
    for document in documents:
        document.setdefault("_id", bson.ObjectId())
    try:
        inserted, present = insert_new(Interaction, documents, stored=_stored_lines)
    except MissingParents:
        raise IngestError("The engagement was deleted during the ingest; nothing of this batch was written.") from None
    result.inserted += len(inserted)
    result.already_present += present


def _stored_lines(documents, session):
    """The positions in ``documents`` (rows of one file and engagement) of those whose CSV
    line is stored: one indexed range over the batch's lines."""
    lines = [document["custom"][LINE_KEY] for document in documents]
    first = documents[0]
    query = {
        "engagementId": first["engagementId"],
        f"custom.{NAME_KEY}": first["custom"][NAME_KEY],
        f"custom.{LINE_KEY}": {"$gte": min(lines), "$lte": max(lines)},
    }
    stored = Interaction._get_collection().find(query, {f"custom.{LINE_KEY}": 1}, session=session)
    found = {row["custom"][LINE_KEY] for row in stored}
    return {position for position, line in enumerate(lines) if line in found}


def _delete_rows(query):
    """Delete the interactions matching ``query``, uncounted in the same transaction, a
    batch at a time; return how many."""
    collection = Interaction._get_collection()
    deleted = 0
    while True:

        def change(session):
            rows = list(collection.find(query, session=session).limit(DELETE_BATCH))
            collection.delete_many({"_id": {"$in": [row["_id"] for row in rows]}}, session=session)
            return rows, []

        rows, _ = write(Interaction, change)
        deleted += len(rows)
        if len(rows) < DELETE_BATCH:
            return deleted


class _RowReader:
    """Reads the header, then turns each row into an interaction document (a dict)."""

    def __init__(self, csv_name, engagement_id, options):
        self.csv_name = csv_name
        self.engagement_id = engagement_id
        self.columns = options.columns
        self.zone = _zone(options.timezone)
        self.date_format = options.date_format
        self.header = None

    def rows(self, stream):
        """Yield ``(line, fields, malformed)`` for each data row; ``line`` is where it starts.

        ``malformed`` is the CSV parser's complaint about a row it could not split (a stray
        quote, a field over the csv module's size limit), else None; reading goes on after it.
        """
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            reader = csv.reader(text, strict=True)
            line = 1
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    if self.header is None:
                        raise IngestError(
                            f"line {line} (header): malformed CSV ({exc}); nothing was written."
                        ) from None
                    yield line, [], f"malformed CSV: {exc}"
                else:
                    if not fields:  # a blank line
                        pass
                    elif self.header is None:
                        self.check_header(line, fields)
                    else:
                        yield line, fields, None
                line = reader.line_num + 1
            if self.header is None:
                raise IngestError("The file is empty: it needs a header row naming its columns.")
        finally:
            text.detach()  # leave the caller's stream open

    def check_header(self, line, header):
        problems = []
        seen = set()
        for number, name in enumerate(header, start=1):
            if not is_valid_unicode(name):
                problems.append(f"column {number}: the name is not valid UTF-8")
            elif not name.strip():
                problems.append(f"column {number} has no name")
            elif name in seen:
                problems.append(f"column {name!r} appears twice")
            elif name in (NAME_KEY, LINE_KEY):
                problems.append(f"column {name!r} is reserved: ingest stores the file name and line number there")
            else:
                problems.extend(f"column {path!r}: {reason}" for path, reason in storage_problems({name: None}))
            seen.add(name)
        columns = self.columns
        if columns.date not in seen:
            problems.append(f"no date column {columns.date!r}")
        if not {columns.agent, columns.first_name, columns.last_name} & seen:
            problems.append(
                f"no agent column: expected {columns.agent!r}, or {columns.first_name!r} and {columns.last_name!r}"
            )
        if problems:
            raise IngestError(
                f"The header (line {line}) cannot be used; nothing was written.",
                [Problem(line, problem) for problem in problems],
            )
        self.header = header

    def document(self, line, fields):
        """The interaction for one row, as stored; raises :class:`RowRejected`."""
        if not all(is_valid_unicode(value) for value in fields):
            raise RowRejected("not valid UTF-8")
        if len(fields) != len(self.header):
            raise RowRejected(f"expected {len(self.header)} columns, found {len(fields)}")
        record = dict(zip(self.header, fields, strict=True))
        document = {
            "engagementId": self.engagement_id,
            "interactionDate": self.date(record),
            "agentName": self.agent(record),
        }
        sentiment = self.sentiment(record)
        if sentiment:
            document["sentiment"] = sentiment
        record[NAME_KEY] = self.csv_name
        record[LINE_KEY] = line
        document["custom"] = record
        check_size(document, fields)
        return document

    def date(self, record):
        name = self.columns.date
        raw = record[name].strip()
        if not raw:
            raise RowRejected(f"no date in column {name!r}")
        try:
            value = (
                datetime.datetime.strptime(raw, self.date_format)
                if self.date_format
                else datetime.datetime.fromisoformat(raw)
            )
        except ValueError:
            expected = f"format {self.date_format!r}" if self.date_format else "ISO 8601, e.g. 2020-05-16T12:00:00Z"
            raise RowRejected(f"unparsable date {raw!r} in column {name!r} (expected {expected})") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:  # 0001-01-01T00:00:00+05:00 is before the first representable instant
            raise RowRejected(f"date {raw!r} in column {name!r} is out of range") from None

    def agent(self, record):
        columns = self.columns
        name = record.get(columns.agent, "").strip()
        if not name:
            parts = (record.get(columns.first_name, "").strip(), record.get(columns.last_name, "").strip())
            name = " ".join(part for part in parts if part)
        if not name:
            raise RowRejected(
                f"no agent: {columns.agent!r}, {columns.first_name!r} and {columns.last_name!r} are empty or absent"
            )
        if len(name) > AGENT_MAX_LENGTH:
            raise RowRejected(f"agent name longer than {AGENT_MAX_LENGTH} characters")
        if problem := control_character_problem(name):
            raise RowRejected(f"agent name {problem}")
        return name

    def sentiment(self, record):
        raw = record.get(self.columns.sentiment, "").strip()
        if not raw:
            return None
        try:
            return SENTIMENT_BY_KEY[raw.casefold()]
        except KeyError:
            raise RowRejected(
                f"unknown sentiment {raw!r} in column {self.columns.sentiment!r} "
                f"(expected {', '.join(SENTIMENTS)} or empty)"
            ) from None


def check_size(document, fields):
    """Reject a row whose document MongoDB would refuse as over 16 MiB.

    Encoding costs a copy of the row, so only rows whose text could come near the limit
    (UTF-8 takes at most 4 bytes a character) are encoded to measure them exactly.
    """
    if 4 * sum(map(len, fields)) + 4 * sum(map(len, document["custom"])) < MAX_DOCUMENT_BYTES // 2:
        return
    size = len(bson.encode(document))
    if size > MAX_DOCUMENT_BYTES:
        raise RowRejected(
            f"the row makes a document of {size:,} bytes; MongoDB stores at most {MAX_DOCUMENT_BYTES:,} "
            "(16 MiB) per document"
        )


def _zone(name):
    """UTC needs no time-zone database; other zones come from the system's (or tzdata's)."""
    if name == "UTC":
        return datetime.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OptionsError(f"Unknown time zone {name!r} (use an IANA name such as Europe/Paris).") from None


def default_rejects_path(path):
    """``report.csv`` -> ``report.rejects.csv``, beside the input."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rejects.csv")


def check_rejects_path(path, inputs=()):
    """Raise ``ValueError`` if rejected rows cannot safely be written to ``path``.

    Called before any row is read: the directory must exist and be writable, the path
    must not be (or link to) any of ``inputs``, and a file already there must be a rejects
    file from an earlier run (its header starts with ``line,reason``), never anything else.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise ValueError(f"--rejects {path}: the directory {directory} does not exist.")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"--rejects {path}: the directory {directory} is not writable.")
    if path.is_dir():
        raise ValueError(f"--rejects {path} is a directory: give a file name.")
    for source in inputs:
        source = Path(source)
        same = path.resolve() == source.resolve() or (path.exists() and os.path.samefile(path, source))
        if same:
            raise ValueError(f"--rejects {path} is the input file: give another path (nothing was written).")
    if path.exists() and not _is_rejects_file(path):
        raise ValueError(
            f"--rejects {path} exists and is not a rejects file from an earlier run: "
            "give another path (it is never overwritten)."
        )


def _is_rejects_file(path):
    try:
        with path.open("rb") as file:
            return file.read(len(REJECTS_HEADER)) == REJECTS_HEADER
    except OSError:
        return False


REJECTS_HEADER = b"line,reason"


class RejectsFile:
    """Writes rejected rows to a CSV (line, reason, then the row as it was).

    Rows go to a temporary file beside ``path``, which replaces ``path`` only when the
    run ends (:meth:`finish`, or leaving the ``with`` block normally) having rejected
    something: a run that rejects nothing, or fails, leaves ``path`` as it was. Check the
    path first with :func:`check_rejects_path`.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._file = None
        self._writer = None

    def __call__(self, problem, header, fields):
        if self._writer is None:
            # surrogateescape writes undecodable bytes back exactly as they were read
            self._file = self._temporary.open("w", encoding="utf-8", errors="surrogateescape", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *header])
        self._writer.writerow([problem.line, problem.reason, *fields])

    @property
    def written(self):
        return self._file is not None

    def finish(self):
        """Put the rejected rows at ``path`` (if there were any)."""
        if self._file is not None:
            self._file.close()
            os.replace(self._temporary, self.path)
            self._file = None

    def close(self):
        if self._file is not None:
            self._file.close()
            self._temporary.unlink(missing_ok=True)
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.finish()
        self.close()
