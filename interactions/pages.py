"""The statistics dashboard's pages: in the admin for staff (everything, a client, an
engagement), and for a client's team at ``/clients/<id>/dashboard`` (session login).

Thin views: the figures come from :mod:`interactions.dashboard`. ``?format=json`` answers
the same figures as JSON (what the page draws its charts from).
"""

from bson import ObjectId
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from clients.documents import Client
from clients.selectors import visible_client_ids
from engagements.documents import Engagement
from interactions.dashboard import PRESETS, AdminLinks, APILinks, PeriodError, Scope, choose, dashboard_data
from interactions.stats import INTERVALS
from topbox.documents import reference_id

VIEW_PERMISSION = "interactions.view_interaction"


def admin_dashboard(request, client_pk=None, engagement_pk=None):
    """Staff with view permission on interactions; the admin's login guards it (see urls)."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    if engagement_pk is not None:
        engagement = get_document(Engagement, engagement_pk)
        client = Client.objects(pk=reference_id(engagement, "clientId")).first()
        scope = Scope(f"{engagement.name} ({client})", client=None, engagement=engagement.pk)
    elif client_pk is not None:
        client = get_document(Client, client_pk)
        scope = Scope(str(client), client=client.pk)
    else:
        scope = Scope("Every client")
    context = {**admin.site.each_context(request), "title": f"Statistics: {scope.title}"}
    return show(request, "interactions/dashboard/admin.html", scope, AdminLinks(scope), context)


@login_required
def client_dashboard(request, client_pk):
    """A client's own dashboard, for its team (and staff); any other client is a 404."""
    client = get_document(Client, client_pk)
    visible = visible_client_ids(request.user)
    if visible is not None and client.pk not in visible:
        raise Http404("No such client.")
    scope = Scope(str(client), client=client.pk)
    return show(request, "interactions/dashboard/client.html", scope, APILinks(scope), {"title": scope.title})


def get_document(document_cls, raw_id):
    found = document_cls.objects(pk=ObjectId(raw_id)).first() if ObjectId.is_valid(raw_id) else None
    if found is None:
        raise Http404(f"No {document_cls.__name__.lower()} with id {raw_id!r}.")
    return found


def show(request, template, scope, links, context):
    try:
        period, interval, preset = choose(scope, request.GET)
    except PeriodError as exc:
        if request.GET.get("format") == "json":
            return JsonResponse({exc.field: [str(exc)]}, status=400)
        return render(request, template, {**context, "scope": scope, "error": exc}, status=400)
    data = dashboard_data(scope, period, interval, links)
    if request.GET.get("format") == "json":
        return JsonResponse(data)

    def query(**params):
        return "?" + urlencode({key: value for key, value in params.items() if value})

    # A preset is kept as such (the last 30 days move with the data); chosen days as days.
    dates = {"from": period.first, "to": period.last} if preset is None else {}

    return render(
        request,
        template,
        {
            **context,
            "scope": scope,
            "data": data,
            "period": period,
            "presets": [
                (label, query(range=name if name == "all" else None, interval=interval), name == preset)
                for name, label in PRESETS.items()
            ],
            "intervals": [
                (name, query(range=preset if preset == "all" else None, **dates, interval=name), name == interval)
                for name in INTERVALS
            ],
            "json_url": query(range=preset if preset == "all" else None, **dates, interval=interval, format="json"),
            "api_stats_url": stats_url(scope),
        },
    )


def stats_url(scope):
    if scope.engagement is not None:
        return reverse("engagement-stats", kwargs={"engagement_pk": str(scope.engagement)})
    if scope.client is not None:
        return reverse("client-stats", kwargs={"client_pk": str(scope.client)})
    return reverse("stats")
