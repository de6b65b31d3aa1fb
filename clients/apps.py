from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"

    def ready(self):
        from clients import signals  # noqa: F401 - connects the receivers
