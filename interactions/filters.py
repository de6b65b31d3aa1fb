from interactions.counts import reading
from interactions.documents import SENTIMENTS
from interactions.selectors import client_interactions
from topbox.api.filters import ChoicesParam, DateParam, ExactParam, ObjectIdParam, QueryFilter, SearchParam


class ClientParam(ObjectIdParam):
    description = "Interactions of this client's engagements (24-hex id)."

    def fragment(self, value):
        return client_interactions(value)


class AgentSearchParam(SearchParam):
    """The agents whose names hold the term, found in the names the counts keep
    (:func:`interactions.counts.reading.agent_names`), as an ``$in``: each agent's page is then
    read from its index, within a date window, and ``count=true`` from the agents' counts,
    rather than a regular expression over every interaction."""

    def fragment(self, value):
        return {self.field: {"$in": sorted(reading.agent_names([value]))}}


class InteractionFilter(QueryFilter):
    client = ClientParam()
    engagement = ObjectIdParam("engagementId", "Interactions of this engagement (24-hex id).")
    agentName = ExactParam(description="The agent's name, exactly.")  # noqa: N815
    search = AgentSearchParam("agentName")
    sentiment = ChoicesParam(SENTIMENTS)
    from_ = DateParam(
        "interactionDate", "$gte", "On or after this ISO-8601 date or datetime (UTC unless zoned).", name="from"
    )
    to = DateParam("interactionDate", "$lt", "Before this ISO-8601 date or datetime (exclusive).")
    custom_paths = True
