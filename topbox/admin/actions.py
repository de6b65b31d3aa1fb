"""The admin's site-wide actions for documents."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.decorators import action
from django.contrib.admin.utils import model_ngettext
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
def delete_selected(modeladmin, request, queryset):
    """Django's ``delete_selected``, naming the documents from the admin's options.

    Django's reads ``queryset.model._meta`` only for Django querysets; a MongoEngine
    queryset has neither, so its confirmation page raised AttributeError.
    """
    opts = modeladmin.opts
    documents = list(queryset)
    deletable, model_count, perms_needed, protected = modeladmin.get_deleted_objects(documents, request)

    if request.POST.get("post") and not protected:
        if perms_needed:
            raise PermissionDenied
        if documents:
            modeladmin.log_deletions(request, documents)
            modeladmin.delete_queryset(request, queryset)
            modeladmin.message_user(
                request,
                _("Successfully deleted %(count)d %(items)s.")
                % {"count": len(documents), "items": model_ngettext(opts, len(documents))},
                messages.SUCCESS,
            )
        return None  # back to the changelist

    objects_name = model_ngettext(opts, len(documents))
    title = _("Cannot delete %(name)s") % {"name": objects_name} if protected else _("Delete multiple objects")
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "objects_name": str(objects_name),
        "deletable_objects": [deletable],
        "model_count": dict(model_count).items(),
        "queryset": documents,
        "perms_lacking": perms_needed,
        "protected": protected,
        "opts": opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        modeladmin.delete_selected_confirmation_template
        or [
            f"admin/{opts.app_label}/{opts.model_name}/delete_selected_confirmation.html",
            f"admin/{opts.app_label}/delete_selected_confirmation.html",
            "admin/delete_selected_confirmation.html",
        ],
        context,
    )
