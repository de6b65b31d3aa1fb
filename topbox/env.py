"""Reading configuration from the environment, with errors that name the variable."""

import math
import os
from collections import Counter

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def get(name, default):
    return os.environ.get(name, default)


def get_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def get_int(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}.") from None


def get_choice(name, default, choices):
    raw = os.environ.get(name, default)
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(c for c in choices if c)}; got {raw!r}.")
    return raw


def get_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def require_production(**checks):
    """Refuse to start production with any setting still at its development default.

    Each keyword names an environment variable; its value says whether the setting
    derived from it is fit for production.
    """
    failing = sorted(name for name, ok in checks.items() if not ok)
    if failing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production refuses development defaults; set "
            + ", ".join(failing)
            + " (see the configuration table in README.md)."
        )


MIN_SECRET_BITS = 256


def secret_key_bits(key):
    """A generous estimate of a key's entropy: its length times the Shannon entropy of its
    characters. ``"a" * 32`` has 0 bits; ``secrets.token_urlsafe(50)`` about 370."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_character = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return len(key) * per_character


def strong_secret_key(key):
    """At least 50 characters (Django's own deploy check) and :data:`MIN_SECRET_BITS` of entropy."""
    return len(key) >= 50 and not key.startswith("django-insecure") and secret_key_bits(key) >= MIN_SECRET_BITS


def get_database(name, default):
    """A ``DATABASES`` entry from the URL in ``name`` (dj-database-url), else ``default``."""
    import dj_database_url

    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL Django can use: {exc}") from None


# CACHE_URL schemes: every one but locmem is shared by all the processes that use it.
_CACHE_BACKENDS = {
    "db": "topbox.cache.DatabaseCache",  # Django's, reading with less work per call
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
}
DEFAULT_CACHE_TABLE = "topbox_cache"
PER_PROCESS_CACHE = _CACHE_BACKENDS["locmem"]


def get_cache(name, default):
    """A ``CACHES`` entry from ``name``: ``redis://host:6379/0``, ``db://[table]`` or ``locmem://``."""
    raw = os.environ.get(name) or default
    scheme, separator, rest = raw.partition("://")
    if not separator or scheme not in _CACHE_BACKENDS:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in _CACHE_BACKENDS)}; got {raw!r}."
        )
    if scheme.startswith("redis"):
        location = raw
    elif scheme == "db":
        location = rest.strip("/") or DEFAULT_CACHE_TABLE
    else:
        location = rest
    return {"BACKEND": _CACHE_BACKENDS[scheme], "LOCATION": location, "KEY_PREFIX": "topbox"}


_RATE_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def get_rate(name, default):
    """A DRF rate (``"60/minute"``), or None for ``off``: no limit."""
    raw = os.environ.get(name, default).strip()
    if raw.lower() in ("off", "none"):
        return None
    count, _, period = raw.partition("/")
    if not count.isdigit() or period not in _RATE_PERIODS:
        raise ImproperlyConfigured(f"{name} must be a rate like 60/minute (or off); got {raw!r}.")
    return raw
