"""Token authentication that does not query SQL on every request."""

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from topbox.api.throttling import FailedTokenThrottle

LOCAL_USERS = 10_000  # token users a process keeps unpickled at most


def cache_key(token_key):
    return "topbox.token." + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, remembering each token's user for ``TOKEN_CACHE_SECONDS``.

    The memory is Django's cache, which every process shares (``CACHE_URL``): it holds a
    stamp per token, and each process keeps the user it loaded for that stamp in a plain
    dict (unpickling a user per request costs more than the rest of authenticating).
    The user is loaded with its client membership, so scoping a client user costs no query
    either. Deleting a token, or saving its user (deactivating it, changing staff status),
    deletes the shared entry (``topbox.api.signals``): every process and machine then finds
    no stamp and refuses the token or loads the user again, at once.
    Failed attempts are counted per address (:class:`FailedTokenThrottle`); the count and
    the token's stamp are read in one cache round trip.
    """

    users = {}  # this process's: cache key -> (stamp, user)

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: nothing to count
        throttle = FailedTokenThrottle(request)
        self.key = cache_key(header[1].decode(errors="replace")) if len(header) == 2 else None
        found = cache.get_many([throttle.key, self.key] if self.key else [throttle.key])
        throttle.check(found.get(throttle.key, []))
        self.stamp = found.get(self.key)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise

    def authenticate_credentials(self, key):
        entry_key = cache_key(key)
        local = self.users.get(entry_key)
        stamp = self.stamp if entry_key == self.key else cache.get(entry_key)
        if stamp is not None and local is not None and local[0] == stamp:
            return local[1], key
        try:
            token = Token.objects.select_related("user", "user__client_membership").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if stamp is None:  # else another process loaded it for this stamp: the same user, adopted
            stamp = uuid.uuid4().hex
            cache.set(entry_key, stamp, settings.TOKEN_CACHE_SECONDS)
        if len(self.users) >= LOCAL_USERS:
            self.users.clear()
        self.users[entry_key] = (stamp, user)
        return user, key
