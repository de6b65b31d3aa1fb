"""The project's routes: the API (every route with or without a trailing slash, no
redirects), its schema and docs, the browsable API's login, and /healthz."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from clients.selectors import client_choices
from clients.views import ClientViewSet
from engagements.selectors import engagement_choices
from engagements.views import EngagementViewSet
from interactions import pages
from interactions.views import InteractionImportView, InteractionStatsView, InteractionViewSet
from topbox.api.choices import ChoicesView
from topbox.api.root import APIRootView
from topbox.health import healthz

router = routers.DefaultRouter()
router.trailing_slash = "/?"  # the constructor only takes a bool
router.APIRootView = APIRootView
router.include_format_suffixes = False
router.register("clients", ClientViewSet, basename="client")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("interactions", InteractionViewSet, basename="interaction")

related_list = {"get": "list"}

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The API's collections and documents first: the routes most requests take are tried
    # first. The admin's pickers (topbox.api.choices) before the router's /<collection>/<id>.
    re_path(r"^clients/choices/?$", ChoicesView.as_view(choices=client_choices), name="client-choices"),
    re_path(r"^engagements/choices/?$", ChoicesView.as_view(choices=engagement_choices), name="engagement-choices"),
    *router.urls,
    # The statistics dashboard: in the admin for staff, and for a client's team.
    path("admin/dashboard/", admin.site.admin_view(pages.admin_dashboard), name="admin-dashboard"),
    path(
        "admin/dashboard/clients/<str:client_pk>/",
        admin.site.admin_view(pages.admin_dashboard),
        name="admin-client-dashboard",
    ),
    path(
        "admin/dashboard/engagements/<str:engagement_pk>/",
        admin.site.admin_view(pages.admin_dashboard),
        name="admin-engagement-dashboard",
    ),
    re_path(r"^clients/(?P<client_pk>[^/]+)/dashboard/?$", pages.client_dashboard, name="client-dashboard"),
    path("admin/", admin.site.urls),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api-auth/", include("rest_framework.urls")),
    re_path(
        r"^clients/(?P<client_pk>[^/]+)/engagements/?$",
        EngagementViewSet.as_view(related_list, suffix="List"),
        name="client-engagements",
    ),
    re_path(
        r"^clients/(?P<client_pk>[^/]+)/interactions/?$",
        InteractionViewSet.as_view(related_list, suffix="List"),
        name="client-interactions",
    ),
    re_path(
        r"^engagements/(?P<engagement_pk>[^/]+)/interactions/?$",
        InteractionViewSet.as_view(related_list, suffix="List"),
        name="engagement-interactions",
    ),
    re_path(r"^stats/?$", InteractionStatsView.as_view(), name="stats"),
    re_path(r"^clients/(?P<client_pk>[^/]+)/stats/?$", InteractionStatsView.as_view(), name="client-stats"),
    re_path(r"^engagements/(?P<engagement_pk>[^/]+)/stats/?$", InteractionStatsView.as_view(), name="engagement-stats"),
    re_path(
        r"^engagements/(?P<engagement_pk>[^/]+)/imports/?$",
        InteractionImportView.as_view(),
        name="engagement-imports",
    ),
]

handler400 = "topbox.api.errors.bad_request"
handler404 = "topbox.api.errors.not_found"
handler500 = "topbox.api.errors.server_error"
