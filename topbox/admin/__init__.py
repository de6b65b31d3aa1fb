"""The admin for MongoEngine documents on Django 5.2, in one place.

Documents are administered by Django's own admin: :class:`DocumentAdmin` derives from
``django.contrib.admin.ModelAdmin`` (views, admin log, permissions, ``@admin.register``
are Django's). From django-mongoengine it takes only the mapping of document fields to
form fields (``DjangoField.formfield()`` and its ``DocumentForm``) and the Django-like
``_meta`` of its documents; its ``mongo_admin`` (a re-executed copy of Django's admin
module) is not used.

* :class:`DocumentAdmin` (``options``): the base of every document's admin;
* ``changelist``: one fetch per page, references loaded per page, cheap counts, the rows;
* ``filters``: list filters that build MongoEngine queries;
* ``forms`` and ``widgets``: ObjectId inputs for references, JSON for free-form dicts;
* ``urls``: the URLs of a page's links, each pattern reversed once;
* ``html``: ``format_html`` for what a changelist writes per row;
* ``sites``: the project's admin site (``django.contrib.admin.site``), with ``Children``;
* ``meta``: the ``_meta`` the admin reads (``DocumentOptions``);
* ``patches``: what cannot be subclassed, each named with the Django version needing it
  and a test failing without it; class patches applied once by
  ``apps.AdminConfig.ready()``, document patches by ``AdminSite.register``.

Apps register on ``django.contrib.admin.site``: ``@admin.register(Document)``.
"""

from topbox.admin import search
from topbox.admin.options import DocumentAdmin
from topbox.admin.sites import Children, Link
from topbox.documents import referenced

__all__ = ["Children", "DocumentAdmin", "Link", "referenced", "search"]
