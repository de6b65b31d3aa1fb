"""Django permissions for documents, so that staff can be granted view/change/delete on them.

Django creates permissions after ``migrate`` for its SQL models only; documents have no
migrations, so their content types and the default permissions are created here, on the
same signal.
"""

from django.contrib import admin
from django.contrib.auth import get_permission_codename

from topbox.admin.meta import DocumentOptions

ACTIONS = ("add", "change", "delete", "view")


def create_document_permissions(using="default", **kwargs):
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()  # as Django's create_permissions: a flush invalidates it
    for model in admin.site._registry:
        opts = model._meta
        if not isinstance(opts, DocumentOptions):
            continue  # a SQL model: Django has done it
        content_type = ContentType.objects.db_manager(using).get_for_model(model, for_concrete_model=False)
        for action in ACTIONS:
            Permission.objects.db_manager(using).get_or_create(
                content_type=content_type,
                codename=get_permission_codename(action, opts),
                defaults={"name": f"Can {action} {opts.verbose_name_raw}"},
            )
