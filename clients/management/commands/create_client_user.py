from django.core.management.base import CommandError

from clients.client_users import ClientUserError, create_client_user
from topbox.management.base import MongoCommand


class Command(MongoCommand):
    help = "Create a client user: it reads only that client's data through the API. Prints its API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--client", required=True, help="The client's id (24 hex).")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, client, email, **options):
        try:
            user, token = create_client_user(username, client, email)
        except ClientUserError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created {user.username} for client {client}. API token: {token}")
        self.stdout.write(f"  curl -H 'Authorization: Token {token}' http://127.0.0.1:8000/interactions")
