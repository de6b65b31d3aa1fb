"""Client users: Django users who read one client's data through the API."""

from bson import ObjectId
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from clients.documents import Client
from clients.models import ClientMembership


class ClientUserError(Exception):
    pass


@transaction.atomic
def create_client_user(username, client_id, email=""):
    """Create a user linked to ``client_id`` and its API token; return ``(user, token key)``.

    The user has no password (programs use the token); staff can set one to allow a
    browser login.
    """
    client = Client.objects(pk=client_id).first() if ObjectId.is_valid(client_id) else None
    if client is None:
        raise ClientUserError(f"No client with id {client_id}.")
    User = get_user_model()  # noqa: N806 - Django's idiom
    if User.objects.filter(username=username).exists():
        raise ClientUserError(f"A user named {username!r} already exists.")
    user = User.objects.create_user(username=username, email=email)  # no usable password
    ClientMembership.objects.create(user=user, client_id=str(client.pk))
    return user, Token.objects.create(user=user).key
