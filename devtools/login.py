"""The local development login that `make run` sets up (never under production settings)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from rest_framework.authtoken.models import Token

DEVELOPMENT_USERNAME = "dev"
DEVELOPMENT_PASSWORD = "dev"


def ensure_development_user():
    """Create (once) a local staff superuser and its API token; return ``(username, password, token)``."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("The development user is never created under production settings.")
    User = get_user_model()  # noqa: N806 - Django's idiom
    user = User.objects.filter(username=DEVELOPMENT_USERNAME).first()
    if user is None:
        user = User.objects.create_superuser(DEVELOPMENT_USERNAME, password=DEVELOPMENT_PASSWORD)
    token, _ = Token.objects.get_or_create(user=user)
    return DEVELOPMENT_USERNAME, DEVELOPMENT_PASSWORD, token.key
