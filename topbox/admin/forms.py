"""The document form and the form fields the admin uses for references and free-form dicts."""

import json

import mongoengine
from bson import ObjectId
from django import forms
from django.core.exceptions import ValidationError
from django_mongoengine.forms.documents import BaseDocumentForm
from django_mongoengine.forms.documents import DocumentFormMetaclass as BaseDocumentFormMetaclass

from topbox.admin.widgets import ObjectIdReferenceInput
from topbox.fields import storage_problems


class DocumentFormMetaclass(BaseDocumentFormMetaclass):
    """Reads ``Meta.formfield_callback``, where Django (4.2+) puts the admin's callback.

    django-mongoengine's metaclass reads it only from the class body, so the admin's
    ``formfield_for_dbfield`` and ``formfield_overrides`` were never called.
    """

    def __new__(mcs, name, bases, attrs):
        callback = getattr(attrs.get("Meta"), "formfield_callback", None)
        if callback is not None and "formfield_callback" not in attrs:
            attrs["formfield_callback"] = callback
        return super().__new__(mcs, name, bases, attrs)


class DocumentForm(BaseDocumentForm, metaclass=DocumentFormMetaclass):
    """Validates the document as ``save()`` will, so that its errors land on the form.

    django-mongoengine's form does not, so a missing reference or a bad key in a dict
    raised mongoengine's ValidationError at save time: a 500.
    """

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            # The reference fields fetched their documents in clean(): no second existence check.
            self.instance.validate(check_references=False)
        except mongoengine.ValidationError as error:
            for name, message in (error.to_dict() or {None: error.message}).items():
                self.add_error(name if name in self.fields else None, f"{message}")


class ReferenceFormField(forms.Field):
    """A reference entered as an ObjectId, checked to exist; cleans to the referenced document."""

    default_error_messages = {
        "invalid": "Enter an ObjectId: 24 hexadecimal characters.",
        "missing": "No %(name)s has the id %(id)s.",
    }

    def __init__(self, document_type, site_name="admin", **kwargs):
        self.document_type = document_type
        kwargs.setdefault("widget", ObjectIdReferenceInput(document_type, site_name))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value  # the widget shows the document it is given

    def to_python(self, value):
        value = getattr(value, "pk", value)
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not ObjectId.is_valid(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return ObjectId(text)

    def clean(self, value):
        object_id = super().clean(value)
        if object_id is None:
            return None
        document = self.document_type.objects(pk=object_id).first()
        if document is None:
            raise ValidationError(
                self.error_messages["missing"],
                code="missing",
                params={"name": self.document_type._meta.verbose_name, "id": object_id},
            )
        return document

    def has_changed(self, initial, data):
        return str(getattr(initial, "pk", initial) or "") != str(data or "").strip()


# MongoDB refuses documents nested more than 100 levels; leave room for the document itself.
MAX_DEPTH = 50


def depth(value):
    """How deeply ``value`` nests objects and lists (a scalar is 0), without recursing."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                pending.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class JSONObjectField(forms.JSONField):
    """A JSON object, shown indented, whose keys MongoDB can store (``topbox.fields.storage_problems``)."""

    default_error_messages = {
        "not_object": "Enter a JSON object ({...}).",
        "too_deep": f"Nest objects and lists at most {MAX_DEPTH} levels deep.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 20, "cols": 100, "class": "vLargeTextField"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise ValidationError(self.error_messages["too_deep"], code="too_deep") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        if not isinstance(value, dict):
            raise ValidationError(self.error_messages["not_object"], code="not_object")
        if depth(value) > MAX_DEPTH:
            raise ValidationError(self.error_messages["too_deep"], code="too_deep")
        problems = [f"{path}: {reason}" for path, reason in storage_problems(value)]
        if problems:
            raise ValidationError(problems, code="invalid_key")
