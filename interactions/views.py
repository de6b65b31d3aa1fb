from clients.access import visible_client_ids, visible_clients
from clients.documents import Client
from engagements.documents import Engagement
from engagements.services import ids_for_clients, visible_engagements
from interactions.filters import InteractionFilter
from interactions.serializers import InteractionSerializer
from topbox.api.pagination import Ordering
from topbox.api.viewsets import DocumentViewSet, visible_parent


class InteractionViewSet(DocumentViewSet):
    """Customer interactions, newest first. A client user sees only its client's."""

    serializer_class = InteractionSerializer
    filter_class = InteractionFilter
    orderings = {
        "-interactionDate": Ordering("-interactionDate", "interactionDate", -1),
        "interactionDate": Ordering("interactionDate", "interactionDate", 1),
        "agentName": Ordering("agentName", "agentName", 1, nullable=True),
        "-agentName": Ordering("-agentName", "agentName", -1, nullable=True),
    }
    default_ordering = "-interactionDate"

    def scope(self):
        ids = visible_client_ids(self.request.user)
        return {} if ids is None else {"engagementId": {"$in": ids_for_clients(ids)}}

    def parent_filter(self):
        if "client_pk" in self.kwargs:
            client = visible_parent(Client, self.kwargs["client_pk"], visible_clients(self.request.user))
            return {"engagementId": {"$in": ids_for_clients([client])}}
        if "engagement_pk" in self.kwargs:
            visible = visible_engagements(self.request.user)
            return {"engagementId": visible_parent(Engagement, self.kwargs["engagement_pk"], visible)}
        return {}
