from django.urls import NoReverseMatch, reverse
from rest_framework import routers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response


class APIRootView(routers.APIRootView):
    """Topbox's API. Ids and dates are MongoDB legacy Extended JSON, as in the system it replaces.

    Log in (top right) or send `Authorization: Token <key>`. Every list is paginated by
    cursor (`next`/`previous`); see the schema and the interactive docs for the
    parameters each route accepts.
    """

    name = "Topbox API"
    permission_classes = [AllowAny]  # only links: the data behind them needs a login
    extra_links = {"stats": "stats", "admin": "admin:index", "schema": "schema", "docs": "docs", "health": "healthz"}

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name, url_name in self.extra_links.items():
            try:
                response.data[name] = request.build_absolute_uri(reverse(url_name))
            except NoReverseMatch:
                continue
        return Response(response.data)
