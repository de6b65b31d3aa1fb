"""``{% document_result_list cl %}``: Django's ``{% result_list cl %}`` for documents, whose
rows the changelist writes (:meth:`topbox.admin.changelist.DocumentChangeList.rows`)."""

from django import template
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

register = template.Library()


def document_result_list(cl):
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(admin_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "results": cl.rows(),
    }


@register.tag(name="document_result_list")
def document_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=document_result_list, template_name="change_list_results.html", takes_context=False
    )
