from bson import ObjectId
from django.contrib import admin
from django.urls import reverse

from clients.documents import Client
from engagements.documents import Engagement
from engagements.selectors import engagement_ids
from interactions.documents import SENTIMENTS, Interaction
from interactions.selectors import interaction_counts
from topbox.admin import Children, DocumentAdmin, Link, referenced
from topbox.admin.filters import ChoicesFilter, DateRangeFilter, ExactValueFilter, ReferenceFilter

admin.site.register_children(Client, Children(Interaction, param="client", label="Interactions"))
admin.site.register_children(
    Engagement, Children(Interaction, param="engagement", label="Interactions", count=interaction_counts)
)
admin.site.register_link(Client, Link("Statistics", lambda client: reverse("admin-client-dashboard", args=[client.pk])))
admin.site.register_link(
    Engagement, Link("Statistics", lambda engagement: reverse("admin-engagement-dashboard", args=[engagement.pk]))
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


class AgentFilter(ExactValueFilter):
    """One agent's interactions, exactly (the dashboard links here); searching matches substrings."""

    title = "agent"
    parameter_name = "agent"
    field_name = "agentName"


class DateFilter(DateRangeFilter):
    title = "date"
    field_name = "interactionDate"


@admin.register(Interaction)
class InteractionAdmin(DocumentAdmin):
    list_display = ("interactionDate", "agentName", "sentiment", "engagement", "client")
    list_filter = (SentimentFilter, ClientFilter, EngagementFilter, DateFilter, AgentFilter)
    list_select_related = ("engagementId__clientId",)
    readonly_fields = ("client",)  # on the detail page too: one click to the client
    search_fields = ("agentName",)
    search_help_text = "Search by agent name."
    sortable_by = ("interactionDate",)  # newest first by default; the (date, id) index serves both ways

    @admin.display(description="engagement")
    def engagement(self, interaction):
        return self.link(referenced(interaction, "engagementId"))

    @admin.display(description="client")
    def client(self, interaction):
        engagement = referenced(interaction, "engagementId")
        return self.link(engagement and referenced(engagement, "clientId"))
