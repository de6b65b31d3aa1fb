from topbox.api.filters import ExactParam, QueryFilter, SearchParam


class ClientFilter(QueryFilter):
    name = ExactParam()
    nickName = ExactParam()  # noqa: N815
    search = SearchParam("name", "nickName")
