from django.core.management.base import BaseCommand, CommandError

from topbox import mongo


class MongoCommand(BaseCommand):
    """A command that needs MongoDB: fails fast, with a clear message, when it is down."""

    def execute(self, *args, **options):
        try:
            mongo.ping()
        except mongo.MongoUnavailable as exc:
            raise CommandError(str(exc)) from None
        return super().execute(*args, **options)
