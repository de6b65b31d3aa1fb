from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app, with Topbox's site (documents and Django's users on one /admin/)."""

    default_site = "topbox.admin.sites.AdminSite"

    def ready(self):
        from django.db.models.signals import post_migrate

        from topbox.admin import patches, permissions

        patches.apply()
        super().ready()  # autodiscovers every app's admin.py
        post_migrate.connect(permissions.create_document_permissions, sender=self)
