"""``GET /healthz``: for load balancers and orchestrators; no authentication."""

import logging

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from topbox import mongo

logger = logging.getLogger(__name__)


@require_safe
def healthz(request):
    try:
        mongo.ping()
    except mongo.MongoUnavailable as exc:
        logger.error("Health check failed: %s", exc)
        # The full message names hosts; the public answer says only what failed.
        return JsonResponse(
            {"status": "unavailable", "mongo": "down", "reason": "MongoDB did not answer a ping"}, status=503
        )
    return JsonResponse({"status": "ok", "mongo": "up"})
