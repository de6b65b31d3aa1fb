"""The Content-Security-Policy header (Django 5.2 has none of its own; 6.0 adds one)."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every response that has none (empty: off).

    The pages we serve keep to it: the admin and the browsable API load scripts from
    ``/static/`` only, and the API docs use drf-spectacular's split view, whose start-up
    script is a separate file.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
