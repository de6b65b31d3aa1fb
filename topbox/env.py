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
