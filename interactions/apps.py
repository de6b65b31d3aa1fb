from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"

    def ready(self):
        from interactions import signals  # noqa: F401 - connects the receivers

    def ensure_indexes(self):
        """The daily counts' indexes (``manage.py ensure_indexes``)."""
        from interactions import rollups

        rollups.ensure_indexes()
