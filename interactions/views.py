import io
from dataclasses import replace

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.documents import Client
from clients.selectors import visible_clients
from engagements.documents import Engagement
from engagements.selectors import visible_engagements
from interactions.counts import reading
from interactions.dashboard import Period, present
from interactions.filters import InteractionFilter
from interactions.ingest import Columns, Options, ingest_csv
from interactions.selectors import client_interactions, visible_interactions
from interactions.serializers import InteractionSerializer
from interactions.stats import INTERVALS, interaction_stats
from interactions.windows import AGENT, AGENT_ORDERINGS, DATE, counted_values, date_range, window
from topbox import mongo
from topbox.api.fields import DATE_SCHEMA
from topbox.api.pagination import both_ways
from topbox.api.parsers import CSVParser
from topbox.api.permissions import IsStaff
from topbox.api.renderers import BrowsableAPIRenderer, ExtendedJSONRenderer
from topbox.api.serializers import BooleanParamField, ChoiceParamField, QueryParamsSerializer, UTCDateParamField
from topbox.api.viewsets import DocumentViewSet, NestedRouteMixin, ParentRoute

INTERACTION_PARENTS = (
    ParentRoute("client_pk", Client, visible_clients),
    ParentRoute("engagement_pk", Engagement, visible_engagements),
)


class InteractionViewSet(DocumentViewSet):
    """Customer interactions, newest first. A client user sees only its client's."""

    serializer_class = InteractionSerializer
    filter_class = InteractionFilter
    # Nullable: documents written around the API (a raw import) may lack a date.
    orderings = {**both_ways(DATE, nullable=True), **AGENT_ORDERINGS}
    default_ordering = "-interactionDate"
    parent_routes = INTERACTION_PARENTS

    def scope(self):
        return visible_interactions(self.request.user)

    def parent_filter(self, parent):
        if parent.name == "client":
            return client_interactions(parent.pk)
        return {"engagementId": parent.pk}

    def get_queryset(self):
        return replace(super().get_queryset(), window=window, counter=self.counted)

    def counted(self, query):
        """``count=true`` from the counts when the filter is one they describe: engagements,
        sentiments and a date range (:func:`interactions.counts.reading.count`), or engagements,
        sentiments and agents (:func:`interactions.counts.reading.agent_count`); else None."""
        if set(query.filter) - {"engagementId", "sentiment", AGENT, DATE}:
            return None
        engagements, sentiments, agents = counted_values(query.filter)
        dates = date_range(query.filter.get(DATE))
        if engagements is False or sentiments is False or agents is False or dates is None:
            return None
        if agents is None:
            return reading.count(engagements, sentiments, *dates)
        if dates != (None, None):
            return None  # (agents are counted over all time)
        return reading.agent_count(agents, engagements, sentiments)


class StatsParams(QueryParamsSerializer):
    from_ = UTCDateParamField(help_text="Count interactions on or after this ISO-8601 date or datetime.")
    to = UTCDateParamField(help_text="Count interactions before this ISO-8601 date or datetime (exclusive).")
    interval = ChoiceParamField(
        INTERVALS,
        required=False,
        help_text="The time series' interval (UTC; weeks start on Monday). Default: the finest of day, week, "
        "month, year whose series holds at most 10,000 intervals.",
    )


