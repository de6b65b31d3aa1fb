"""How errors become JSON responses: a client never sees a traceback or a 500 for its input.

The one place where domain errors (``topbox.errors``, ``HasDependents``) and MongoDB's
errors get their HTTP status; views let them propagate.
"""

import logging

from django.http import JsonResponse
from mongoengine.errors import ValidationError as DocumentValidationError
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from topbox.documents import HasDependents, field_errors
from topbox.errors import InvalidArguments, Unprocessable

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
        return Response({"detail": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Unprocessable):
        return Response(exc.as_dict(), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, DuplicateKeyError):
        return Response({"detail": "A document with this key already exists."}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (ServerSelectionTimeoutError, ConnectionFailure)):
        logger.error("MongoDB unavailable: %s", exc)
        return Response({"detail": "The database is unavailable; try again shortly."}, status=503)
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)
