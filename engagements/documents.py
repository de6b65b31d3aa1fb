from django_mongoengine import fields

from clients.documents import Client
from topbox.documents import Document, ReferenceField


class Engagement(Document):
    """One source of a client's data: Twitter, Facebook, Phone, Chat, SMS, ..."""

    clientId = ReferenceField(Client)
    name = fields.StringField(max_length=100)

    meta = {
        "collection": "engagement",
        "indexes": [("clientId", "name"), "name"],
        "ordering": ["name"],
    }

    def __str__(self):
        return self.name
