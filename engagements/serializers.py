from clients.documents import Client
from clients.serializers import ClientSerializer
from engagements.documents import Engagement
from topbox.api.fields import ReferenceField, StrictCharField
from topbox.api.serializers import DocumentSerializer


class EngagementSerializer(DocumentSerializer):
    clientId = ReferenceField(Client)  # noqa: N815
    name = StrictCharField(max_length=100, help_text="The source: SMS, Chat, Facebook, Phone, ...")

    document = Engagement
    expandable = {"client": ("clientId", ClientSerializer)}
