from rest_framework import serializers

from engagements.documents import Engagement
from engagements.serializers import EngagementSerializer
from interactions.documents import SENTIMENTS, Interaction
from topbox.api.fields import JSONObjectField, ReferenceField, StrictCharField, UTCDateTimeField
from topbox.api.serializers import DocumentSerializer


class InteractionSerializer(DocumentSerializer):
    """The seed's shape: ``_id, engagementId, interactionDate, agentName, sentiment, custom``."""

    engagementId = ReferenceField(Engagement)  # noqa: N815
    interactionDate = UTCDateTimeField()  # noqa: N815
    agentName = StrictCharField(max_length=200, required=False, allow_null=True)  # noqa: N815
    sentiment = serializers.ChoiceField(choices=SENTIMENTS, required=False, allow_null=True)
    custom = JSONObjectField(required=False, allow_null=True, help_text="The original source record.")

    document = Interaction
    expandable = {"engagement": ("engagementId", EngagementSerializer)}
