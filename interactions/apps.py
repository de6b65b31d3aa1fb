from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"

    def ready(self):
        from interactions import signals  # noqa: F401 - connects the receivers

    def ensure_indexes(self):
        """The daily counts' indexes, and their agents' totals counted by sentiment where an
        older version stored them without, and their names keyed apart by kind; the
        interactions' indexes an older version declared dropped (``manage.py ensure_indexes``,
        at deploy time)."""
        from interactions.counts import keys, rebuilding
        from interactions.documents import Interaction

        keys.ensure_indexes()
        rebuilding.split_agent_totals()
        rebuilding.rekey_names()
        Interaction.drop_retired_indexes()
