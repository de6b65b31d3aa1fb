import datetime

from bson import ObjectId
from django.contrib import admin
from django.contrib.admin import SimpleListFilter

from clients.documents import Client
from engagements.documents import Engagement
from engagements.selectors import engagement_ids
from interactions.counts import keys, reading
from interactions.documents import SENTIMENTS, Interaction
from interactions.selectors import csv_file_counts, interaction_counts
from interactions.windows import InteractionWindows
from topbox.admin import Children, DocumentAdmin, Link, referenced, search
from topbox.admin.filters import (
    MAX_CHOICES,
    ChoicesFilter,
    DateRangeFilter,
    ExactValueFilter,
    ReferenceFilter,
    midnight,
)
from topbox.admin.urls import reverse_id
from topbox.admin.widgets import utc

# Counted exactly up to this many where the daily counts cannot say ("more than 10,000").
COUNT_LIMIT = 10_000
# The parameters the daily counts can count by.
DATE_PARAMS = ("date_from", "date_to")
COUNTED_PARAMS = {"client", "engagement", "sentiment", *DATE_PARAMS}

admin.site.register_children(Client, Children(Interaction, param="client", label="Interactions"))
admin.site.register_children(
    Engagement,
    Children(Interaction, param="engagement", label="Interactions", count=interaction_counts, field="engagementId"),
)
admin.site.register_link(Client, Link("Statistics", lambda client: reverse_id("admin-client-dashboard", client.pk)))
admin.site.register_link(
    Engagement, Link("Statistics", lambda engagement: reverse_id("admin-engagement-dashboard", engagement.pk))
)


class SentimentFilter(ChoicesFilter):
    title = "sentiment"
    parameter_name = "sentiment"
    field_name = "sentiment"
    values = SENTIMENTS
    none_label = "None"


class ClientFilter(ReferenceFilter):
    """Interactions hold no client: those of the client's engagements (the engagement index)."""

    title = "client"
    parameter_name = "client"
    target = Client

    def queryset(self, request, queryset):
        """With an engagement chosen too, that engagement if it is the client's, else nothing:
        not both conditions on ``engagementId`` (sent as an ``$and``, which the embedded
        server answers by reading every interaction)."""
        client_id = self.chosen_id()
        engagement = request.GET.get(EngagementFilter.parameter_name, "")
        if client_id is None or not ObjectId.is_valid(engagement):
            return super().queryset(request, queryset)
        return queryset if ObjectId(engagement) in engagement_ids([client_id]) else queryset.none()

    def filter(self, queryset, client_id):
        return queryset.filter(engagementId__in=engagement_ids([client_id]))


class EngagementFilter(ReferenceFilter):
    """Once a client is chosen, offers only its engagements."""

    title = "engagement"
    parameter_name = "engagement"
    field_name = "engagementId"
    target = Engagement

    def targets(self, request):
        client = request.GET.get(ClientFilter.parameter_name, "")
        if ObjectId.is_valid(client):
            return super().targets(request).filter(clientId=ObjectId(client))
        return super().targets(request)


class SourceFileFilter(SimpleListFilter):
    """The CSV file the rows came from (``custom.csvName``), listed with their row counts
    for the chosen engagement (one aggregation over its interactions, on its index)."""

    title = "source file (of the chosen engagement)"
    parameter_name = "file"

    def lookups(self, request, model_admin):
        engagement = request.GET.get(EngagementFilter.parameter_name, "")
        choices = []
        if ObjectId.is_valid(engagement):
            counts = csv_file_counts(ObjectId(engagement), MAX_CHOICES)
            choices = [(name, f"{name} ({count:,} rows)") for name, count in counts]
        if self.value() and self.value() not in {name for name, _ in choices}:
            choices.append((self.value(), self.value()))
        return choices

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(__raw__={"custom.csvName": self.value()})


class AgentFilter(ExactValueFilter):
    """One agent's interactions, exactly (the dashboard links here); searching matches substrings."""

    title = "agent"
    parameter_name = "agent"
    field_name = "agentName"


class DateFilter(DateRangeFilter):
    title = "date (UTC)"
    field_name = "interactionDate"


