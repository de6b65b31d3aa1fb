from django_mongoengine import fields

from topbox.documents import Document


class Client(Document):
    """A company that uses Topbox; holds the client's global properties."""

    name = fields.StringField(max_length=200)
    nickName = fields.StringField(max_length=100, blank=True)

    meta = {
        "collection": "client",
        "indexes": ["name", "nickName"],
        "ordering": ["name"],
    }

    def __str__(self):
        return self.name
