"""Widgets for documents' fields in admin forms."""

from bson import ObjectId
from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst


def change_url(document, site_name="admin"):
    """The admin change page of ``document``, or None if its class is not registered."""
    opts = document._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_change", args=[str(document.pk)])
    except NoReverseMatch:
        return None


def utc(moment):
    """A stored datetime as staff read it: "2020-05-16 12:00:00 UTC" (every date is stored in UTC)."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else None


def link(document, site_name="admin"):
    url = change_url(document, site_name)
    return format_html('<a href="{}">{}</a>', url, document) if url else str(document)


class ObjectIdReferenceInput(forms.TextInput):
    """A text input for the referenced document's ObjectId, followed by what it points to.

    Replaces django-mongoengine's ``<select>`` of every referenced document.
    """

    def __init__(self, document_type, site_name="admin", attrs=None):
        super().__init__({"class": "vTextField", "size": 26, "maxlength": 24, **(attrs or {})})
        self.document_type = document_type
        self.site_name = site_name

    def format_value(self, value):
        return str(getattr(value, "pk", value) or "") or None

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html('{} <span class="reference-target">{}</span>', html, self.describe(value))

    def describe(self, value):
        if isinstance(value, self.document_type):
            target = value
        else:
            text = self.format_value(value)
            if not text:
                return ""
            if not ObjectId.is_valid(text):
                return "not an ObjectId"
            target = self.document_type.objects(pk=ObjectId(text)).first()
            if target is None:
                return f"no {self.document_type._meta.verbose_name} with this id"
        return format_html("{}: {}", capfirst(self.document_type._meta.verbose_name), link(target, self.site_name))
