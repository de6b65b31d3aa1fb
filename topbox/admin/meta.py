"""``DocumentOptions``: django-mongoengine's Django-like ``_meta`` for a document, as the admin reads it.

Installed on each document the admin registers by the ``document-options`` patch
(``topbox.admin.patches``): django-mongoengine's metaclass gives every document its own
``DocumentMetaWrapper`` when the class is created, so no subclass of ours reaches it.
"""

from django.utils.text import camel_case_to_spaces
from django_mongoengine.forms.document_options import DocumentMetaWrapper


class DocumentOptions(DocumentMetaWrapper):
    def get_verbose_name(self):
        # Lower case, as Django's ("Select interaction to change"); django-mongoengine capitalises.
        return self._meta.get("verbose_name") or camel_case_to_spaces(self.object_name)

    def _init_field_cache(self):
        # django-mongoengine keys reference fields by the referenced model's name, so
        # get_field("clientId") fails (admin checks, lookups) and an admin column named like
        # the referenced model ("engagement") is taken for that field; key by field name.
        self._field_cache = {name: (field, None, True, False) for name, field in self.document._fields.items()}
        return self._field_cache
