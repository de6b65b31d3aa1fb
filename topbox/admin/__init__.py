"""django-mongoengine's admin (``mongo_admin``) made to work on Django 5.2, in one place.

* :class:`DocumentAdmin` (``options``): the base of every document's admin;
* ``changelist``: one fetch per page, references loaded per page, cheap counts;
* ``filters``: list filters that build MongoEngine queries;
* ``forms`` and ``widgets``: ObjectId inputs for references, JSON for free-form dicts;
* ``sites``: the project's admin site (``django.contrib.admin.site``), with ``Children``;
* ``patches``: what cannot be subclassed, applied once by ``apps.AdminConfig.ready()``.

Apps register on ``django.contrib.admin.site``: ``@admin.register(Document)``.
"""

from topbox.admin.options import DocumentAdmin, referenced
from topbox.admin.sites import Children, Link

__all__ = ["Children", "DocumentAdmin", "Link", "referenced"]
