from django.contrib import admin

from clients.documents import Client
from engagements.documents import Engagement
from engagements.selectors import engagement_counts
from topbox.admin import Children, DocumentAdmin, referenced
from topbox.admin.filters import DistinctValuesFilter, ReferenceFilter

admin.site.register_children(Client, Children(Engagement, param="client", label="Engagements", count=engagement_counts))


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
    sortable_by = ("name",)

    @admin.display(description="client")
    def client(self, engagement):
        return self.link(referenced(engagement, "clientId"))
