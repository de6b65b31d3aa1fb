from bson import ObjectId
from django.contrib import admin

from clients.documents import Client
from engagements.documents import Engagement
from engagements.selectors import engagement_ids
from interactions.documents import SENTIMENTS, Interaction
from interactions.selectors import interaction_counts
from topbox.admin import Children, DocumentAdmin, referenced
from topbox.admin.filters import ChoicesFilter, DateRangeFilter, ReferenceFilter
from topbox.admin.widgets import utc

admin.site.register_children(Client, Children(Interaction, param="client", label="Interactions"))
admin.site.register_children(
    Engagement, Children(Interaction, param="engagement", label="Interactions", count=interaction_counts)
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


class DateFilter(DateRangeFilter):
    title = "date (UTC)"
    field_name = "interactionDate"


@admin.register(Interaction)
class InteractionAdmin(DocumentAdmin):
    list_display = ("date", "agentName", "sentiment", "engagement", "client")
    list_filter = (SentimentFilter, ClientFilter, EngagementFilter, DateFilter)
    list_select_related = ("engagementId__clientId",)
    readonly_fields = ("client",)  # on the detail page too: one click to the client
    search_fields = ("agentName",)
    search_help_text = "Search by agent name."
    # Newest first by default; the (date, id), (agent, date, id) and (sentiment, date, id)
    # indexes serve each order both ways.
    sortable_by = ("date", "agentName", "sentiment")

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