@admin.register(Interaction)
class InteractionAdmin(DocumentAdmin):
    list_display = ("date", "agentName", "sentiment", "engagement", "client")
    list_filter = (SentimentFilter, ClientFilter, EngagementFilter, SourceFileFilter, DateFilter, AgentFilter)
    list_select_related = ("engagementId__clientId",)
    readonly_fields = ("client",)  # on the detail page too: one click to the client
    search_fields = ("agentName",)
    search_help_text = (
        "Paste an id (of an interaction, an engagement or a client), a CSV file name (….csv), or part of an agent's "
        f"name. With a client, an engagement or dates chosen, words in the source record are searched too, among the "
        f"newest {search.SCAN_LIMIT:,} interactions of that selection."
    )
    csv_name_field = "custom.csvName"
    text_search = search.TextSearch(
        field="custom",
        text_fields=("agentName",),
        scope_params=("client", "engagement", "date_from", "date_to"),
        newest_first=(("interactionDate", -1), ("_id", -1)),
    )
    # Newest first by default; the (date, id), (agent, date, id) and (sentiment, date, id)
    # indexes serve each order both ways.
    sortable_by = ("date", "agentName", "sentiment")
    # A selection bigger than a few numbered pages is paged by keyset: newest, older, newer,
    # oldest and a date, each page read within a date window (interactions.windows).
    keyset_above = 500

    def keyset_windows(self, request):
        return InteractionWindows()

    def search_filter(self, request, words):
        """Agents whose name holds every word, from the names the daily counts keep (not a
        scan of the interactions); then an indexed equality per name found."""
        return {"agentName": {"$in": sorted(reading.agent_names(words))}}

    def count_changelist(self, request, changelist):
        """From the daily counts where the filter allows (the client, engagement, sentiment
        and days chosen, an engagement's or client's id searched, an agent searched alone);
        elsewhere exactly up to ``COUNT_LIMIT``."""
        counted = self.counted(changelist)
        if counted is not None:
            return counted, True
        queryset = changelist.queryset
        n = queryset._collection.count_documents(queryset._query, limit=COUNT_LIMIT + 1)
        return min(n, COUNT_LIMIT), n <= COUNT_LIMIT

    def counted(self, changelist):
        """The list's count from the daily counts, or None if they cannot say."""
        params = {name: values[-1] for name, values in changelist.get_filters_params().items()}
        agent = params.pop(AgentFilter.parameter_name, None)
        if set(params) - COUNTED_PARAMS or changelist.root_queryset._query:
            return None
        if agent is not None and changelist.query.strip():
            return None
        engagements = None
        if params.get("client"):
            engagements = engagement_ids([ObjectId(params["client"])])
        if params.get("engagement"):
            chosen = ObjectId(params["engagement"])
            engagements = [chosen] if engagements is None or chosen in engagements else []
        term = changelist.query.strip()
        if term and ObjectId.is_valid(term):
            found = self.id_scope(ObjectId(term))
            if found is None:
                return None
            engagements = found if engagements is None else [pk for pk in engagements if pk in found]
        elif term and term.lower().endswith(".csv") and len(term.split()) == 1:
            return reading.file_count(term) if not params else None
        elif term:
            words = term.split()
            too_long = len(words) > search.MAX_SEARCH_WORDS or any(len(w) > search.MAX_SEARCH_WORD for w in words)
            if params or term.lower().endswith(".csv") or too_long:
                return None
            return sum(reading.agent_names(words).values())
        if agent is not None:
            if set(params) - {"client", "engagement"}:
                return None
            return reading.agent_count(agent, engagements)
        sentiment = params.get("sentiment")
        sentiments = None if sentiment is None else [keys.ABSENT if sentiment == "-" else sentiment]
        if params.get("date_from") or params.get("date_to"):
            first, last = (datetime.date.fromisoformat(params[n]) if params.get(n) else None for n in DATE_PARAMS)
            end = midnight(last + datetime.timedelta(days=1)) if last and last < datetime.date.max else None
            return reading.count(engagements, sentiments, first and midnight(first), end)
        if engagements == []:
            return 0
        return reading.count(engagements, sentiments)

    def id_scope(self, object_id):
        """The engagements an id search selects (an engagement's or a client's id), or None
        (an interaction's id, or nothing)."""
        searches = self.get_id_searches()
        for kind in searches:
            if kind.exists(object_id):
                if kind.document is Engagement:
                    return [object_id]
                if kind.document is Client:
                    return engagement_ids([object_id])
                return None
        return None

    def get_id_searches(self):
        return [
            *super().get_id_searches(),
            search.IdSearch(Engagement, lambda engagement_id: {"engagementId": engagement_id}),
            search.IdSearch(Client, lambda client_id: {"engagementId__in": engagement_ids([client_id])}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()  # an interaction being added has no client yet

    @admin.display(description="date (UTC)", ordering="interactionDate")
    def date(self, interaction):
        return utc(interaction.interactionDate)

    @admin.display(description="engagement")
    def engagement(self, interaction):
        return self.link(referenced(interaction, "engagementId"))

    @admin.display(description="client")
    def client(self, interaction):
        engagement = referenced(interaction, "engagementId")
        return self.link(engagement and referenced(engagement, "clientId"))
