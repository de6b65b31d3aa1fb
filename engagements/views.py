from clients.documents import Client
from clients.selectors import visible_clients
from engagements.filters import EngagementFilter
from engagements.selectors import visible_engagements
from engagements.serializers import EngagementSerializer
from topbox.api.pagination import both_ways
from topbox.api.viewsets import DocumentViewSet, ParentRoute


class EngagementViewSet(DocumentViewSet):
    """Engagements: the sources of a client's data. A client user sees only its client's."""

    serializer_class = EngagementSerializer
    filter_class = EngagementFilter
    orderings = both_ways("name")
    default_ordering = "name"
    parent_routes = (ParentRoute("client_pk", Client, visible_clients),)

    def scope(self):
        return visible_engagements(self.request.user)

    def parent_filter(self, parent):
        return {"clientId": parent.pk}
