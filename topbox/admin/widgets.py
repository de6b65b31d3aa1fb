"""Widgets for documents' fields in admin forms."""

from bson import ObjectId
from django import forms
from django.conf import settings
from django.urls import NoReverseMatch
from django.utils.html import format_html
from django.utils.text import capfirst

from topbox.admin import html
from topbox.admin.urls import reverse_id


def change_url(document, site_name="admin"):
    """The admin change page of ``document``, or None if its class is not registered."""
    opts = document._meta
    try:
        return reverse_id(f"{site_name}:{opts.app_label}_{opts.model_name}_change", document.pk)
    except NoReverseMatch:
        return None


def utc(moment):
    """A stored datetime as staff read it: "2020-05-16 12:00:00 UTC" (every date is stored in UTC)."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else None


def link(document, site_name="admin"):
    url = change_url(document, site_name)
    return html.format_html('<a href="{}">{}</a>', url, document) if url else str(document)


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


class ReferencePicker(forms.Select):
    """Search-as-you-type for a reference: Django's ``autocomplete_fields`` experience.

    Django's own Select2 and ``autocomplete.js`` drive it; the choices come from the API's
    ``<collection>/choices`` (``topbox.api.choices``: labels by words, a page at a time, the
    API's access rules), so no page ever loads every engagement. The only ``<option>``
    rendered is the current one, with its label; the target is linked next to it.
    """

    def __init__(self, document_type, url, site_name="admin", attrs=None):
        super().__init__(attrs)
        self.document_type = document_type
        self.url = url
        self.site_name = site_name

    @property
    def media(self):
        from django.contrib.admin.widgets import get_select2_language

        extra = "" if settings.DEBUG else ".min"
        language = get_select2_language()
        i18n = (f"admin/js/vendor/select2/i18n/{language}.js",) if language else ()
        return forms.Media(
            js=(
                f"admin/js/vendor/jquery/jquery{extra}.js",
                f"admin/js/vendor/select2/select2.full{extra}.js",
                *i18n,
                "admin/js/jquery.init.js",
                "admin/js/autocomplete.js",
            ),
            css={"screen": (f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css")},
        )

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs.update(
            {
                "class": f"{attrs.get('class', '')} admin-autocomplete".strip(),
                "data-ajax--url": str(self.url),
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-theme": "admin-autocomplete",
                "data-allow-clear": "false" if self.is_required else "true",
                "data-placeholder": f"Type part of the {self.document_type._meta.verbose_name}'s name",
                "style": "width: 32em",
            }
        )
        return attrs

    def format_value(self, value):
        value = getattr(value, "pk", value)
        return [str(value)] if value not in (None, "") else []

    def optgroups(self, name, value, attrs=None):
        options = [self.create_option(name, "", "", not value, 0)]
        if value:
            label = str(self._target) if self._target is not None else value[0]
            options.append(self.create_option(name, value[0], label, True, 1))
        return [(None, options, 0)]

    def render(self, name, value, attrs=None, renderer=None):
        self._target = value if isinstance(value, self.document_type) else self.find(self.format_value(value))
        html = super().render(name, value, attrs, renderer)
        target = self._target
        described = ""
        if target is not None:
            described = format_html(
                "{}: {}", capfirst(self.document_type._meta.verbose_name), link(target, self.site_name)
            )
        return format_html('{} <span class="reference-target">{}</span>', html, described)

    def find(self, values):
        if not values or not ObjectId.is_valid(values[0]):
            return None
        return self.document_type.objects(pk=ObjectId(values[0])).first()
