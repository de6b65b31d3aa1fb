from django.contrib import admin

from clients.documents import Client
from engagements.documents import Engagement
from engagements.selectors import engagement_counts, label_filter
from topbox.admin import Children, DocumentAdmin, referenced, search
from topbox.admin.filters import DistinctValuesFilter, ReferenceFilter

admin.site.register_children(
    Client, Children(Engagement, param="client", label="Engagements", count=engagement_counts, field="clientId")
)


class ClientFilter(ReferenceFilter):
    title = "client"
    parameter_name = "client"
    field_name = "clientId"
    target = Client


class SourceFilter(DistinctValuesFilter):
    title = "source"
    parameter_name = "source"
    field_name = "name"


@admin.register(Engagement)
class EngagementAdmin(DocumentAdmin):
    list_display = ("name", "client")
    list_filter = (ClientFilter, SourceFilter)
    list_select_related = ("clientId",)
    search_fields = ("name",)
    search_help_text = "Paste an id (of an engagement or a client), or part of the source's or the client's name."
    sortable_by = ("name",)

    def get_id_searches(self):
        return [*super().get_id_searches(), search.IdSearch(Client, lambda client_id: {"clientId": client_id})]

    def search_filter(self, request, words):
        """Every word in the source's name or in its client's name or nickName."""
        return label_filter(words)

    @admin.display(description="client")
    def client(self, engagement):
        return self.link(referenced(engagement, "clientId"))
