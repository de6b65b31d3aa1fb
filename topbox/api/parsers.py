"""Request bodies in JSON, with the seed's Extended JSON values (``$oid``, ``$date``)."""

import io
import json

from bson.errors import BSONError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from topbox import extjson
from topbox.api.renderers import ExtendedJSONRenderer


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class ExtendedJSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = ExtendedJSONRenderer  # pre-fills the browsable API's raw form

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = stream.read().decode("utf-8")
            return extjson.loads(text, parse_constant=_refuse_constant)
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise ParseError(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
        except (TypeError, ValueError, BSONError) as exc:
            raise ParseError(f"Invalid Extended JSON: {exc}") from None


class CSVParser(BaseParser):
    """A CSV file as the whole request body: handed on as a seekable binary stream."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return io.BytesIO(stream.read() if stream is not None else b"")
