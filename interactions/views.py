import io

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.access import visible_client_ids, visible_clients
from clients.documents import Client
from engagements.documents import Engagement
from engagements.services import ids_for_clients, visible_engagements
from interactions.dashboard import Period, present
from interactions.filters import InteractionFilter
from interactions.ingest import Columns, IngestError, Options, ingest_csv
from interactions.serializers import InteractionSerializer
from interactions.stats import INTERVALS, StatsError, interaction_stats
from topbox.api.fields import DATE_SCHEMA
from topbox.api.filters import ChoicesParam, DateParam, Param, QueryFilter, check_query_params
from topbox.api.pagination import both_ways
from topbox.api.parsers import CSVParser
from topbox.api.permissions import IsStaff
from topbox.api.renderers import BrowsableAPIRenderer, ExtendedJSONRenderer
from topbox.api.viewsets import DocumentViewSet, visible_parent


class InteractionViewSet(DocumentViewSet):
    """Customer interactions, newest first. A client user sees only its client's."""

    serializer_class = InteractionSerializer
    filter_class = InteractionFilter
    # Nullable: documents written around the API (a raw import) may lack a date.
    orderings = {**both_ways("interactionDate", nullable=True), **both_ways("agentName", nullable=True)}
    default_ordering = "-interactionDate"

    def scope(self):
        ids = visible_client_ids(self.request.user)
        return {} if ids is None else {"engagementId": {"$in": ids_for_clients(ids)}}

    def parent_filter(self):
        if "client_pk" in self.kwargs:
            client = visible_parent(Client, self.kwargs["client_pk"], visible_clients(self.request.user))
            return {"engagementId": {"$in": ids_for_clients([client])}}
        if "engagement_pk" in self.kwargs:
            visible = visible_engagements(self.request.user)
            return {"engagementId": visible_parent(Engagement, self.kwargs["engagement_pk"], visible)}
        return {}


class StatsParams(QueryFilter):
    from_ = DateParam(
        "interactionDate", "$gte", "Count interactions on or after this ISO-8601 date or datetime.", name="from"
    )
    to = DateParam("interactionDate", "$lt", "Count interactions before this ISO-8601 date or datetime (exclusive).")
    interval = ChoicesParam(
        INTERVALS, description="The time series' interval (UTC; weeks start on Monday).", multiple=False
    )


STATS_SCHEMA = {
    "type": "object",
    "properties": {
        "total": {"type": "integer"},
        "sentiments": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "Counts per sentiment; `absent` counts interactions without one."},
        "topAgents": {"type": "array", "items": {"type": "object", "properties": {
            "agentName": {"type": "string"}, "total": {"type": "integer"},
            "sentiments": {"type": "object", "additionalProperties": {"type": "integer"}}}}},
        "series": {"type": "array", "items": {"type": "object", "properties": {
            "start": DATE_SCHEMA, "total": {"type": "integer"},
            "sentiments": {"type": "object", "additionalProperties": {"type": "integer"}}}}},
    },
}  # fmt: skip


class StatsBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API's page of statistics: the dashboard's chart of the series above the JSON."""

    template = "interactions/stats_api.html"

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        if renderer_context["response"].status_code == status.HTTP_200_OK:
            interval = StatsParams.values(renderer_context["request"].query_params).get("interval", "day")
            context["chart_data"] = present(data, Period(None, None), interval, links=None)
        return context


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(name, str, description=param.description) for name, param in StatsParams.params.items()
        ],
        responses={200: STATS_SCHEMA},
    )
)
class InteractionStatsView(APIView):
    """What interactions say in aggregate: totals by sentiment, the top agents with their
    sentiment mix, and a time series per interval. One MongoDB aggregation.

    `/stats` covers every client (staff only); `/clients/<id>/stats` and
    `/engagements/<id>/stats` follow the API's access rules.
    """

    params_class = StatsParams
    renderer_classes = [ExtendedJSONRenderer, StatsBrowsableAPIRenderer]

    def get(self, request, client_pk=None, engagement_pk=None):
        check_query_params(request.query_params, StatsParams)
        if client_pk is not None:
            scope = {"client": visible_parent(Client, client_pk, visible_clients(request.user))}
        elif engagement_pk is not None:
            scope = {"engagement": visible_parent(Engagement, engagement_pk, visible_engagements(request.user))}
        elif request.user.is_staff:
            scope = {}
        else:
            raise PermissionDenied("Statistics across every client are for Topbox staff.")
        values = StatsParams.values(request.query_params)
        try:
            stats = interaction_stats(
                **scope, start=values.get("from"), end=values.get("to"), interval=values.get("interval", "day")
            )
        except StatsError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(stats)


class ImportParams(QueryFilter):
    name = Param(description="The file's name, stored as custom.csvName (default: the uploaded file's name).")
    date_column = Param(description="The column holding the date (default: interactionDate).")
    date_format = Param(description="A strptime format for the dates (default: ISO 8601).")
    tz = Param(description="The zone of timestamps that have none (default: UTC).")
    agent_column = Param(description="The column holding the agent's name (default: agentName).")
    first_name_column = Param(description="Else first + last name (default: agentFirstName, agentLastName).")
    last_name_column = Param()
    sentiment_column = Param(description="The column holding the sentiment (default: sentiment).")
    strict = ChoicesParam(
        ("true", "false"), description="Check every row first; write nothing if one is bad.", multiple=False
    )
    replace = ChoicesParam(
        ("true", "false"), description="Replace the rows ingested earlier from this file name.", multiple=False
    )
    dry_run = ChoicesParam(("true", "false"), description="Check and count; write nothing.", multiple=False)


IMPORT_SCHEMA = {
    "type": "object",
    "description": "What the import did (201 when it stored rows), or why it wrote nothing (422).",
    "properties": {
        "csvName": {"type": "string"}, "dryRun": {"type": "boolean"}, "rows": {"type": "integer"},
        "inserted": {"type": "integer"}, "alreadyPresent": {"type": "integer"}, "replaced": {"type": "integer"},
        "rejected": {"type": "integer"}, "ok": {"type": "boolean"}, "detail": {"type": "string"},
        "problems": {"type": "array", "description": "The first 100 rejected rows.", "items": {
            "type": "object", "properties": {"line": {"type": "integer"}, "reason": {"type": "string"}}}},
    },
}  # fmt: skip


class InteractionImportView(APIView):
    """Add a CSV report's rows as interactions of this engagement (staff only).

    Send the file as the body (`Content-Type: text/csv`, with `?name=`) or as the `file`
    field of a multipart upload, up to `API_MAX_UPLOAD_BYTES` (10 MiB by default); bigger
    files go through `manage.py ingest`. The same service as that command: see the README
    for the columns, the options and what happens to bad rows.
    """

    permission_classes = [IsAuthenticated, IsStaff]
    parser_classes = [CSVParser, MultiPartParser]
    params_class = ImportParams
    max_body_bytes = settings.API_MAX_UPLOAD_BYTES

    @extend_schema(
        parameters=[OpenApiParameter(name, str, description=p.description) for name, p in ImportParams.params.items()],
        request={
            "text/csv": {"type": "string", "format": "binary"},
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={200: IMPORT_SCHEMA, 201: IMPORT_SCHEMA, 422: IMPORT_SCHEMA},
    )
    def post(self, request, engagement_pk):
        check_query_params(request.query_params, ImportParams)
        engagement_id = visible_parent(Engagement, engagement_pk, visible_engagements(request.user))
        values = ImportParams.values(request.query_params)
        stream, name = self.upload(request, values.get("name"))
        try:
            options = Options(
                columns=Columns(**{
                    field: values[f"{field}_column"]
                    for field in ("date", "agent", "first_name", "last_name", "sentiment")
                    if f"{field}_column" in values
                }),
                timezone=values.get("tz", "UTC"),
                date_format=values.get("date_format"),
                strict=values.get("strict") == "true",
                replace=values.get("replace") == "true",
                dry_run=values.get("dry_run") == "true",
            )  # fmt: skip
            result = ingest_csv(stream, name, Engagement.objects.get(pk=engagement_id), options)
        except IngestError as exc:
            body = {"detail": str(exc), "rejected": exc.rejected, "problems": problems(exc.problems)}
            return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        except ValueError as exc:
            raise ValidationError({"detail": [str(exc)]}) from None
        return Response(summary(result), status=status.HTTP_201_CREATED if result.inserted else status.HTTP_200_OK)

    def upload(self, request, name):
        """The uploaded CSV as a binary stream, and the name to store it under."""
        data = request.data
        if isinstance(data, io.BytesIO):
            if not name:
                raise ValidationError({"name": ["Give the file's name (stored as custom.csvName)."]})
            return data, name
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Send the CSV as the body (text/csv) or as the multipart field `file`."]})
        return upload, name or upload.name


def problems(items):
    return [{"line": problem.line, "reason": problem.reason} for problem in items]


def summary(result):
    return {
        "csvName": result.csv_name,
        "dryRun": result.dry_run,
        "rows": result.rows,
        "inserted": result.inserted,
        "alreadyPresent": result.already_present,
        "replaced": result.replaced,
        "rejected": result.rejected,
        "ok": result.ok,
        "problems": problems(result.problems),
    }
