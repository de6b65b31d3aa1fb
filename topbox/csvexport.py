"""Documents as CSV, streamed: the admin's export and the API's ``text/csv`` lists.

One row per stored document, one column per field in the document's order (``_id``
first, stored names as in the API). Ids are 24 hex characters, dates ISO 8601 in UTC
(``2020-05-16T12:00:00.000Z``), absent values empty, and objects or lists (``custom``)
compact Extended JSON, as the API shows them. Rows are read from the cursor in batches
and written one by one, so memory stays flat whatever the number of rows.
"""

import csv
import datetime
import io

from bson import ObjectId
from django.http import StreamingHttpResponse

from topbox import extjson

BATCH_SIZE = 1000
CHUNK = 64 * 1024  # bytes sent at a time


def columns(document_cls, only=None):
    """The stored names of the fields, ``_id`` first; ``only`` keeps those named (and ``_id``)."""
    names = [document_cls._fields[name].db_field for name in document_cls._fields_ordered]
    names = ["_id", *(name for name in names if name != "_id")]
    return names if only is None else [name for name in names if name == "_id" or name in only]


def cell(value):
    if value is None:
        return ""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime.datetime):
        value = value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value.astimezone(datetime.UTC)
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict | list):
        return extjson.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def lines(names, rows):
    """The CSV text of ``rows`` (raw documents) under the header ``names``, line by line, as bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode()

    writer.writerow(names)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in names])
        if buffer.tell() >= CHUNK:
            yield flush()
    yield flush()


def response(names, rows, filename):
    """A streamed ``text/csv`` download of ``rows`` (an iterable of raw documents)."""
    streamed = StreamingHttpResponse(lines(names, rows), content_type="text/csv; charset=utf-8")
    streamed["Content-Disposition"] = f'attachment; filename="{filename}"'
    return streamed
