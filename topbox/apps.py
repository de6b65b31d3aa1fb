from django.apps import AppConfig


class TopboxConfig(AppConfig):
    name = "topbox"
    verbose_name = "Topbox"

    def ready(self):
        from topbox import mongo
        from topbox.api import signals  # noqa: F401 - connects the receivers

        mongo.connect()

    def ensure_indexes(self):
        """What the API keeps without a document class: the POSTs' idempotency keys."""
        from topbox.api import idempotency

        idempotency.ensure_indexes()
