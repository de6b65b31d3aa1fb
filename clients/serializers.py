from clients.documents import Client
from topbox.api.fields import StrictCharField
from topbox.api.serializers import DocumentSerializer


class ClientSerializer(DocumentSerializer):
    name = StrictCharField(max_length=200)
    nickName = StrictCharField(max_length=100, required=False, allow_null=True)  # noqa: N815

    document = Client
