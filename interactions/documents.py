from django_mongoengine import fields

from engagements.documents import Engagement
from topbox.documents import Document, ReferenceField
from topbox.fields import FreeFormDictField, LineField

SENTIMENTS = ("Positive", "Negative", "Neutral", "Mixed")


# (engagementId, agentName, _id): pages by agent broke ties by id, then by date.
RETIRED_INDEXES = ("engagementId_1_agentName_1__id_1",)


class Interaction(Document):
    """One customer interaction: a chat session, a phone call, a tweet, a CSV row.

    ``custom`` keeps the original source record as it came in.
    """

    engagementId = ReferenceField(
        Engagement, verbose_name="engagement", help_text="The source (and so the client) the interaction came from."
    )
    interactionDate = fields.DateTimeField(verbose_name="date (UTC)", help_text="When it happened, in UTC.")
    agentName = LineField(
        max_length=200,
        blank=True,
        verbose_name="agent",
        help_text="The agent who handled it, as the source names them.",
    )
    sentiment = fields.StringField(
        choices=[(s, s) for s in SENTIMENTS],
        blank=True,
        verbose_name="sentiment",
        help_text="The customer's sentiment, if it was rated.",
    )
    custom = FreeFormDictField(
        blank=True,
        verbose_name="source record",
        help_text="The original record as the source sent it (custom), a JSON object: "
        "a CSV row with csvName and csvLine, a chat transcript, a tweet, ...",
    )

    meta = {
        "collection": "interaction",
        # Newest first, with _id breaking ties so that every ordering is total.
        "indexes": [
            ("engagementId", "-interactionDate", "-id"),
            ("-interactionDate", "-id"),
            ("agentName", "-interactionDate", "-id"),
            # Pages by agent of chosen engagements: a window of agents, and each agent's part
            # by date windows; an agent's interactions of one sentiment, by date windows.
            ("engagementId", "agentName", "-interactionDate", "-id"),
            ("agentName", "sentiment", "-interactionDate", "-id"),
            ("sentiment", "-interactionDate", "-id"),  # the admin's sentiment filter
            ("custom.csvName", "-interactionDate", "-id"),  # the admin's search by CSV file name
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

    @classmethod
    def drop_retired_indexes(cls):
        """Drop the indexes an older version declared that serve nothing now (at deploy time,
        ``manage.py ensure_indexes``); return their names."""
        collection = cls._get_collection()
        retired = [name for name in RETIRED_INDEXES if name in collection.index_information()]
        for name in retired:
            collection.drop_index(name)
        return retired

    def __str__(self):
        when = f"{self.interactionDate:%Y-%m-%d %H:%M} UTC" if self.interactionDate else "an unknown date"
        return f"{self.agentName or 'unknown agent'} at {when}"
