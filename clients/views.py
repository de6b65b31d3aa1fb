from clients.filters import ClientFilter
from clients.selectors import visible_clients
from clients.serializers import ClientSerializer
from topbox.api.pagination import both_ways
from topbox.api.viewsets import DocumentViewSet


class ClientViewSet(DocumentViewSet):
    """Topbox's clients. A client user sees only its own."""

    serializer_class = ClientSerializer
    filter_class = ClientFilter
    orderings = both_ways("name")
    default_ordering = "name"

    def scope(self):
        return visible_clients(self.request.user)
