"""The monkey-patches the admin still needs, each named and dated to the Django change.

Everything else is fixed by subclassing (``topbox.admin``); these change what documents
are built with, which no subclass of ours reaches. :func:`apply` runs the class patches
once, from ``topbox.admin.apps.AdminConfig.ready()``; :func:`apply_to_document` runs the
document patches on each document ``AdminSite.register`` is given; :func:`reverted` undoes
one, for the test that shows it is needed.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core import validators
from django_mongoengine.fields.djangoflavor import DjangoField
from django_mongoengine.forms.document_options import DocumentMetaWrapper

from topbox.admin.meta import DocumentOptions


@dataclass(frozen=True)
class Patch:
    """Sets ``attributes`` on ``target``, a class of another library.

    Without a target, the patch is of each document ``AdminSite.register`` is given, and
    ``attributes`` is a function of the document class returning the attributes to set.
    """

    name: str
    django: str  # the Django version whose change needs it; "all" for django-mongoengine's own faults
    why: str
    attributes: dict | Callable[[type], dict]
    target: type | None = None


PATCHES = [
    Patch(
        name="field-empty-values",
        django="5.0",
        why=(
            "display_for_field() tests `value in field.empty_values` (it tested `value is None` "
            "before), so every changelist column and read-only field naming a document field "
            "raised AttributeError."
        ),
        target=DjangoField,
        attributes={"empty_values": list(validators.EMPTY_VALUES)},
    ),
    Patch(
        name="meta-is-composite-pk",
        django="5.2",
        why="AdminSite.register() reads `_meta.is_composite_pk` (composite primary keys, new in 5.2).",
        target=DocumentMetaWrapper,
        attributes={"is_composite_pk": False},
    ),
    Patch(
        name="document-options",
        django="all",
        why=(
            "django-mongoengine's `_meta` keys reference fields by the referenced model's name "
            "and capitalises verbose names; the admin reads `DocumentOptions` instead."
        ),
        attributes=lambda document: {"_meta": DocumentOptions(document)},
    ),
]

_MISSING = object()
_applied = {}  # {(patch name, target): (the originals, the patched values)}
_reverted = set()  # the names of the patches undone for the moment (reverted())


def apply():
    for patch in PATCHES:
        if patch.target is not None:
            _apply(patch.name, patch.target, patch.attributes)


def apply_to_document(document):
    for patch in PATCHES:
        if patch.target is None and patch.name not in _reverted:
            _apply(patch.name, document, patch.attributes(document))


def _apply(name, target, values):
    if (name, target) not in _applied:
        _applied[name, target] = ({attribute: target.__dict__.get(attribute, _MISSING) for attribute in values}, values)
        _assign(target, values)


def _assign(target, values):
    for attribute, value in values.items():
        if value is _MISSING:
            delattr(target, attribute)
        else:
            setattr(target, attribute, value)


@contextlib.contextmanager
def reverted(name):
    """Undo the patch called ``name`` for the duration of the block."""
    applied = [(target, *values) for (patch_name, target), values in _applied.items() if patch_name == name]
    _reverted.add(name)
    for target, originals, _ in applied:
        _assign(target, originals)
    try:
        yield
    finally:
        _reverted.discard(name)
        for target, _, values in applied:
            _assign(target, values)
