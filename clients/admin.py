"""Clients in the admin. Their engagement and interaction columns and links are declared
by those apps (``register_children``): clients know nothing above them."""

from django.contrib import admin

from clients.documents import Client
from topbox.admin import DocumentAdmin


@admin.register(Client)
class ClientAdmin(DocumentAdmin):
    list_display = ("name", "nickName")
    search_fields = ("name", "nickName")
    search_help_text = "Paste a client's id, or part of its name or nickname."
    sortable_by = ("name",)  # the indexed order
