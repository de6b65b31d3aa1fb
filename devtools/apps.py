from django.apps import AppConfig


class DevToolsConfig(AppConfig):
    """Development tooling: the embedded MongoDB-compatible server, ``devserver`` (what
    ``make run`` runs) and its local login. Never used under production settings."""

    name = "devtools"
    verbose_name = "Development tools"
