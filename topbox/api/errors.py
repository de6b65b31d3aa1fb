"""How errors become JSON responses: a client never sees a traceback or a 500 for its input.

The one place where domain errors (``topbox.errors``, ``HasDependents``) and MongoDB's
errors get their HTTP status; views let them propagate.

One shape everywhere on the API: ``{"detail": "<message>"}`` (sometimes with more keys,
such as ``dependents`` or ``problems``), or, for invalid fields, DRF's
``{"<field>": ["<message>", ...]}``.
"""

import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.views import defaults
from mongoengine.errors import ValidationError as DocumentValidationError
from pymongo.errors import DuplicateKeyError
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from topbox import mongo
from topbox.api import idempotency
from topbox.documents import HasDependents, field_errors
from topbox.errors import InvalidArguments, Unprocessable
from topbox.middleware import DatabaseDeadlineMiddleware
from topbox.transactions import OutcomeUnknown

logger = logging.getLogger(__name__)


def document_errors(error):
    """``{field: [messages]}`` from a MongoEngine ValidationError."""
    return {field or "non_field_errors": [message] for field, message in field_errors(error).items()}


def exception_handler(exc, context):
    if isinstance(exc, HasDependents):
        return Response({"detail": str(exc), "dependents": exc.counts}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DocumentValidationError):
        return Response(document_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidArguments):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Unprocessable):
        return Response(exc.as_dict(), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, OutcomeUnknown):
        logger.error("MongoDB did not confirm a commit: %s", exc.__cause__)
        return Response(
            {
                "detail": f"{exc} Send the same request again to be sure: a POST with the same {idempotency.HEADER} "
                "header creates nothing twice.",
                "outcome": "unknown",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, DuplicateKeyError):
        return Response({"detail": "A document with this key already exists."}, status=status.HTTP_409_CONFLICT)
    if mongo.is_too_slow(exc):
        request = context["request"]
        limit = DatabaseDeadlineMiddleware.deadline_ms(request)
        logger.warning("MongoDB query over %s ms: %s", limit, exc)
        if request.method in SAFE_METHODS:
            detail = (
                f"The query took longer than {limit} ms and was stopped: narrow it (from/to, an "
                "engagement or a client, a smaller page_size) and try again."
            )
        elif getattr(context.get("view"), "writes_in_batches", False):
            detail = (
                f"The import took longer than {limit} ms and was stopped after its first batches: send the "
                "same file again (the rows stored already are skipped, and each batch is stored whole or not at all)."
            )
        else:  # its transaction was aborted (topbox.transactions.atomic)
            detail = f"The write took longer than {limit} ms and was stopped: nothing was written; try again."
        return Response({"detail": detail, "limit": limit}, status=status.HTTP_504_GATEWAY_TIMEOUT)
    if mongo.is_unavailable(exc):
        logger.error("MongoDB unavailable: %s", exc)
        return Response({"detail": "The database is unavailable; try again shortly."}, status=503)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):  # ValidationError("message")
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response


def bad_request(request, exception=None):
    """A request Django refuses before any view (a Host it does not serve, too many
    parameters): JSON on the API, Django's own page for the admin and other HTML pages."""
    if is_html_route(request.path):
        return defaults.bad_request(request, exception)
    message = "Bad request."
    if isinstance(exception, DisallowedHost):
        message = "Bad request: the Host header is not one this server answers to."
    elif isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        message = f"Bad request: more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters."
    return JsonResponse({"detail": message}, status=400)


def is_html_route(path):
    return path.startswith(("/admin/", "/api-auth/", "/docs"))


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)
