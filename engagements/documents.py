from clients.documents import Client
from topbox.documents import Document, ReferenceField, referenced
from topbox.fields import LineField


class Engagement(Document):
    """One source of a client's data: Twitter, Facebook, Phone, Chat, SMS, ..."""

    clientId = ReferenceField(Client, verbose_name="client", help_text="The client whose data this source holds.")
    name = LineField(
        max_length=100,
        verbose_name="source",
        help_text="The channel the interactions come from: Chat, Phone, SMS, Twitter, Facebook, ...",
    )

    label_references = ("clientId",)

    meta = {
        "collection": "engagement",
        "indexes": [("clientId", "name"), "name"],
        "ordering": ["name"],
    }

    def __str__(self):
        """ "Chat · Acme Footwear Inc.": the source and its client, since every client has a Chat."""
        client = referenced(self, "clientId")
        return f"{self.name} · {client.name}" if client is not None else f"{self.name} · (no client)"
