"""The Content-Security-Policy header (Django 5.2 has none of its own; 6.0 adds one)."""

from django.conf import settings

# Same-origin everything; inline styles (the admin's) allowed, inline scripts not.
DEFAULT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every response that has none (empty: off).

    The pages we serve keep to it: the admin and the browsable API load scripts from
    ``/static/`` only, and the API docs use drf-spectacular's split view, whose start-up
    script is a separate file.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
