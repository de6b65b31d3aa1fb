from django_mongoengine import fields

from engagements.documents import Engagement
from topbox.documents import Document, ReferenceField
from topbox.fields import FreeFormDictField

SENTIMENTS = ("Positive", "Negative", "Neutral", "Mixed")


class Interaction(Document):
    """One customer interaction: a chat session, a phone call, a tweet, a CSV row.

    ``custom`` keeps the original source record as it came in.
    """

    engagementId = ReferenceField(Engagement)
    interactionDate = fields.DateTimeField()  # stored in UTC
    agentName = fields.StringField(max_length=200, blank=True)
    sentiment = fields.StringField(choices=[(s, s) for s in SENTIMENTS], blank=True)
    custom = FreeFormDictField(blank=True)

    meta = {
        "collection": "interaction",
        # Newest first, with _id breaking ties so that every ordering is total.
        "indexes": [
            ("engagementId", "-interactionDate", "-id"),
            ("-interactionDate", "-id"),
            ("agentName", "-interactionDate", "-id"),
            ("sentiment", "-interactionDate", "-id"),  # the admin's sentiment filter
            # One interaction per CSV row: re-ingesting a file adds nothing (interactions.ingest).
            # Partial, so that records without a line number (the fixtures' CSV rows) are free.
            {
                "fields": ("engagementId", "custom.csvName", "custom.csvLine"),
                "name": "csv_row_unique",
                "unique": True,
                "partialFilterExpression": {"custom.csvLine": {"$exists": True}},
            },
        ],
        "ordering": ["-interactionDate", "-id"],
    }

    def __str__(self):
        return f"{self.agentName or 'unknown agent'} at {self.interactionDate:%Y-%m-%d %H:%M}"
