"""SQL-side data of the clients app: which Django users belong to which Client."""

from django.conf import settings
from django.db import models


class ClientMembership(models.Model):
    """Links a Django user to the one Client whose data it may read.

    Clients live in MongoDB, so the link holds the Client's id rather than a foreign key.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_membership")
    client_id = models.CharField(max_length=24, help_text="The ObjectId of the Client document.")

    def __str__(self):
        return f"{self.user} → client {self.client_id}"
