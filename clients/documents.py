from topbox.documents import Document
from topbox.fields import LineField


class Client(Document):
    """A company that uses Topbox; holds the client's global properties."""

    name = LineField(max_length=200, verbose_name="name", help_text="The company's full name.")
    nickName = LineField(
        max_length=100, blank=True, verbose_name="nickname", help_text="The short name staff use for the company."
    )

    meta = {
        "collection": "client",
        "indexes": ["name", "nickName"],
        "ordering": ["name"],
    }

    def __str__(self):
        """ "Acme Footwear Inc. (Acme)": the name, and the nickName staff know it by."""
        if self.nickName and self.nickName != self.name:
            return f"{self.name} ({self.nickName})"
        return self.name or ""