STATS_SCHEMA = {
    "type": "object",
    "properties": {
        "total": {"type": "integer"},
        "sentiments": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "Counts per sentiment; `absent` counts interactions without one."},
        "interval": {"type": "string", "enum": list(INTERVALS),
                     "description": "The series' interval: as asked, else the finest that fits the data."},
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
            interval = StatsParams.from_query(renderer_context["request"].query_params).validated_data["interval"]
            context["chart_data"] = present(data, Period(None, None), interval, links=None)
        return context


@extend_schema_view(get=extend_schema(parameters=[StatsParams], responses={200: STATS_SCHEMA}))
class InteractionStatsView(NestedRouteMixin, APIView):
    """What interactions say in aggregate: totals by sentiment, the top agents with their
    sentiment mix, and a time series per interval. One MongoDB aggregation.

    `/stats` covers every client (staff only); `/clients/<id>/stats` and
    `/engagements/<id>/stats` follow the API's access rules.
    """

    parent_routes = INTERACTION_PARENTS
    params_class = StatsParams
    renderer_classes = [ExtendedJSONRenderer, StatsBrowsableAPIRenderer]

    def get(self, request, **kwargs):
        params = StatsParams.from_query(request.query_params).validated_data
        parent = self.get_parent()
        if parent is None and not request.user.is_staff:
            raise PermissionDenied("Statistics across every client are for Topbox staff.")
        scope = {parent.name: parent.pk} if parent else {}
        stats = interaction_stats(
            **scope, start=params.get("from"), end=params.get("to"), interval=params.get("interval")
        )
        return Response(stats)


class ImportParams(QueryParamsSerializer):
    name = serializers.CharField(
        required=False, help_text="The file's name, stored as custom.csvName (default: the uploaded file's name)."
    )
    date_column = serializers.CharField(
        required=False, help_text="The column holding the date (default: interactionDate)."
    )
    date_format = serializers.CharField(
        required=False, help_text="A strptime format for the dates (default: ISO 8601)."
    )
    tz = serializers.CharField(default="UTC", help_text="The zone of timestamps that have none (default: UTC).")
    agent_column = serializers.CharField(
        required=False, help_text="The column holding the agent's name (default: agentName)."
    )
    first_name_column = serializers.CharField(
        required=False, help_text="Else first + last name (default: agentFirstName, agentLastName)."
    )
    last_name_column = serializers.CharField(required=False)
    sentiment_column = serializers.CharField(
        required=False, help_text="The column holding the sentiment (default: sentiment)."
    )
    strict = BooleanParamField(help_text="Check every row first; write nothing if one is bad.")
    replace = BooleanParamField(help_text="Replace the rows ingested earlier from this file name.")
    dry_run = BooleanParamField(help_text="Check and count; write nothing.")

    def options(self):
        """The ingest :class:`Options` these parameters describe."""
        values = self.validated_data
        columns = {
            field: values[f"{field}_column"]
            for field in ("date", "agent", "first_name", "last_name", "sentiment")
            if f"{field}_column" in values
        }
        return Options(
            columns=Columns(**columns),
            timezone=values["tz"],
            date_format=values.get("date_format"),
            strict=values["strict"],
            replace=values["replace"],
            dry_run=values["dry_run"],
        )


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


class InteractionImportView(NestedRouteMixin, APIView):
    """Add a CSV report's rows as interactions of this engagement (staff only).

    Send the file as the body (`Content-Type: text/csv`, with `?name=`) or as the `file`
    field of a multipart upload, up to `API_MAX_UPLOAD_BYTES` (10 MiB by default); bigger
    files go through `manage.py ingest`. The same service as that command: see the README
    for the columns, the options and what happens to bad rows.
    """

    permission_classes = [IsAuthenticated, IsStaff]
    parser_classes = [CSVParser, MultiPartParser]
    params_class = ImportParams
    parent_routes = (ParentRoute("engagement_pk", Engagement, visible_engagements),)
    max_body_setting = "API_MAX_UPLOAD_BYTES"
    mongo_timeout_setting = "MONGO_IMPORT_TIMEOUT_MS"  # many batches, not one query
    writes_in_batches = True  # each in its transaction: a deadline can stop it between two

    @extend_schema(
        parameters=[ImportParams],
        request={
            "text/csv": {"type": "string", "format": "binary"},
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
        },
        responses={200: IMPORT_SCHEMA, 201: IMPORT_SCHEMA, 422: IMPORT_SCHEMA},
    )
    def post(self, request, **kwargs):
        mongo.ping()  # the long deadline is for the batches: a database that is down fails now
        params = ImportParams.from_query(request.query_params)
        engagement_id = self.get_parent().pk
        stream, name = self.upload(request, params.validated_data.get("name"))
        engagement = Engagement.objects.get(pk=engagement_id)
        result = ingest_csv(stream, name, engagement, params.options(), by=request.user, via="the API")
        body = result_body(result)
        return Response(body, status=status.HTTP_201_CREATED if result.inserted else status.HTTP_200_OK)

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


def result_body(result):
    return {
        "csvName": result.csv_name,
        "dryRun": result.dry_run,
        "rows": result.rows,
        "inserted": result.inserted,
        "alreadyPresent": result.already_present,
        "replaced": result.replaced,
        "rejected": result.rejected,
        "ok": result.ok,
        "problems": [problem.as_dict() for problem in result.problems],
    }
