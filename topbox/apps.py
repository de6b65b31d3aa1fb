from django.apps import AppConfig


class TopboxConfig(AppConfig):
    name = "topbox"
    verbose_name = "Topbox"

    def ready(self):
        from topbox import mongo

        mongo.connect()
