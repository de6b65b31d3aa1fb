from clients.access import visible_clients
from clients.documents import Client
from engagements.filters import EngagementFilter
from engagements.serializers import EngagementSerializer
from engagements.services import visible_engagements
from topbox.api.pagination import both_ways
from topbox.api.viewsets import DocumentViewSet, visible_parent


class EngagementViewSet(DocumentViewSet):
    """Engagements: the sources of a client's data. A client user sees only its client's."""

    serializer_class = EngagementSerializer
    filter_class = EngagementFilter
    orderings = both_ways("name")
    default_ordering = "name"

    def scope(self):
        return visible_engagements(self.request.user)

    def parent_filter(self):
        if "client_pk" not in self.kwargs:
            return {}
        return {"clientId": visible_parent(Client, self.kwargs["client_pk"], visible_clients(self.request.user))}
