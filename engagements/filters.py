from topbox.api.filters import ExactParam, ObjectIdParam, QueryFilter


class EngagementFilter(QueryFilter):
    client = ObjectIdParam("clientId", "Engagements of this client (24-hex id).")
    name = ExactParam(description="The source name, exactly: SMS, Chat, Phone, ...")
