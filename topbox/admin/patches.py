"""The monkey-patches the admin still needs, each named and dated to the Django change.

Everything else is fixed by subclassing (``topbox.admin``); these change classes that
documents are built from, which no subclass of ours reaches. :func:`apply` runs once, from
``topbox.admin.apps.AdminConfig.ready()``; :func:`reverted` undoes one, for the test that
shows it is needed.
"""

import contextlib
from dataclasses import dataclass

from django.core import validators
from django_mongoengine.fields.djangoflavor import DjangoField


@dataclass(frozen=True)
class Patch:
    name: str
    django: str  # the Django version whose change needs it
    why: str
    target: type
    attributes: dict


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
]

_MISSING = object()
_originals = {}


def apply():
    for patch in PATCHES:
        if patch.name not in _originals:
            _originals[patch.name] = {name: patch.target.__dict__.get(name, _MISSING) for name in patch.attributes}
            for name, value in patch.attributes.items():
                setattr(patch.target, name, value)


@contextlib.contextmanager
def reverted(name):
    """Undo the patch called ``name`` for the duration of the block."""
    patch = next(p for p in PATCHES if p.name == name)
    for attribute, original in _originals[name].items():
        if original is _MISSING:
            delattr(patch.target, attribute)
        else:
            setattr(patch.target, attribute, original)
    try:
        yield
    finally:
        for attribute, value in patch.attributes.items():
            setattr(patch.target, attribute, value)
