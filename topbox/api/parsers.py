"""Request bodies: JSON (the serializer fields read the seed's ``{"$oid"}`` and ``{"$date"}``
values themselves, so nothing else in a body turns into a BSON type), and CSV uploads."""

import io
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from topbox.api.renderers import ExtendedJSONRenderer


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = ExtendedJSONRenderer  # pre-fills the browsable API's raw form

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json.loads(stream.read().decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise ParseError(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
        except ValueError as exc:
            raise ParseError(f"Invalid JSON: {exc}.") from None
        except RecursionError:
            raise ParseError("Invalid JSON: nested too deeply.") from None


class CSVParser(BaseParser):
    """A CSV file as the whole request body: handed on as a seekable binary stream."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return io.BytesIO(stream.read() if stream is not None else b"")
