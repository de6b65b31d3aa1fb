"""Token authentication that does not query SQL on every request."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from topbox.api.throttling import FailedTokenThrottle


def cache_key(token_key):
    return "topbox.token." + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, remembering each token's user for ``TOKEN_CACHE_SECONDS``.

    The memory is Django's cache, which every process shares (``CACHE_URL``). The user is
    loaded with its client membership, so scoping a client user costs no query either.
    Deleting a token, or saving its user (deactivating it, changing staff status), deletes
    the entry (``topbox.api.signals``): every process and machine refuses it at once.
    Failed attempts are counted per address (:class:`FailedTokenThrottle`).
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: nothing to count
        throttle = FailedTokenThrottle(request)
        throttle.check()
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise

    def authenticate_credentials(self, key):
        user = cache.get(cache_key(key))
        if user is None:
            try:
                token = Token.objects.select_related("user", "user__client_membership").get(key=key)
            except Token.DoesNotExist:
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            user = token.user
            if not user.is_active:
                raise exceptions.AuthenticationFailed("User inactive or deleted.")
            cache.set(cache_key(key), user, settings.TOKEN_CACHE_SECONDS)
        return user, key
