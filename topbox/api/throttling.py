"""Request throttles, counted in Django's cache so that every process and machine shares them.

Rates come from ``settings.API_THROTTLE_RATES`` (read per request, so a changed setting
applies at once); ``None`` turns a throttle off. The client's address is DRF's: the
``REMOTE_ADDR``, or the X-Forwarded-For entry added by the ``NUM_PROXIES`` proxies we trust.
"""

from django.conf import settings
from rest_framework import exceptions, throttling


class _SettingsRate:
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Anonymous requests per address (the routes open to them: the schema and the docs)."""


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Authenticated requests per user, whichever process or machine serves them."""


class FailedTokenThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """Failed token attempts per address: over the rate, every token from there is refused.

    Refusing the good tokens too is the point: otherwise guessing could go on, only the
    misses being answered with 429.
    """

    scope = "failed_token"

    def __init__(self, request):
        super().__init__()
        self.key = self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def check(self, history=None):
        """Raise :class:`~rest_framework.exceptions.Throttled` while this address is over its
        rate. ``history``: the stored one, when the caller has read it already."""
        if self.rate is None:
            return
        self.now = self.timer()
        if history is None:
            history = self.cache.get(self.key, [])
        self.history = [at for at in history if at > self.now - self.duration]
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(self.wait())

    def record_failure(self):
        if self.rate is None:
            return
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


def client_ip(request):
    """The client's address as the throttles see it (for django-axes too)."""
    return throttling.BaseThrottle().get_ident(request)
