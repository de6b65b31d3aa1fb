from bson import ObjectId
from django.contrib import admin
from django.urls import reverse

from clients.documents import Client
from engagements import services as engagements
from engagements.documents import Engagement
from interactions import services
from interactions.documents import SENTIMENTS, Interaction
from topbox.admin import Children, DocumentAdmin, Link, referenced
from topbox.admin.filters import ChoicesFilter, DateRangeFilter, ExactValueFilter, ReferenceFilter

admin.site.register_children(Client, Children(Interaction, param="client", label="Interactions"))
admin.site.register_children(
    Engagement, Children(Interaction, param="engagement", label="Interactions", count=services.count_by_engagement)
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
        return queryset.filter(engagementId__in=engagements.ids_for_clients([client_id]))


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


# @admin.register needs a subclass of Django's ModelAdmin; mongo_admin's is of a copy of it.
admin.site.register(Interaction, InteractionAdmin)
