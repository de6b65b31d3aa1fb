from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"

    def ready(self):
        from interactions import signals  # noqa: F401 - connects the receivers

    def ensure_indexes(self):
        """The daily counts' indexes, and their agents' totals counted by sentiment where an
        older version stored them without; the interactions' indexes an older version
        declared dropped (``manage.py ensure_indexes``, at deploy time)."""
        from interactions import rollups
        from interactions.documents import Interaction

        rollups.ensure_indexes()
        rollups.split_agent_totals()
        Interaction.drop_retired_indexes()
