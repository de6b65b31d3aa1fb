"""What a locked-out login sees (django-axes counts the failures; see settings.py).

The page says when to try again. The time is fixed when the lockout starts (failures
during it do not extend it) and kept in the shared cache, so every process and machine
gives the same answer.
"""

import hashlib

from axes.helpers import get_client_username
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone


def lockout_response(request, original_response=None, credentials=None):
    username = get_client_username(request, credentials) or ""
    identity = f"{username}\0{request.axes_ip_address}"
    key = "topbox.lockout." + hashlib.sha256(identity.encode()).hexdigest()
    cool_off = settings.AXES_COOLOFF_TIME
    retry_at = cache.get_or_set(key, timezone.now() + cool_off, cool_off.total_seconds())
    seconds = max(1, int((retry_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "topbox/login_locked.html",
        {"retry_at": retry_at, "minutes": -(-seconds // 60), "username": username},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
